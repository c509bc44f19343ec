//! What a relay remembers of the packets it handled: which it has seen (duplicate suppression),
//! and which it passed on along the stem and must fluff itself if the fluff does not come back
//! (the Dandelion++ fail-safe embargo).
//!
//! A relay keeps packet digests only, never where a packet came from or went: nothing it holds
//! links the two sides of a hop.

use std::collections::{BTreeMap, VecDeque};

use crate::ids::Epoch;
use crate::time::Timestamp;
use crate::wire::anon::{AnonPacket, PacketDigest};

/// What a relay did with a packet it has seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handled {
    /// Passed it on along the stem (or sent it, if it is its own): it waits for the fluff.
    Stemmed,
    /// Fluffed it, relayed it in the fluff, or stored it.
    Fluffed,
}

/// How a packet arriving now relates to what the relay did before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sighting {
    /// Never seen.
    New,
    /// This relay passed it on along the stem and it is back: in the fluff (or from a store),
    /// or on a second stem hop (a stem copy number seen already: the stem looped). The
    /// embargo is lifted and the relay now treats it as fluffed.
    Returned,
    /// Seen and handled already.
    Duplicate,
}

/// A packet waiting for its embargo.
#[derive(Debug)]
pub(crate) struct Embargoed {
    pub(crate) epoch: Epoch,
    pub(crate) packet: AnonPacket,
}

/// The bit of stem copy `copy` in a mask of copies seen (copies past 7 share the last bit).
fn copy_bit(copy: u8) -> u8 {
    1 << copy.min(7)
}

/// The relay's memory.
#[derive(Debug)]
pub(crate) struct Relay {
    seen: BTreeMap<PacketDigest, Handled>,
    /// For packets this relay passed on along the stem: the copy numbers of the stem hop that
    /// brought them (all bits for its own packets). Copies of one hop may arrive in any order;
    /// a copy number arriving twice is a second hop: the stem came back.
    stem_copies: BTreeMap<PacketDigest, u8>,
    /// Seen digests in the order they were first seen, with when they are forgotten.
    seen_order: VecDeque<(Timestamp, PacketDigest)>,
    max_seen: usize,
    embargoes: BTreeMap<(Timestamp, PacketDigest), Embargoed>,
    embargo_at: BTreeMap<PacketDigest, Timestamp>,
}

impl Relay {
    /// A relay remembering at most `max_seen` digests.
    pub(crate) fn new(max_seen: usize) -> Self {
        Relay {
            seen: BTreeMap::new(),
            stem_copies: BTreeMap::new(),
            seen_order: VecDeque::new(),
            max_seen,
            embargoes: BTreeMap::new(),
            embargo_at: BTreeMap::new(),
        }
    }

    /// Records the arrival of `digest` (`stem_copy` is the copy number if it came along a
    /// stem) and says how it relates to what was seen; a packet is remembered until
    /// `forget_at`.
    ///
    /// A copy of the stem hop that brought a packet this relay passed on is a duplicate and
    /// keeps the embargo, whatever order the copies arrive in; a copy number seen twice means
    /// the stem came back.
    pub(crate) fn sight(
        &mut self,
        digest: PacketDigest,
        stem_copy: Option<u8>,
        forget_at: Timestamp,
    ) -> Sighting {
        match (self.seen.get(&digest), stem_copy) {
            (None, _) => {
                self.remember(digest, Handled::Fluffed, forget_at);
                if let Some(copy) = stem_copy {
                    self.stem_copies.insert(digest, copy_bit(copy));
                }
                Sighting::New
            }
            (Some(Handled::Stemmed), Some(copy)) => {
                let seen = self.stem_copies.entry(digest).or_insert(u8::MAX);
                if *seen & copy_bit(copy) == 0 {
                    *seen |= copy_bit(copy);
                    return Sighting::Duplicate;
                }
                // The copies of the hop that brought it back are what follows.
                *seen = copy_bit(copy);
                self.returned(digest)
            }
            (Some(Handled::Stemmed), None) => self.returned(digest),
            (Some(Handled::Fluffed), _) => Sighting::Duplicate,
        }
    }

    /// A packet passed on along the stem came back: its embargo is lifted.
    fn returned(&mut self, digest: PacketDigest) -> Sighting {
        self.seen.insert(digest, Handled::Fluffed);
        if let Some(at) = self.embargo_at.remove(&digest) {
            self.embargoes.remove(&(at, digest));
        }
        Sighting::Returned
    }

    /// Records that `packet` was passed on along the stem (or sent): if it is not seen in the
    /// fluff by `deadline` (if it has one: voice has none), [`Relay::due_embargoes`] gives it
    /// back to be fluffed.
    pub(crate) fn stemmed(
        &mut self,
        epoch: Epoch,
        packet: AnonPacket,
        deadline: Option<Timestamp>,
        forget_at: Timestamp,
    ) {
        let digest = packet.digest();
        self.remember(digest, Handled::Stemmed, forget_at);
        // Its own packet (or one that came other than along a stem): any copy is a return.
        self.stem_copies.entry(digest).or_insert(u8::MAX);
        let Some(deadline) = deadline else {
            return;
        };
        if let Some(old) = self.embargo_at.insert(digest, deadline) {
            self.embargoes.remove(&(old, digest));
        }
        self.embargoes
            .insert((deadline, digest), Embargoed { epoch, packet });
    }

    /// Whether a packet is known, in any state.
    #[cfg(test)]
    pub(crate) fn knows(&self, digest: &PacketDigest) -> bool {
        self.seen.contains_key(digest)
    }

