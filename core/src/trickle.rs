//! The Trickle timer (RFC 6206) that paces anti-entropy: quick exchanges right after something
//! changed, then exponentially fewer while everyone agrees.
//!
//! An anti-entropy exchange at a fixed pace either spends bandwidth when nothing is missing or
//! recovers a lost object slowly. Trickle has both: its interval starts at a minimum whenever
//! the state changes ("an inconsistency" in the RFC), doubles after each interval up to a
//! maximum, and the exchange is made at a random point of the interval's second half, so the
//! nodes that saw the same change do not all speak at once.
//!
//! Two simplifications of the RFC, both because an exchange here is a unicast to one random
//! member rather than a broadcast on a shared medium:
//! - no redundancy constant: hearing a consistent exchange does not suppress one's own, since
//!   nobody else hears it;
//! - the interval's end is not a separate event: when the exchange is made, the next interval
//!   (and its exchange point) is drawn at once, which schedules exactly the same exchanges.

use core::time::Duration;

use rand_core::Rng;

use crate::time::Timestamp;

/// The shortest and longest interval of a [`Trickle`] timer (Imin and Imax in RFC 6206).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TrickleBounds {
    /// The interval after a change.
    pub(crate) min: Duration,
    /// The interval it doubles up to while nothing changes.
    pub(crate) max: Duration,
}

/// A Trickle timer: when the next anti-entropy exchange is due.
#[derive(Clone, Debug)]
pub(crate) struct Trickle {
    /// Start of the current interval.
    start: Timestamp,
    /// Length of the current interval, between the bounds.
    interval: Duration,
    /// When the exchange of the current interval is due.
    due: Timestamp,
}

impl Trickle {
    /// A timer whose first exchange is due at once, with the first interval, at the minimum,
    /// right after: a member that just came has everything to learn.
    pub(crate) fn new(now: Timestamp) -> Self {
        Trickle {
            start: now,
            interval: Duration::ZERO,
            due: now,
        }
    }

    /// When the next exchange is due.
    pub(crate) fn deadline(&self) -> Timestamp {
        self.due
    }

    /// Whether an exchange is due at `now`. If one is, the timer moves on to the next
    /// interval, twice as long (at most the maximum), and the caller makes the exchange.
    pub(crate) fn fire(
        &mut self,
        now: Timestamp,
        bounds: TrickleBounds,
        rng: &mut impl Rng,
    ) -> bool {
        if now < self.due {
            return false;
        }
        // The next interval starts where this one ends, or now if its end is past (a host
        // that did not call for a while).
        self.start = (self.start + self.interval).max(now);
        self.interval = (self.interval * 2).clamp(bounds.min, bounds.max);
        self.due = self.start + point_in_second_half(self.interval, rng);
        true
    }

    /// Something changed: the next interval is the minimum, starting now, unless the timer
    /// already runs at the minimum (RFC 6206, section 4.2, rule 6).
    pub(crate) fn reset(&mut self, now: Timestamp, bounds: TrickleBounds, rng: &mut impl Rng) {
        if self.interval > bounds.min {
            self.start = now;
            self.interval = bounds.min;
            self.due = now + point_in_second_half(bounds.min, rng);
        }
    }

    /// Makes the next exchange due by `at` at the latest, without changing the interval: for
    /// a caller that knows more is waiting.
    pub(crate) fn hurry(&mut self, at: Timestamp) {
        self.due = self.due.min(at);
    }
}

