//! [`Clock`]: the runtime's monotonic clock, read as core [`Timestamp`]s.

use std::time::{Duration, Instant};

use peerster_core::Timestamp;

/// A monotonic clock whose epoch ([`Timestamp::ZERO`]) is the moment it was started.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    epoch: Instant,
}

impl Clock {
    /// Starts a clock at [`Timestamp::ZERO`].
    pub fn start() -> Clock {
        Clock {
            epoch: Instant::now(),
        }
    }

    /// The current time since the epoch.
    pub fn now(&self) -> Timestamp {
        let micros = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        Timestamp::from_micros(micros)
    }

    /// How long until `deadline`, or zero if it has passed.
    pub fn until(&self, deadline: Timestamp) -> Duration {
        deadline.saturating_since(self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_moves_forward_and_past_deadlines_are_due_now() {
        let clock = Clock::start();
        let earlier = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert!(clock.now() > earlier);
        assert_eq!(clock.until(earlier), Duration::ZERO);
        assert!(clock.until(Timestamp::MAX) > Duration::from_secs(3600));
    }
}
