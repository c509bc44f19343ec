//! Both ends of one call direction: [`CallSender`] numbers and encodes 20 ms frames of the
//! microphone, [`CallReceiver`] buffers what the network delivers and gives the speaker exactly
//! 960 samples per 20 ms tick.
//!
//! The host moves [`EncodedFrame`]s through `core` (which carries `seq`, `timestamp` and the
//! bytes) and calls [`CallReceiver::pull`] on a steady 20 ms tick. [`Pulled::from`] says which
//! frame each tick played, so the host can measure mouth-to-ear latency: frame `seq` was
//! captured `seq * 20 ms` after the call started.

#[cfg(test)]
mod tests;

use peerster_core::Timestamp;

use crate::codec::{
    CodecConfig, CodecError, PureOpusDecoder, PureOpusEncoder, VoiceDecoder, VoiceEncoder,
};
use crate::jitter::{Arrival, JitterBuffer, JitterConfig, JitterError, JitterStats, Playout};
use crate::{PcmFrame, SAMPLES_PER_FRAME, SILENCE};

/// One encoded voice frame, as `core` carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedFrame {
    /// Sequence number, consecutive from 0 in this call direction.
    pub seq: u32,
    /// Media time in 48 kHz samples since the call started: `seq * 960`.
    pub timestamp: u32,
    /// The Opus packet.
    pub bytes: Vec<u8>,
}

/// The sending end of a call: PCM frames in, numbered Opus frames out.
#[derive(Debug)]
pub struct CallSender<E: VoiceEncoder = PureOpusEncoder> {
    encoder: E,
    next_seq: u32,
}

impl CallSender<PureOpusEncoder> {
    /// A sender on the default (pure-Rust) Opus encoder.
    pub fn new(config: &CodecConfig) -> Result<Self, CodecError> {
        Ok(CallSender::with_encoder(PureOpusEncoder::new(config)?))
    }
}

impl<E: VoiceEncoder> CallSender<E> {
    /// A sender on `encoder`.
    pub fn with_encoder(encoder: E) -> Self {
        CallSender {
            encoder,
            next_seq: 0,
        }
    }

    /// Encodes the next 20 ms of audio (exactly [`SAMPLES_PER_FRAME`] samples) as the next
    /// frame of the call. A frame that fails to encode takes no sequence number.
    pub fn encode(&mut self, pcm: &[i16]) -> Result<EncodedFrame, CodecError> {
        let bytes = self.encoder.encode(pcm)?;
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        Ok(EncodedFrame {
            seq,
            timestamp: seq.wrapping_mul(SAMPLES_PER_FRAME as u32),
            bytes,
        })
    }

    /// The sequence number the next frame will carry.
    pub fn next_seq(&self) -> u32 {
        self.next_seq
    }
}

/// Where the audio of one tick came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlayedFrom {
    /// Playout has not started: silence.
    Silence,
    /// Frame `seq` itself.
    Frame {
        /// Its sequence number.
        seq: u32,
    },
    /// Frame `seq` was missing and was recovered from the next frame's FEC.
    Fec {
        /// The recovered frame's sequence number.
        seq: u32,
    },
    /// Packet-loss concealment: for lost frame `seq`, for a frame that would not decode, or
    /// (`None`) inserted to grow the playout delay.
    Concealed {
        /// The lost frame's sequence number, if this tick stands for one.
        seq: Option<u32>,
    },
}

impl PlayedFrom {
    /// The frame this tick stands for, if any: its capture time plus the mouth-to-ear
    /// latency is now.
    pub fn seq(&self) -> Option<u32> {
        match *self {
            PlayedFrom::Frame { seq } | PlayedFrom::Fec { seq } => Some(seq),
            PlayedFrom::Concealed { seq } => seq,
            PlayedFrom::Silence => None,
        }
    }
}

/// The audio of one tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pulled {
    /// 20 ms of audio for the speaker.
    pub samples: PcmFrame,
    /// Where it came from.
    pub from: PlayedFrom,
}

