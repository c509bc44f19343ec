//! The checks particular to `cluster_member`: the node's anonymity estimate
//! ([`check_anonymity`]), its reports on its anonymous messages ([`AnonKnowledge`]), and its
//! votes and reports on them ([`VoteKnowledge`]).

use std::time::Duration;

use peerster_core::{Node, Timestamp};

/// A message of the fuzzed node that the harness opened: sealed to a fixture key.
#[derive(Clone, Copy, Debug)]
pub(super) struct Heard {
    /// Its id.
    pub(super) message: peerster_core::wire::fragment::MessageId,
    /// The reply key it carries: the node opens what is sealed to it.
    pub(super) reply_key: peerster_core::crypto::EpochPublic,
}

/// What the harness knows of the fuzzed node's anonymous conversations, and what it checks of
/// them: the node reports the delivery or the failure of its own messages only, in their
/// threads, each at most once, and no failure of a delivered message (a delivery after a
/// failure is a late acknowledgement, which is reported).
pub(super) struct AnonKnowledge {
    /// Threads the node knows (it opened them or was written to in them), newest last.
    pub(super) threads: std::collections::VecDeque<peerster_core::wire::anon::ThreadId>,
    /// Every message the node sent, and its thread.
    pub(super) sent: Vec<(
        peerster_core::wire::fragment::MessageId,
        peerster_core::wire::anon::ThreadId,
    )>,
    /// Messages reported delivered.
    pub(super) delivered: std::collections::BTreeSet<peerster_core::wire::fragment::MessageId>,
    /// Messages reported given up.
    pub(super) failed: std::collections::BTreeSet<peerster_core::wire::fragment::MessageId>,
    /// The node's messages the harness opened, newest last.
    pub(super) heard: std::collections::VecDeque<Heard>,
    /// Fragments of the node's messages sealed to fixture keys.
    pub(super) overheard: peerster_core::wire::fragment::Reassembler,
    /// The last packets sent to or by the node, with the epoch of their relay, newest last.
    pub(super) packets: std::collections::VecDeque<(
        peerster_core::ids::Epoch,
        peerster_core::wire::anon::AnonPacket,
    )>,
    /// Digests of the packets sent to or by the node: each is opened once, and the harness
    /// never takes a packet it made for one of the node's.
    pub(super) seen: std::collections::BTreeSet<peerster_core::wire::anon::PacketDigest>,
    /// Fixture secrets the harness handed out as reply keys (bit i: secret i).
    pub(super) reply_keys: u8,
}

impl AnonKnowledge {
    /// Knowledge of a node that has sent and heard nothing yet.
    pub(super) fn new() -> Self {
        use peerster_core::wire::anon::MAX_ANON_MESSAGE_BYTES;
        use peerster_core::wire::fragment::{Reassembler, ReassemblyLimits};
        AnonKnowledge {
            threads: std::collections::VecDeque::new(),
            sent: Vec::new(),
            delivered: std::collections::BTreeSet::new(),
            failed: std::collections::BTreeSet::new(),
            heard: std::collections::VecDeque::new(),
            overheard: Reassembler::new(ReassemblyLimits {
                max_messages: 8,
                max_message_bytes: MAX_ANON_MESSAGE_BYTES,
                timeout: Duration::from_secs(600),
                remember_completed: 32,
            }),
            packets: std::collections::VecDeque::new(),
            seen: std::collections::BTreeSet::new(),
            reply_keys: 0,
        }
    }

    /// Notes a thread the node knows (the newest 16 are kept).
    pub(super) fn thread(&mut self, thread: peerster_core::wire::anon::ThreadId) {
        if !self.threads.contains(&thread) {
            if self.threads.len() >= 16 {
                self.threads.pop_front();
            }
            self.threads.push_back(thread);
        }
    }

    /// Notes a packet sent to or by the node; whether it is new.
    pub(super) fn packet(
        &mut self,
        epoch: peerster_core::ids::Epoch,
        packet: &peerster_core::wire::anon::AnonPacket,
    ) -> bool {
        if !self.seen.insert(packet.digest()) {
            return false;
        }
        if self.packets.len() >= 16 {
            self.packets.pop_front();
        }
        self.packets.push_back((epoch, packet.clone()));
        true
    }

