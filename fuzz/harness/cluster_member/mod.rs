//! The `cluster_member` target: a member of a real two-node cluster given fuzzer-chosen
//! steps, and [`MemberWorld`], the fuzzed member and what the harness knows around it.
//!
//! - [`fixture`]: the keys and identities every run uses;
//! - [`formation`](mod@formation): the two-node cluster every run starts from, formed once
//!   and replayed;
//! - [`spec`]: what an input is made of (setup, steps, and the choices inside them);
//! - [`resolve`]: the ids, keys, addresses and signatures those choices name;
//! - [`build`]: the frame bodies, floods and join messages the specs describe;
//! - [`anon`]: anonymous packets and messages to the node, and overhearing the node's;
//! - [`vote`]: proposals, ballots, tallies and decisions, and overhearing the real nodes'
//!   floods;
//! - [`executor`]: running a step and checking everything the node sends and says;
//! - [`checks`]: the checks particular to this target.

mod anon;
mod build;
mod checks;
mod executor;
mod fixture;
mod formation;
mod resolve;
mod spec;
mod vote;

use arbitrary::{Arbitrary, Unstructured};
use peerster_core::{Config, Node, Timestamp};

use checks::{AnonKnowledge, VoteKnowledge};
use formation::{Formation, formation, replay_node};

pub use spec::*;

/// The fuzzed member and what the harness knows around it.
struct MemberWorld {
    now: Timestamp,
    /// The fuzzed node.
    node: Node,
    /// The other real node, rebuilt from the formation when first needed.
    peer: Option<Node>,
    me: usize,
    formation: &'static Formation,
    limit: Option<u16>,
    auto_vote: [peerster_core::AutoVote; 2],
    buckets: Vec<usize>,
    rng: rand_chacha::ChaCha20Rng,
    /// Cluster keys the fuzzed node held, oldest first.
    keys: Vec<peerster_core::crypto::ClusterKey>,
    /// Datagrams the fuzzed node has been given.
    received: u64,
    /// Datagrams from the fuzzed node to the other real node, not delivered yet.
    to_peer: std::collections::VecDeque<Vec<u8>>,
    /// The last datagrams the real nodes sent, newest last.
    recent: std::collections::VecDeque<Vec<u8>>,
    /// What the harness knows of the node's anonymous conversations.
    anon: AnonKnowledge,
    /// What the harness knows of the votes in the node's cluster.
    votes: VoteKnowledge,
}

/// What came of a [`run_cluster_member`]: the fuzzed node's final counters and cluster, and
/// the votes it reported closed.
#[derive(Debug)]
pub struct MemberRun {
    /// The node's counters.
    pub stats: peerster_core::Stats,
    /// Its cluster at the end, if any.
    pub cluster: Option<peerster_core::ClusterInfo>,
    /// The votes it reported closed, in order (the first 64).
    pub closed: Vec<(
        peerster_core::wire::vote::ProposalKind,
        peerster_core::VoteOutcome,
    )>,
}

/// A member of a real two-node cluster (founder or joiner, as the input chooses, voting
/// unattended or when told) given up to 256 steps: cluster frames with built bodies (signed
/// by members or outsiders, under the current, a previous or a random key, from members or
/// strangers), floods cut into fragments (proposals, tallies, and rollouts closing votes among
/// them), ballots (arbitrary packets, or ballots sealed to its epoch key), anonymous relays
/// (arbitrary packets, or payloads and whole messages sealed to its epoch key, to reply keys
/// it handed out or to other keys) and anonymous syncs, arbitrary datagrams, join frames to
/// its node key or epoch key, replays, timers, user commands (votes, expulsions, anonymous
/// messages and replies among them), and exchanges with the other real node. Never a panic;
/// every datagram sent by either real node well-formed, within the datagram limit and, if
/// sealed, exactly one padding bucket long; the node's cluster view consistent
/// ([`check_cluster`]) and its anonymity estimate too ([`check_anonymity`]) after every step;
/// its reports on its anonymous messages consistent ([`AnonKnowledge`]); its open votes and
/// its reports of closed ones consistent ([`VoteKnowledge`]); every datagram given to it
/// counted.
///
/// [`check_cluster`]: super::node_checks::check_cluster
/// [`check_anonymity`]: checks::check_anonymity
pub fn cluster_member(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let Ok(setup) = MemberSetup::arbitrary(&mut input) else {
        return;
    };
    let Ok(steps) = Vec::<MemberStep>::arbitrary(&mut input) else {
        return;
    };
    run_cluster_member(&setup, steps.into_iter().take(256));
}

/// The body of [`cluster_member`], for hand-made steps.
pub fn run_cluster_member(
    setup: &MemberSetup,
    steps: impl IntoIterator<Item = MemberStep>,
) -> MemberRun {
    use peerster_core::AutoVote;
    use rand_core::SeedableRng;

    let limit = [None, Some(2), Some(3), Some(8)][usize::from(setup.limit % 4)];
    let auto_vote = [AutoVote::Yes, AutoVote::Ask, AutoVote::No][usize::from(setup.auto_vote % 3)];
    let me = usize::from(!setup.founder);
    // The founder, alone in its cluster, must vote the joiner in while the cluster forms.
    let mut auto_votes = [AutoVote::Yes; 2];
    if me == 1 || auto_vote != AutoVote::No {
        auto_votes[me] = auto_vote;
    }
    let formation = formation(limit, auto_votes);
    let node = replay_node(me, limit, auto_votes, formation);
    let received = node.stats().datagrams_received;
    let epoch = node.cluster().map(|i| (i.id, i.epoch));
    let mut world = MemberWorld {
        now: formation.now,
        node,
        peer: None,
        me,
        formation,
        limit,
        auto_vote: auto_votes,
        buckets: Config::default().pad_buckets,
        rng: rand_chacha::ChaCha20Rng::from_seed([0x77; 32]),
        keys: Vec::new(),
        received,
        to_peer: std::collections::VecDeque::new(),
        recent: std::collections::VecDeque::new(),
        anon: AnonKnowledge::new(),
        votes: VoteKnowledge::new(epoch),
    };
    world.drain();
    for step in steps {
        world.step(step);
    }
    MemberRun {
        stats: world.node.stats(),
        cluster: world.node.cluster(),
        closed: world.votes.log,
    }
}