    /// Takes the packets whose embargo ran out by `now`; they count as fluffed from here on.
    pub(crate) fn due_embargoes(&mut self, now: Timestamp) -> Vec<Embargoed> {
        let mut due = Vec::new();
        while let Some(entry) = self.embargoes.first_entry() {
            let (at, digest) = *entry.key();
            if at > now {
                break;
            }
            due.push(entry.remove());
            self.embargo_at.remove(&digest);
            self.seen.insert(digest, Handled::Fluffed);
        }
        due
    }

    /// The next embargo deadline.
    pub(crate) fn next_embargo(&self) -> Option<Timestamp> {
        self.embargoes.keys().next().map(|(at, _)| *at)
    }

    /// Forgets digests whose time is up.
    pub(crate) fn expire(&mut self, now: Timestamp) {
        while let Some(&(at, digest)) = self.seen_order.front() {
            if at > now {
                break;
            }
            self.seen_order.pop_front();
            self.forget(digest);
        }
    }

    /// When the oldest digest is forgotten.
    pub(crate) fn next_expiry(&self) -> Option<Timestamp> {
        self.seen_order.front().map(|(at, _)| *at)
    }

    fn remember(&mut self, digest: PacketDigest, handled: Handled, forget_at: Timestamp) {
        if self.seen.insert(digest, handled).is_none() {
            self.seen_order.push_back((forget_at, digest));
            while self.seen_order.len() > self.max_seen {
                if let Some((_, oldest)) = self.seen_order.pop_front() {
                    self.forget(oldest);
                }
            }
        }
    }

    fn forget(&mut self, digest: PacketDigest) {
        self.seen.remove(&digest);
        self.stem_copies.remove(&digest);
        if let Some(at) = self.embargo_at.remove(&digest) {
            self.embargoes.remove(&(at, digest));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(byte: u8) -> AnonPacket {
        AnonPacket::from_bytes(&[byte; crate::wire::anon::ANON_PACKET_LEN]).unwrap()
    }

    #[test]
    fn a_stemmed_packet_that_comes_back_lifts_its_embargo() {
        let mut relay = Relay::new(16);
        let p = packet(1);
        let t = Timestamp::from_secs;
        assert_eq!(relay.sight(p.digest(), Some(0), t(100)), Sighting::New);
        relay.stemmed(Epoch(1), p.clone(), Some(t(2)), t(100));
        assert_eq!(relay.next_embargo(), Some(t(2)));
        assert_eq!(
            relay.sight(p.digest(), Some(1), t(100)),
            Sighting::Duplicate
        );
        assert_eq!(
            relay.next_embargo(),
            Some(t(2)),
            "a stem copy keeps the embargo"
        );
        assert_eq!(relay.sight(p.digest(), None, t(100)), Sighting::Returned);
        assert_eq!(relay.next_embargo(), None);
        assert_eq!(relay.sight(p.digest(), None, t(100)), Sighting::Duplicate);
        // Its own packet: any copy coming back is the stem looping.
        let looped = packet(3);
        relay.stemmed(Epoch(1), looped.clone(), Some(t(2)), t(100));
        assert_eq!(
            relay.sight(looped.digest(), Some(1), t(100)),
            Sighting::Returned
        );
        assert!(relay.due_embargoes(t(5)).is_empty());
    }

    #[test]
    fn copies_of_one_hop_in_any_order_are_not_a_loop() {
        let t = Timestamp::from_secs;
        for order in [[2, 0, 1], [1, 2, 0], [0, 1, 2]] {
            let mut relay = Relay::new(16);
            let p = packet(4);
            assert_eq!(
                relay.sight(p.digest(), Some(order[0]), t(100)),
                Sighting::New
            );
            relay.stemmed(Epoch(1), p.clone(), Some(t(2)), t(100));
            for &copy in &order[1..] {
                assert_eq!(
                    relay.sight(p.digest(), Some(copy), t(100)),
                    Sighting::Duplicate,
                    "{order:?}"
                );
            }
            assert_eq!(relay.next_embargo(), Some(t(2)));
            // The stem comes back: a copy number seen already.
            assert_eq!(relay.sight(p.digest(), Some(1), t(100)), Sighting::Returned);
            // Passed on again (Crowds), the rest of the returning hop is a duplicate.
            relay.stemmed(Epoch(1), p.clone(), Some(t(3)), t(100));
            assert_eq!(
                relay.sight(p.digest(), Some(0), t(100)),
                Sighting::Duplicate
            );
            assert_eq!(
                relay.sight(p.digest(), Some(2), t(100)),
                Sighting::Duplicate
            );
            assert_eq!(relay.sight(p.digest(), Some(1), t(100)), Sighting::Returned);
        }
    }

    #[test]
    fn an_unanswered_embargo_gives_the_packet_back_once() {
        let mut relay = Relay::new(16);
        let p = packet(2);
        let t = Timestamp::from_secs;
        relay.stemmed(Epoch(1), p.clone(), Some(t(2)), t(100));
        assert!(relay.due_embargoes(t(1)).is_empty());
        let due = relay.due_embargoes(t(2));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].packet, p);
        assert!(relay.due_embargoes(t(3)).is_empty());
        assert_eq!(relay.sight(p.digest(), None, t(100)), Sighting::Duplicate);
    }

    #[test]
    fn memory_is_bounded_and_expires() {
        let mut relay = Relay::new(4);
        let t = Timestamp::from_secs;
        for i in 0..10 {
            assert_eq!(
                relay.sight(packet(i).digest(), None, t(10 + u64::from(i))),
                Sighting::New
            );
        }
        assert!(!relay.knows(&packet(5).digest()));
        assert!(relay.knows(&packet(9).digest()));
        relay.expire(t(18));
        assert!(!relay.knows(&packet(8).digest()));
        assert!(relay.knows(&packet(9).digest()));
        assert_eq!(relay.next_expiry(), Some(t(19)));
    }
}
