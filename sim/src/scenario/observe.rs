//! What a scenario run watches: deliveries, votes, rollouts (every run), and, when the
//! scenario has adversaries, what spies receive and taps see, beside the omniscient truth of
//! who created each anonymous packet. Malicious members' drops and alterations happen here too.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use peerster_core::crypto::ClusterKey;
use peerster_core::ids::MemberId;
use peerster_core::wire::anon::{AnonRelay, PacketDigest, RelayPhase};
use peerster_core::wire::cluster::{ClusterFrame, FrameBody, PostPosition};
use peerster_core::wire::fragment::MessageId;
use peerster_core::wire::{Packet, decode, decode_payload, frame};
use peerster_core::{Event, Timestamp, VoteOutcome};

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::calls::CallLog;
use super::eavesdrop::Eavesdropper;
use super::tamper::{self, Attack, Tampering};
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
    /// Alters every anonymous packet it relays (see [`super::tamper`]).
    Tamperer,
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
    /// What the taps saw of the tapped nodes, and guessed.
    pub tapped: Eavesdropper,
    /// What the global passive observer saw of every node, and guessed (when there is one).
    pub global: Option<Eavesdropper>,
    /// Bytes each node handed to the network.
    pub bytes_sent: Vec<u64>,
    /// The frame a tamperer is sending, opened, with its key: altered in `on_forward`.
    pub(crate) to_tamper: Option<(ClusterKey, ClusterFrame)>,
    /// Packets as a tamperer altered them: not anyone's message, so not scored.
    pub(crate) forged: BTreeSet<PacketDigest>,
    /// What the tamperers did.
    pub tampering: Tampering,
    /// Draws for the frames tamperers seal again.
    pub(crate) tamper_rng: Option<ChaCha8Rng>,
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
        match self.frame_in(node, datagram)?.1.body {
            FrameBody::Anon(relay) => Some(relay),
            _ => None,
        }
    }

    /// The frame of the anonymous size in `datagram`, opened with a key of `node`'s cluster,
    /// with that key.
    fn frame_in(&self, node: NodeIndex, datagram: &[u8]) -> Option<(ClusterKey, ClusterFrame)> {
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
                return Some((key.clone(), frame));
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
        let Some((key, frame)) = self.frame_in(from, d) else {
            return Verdict::Deliver;
        };
        let FrameBody::Anon(relay) = &frame.body else {
            return Verdict::Deliver;
        };
        let digest = relay.packet.digest();
        if self.forged.contains(&digest) {
            return Verdict::Deliver;
        }
        let sighting = self.sightings.entry(digest).or_default();
        let origin = *sighting.origin.get_or_insert(from);
        if self.taps.contains(&from) {
            self.tapped.sent(from, at, digest, origin);
        }
        if let Some(global) = &mut self.global {
            global.sent(from, at, digest, origin);
        }
        if behaviour == Some(Misbehaviour::Dropper) && origin != from {
            return Verdict::Drop;
        }
        if behaviour == Some(Misbehaviour::Tamperer) && origin != from {
            self.to_tamper = Some((key, frame));
        }
        Verdict::Deliver
    }

    fn on_forward(&mut self, _: Timestamp, _: NodeIndex, _: SocketAddr, d: &mut Vec<u8>) {
        let Some((key, frame)) = self.to_tamper.take() else {
            return;
        };
        let t = &mut self.tampering;
        let attack = Attack::nth(t.frames_altered + t.packets_altered);
        let rng = self
            .tamper_rng
            .get_or_insert_with(|| ChaCha8Rng::seed_from_u64(0));
        let forged = tamper::alter(d, &key, frame, attack, rng);
        match attack {
            Attack::Frame => t.frames_altered += 1,
            Attack::Packet => t.packets_altered += usize::from(forged.is_some()),
        }
        self.forged.extend(forged);
    }

    fn on_deliver(&mut self, at: Timestamp, from: NodeIndex, to: NodeIndex, d: &[u8]) {
        if d.len() == self.anon_bucket {
            if self.taps.contains(&to) {
                self.tapped.received(to, at);
            }
            if let Some(global) = &mut self.global {
                global.received(to, at);
            }
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
