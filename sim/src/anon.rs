//! The anonymous-message scenario: members of one cluster send each other anonymous messages
//! (and answer them) under loss, while malicious members log what they relay and an
//! eavesdropper taps every link of one member. The run measures delivery, latency and cost,
//! and how well the adversaries name senders.
//!
//! The simulator is omniscient: it opens every cluster frame with the cluster keys (the core
//! crate's `test-hooks` feature exposes them) to know which member created each anonymous
//! packet. The adversaries see only what they would see:
//! - **spies** are members: they open the frames delivered to them and read the relay header
//!   and the packet. The coalition applies the first-spy estimator: the member that handed a
//!   packet to the first spy that saw it is named its creator.
//! - the **tap** sees the datagrams to and from one member (sizes and times, nothing inside)
//!   and names that member the creator of a packet when it sends a datagram of the anonymous
//!   bucket size without having received one at that instant.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use peerster_core::crypto::ClusterKey;
use peerster_core::wire::anon::{AnonRelay, PacketDigest, RelayPhase, ThreadId};
use peerster_core::wire::cluster::{ClusterFrame, FrameBody};
use peerster_core::wire::fragment::MessageId;
use peerster_core::wire::{Packet, decode, decode_payload, frame};
use peerster_core::{AnonOptions, Config, ConfigError, Event, Timestamp};
use rand_core::Rng;

use crate::cluster::{quantile, settled_cluster};
use crate::{LinkModel, Network, NodeIndex, Observer, SimConfig, SimStats, Simulation};

/// The parameters of an anonymous-message run.
#[derive(Clone, Debug)]
pub struct AnonScenario {
    /// Members of the cluster.
    pub members: usize,
    /// Seed of the whole run.
    pub seed: u64,
    /// The model of every link while messages flow (the cluster forms on loss-free links).
    pub link: LinkModel,
    /// The nodes' configuration.
    pub config: Config,
    /// Messages sent, each from a random honest member to another.
    pub messages: usize,
    /// Simulated time between two messages.
    pub message_interval: Duration,
    /// Bytes of each message's text.
    pub text_len: usize,
    /// Every recipient answers each message it receives in the same thread.
    pub replies: bool,
    /// Malicious members that log what they relay (they relay honestly and send nothing).
    pub spies: usize,
    /// An eavesdropper taps every link of one random honest member.
    pub tap: bool,
    /// The recipient of the first message is cut off from the network for this long from the
    /// start of the message phase (it stays a member), and is sent messages meanwhile.
    pub away: Option<Duration>,
    /// Simulated time after the last message for retries and stragglers.
    pub settle: Duration,
}

impl AnonScenario {
    /// `members` members on 5 ms links, default configuration, 100 messages of 100 bytes half
    /// a second apart, with replies, no adversary, 120 s to settle.
    pub fn new(members: usize, seed: u64) -> Self {
        AnonScenario {
            members,
            seed,
            link: LinkModel::ideal(Duration::from_millis(5)),
            config: Config::default(),
            messages: 100,
            message_interval: Duration::from_millis(500),
            text_len: 100,
            replies: true,
            spies: 0,
            tap: false,
            away: None,
            settle: Duration::from_secs(120),
        }
    }
}

/// How well an adversary named the creators of packets.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Naming {
    /// Packets the adversary named a creator for.
    pub guesses: usize,
    /// Of those, the ones it named rightly.
    pub correct: usize,
    /// Packets the adversary could have named (for the tap: those its member created).
    pub possible: usize,
}

impl Naming {
    /// Share of guesses that were right (`None` without guesses).
    pub fn precision(&self) -> Option<f64> {
        (self.guesses > 0).then(|| self.correct as f64 / self.guesses as f64)
    }

    /// Share of the possible packets named rightly (`None` if there were none).
    pub fn recall(&self) -> Option<f64> {
        (self.possible > 0).then(|| self.correct as f64 / self.possible as f64)
    }
}

