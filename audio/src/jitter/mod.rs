//! The adaptive jitter buffer: frames go in as the network delivers them, one slot comes out
//! per 20 ms tick.
//!
//! [`JitterBuffer::push`] takes a frame with its sequence number, timestamp and arrival time;
//! it reorders, drops duplicates, counts frames that come after their slot was played as late,
//! and refuses what it cannot hold. [`JitterBuffer::pop`] is called once per tick and says
//! what to play ([`Playout`]): the slot's frame, a recovery from the next frame's FEC, a
//! concealment, or nothing before playout has started.
//!
//! The playout delay follows measured jitter (a percentile of recent transit times above the
//! fastest, see `estimator`), within [`JitterConfig::min_delay`] and
//! [`JitterConfig::max_delay`], in whole frames: it grows by inserting one frame of
//! concealment, preferably while the slot's frame is missing anyway (waiting for it), and it
//! shrinks by skipping one slot, preferably one whose frame is missing (losing nothing).
//!
//! Time is [`Timestamp`] on the receiver's clock; a frame's media time is `seq * 20 ms` and its
//! timestamp must be `seq * 960` (wrapping), as Peerster calls send them. Sequence numbers do
//! not wrap (a call would have to last 2.7 years).

mod config;
mod estimator;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use config::{JitterConfig, JitterError, JitterStats};

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use peerster_core::Timestamp;

use crate::SAMPLES_PER_FRAME;
use config::FRAME;
use estimator::TransitWindow;

/// How many slots behind playout a frame is still recognised as late or duplicate rather
/// than refused.
const HISTORY_FRAMES: u64 = 128;

/// Arrivals the delay estimate needs before the buffer shrinks its delay (or a full window,
/// if the window is shorter).
const MIN_SAMPLES_TO_SHRINK: usize = 50;

/// What to play for one 20 ms tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Playout {
    /// Playout has not started: no frame yet, or the first one is still being held for the
    /// start delay. Play silence.
    Waiting,
    /// Decode and play frame `seq`.
    Play {
        /// The frame's sequence number.
        seq: u32,
        /// The frame as it arrived.
        frame: Vec<u8>,
    },
    /// Frame `seq` is missing but `seq + 1` is here: recover `seq` from the FEC in `next`
    /// (which stays buffered and plays at the next tick).
    Recover {
        /// The missing frame's sequence number.
        seq: u32,
        /// Frame `seq + 1`.
        next: Vec<u8>,
    },
    /// Nothing usable: conceal one frame. `seq` is the lost frame, or `None` for a frame
    /// inserted to grow the delay (the next slot is still to come).
    Conceal {
        /// The lost frame's sequence number, if this conceals a slot.
        seq: Option<u32>,
    },
}

/// What [`JitterBuffer::push`] did with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Buffered for its slot.
    Accepted,
    /// Already received: dropped.
    Duplicate,
    /// Its slot has been played: dropped (its timing still feeds the jitter estimate).
    Late,
    /// Not held (see [`JitterStats::refused`]).
    Refused,
}

/// The adaptive jitter buffer of one call direction. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    config: JitterConfig,
    /// Frames waiting for their slot, by sequence number.
    held: BTreeMap<u64, Vec<u8>>,
    /// Sequence numbers received in the recent past and the buffered future (duplicates).
    received: BTreeSet<u64>,
    /// The next slot to play, once playout has started.
    next_seq: Option<u64>,
    /// The first sequence number seen since the last (re)start: before playout, the anchor
    /// of the accepted range.
    anchor: Option<u64>,
    transit: TransitWindow,
    /// Consecutive ticks spent a frame above / below target.
    ticks_above: u32,
    ticks_below: u32,
    /// Consecutive frames refused as out of range: enough of them means the sender jumped.
    out_of_range_run: usize,
    /// The audio played last was quiet: a frame inserted or skipped now goes unheard.
    quiet: bool,
    stats: JitterStats,
}

