//! Codec tests: fidelity on a synthetic voice, the measured delay, FEC against silence and
//! concealment, and refusal of bytes that are not one 20 ms Opus frame.

use proptest::prelude::*;

use super::*;
use crate::signal::{best_lag, correlation, energy, synthetic_voice};
use crate::{SILENCE, frames_of};

/// Two seconds of voice.
const VOICE_LEN: usize = 100 * SAMPLES_PER_FRAME;
/// How far the delay found by waveform matching may sit from the nominal lookahead: the
/// resamplers and filters inside the codec shift the best match by a few samples (0.1 ms).
const DELAY_TOLERANCE: usize = 4;
/// Frames skipped at the start of a comparison while the encoder settles.
const SETTLE: usize = 5 * SAMPLES_PER_FRAME;

/// Encodes `input` frame by frame.
pub(crate) fn encode_all(encoder: &mut dyn VoiceEncoder, input: &[i16]) -> Vec<Vec<u8>> {
    frames_of(input)
        .map(|pcm| encoder.encode(&pcm).expect("a whole frame encodes"))
        .collect()
}

/// Decodes every packet and concatenates the audio.
pub(crate) fn decode_all(decoder: &mut dyn VoiceDecoder, packets: &[Vec<u8>]) -> Vec<i16> {
    packets
        .iter()
        .flat_map(|p| decoder.decode(p).expect("our own packet decodes"))
        .collect()
}

/// Checks that `output` is `input` delayed by the codec: the delay found by lag search is
/// [`CODEC_DELAY_SAMPLES`] (within a sample) and the aligned correlation is high.
pub(crate) fn assert_faithful(input: &[i16], output: &[i16], what: &str) {
    let reference = &input[SETTLE..input.len() - 2 * SAMPLES_PER_FRAME];
    let (lag, corr) = best_lag(reference, &output[SETTLE..], 2 * SAMPLES_PER_FRAME);
    eprintln!("{what}: delay {lag} samples, correlation {corr:.3}");
    assert!(
        lag.abs_diff(CODEC_DELAY_SAMPLES) <= DELAY_TOLERANCE,
        "{what}: delay {lag}, expected {CODEC_DELAY_SAMPLES}"
    );
    assert!(corr > 0.8, "{what}: correlation {corr:.3} after alignment");
    let aligned = &output[SETTLE + lag..SETTLE + lag + reference.len()];
    let ratio = energy(aligned) / energy(reference);
    assert!(
        (0.5..2.0).contains(&ratio),
        "{what}: energy ratio {ratio:.2}"
    );
}

#[test]
fn voice_survives_a_round_trip_at_the_stated_delay() {
    let input = synthetic_voice(VOICE_LEN, 1);
    let config = CodecConfig::default();
    let mut encoder = PureOpusEncoder::new(&config).unwrap();
    assert_eq!(encoder.lookahead(), CODEC_DELAY_SAMPLES);
    let packets = encode_all(&mut encoder, &input);
    let bytes: usize = packets.iter().map(Vec::len).sum();
    let kbps = bytes as f64 * 8.0 / 2.0 / 1_000.0;
    assert!(
        (12.0..40.0).contains(&kbps),
        "{kbps:.1} kbit/s for a 24 kbit/s target"
    );
    assert!(packets.iter().all(|p| p.len() <= config.max_packet_bytes));
    let output = decode_all(&mut PureOpusDecoder::new().unwrap(), &packets);
    assert_eq!(output.len(), input.len());
    assert_faithful(&input, &output, "opus-pure");
}

#[test]
fn a_lost_frame_is_recovered_from_the_next_frames_fec() {
    let input = synthetic_voice(VOICE_LEN, 2);
    let packets = encode_all(
        &mut PureOpusEncoder::new(&CodecConfig::default()).unwrap(),
        &input,
    );
    let clean = decode_all(&mut PureOpusDecoder::new().unwrap(), &packets);
    // Lose a few voiced frames, one at a time, and compare three ways of filling the gap.
    let mut checked = 0;
    for lost in (20..95).step_by(3) {
        let span = lost * SAMPLES_PER_FRAME..(lost + 1) * SAMPLES_PER_FRAME;
        if energy(&clean[span.clone()]) < 1e5 {
            continue; // a pause: nothing to recover
        }
        let mut fec = PureOpusDecoder::new().unwrap();
        let mut plc = PureOpusDecoder::new().unwrap();
        for p in &packets[..lost] {
            fec.decode(p).unwrap();
            plc.decode(p).unwrap();
        }
        let recovered = fec.decode_fec(&packets[lost + 1]).unwrap();
        let concealed = plc.conceal().unwrap();
        let fec_corr = correlation(&recovered, &clean[span.clone()]);
        let plc_corr = correlation(&concealed, &clean[span.clone()]);
        eprintln!("frame {lost}: FEC correlation {fec_corr:.3}, concealment {plc_corr:.3}");
        assert!(
            fec_corr > 0.5,
            "frame {lost}: FEC correlation {fec_corr:.3}"
        );
        assert!(energy(&recovered) > 0.1 * energy(&clean[span]));
        // Better than silence (correlation 0) and, over the whole run, than concealment.
        assert!(fec_corr > correlation(&SILENCE, &recovered));
        checked += 1;
        // The next frame still decodes normally after a recovery.
        let after = fec.decode(&packets[lost + 1]).unwrap();
        let next = (lost + 1) * SAMPLES_PER_FRAME..(lost + 2) * SAMPLES_PER_FRAME;
        assert!(correlation(&after, &clean[next]) > 0.8);
    }
    assert!(checked >= 5, "only {checked} voiced frames checked");
}