/// What an anonymous-message run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct AnonReport {
    /// Members that joined.
    pub members: usize,
    /// Messages sent (replies included).
    pub sent: usize,
    /// Messages delivered to their recipient (each counted once).
    pub delivered: usize,
    /// Deliveries of a message beyond its first (must be zero).
    pub duplicates: usize,
    /// Messages opened by a member that is not their recipient (must be zero).
    pub misdelivered: usize,
    /// Messages whose sender saw an acknowledgement.
    pub acknowledged: usize,
    /// Messages their sender gave up (some may have been delivered all the same).
    pub failed: usize,
    /// Of the messages sent, the replies.
    pub replies: usize,
    /// Replies delivered to the anonymous sender they answer.
    pub replies_delivered: usize,
    /// Latencies from sending to delivery, sorted.
    pub latencies: Vec<Duration>,
    /// Bytes of anonymous traffic (relayed packets and store anti-entropy) per delivered
    /// message.
    pub bytes_per_message: f64,
    /// What a direct sealed send of the same messages would cost: one datagram per fragment
    /// and one for the acknowledgement.
    pub direct_bytes_per_message: f64,
    /// The spies' first-spy naming of creators of packets made by honest members, whatever
    /// phase the first spy saw a packet in (the fluff reaches every spy).
    pub first_spy: Naming,
    /// The same, over the packets a spy saw on the stem: the case the Crowds bound
    /// `1 - p (n - c - 1) / n` describes.
    pub first_spy_on_stem: Naming,
    /// The tap's naming of its member as the creator of packets.
    pub tap: Naming,
    /// The tap's naming of its member as the recipient of a message: at an instant it received
    /// a packet, it sent more datagrams than a fluff relay does (the relaying of the packet
    /// that completed a message, plus an acknowledgement leaving at once).
    pub tap_recipient: Naming,
    /// Member ids or epoch keys found in clear in packets the spies saw, and packets spies
    /// opened that were not addressed to them (must be zero: the recipient is never named).
    pub recipients_named: usize,
    /// The first-spy precision the senders' own estimates gave (mean over messages).
    pub estimated_precision: f64,
    /// Packets fluffed because their stem lost them (embargoes that ran out), over all
    /// members.
    pub embargo_fluffs: u64,
    /// Re-sends of unacknowledged messages, over all members.
    pub retries: u64,
    /// The engine's counters.
    pub stats: SimStats,
    /// The run's digest.
    pub digest: u64,
}

impl AnonReport {
    /// Share of sent messages delivered to their recipient.
    pub fn delivery(&self) -> f64 {
        if self.sent == 0 {
            1.0
        } else {
            self.delivered as f64 / self.sent as f64
        }
    }

    /// The `q`-quantile (0..=1) of the latencies.
    pub fn latency(&self, q: f64) -> Option<Duration> {
        quantile(&self.latencies, q)
    }
}

/// An anonymous message delivered to a node.
#[derive(Clone, Copy, Debug)]
struct Opened {
    at: Timestamp,
    node: NodeIndex,
    message: MessageId,
    thread: ThreadId,
}

/// The omniscient observer of an anonymous run, with the adversaries' views.
#[derive(Debug, Default)]
pub struct AnonObserver {
    keys: Vec<ClusterKey>,
    spies: BTreeSet<NodeIndex>,
    tap: Option<NodeIndex>,
    /// The bucket size anonymous frames travel in.
    anon_bucket: usize,
    /// Member ids and the first half of epoch keys: what must never appear in clear.
    identifiers: HashSet<[u8; 16]>,
    /// Each packet's creator: the first node that sent it.
    origin: BTreeMap<PacketDigest, NodeIndex>,
    /// The node that handed each packet to the first spy that saw it.
    first_spy: BTreeMap<PacketDigest, NodeIndex>,
    /// The same, for the first spy that saw it on the stem.
    first_spy_on_stem: BTreeMap<PacketDigest, NodeIndex>,
    /// When the tap's member last received a datagram of the anonymous bucket size.
    tap_last_in: Option<Timestamp>,
    /// Packets the tap named its member the creator of, and whether rightly.
    tap_guesses: BTreeMap<PacketDigest, bool>,
    /// Datagrams of the anonymous bucket size the tap's member sent, per instant it sent any.
    tap_bursts: BTreeMap<Timestamp, usize>,
    /// Instants at which the tap's member received a datagram of that size.
    tap_arrivals: BTreeSet<Timestamp>,
    /// When the tap's member opened messages addressed to it.
    tap_opened: BTreeSet<Timestamp>,
    /// Datagrams a fluff relay sends for one packet.
    fanout: usize,
    identifiers_seen: usize,
    anon_bytes: u64,
    opened: Vec<Opened>,
    acknowledged: BTreeSet<MessageId>,
    failed: BTreeSet<MessageId>,
    /// Deliveries not yet handed to the workload (for replies).
    fresh: Vec<Opened>,
}

