//! The clock of cover traffic: with `Config::cover_rate` set, a member sends that many
//! realtime packets on its stem every second, voice when it has some and a dummy in each tick
//! it has none, so that its rate of realtime packets does not change when it talks.

use std::time::Duration;

use crate::time::Timestamp;

/// Where the cover clock stands.
#[derive(Debug, Default)]
pub(crate) struct Cover {
    /// The end of the current tick; `None` until the clock starts.
    tick_end: Option<Timestamp>,
    /// This member sent voice in the current tick.
    voice_in_tick: bool,
}

impl Cover {
    /// Records that this member sent a voice packet.
    pub(crate) fn voice_sent(&mut self) {
        self.voice_in_tick = true;
    }

    /// How many dummies are due by `now` at `rate` packets per second: one for each tick that
    /// ended without voice. After a pause longer than a tick (a host that did not call in
    /// time) the clock restarts rather than sending a burst.
    pub(crate) fn due(&mut self, now: Timestamp, rate: u32) -> u32 {
        if rate == 0 {
            self.tick_end = None;
            return 0;
        }
        let tick = Duration::from_nanos(1_000_000_000 / u64::from(rate));
        let Some(mut end) = self.tick_end else {
            self.tick_end = Some(now + tick);
            return 0;
        };
        let mut dummies = 0;
        while end <= now {
            if !self.voice_in_tick {
                dummies += 1;
            }
            self.voice_in_tick = false;
            end += tick;
            if end + tick <= now {
                // Far behind: skip ahead.
                end = now + tick;
            }
        }
        self.tick_end = Some(end);
        dummies
    }

    /// When the current tick ends, if the clock runs.
    pub(crate) fn next_deadline(&self) -> Option<Timestamp> {
        self.tick_end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dummy_goes_in_each_tick_without_voice() {
        let mut cover = Cover::default();
        let ms = Timestamp::from_millis;
        assert_eq!(cover.due(ms(0), 50), 0, "the clock starts");
        assert_eq!(cover.next_deadline(), Some(ms(20)));
        assert_eq!(cover.due(ms(20), 50), 1);
        cover.voice_sent();
        assert_eq!(cover.due(ms(40), 50), 0, "voice filled the tick");
        assert_eq!(cover.due(ms(60), 50), 1);
        assert_eq!(cover.due(ms(10_000), 50), 1, "no burst after a pause");
        assert_eq!(cover.due(ms(10_020), 0), 0);
        assert_eq!(cover.next_deadline(), None, "off");
    }
}
