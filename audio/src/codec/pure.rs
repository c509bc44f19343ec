//! The default codec: Opus in pure Rust (`opus-pure`), no C and no build script.

use opus_pure::{Application, OpusDecoder, OpusEncoder};

use super::{
    CodecConfig, CodecError, VoiceDecoder, VoiceEncoder, check_frame_length, check_packet,
};
use crate::{PcmFrame, SAMPLE_RATE_HZ, SAMPLES_PER_FRAME, SILENCE};

/// Opus encoder for call audio on `opus-pure`: 48 kHz mono, VOIP application.
#[derive(Debug)]
pub struct PureOpusEncoder {
    encoder: OpusEncoder,
    /// Scratch packet sized to the configured byte budget.
    packet: Vec<u8>,
}

impl PureOpusEncoder {
    /// An encoder with `config`'s settings.
    pub fn new(config: &CodecConfig) -> Result<Self, CodecError> {
        config.validate()?;
        let mut encoder = OpusEncoder::new(SAMPLE_RATE_HZ as i32, 1, Application::Voip)
            .map_err(|e| CodecError::Codec(e.to_string()))?;
        encoder.bitrate_bps = config.bitrate_bps as i32;
        encoder.use_inband_fec = config.inband_fec;
        encoder.packet_loss_perc = i32::from(config.packet_loss_perc);
        if let Some(complexity) = config.complexity {
            encoder.complexity = i32::from(complexity);
        }
        Ok(PureOpusEncoder {
            encoder,
            packet: vec![0; config.max_packet_bytes],
        })
    }

    /// The encoder's lookahead in samples, as `opus-pure` reports it
    /// ([`CODEC_DELAY_SAMPLES`](super::CODEC_DELAY_SAMPLES) for VOIP at 48 kHz).
    pub fn lookahead(&self) -> usize {
        self.encoder.lookahead()
    }
}

impl VoiceEncoder for PureOpusEncoder {
    fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, CodecError> {
        check_frame_length(pcm)?;
        let n = self
            .encoder
            .encode_s16(pcm, SAMPLES_PER_FRAME, &mut self.packet)
            .map_err(|e| CodecError::Codec(e.to_string()))?;
        Ok(self.packet[..n].to_vec())
    }
}

/// Opus decoder for call audio on `opus-pure`: 48 kHz mono (a stereo packet is down-mixed).
#[derive(Debug)]
pub struct PureOpusDecoder {
    decoder: OpusDecoder,
}

impl PureOpusDecoder {
    /// A decoder at 48 kHz mono.
    pub fn new() -> Result<Self, CodecError> {
        let decoder = OpusDecoder::new(SAMPLE_RATE_HZ as i32, 1)
            .map_err(|e| CodecError::Codec(e.to_string()))?;
        Ok(PureOpusDecoder { decoder })
    }

    /// Runs one decoder call into a fresh frame and checks it produced a whole frame.
    fn run(
        &mut self,
        call: impl FnOnce(&mut OpusDecoder, &mut PcmFrame) -> opus_pure::Result<usize>,
    ) -> Result<PcmFrame, CodecError> {
        let mut out = SILENCE;
        let n = call(&mut self.decoder, &mut out).map_err(|e| match e {
            opus_pure::Error::InvalidPacket(what) => CodecError::InvalidPacket(what.to_string()),
            other => CodecError::Codec(other.to_string()),
        })?;
        if n != SAMPLES_PER_FRAME {
            return Err(CodecError::WrongDuration { samples: n });
        }
        Ok(out)
    }
}

impl VoiceDecoder for PureOpusDecoder {
    fn decode(&mut self, packet: &[u8]) -> Result<PcmFrame, CodecError> {
        check_packet(packet)?;
        self.run(|d, out| d.decode_s16(packet, SAMPLES_PER_FRAME, out))
    }

    fn decode_fec(&mut self, next_packet: &[u8]) -> Result<PcmFrame, CodecError> {
        check_packet(next_packet)?;
        self.run(|d, out| d.decode_fec_s16(next_packet, SAMPLES_PER_FRAME, out))
    }

    fn conceal(&mut self) -> Result<PcmFrame, CodecError> {
        // An empty packet is opus-pure's (and libopus's) signal for a lost one.
        self.run(|d, out| d.decode_s16(&[], SAMPLES_PER_FRAME, out))
    }
}
