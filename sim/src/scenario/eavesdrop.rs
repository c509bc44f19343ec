//! Passive eavesdroppers on links: the taps on chosen nodes and the global passive observer
//! on every link. Both see only the size and time of each datagram and use one estimator.
//!
//! **Estimator**: a watched node that sends a datagram of the anonymous size at an instant
//! it did not receive one at is named the creator of that packet (relays pass a packet on at
//! once; a creator sends unprompted). Each packet is named at most once, by the first such
//! send. The packet's identity and its true creator come from the simulator only to score the
//! guess; the eavesdropper never sees inside a frame.

use std::collections::BTreeMap;

use peerster_core::Timestamp;
use peerster_core::wire::anon::PacketDigest;

use super::observe::Sighting;
use crate::NodeIndex;

/// What one eavesdropper (a set of tapped nodes, or every node) saw and guessed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Eavesdropper {
    /// When each watched node last received a datagram of the anonymous size.
    last_in: BTreeMap<NodeIndex, Timestamp>,
    /// Packet (by digest, to score) → whether the node named its creator was right.
    pub guesses: BTreeMap<PacketDigest, bool>,
}

impl Eavesdropper {
    /// A watched node received a datagram of the anonymous size at `at`.
    pub fn received(&mut self, node: NodeIndex, at: Timestamp) {
        self.last_in.insert(node, at);
    }

    /// A watched node sent packet `digest` at `at`; `origin` is its true creator (to score).
    pub fn sent(
        &mut self,
        node: NodeIndex,
        at: Timestamp,
        digest: PacketDigest,
        origin: NodeIndex,
    ) {
        if self.last_in.get(&node) != Some(&at) {
            self.guesses.entry(digest).or_insert(origin == node);
        }
    }

    /// Share of the guesses that were right; `None` without guesses.
    pub fn precision(&self) -> Option<f64> {
        let right = self.guesses.values().filter(|&&r| r).count();
        (!self.guesses.is_empty()).then(|| right as f64 / self.guesses.len() as f64)
    }

    /// Share of the packets made by `watched` nodes (among `sightings`) that were rightly
    /// named; `None` if they made none.
    pub fn recall(
        &self,
        sightings: &BTreeMap<PacketDigest, Sighting>,
        watched: impl Fn(NodeIndex) -> bool,
    ) -> Option<f64> {
        let right = self.guesses.values().filter(|&&r| r).count();
        let own = (sightings.values())
            .filter(|s| s.origin.is_some_and(&watched))
            .count();
        (own > 0).then(|| right as f64 / own as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Node 1 makes packet a; node 2 relays it at the instant it receives it, and later
    /// sends packet b, made by node 3, on its own (as an embargo would): a right guess and a
    /// wrong one.
    #[test]
    fn relays_at_once_are_passed_over_and_unprompted_sends_are_named() {
        let t = Timestamp::from_secs;
        let (a, b) = (PacketDigest([1; 16]), PacketDigest([2; 16]));
        let mut e = Eavesdropper::default();
        e.sent(1, t(1), a, 1);
        e.received(2, t(2));
        e.sent(2, t(2), a, 1);
        e.sent(2, t(5), b, 3);
        e.sent(1, t(6), b, 3);
        assert_eq!(e.guesses, BTreeMap::from([(a, true), (b, false)]));
        assert_eq!(e.precision(), Some(0.5));
        let seen = |origin| Sighting {
            origin: Some(origin),
            ..Sighting::default()
        };
        let sightings = BTreeMap::from([(a, seen(1)), (b, seen(3))]);
        assert_eq!(e.recall(&sightings, |_| true), Some(0.5));
        assert_eq!(e.recall(&sightings, |n| n == 1), Some(1.0));
        assert_eq!(e.recall(&sightings, |n| n == 9), None);
    }
}
