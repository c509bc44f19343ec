//! A call direction end to end over a simulated anonymous relay path: several hops, each with
//! 5 % loss and 5 ms +- 10 ms of jitter, some duplicates; the receiver ticks every 20 ms.

use std::time::Duration;

use super::*;
use crate::codec::tests::{decode_all, encode_all};
use crate::signal::{correlation, synthetic_voice};
use crate::{SAMPLES_PER_FRAME, frames_of};

/// A small deterministic generator (xorshift64*), so a failing seed reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// When each frame (captured at `seq * 20 ms` after `start`) reaches the receiver over `hops`
/// relays, or `None` if one of them lost it; some frames arrive twice.
fn relay(frames: usize, hops: u32, start: Timestamp, rng: &mut Rng) -> Vec<(usize, Timestamp)> {
    let mut arrivals = Vec::new();
    for seq in 0..frames {
        let copies = if rng.unit() < 0.01 { 2 } else { 1 };
        for _ in 0..copies {
            let mut at = start + Duration::from_millis(20 * seq as u64);
            let mut lost = false;
            for _ in 0..hops {
                lost |= rng.unit() < 0.05;
                let hop_ms = (5.0 + 20.0 * (rng.unit() - 0.5)).max(0.0);
                at += Duration::from_micros((hop_ms * 1_000.0) as u64);
            }
            if !lost {
                arrivals.push((seq, at));
            }
        }
    }
    arrivals.sort_by_key(|&(_, at)| at);
    arrivals
}

#[test]
fn a_call_over_a_lossy_jittery_relay_plays_a_steady_tick() {
    for seed in [1u64, 2, 3] {
        let mut rng = Rng(seed);
        let voice = synthetic_voice(500 * SAMPLES_PER_FRAME, seed); // 10 s
        let mut sender = CallSender::new(&CodecConfig::default()).unwrap();
        let frames: Vec<EncodedFrame> = frames_of(&voice)
            .map(|pcm| sender.encode(&pcm).unwrap())
            .collect();
        assert_eq!(sender.next_seq(), 500);
        assert!(
            frames
                .iter()
                .enumerate()
                .all(|(i, f)| f.seq as usize == i && f.timestamp as usize == i * 960)
        );
        // What a receiver that lost nothing would decode, frame by frame.
        let packets: Vec<Vec<u8>> = frames.iter().map(|f| f.bytes.clone()).collect();
        let clean = decode_all(&mut PureOpusDecoder::new().unwrap(), &packets);

        let start = Timestamp::from_secs(100);
        let arrivals = relay(frames.len(), 4, start, &mut rng);
        let mut receiver = CallReceiver::new(JitterConfig::default()).unwrap();
        let (mut next, mut latencies, mut silent) = (0, Vec::new(), 0);
        let (mut heard, mut reference, mut fec_heard, mut fec_reference) =
            (vec![], vec![], vec![], vec![]);
        for k in 0..560u64 {
            let now = start + Duration::from_micros(3_000 + 20_000 * k);
            while next < arrivals.len() && arrivals[next].1 <= now {
                let (seq, at) = arrivals[next];
                let f = &frames[seq];
                receiver.push(at, f.seq, f.timestamp, &f.bytes);
                next += 1;
            }
            let out = receiver.pull(now);
            assert_eq!(out.samples.len(), SAMPLES_PER_FRAME);
            let span = |seq: u32| &clean[seq as usize * 960..(seq as usize + 1) * 960];
            match out.from {
                PlayedFrom::Silence => {
                    assert!(latencies.is_empty(), "silence only before playout");
                    assert_eq!(out.samples, SILENCE);
                    silent += 1;
                }
                PlayedFrom::Frame { seq } => {
                    heard.extend_from_slice(&out.samples);
                    reference.extend_from_slice(span(seq));
                }
                PlayedFrom::Fec { seq } => {
                    fec_heard.extend_from_slice(&out.samples);
                    fec_reference.extend_from_slice(span(seq));
                }
                PlayedFrom::Concealed { .. } => {}
            }
            if let Some(seq) = out.from.seq() {
                // Mouth to ear: played now, captured seq * 20 ms after the call started.
                let captured = start + Duration::from_millis(20 * u64::from(seq));
                latencies.push((now - captured).as_millis() as u64);
            }
        }
        let stats = receiver.stats();
        latencies.sort_unstable();
        let median = latencies[latencies.len() / 2];
        eprintln!(
            "seed {seed}: {stats:?}, mouth-to-ear median {median} ms (max {}), {silent} silent ticks",
            latencies.last().unwrap()
        );
        let j = stats.jitter;
        // About 18.5 % of frames are lost on four hops; FEC recovers most single losses.
        assert!(j.played >= 360, "{j:?}");
        assert!(j.recovered >= 20, "{j:?}");
        assert!(j.late <= 25, "{j:?}");
        assert!(j.duplicate >= 1, "{j:?}");
        assert_eq!(stats.decode_errors, 0);
        assert!(
            (2..10).contains(&silent),
            "{silent} silent ticks before playout"
        );
        assert!(
            (20..=250).contains(&median),
            "median mouth-to-ear {median} ms"
        );
        // Every frame played is the frame it says it is, and FEC resembles what was lost.
        assert!(correlation(&heard, &reference) > 0.95, "seed {seed}");
        assert!(correlation(&fec_heard, &fec_reference) > 0.5, "seed {seed}");
    }
}

