//! The event queue: items due at simulated times, handed out in time order and, among items
//! due at the same time, in the order they were queued, so ties resolve the same way in
//! every run.
//!
//! A timing wheel: time is cut into slots of about a millisecond, and a ring of slots covers
//! the next four seconds. Pushing an item appends it to its slot, unsorted; when the clock
//! reaches a slot, its items are sorted once, by `(time, insertion number)`, and handed out
//! from that sorted front. Items beyond the ring's horizon wait in a binary heap and join the
//! front when their slot comes. A simulation's datagrams land tens of milliseconds ahead, so a
//! push is a `Vec::push` and each item is moved about twice over its life, where a binary
//! heap would sift it through twenty levels of a heap that, at 10 000 nodes, is out of cache.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use peerster_core::Timestamp;

/// A slot spans 2^10 µs (1.024 ms).
const SLOT_BITS: u32 = 10;
/// The ring's slots: 4 096 slots, a horizon of 4.2 s.
const SLOTS: u64 = 4096;
/// Words of the occupancy bitmap.
const WORDS: usize = (SLOTS / 64) as usize;

/// A queued item and its place in the order.
struct Entry<T> {
    at: u64,
    seq: u64,
    item: T,
}

impl<T> Entry<T> {
    /// The order: time first, then insertion.
    fn rank(&self) -> u128 {
        (u128::from(self.at) << 64) | u128::from(self.seq)
    }

    fn slot(&self) -> u64 {
        self.at >> SLOT_BITS
    }
}

/// An entry beyond the horizon, ordered for std's max-heap so that the earliest comes first.
struct Far<T>(Entry<T>);

impl<T> PartialEq for Far<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.rank() == other.0.rank()
    }
}

impl<T> Eq for Far<T> {}

impl<T> PartialOrd for Far<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Far<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.rank().cmp(&self.0.rank())
    }
}

/// A min-queue of items keyed by `(time, insertion number)`; see the module doc.
pub(crate) struct EventQueue<T> {
    /// The items of slot `current` and earlier, sorted latest first: the next one is last.
    front: Vec<Entry<T>>,
    /// The slot the front belongs to; the ring holds slots `current + 1 .. current + SLOTS`.
    current: u64,
    /// Slot `s` waits at `ring[s % SLOTS]`, unsorted.
    ring: Vec<Vec<Entry<T>>>,
    /// Bit `i` set when `ring[i]` is non-empty.
    occupied: [u64; WORDS],
    /// Items at slot `current + SLOTS` or later.
    far: BinaryHeap<Far<T>>,
    /// The time of the last item handed out: nothing is queued before it.
    last_at: u64,
    len: usize,
    next_seq: u64,
}

impl<T> EventQueue<T> {
    pub(crate) fn new() -> Self {
        EventQueue {
            front: Vec::new(),
            current: 0,
            ring: (0..SLOTS).map(|_| Vec::new()).collect(),
            occupied: [0; WORDS],
            far: BinaryHeap::new(),
            last_at: 0,
            len: 0,
            next_seq: 0,
        }
    }

    /// Queues `item` for `at`, after every item already queued for `at`. An `at` before the
    /// last item handed out is taken as that item's time: the queue never goes back in time.
    pub(crate) fn push(&mut self, at: Timestamp, item: T) {
        let entry = Entry {
            at: at.as_micros().max(self.last_at),
            seq: self.next_seq,
            item,
        };
        self.next_seq += 1;
        self.len += 1;
        let slot = entry.slot();
        if slot <= self.current {
            // Due in the slot being handed out: into the sorted front, in its place.
            let rank = entry.rank();
            let at = self.front.partition_point(|e| e.rank() > rank);
            self.front.insert(at, entry);
        } else if slot < self.current + SLOTS {
            let i = (slot % SLOTS) as usize;
            self.ring[i].push(entry);
            self.occupied[i / 64] |= 1 << (i % 64);
        } else {
            self.far.push(Far(entry));
        }
    }

    /// The earliest item, if it is due at or before `until`.
    pub(crate) fn pop_due(&mut self, until: Timestamp) -> Option<(Timestamp, T)> {
        let until = until.as_micros();
        if self.front.is_empty() && !self.advance(until) {
            return None;
        }
        if self.front.last()?.at > until {
            return None;
        }
        let entry = self.front.pop()?;
        self.last_at = entry.at;
        self.len -= 1;
        Some((Timestamp::from_micros(entry.at), entry.item))
    }

    /// Moves the next non-empty slot into the (empty) front, unless it starts after `until`;
    /// returns whether the front now holds items.
    fn advance(&mut self, until: u64) -> bool {
        let in_ring = self.next_occupied();
        let far = self.far.peek().map(|f| f.0.slot());
        let Some(next) = [in_ring, far].into_iter().flatten().min() else {
            return false;
        };
        if next << SLOT_BITS > until {
            // Everything queued is later than `until`; leave the wheel where it is.
            return false;
        }
        // Every ring slot is at or after `next`, so the ring stays within its window.
        self.current = next;
        if in_ring == Some(next) {
            let i = (next % SLOTS) as usize;
            // The emptied front goes back into the ring: without a trim, every slot would
            // end up holding the capacity of the largest burst the run ever had.
            if self.front.capacity() > 2 * self.ring[i].len() + 64 {
                self.front.shrink_to(self.ring[i].len() + 64);
            }
            std::mem::swap(&mut self.front, &mut self.ring[i]);
            self.occupied[i / 64] &= !(1 << (i % 64));
        }
        while self.far.peek().is_some_and(|f| f.0.slot() == next) {
            if let Some(Far(entry)) = self.far.pop() {
                self.front.push(entry);
            }
        }
        self.front
            .sort_unstable_by_key(|e| std::cmp::Reverse(e.rank()));
        !self.front.is_empty()
    }

