#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! Peerster's protocol: a pure, deterministic, sans-IO state machine.
//!
//! A [`Node`] is one Peerster participant. It does no I/O, reads no clock, spawns no thread and
//! draws randomness only from a CSPRNG seeded by its host, so the same inputs always give the
//! same outputs. A host (the `peerster` runtime over UDP, the `peerster-sim` simulator, or your
//! program) moves datagrams and time in and out of it:
//!
//! ```
//! use std::net::SocketAddr;
//! use peerster_core::{Config, Event, Node, Timestamp, crypto::IdentityKey};
//!
//! let addrs: [SocketAddr; 2] = ["10.0.0.1:7000".parse()?, "10.0.0.2:7000".parse()?];
//! let mut now = Timestamp::ZERO;
//! let mut nodes = [1u8, 2].map(|i| {
//!     let identity = IdentityKey::from_secret_bytes([i; 32]); // the runtime keeps it on disk
//!     let seed = [i; 32]; // the runtime draws it from the OS, the simulator from its seed
//!     Node::new(Config::default(), identity, seed, now).expect("default config is valid")
//! });
//!
//! nodes[0].connect(now, addrs[1]); // a user command
//! let mut verified = 0;
//! for _ in 0..100 {
//!     // Send what the nodes want sent: here, straight into the other node.
//!     let mut idle = true;
//!     for from in 0..2 {
//!         while let Some(t) = nodes[from].poll_transmit() {
//!             idle = false;
//!             let to = addrs.iter().position(|a| *a == t.destination).unwrap();
//!             nodes[to].handle_datagram(now, addrs[from], &t.payload);
//!         }
//!     }
//!     // Show the user what happened.
//!     for node in &mut nodes {
//!         while let Some(event) = node.poll_event() {
//!             if let Event::PeerVerified { peer, .. } = event {
//!                 println!("{} verified {peer}", node.id());
//!                 verified += 1;
//!             }
//!         }
//!     }
//!     if verified == 2 {
//!         break;
//!     }
//!     // Nothing left to send: sleep until the earliest deadline and fire it.
//!     if idle {
//!         if let Some(deadline) = nodes.iter().filter_map(Node::poll_timeout).min() {
//!             now = deadline.max(now);
//!             nodes.iter_mut().for_each(|n| n.handle_timeout(now));
//!         }
//!     }
//! }
//! assert_eq!(verified, 2, "both nodes verified each other");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Sub-protocols
//!
//! | module | what it does |
//! |---|---|
//! | [`wire`] | packet types, their one encoding, padding and sealed cluster frames |
//! | [`crypto`] | identities, sealing to one member (HPKE), the cluster AEAD, key derivation |
//! | `overlay` | authenticated peers, their liveness ([`Peer`]) and signed announcements |
//! | `cluster` | create, join, leave, heartbeats and key rollout ([`ClusterInfo`]) |
//! | `chat` | confidential posts to the cluster, in order, with anti-entropy |
//! | `anon` | anonymous messages: stem and fluff relay, trial decryption, replies, acks ([`AnonymityEstimate`]) |
//! | `call` | anonymous voice calls: offer, answer, hang-up, per-call keys, voice frames ([`CallInfo`]) |
//!
//! Every bound and timer is in [`Config`]; every refused input is counted in [`Stats`].
mod anon;
mod bounded_map;
mod call;
mod chat;
mod cluster;
pub mod config;
pub mod crypto;
pub mod ids;
mod node;
mod outbox;
mod overlay;
mod sample;
pub mod stats;
pub mod time;
mod trickle;
mod vote;
pub mod wire;

pub use anon::{AnonFailure, AnonOptions, AnonSent, AnonymityEstimate};
pub use call::{CallEnd, CallId, CallInfo, CallOptions, CallRole, CallState};
#[cfg(feature = "test-hooks")]
pub use cluster::PrearrangedMember;
pub use cluster::{
    CLUSTER_STATE_VERSION, ClusterInfo, ClusterState, ClusterStateError, MemberInfo,
};
pub use config::{AutoVote, Config, ConfigError, StemRouting};
pub use node::{CommandError, Event, Node, Transmit};
pub use overlay::Peer;
pub use stats::{DropStats, Stats};
pub use time::Timestamp;
pub use vote::{VoteInfo, VoteOutcome, VoteState};
