#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! `peerster-sim`: a deterministic discrete-event simulator that drives real
//! [`peerster_core::Node`]s.
//!
//! The simulator owns time, randomness and the network, so a run is a pure function of its
//! seed: the same seed replays the same run, datagram for datagram, and
//! [`Simulation::digest`] proves it. A test failing under some seed says which
//! ([`for_each_seed`]).
//!
//! ```
//! use std::time::Duration;
//! use peerster_sim::{LinkModel, Network, SimConfig, Simulation, Topology};
//!
//! let mut setup = SimConfig::new(8, 7);
//! setup.network = Network::new(
//!     LinkModel::ideal(Duration::from_millis(20))
//!         .with_jitter(Duration::from_millis(5))
//!         .with_uniform_loss(0.01),
//! );
//! let mut sim = Simulation::new(setup)?;
//! let topology = Topology::random_connected(8, 3, sim.rng());
//! sim.connect_topology(&topology);
//! sim.schedule_crash(peerster_core::Timestamp::from_secs(10), 3);
//! sim.run_for(Duration::from_secs(20));
//! assert!(!sim.is_up(3));
//! println!("{} events, digest {:016x}", sim.stats().events, sim.digest());
//! # Ok::<(), peerster_core::ConfigError>(())
//! ```
//!
//! | module | what it does |
//! |---|---|
//! | [`engine`] | [`Simulation`]: the event loop, commands, churn, the run digest |
//! | [`network`] | [`Network`], [`LinkModel`], [`Loss`]: latency, jitter and loss per link |
//! | [`topology`] | [`Topology`]: who connects to whom (chains, random connected graphs) |
//! | [`observer`] | [`Observer`]: the hook for workloads, adversaries and metrics; [`Recorder`] |
//! | [`address`] | the synthetic address of each node |
//! | [`digest`] | the running hash of a run |
//! | [`seeds`] | [`for_each_seed`]: tests over many seeds that name the one that fails |
//! | [`spread`] | [`run_spread`]: how fast and at what cost announcements reach every node |
//! | [`cluster`] | [`run_cluster`]: joins, posts and idle cost of one cluster |
//! | [`anon`] | [`run_anon`]: anonymous messages under loss, and how well spies and a tap name senders |
//! | [`vote`] | [`run_vote`]: a member voted in and out, among lying authorities, crashes and loss |
//! | [`scenario`] | [`scenario::run_scenario`]: a TOML scenario of many clusters, churn, workload and adversaries, reported as JSON and plots |
//! | [`call`] | [`run_call`]: one anonymous call with real Opus and jitter buffer: what the callee heard, latency, loss, cost |

pub mod address;
pub mod anon;
pub mod call;
pub mod cluster;
pub mod digest;
pub mod engine;
pub mod network;
pub mod observer;
pub mod plot;
mod queue;
mod random;
pub mod scenario;
pub mod seeds;
pub mod signature_memo;
pub mod spread;
pub mod topology;
pub mod vote;

pub use address::{NodeIndex, address_of};
pub use anon::{AnonReport, AnonScenario, run_anon};
pub use call::{CallReport, CallScenario, codec_only, run_call};
pub use cluster::{ClusterReport, ClusterScenario, run_cluster};
pub use engine::{SimConfig, SimStats, Simulation};
pub use network::{GilbertElliott, LinkModel, Loss, Network};
pub use observer::{Observer, Recorder, TraceEntry, Verdict};
pub use seeds::for_each_seed;
pub use spread::{SpreadReport, SpreadScenario, run_spread};
pub use topology::Topology;
pub use vote::{VoteReport, VoteRun, VoteScenario, run_vote};
