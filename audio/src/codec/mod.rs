//! The voice codec: 20 ms frames of 48 kHz mono PCM to Opus packets and back.
//!
//! Two traits, so that the pipeline does not care which Opus it runs: [`VoiceEncoder`] and
//! [`VoiceDecoder`]. [`PureOpusEncoder`] / [`PureOpusDecoder`] (the pure-Rust `opus-pure`
//! crate) are the default; with feature `libopus`, `LibopusEncoder` / `LibopusDecoder` run
//! the reference C library. Both are configured by one [`CodecConfig`] and speak the same
//! bitstream, so either side of a call may use either.
//!
//! Every packet a decoder accepts must hold exactly one 20 ms frame: the bytes come from the
//! network, and anything else (garbage, a 10 ms or a 60 ms packet) is a [`CodecError`], never
//! a panic and never a partial frame.

mod pure;
pub use pure::{PureOpusDecoder, PureOpusEncoder};

#[cfg(feature = "libopus")]
mod libopus;
#[cfg(feature = "libopus")]
pub use libopus::{LibopusDecoder, LibopusEncoder};

#[cfg(test)]
pub(crate) mod tests;

use crate::{PcmFrame, SAMPLES_PER_FRAME};

/// The encoder's algorithmic delay in samples at 48 kHz for the VOIP application (Opus's
/// lookahead, 6.5 ms): decoded audio trails the encoder's input by this much. The codec tests
/// measure it by cross-correlation for both implementations.
pub const CODEC_DELAY_SAMPLES: usize = 312;

/// The largest Opus packet (RFC 6716, 3.4: R1 to R4): longer input is not one Opus frame.
pub const MAX_OPUS_PACKET_BYTES: usize = 1275;

/// Encoder settings shared by every implementation. Channels (mono), rate (48 kHz), frame
/// (20 ms) and application (VOIP) are fixed by the call format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodecConfig {
    /// Target bitrate in bits per second (Opus allows 500 to 512 000). Default 24 000.
    pub bitrate_bps: u32,
    /// Code a low-rate copy of each frame into the next packet so that a single lost frame
    /// can be recovered ([`VoiceDecoder::decode_fec`]). Default on.
    pub inband_fec: bool,
    /// The loss rate the encoder should expect, 0 to 100 percent: how defensively it codes and
    /// whether FEC is worth its bits. Default 10.
    pub packet_loss_perc: u8,
    /// Encoder complexity 0 to 10, or `None` for the codec's default (9).
    pub complexity: Option<u8>,
    /// Byte budget of one packet: the encoder codes a smaller packet rather than exceed it, so
    /// every frame fits the call's voice payload. Default 128 (51 kbit/s peak, what one frame
    /// of a `core` voice packet holds); at least 2 and at most [`MAX_OPUS_PACKET_BYTES`].
    pub max_packet_bytes: usize,
}

impl Default for CodecConfig {
    fn default() -> Self {
        CodecConfig {
            bitrate_bps: 24_000,
            inband_fec: true,
            packet_loss_perc: 10,
            complexity: None,
            max_packet_bytes: 128,
        }
    }
}

impl CodecConfig {
    /// Checks every setting against the range Opus accepts.
    pub fn validate(&self) -> Result<(), CodecError> {
        if !(500..=512_000).contains(&self.bitrate_bps) {
            return Err(CodecError::InvalidConfig(
                "bitrate_bps must be 500 to 512000",
            ));
        }
        if self.packet_loss_perc > 100 {
            return Err(CodecError::InvalidConfig(
                "packet_loss_perc must be 0 to 100",
            ));
        }
        if self.complexity.is_some_and(|c| c > 10) {
            return Err(CodecError::InvalidConfig("complexity must be 0 to 10"));
        }
        if !(2..=MAX_OPUS_PACKET_BYTES).contains(&self.max_packet_bytes) {
            return Err(CodecError::InvalidConfig(
                "max_packet_bytes must be 2 to 1275",
            ));
        }
        Ok(())
    }
}

/// What can go wrong encoding or decoding a voice frame.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    /// A setting is outside what Opus accepts.
    #[error("invalid codec setting: {0}")]
    InvalidConfig(&'static str),
    /// The encoder was handed a number of samples other than one frame.
    #[error("a voice frame holds {expected} samples, got {got}")]
    WrongFrameLength {
        /// Samples in a frame ([`SAMPLES_PER_FRAME`]).
        expected: usize,
        /// Samples given.
        got: usize,
    },
    /// The packet is empty: a lost frame is [`VoiceDecoder::conceal`], not an empty packet.
    #[error("empty voice packet")]
    EmptyPacket,
    /// The packet is longer than any Opus packet.
    #[error("voice packet of {0} bytes is longer than any Opus packet")]
    PacketTooLong(usize),
    /// The packet parses as Opus but does not hold exactly one 20 ms frame.
    #[error("voice packet holds {samples} samples at 48 kHz, not one 20 ms frame")]
    WrongDuration {
        /// Samples (at 48 kHz) the packet holds.
        samples: usize,
    },
    /// The bytes are not a valid Opus packet.
    #[error("invalid Opus packet: {0}")]
    InvalidPacket(String),
    /// The codec failed on valid input (a bug in the codec library).
    #[error("codec failure: {0}")]
    Codec(String),
}

/// Turns 20 ms frames of PCM into Opus packets.
pub trait VoiceEncoder {
    /// Encodes one frame of exactly [`SAMPLES_PER_FRAME`] samples into one packet.
    fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, CodecError>;
}

/// Turns Opus packets back into 20 ms frames of PCM, and fills in for the ones that never
/// arrived.
pub trait VoiceDecoder {
    /// Decodes one packet holding one 20 ms frame.
    fn decode(&mut self, packet: &[u8]) -> Result<PcmFrame, CodecError>;

    /// Recovers the lost frame *before* `next_packet` from the low-rate copy the encoder put
    /// in it (in-band FEC), or conceals it if `next_packet` carries none. Afterwards decode
    /// `next_packet` itself as usual.
    fn decode_fec(&mut self, next_packet: &[u8]) -> Result<PcmFrame, CodecError>;

    /// Packet-loss concealment: makes up one frame from what was decoded before.
    fn conceal(&mut self) -> Result<PcmFrame, CodecError>;
}

/// Checks that `pcm` is one frame.
fn check_frame_length(pcm: &[i16]) -> Result<(), CodecError> {
    if pcm.len() == SAMPLES_PER_FRAME {
        Ok(())
    } else {
        Err(CodecError::WrongFrameLength {
            expected: SAMPLES_PER_FRAME,
            got: pcm.len(),
        })
    }
}

/// Checks, without decoding, that `packet` is one 20 ms Opus packet (parsed by `opus-pure`'s
/// packet inspector, which both implementations use so that they refuse the same bytes).
fn check_packet(packet: &[u8]) -> Result<(), CodecError> {
    if packet.is_empty() {
        return Err(CodecError::EmptyPacket);
    }
    if packet.len() > MAX_OPUS_PACKET_BYTES {
        return Err(CodecError::PacketTooLong(packet.len()));
    }
    let samples = opus_pure::packet::samples_48k(packet)
        .map_err(|e| CodecError::InvalidPacket(e.to_string()))?;
    if samples != SAMPLES_PER_FRAME {
        return Err(CodecError::WrongDuration { samples });
    }
    Ok(())
}
