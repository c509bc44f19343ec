//! [`ShutdownHandle`]: stops a running [`Runtime`](crate::Runtime) from another thread.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mio::{Registry, Token, Waker};

/// Asks a [`Runtime`](crate::Runtime) to return from [`run`](crate::Runtime::run); cheap to
/// clone and usable from any thread.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    requested: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl ShutdownHandle {
    /// A handle that wakes the poll behind `registry` through `token`.
    pub(crate) fn new(registry: &Registry, token: Token) -> io::Result<ShutdownHandle> {
        Ok(ShutdownHandle {
            requested: Arc::new(AtomicBool::new(false)),
            waker: Arc::new(Waker::new(registry, token)?),
        })
    }

    /// Asks the runtime to stop; it returns from `run` within one turn of its loop.
    pub fn shutdown(&self) {
        self.requested.store(true, Ordering::SeqCst);
        if let Err(error) = self.waker.wake() {
            // The flag is set; the loop will see it at its next wake-up.
            tracing::warn!(%error, "could not wake the event loop");
        }
    }

    /// Whether a shutdown was asked for.
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}
