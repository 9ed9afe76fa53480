//! Running a client-switch hook: a program with arguments (no shell) in the config directory, the
//! parent's environment plus the hook's `env` and `FERRY_*` variables, a timeout that stops the
//! hook's whole process group, its output streamed to the reporter and kept in a log file.
//!
//! Hook `env` values may be secrets: they are never written to the log or the reporter, and where the
//! hook prints one (at least [`MIN_MASKED_LEN`] characters long) it is replaced by
//! [`MASK`](crate::masking::MASK), as a sensitive variable's value is everywhere.

use std::borrow::Cow;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use super::hook_error::HookError;
use super::reporter::{Reporter, Stream};
use crate::config::{Hook, Scheme};
use crate::masking::Masker;

/// How long a timed-out hook's process group gets between SIGTERM and SIGKILL.
pub const HOOK_KILL_GRACE: Duration = Duration::from_secs(5);

/// Hook env values shorter than this are not masked in the hook's output: masking "1" or "eu"
/// everywhere would garble it, and a secret that short protects nothing.
pub const MIN_MASKED_LEN: usize = 4;

/// After the hook exits, how long ferry keeps reading output from processes it left running that
/// still hold its stdout or stderr.
const OUTPUT_GRACE: Duration = Duration::from_secs(2);
/// How long ferry waits for the hook to disappear after SIGKILL before it gives up waiting.
const AFTER_KILL: Duration = Duration::from_secs(5);
/// How often the timeout path checks whether the process group is gone.
const GROUP_POLL: Duration = Duration::from_millis(50);
/// Longer lines are cut into pieces of this many bytes.
const MAX_LINE: u64 = 64 * 1024;

/// What a hook is told about the migration, through `FERRY_*` variables.
#[derive(Debug, Clone)]
pub struct HookContext {
    pub migration: String,
    pub scheme: Scheme,
    /// 1-based number of the step that runs the hook, as the plan prints it (`FERRY_STEP`).
    pub step_index: usize,
    pub step_count: usize,
    /// The directory holding the HCL files: the hook's working directory, and what a relative
    /// program path (`./deploy/switch.sh`) is resolved against.
    pub config_dir: PathBuf,
    pub state_path: PathBuf,
    /// Bootstrap servers as a client takes them: `host:port,host:port`.
    pub source_bootstrap: String,
    pub target_bootstrap: String,
}

/// A hook that exited with code 0.
#[derive(Debug, Clone, PartialEq)]
pub struct HookRun {
    pub exit_code: i32,
    pub log_file: PathBuf,
    pub seconds: f64,
}

