//! [`RuntimeError`]: why the runtime could not start or had to stop.

use std::io;
use std::net::SocketAddr;

use peerster_core::ConfigError;
use thiserror::Error;

/// Why the runtime could not start, or stopped before it was asked to.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The UDP socket could not be bound to the address to listen on.
    #[error("cannot listen on UDP {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// The OS's event queue (epoll, kqueue) failed to start, register or wait.
    #[error("event loop failed: {0}")]
    EventLoop(io::Error),
    /// SIGINT and SIGTERM handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(io::Error),
    /// The OS's random number generator failed.
    #[error("OS random number generator failed: {0}")]
    Entropy(getrandom::Error),
    /// The node refused its configuration.
    #[error("invalid node configuration: {0}")]
    Config(#[from] ConfigError),
}
