//! Messages larger than one packet: split into numbered fragments, reassembled in bounded
//! memory.
//!
//! A message gets a random 16-byte id; each [`Fragment`] carries the id, its index and the
//! fragment count, and a slice of the message. Fragments travel inside whatever carries them
//! (a sealed cluster frame, an anonymous packet), each padded like any other packet of its
//! kind, so a fragment does not look different from a short message.
//!
//! [`Reassembler`] holds partial messages up to configured bounds (messages in flight, bytes per
//! message, age), refuses fragments that contradict what it holds, and remembers recently
//! completed ids so that a late copy of a fragment is recognised as a duplicate instead of
//! starting the message again.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::BoundedBytes;
use crate::bounded_map::evict_oldest_if_full;
use crate::time::Timestamp;

/// The id of a fragmented message: random, so it says nothing about sender or content.
pub type MessageId = [u8; 16];

/// The most bytes one fragment carries; what is actually used depends on the carrier.
pub const MAX_FRAGMENT_BYTES: usize = 1152;

/// Bytes a fragment adds around its slice when encoded with postcard: id (16), index and count
/// (up to 3 bytes each as varints) and the slice's length (up to 2 bytes).
pub const FRAGMENT_OVERHEAD: usize = 16 + 3 + 3 + 2;

/// One piece of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragment {
    /// The message this fragment belongs to.
    pub message: MessageId,
    /// Its position, from 0.
    pub index: u16,
    /// How many fragments the message has.
    pub count: u16,
    /// Its slice of the message.
    pub bytes: BoundedBytes<MAX_FRAGMENT_BYTES>,
}

/// Splits `payload` into fragments of at most `per_fragment` bytes each (at least one fragment,
/// even for an empty payload). `None` if `per_fragment` is zero or above
/// [`MAX_FRAGMENT_BYTES`], or the payload needs more than `u16::MAX` fragments.
pub fn split(message: MessageId, payload: &[u8], per_fragment: usize) -> Option<Vec<Fragment>> {
    if per_fragment == 0 || per_fragment > MAX_FRAGMENT_BYTES {
        return None;
    }
    let count = payload.len().div_ceil(per_fragment).max(1);
    let count = u16::try_from(count).ok()?;
    let mut fragments = Vec::with_capacity(usize::from(count));
    for index in 0..count {
        let start = usize::from(index) * per_fragment;
        let end = (start + per_fragment).min(payload.len());
        let bytes = payload.get(start..end).unwrap_or_default().to_vec();
        fragments.push(Fragment {
            message,
            index,
            count,
            // At most `per_fragment` ≤ MAX_FRAGMENT_BYTES bytes.
            bytes: BoundedBytes::new(bytes).ok()?,
        });
    }
    Some(fragments)
}

/// Why a fragment was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FragmentError {
    /// The fragment says the message has no fragments, or its index is not below the count.
    #[error("fragment index {index} of {count} is impossible")]
    BadIndex {
        /// The index received.
        index: u16,
        /// The count received.
        count: u16,
    },
    /// The message would be larger than the configured bound.
    #[error("message would exceed {max} bytes")]
    TooLarge {
        /// The bound.
        max: usize,
    },
    /// The fragment's count differs from that of earlier fragments of its message.
    #[error("fragment count changed within one message")]
    Inconsistent,
    /// The fragment was received already, or its message was completed recently.
    #[error("duplicate fragment")]
    Duplicate,
}

/// The bounds of a [`Reassembler`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Partial messages held at once; a new one beyond this evicts the oldest.
    pub max_messages: usize,
    /// Largest message, in bytes.
    pub max_message_bytes: usize,
    /// A partial message older than this is dropped.
    pub timeout: Duration,
    /// How many completed message ids are remembered to recognise late duplicates.
    pub remember_completed: usize,
}

#[derive(Debug)]
struct Partial {
    count: u16,
    started: Timestamp,
    bytes: usize,
    pieces: BTreeMap<u16, Vec<u8>>,
}

/// Reassembles fragmented messages in bounded memory.
#[derive(Debug)]
pub struct Reassembler {
    limits: ReassemblyLimits,
    partial: BTreeMap<MessageId, Partial>,
    completed: VecDeque<MessageId>,
}

impl Reassembler {
    /// An empty reassembler with the given bounds.
    pub fn new(limits: ReassemblyLimits) -> Self {
        Reassembler {
            limits,
            partial: BTreeMap::new(),
            completed: VecDeque::new(),
        }
    }

