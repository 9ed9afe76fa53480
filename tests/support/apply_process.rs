//! `ferry apply` as a child process that a test watches while it runs, then kills with SIGKILL
//! (no chance to clean up, as after a power cut) or lets finish.

use std::fs::{self, File};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(20);

/// A running `ferry -C DIR apply --auto-approve`; its stdout and stderr go to files in DIR named
/// after the run, so they can be read while it runs and after it is killed.
pub struct ApplyProcess {
    name: String,
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

/// How a run ended, with everything it printed.
pub struct Ended {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Ended {
    /// Both streams, labelled, for assertion messages.
    pub fn output(&self) -> String {
        format!(
            "--- status {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

impl ApplyProcess {
    /// Starts `ferry -C dir apply --auto-approve`, its output in `dir/name.stdout` and
    /// `dir/name.stderr`.
    pub fn spawn(dir: &Path, name: &str) -> ApplyProcess {
        let stdout = dir.join(format!("{name}.stdout"));
        let stderr = dir.join(format!("{name}.stderr"));
        let child = Command::new(assert_cmd::cargo::cargo_bin("ferry"))
            .arg("-C")
            .arg(dir)
            .args(["apply", "--auto-approve"])
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).unwrap())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        ApplyProcess {
            name: name.to_string(),
            child,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the run printed on stderr so far.
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until `condition` holds, checking every few milliseconds. Panics with the run's
    /// output when the run ends first or `timeout` passes.
    pub fn wait_while_running(
        &mut self,
        what: &str,
        timeout: Duration,
        mut condition: impl FnMut() -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            if condition() {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "{} ended ({status}) before {what}:\n{}",
                    self.name,
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} still running, but not {what} after {}s:\n{}",
                self.name,
                timeout.as_secs(),
                self.output()
            );
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the run's stderr, from byte `from` on, contains `text`; panics like
    /// [`ApplyProcess::wait_while_running`].
    pub fn wait_for_stderr(&mut self, from: usize, text: &str, timeout: Duration) {
        let path = self.stderr.clone();
        self.wait_while_running(&format!("printing {text:?}"), timeout, || {
            fs::read_to_string(&path)
                .unwrap_or_default()
                .get(from..)
                .is_some_and(|said| said.contains(text))
        });
    }

    /// SIGKILL, then reap. Panics if the run had already ended by itself: the kill must land
    /// while it works.
    pub fn kill9(mut self) -> Ended {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "{} ended ({status}) before it could be killed:\n{}",
                self.name,
                self.output()
            );
        }
        // Child::kill sends SIGKILL on Unix.
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "{} was killed by SIGKILL",
            self.name
        );
        self.ended(status)
    }

    /// Waits for the run to end by itself, killing it after `timeout`.
    pub fn wait(mut self, timeout: Duration) -> Ended {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return self.ended(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} did not end within {}s:\n{}",
                    self.name,
                    timeout.as_secs(),
                    self.output()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    fn ended(&self, status: ExitStatus) -> Ended {
        Ended {
            status,
            stdout: fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: self.stderr(),
        }
    }

    fn output(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            fs::read_to_string(&self.stdout).unwrap_or_default(),
            self.stderr()
        )
    }
}

impl Drop for ApplyProcess {
    /// A test that fails half way leaves no apply running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits until `condition` holds, checking every few milliseconds; panics after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "not {what} after {}s",
            timeout.as_secs()
        );
        std::thread::sleep(POLL);
    }
}