#[test]
fn fec_beats_concealment_on_average() {
    let input = synthetic_voice(VOICE_LEN, 5);
    let packets = encode_all(
        &mut PureOpusEncoder::new(&CodecConfig::default()).unwrap(),
        &input,
    );
    let clean = decode_all(&mut PureOpusDecoder::new().unwrap(), &packets);
    // Every fifth frame lost: FEC on one decoder, concealment on the other.
    let (mut fec, mut plc) = (
        PureOpusDecoder::new().unwrap(),
        PureOpusDecoder::new().unwrap(),
    );
    let (mut fec_out, mut plc_out) = (Vec::new(), Vec::new());
    for (i, p) in packets.iter().enumerate() {
        if i % 5 == 2 && i + 1 < packets.len() {
            fec_out.extend(fec.decode_fec(&packets[i + 1]).unwrap());
            plc_out.extend(plc.conceal().unwrap());
        } else {
            fec_out.extend(fec.decode(p).unwrap());
            plc_out.extend(plc.decode(p).unwrap());
        }
    }
    let (fec_corr, plc_corr) = (correlation(&fec_out, &clean), correlation(&plc_out, &clean));
    eprintln!("20 % loss: FEC correlation {fec_corr:.3}, concealment {plc_corr:.3}");
    assert!(
        fec_corr > plc_corr + 0.05,
        "FEC {fec_corr:.3} vs PLC {plc_corr:.3}"
    );
}

#[test]
fn bytes_that_are_not_one_20ms_frame_are_errors() {
    let mut d = PureOpusDecoder::new().unwrap();
    assert_eq!(d.decode(&[]), Err(CodecError::EmptyPacket));
    assert_eq!(d.decode_fec(&[]), Err(CodecError::EmptyPacket));
    assert_eq!(d.decode(&[0; 1_276]), Err(CodecError::PacketTooLong(1_276)));
    // Code 3 (a frame count follows) with a count of zero.
    assert!(matches!(
        d.decode(&[0x7B, 0x00]),
        Err(CodecError::InvalidPacket(_))
    ));
    // Code 3 with no count byte at all.
    assert!(matches!(
        d.decode(&[0x7B]),
        Err(CodecError::InvalidPacket(_))
    ));
    // Code 3, one 20 ms frame, with padding that runs past the end of the packet.
    assert!(matches!(
        d.decode(&[0x7B, 0x41, 0xFF]),
        Err(CodecError::InvalidPacket(_))
    ));
    // A valid-looking 60 ms SILK packet (config 3) and a 10 ms CELT one (config 30).
    assert_eq!(
        d.decode(&[0x18, 1, 2, 3]),
        Err(CodecError::WrongDuration { samples: 2_880 })
    );
    assert_eq!(
        d.decode(&[0xF0, 1, 2, 3]),
        Err(CodecError::WrongDuration { samples: 480 })
    );
    // The decoder still works afterwards.
    let packets = encode_all(
        &mut PureOpusEncoder::new(&CodecConfig::default()).unwrap(),
        &synthetic_voice(4 * SAMPLES_PER_FRAME, 1),
    );
    assert!(packets.iter().all(|p| d.decode(p).is_ok()));
}

#[test]
fn the_encoder_takes_exactly_one_frame_and_a_valid_config() {
    let mut e = PureOpusEncoder::new(&CodecConfig::default()).unwrap();
    assert_eq!(
        e.encode(&[0; 480]),
        Err(CodecError::WrongFrameLength {
            expected: 960,
            got: 480
        })
    );
    let bad = [
        CodecConfig {
            bitrate_bps: 100,
            ..CodecConfig::default()
        },
        CodecConfig {
            packet_loss_perc: 101,
            ..CodecConfig::default()
        },
        CodecConfig {
            complexity: Some(11),
            ..CodecConfig::default()
        },
        CodecConfig {
            max_packet_bytes: 1,
            ..CodecConfig::default()
        },
    ];
    for config in bad {
        assert!(matches!(
            PureOpusEncoder::new(&config),
            Err(CodecError::InvalidConfig(_))
        ));
    }
}

