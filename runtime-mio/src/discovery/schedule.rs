//! When a discovering node sends its next beacon: every [`BEACON_INTERVAL`], give or take
//! [`BEACON_JITTER`], so that nodes started together do not beacon in step, and never more
//! often than every `BEACON_INTERVAL - BEACON_JITTER`.

use std::time::Duration;

use peerster_core::Timestamp;

/// The mean time between two beacons of a node.
pub const BEACON_INTERVAL: Duration = Duration::from_secs(5);
/// The most a beacon comes earlier or later than [`BEACON_INTERVAL`] after the last.
pub const BEACON_JITTER: Duration = Duration::from_secs(1);
/// The first beacon goes out within this long of the start.
pub const FIRST_BEACON_WITHIN: Duration = Duration::from_millis(500);

/// The time of the first beacon of a node started at `now`, given a random number.
pub(crate) fn first_beacon(now: Timestamp, random: u64) -> Timestamp {
    now + fraction_of(FIRST_BEACON_WITHIN, random)
}

/// The time of the beacon after one sent at `now`, given a random number.
pub(crate) fn next_beacon(now: Timestamp, random: u64) -> Timestamp {
    now + (BEACON_INTERVAL - BEACON_JITTER) + fraction_of(BEACON_JITTER * 2, random)
}

/// A duration from zero up to `span`, picked by `random`.
fn fraction_of(span: Duration, random: u64) -> Duration {
    let micros = u64::try_from(span.as_micros()).unwrap_or(u64::MAX).max(1);
    Duration::from_micros(random % (micros + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beacons_stay_within_their_jitter() {
        let now = Timestamp::from_secs(10);
        let mut earliest = Timestamp::MAX;
        let mut latest = Timestamp::ZERO;
        for random in [
            0,
            1,
            999_999,
            1_000_000,
            2_000_000,
            u64::MAX,
            0x1234_5678_9abc,
        ] {
            let next = next_beacon(now, random);
            assert!(next - now >= BEACON_INTERVAL - BEACON_JITTER, "{random}");
            assert!(next - now <= BEACON_INTERVAL + BEACON_JITTER, "{random}");
            earliest = earliest.min(next);
            latest = latest.max(next);
            assert!(first_beacon(now, random) - now <= FIRST_BEACON_WITHIN);
        }
        assert!(latest > earliest, "the jitter moves the beacon");
    }
}
