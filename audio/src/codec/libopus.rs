//! The reference codec: libopus through the `opus` crate (feature `libopus`; the crate builds
//! libopus 1.6 from source and needs `cmake`).

use opus::{Application, Bitrate, Channels, Decoder, Encoder, ErrorCode};

use super::{
    CodecConfig, CodecError, VoiceDecoder, VoiceEncoder, check_frame_length, check_packet,
};
use crate::{PcmFrame, SAMPLE_RATE_HZ, SAMPLES_PER_FRAME, SILENCE};

/// Maps a libopus error to ours.
fn codec_error(e: opus::Error) -> CodecError {
    match e.code() {
        ErrorCode::InvalidPacket => CodecError::InvalidPacket(e.to_string()),
        _ => CodecError::Codec(e.to_string()),
    }
}

/// Opus encoder for call audio on libopus: 48 kHz mono, VOIP application.
#[derive(Debug)]
pub struct LibopusEncoder {
    encoder: Encoder,
    /// Scratch packet sized to the configured byte budget.
    packet: Vec<u8>,
}

impl LibopusEncoder {
    /// An encoder with `config`'s settings.
    pub fn new(config: &CodecConfig) -> Result<Self, CodecError> {
        config.validate()?;
        let mut encoder =
            Encoder::new(SAMPLE_RATE_HZ, Channels::Mono, Application::Voip).map_err(codec_error)?;
        encoder
            .set_bitrate(Bitrate::Bits(config.bitrate_bps as i32))
            .map_err(codec_error)?;
        encoder
            .set_inband_fec(config.inband_fec)
            .map_err(codec_error)?;
        encoder
            .set_packet_loss_perc(i32::from(config.packet_loss_perc))
            .map_err(codec_error)?;
        if let Some(complexity) = config.complexity {
            encoder
                .set_complexity(i32::from(complexity))
                .map_err(codec_error)?;
        }
        Ok(LibopusEncoder {
            encoder,
            packet: vec![0; config.max_packet_bytes],
        })
    }

    /// The encoder's lookahead in samples, as libopus reports it (`OPUS_GET_LOOKAHEAD`).
    pub fn lookahead(&mut self) -> Result<usize, CodecError> {
        let samples = self.encoder.get_lookahead().map_err(codec_error)?;
        usize::try_from(samples).map_err(|_| CodecError::Codec("negative lookahead".into()))
    }
}

impl VoiceEncoder for LibopusEncoder {
    fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, CodecError> {
        check_frame_length(pcm)?;
        let n = self
            .encoder
            .encode(pcm, &mut self.packet)
            .map_err(codec_error)?;
        Ok(self.packet[..n].to_vec())
    }
}

/// Opus decoder for call audio on libopus: 48 kHz mono (a stereo packet is down-mixed).
#[derive(Debug)]
pub struct LibopusDecoder {
    decoder: Decoder,
}

impl LibopusDecoder {
    /// A decoder at 48 kHz mono.
    pub fn new() -> Result<Self, CodecError> {
        let decoder = Decoder::new(SAMPLE_RATE_HZ, Channels::Mono).map_err(codec_error)?;
        Ok(LibopusDecoder { decoder })
    }

    /// Decodes `packet` (empty: conceal) into a fresh frame and checks it is a whole frame.
    fn run(&mut self, packet: &[u8], fec: bool) -> Result<PcmFrame, CodecError> {
        let mut out = SILENCE;
        let n = self
            .decoder
            .decode(packet, &mut out, fec)
            .map_err(codec_error)?;
        if n != SAMPLES_PER_FRAME {
            return Err(CodecError::WrongDuration { samples: n });
        }
        Ok(out)
    }
}

impl VoiceDecoder for LibopusDecoder {
    fn decode(&mut self, packet: &[u8]) -> Result<PcmFrame, CodecError> {
        check_packet(packet)?;
        self.run(packet, false)
    }

    fn decode_fec(&mut self, next_packet: &[u8]) -> Result<PcmFrame, CodecError> {
        check_packet(next_packet)?;
        self.run(next_packet, true)
    }

    fn conceal(&mut self) -> Result<PcmFrame, CodecError> {
        self.run(&[], false)
    }
}