impl AnonObserver {
    /// Opens a datagram as a cluster frame under the known keys; returns its relay, if any,
    /// and whether it is anonymous traffic at all.
    fn relay_in(&self, datagram: &[u8]) -> (Option<AnonRelay>, bool) {
        let Ok(Packet::Sealed(sealed)) = decode(datagram) else {
            return (None, false);
        };
        for key in &self.keys {
            if let Ok(payload) = frame::open_frame(key, &sealed)
                && let Ok(frame) = decode_payload::<ClusterFrame>(&payload)
            {
                return match frame.body {
                    FrameBody::Anon(relay) => (Some(relay), true),
                    FrameBody::AnonSync(_) => (None, true),
                    _ => (None, false),
                };
            }
        }
        (None, false)
    }
}

impl Observer for AnonObserver {
    fn on_send(
        &mut self,
        at: Timestamp,
        from: NodeIndex,
        _: std::net::SocketAddr,
        datagram: &[u8],
    ) -> crate::Verdict {
        let (relay, anon) = self.relay_in(datagram);
        if anon {
            self.anon_bytes += datagram.len() as u64;
        }
        if Some(from) == self.tap && datagram.len() == self.anon_bucket {
            *self.tap_bursts.entry(at).or_default() += 1;
        }
        if let Some(relay) = relay {
            let digest = relay.packet.digest();
            let origin = *self.origin.entry(digest).or_insert(from);
            if Some(from) == self.tap
                && datagram.len() == self.anon_bucket
                && self.tap_last_in != Some(at)
            {
                self.tap_guesses.entry(digest).or_insert(origin == from);
            }
        }
        crate::Verdict::Deliver
    }

    fn on_deliver(&mut self, at: Timestamp, from: NodeIndex, to: NodeIndex, datagram: &[u8]) {
        if Some(to) == self.tap && datagram.len() == self.anon_bucket {
            self.tap_last_in = Some(at);
            self.tap_arrivals.insert(at);
        }
        if !self.spies.contains(&to) {
            return;
        }
        if let (Some(relay), _) = self.relay_in(datagram) {
            let digest = relay.packet.digest();
            if matches!(relay.phase, RelayPhase::Stem { .. }) {
                self.first_spy_on_stem.entry(digest).or_insert(from);
            }
            if let std::collections::btree_map::Entry::Vacant(entry) = self.first_spy.entry(digest)
            {
                entry.insert(from);
                let bytes = relay.packet.as_bytes();
                self.identifiers_seen += bytes
                    .windows(16)
                    .filter(|w| {
                        let mut window = [0u8; 16];
                        window.copy_from_slice(w);
                        self.identifiers.contains(&window)
                    })
                    .count();
            }
        }
    }

    fn on_event(&mut self, at: Timestamp, node: NodeIndex, event: &Event) {
        match event {
            Event::AnonMessage {
                thread, message, ..
            } => {
                let opened = Opened {
                    at,
                    node,
                    message: *message,
                    thread: *thread,
                };
                if Some(node) == self.tap {
                    self.tap_opened.insert(at);
                }
                self.opened.push(opened);
                self.fresh.push(opened);
            }
            Event::AnonDelivered { message, .. } => {
                self.acknowledged.insert(*message);
            }
            Event::AnonFailed { message, .. } => {
                self.failed.insert(*message);
            }
            _ => {}
        }
    }
}

/// A message the workload sent.
#[derive(Clone, Copy, Debug)]
struct Sent {
    at: Timestamp,
    sender: NodeIndex,
    recipient: NodeIndex,
    reply: bool,
}

fn refresh_keys(sim: &mut Simulation<AnonObserver>, members: &[NodeIndex]) {
    let mut keys: Vec<ClusterKey> = sim.observer().keys.clone();
    for &m in members {
        if let Some(key) = sim.node(m).and_then(|n| n.cluster_key())
            && !keys.iter().any(|k| k.as_bytes() == key.as_bytes())
        {
            keys.insert(0, key);
        }
    }
    keys.truncate(4);
    sim.observer_mut().keys = keys;
}

/// Cuts node `r` off the network (`cut`) or restores its links.
fn set_cut(sim: &mut Simulation<AnonObserver>, r: NodeIndex, nodes: usize, cut: bool) {
    let lost = LinkModel::cut();
    for other in (0..nodes).filter(|&o| o != r) {
        if cut {
            sim.network_mut().set_link(r, other, lost);
            sim.network_mut().set_link(other, r, lost);
        } else {
            sim.network_mut().clear_link(r, other);
            sim.network_mut().clear_link(other, r);
        }
    }
}

/// The datagram size anonymous frames travel in under `config`: the smallest padding bucket
/// that holds one (what a link observer sees them as).
pub(crate) fn anon_bucket(config: &Config) -> usize {
    *config
        .pad_buckets
        .iter()
        .find(|&&b| frame::payload_capacity(b) >= 560)
        .unwrap_or(&1200)
}