/// A uniformly random point of `[interval / 2, interval)`.
fn point_in_second_half(interval: Duration, rng: &mut impl Rng) -> Duration {
    let half = interval / 2;
    let span = u64::try_from((interval - half).as_micros()).unwrap_or(u64::MAX);
    if span == 0 {
        return half;
    }
    half + Duration::from_micros(rng.next_u64() % span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    const BOUNDS: TrickleBounds = TrickleBounds {
        min: Duration::from_secs(1),
        max: Duration::from_secs(16),
    };

    /// The times of the exchanges a timer started at zero makes before `until`, when nothing
    /// changes.
    fn exchanges(until: Timestamp, rng: &mut ChaCha20Rng) -> Vec<Timestamp> {
        let mut timer = Trickle::new(Timestamp::ZERO);
        let mut times = Vec::new();
        while timer.deadline() < until {
            let now = timer.deadline();
            assert!(timer.fire(now, BOUNDS, rng));
            times.push(now);
        }
        times
    }

    #[test]
    fn each_exchange_falls_in_the_second_half_of_an_interval_twice_as_long_as_the_last() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let times = exchanges(Timestamp::from_secs(191), &mut rng);
        // The first at once, then intervals 1, 2, 4, 8, 16, 16, ... starting at 0, 1, 3, 7,
        // 15, 31, ...
        assert_eq!(times[0], Timestamp::ZERO);
        let mut start = Timestamp::ZERO;
        let mut interval = BOUNDS.min;
        for t in &times[1..] {
            assert!(*t >= start + interval / 2 && *t < start + interval, "{t:?}");
            start += interval;
            interval = (interval * 2).min(BOUNDS.max);
        }
        // The first, 5 intervals to reach 16 s (at 31 s), then the ten 16 s intervals that
        // end by 191 s (the one starting at 191 s is due at 199 s at the earliest).
        assert_eq!(times.len(), 1 + 5 + 10);
    }

    #[test]
    fn nothing_is_due_before_the_deadline() {
        let mut rng = ChaCha20Rng::from_seed([2; 32]);
        let mut timer = Trickle::new(Timestamp::ZERO);
        timer.fire(Timestamp::ZERO, BOUNDS, &mut rng);
        let due = timer.deadline();
        assert!(!timer.fire(
            Timestamp::from_micros(due.as_micros() - 1),
            BOUNDS,
            &mut rng
        ));
        assert_eq!(timer.deadline(), due);
        assert!(timer.fire(due, BOUNDS, &mut rng));
        assert!(timer.deadline() > due);
    }

    #[test]
    fn a_change_brings_back_the_minimum_interval() {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let mut timer = Trickle::new(Timestamp::ZERO);
        let mut now = Timestamp::ZERO;
        for _ in 0..8 {
            now = timer.deadline();
            timer.fire(now, BOUNDS, &mut rng);
        }
        assert!(timer.deadline() >= now + BOUNDS.max / 2);
        timer.reset(now, BOUNDS, &mut rng);
        assert!(timer.deadline() >= now + BOUNDS.min / 2);
        assert!(timer.deadline() < now + BOUNDS.min);
    }

    #[test]
    fn a_change_at_the_minimum_interval_keeps_the_exchange_already_drawn() {
        let mut rng = ChaCha20Rng::from_seed([4; 32]);
        let mut timer = Trickle::new(Timestamp::ZERO);
        timer.fire(Timestamp::ZERO, BOUNDS, &mut rng);
        let due = timer.deadline();
        timer.reset(Timestamp::from_millis(100), BOUNDS, &mut rng);
        assert_eq!(timer.deadline(), due);
    }

    #[test]
    fn a_host_that_calls_late_gets_one_exchange_and_a_fresh_interval() {
        let mut rng = ChaCha20Rng::from_seed([5; 32]);
        let mut timer = Trickle::new(Timestamp::ZERO);
        let late = Timestamp::from_secs(1_000);
        assert!(timer.fire(late, BOUNDS, &mut rng));
        // The next interval starts at `late`.
        assert!(timer.deadline() >= late + BOUNDS.min / 2);
        assert!(timer.deadline() < late + BOUNDS.min);
        assert!(!timer.fire(late, BOUNDS, &mut rng));
    }

    #[test]
    fn hurrying_only_brings_the_exchange_forward() {
        let mut rng = ChaCha20Rng::from_seed([6; 32]);
        let mut timer = Trickle::new(Timestamp::ZERO);
        timer.fire(Timestamp::ZERO, BOUNDS, &mut rng);
        let due = timer.deadline();
        timer.hurry(due + Duration::from_secs(5));
        assert_eq!(timer.deadline(), due);
        timer.hurry(Timestamp::from_millis(10));
        assert_eq!(timer.deadline(), Timestamp::from_millis(10));
    }
}