#[test]
fn a_tight_byte_budget_gives_smaller_packets_not_errors() {
    let config = CodecConfig {
        max_packet_bytes: 40,
        bitrate_bps: 64_000,
        ..Default::default()
    };
    let mut e = PureOpusEncoder::new(&config).unwrap();
    let packets = encode_all(&mut e, &synthetic_voice(20 * SAMPLES_PER_FRAME, 3));
    assert!(packets.iter().all(|p| !p.is_empty() && p.len() <= 40));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes: an error or a whole frame, never a panic, and the decoder keeps working.
    #[test]
    fn random_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut d = PureOpusDecoder::new().unwrap();
        if let Ok(frame) = d.decode(&bytes) {
            prop_assert_eq!(frame.len(), SAMPLES_PER_FRAME);
        }
        let _ = d.decode_fec(&bytes);
        prop_assert!(d.conceal().is_ok());
    }
}

#[cfg(feature = "libopus")]
mod libopus_interop {
    use super::*;

    #[test]
    fn libopus_reports_the_same_delay_and_round_trips() {
        let input = synthetic_voice(VOICE_LEN, 1);
        let mut encoder = LibopusEncoder::new(&CodecConfig::default()).unwrap();
        assert_eq!(encoder.lookahead().unwrap(), CODEC_DELAY_SAMPLES);
        let packets = encode_all(&mut encoder, &input);
        let output = decode_all(&mut LibopusDecoder::new().unwrap(), &packets);
        assert_faithful(&input, &output, "libopus");
    }

    #[test]
    fn opus_pure_frames_decode_in_libopus() {
        let input = synthetic_voice(VOICE_LEN, 7);
        let packets = encode_all(
            &mut PureOpusEncoder::new(&CodecConfig::default()).unwrap(),
            &input,
        );
        let output = decode_all(&mut LibopusDecoder::new().unwrap(), &packets);
        assert_faithful(&input, &output, "opus-pure -> libopus");
        // libopus's decode of opus-pure's packets is (nearly) opus-pure's own decode.
        let own = decode_all(&mut PureOpusDecoder::new().unwrap(), &packets);
        let agreement = correlation(&own, &output);
        eprintln!("opus-pure vs libopus decoding the same packets: correlation {agreement:.4}");
        assert!(agreement > 0.99);
    }

    #[test]
    fn libopus_frames_decode_in_opus_pure() {
        let input = synthetic_voice(VOICE_LEN, 8);
        let packets = encode_all(
            &mut LibopusEncoder::new(&CodecConfig::default()).unwrap(),
            &input,
        );
        let output = decode_all(&mut PureOpusDecoder::new().unwrap(), &packets);
        assert_faithful(&input, &output, "libopus -> opus-pure");
        let own = decode_all(&mut LibopusDecoder::new().unwrap(), &packets);
        let agreement = correlation(&own, &output);
        eprintln!("libopus vs opus-pure decoding the same packets: correlation {agreement:.4}");
        assert!(agreement > 0.99);
    }

    #[test]
    fn libopus_recovers_opus_pure_fec_and_refuses_the_same_garbage() {
        let input = synthetic_voice(VOICE_LEN, 9);
        let packets = encode_all(
            &mut PureOpusEncoder::new(&CodecConfig::default()).unwrap(),
            &input,
        );
        let clean = decode_all(&mut LibopusDecoder::new().unwrap(), &packets);
        let lost = 30;
        let mut d = LibopusDecoder::new().unwrap();
        for p in &packets[..lost] {
            d.decode(p).unwrap();
        }
        let recovered = d.decode_fec(&packets[lost + 1]).unwrap();
        let span = lost * SAMPLES_PER_FRAME..(lost + 1) * SAMPLES_PER_FRAME;
        let corr = correlation(&recovered, &clean[span]);
        eprintln!("libopus FEC of an opus-pure packet: correlation {corr:.3}");
        assert!(corr > 0.5);
        assert!(matches!(
            d.decode(&[0x7B, 0x00]),
            Err(CodecError::InvalidPacket(_))
        ));
        assert_eq!(
            d.decode(&[0x18, 1, 2, 3]),
            Err(CodecError::WrongDuration { samples: 2_880 })
        );
    }
}