/// Runs `scenario` and reports what it measured.
pub fn run_anon(scenario: &AnonScenario) -> Result<AnonReport, ConfigError> {
    let n = scenario.members;
    let mut setup = SimConfig::new(n, scenario.seed);
    setup.config = scenario.config.clone();
    setup.network = Network::new(LinkModel::ideal(scenario.link.latency));
    let mut sim = Simulation::with_observer(setup, AnonObserver::default())?;
    let members = settled_cluster(&mut sim, n, scenario.link);

    // Who is who.
    let mut shuffled = members.clone();
    for i in (1..shuffled.len()).rev() {
        let j = (sim.rng().next_u64() % (i as u64 + 1)) as usize;
        shuffled.swap(i, j);
    }
    let spies: BTreeSet<NodeIndex> = shuffled.iter().take(scenario.spies).copied().collect();
    let honest: Vec<NodeIndex> = members
        .iter()
        .copied()
        .filter(|m| !spies.contains(m))
        .collect();
    let tap = (scenario.tap && !honest.is_empty())
        .then(|| honest[(sim.rng().next_u64() % honest.len() as u64) as usize]);
    let anon_bucket = anon_bucket(&scenario.config);
    {
        let identifiers = members
            .iter()
            .filter_map(|&m| sim.node(m)?.cluster())
            .flat_map(|c| c.members)
            .flat_map(|m| {
                let mut key = [0u8; 16];
                key.copy_from_slice(&m.epoch_key.0[..16]);
                [m.id.0, key]
            })
            .collect();
        let observer = sim.observer_mut();
        observer.spies = spies.clone();
        observer.tap = tap;
        observer.anon_bucket = anon_bucket;
        observer.fanout = scenario.config.anon_fanout;
        observer.identifiers = identifiers;
    }
    refresh_keys(&mut sim, &members);

    let mut sent: BTreeMap<MessageId, Sent> = BTreeMap::new();
    let mut answered: BTreeSet<MessageId> = BTreeSet::new();
    let mut estimates = Vec::new();
    let text: String = "x".repeat(scenario.text_len);
    let away = scenario.away.filter(|_| honest.len() > 2);
    let mut away_node = None;
    let mut cut_until = None;
    let start = sim.now();
    let end_of_messages = start + scenario.message_interval * scenario.messages as u32;
    let end = end_of_messages + scenario.settle;
    let mut next_message = start;
    let mut k = 0;
    while sim.now() < end {
        if k < scenario.messages && sim.now() >= next_message && honest.len() >= 2 {
            let pick = |sim: &mut Simulation<AnonObserver>| {
                honest[(sim.rng().next_u64() % honest.len() as u64) as usize]
            };
            let recipient = match (away, away_node) {
                (Some(_), Some(r)) if k % 2 == 0 => r,
                _ => pick(&mut sim),
            };
            if k == 0
                && let Some(span) = away
            {
                away_node = Some(recipient);
                set_cut(&mut sim, recipient, n, true);
                cut_until = Some(sim.now() + span);
            }
            let mut sender = pick(&mut sim);
            while sender == recipient {
                sender = pick(&mut sim);
            }
            let to = sim.identity(recipient).member_id();
            let mut result = None;
            sim.command(sender, |node, now| {
                estimates.extend(node.anonymity(now).map(|e| e.first_spy_precision));
                result = node
                    .send_anonymous(now, to, &text, AnonOptions::default())
                    .ok();
            });
            if let Some(s) = result {
                sent.insert(
                    s.message,
                    Sent {
                        at: sim.now(),
                        sender,
                        recipient,
                        reply: false,
                    },
                );
            }
            k += 1;
            next_message = start + scenario.message_interval * k as u32;
        }
        if let (Some(until), Some(r)) = (cut_until, away_node)
            && sim.now() >= until
        {
            set_cut(&mut sim, r, n, false);
            cut_until = None;
        }
        let step_until = next_message
            .min(end)
            .max(sim.now() + Duration::from_millis(50));
        sim.run_until(step_until.min(sim.now() + Duration::from_secs(1)));
        refresh_keys(&mut sim, &members);
        if scenario.replies {
            let fresh = std::mem::take(&mut sim.observer_mut().fresh);
            for opened in fresh {
                let Some(original) = sent.get(&opened.message).copied() else {
                    continue;
                };
                if original.reply
                    || original.recipient != opened.node
                    || !answered.insert(opened.message)
                {
                    continue;
                }
                let mut reply = None;
                sim.command(opened.node, |node, now| {
                    reply = node
                        .reply_anonymous(now, opened.thread, "got it", AnonOptions::default())
                        .ok();
                });
                if let Some(message) = reply {
                    sent.insert(
                        message,
                        Sent {
                            at: sim.now(),
                            sender: opened.node,
                            recipient: original.sender,
                            reply: true,
                        },
                    );
                }
            }
        } else {
            sim.observer_mut().fresh.clear();
        }
    }

    let observer = sim.observer();
    let mut delivered = BTreeSet::new();
    let (mut duplicates, mut misdelivered, mut replies_delivered) = (0, 0, 0);
    let mut latencies = Vec::new();
    for opened in &observer.opened {
        let Some(s) = sent.get(&opened.message) else {
            continue;
        };
        if opened.node != s.recipient {
            misdelivered += 1;
        } else if !delivered.insert(opened.message) {
            duplicates += 1;
        } else {
            latencies.push(opened.at - s.at);
            replies_delivered += usize::from(s.reply);
        }
    }
    latencies.sort();
    let naming = |guesses: &BTreeMap<PacketDigest, NodeIndex>| {
        let mut naming = Naming::default();
        for (digest, guess) in guesses {
            if let Some(origin) = observer.origin.get(digest)
                && !spies.contains(origin)
            {
                naming.guesses += 1;
                naming.possible += 1;
                naming.correct += usize::from(guess == origin);
            }
        }
        naming
    };
    let first_spy = naming(&observer.first_spy);
    let first_spy_on_stem = naming(&observer.first_spy_on_stem);
    let tap_naming = Naming {
        guesses: observer.tap_guesses.len(),
        correct: observer
            .tap_guesses
            .values()
            .filter(|&&right| right)
            .count(),
        possible: observer
            .origin
            .values()
            .filter(|&&o| Some(o) == tap)
            .count(),
    };
    let tap_recipient = {
        let guessed: Vec<Timestamp> = observer
            .tap_bursts
            .iter()
            .filter(|(at, count)| **count > observer.fanout && observer.tap_arrivals.contains(at))
            .map(|(at, _)| *at)
            .collect();
        Naming {
            guesses: guessed.len(),
            correct: guessed
                .iter()
                .filter(|at| observer.tap_opened.contains(at))
                .count(),
            possible: observer.tap_opened.len(),
        }
    };
    let spy_opened = observer
        .opened
        .iter()
        .filter(|o| {
            spies.contains(&o.node) && sent.get(&o.message).is_none_or(|s| s.recipient != o.node)
        })
        .count();
    let fragments =
        (scenario.text_len + 200).div_ceil(peerster_core::wire::anon::ANON_FRAGMENT_BYTES);
    let report = AnonReport {
        members: members.len(),
        sent: sent.len(),
        delivered: delivered.len(),
        duplicates,
        misdelivered,
        acknowledged: sent
            .keys()
            .filter(|m| observer.acknowledged.contains(*m))
            .count(),
        failed: sent.keys().filter(|m| observer.failed.contains(*m)).count(),
        replies: sent.values().filter(|s| s.reply).count(),
        replies_delivered,
        latencies,
        bytes_per_message: if delivered.is_empty() {
            0.0
        } else {
            observer.anon_bytes as f64 / delivered.len() as f64
        },
        direct_bytes_per_message: ((fragments + 1) * anon_bucket) as f64,
        first_spy,
        first_spy_on_stem,
        tap: tap_naming,
        tap_recipient,
        recipients_named: observer.identifiers_seen + spy_opened,
        estimated_precision: if estimates.is_empty() {
            1.0
        } else {
            estimates.iter().sum::<f64>() / estimates.len() as f64
        },
        embargo_fluffs: members
            .iter()
            .filter_map(|&m| sim.node(m))
            .map(|node| node.stats().anon_embargo_fluffs)
            .sum(),
        retries: members
            .iter()
            .filter_map(|&m| sim.node(m))
            .map(|node| node.stats().anon_retries)
            .sum(),
        stats: sim.stats(),
        digest: sim.digest(),
    };
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_cluster_delivers_and_acknowledges_every_message() {
        let mut scenario = AnonScenario::new(6, 1);
        scenario.messages = 10;
        scenario.settle = Duration::from_secs(20);
        let report = run_anon(&scenario).unwrap();
        assert_eq!(report.members, 6);
        assert_eq!(report.sent, 20, "{report:?}");
        assert_eq!(report.delivered, 20, "{report:?}");
        assert_eq!(report.acknowledged, 20, "{report:?}");
        assert_eq!((report.duplicates, report.misdelivered), (0, 0));
        assert!(report.bytes_per_message > report.direct_bytes_per_message);
    }
}
