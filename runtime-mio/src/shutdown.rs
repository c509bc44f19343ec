//! [`ShutdownHandle`]: stops a running [`Runtime`](crate::Runtime) from another thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mio::Waker;

/// Asks a [`Runtime`](crate::Runtime) to return from [`run`](crate::Runtime::run); cheap to
/// clone and usable from any thread.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    requested: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl ShutdownHandle {
    /// A handle that wakes the poll through `waker` (the runtime's one waker, shared).
    pub(crate) fn new(waker: Arc<Waker>) -> ShutdownHandle {
        ShutdownHandle {
            requested: Arc::new(AtomicBool::new(false)),
            waker,
        }
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
