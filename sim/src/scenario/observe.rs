//! What a scenario run watches: deliveries, votes, rollouts (every run), and, when the
//! scenario has adversaries, what spies receive and taps see, beside the omniscient truth of
//! who created each anonymous packet. Malicious members' drops happen here too.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use peerster_core::crypto::ClusterKey;
use peerster_core::ids::MemberId;
use peerster_core::wire::anon::{AnonRelay, PacketDigest, RelayPhase};
use peerster_core::wire::cluster::{ClusterFrame, FrameBody, PostPosition};
use peerster_core::wire::fragment::MessageId;
use peerster_core::wire::{Packet, decode, decode_payload, frame};
use peerster_core::{Event, Timestamp, VoteOutcome};

use super::calls::CallLog;
use crate::{NodeIndex, Observer, Verdict};

/// What one spy coalition saw of one anonymous packet, and who truly made it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sighting {
    /// The node that first sent the packet (omniscient: the spies do not know it).
    pub origin: Option<NodeIndex>,
    /// The node that handed the packet on the stem to the first spy that got it there.
    pub first_stem_from: Option<NodeIndex>,
    /// The node that handed the packet to the first spy that got it at all, and when.
    pub first_from: Option<(Timestamp, NodeIndex)>,
}

/// How a malicious member behaves on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Relays honestly; logs what it relays (a spy).
    Spy,
    /// Drops every anonymous packet it relays.
    Dropper,
    /// Sends nothing at all.
    Silent,
}

/// The observer of a scenario run.
#[derive(Debug, Default)]
pub struct ScenarioObserver {
    /// Each node's cluster, for the keys its frames are sealed under.
    pub(crate) cluster_of: Vec<Option<usize>>,
    /// The latest keys of each cluster, newest first.
    pub(crate) keys: Vec<Vec<ClusterKey>>,
    /// Whether to open frames at all (only for adversaries).
    pub(crate) open_frames: bool,
    /// Malicious members.
    pub(crate) malicious: BTreeMap<NodeIndex, Misbehaviour>,
    /// Tapped nodes.
    pub(crate) taps: BTreeSet<NodeIndex>,
    /// The size anonymous frames travel in.
    pub(crate) anon_bucket: usize,
    /// Every anonymous packet relayed, by digest.
    pub sightings: BTreeMap<PacketDigest, Sighting>,
    /// The taps' guesses: packet digest (from the truth, to score them) → the tapped node
    /// named its creator, and whether rightly.
    pub tap_guesses: BTreeMap<PacketDigest, bool>,
    /// When each tapped node last received a datagram of the anonymous size.
    pub(crate) tap_last_in: BTreeMap<NodeIndex, Timestamp>,
    /// Bytes each node handed to the network.
    pub bytes_sent: Vec<u64>,
    /// Post deliveries: (author, position) → (node, when).
    pub posts: Vec<(MemberId, PostPosition, NodeIndex, Timestamp)>,
    /// Anonymous messages opened: (message, node, when, thread).
    pub opened: Vec<(
        MessageId,
        NodeIndex,
        Timestamp,
        peerster_core::wire::anon::ThreadId,
    )>,
    /// Deliveries not yet handed to the workload (for replies).
    pub(crate) fresh: Vec<(MessageId, NodeIndex, peerster_core::wire::anon::ThreadId)>,
    /// Votes opened: proposal → when first seen.
    pub votes_opened: BTreeMap<[u8; 16], Timestamp>,
    /// Outcomes applied: (proposal, node, outcome).
    pub votes_closed: Vec<([u8; 16], NodeIndex, VoteOutcome)>,
    /// Epoch changes: (cluster index, epoch) → when each node installed it.
    pub epochs: BTreeMap<(usize, u64), Vec<(NodeIndex, Timestamp)>>,
    /// Nodes a rollout left out (told so).
    pub removed: Vec<(NodeIndex, Timestamp)>,
    /// Members some rollout dropped from the table, with the first time one was seen.
    pub dropped: BTreeMap<MemberId, Timestamp>,
    /// Call events not yet handed to the call workload.
    pub(crate) calls: CallLog,
}

