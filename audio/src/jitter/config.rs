//! The jitter buffer's settings and what it counts.

use std::time::Duration;

use crate::FRAME_MS;

/// Duration of one frame slot.
pub(crate) const FRAME: Duration = Duration::from_millis(FRAME_MS as u64);

/// Settings of a [`JitterBuffer`](super::JitterBuffer): delay bounds, how jitter is measured,
/// how fast the delay moves, and the memory bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitterConfig {
    /// The playout delay never adapts below this. Default 20 ms.
    pub min_delay: Duration,
    /// The playout delay never adapts above this. Default 200 ms.
    pub max_delay: Duration,
    /// Delay before the first frame plays, while there is no measure of jitter yet.
    /// Default 60 ms.
    pub start_delay: Duration,
    /// Margin added to the measured spread of transit times. Default 5 ms.
    pub headroom: Duration,
    /// Share of recent frames, in percent, that the delay should let arrive in time.
    /// Default 100: a call over the anonymous relay has few frames, and a late one is heard
    /// (at 97 or 99, PESQ through a simulated call fell by up to 0.3 for some seeds).
    pub percentile: u8,
    /// Recent arrivals the jitter is measured over. Default 150 (3 s).
    pub window_frames: usize,
    /// Ticks the delay must stay a frame above target before a frame that did arrive is
    /// skipped to shrink it (a missing one is skipped at once). Default 25 (0.5 s).
    pub shrink_hold_ticks: u32,
    /// Ticks the delay must stay below target before a frame of concealment is inserted in
    /// front of a frame that did arrive (in front of a missing one it is inserted at once).
    /// Default 2.
    pub grow_hold_ticks: u32,
    /// Most frames held at once; also how far ahead of playout a sequence number may be.
    /// Default 64 (1.28 s).
    pub max_frames: usize,
    /// Largest frame accepted, in bytes. Default 1275 (the largest Opus packet).
    pub max_frame_bytes: usize,
    /// Move the delay (insert or skip a frame that did arrive) only while the audio is quiet
    /// ([`JitterBuffer::set_quiet`](super::JitterBuffer::set_quiet)), between words, where it
    /// goes unheard. Default on.
    pub adjust_in_silence: bool,
}

impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            start_delay: Duration::from_millis(60),
            headroom: Duration::from_millis(5),
            percentile: 100,
            window_frames: 150,
            shrink_hold_ticks: 25,
            grow_hold_ticks: 2,
            max_frames: 64,
            max_frame_bytes: 1275,
            adjust_in_silence: true,
        }
    }
}

/// A jitter buffer setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JitterError {
    /// The setting named is out of range.
    #[error("invalid jitter buffer setting: {0}")]
    InvalidConfig(&'static str),
}

impl JitterConfig {
    /// Checks that the settings are consistent.
    pub fn validate(&self) -> Result<(), JitterError> {
        let bad = |what| Err(JitterError::InvalidConfig(what));
        if self.min_delay > self.start_delay || self.start_delay > self.max_delay {
            return bad("need min_delay <= start_delay <= max_delay");
        }
        if self.max_delay > Duration::from_secs(10) {
            return bad("max_delay must be at most 10 s");
        }
        if self.percentile > 100 {
            return bad("percentile must be 0 to 100");
        }
        if self.window_frames == 0 || self.window_frames > 10_000 {
            return bad("window_frames must be 1 to 10000");
        }
        // The buffer must be able to hold a whole maximum delay's worth of frames, plus one.
        let delay_frames = self.max_delay.as_micros() / FRAME.as_micros();
        if (self.max_frames as u128) <= delay_frames || self.max_frames > 10_000 {
            return bad("max_frames must exceed max_delay / 20 ms and be at most 10000");
        }
        if self.max_frame_bytes == 0 {
            return bad("max_frame_bytes must be positive");
        }
        Ok(())
    }
}

/// What a jitter buffer has done since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Frames accepted into the buffer, in time or not.
    pub received: u64,
    /// Slots played from their own frame.
    pub played: u64,
    /// Slots whose frame was missing but recovered from the next frame's FEC.
    pub recovered: u64,
    /// Slots whose frame and next frame were both missing: concealed.
    pub concealed: u64,
    /// Frames of concealment inserted to grow the delay.
    pub inserted: u64,
    /// Slots skipped to shrink the delay (the frame, if it had arrived, is dropped).
    pub skipped: u64,
    /// Frames that arrived after their slot was played.
    pub late: u64,
    /// Frames that had already arrived.
    pub duplicate: u64,
    /// Frames refused: empty or too long, inconsistent timestamp, sequence number too far
    /// ahead or behind, or buffer full.
    pub refused: u64,
    /// Times the buffer restarted on a sender that jumped far in sequence numbers.
    pub resyncs: u64,
    /// Playout delay of the last slot: how long after the fastest recent frame's pace it
    /// played.
    pub playout_delay: Duration,
    /// The delay the buffer is adapting towards.
    pub target_delay: Duration,
}
