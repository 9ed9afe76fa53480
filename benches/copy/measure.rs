//! What one measured process cost: wall clock, CPU (user + system, every thread of it, the JVM
//! included) and peak RSS. CPU comes from `wait4`'s rusage, which is exactly the process's own.
//! Peak RSS does not: Linux starts a child's `ru_maxrss` at the resident size of the process it
//! was spawned from (the exec records the old memory's high-water mark), so every figure would
//! be at least the benchmark's own size when it spawned it, a few hundred MiB once it holds the
//! source's checksums. The peak is the child's own `VmHWM` instead, read from `/proc` every
//! 10 ms until it exits (only its last 10 ms can escape). Processes that are stopped by the
//! benchmark (MirrorMaker 2) or measured at a step inside a longer run (`ferry apply`'s copy
//! step) are sampled from `/proc` at the moment that counts. Hand-written: no crate exposes
//! per-child rusage for a `std::process::Child`.

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

    /// Waits for the process to exit, following its own peak RSS; fails unless it exited 0.
    pub fn wait(self) -> Result<Usage> {
        let pid = self.pid();
        let mut peak_rss_kib = 0;
        let (status, usage) = loop {
            peak_rss_kib = peak_rss_kib.max(own_peak_kib(pid).unwrap_or(0));
            let mut status = 0;
            // SAFETY: wait4 writes only the status and the rusage it is given.
            let (reaped, usage) = unsafe {
                let mut usage = std::mem::zeroed::<libc::rusage>();
                let reaped = libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage);
                (reaped, usage)
            };
            if reaped < 0 {
                bail!(
                    "waiting for {}: {}",
                    self.what,
                    std::io::Error::last_os_error()
                );
            }
            if reaped == pid {
                break (status, usage);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let seconds = self.started.elapsed().as_secs_f64();
        if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            bail!("{} failed (wait status {status})", self.what);
        }
        let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Ok(Usage {
            seconds,
            cpu_seconds: cpu(usage.ru_utime) + cpu(usage.ru_stime),
            peak_rss_kib,
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
        let peak_rss_kib = own_peak_kib(pid).unwrap_or(0);
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

/// The high-water mark of the process's own resident memory (`VmHWM`), while it runs.
fn own_peak_kib(pid: i32) -> Option<u64> {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
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