/// Runs `hook` to completion and returns once it exited (and its output was read) or was stopped.
///
/// The log goes to `log_dir/<step>-<hook>-<UTC timestamp>.log` (the directory is created). Reports
/// one line when the hook starts (command and log file), each output line as it arrives, and what
/// ferry does when the timeout passes. Processes the hook leaves running after a successful exit are
/// left alone (a hook may start a service); only a timed-out hook's process group is killed.
pub fn run_hook(
    hook: &Hook,
    ctx: &HookContext,
    log_dir: &Path,
    reporter: &dyn Reporter,
) -> Result<HookRun, HookError> {
    let masker = hook_masker(
        hook.env.values().map(String::as_str),
        hook.secrets.iter().map(|s| s.expose()),
    );
    let config_dir =
        std::path::absolute(&ctx.config_dir).unwrap_or_else(|_| ctx.config_dir.clone());
    // Masked argument by argument, before quoting: the quoting of a secret holding a quote
    // (`'` becomes `'\''`) would hide it from the masker.
    let masked: Vec<String> = hook
        .command
        .iter()
        .map(|part| masker.mask(part).into_owned())
        .collect();
    let shown_command = display_command(&masked);
    let mut log = HookLog::create(log_dir, hook, ctx, &shown_command, &config_dir)?;
    reporter.line(&format!(
        "running hook \"{}\": {shown_command} (log: {})",
        hook.name,
        log.path.display()
    ));

    let Some((program, args)) = hook.command.split_first() else {
        return Err(spawn_error(
            hook,
            "",
            "the command is empty".into(),
            &mut log,
            reporter,
        ));
    };
    let resolved = resolve_program(program, &config_dir);
    let mut command = Command::new(&resolved);
    command
        .args(args)
        .current_dir(&config_dir)
        .envs(&hook.env)
        .envs(ferry_env(hook, ctx, &config_dir))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);

    let started = Instant::now();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            // The program's name and the detail (which names its path) may hold a secret: a
            // `command` written as one string is one program name, arguments included.
            let detail = spawn_detail(&e, program, &resolved, &config_dir);
            let detail = masker.mask(&detail).into_owned();
            return Err(spawn_error(
                hook,
                &masker.mask(program),
                detail,
                &mut log,
                reporter,
            ));
        }
    };
    // From here on, leaving early (an error or a panic) kills the hook's process group.
    let mut group = ProcessGroup::new(&child);
    let lost = |log: &mut HookLog, detail: String| {
        log.note(
            &format!("ferry lost control of the hook: {detail}"),
            reporter,
        );
        HookError::Io {
            hook: hook.name.clone(),
            detail,
            log_file: log.path.clone(),
        }
    };

    let (tx, rx) = mpsc::channel();
    let pipes = (child.stdout.take(), child.stderr.take());
    let (Some(stdout), Some(stderr)) = pipes else {
        return Err(lost(&mut log, "its output pipes are missing".into()));
    };
    for spawned in [
        spawn_reader(Stream::Stdout, stdout, tx.clone()),
        spawn_reader(Stream::Stderr, stderr, tx.clone()),
        spawn_waiter(child, tx),
    ] {
        spawned.map_err(|e| lost(&mut log, format!("cannot start a thread: {e}")))?;
    }

    let deadline = started.checked_add(hook.timeout);
    let mut status: Option<ExitStatus> = None;
    let mut exited_at: Option<Instant> = None;
    let mut open_streams = 2;
    let mut phase = Phase::Running;
    loop {
        let now = Instant::now();
        let done = status.is_some() && open_streams == 0;
        match phase {
            Phase::Running if done => break,
            // After SIGTERM, give the rest of the group its grace period too.
            Phase::Terminating { .. } if done && !group.alive() => break,
            // After SIGKILL only unreaped zombies can remain in the group.
            Phase::Killed { .. } if done => break,
            _ => {}
        }
        let until = match phase {
            Phase::Running => match exited_at {
                Some(at) => Some(at + OUTPUT_GRACE),
                None => deadline,
            },
            Phase::Terminating { until } | Phase::Killed { until } => {
                Some(until.min(now + GROUP_POLL))
            }
        };
        let event = match until {
            Some(until) => rx.recv_timeout(until.saturating_duration_since(now)),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match event {
            Ok(Event::Line(stream, text)) => {
                let text = masker.mask(&text);
                log.output(stream, &text, reporter);
                reporter.hook_output(&hook.name, stream, &text);
            }
            Ok(Event::Eof) => open_streams -= 1,
            Ok(Event::Exited(Ok(s))) => {
                status = Some(s);
                exited_at = Some(Instant::now());
            }
            Ok(Event::Exited(Err(e))) => {
                return Err(lost(&mut log, format!("cannot wait for it: {e}")));
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => match phase {
                Phase::Running if status.is_some() => {
                    let text = "the hook exited, but processes it started still hold its output \
                                open; ferry stops reading it (redirect the output of background \
                                processes a hook starts)";
                    log.note(text, reporter);
                    reporter.line(&format!("hook \"{}\": {text}", hook.name));
                    break;
                }
                Phase::Running => {
                    let text = format!(
                        "timeout of {} reached: sending SIGTERM to the hook's process group, \
                         SIGKILL in {}s",
                        humantime::format_duration(hook.timeout),
                        HOOK_KILL_GRACE.as_secs()
                    );
                    log.note(&text, reporter);
                    reporter.line(&format!("hook \"{}\": {text}", hook.name));
                    group.signal(libc::SIGTERM);
                    phase = Phase::Terminating {
                        until: Instant::now() + HOOK_KILL_GRACE,
                    };
                }
                Phase::Terminating { until } if Instant::now() >= until => {
                    let text = "still running: sending SIGKILL to the hook's process group";
                    log.note(text, reporter);
                    reporter.line(&format!("hook \"{}\": {text}", hook.name));
                    group.signal(libc::SIGKILL);
                    phase = Phase::Killed {
                        until: Instant::now() + AFTER_KILL,
                    };
                }
                Phase::Killed { until } if Instant::now() >= until => {
                    log.note(
                        "processes of the hook are still there after SIGKILL; ferry stops waiting",
                        reporter,
                    );
                    break;
                }
                Phase::Terminating { .. } | Phase::Killed { .. } => {}
            },
        }
    }
    let seconds = started.elapsed().as_secs_f64();

    if phase != Phase::Running {
        group.disarm();
        log.footer(
            &format!(
                "timed out after {seconds:.3}s (timeout {})",
                humantime::format_duration(hook.timeout)
            ),
            reporter,
        );
        return Err(HookError::TimedOut {
            hook: hook.name.clone(),
            timeout: hook.timeout,
            location: hook.location.clone(),
            log_file: log.path,
        });
    }
    let Some(status) = status else {
        return Err(lost(&mut log, "it vanished without an exit status".into()));
    };
    // It exited on its own: whatever it left running (a service it started) is its business.
    group.disarm();
    let (exit_code, signal) = match (status.code(), status.signal()) {
        (Some(code), _) => (code, None),
        (None, Some(signal)) => (128 + signal, Some(signal_name(signal))),
        (None, None) => (-1, None),
    };
    let outcome = match &signal {
        Some(signal) => format!("killed by signal {signal} after {seconds:.3}s"),
        None => format!("exit code {exit_code} after {seconds:.3}s"),
    };
    log.footer(&outcome, reporter);
    if exit_code != 0 || signal.is_some() {
        return Err(HookError::Failed {
            hook: hook.name.clone(),
            exit_code,
            signal,
            log_file: log.path,
        });
    }
    Ok(HookRun {
        exit_code,
        log_file: log.path,
        seconds,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// SIGTERM sent; SIGKILL at `until` unless the group is gone by then.
    Terminating {
        until: Instant,
    },
    /// SIGKILL sent; stop waiting at `until`.
    Killed {
        until: Instant,
    },
}

enum Event {
    Line(Stream, String),
    Eof,
    Exited(io::Result<ExitStatus>),
}

fn spawn_reader(
    stream: Stream,
    pipe: impl Read + Send + 'static,
    tx: Sender<Event>,
) -> io::Result<()> {
    thread::Builder::new()
        .name(format!("hook-{stream}"))
        .spawn(move || read_lines(stream, pipe, tx))
        .map(drop)
}

/// Sends every line of `pipe` (without its line ending, invalid UTF-8 replaced) until end of file.
/// Once nobody listens any more it keeps draining, so that a process the hook left running does not
/// die of a broken pipe while ferry runs.
fn read_lines(stream: Stream, pipe: impl Read, tx: Sender<Event>) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    let mut listening = true;
    loop {
        buf.clear();
        match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) if listening => {
                if buf.ends_with(b"\n") {
                    buf.pop();
                    if buf.ends_with(b"\r") {
                        buf.pop();
                    }
                }
                let text = String::from_utf8_lossy(&buf).into_owned();
                listening = tx.send(Event::Line(stream, text)).is_ok();
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = tx.send(Event::Eof);
}

fn spawn_waiter(mut child: Child, tx: Sender<Event>) -> io::Result<()> {
    thread::Builder::new()
        .name("hook-wait".into())
        .spawn(move || {
            let _ = tx.send(Event::Exited(child.wait()));
        })
        .map(drop)
}

/// The hook's process group (its id is the hook's pid). Killed with SIGKILL when dropped while
/// armed, so that no early return or panic leaves a hook running unsupervised.
struct ProcessGroup {
    pgid: libc::pid_t,
    armed: bool,
}

impl ProcessGroup {
    fn new(child: &Child) -> Self {
        ProcessGroup {
            pgid: libc::pid_t::try_from(child.id()).unwrap_or(0),
            armed: true,
        }
    }

    fn signal(&self, signal: libc::c_int) {
        if self.pgid > 0 {
            // SAFETY: killpg has no memory-safety preconditions; ESRCH (group gone) is fine.
            unsafe {
                libc::killpg(self.pgid, signal);
            }
        }
    }

    /// Whether any process (a zombie included) is still in the group.
    fn alive(&self) -> bool {
        // SAFETY: as above; signal 0 only checks for existence.
        self.pgid > 0 && unsafe { libc::killpg(self.pgid, 0) } == 0
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if self.armed {
            self.signal(libc::SIGKILL);
        }
    }
}

/// The log file of one hook run; written line by line, unbuffered, so that it is complete up to
/// the moment ferry stops, however it stops. A write error is reported once and the hook goes on.
struct HookLog {
    path: PathBuf,
    file: Option<File>,
}

impl HookLog {
    fn create(
        log_dir: &Path,
        hook: &Hook,
        ctx: &HookContext,
        shown_command: &str,
        config_dir: &Path,
    ) -> Result<Self, HookError> {
        let now = SystemTime::now();
        let stamp: String = humantime::format_rfc3339_seconds(now)
            .to_string()
            .chars()
            .filter(|c| !matches!(c, '-' | ':'))
            .collect();
        let width = ctx.step_count.to_string().len().max(2);
        let base = format!(
            "{:0width$}-{}-{stamp}",
            ctx.step_index,
            file_name_safe(&hook.name)
        );
        let log_error = |path: PathBuf, source| HookError::Log {
            hook: hook.name.clone(),
            path,
            source,
        };
        fs::create_dir_all(log_dir).map_err(|e| log_error(log_dir.to_path_buf(), e))?;
        let mut attempt = 1;
        let (path, file) = loop {
            let name = match attempt {
                1 => format!("{base}.log"),
                n => format!("{base}-{n}.log"),
            };
            let path = log_dir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => {
                    attempt += 1;
                }
                Err(e) => return Err(log_error(path, e)),
            }
        };
        let env_names = if hook.env.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = hook.env.keys().map(String::as_str).collect();
            format!(" and {} (values not logged)", names.join(", "))
        };
        let header = format!(
            "# ferry hook \"{name}\": step {step} of {count} of migration \"{migration}\" (scheme {scheme})\n\
             # command: {shown_command}\n\
             # working directory: {dir}\n\
             # environment: inherited, FERRY_*{env_names}\n\
             # timeout: {timeout}\n\
             # started: {started}\n",
            name = hook.name,
            step = ctx.step_index,
            count = ctx.step_count,
            migration = ctx.migration,
            scheme = ctx.scheme,
            dir = config_dir.display(),
            timeout = humantime::format_duration(hook.timeout),
            started = humantime::format_rfc3339_seconds(now),
        );
        let mut file = file;
        file.write_all(header.as_bytes())
            .map_err(|e| log_error(path.clone(), e))?;
        Ok(HookLog {
            path,
            file: Some(file),
        })
    }

    fn output(&mut self, stream: Stream, text: &str, reporter: &dyn Reporter) {
        self.write(&format!("[{stream}] {text}\n"), reporter);
    }

    /// A line of ferry's own about the run.
    fn note(&mut self, text: &str, reporter: &dyn Reporter) {
        self.write(&format!("# {text}\n"), reporter);
    }

    fn footer(&mut self, outcome: &str, reporter: &dyn Reporter) {
        let finished = humantime::format_rfc3339_seconds(SystemTime::now());
        self.write(&format!("# finished: {finished}, {outcome}\n"), reporter);
    }

    fn write(&mut self, text: &str, reporter: &dyn Reporter) {
        let Some(file) = &mut self.file else { return };
        if let Err(e) = file.write_all(text.as_bytes()) {
            reporter.line(&format!(
                "warning: cannot write the hook log {}: {e}; the rest of the hook's output is only \
                 shown here",
                self.path.display()
            ));
            self.file = None;
        }
    }
}

fn spawn_error(
    hook: &Hook,
    program: &str,
    detail: String,
    log: &mut HookLog,
    reporter: &dyn Reporter,
) -> HookError {
    log.footer(&format!("could not start: {detail}"), reporter);
    HookError::Spawn {
        hook: hook.name.clone(),
        program: program.to_string(),
        detail,
        location: Box::new(hook.location.clone()),
        log_file: log.path.clone(),
    }
}

/// A program path with a slash is relative to the config directory; a bare name is looked up on
/// PATH.
fn resolve_program(program: &str, config_dir: &Path) -> PathBuf {
    let path = Path::new(program);
    if path.is_relative() && program.contains('/') {
        config_dir.join(path)
    } else {
        path.to_path_buf()
    }
}

/// Why the program did not start, with what to check.
fn spawn_detail(e: &io::Error, program: &str, resolved: &Path, config_dir: &Path) -> String {
    if !config_dir.is_dir() {
        return format!(
            "its working directory, the config directory {}, does not exist",
            config_dir.display()
        );
    }
    let with_path = program.contains('/');
    let shown = resolved.display();
    match e.kind() {
        io::ErrorKind::NotFound if with_path && resolved.exists() => {
            format!("{shown} exists, but the interpreter on its #! line was not found")
        }
        io::ErrorKind::NotFound if with_path => format!(
            "there is no file {shown} (a relative path in `command` is resolved against the config \
             directory)"
        ),
        io::ErrorKind::NotFound if config_dir.join(program).is_file() => format!(
            "there is no program \"{program}\" on PATH; the config directory has a file of that \
             name: write \"./{program}\" to run it"
        ),
        io::ErrorKind::NotFound => format!(
            "there is no program \"{program}\" on PATH (a path with a slash, like \
             \"./deploy/switch.sh\", is resolved against the config directory)"
        ),
        io::ErrorKind::PermissionDenied if with_path && resolved.is_dir() => {
            format!("{shown} is a directory")
        }
        io::ErrorKind::PermissionDenied if with_path => {
            format!("{shown} is not executable (chmod +x {shown})")
        }
        io::ErrorKind::PermissionDenied => {
            format!("permission denied running \"{program}\" from PATH: is it executable?")
        }
        _ if e.raw_os_error() == Some(libc::ENOEXEC) => {
            format!("{shown} is neither a program nor a script starting with a #! line")
        }
        _ => format!("{e} (is {shown} an executable program?)"),
    }
}

fn ferry_env(hook: &Hook, ctx: &HookContext, config_dir: &Path) -> Vec<(&'static str, String)> {
    let state_path =
        std::path::absolute(&ctx.state_path).unwrap_or_else(|_| ctx.state_path.clone());
    vec![
        ("FERRY_MIGRATION", ctx.migration.clone()),
        ("FERRY_SCHEME", ctx.scheme.as_str().to_string()),
        ("FERRY_HOOK", hook.name.clone()),
        ("FERRY_STEP", ctx.step_index.to_string()),
        ("FERRY_STEP_COUNT", ctx.step_count.to_string()),
        ("FERRY_CONFIG_DIR", config_dir.display().to_string()),
        ("FERRY_STATE_PATH", state_path.display().to_string()),
        ("FERRY_SOURCE_BOOTSTRAP", ctx.source_bootstrap.clone()),
        ("FERRY_TARGET_BOOTSTRAP", ctx.target_bootstrap.clone()),
    ]
}

/// Hides the hook's `env` values (those long enough to be secrets) and the sensitive variables'
/// values, whatever their length.
fn hook_masker<'a>(
    env_values: impl Iterator<Item = &'a str>,
    secrets: impl Iterator<Item = &'a str>,
) -> Masker {
    Masker::new(
        env_values
            .filter(|v| v.chars().count() >= MIN_MASKED_LEN)
            .chain(secrets),
    )
}

