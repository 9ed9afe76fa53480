//! Shared by the bad-input tests (tests/bad_*.rs): the built ferry run on a configuration whose
//! clusters are never reached (every case fails before ferry would connect), and a record of the
//! directory to show that a refused command left it as it was.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// Ports nothing listens on: a case that wrongly got as far as connecting fails, it does not hang.
pub const MAIN_HCL: &str = r#"migration "bad-input" {
  scheme = "dual_consume"
}

cluster "source" {
  bootstrap_servers = ["127.0.0.1:1"]
}

cluster "target" {
  bootstrap_servers = ["127.0.0.1:2"]
}

hook "switch_producers" {
  command = ["true"]
}
"#;

/// What a refused command did.
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Outcome {
    /// The exit code, the message and how long it took, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "exit {:?} after {:?}\nstdout: {}\nstderr: {}",
            self.code, self.took, self.stdout, self.stderr
        )
    }
}

/// A directory holding `MAIN_HCL` as main.hcl.
pub fn config_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.hcl"), MAIN_HCL).unwrap();
    dir
}

/// Runs `ferry -C dir ARGS` in `dir` (so that relative paths are the user's), with a 30 s
/// limit, stdin closed, no colours and no inherited FERRY_* settings.
pub fn ferry(dir: &Path, args: &[&str]) -> Outcome {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.current_dir(dir)
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .timeout(Duration::from_secs(30));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("FERRY_") {
            cmd.env_remove(k);
        }
    }
    let started = Instant::now();
    let out = cmd.output().unwrap();
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// Every entry of `dir` (not following symlinks): name -> (type, size, modification time).
pub fn listing(dir: &Path) -> BTreeMap<String, (String, u64, Option<SystemTime>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                (
                    format!("{:?}", meta.file_type()),
                    meta.len(),
                    meta.modified().ok(),
                ),
            )
        })
        .collect()
}

/// Makes a FIFO at `path`.
pub fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}
