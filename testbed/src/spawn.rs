//! Spawning broker processes so that they never outlive the process that started them.
//!
//! Each broker is started with `PR_SET_PDEATHSIG = SIGTERM`, so the kernel stops it when its
//! parent goes away, even when the parent is killed with SIGKILL and no `Drop` runs (a test binary
//! killed by a timeout, `ferry-testbed` killed hard). The kernel ties that signal to the *thread*
//! that forked the child, not to the process; test harnesses run tests in short-lived threads and
//! a broker may be shared across them, so every spawn goes through one spawner thread that lives
//! as long as the process.
//!
//! Brokers also get their own process group: a Ctrl-C in the terminal reaches `ferry-testbed`
//! and the command it runs, and `ferry-testbed` then stops the brokers in order.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::sync::mpsc::{Sender, channel};
use std::thread;

struct Request {
    command: Command,
    reply: Sender<io::Result<Child>>,
}

fn spawner() -> &'static Sender<Request> {
    static SPAWNER: OnceLock<Sender<Request>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (sender, receiver) = channel::<Request>();
        thread::Builder::new()
            .name("ferry-testbed-spawner".into())
            .spawn(move || {
                for mut request in receiver {
                    let _ = request.reply.send(request.command.spawn());
                }
            })
            .expect("start the ferry-testbed spawner thread");
        sender
    })
}

/// Spawns `command` in its own process group, with SIGTERM as its parent-death signal.
pub fn spawn_tied_to_process(mut command: Command) -> io::Result<Child> {
    let parent = std::process::id() as libc::pid_t;
    command.process_group(0);
    // SAFETY: the closure runs between fork and exec and calls only async-signal-safe
    // functions (prctl, getppid); it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl: then nobody would signal us.
            if libc::getppid() != parent {
                return Err(io::Error::other("parent exited before the broker started"));
            }
            Ok(())
        });
    }
    let (reply, response) = channel();
    spawner()
        .send(Request { command, reply })
        .map_err(|_| io::Error::other("ferry-testbed spawner thread is gone"))?;
    response
        .recv()
        .map_err(|_| io::Error::other("ferry-testbed spawner thread is gone"))?
}