#[test]
fn garbage_frames_are_concealed_and_counted() {
    let mut receiver = CallReceiver::new(JitterConfig::default()).unwrap();
    let t = |ms: u64| Timestamp::from_millis(1_000 + ms);
    for seq in 0..10u32 {
        // 60 ms SILK packets where 20 ms frames are due: each one fails to decode.
        receiver.push(t(u64::from(seq) * 20), seq, seq * 960, &[0x18, 0xAA, 0x55]);
    }
    let froms: Vec<PlayedFrom> = (0..12u64)
        .map(|k| receiver.pull(t(5 + 20 * k)).from)
        .collect();
    assert_eq!(froms[0], PlayedFrom::Silence);
    assert!(
        froms.contains(&PlayedFrom::Concealed { seq: Some(0) }),
        "{froms:?}"
    );
    assert!(!froms.iter().any(|f| matches!(f, PlayedFrom::Frame { .. })));
    assert!(
        receiver.stats().decode_errors >= 5,
        "{:?}",
        receiver.stats()
    );
}

/// Plays 50 frames delivered on time through a receiver on `decoder`; returns how many
/// played from their own frame.
fn play_in_time<D: VoiceDecoder>(decoder: D) -> usize {
    let voice = synthetic_voice(50 * SAMPLES_PER_FRAME, 4);
    let packets = encode_all(
        &mut PureOpusEncoder::new(&CodecConfig::default()).unwrap(),
        &voice,
    );
    let mut receiver = CallReceiver::with_decoder(decoder, JitterConfig::default()).unwrap();
    let mut played = 0;
    for (k, p) in packets.iter().enumerate() {
        let now = Timestamp::from_millis(20 * k as u64);
        assert_eq!(
            receiver.push(now, k as u32, k as u32 * 960, p),
            Arrival::Accepted
        );
        if matches!(receiver.pull(now).from, PlayedFrom::Frame { .. }) {
            played += 1;
        }
    }
    played
}

#[test]
fn a_receiver_runs_on_any_decoder() {
    // 60 ms start delay: the first three ticks are silent, then every tick plays a frame.
    assert_eq!(play_in_time(PureOpusDecoder::new().unwrap()), 47);
    #[cfg(feature = "libopus")]
    assert_eq!(
        play_in_time(crate::codec::LibopusDecoder::new().unwrap()),
        47
    );
}
