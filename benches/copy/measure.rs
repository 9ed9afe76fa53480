//! What one measured process cost: wall clock, CPU (user + system, every thread of it, the JVM
//! included) and peak RSS. Processes that exit are reaped with `wait4`, whose rusage is exactly
//! theirs; processes that are stopped by the benchmark (MirrorMaker 2) or measured at a step
//! inside a longer run (`ferry apply`'s copy step) are sampled from `/proc` at the moment that
//! counts. Hand-written: no crate exposes per-child rusage for a `std::process::Child`.

use std::fs;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The cost of one measured run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub seconds: f64,
    pub cpu_seconds: f64,
    pub peak_rss_kib: u64,
}

impl Usage {
    /// Two processes that ran side by side: the longer wall clock, CPU summed, the larger peak.
    pub fn alongside(self, other: Usage) -> Usage {
        Usage {
            seconds: self.seconds.max(other.seconds),
            cpu_seconds: self.cpu_seconds + other.cpu_seconds,
            peak_rss_kib: self.peak_rss_kib.max(other.peak_rss_kib),
        }
    }
}

/// A child process being measured.
pub struct Measured {
    pub child: Child,
    pub started: Instant,
    what: String,
}

impl Measured {
    pub fn spawn(mut command: Command, what: &str) -> Result<Measured> {
        let started = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {what}"))?;
        Ok(Measured {
            child,
            started,
            what: what.to_owned(),
        })
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits for the process to exit; fails unless it exited 0.
    pub fn wait(self) -> Result<Usage> {
        let mut status = 0;
        // SAFETY: wait4 writes only the status and the rusage it is given.
        let usage = unsafe {
            let mut usage = std::mem::zeroed::<libc::rusage>();
            if libc::wait4(self.pid(), &mut status, 0, &mut usage) < 0 {
                bail!(
                    "waiting for {}: {}",
                    self.what,
                    std::io::Error::last_os_error()
                );
            }
            usage
        };
        let seconds = self.started.elapsed().as_secs_f64();
        if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            bail!("{} failed (wait status {status})", self.what);
        }
        let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Ok(Usage {
            seconds,
            cpu_seconds: cpu(usage.ru_utime) + cpu(usage.ru_stime),
            peak_rss_kib: usage.ru_maxrss as u64,
        })
    }

    /// The process's CPU so far and its peak RSS so far, read from `/proc`.
    pub fn sample(&self) -> Result<Usage> {
        let pid = self.pid();
        let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("{} is gone", self.what))?;
        // Fields after the command name (which may hold spaces) start at state: utime is the
        // 14th field of the line, stime the 15th.
        let after = &stat[stat.rfind(')').context("bad /proc stat")? + 2..];
        let fields: Vec<&str> = after.split(' ').collect();
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        let utime: f64 = fields[11].parse()?;
        let stime: f64 = fields[12].parse()?;
        let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
        let peak_rss_kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        Ok(Usage {
            seconds: self.started.elapsed().as_secs_f64(),
            cpu_seconds: (utime + stime) / ticks,
            peak_rss_kib,
        })
    }

    /// Stops a process the benchmark ends itself (SIGTERM, then SIGKILL after 20 s) and reaps it.
    pub fn stop(mut self) {
        // SAFETY: kill sends a signal to our own child.
        unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `done` every 50 ms until it holds or `limit` passes.
pub fn wait_until(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> Result<bool>,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        if done()? {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{what}: not reached within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