impl JitterBuffer {
    /// An empty buffer.
    pub fn new(config: JitterConfig) -> Result<Self, JitterError> {
        config.validate()?;
        Ok(JitterBuffer {
            config,
            held: BTreeMap::new(),
            received: BTreeSet::new(),
            next_seq: None,
            anchor: None,
            transit: TransitWindow::new(config.window_frames, config.percentile),
            ticks_above: 0,
            ticks_below: 0,
            out_of_range_run: 0,
            quiet: true,
            stats: JitterStats {
                target_delay: config.start_delay,
                ..JitterStats::default()
            },
        })
    }

    /// What the buffer has done so far.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Frames currently held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether no frame is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Takes in frame `seq` with its `timestamp` (48 kHz samples, `seq * 960`) that arrived at
    /// `arrival`.
    pub fn push(&mut self, seq: u32, timestamp: u32, arrival: Timestamp, frame: &[u8]) -> Arrival {
        if frame.is_empty()
            || frame.len() > self.config.max_frame_bytes
            || timestamp != seq.wrapping_mul(SAMPLES_PER_FRAME as u32)
        {
            return self.refuse();
        }
        let seq = u64::from(seq);
        let max_ahead = self.config.max_frames as u64;
        let (low, high) = match (self.next_seq, self.anchor) {
            (Some(next), _) => (next.saturating_sub(HISTORY_FRAMES), next + max_ahead),
            (None, Some(anchor)) => (anchor.saturating_sub(max_ahead), anchor + max_ahead),
            (None, None) => (seq, seq + 1),
        };
        if seq < low || seq >= high {
            self.out_of_range_run += 1;
            if self.out_of_range_run >= self.config.max_frames {
                // The sender jumped (or we anchored on a stray frame): start over from here.
                self.restart();
                self.stats.resyncs += 1;
                return self.push(seq as u32, timestamp, arrival, frame);
            }
            return self.refuse();
        }
        self.out_of_range_run = 0;
        self.anchor.get_or_insert(seq);
        if self.received.contains(&seq) {
            self.stats.duplicate += 1;
            return Arrival::Duplicate;
        }
        if self.next_seq.is_some_and(|next| seq < next) {
            self.received.insert(seq);
            self.record_transit(seq, arrival);
            self.stats.late += 1;
            return Arrival::Late;
        }
        if self.held.len() >= self.config.max_frames {
            // Full: keep the frames that play soonest.
            match self.held.last_key_value() {
                Some((&last, _)) if last > seq => {
                    self.held.remove(&last);
                    self.received.remove(&last);
                    self.stats.refused += 1;
                }
                _ => return self.refuse(),
            }
        }
        self.held.insert(seq, frame.to_vec());
        self.received.insert(seq);
        self.record_transit(seq, arrival);
        self.stats.received += 1;
        Arrival::Accepted
    }