    /// Adds a fragment received at `now`; returns the whole message when this fragment
    /// completes it.
    pub fn insert(
        &mut self,
        now: Timestamp,
        fragment: Fragment,
    ) -> Result<Option<Vec<u8>>, FragmentError> {
        let Fragment {
            message,
            index,
            count,
            bytes,
        } = fragment;
        if count == 0 || index >= count {
            return Err(FragmentError::BadIndex { index, count });
        }
        if self.completed.contains(&message) {
            return Err(FragmentError::Duplicate);
        }
        let max = self.limits.max_message_bytes;
        if count == 1 {
            if bytes.len() > max {
                return Err(FragmentError::TooLarge { max });
            }
            self.remember(message);
            return Ok(Some(bytes.into_inner()));
        }
        if !self.partial.contains_key(&message) {
            evict_oldest_if_full(&mut self.partial, self.limits.max_messages, |p| p.started);
        }
        let partial = self.partial.entry(message).or_insert_with(|| Partial {
            count,
            started: now,
            bytes: 0,
            pieces: BTreeMap::new(),
        });
        if partial.count != count {
            return Err(FragmentError::Inconsistent);
        }
        if partial.pieces.contains_key(&index) {
            return Err(FragmentError::Duplicate);
        }
        if partial.bytes + bytes.len() > max {
            self.partial.remove(&message);
            return Err(FragmentError::TooLarge { max });
        }
        partial.bytes += bytes.len();
        partial.pieces.insert(index, bytes.into_inner());
        if partial.pieces.len() < usize::from(count) {
            return Ok(None);
        }
        let Some(partial) = self.partial.remove(&message) else {
            return Ok(None);
        };
        self.remember(message);
        let mut whole = Vec::with_capacity(partial.bytes);
        for piece in partial.pieces.into_values() {
            whole.extend_from_slice(&piece);
        }
        Ok(Some(whole))
    }

    /// Forgets that `message` was completed, so that a later copy is put together again: for
    /// a message its receiver refused for a reason that may pass (it came too early, say).
    pub fn forget(&mut self, message: MessageId) {
        self.completed.retain(|m| *m != message);
    }

    /// Drops partial messages older than the timeout.
    pub fn expire(&mut self, now: Timestamp) {
        let timeout = self.limits.timeout;
        self.partial.retain(|_, p| now < p.started + timeout);
    }

