//! What each fuzz target checks, shared by the `cargo fuzz` targets and by
//! `core/tests/fuzz_regressions.rs`, which replays the inputs in `fuzz/regressions/`.
//!
//! One module per target ([`decode`](mod@decode), [`node_datagram`](mod@node_datagram),
//! [`overlay_packets`](mod@overlay_packets), [`cluster_payloads`](mod@cluster_payloads), [`cluster_state`](mod@cluster_state),
//! [`anon_payloads`](mod@anon_payloads), [`call_payloads`](mod@call_payloads),
//! [`cluster_member`](mod@cluster_member)), and the
//! helpers several of them share: [`node_checks`] (what a node sends and says of its
//! cluster), [`round_trip`] (one encoding per payload, sealed and opened), [`anon_seal`]
//! (anonymous packets sealed by hand) and [`util`].

// Each fuzz target uses one of these checks; the regression test uses both.
#![allow(dead_code)]

mod anon_payloads;
mod anon_seal;
mod call_payloads;
mod cluster_member;
mod cluster_payloads;
mod cluster_state;
mod decode;
mod node_checks;
mod node_datagram;
mod overlay_packets;
mod round_trip;
mod util;

// Each fuzz target uses one of these; the regression test uses most of them.
#[allow(unused_imports)]
pub use anon_payloads::anon_payloads;
#[allow(unused_imports)]
pub use call_payloads::call_payloads;
#[allow(unused_imports)]
pub use cluster_member::{
    Action, AddrChoice, AnonKeyChoice, AnonMessageChoice, AnonMessageSpec, AnonPayloadSpec,
    BallotSpec, BodySpec, ClusterChoice, Command, CountSpec, Cutting, DecisionSpec, EntrySpec,
    EpochChoice, FloodSpec, IdentityChoice, JoinSpec, KeyChoice, LimitChoice, MemberChoice,
    MemberRun, MemberSetup, MemberStep, OutcomeSpec, PacketSpec, PhaseSpec, ProposalKindSpec,
    ProposalSource, ProposalSpec, PublicKeyChoice, RelayEpochChoice, RoundChoice, Signer,
    TagChoice, TallyBallotSpec, TallySpec, ThreadChoice, VoteChoice, cluster_member,
    run_cluster_member,
};
#[allow(unused_imports)]
pub use cluster_payloads::cluster_payloads;
#[allow(unused_imports)]
pub use cluster_state::cluster_state;
#[allow(unused_imports)]
pub use decode::decode;
#[allow(unused_imports)]
pub use node_datagram::{Step, node_datagram};
#[allow(unused_imports)]
pub use overlay_packets::{OverlayStep, overlay_packets};