impl ScenarioObserver {
    /// The relay inside `datagram`, if it is an anonymous frame of `node`'s cluster.
    fn relay_in(&self, node: NodeIndex, datagram: &[u8]) -> Option<AnonRelay> {
        if datagram.len() != self.anon_bucket {
            return None;
        }
        let cluster = self.cluster_of.get(node).copied().flatten()?;
        let Ok(Packet::Sealed(sealed)) = decode(datagram) else {
            return None;
        };
        for key in self.keys.get(cluster)? {
            if let Ok(payload) = frame::open_frame(key, &sealed)
                && let Ok(frame) = decode_payload::<ClusterFrame>(&payload)
            {
                return match frame.body {
                    FrameBody::Anon(relay) => Some(relay),
                    _ => None,
                };
            }
        }
        None
    }
}

impl Observer for ScenarioObserver {
    fn on_send(&mut self, at: Timestamp, from: NodeIndex, _: SocketAddr, d: &[u8]) -> Verdict {
        if self.bytes_sent.len() <= from {
            self.bytes_sent.resize(from + 1, 0);
        }
        self.bytes_sent[from] += d.len() as u64;
        let behaviour = self.malicious.get(&from).copied();
        if behaviour == Some(Misbehaviour::Silent) {
            return Verdict::Drop;
        }
        if !self.open_frames {
            return Verdict::Deliver;
        }
        let Some(relay) = self.relay_in(from, d) else {
            return Verdict::Deliver;
        };
        let digest = relay.packet.digest();
        let sighting = self.sightings.entry(digest).or_default();
        let origin = *sighting.origin.get_or_insert(from);
        if self.taps.contains(&from) && self.tap_last_in.get(&from) != Some(&at) {
            self.tap_guesses.entry(digest).or_insert(origin == from);
        }
        if behaviour == Some(Misbehaviour::Dropper) && origin != from {
            return Verdict::Drop;
        }
        Verdict::Deliver
    }

    fn on_deliver(&mut self, at: Timestamp, from: NodeIndex, to: NodeIndex, d: &[u8]) {
        if self.taps.contains(&to) && d.len() == self.anon_bucket {
            self.tap_last_in.insert(to, at);
        }
        if self.malicious.get(&to) != Some(&Misbehaviour::Spy) {
            return;
        }
        let Some(relay) = self.relay_in(to, d) else {
            return;
        };
        let sighting = self.sightings.entry(relay.packet.digest()).or_default();
        if matches!(relay.phase, RelayPhase::Stem { .. }) && sighting.first_stem_from.is_none() {
            sighting.first_stem_from = Some(from);
        }
        sighting.first_from.get_or_insert((at, from));
    }

    fn on_event(&mut self, at: Timestamp, node: NodeIndex, event: &Event) {
        self.calls.on_event(at, node, event);
        match event {
            Event::Post {
                author, position, ..
            } => self.posts.push((*author, *position, node, at)),
            Event::AnonMessage {
                thread, message, ..
            } => {
                self.opened.push((*message, node, at, *thread));
                self.fresh.push((*message, node, *thread));
            }
            Event::VoteOpened { proposal, .. } => {
                self.votes_opened.entry(proposal.0).or_insert(at);
            }
            Event::VoteClosed {
                proposal, outcome, ..
            } => self.votes_closed.push((proposal.0, node, *outcome)),
            Event::EpochChanged { epoch, removed, .. } => {
                for member in removed {
                    self.dropped.entry(*member).or_insert(at);
                }
                if let Some(cluster) = self.cluster_of.get(node).copied().flatten() {
                    (self.epochs.entry((cluster, epoch.0)).or_default()).push((node, at));
                }
            }
            Event::RemovedFromCluster { .. } => self.removed.push((node, at)),
            _ => {}
        }
    }
}