    /// Tells the buffer whether the audio it played last was quiet. With
    /// [`JitterConfig::adjust_in_silence`], the delay moves only then, unless the slot's frame
    /// is missing anyway: a frame of concealment inserted, or a frame skipped, in the middle of
    /// a word is heard.
    pub fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }

    /// What to play for the tick at `now`; call it once every 20 ms.
    pub fn pop(&mut self, now: Timestamp) -> Playout {
        let Some((base, spread)) = self.transit.base_and_spread() else {
            return Playout::Waiting;
        };
        let next = match self.next_seq {
            Some(next) => next,
            None => {
                let Some(&first) = self.held.keys().next() else {
                    return Playout::Waiting;
                };
                if delay_of(first, now, base) < micros(self.config.start_delay) {
                    return Playout::Waiting;
                }
                self.next_seq = Some(first);
                first
            }
        };
        let target = (spread.saturating_add(micros(self.config.headroom)))
            .clamp(micros(self.config.min_delay), micros(self.config.max_delay));
        self.stats.target_delay = Duration::from_micros(target.unsigned_abs());
        let delay = delay_of(next, now, base);
        let present = self.held.contains_key(&next);
        let may_adjust = self.quiet || !self.config.adjust_in_silence;

        // Grow: insert a frame of concealment, at once if the slot's frame is missing.
        if delay < target {
            self.ticks_below += 1;
            self.ticks_above = 0;
            if !present || (may_adjust && self.ticks_below > self.config.grow_hold_ticks) {
                self.ticks_below = 0;
                self.stats.inserted += 1;
                self.stats.playout_delay = to_duration(delay);
                return Playout::Conceal { seq: None };
            }
        } else {
            self.ticks_below = 0;
        }
        // Shrink: skip a slot, at once if its frame is missing.
        let mut next = next;
        let measured = self.transit.len() >= MIN_SAMPLES_TO_SHRINK.min(self.config.window_frames);
        if delay.saturating_sub(micros(FRAME)) >= target && measured {
            self.ticks_above += 1;
            if !present || (may_adjust && self.ticks_above > self.config.shrink_hold_ticks) {
                self.ticks_above = 0;
                self.held.remove(&next);
                self.stats.skipped += 1;
                next += 1;
            }
        } else {
            self.ticks_above = 0;
        }

        self.stats.playout_delay = to_duration(delay_of(next, now, base));
        self.next_seq = Some(next + 1);
        self.received = self
            .received
            .split_off(&(next + 1).saturating_sub(HISTORY_FRAMES));
        // Sequence numbers do not wrap: a slot past u32::MAX (after hours of concealment at the
        // very end of the range) can hold no frame, and has no number to report.
        let Ok(seq) = u32::try_from(next) else {
            self.stats.concealed += 1;
            return Playout::Conceal { seq: None };
        };
        if let Some(frame) = self.held.remove(&next) {
            self.stats.played += 1;
            Playout::Play { seq, frame }
        } else if let Some(frame) = self.held.get(&(next + 1)) {
            self.stats.recovered += 1;
            Playout::Recover {
                seq,
                next: frame.clone(),
            }
        } else {
            self.stats.concealed += 1;
            Playout::Conceal { seq: Some(seq) }
        }
    }

    /// Counts a refused frame.
    fn refuse(&mut self) -> Arrival {
        self.stats.refused += 1;
        Arrival::Refused
    }

    /// Records the transit time of frame `seq` arriving at `arrival`.
    fn record_transit(&mut self, seq: u64, arrival: Timestamp) {
        let arrival = i64::try_from(arrival.as_micros()).unwrap_or(i64::MAX);
        self.transit
            .record(arrival.saturating_sub(media_micros(seq)));
    }

    /// Forgets every frame and measurement, keeping the statistics.
    fn restart(&mut self) {
        self.held.clear();
        self.received.clear();
        self.next_seq = None;
        self.anchor = None;
        self.transit.clear();
        self.ticks_above = 0;
        self.ticks_below = 0;
        self.out_of_range_run = 0;
    }
}

/// Media time of frame `seq` in microseconds (`seq * 20 ms`; `seq` is below 2^33).
fn media_micros(seq: u64) -> i64 {
    i64::try_from(seq.saturating_mul(micros(FRAME) as u64)).unwrap_or(i64::MAX)
}

/// How long after its expected arrival (at the base transit) slot `seq` plays at `now`.
fn delay_of(seq: u64, now: Timestamp, base: i64) -> i64 {
    let now = i64::try_from(now.as_micros()).unwrap_or(i64::MAX);
    now.saturating_sub(media_micros(seq).saturating_add(base))
}

/// A duration in whole microseconds (all ours are far below i64::MAX).
fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A delay in microseconds as a duration, negative as zero.
fn to_duration(us: i64) -> Duration {
    Duration::from_micros(us.max(0).unsigned_abs())
}
