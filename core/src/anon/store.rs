//! Fluffed packets kept for members that were away, and the anti-entropy that hands them over.
//!
//! Every member keeps the packets it saw in the fluff for `Config::anon_store_ttl`, within
//! `Config::anon_store_bytes`. Now and then it lists what it holds to a random member
//! ([`AnonSync`]): a count and fingerprint of everything, and the short digests of one window;
//! the other sends back what it holds in that window and the list lacks, with the time each
//! packet has left, so a packet is never kept longer than its first keeper keeps it. A member
//! that was away therefore pulls everything sent meanwhile, whoever it was for: pulling reveals
//! nothing about which packets are its own.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::time::Duration;

use crate::ids::{Epoch, MemberId};
use crate::time::Timestamp;
use crate::wire::BoundedVec;
use crate::wire::anon::{ANON_PACKET_LEN, AnonPacket, AnonSync};

/// A packet kept for members that were away.
#[derive(Debug)]
struct StoredPacket {
    epoch: Epoch,
    packet: AnonPacket,
    expires: Timestamp,
}

/// A packet to hand over: its epoch, the packet, and the whole seconds it has left.
pub(crate) type Handover = (Epoch, AnonPacket, u16);

/// The kept packets of one member.
#[derive(Debug)]
pub(crate) struct Store {
    packets: BTreeMap<u64, StoredPacket>,
    by_expiry: BTreeSet<(Timestamp, u64)>,
    fingerprint: u64,
    capacity: usize,
    /// Where the next listing starts.
    cursor: u64,
}

impl Store {
    /// A store of at most `bytes` bytes of packets.
    pub(crate) fn new(bytes: usize) -> Self {
        Store {
            packets: BTreeMap::new(),
            by_expiry: BTreeSet::new(),
            fingerprint: 0,
            capacity: (bytes / ANON_PACKET_LEN).max(1),
            cursor: 0,
        }
    }

