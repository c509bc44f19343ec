//! `peerster-sim`: a deterministic discrete-event simulator that drives real
//! [`peerster_core::Node`]s.
//!
//! The simulator owns time, randomness and the network, so a run is a pure function of its
//! seed: the same seed replays the same run, datagram for datagram. This first engine models
//! a lossless network with one fixed latency; loss, jitter, churn, adversaries and metrics
//! plug into the same event loop.

pub mod engine;

pub use engine::{Simulation, TraceEntry};