    /// Checks an event of the node about its anonymous messages.
    pub(super) fn event(&mut self, event: &peerster_core::Event) {
        use peerster_core::Event;
        match event {
            Event::AnonMessage { thread, .. } => self.thread(*thread),
            Event::AnonDelivered { thread, message } => {
                assert!(
                    self.sent.contains(&(*message, *thread)),
                    "a delivery reported of a message the node did not send in that thread"
                );
                assert!(self.delivered.insert(*message), "a delivery reported twice");
            }
            Event::AnonFailed {
                thread, message, ..
            } => {
                assert!(
                    self.sent.contains(&(*message, *thread)),
                    "a failure reported of a message the node did not send in that thread"
                );
                assert!(
                    !self.delivered.contains(message),
                    "a delivered message reported given up"
                );
                assert!(self.failed.insert(*message), "a failure reported twice");
            }
            _ => {}
        }
    }
}

/// What the node says of the anonymity of its next message holds together: an estimate
/// exactly when it is in a cluster, counting at least itself and at most its table.
pub(super) fn check_anonymity(node: &Node, now: Timestamp) {
    let estimate = node.anonymity(now);
    let info = node.cluster();
    assert_eq!(
        estimate.is_some(),
        info.is_some(),
        "an anonymity estimate out of a cluster, or none in one"
    );
    let (Some(estimate), Some(info)) = (estimate, info) else {
        return;
    };
    assert!(
        (1..=info.members.len()).contains(&estimate.live_members),
        "{} live members of {}",
        estimate.live_members,
        info.members.len()
    );
    assert_eq!(estimate.anonymity_set, estimate.live_members - 1);
    assert!((0.0..=1.0).contains(&estimate.first_spy_precision));
    assert_eq!(
        estimate.low,
        estimate.anonymity_set < node.config().min_anonymity_set
    );
}

/// A cluster and one of its epochs.
type ClusterEpoch = (peerster_core::ids::ClusterId, peerster_core::ids::Epoch);

/// How a vote was reported closed: in which epoch, by which install, with which outcome.
type Closure = (Option<ClusterEpoch>, u64, peerster_core::VoteOutcome);

/// What the harness knows of the votes in the fuzzed node's cluster, and what it checks of
/// them: open votes only in a cluster, each listed once, with the ballot the node cast
/// (unattended, or as the harness told it); and each vote reported closed at most once per
/// epoch. (A rollout that replaces one of the same epoch may close a vote again with another
/// outcome: that is a correction, not a repeat.)
pub(super) struct VoteKnowledge {
    /// Proposal ids the harness saw (opened or closed in events, returned by `expel`,
    /// overheard), newest last.
    pub(super) known: std::collections::VecDeque<peerster_core::wire::vote::ProposalId>,
    /// Objects the real nodes flooded that the harness reassembled, newest last.
    pub(super) heard: std::collections::VecDeque<peerster_core::wire::cluster::Flooded>,
    /// Fragments of the real nodes' floods.
    pub(super) floods: peerster_core::wire::fragment::Reassembler,
    /// Ballots the harness cast with `Node::vote` in the node's current membership.
    pub(super) cast: std::collections::BTreeMap<peerster_core::wire::vote::ProposalId, bool>,
    /// The node's cluster and epoch, as its events tell.
    pub(super) epoch: Option<ClusterEpoch>,
    /// Epochs installed so far (a replacing rollout of the same epoch counts again).
    installs: u64,
    /// Votes reported closed, and how.
    closed: std::collections::BTreeMap<peerster_core::wire::vote::ProposalId, Closure>,
    /// Votes reported closed, in order (the first 64).
    pub(super) log: Vec<(
        peerster_core::wire::vote::ProposalKind,
        peerster_core::VoteOutcome,
    )>,
}