    /// When the oldest partial message expires, if any is held.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        let timeout = self.limits.timeout;
        self.partial.values().map(|p| p.started + timeout).min()
    }

    /// How many partial messages are held.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }

    fn remember(&mut self, message: MessageId) {
        if self.limits.remember_completed == 0 {
            return;
        }
        if self.completed.len() >= self.limits.remember_completed {
            self.completed.pop_front();
        }
        self.completed.push_back(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits() -> ReassemblyLimits {
        ReassemblyLimits {
            max_messages: 4,
            max_message_bytes: 16 * 1024,
            timeout: Duration::from_secs(30),
            remember_completed: 64,
        }
    }

    #[test]
    fn fragments_in_any_order_give_the_message_once() {
        let payload: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let mut fragments = split([1; 16], &payload, 1000).unwrap();
        assert_eq!(fragments.len(), 5);
        fragments.reverse();
        let mut r = Reassembler::new(limits());
        let mut whole = None;
        for f in fragments.clone() {
            if let Some(done) = r.insert(Timestamp::ZERO, f).unwrap() {
                assert!(whole.is_none(), "delivered twice");
                whole = Some(done);
            }
        }
        assert_eq!(whole.unwrap(), payload);
        assert_eq!(r.pending(), 0);
        // A late copy of any fragment is a duplicate, not a new message.
        assert_eq!(
            r.insert(Timestamp::ZERO, fragments[2].clone()),
            Err(FragmentError::Duplicate)
        );
    }

    #[test]
    fn a_forgotten_message_is_put_together_again_from_a_later_copy() {
        let payload: Vec<u8> = (0..3000u32).map(|i| (i * 3) as u8).collect();
        let fragments = split([2; 16], &payload, 1000).unwrap();
        let mut r = Reassembler::new(limits());
        let deliver = |r: &mut Reassembler| {
            let mut whole = None;
            for f in fragments.clone() {
                match r.insert(Timestamp::ZERO, f) {
                    Ok(Some(done)) => whole = Some(done),
                    Ok(None) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(whole)
        };
        assert_eq!(deliver(&mut r), Ok(Some(payload.clone())));
        assert_eq!(deliver(&mut r), Err(FragmentError::Duplicate));
        r.forget([2; 16]);
        assert_eq!(deliver(&mut r), Ok(Some(payload)));
    }

    #[test]
    fn contradictions_and_oversize_are_refused() {
        let mut r = Reassembler::new(limits());
        let f = |index, count, len| Fragment {
            message: [9; 16],
            index,
            count,
            bytes: BoundedBytes::new(vec![0; len]).unwrap(),
        };
        assert_eq!(
            r.insert(Timestamp::ZERO, f(0, 0, 1)),
            Err(FragmentError::BadIndex { index: 0, count: 0 })
        );
        assert_eq!(
            r.insert(Timestamp::ZERO, f(3, 3, 1)),
            Err(FragmentError::BadIndex { index: 3, count: 3 })
        );
        assert_eq!(r.insert(Timestamp::ZERO, f(0, 3, 10)), Ok(None));
        assert_eq!(
            r.insert(Timestamp::ZERO, f(1, 4, 10)),
            Err(FragmentError::Inconsistent)
        );
        assert_eq!(
            r.insert(Timestamp::ZERO, f(0, 3, 10)),
            Err(FragmentError::Duplicate)
        );
        let small = ReassemblyLimits {
            max_message_bytes: 1500,
            ..limits()
        };
        let mut r = Reassembler::new(small);
        assert_eq!(r.insert(Timestamp::ZERO, f(0, 2, 1000)), Ok(None));
        assert_eq!(
            r.insert(Timestamp::ZERO, f(1, 2, 1000)),
            Err(FragmentError::TooLarge { max: 1500 })
        );
        assert_eq!(r.pending(), 0, "an oversize message is dropped whole");
    }

    #[test]
    fn memory_is_bounded_by_count_and_age() {
        let mut r = Reassembler::new(limits());
        for i in 0..10u8 {
            let f = split([i; 16], &[0; 300], 100).unwrap().remove(0);
            r.insert(Timestamp::from_secs(u64::from(i)), f).unwrap();
        }
        assert_eq!(r.pending(), 4, "the oldest partial messages were evicted");
        assert_eq!(r.next_expiry(), Some(Timestamp::from_secs(6 + 30)));
        r.expire(Timestamp::from_secs(100));
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn split_refuses_impossible_sizes() {
        assert!(split([0; 16], b"x", 0).is_none());
        assert!(split([0; 16], b"x", MAX_FRAGMENT_BYTES + 1).is_none());
        assert_eq!(split([0; 16], b"", 10).unwrap().len(), 1);
    }

    #[test]
    fn encoded_fragment_overhead_is_bounded() {
        let f = split([0xff; 16], &[0; MAX_FRAGMENT_BYTES], MAX_FRAGMENT_BYTES)
            .unwrap()
            .remove(0);
        let f = Fragment {
            index: u16::MAX - 1,
            count: u16::MAX,
            ..f
        };
        let encoded = postcard::to_allocvec(&f).unwrap();
        assert!(encoded.len() <= MAX_FRAGMENT_BYTES + FRAGMENT_OVERHEAD);
    }

    proptest! {
        #[test]
        fn split_then_reassemble_in_a_shuffled_order(
            payload in proptest::collection::vec(any::<u8>(), 0..6000),
            per in 1usize..=MAX_FRAGMENT_BYTES,
            seed in any::<u64>(),
        ) {
            let mut fragments = split([3; 16], &payload, per).unwrap();
            // A deterministic shuffle from the seed.
            let mut state = seed | 1;
            for i in (1..fragments.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                fragments.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let mut r = Reassembler::new(limits());
            let mut out = Vec::new();
            for f in fragments {
                if let Some(whole) = r.insert(Timestamp::ZERO, f).unwrap() {
                    out.push(whole);
                }
            }
            prop_assert_eq!(out, vec![payload]);
        }

        #[test]
        fn random_fragments_never_panic_or_exceed_bounds(
            frags in proptest::collection::vec(
                (any::<u8>(), any::<u16>(), any::<u16>(), 0usize..=MAX_FRAGMENT_BYTES, 0u64..100), 0..64)
        ) {
            let mut r = Reassembler::new(limits());
            for (id, index, count, len, t) in frags {
                let f = Fragment {
                    message: [id % 8; 16],
                    index: index % 8,
                    count: count % 8,
                    bytes: BoundedBytes::new(vec![0; len]).unwrap(),
                };
                if let Ok(Some(whole)) = r.insert(Timestamp::from_secs(t), f) {
                    prop_assert!(whole.len() <= limits().max_message_bytes);
                }
                prop_assert!(r.pending() <= limits().max_messages);
            }
        }
    }
}