    /// How many packets are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.packets.len()
    }

    /// Keeps `packet` for `ttl`, evicting the one closest to expiry when full. Returns false
    /// if a packet with the same short digest is kept already.
    pub(crate) fn insert(
        &mut self,
        now: Timestamp,
        epoch: Epoch,
        packet: AnonPacket,
        ttl: Duration,
    ) -> bool {
        let id = packet.digest().short();
        if self.packets.contains_key(&id) || ttl.is_zero() {
            return false;
        }
        if self.packets.len() >= self.capacity
            && let Some(&(_, oldest)) = self.by_expiry.first()
        {
            self.remove(oldest);
        }
        let expires = now + ttl;
        self.packets.insert(
            id,
            StoredPacket {
                epoch,
                packet,
                expires,
            },
        );
        self.by_expiry.insert((expires, id));
        self.fingerprint ^= id;
        true
    }

    /// Drops packets whose time is up.
    pub(crate) fn expire(&mut self, now: Timestamp) {
        while let Some(&(at, id)) = self.by_expiry.first() {
            if at > now {
                break;
            }
            self.remove(id);
        }
    }

    /// When the next packet expires.
    pub(crate) fn next_expiry(&self) -> Option<Timestamp> {
        self.by_expiry.first().map(|(at, _)| *at)
    }

    fn remove(&mut self, id: u64) {
        if let Some(stored) = self.packets.remove(&id) {
            self.by_expiry.remove(&(stored.expires, id));
            self.fingerprint ^= id;
        }
    }

    /// This member's next listing, from the cursor on; the cursor moves past it.
    pub(crate) fn listing(&mut self, me: MemberId, reply_wanted: bool) -> AnonSync {
        let sync = self.listing_from(me, self.cursor, reply_wanted);
        self.cursor = match (sync.to_end, sync.ids.last()) {
            (false, Some(&last)) => last.wrapping_add(1),
            _ => 0,
        };
        sync
    }

    /// A listing of what is kept from `from` on.
    pub(crate) fn listing_from(&self, me: MemberId, from: u64, reply_wanted: bool) -> AnonSync {
        let ids: Vec<u64> = self
            .packets
            .range(from..)
            .map(|(&id, _)| id)
            .take(AnonSync::MAX + 1)
            .collect();
        let to_end = ids.len() <= AnonSync::MAX;
        let ids = ids.into_iter().take(AnonSync::MAX).collect();
        AnonSync {
            member: me,
            total: u32::try_from(self.packets.len()).unwrap_or(u32::MAX),
            fingerprint: self.fingerprint,
            from,
            // At most AnonSync::MAX digests.
            ids: BoundedVec::new(ids).unwrap_or_default(),
            to_end,
            reply_wanted,
        }
    }

    /// Compares another member's listing with what is kept: the packets it lacks in the range
    /// it listed (at most `budget`), and whether it lists packets this member lacks.
    pub(crate) fn compare(
        &self,
        now: Timestamp,
        sync: &AnonSync,
        budget: usize,
    ) -> (Vec<Handover>, bool) {
        if sync.total as usize == self.packets.len() && sync.fingerprint == self.fingerprint {
            return (Vec::new(), false);
        }
        let end = match (sync.to_end, sync.ids.last()) {
            (true, _) => Bound::Unbounded,
            (false, Some(&last)) => Bound::Included(last),
            // An empty listing that does not run to the end covers nothing.
            (false, None) => return (Vec::new(), false),
        };
        let listed: BTreeSet<u64> = sync.ids.iter().copied().collect();
        let handover = self
            .packets
            .range((Bound::Included(sync.from), end))
            .filter(|(id, stored)| {
                !listed.contains(id) && stored.expires.saturating_since(now).as_secs() > 0
            })
            .take(budget)
            .map(|(_, stored)| {
                let left = stored.expires.saturating_since(now).as_secs();
                (
                    stored.epoch,
                    stored.packet.clone(),
                    u16::try_from(left).unwrap_or(u16::MAX),
                )
            })
            .collect();
        let lacking = listed.iter().any(|id| !self.packets.contains_key(id));
        (handover, lacking)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(i: u16) -> AnonPacket {
        let mut bytes = [0u8; ANON_PACKET_LEN];
        bytes[..2].copy_from_slice(&i.to_be_bytes());
        AnonPacket::from_bytes(&bytes).unwrap()
    }

    const ME: MemberId = MemberId([1; 16]);
    const TTL: Duration = Duration::from_secs(60);

    #[test]
    fn two_stores_converge_through_listings() {
        let now = Timestamp::from_secs(1);
        let mut a = Store::new(1 << 20);
        let mut b = Store::new(1 << 20);
        for i in 0..300 {
            b.insert(now, Epoch(1), packet(i), TTL);
        }
        for i in 250..320 {
            a.insert(now, Epoch(1), packet(i), TTL);
        }
        for _ in 0..100 {
            let sync = a.listing(ME, true);
            let (handover, lacking) = b.compare(now, &sync, 16);
            for (epoch, p, left) in handover {
                assert!(u64::from(left) <= TTL.as_secs());
                a.insert(now, epoch, p, Duration::from_secs(left.into()));
            }
            if lacking {
                let reply = b.listing_from(ME, sync.from, false);
                let (back, _) = a.compare(now, &reply, 16);
                for (epoch, p, left) in back {
                    b.insert(now, epoch, p, Duration::from_secs(left.into()));
                }
            }
        }
        assert_eq!(a.len(), 320);
        assert_eq!(b.len(), 320);
        assert_eq!(a.fingerprint, b.fingerprint);
        let (nothing, lacking) = b.compare(now, &a.listing(ME, true), 16);
        assert!(nothing.is_empty() && !lacking);
    }

    #[test]
    fn capacity_and_time_bound_the_store() {
        let now = Timestamp::from_secs(1);
        let mut store = Store::new(4 * ANON_PACKET_LEN);
        for i in 0..10u16 {
            store.insert(
                now,
                Epoch(1),
                packet(i),
                Duration::from_secs(10 + u64::from(i)),
            );
        }
        assert_eq!(store.len(), 4);
        store.expire(Timestamp::from_secs(1 + 17));
        assert_eq!(store.len(), 2);
        assert_eq!(store.next_expiry(), Some(Timestamp::from_secs(1 + 18)));
    }

    #[test]
    fn handed_over_packets_keep_their_remaining_time() {
        let mut store = Store::new(1 << 20);
        store.insert(Timestamp::ZERO, Epoch(1), packet(1), TTL);
        let empty = Store::new(1 << 20).listing_from(ME, 0, true);
        let (handover, _) = store.compare(Timestamp::from_secs(45), &empty, 16);
        assert_eq!(handover.len(), 1);
        assert_eq!(handover[0].2, 15);
        let (late, _) = store.compare(Timestamp::from_secs(60), &empty, 16);
        assert!(late.is_empty());
    }
}