impl VoteKnowledge {
    /// Knowledge of a node in `epoch` of a cluster (if any) that has reported nothing yet.
    pub(super) fn new(epoch: Option<ClusterEpoch>) -> Self {
        use peerster_core::wire::cluster::MAX_FLOODED_BYTES;
        use peerster_core::wire::fragment::{Reassembler, ReassemblyLimits};
        VoteKnowledge {
            known: std::collections::VecDeque::new(),
            heard: std::collections::VecDeque::new(),
            floods: Reassembler::new(ReassemblyLimits {
                max_messages: 16,
                max_message_bytes: MAX_FLOODED_BYTES,
                timeout: Duration::from_secs(600),
                remember_completed: 64,
            }),
            cast: std::collections::BTreeMap::new(),
            epoch,
            installs: 0,
            closed: std::collections::BTreeMap::new(),
            log: Vec::new(),
        }
    }

    /// Notes a proposal id the harness saw (the newest 16 are kept).
    pub(super) fn know(&mut self, proposal: peerster_core::wire::vote::ProposalId) {
        if !self.known.contains(&proposal) {
            if self.known.len() >= 16 {
                self.known.pop_front();
            }
            self.known.push_back(proposal);
        }
    }

    /// Notes an object a real node flooded (the newest 32 are kept).
    pub(super) fn hear(&mut self, flooded: peerster_core::wire::cluster::Flooded) {
        use peerster_core::wire::cluster::Flooded;
        match &flooded {
            Flooded::Proposal(proposal) => self.know(proposal.body.id()),
            Flooded::Tally(tally) => self.know(tally.tally.body.proposal),
            _ => {}
        }
        if self.heard.len() >= 32 {
            self.heard.pop_front();
        }
        self.heard.push_back(flooded);
    }

    /// Checks an event of the node about its cluster's votes.
    pub(super) fn event(&mut self, event: &peerster_core::Event) {
        use peerster_core::Event;
        match event {
            Event::VoteOpened { proposal, .. } => self.know(*proposal),
            Event::VoteClosed {
                proposal,
                kind,
                outcome,
            } => {
                self.know(*proposal);
                if let Some((epoch, install, earlier)) = self.closed.get(proposal)
                    && *epoch == self.epoch
                {
                    assert!(
                        *install != self.installs,
                        "vote {proposal} reported closed twice by one rollout ({earlier:?}, then {outcome:?})"
                    );
                    assert!(
                        earlier != outcome,
                        "vote {proposal} reported closed {outcome:?} twice in epoch {:?}",
                        self.epoch
                    );
                }
                self.closed
                    .insert(*proposal, (self.epoch, self.installs, *outcome));
                if self.log.len() < 64 {
                    self.log.push((kind.clone(), *outcome));
                }
            }
            Event::EpochChanged { cluster, epoch, .. } => {
                self.epoch = Some((*cluster, *epoch));
                self.installs += 1;
            }
            Event::JoinedCluster { cluster, epoch, .. } => {
                self.epoch = Some((*cluster, *epoch));
                self.installs += 1;
                self.cast.clear();
            }
            Event::LeftCluster { .. } | Event::RemovedFromCluster { .. } => {
                self.epoch = None;
                self.cast.clear();
            }
            _ => {}
        }
    }

    /// Checks the open votes the node lists.
    pub(super) fn check(&self, node: &Node) {
        use peerster_core::AutoVote;
        let votes = node.votes();
        if node.cluster().is_none() {
            assert!(votes.is_empty(), "open votes out of a cluster: {votes:?}");
        }
        let auto = match node.config().auto_vote {
            AutoVote::Yes => Some(true),
            AutoVote::No => Some(false),
            AutoVote::Ask => None,
        };
        let mut ids = std::collections::BTreeSet::new();
        for vote in &votes {
            assert!(ids.insert(vote.id), "vote {} listed twice", vote.id);
            assert_eq!(vote.subject, vote.kind.subject(), "{vote:?}");
            let expected = auto.or_else(|| self.cast.get(&vote.id).copied());
            assert_eq!(
                vote.my_vote, expected,
                "the node's ballot is not the one it cast unattended or was told to: {vote:?}"
            );
        }
    }
}
