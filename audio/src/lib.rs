#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! `peerster-audio`: turns voice into the fixed 20 ms frames a Peerster call carries, and back.
//!
//! `core` treats voice frames as opaque bytes; this crate owns the codec (Opus), the jitter
//! buffer and (behind a feature) the audio devices. For now it fixes the frame format every
//! part of a call agrees on.

/// Sample rate of call audio, in hertz.
pub const SAMPLE_RATE_HZ: u32 = 48_000;

/// Duration of one voice frame, in milliseconds.
pub const FRAME_MS: u32 = 20;

/// Mono samples in one voice frame.
pub const SAMPLES_PER_FRAME: usize = (SAMPLE_RATE_HZ / 1_000 * FRAME_MS) as usize;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_960_samples() {
        assert_eq!(SAMPLES_PER_FRAME, 960);
    }
}
