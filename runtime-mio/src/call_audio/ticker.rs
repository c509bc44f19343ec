//! [`VoiceTicker`]: the 20 ms clock of call audio, which does not drift.
//!
//! Tick `k` is due at `start + k * 20 ms`, however late the loop ran the ticks before it: a
//! tick run 3 ms late does not push the next one 3 ms later. When the loop falls behind by a
//! few ticks it runs them at once (the jitter buffer takes a short burst); when it falls
//! further behind than [`MAX_CATCH_UP`] ticks, it runs one and skips the others, rather than
//! send a burst of stale audio.

use std::time::Duration;

use peerster_core::Timestamp;

/// The period of the voice tick: one Opus frame.
pub(crate) const TICK: Duration = Duration::from_millis(peerster_audio::FRAME_MS as u64);

/// Most ticks run at once to catch up; beyond, the late ones are skipped.
pub(crate) const MAX_CATCH_UP: u64 = 3;

/// A drift-free schedule of 20 ms ticks from a start time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VoiceTicker {
    start: Timestamp,
    /// The number of the next tick to run.
    next: u64,
    /// Ticks skipped because the loop fell too far behind.
    skipped: u64,
}

impl VoiceTicker {
    /// A schedule whose first tick is due at `start`.
    pub(crate) fn starting_at(start: Timestamp) -> VoiceTicker {
        VoiceTicker {
            start,
            next: 0,
            skipped: 0,
        }
    }

    /// When the next tick is due.
    pub(crate) fn next_due(&self) -> Timestamp {
        self.at(self.next)
    }

    /// Ticks skipped so far because the loop fell too far behind.
    pub(crate) fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The times of the ticks to run at `now`, oldest first: none before the next one is due,
    /// at most [`MAX_CATCH_UP`] when behind, or only the latest one (the others skipped) when
    /// further behind.
    pub(crate) fn take_due(&mut self, now: Timestamp) -> Vec<Timestamp> {
        let elapsed = now.saturating_since(self.start).as_micros();
        let tick = TICK.as_micros();
        // The latest tick due by `now` (tick 0 is due at `start`).
        let latest = u64::try_from(elapsed / tick).unwrap_or(u64::MAX);
        if now < self.next_due() {
            return Vec::new();
        }
        let due = latest - self.next + 1;
        let first = if due > MAX_CATCH_UP {
            self.skipped += due - 1;
            latest
        } else {
            self.next
        };
        self.next = latest + 1;
        (first..=latest).map(|k| self.at(k)).collect()
    }

    /// When tick `k` is due.
    fn at(&self, k: u64) -> Timestamp {
        let micros = k.saturating_mul(u64::try_from(TICK.as_micros()).unwrap_or(u64::MAX));
        self.start + Duration::from_micros(micros)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    #[test]
    fn ticks_fall_on_the_grid_however_late_they_run() {
        let mut ticker = VoiceTicker::starting_at(ms(1_000));
        assert_eq!(ticker.next_due(), ms(1_000));
        assert_eq!(ticker.take_due(ms(999)), []);
        assert_eq!(ticker.take_due(ms(1_000)), [ms(1_000)]);
        assert_eq!(ticker.take_due(ms(1_010)), []);
        // Run 7 ms late: the next tick is still due on the grid, not 7 ms later.
        assert_eq!(ticker.take_due(ms(1_027)), [ms(1_020)]);
        assert_eq!(ticker.next_due(), ms(1_040));
        // A thousand ticks later, no drift at all.
        let mut now = ms(1_040);
        for _ in 0..1_000 {
            let due = ticker.take_due(now + Duration::from_micros(4_999));
            assert_eq!(due, [now]);
            now += TICK;
        }
        assert_eq!(ticker.next_due(), ms(1_040 + 20 * 1_000));
        assert_eq!(ticker.skipped(), 0);
    }

    #[test]
    fn a_little_behind_catches_up_far_behind_skips() {
        let mut ticker = VoiceTicker::starting_at(ms(0));
        assert_eq!(ticker.take_due(ms(0)), [ms(0)]);
        // Two ticks late: three due, all run.
        assert_eq!(ticker.take_due(ms(61)), [ms(20), ms(40), ms(60)]);
        assert_eq!(ticker.skipped(), 0);
        // A second's stall: only the latest tick runs, the rest are skipped.
        assert_eq!(ticker.take_due(ms(1_075)), [ms(1_060)]);
        assert_eq!(ticker.skipped(), 49);
        assert_eq!(ticker.next_due(), ms(1_080));
        assert_eq!(ticker.take_due(ms(1_080)), [ms(1_080)]);
    }
}
