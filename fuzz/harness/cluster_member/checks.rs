//! The checks particular to `cluster_member`: the node's anonymity estimate
//! ([`check_anonymity`]) and its reports on its anonymous messages ([`AnonKnowledge`]).

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