/// The command as a shell would take it, for the log and the user (never run through a shell).
fn display_command(command: &[String]) -> String {
    let quoted: Vec<Cow<str>> = command
        .iter()
        .map(|arg| {
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                Cow::Borrowed(arg.as_str())
            } else {
                Cow::Owned(format!("'{}'", arg.replace('\'', r"'\''")))
            }
        })
        .collect();
    quoted.join(" ")
}

fn file_name_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        other => return format!("{other}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_long_env_values_and_every_sensitive_value() {
        let env = ["hunter2hunter2", "hunter2", "eu"];
        let m = hook_masker(env.into_iter(), ["42"].into_iter());
        assert_eq!(
            m.mask("x hunter2hunter2 y hunter2 eu 42"),
            "x (sensitive value) y (sensitive value) eu (sensitive value)"
        );
        assert!(matches!(m.mask("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn quotes_only_what_needs_it() {
        let cmd = ["./switch.sh", "consumers", "a b", "it's", ""].map(String::from);
        assert_eq!(
            display_command(&cmd),
            r#"./switch.sh consumers 'a b' 'it'\''s' ''"#
        );
    }

    #[test]
    fn relative_paths_resolve_against_the_config_dir() {
        let dir = Path::new("/cfg");
        assert_eq!(resolve_program("./d/s.sh", dir), Path::new("/cfg/./d/s.sh"));
        assert_eq!(resolve_program("d/s.sh", dir), Path::new("/cfg/d/s.sh"));
        assert_eq!(resolve_program("/bin/true", dir), Path::new("/bin/true"));
        assert_eq!(resolve_program("kubectl", dir), Path::new("kubectl"));
    }

    #[test]
    fn names_signals_and_file_names() {
        assert_eq!(signal_name(libc::SIGKILL), "SIGKILL");
        assert_eq!(signal_name(64), "64");
        assert_eq!(file_name_safe("switch consumers/a"), "switch_consumers_a");
    }
}
