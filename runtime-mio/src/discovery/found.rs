//! [`Found`]: which discovered addresses the node connects to, and how often: a bounded set
//! of addresses, each connected to at most once per [`RECONNECT_AFTER`], and a token bucket
//! that bounds the connects a stream of beacons can start.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use peerster_core::Timestamp;

/// Most discovered addresses remembered; beyond it, beacons from new addresses are ignored
/// until an entry is older than [`RECONNECT_AFTER`].
pub const MAX_FOUND: usize = 64;
/// The shortest time between two connects to the same discovered address.
pub const RECONNECT_AFTER: Duration = Duration::from_secs(30);
/// Most connects started at once after a quiet spell.
pub const CONNECT_BURST: u32 = 8;
/// One more connect is allowed per this much time, up to [`CONNECT_BURST`].
pub const CONNECT_REFILL: Duration = Duration::from_secs(1);

/// What to do about a beacon from an address that is not a peer yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Connect to it now.
    Connect,
    /// It was connected to less than [`RECONNECT_AFTER`] ago.
    Recent,
    /// [`MAX_FOUND`] addresses are remembered, none of them old enough to forget.
    Full,
    /// Too many connects lately.
    Throttled,
}

/// The discovered addresses, when each was last connected to, and the connect budget.
#[derive(Debug)]
pub(crate) struct Found {
    last_connect: BTreeMap<SocketAddr, Timestamp>,
    tokens: u32,
    /// When the bucket last gained a token (or was full).
    refilled: Timestamp,
}

impl Found {
    /// No addresses yet, a full connect budget.
    pub(crate) fn new(now: Timestamp) -> Found {
        Found {
            last_connect: BTreeMap::new(),
            tokens: CONNECT_BURST,
            refilled: now,
        }
    }

    /// Decides about a beacon from `addr` at `now`; [`Verdict::Connect`] counts as a connect.
    pub(crate) fn admit(&mut self, now: Timestamp, addr: SocketAddr) -> Verdict {
        if self
            .last_connect
            .get(&addr)
            .is_some_and(|&last| now - last < RECONNECT_AFTER)
        {
            return Verdict::Recent;
        }
        self.refill(now);
        if self.tokens == 0 {
            return Verdict::Throttled;
        }
        if !self.last_connect.contains_key(&addr) && self.last_connect.len() >= MAX_FOUND {
            let oldest = self
                .last_connect
                .iter()
                .min_by_key(|&(_, &last)| last)
                .map(|(&a, &last)| (a, last));
            match oldest {
                Some((old, last)) if now - last >= RECONNECT_AFTER => {
                    self.last_connect.remove(&old);
                }
                _ => return Verdict::Full,
            }
        }
        self.last_connect.insert(addr, now);
        self.tokens -= 1;
        Verdict::Connect
    }

    /// Adds the tokens earned since the last refill.
    fn refill(&mut self, now: Timestamp) {
        let refill = CONNECT_REFILL.as_micros().max(1);
        let earned = (now - self.refilled).as_micros() / refill;
        if earned == 0 {
            return;
        }
        let earned = u32::try_from(earned).unwrap_or(u32::MAX);
        self.tokens = self.tokens.saturating_add(earned).min(CONNECT_BURST);
        self.refilled = if self.tokens == CONNECT_BURST {
            now
        } else {
            self.refilled + CONNECT_REFILL * earned
        };
    }

    /// How many addresses are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.last_connect.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u32) -> SocketAddr {
        SocketAddr::from(([10, 0, (n >> 8) as u8, n as u8], 7000))
    }

    #[test]
    fn an_address_is_connected_once_per_reconnect_pause() {
        let start = Timestamp::from_secs(100);
        let mut found = Found::new(start);
        assert_eq!(found.admit(start, addr(1)), Verdict::Connect);
        let soon = start + (RECONNECT_AFTER - Duration::from_millis(1));
        assert_eq!(found.admit(soon, addr(1)), Verdict::Recent);
        assert_eq!(
            found.admit(start + RECONNECT_AFTER, addr(1)),
            Verdict::Connect
        );
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn a_burst_of_new_addresses_is_throttled_then_refilled() {
        let start = Timestamp::from_secs(100);
        let mut found = Found::new(start);
        for n in 0..CONNECT_BURST {
            assert_eq!(found.admit(start, addr(n)), Verdict::Connect, "address {n}");
        }
        assert_eq!(found.admit(start, addr(99)), Verdict::Throttled);
        let later = start + CONNECT_REFILL;
        assert_eq!(found.admit(later, addr(99)), Verdict::Connect);
        assert_eq!(found.admit(later, addr(100)), Verdict::Throttled);
    }

    #[test]
    fn the_set_stays_bounded_and_forgets_only_old_addresses() {
        let mut now = Timestamp::from_secs(100);
        let mut found = Found::new(now);
        for n in 0..MAX_FOUND as u32 {
            now += CONNECT_REFILL;
            assert_eq!(found.admit(now, addr(n)), Verdict::Connect, "address {n}");
        }
        assert_eq!(found.len(), MAX_FOUND);
        // Every entry is younger than the reconnect pause: a new address finds no room.
        let first = Timestamp::from_secs(100) + CONNECT_REFILL;
        let before_first_expires = first + (RECONNECT_AFTER - Duration::from_millis(1));
        assert_eq!(found.admit(before_first_expires, addr(1000)), Verdict::Full);
        // Once the oldest is old enough, it makes room.
        let after = first + RECONNECT_AFTER;
        assert_eq!(found.admit(after, addr(1000)), Verdict::Connect);
        assert_eq!(found.len(), MAX_FOUND);
        // Address 0 was forgotten, address 1 was not.
        assert_eq!(found.admit(after, addr(1)), Verdict::Recent);
        for n in 2000..3000 {
            found.admit(after + Duration::from_secs(u64::from(n)), addr(n));
            assert!(found.len() <= MAX_FOUND);
        }
    }
}
