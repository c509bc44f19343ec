//! SIGINT and SIGTERM as events on the runtime's poll.

use std::io;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use mio::{Interest, Registry, Token};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::low_level::signal_name;
use signal_hook_mio::v1_0::Signals;

/// The termination signals, registered on a poll; a second one while the runtime is shutting
/// down ends the process at once with exit code 1.
pub(crate) struct TermSignals {
    signals: Signals,
}

impl TermSignals {
    /// Installs handlers for SIGINT and SIGTERM and registers them on `registry` as `token`.
    pub(crate) fn register(registry: &Registry, token: Token) -> io::Result<TermSignals> {
        let received = Arc::new(AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM] {
            // Order matters: the first signal finds `received` false and sets it; a second
            // one finds it true and exits.
            signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(&received))?;
            signal_hook::flag::register(signal, Arc::clone(&received))?;
        }
        let mut signals = Signals::new([SIGINT, SIGTERM])?;
        registry.register(&mut signals, token, Interest::READABLE)?;
        Ok(TermSignals { signals })
    }

    /// The names of the signals received since the last call.
    pub(crate) fn drain(&mut self) -> Vec<&'static str> {
        self.signals
            .pending()
            .map(|signal| signal_name(signal).unwrap_or("signal"))
            .collect()
    }
}
