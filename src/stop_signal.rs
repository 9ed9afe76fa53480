//! SIGINT and SIGTERM as a stop flag, for commands that run until they are told to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::signal::unix::{SignalKind, signal};

use crate::error::Error;

/// A flag set by the first SIGINT or SIGTERM, so the command can stop cleanly (flush, leave its
/// group). A second signal exits at once with code 130: `ferry replicate` loses nothing by that
/// either, it only skips the flush and the group's quick hand-over.
///
/// The handlers are installed before this returns, so a signal sent right after cannot kill the
/// process the default way.
pub fn install(what: &'static str) -> Result<Arc<AtomicBool>, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| Error::Usage(format!("cannot watch for SIGINT/SIGTERM: {e}")))?;
    let (mut interrupt, mut terminate) = {
        let _entered = runtime.enter();
        let install = |kind| {
            signal(kind).map_err(|e| Error::Usage(format!("cannot watch for SIGINT/SIGTERM: {e}")))
        };
        (
            install(SignalKind::interrupt())?,
            install(SignalKind::terminate())?,
        )
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            loop {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
                if flag.swap(true, Ordering::Relaxed) {
                    eprintln!("{what}: second signal, stopping at once");
                    std::process::exit(130);
                }
                eprintln!(
                    "{what}: stopping: delivering what is in flight, then leaving the group \
                     (signal again to stop at once)"
                );
            }
        })
    });
    Ok(stop)
}
