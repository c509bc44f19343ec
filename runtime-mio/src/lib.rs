#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! `peerster-mio`: the Peerster node people run, a thin driver of one
//! [`peerster_core::Node`] over a UDP socket on a [`mio`] event loop.
//!
//! The [`Runtime`] owns the socket, the node and the clock. Each turn of its loop it sends what
//! the node wants sent, reports the node's events, sleeps in `mio`'s poll until the socket is
//! readable or the node's next deadline ([`peerster_core::Node::poll_timeout`]) passes, then
//! feeds the node every datagram waiting on the socket and the passing of time:
//!
//! ```no_run
//! use peerster_core::Config;
//! use peerster_mio::Runtime;
//!
//! let mut runtime = Runtime::bind("127.0.0.1:0".parse()?, Config::default())?;
//! runtime.connect("127.0.0.1:7000".parse()?);
//! let stop = runtime.shutdown_handle(); // `stop.shutdown()` from any thread ends `run`
//! let stats = runtime.run()?;
//! # drop(stop);
//! println!("{stats:?}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Identity on disk, the control interface and the terminal UI come with later runtime issues;
//! for now every run draws a fresh identity from the OS.

mod clock;
mod entropy;
mod error;
mod event_loop;
mod report;
mod shutdown;
mod signals;
mod udp;

pub use clock::Clock;
pub use entropy::{fresh_identity, os_seed};
pub use error::RuntimeError;
pub use event_loop::Runtime;
pub use shutdown::ShutdownHandle;

use std::net::SocketAddr;

use peerster_core::{Config, Stats};

/// The wire version of the core this runtime drives, for `--version` output.
pub const WIRE_VERSION: u8 = peerster_core::wire::WIRE_VERSION;

/// Runs a node on `listen` with a fresh identity, connects it to `peers`, and returns its
/// counters once SIGINT or SIGTERM stops it: what `peerster run` does.
pub fn run_node(listen: SocketAddr, peers: &[SocketAddr]) -> Result<Stats, RuntimeError> {
    let mut runtime = Runtime::bind(listen, Config::default())?;
    runtime.stop_on_signals()?;
    for &peer in peers {
        runtime.connect(peer);
    }
    runtime.run()
}
