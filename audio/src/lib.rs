#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! `peerster-audio`: turns voice into the fixed 20 ms frames a Peerster call carries, and back.
//!
//! `core` carries each voice frame as opaque bytes with a sequence number (consecutive from 0
//! per call direction) and a timestamp (48 kHz samples since the call started, so
//! `seq * 960`). This crate owns everything on either side of that: the Opus codec, the jitter
//! buffer that turns lossy, late, reordered and duplicated frames into a steady 20 ms tick of
//! audio, WAV files for tooling and (behind a feature) the audio devices.
//!
//! ```
//! use peerster_audio::{CallReceiver, CallSender, CodecConfig, JitterConfig, PlayedFrom};
//! use peerster_core::Timestamp;
//! use std::time::Duration;
//!
//! let mut sender = CallSender::new(&CodecConfig::default())?;
//! let mut receiver = CallReceiver::new(JitterConfig::default())?;
//! let voice = peerster_audio::signal::synthetic_voice(50 * 960, 1);
//! let tick = Duration::from_millis(20);
//! let mut now = Timestamp::from_secs(1);
//! for pcm in peerster_audio::frames_of(&voice) {
//!     let frame = sender.encode(&pcm)?; // hand frame.bytes, seq, timestamp to core
//!     receiver.push(now, frame.seq, frame.timestamp, &frame.bytes); // as core delivers them
//!     let out = receiver.pull(now); // every 20 ms: exactly 960 samples for the speaker
//!     assert_eq!(out.samples.len(), 960);
//!     now += tick;
//! }
//! assert!(receiver.stats().jitter.played > 40);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Modules
//!
//! | module | what it does |
//! |---|---|
//! | [`codec`] | the [`VoiceEncoder`] / [`VoiceDecoder`] traits, pure-Rust Opus (`opus-pure`) and, with feature `libopus`, libopus |
//! | [`jitter`] | the adaptive [`JitterBuffer`]: reorders, drops duplicates and late frames, picks FEC or concealment, adapts its delay |
//! | [`pipeline`] | [`CallSender`] (PCM → numbered frames) and [`CallReceiver`] (frames → 960 samples per tick, with stats) |
//! | [`wav`] | 48 kHz mono 16-bit WAV files in and out |
//! | [`signal`] | a synthetic voiced signal and the measures tests and benchmarks use |
//! | `device` | (feature `device`) default microphone and speaker through `cpal` |
pub mod codec;
#[cfg(feature = "device")]
pub mod device;
pub mod jitter;
pub mod pipeline;
pub mod signal;
pub mod wav;

pub use codec::{
    CODEC_DELAY_SAMPLES, CodecConfig, CodecError, PureOpusDecoder, PureOpusEncoder, VoiceDecoder,
    VoiceEncoder,
};
pub use jitter::{Arrival, JitterBuffer, JitterConfig, JitterError, JitterStats, Playout};
pub use pipeline::{
    CallReceiver, CallSender, EncodedFrame, PlayedFrom, Pulled, ReceiverError, ReceiverStats,
};

/// Sample rate of call audio, in hertz.
pub const SAMPLE_RATE_HZ: u32 = 48_000;

/// Duration of one voice frame, in milliseconds.
pub const FRAME_MS: u32 = 20;

/// Mono samples in one voice frame.
pub const SAMPLES_PER_FRAME: usize = (SAMPLE_RATE_HZ / 1_000 * FRAME_MS) as usize;

/// One 20 ms frame of 48 kHz mono 16-bit audio.
pub type PcmFrame = [i16; SAMPLES_PER_FRAME];

/// A frame of silence.
pub const SILENCE: PcmFrame = [0; SAMPLES_PER_FRAME];

/// Cuts `samples` into whole 20 ms frames, padding the last one with silence.
pub fn frames_of(samples: &[i16]) -> impl Iterator<Item = PcmFrame> + '_ {
    samples.chunks(SAMPLES_PER_FRAME).map(|chunk| {
        let mut frame = SILENCE;
        frame[..chunk.len()].copy_from_slice(chunk);
        frame
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_960_samples() {
        assert_eq!(SAMPLES_PER_FRAME, 960);
    }

    #[test]
    fn frames_of_pads_the_last_frame_with_silence() {
        let samples: Vec<i16> = (1..=2_000).map(|i| i as i16).collect();
        let frames: Vec<PcmFrame> = frames_of(&samples).collect();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[1][0], 961);
        assert_eq!(frames[2][79], 2_000);
        assert_eq!(frames[2][80], 0);
    }
}