    /// The first non-empty ring slot after `current`.
    fn next_occupied(&self) -> Option<u64> {
        let start = ((self.current + 1) % SLOTS) as usize;
        // Walk the bitmap from `start` round to just before it: WORDS + 1 words, the first
        // and last partly.
        for step in 0..=WORDS {
            let w = (start / 64 + step) % WORDS;
            let mut bits = self.occupied[w];
            if step == 0 {
                bits &= !0u64 << (start % 64);
            }
            if bits != 0 {
                let i = w * 64 + bits.trailing_zeros() as usize;
                let ahead = (i + SLOTS as usize - start) % SLOTS as usize;
                return Some(self.current + 1 + ahead as u64);
            }
        }
        None
    }

    /// When the earliest item is due.
    pub(crate) fn next_at(&self) -> Option<Timestamp> {
        let front = self.front.last().map(|e| e.at);
        let ring = self.next_occupied().and_then(|slot| {
            let i = (slot % SLOTS) as usize;
            self.ring[i].iter().map(|e| e.at).min()
        });
        let far = self.far.peek().map(|f| f.0.at);
        let next = [front, ring, far].into_iter().flatten().min()?;
        Some(Timestamp::from_micros(next))
    }

    /// How many items are queued.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use rand_chacha::ChaCha8Rng;
    use rand_core::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn items_come_out_by_time_then_by_insertion() {
        let mut q = EventQueue::new();
        let t = Timestamp::from_millis;
        for (at, name) in [
            (5, "e"),
            (1, "a"),
            (3, "c1"),
            (3, "c2"),
            (1, "b"),
            (3, "c3"),
        ] {
            q.push(t(at), name);
        }
        assert_eq!(q.next_at(), Some(t(1)));
        assert_eq!(q.pop_due(t(0)), None);
        let mut out = Vec::new();
        while let Some((_, name)) = q.pop_due(t(4)) {
            out.push(name);
        }
        assert_eq!(out, ["a", "b", "c1", "c2", "c3"]);
        assert_eq!(q.len(), 1);
        // Freed slots are reused without disturbing the order.
        q.push(t(5), "f");
        q.push(t(4), "d");
        assert_eq!(q.next_at(), Some(t(4)));
        assert_eq!(q.pop_due(Timestamp::MAX), Some((t(4), "d")));
        assert_eq!(q.pop_due(Timestamp::MAX), Some((t(5), "e")));
        // The past is clamped to the present.
        q.push(t(1), "late");
        assert_eq!(q.pop_due(Timestamp::MAX), Some((t(5), "f")));
        assert_eq!(q.pop_due(Timestamp::MAX), Some((t(5), "late")));
        assert_eq!(q.pop_due(Timestamp::MAX), None);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn matches_a_sorted_reference_under_simulation_like_use() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut q = EventQueue::new();
        let mut reference = BTreeSet::new();
        let mut now = 0u64;
        let mut seq = 0u64;
        for _ in 0..200_000 {
            if rng.next_u32() % 100 < 52 {
                // Mostly near-future deliveries, some far timers, some ties with now.
                let ahead = match rng.next_u32() % 10 {
                    0 => 0,
                    1 => rng.next_u64() % 60_000_000,
                    _ => 20_000 + rng.next_u64() % 10_000,
                };
                q.push(Timestamp::from_micros(now + ahead), seq);
                reference.insert((now + ahead, seq));
                seq += 1;
            } else if let Some(expected) = reference.pop_first() {
                let (at, item) = q.pop_due(Timestamp::MAX).expect("not empty");
                assert_eq!((at.as_micros(), item), expected);
                now = at.as_micros();
            } else {
                assert_eq!(q.pop_due(Timestamp::MAX), None);
            }
            assert_eq!(q.len(), reference.len());
        }
    }

    #[test]
    fn bursts_do_not_leave_their_capacity_in_the_ring() {
        let mut q = EventQueue::new();
        let slot = 1u64 << SLOT_BITS;
        // Bursts of 20 000 items in 64 slots, one item in every other slot, and the wheel
        // turned three times over: each vector that carried a burst keeps its capacity
        // unless it is trimmed when it goes back into the ring.
        for b in 0..64u64 {
            for i in 0..20_000u64 {
                q.push(Timestamp::from_micros((1 + b * 61) * slot), i);
            }
        }
        let mut now = 0u64;
        for _ in 0..3 {
            for step in 1..SLOTS {
                q.push(Timestamp::from_micros(now + step * slot), 0);
            }
            while let Some((at, _)) = q.pop_due(Timestamp::MAX) {
                now = at.as_micros();
            }
        }
        let held: usize = q.ring.iter().map(Vec::capacity).sum();
        assert!(
            held < 600_000,
            "an empty ring holds room for {held} entries"
        );
    }
}