/// What a receiver has done since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    /// The jitter buffer's counts and delays.
    pub jitter: JitterStats,
    /// Frames (or FEC) that did not decode and were concealed instead.
    pub decode_errors: u64,
}

/// Why a receiver could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// The decoder could not be created.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The jitter buffer settings are inconsistent.
    #[error(transparent)]
    Jitter(#[from] JitterError),
}

/// The receiving end of a call: frames in as they arrive, 960 samples out per 20 ms tick.
#[derive(Debug)]
pub struct CallReceiver<D: VoiceDecoder = PureOpusDecoder> {
    buffer: JitterBuffer,
    decoder: D,
    decode_errors: u64,
    /// Quiet ticks played in a row.
    quiet_ticks: u32,
}

impl CallReceiver<PureOpusDecoder> {
    /// A receiver on the default (pure-Rust) Opus decoder.
    pub fn new(config: JitterConfig) -> Result<Self, ReceiverError> {
        Ok(CallReceiver::with_decoder(PureOpusDecoder::new()?, config)?)
    }
}

impl<D: VoiceDecoder> CallReceiver<D> {
    /// A receiver on `decoder`.
    pub fn with_decoder(decoder: D, config: JitterConfig) -> Result<Self, JitterError> {
        Ok(CallReceiver {
            buffer: JitterBuffer::new(config)?,
            decoder,
            decode_errors: 0,
            quiet_ticks: 0,
        })
    }

    /// Takes in a frame that `core` delivered at `now`.
    pub fn push(&mut self, now: Timestamp, seq: u32, timestamp: u32, bytes: &[u8]) -> Arrival {
        self.buffer.push(seq, timestamp, now, bytes)
    }

    /// The 20 ms of audio for the tick at `now`; call it every 20 ms.
    pub fn pull(&mut self, now: Timestamp) -> Pulled {
        let pulled = self.pull_slot(now);
        self.quiet_ticks = if is_quiet(&pulled.samples) {
            self.quiet_ticks.saturating_add(1)
        } else {
            0
        };
        self.buffer.set_quiet(self.quiet_ticks >= QUIET_TICKS);
        pulled
    }

    fn pull_slot(&mut self, now: Timestamp) -> Pulled {
        let (decoded, from) = match self.buffer.pop(now) {
            Playout::Waiting => return silence(),
            Playout::Play { seq, frame } => {
                (self.decoder.decode(&frame), PlayedFrom::Frame { seq })
            }
            Playout::Recover { seq, next } => {
                (self.decoder.decode_fec(&next), PlayedFrom::Fec { seq })
            }
            Playout::Conceal { seq } => match self.decoder.conceal() {
                Ok(samples) => {
                    return Pulled {
                        samples,
                        from: PlayedFrom::Concealed { seq },
                    };
                }
                Err(_) => return silence(),
            },
        };
        match decoded {
            Ok(samples) => Pulled { samples, from },
            Err(_) => {
                self.decode_errors += 1;
                let seq = from.seq();
                let samples = self.decoder.conceal().unwrap_or(SILENCE);
                Pulled {
                    samples,
                    from: PlayedFrom::Concealed { seq },
                }
            }
        }
    }

    /// What the receiver has done so far.
    pub fn stats(&self) -> ReceiverStats {
        ReceiverStats {
            jitter: self.buffer.stats(),
            decode_errors: self.decode_errors,
        }
    }
}

/// Ticks of quiet audio in a row after which the delay may move: a pause between words, not
/// the quiet start of one.
const QUIET_TICKS: u32 = 3;

/// Audio below this RMS level (about -40 dBFS) is quiet: the jitter buffer may move its
/// delay there unheard.
const QUIET_RMS: f64 = 328.0;

/// Whether `samples` are quiet.
fn is_quiet(samples: &[i16]) -> bool {
    let energy: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (energy / samples.len().max(1) as f64).sqrt() < QUIET_RMS
}

/// A tick of silence before playout starts.
fn silence() -> Pulled {
    Pulled {
        samples: SILENCE,
        from: PlayedFrom::Silence,
    }
}
