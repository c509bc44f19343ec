//! Codec and receiver benchmark: one 20 ms speech-like frame through opus-pure bare, through
//! our codec wrappers, and through the whole receiver (jitter buffer push and pop + decode),
//! each next to the bare codec call it is built on, measured by criterion in one process.
//!
//! Run with `cargo bench -p peerster-audio --bench codec` (add `--features libopus` for the
//! libopus rows). Criterion prints its own report per row; the closing table gives the median
//! ns per frame of each and the ratio ours / bare. `PEERSTER_BENCH_QUICK=1` (or a run without
//! `--bench`, such as `cargo test --benches`) shortens the run to a smoke test, as the
//! benchmarks of `peerster-core` do.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use opus_pure::{Application, OpusDecoder, OpusEncoder};
use peerster_audio::signal::synthetic_voice;
use peerster_audio::{
    CallReceiver, CodecConfig, JitterConfig, PureOpusDecoder, PureOpusEncoder, SAMPLES_PER_FRAME,
    VoiceDecoder, VoiceEncoder, frames_of,
};
use peerster_core::Timestamp;

/// Frames of voice cycled through, so the encoder sees speech rather than one frame repeated.
const FRAMES: usize = 250;

/// The median ns per iteration of each criterion sample of one row.
#[derive(Default)]
struct Samples(Vec<f64>);

impl Samples {
    /// Times `iters` calls of `f`, records ns per call and returns the elapsed time.
    fn time(&mut self, iters: u64, mut f: impl FnMut()) -> Duration {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        let elapsed = start.elapsed();
        self.0.push(elapsed.as_nanos() as f64 / iters as f64);
        elapsed
    }

    fn median(&mut self) -> f64 {
        self.0.sort_by(f64::total_cmp);
        self.0.get(self.0.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// One line of the closing table: what, its median ns, and the bare call it is compared with.
type Row = (&'static str, f64, Option<(f64, &'static str)>);

fn main() {
    let quick = std::env::var_os("PEERSTER_BENCH_QUICK").is_some()
        || !std::env::args().any(|a| a == "--bench");
    let mut c = if quick {
        Criterion::default()
            .warm_up_time(Duration::from_millis(50))
            .measurement_time(Duration::from_millis(200))
            .sample_size(10)
    } else {
        Criterion::default()
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .sample_size(30)
    }
    .configure_from_args();

    let voice = synthetic_voice(FRAMES * SAMPLES_PER_FRAME, 1);
    let pcm: Vec<_> = frames_of(&voice).collect();
    let config = CodecConfig::default();
    let packets: Vec<Vec<u8>> = {
        let mut e = PureOpusEncoder::new(&config).unwrap();
        pcm.iter().map(|f| e.encode(f).unwrap()).collect()
    };
    let mut rows: Vec<Row> = Vec::new();

    // ---- the bare codec: opus-pure's own calls -------------------------------------------
    let mut bare_enc = OpusEncoder::new(48_000, 1, Application::Voip).unwrap();
    bare_enc.bitrate_bps = config.bitrate_bps as i32;
    bare_enc.use_inband_fec = config.inband_fec;
    bare_enc.packet_loss_perc = i32::from(config.packet_loss_perc);
    let mut bare_dec = OpusDecoder::new(48_000, 1).unwrap();
    let (mut packet, mut out) = (
        vec![0u8; config.max_packet_bytes],
        vec![0i16; SAMPLES_PER_FRAME],
    );
    let mut bare_codec = Samples::default();
    let mut k = 0;
    c.bench_function("opus-pure bare: encode + decode 20 ms", |b| {
        b.iter_custom(|iters| {
            bare_codec.time(iters, || {
                let n = bare_enc
                    .encode_s16(&pcm[k % FRAMES], SAMPLES_PER_FRAME, &mut packet)
                    .unwrap();
                black_box(
                    bare_dec
                        .decode_s16(&packet[..n], SAMPLES_PER_FRAME, &mut out)
                        .unwrap(),
                );
                k += 1;
            })
        })
    });
    let mut bare_decode = Samples::default();
    c.bench_function("opus-pure bare: decode 20 ms", |b| {
        b.iter_custom(|iters| {
            bare_decode.time(iters, || {
                let p = &packets[k % FRAMES];
                black_box(bare_dec.decode_s16(p, SAMPLES_PER_FRAME, &mut out).unwrap());
                k += 1;
            })
        })
    });
    let (bare_codec, bare_decode) = (bare_codec.median(), bare_decode.median());
    rows.push(("opus-pure bare encode + decode", bare_codec, None));
    rows.push(("opus-pure bare decode", bare_decode, None));

    // ---- our codec wrappers --------------------------------------------------------------
    let mut enc = PureOpusEncoder::new(&config).unwrap();
    let mut dec = PureOpusDecoder::new().unwrap();
    let mut ours = Samples::default();
    c.bench_function("PureOpusEncoder + PureOpusDecoder: 20 ms", |b| {
        b.iter_custom(|iters| {
            ours.time(iters, || {
                let p = enc.encode(&pcm[k % FRAMES]).unwrap();
                black_box(dec.decode(&p).unwrap());
                k += 1;
            })
        })
    });
    rows.push((
        "VoiceEncoder + VoiceDecoder (opus-pure)",
        ours.median(),
        Some((bare_codec, "opus-pure encode_s16 + decode_s16")),
    ));

    // ---- the receiver: jitter buffer push + pop, then decode ------------------------------
    let mut receiver = CallReceiver::new(JitterConfig::default()).unwrap();
    let mut now = Timestamp::from_secs(1);
    let mut seq = 0u32;
    let mut recv = Samples::default();
    c.bench_function("CallReceiver: push + pull one frame", |b| {
        b.iter_custom(|iters| {
            recv.time(iters, || {
                receiver.push(
                    now,
                    seq,
                    seq.wrapping_mul(960),
                    &packets[seq as usize % FRAMES],
                );
                black_box(receiver.pull(now));
                now += Duration::from_millis(20);
                seq += 1;
            })
        })
    });
    let stats = receiver.stats().jitter;
    assert_eq!(stats.concealed, 0, "every frame arrived in time: {stats:?}");
    rows.push((
        "CallReceiver push + pull (buffer + decode)",
        recv.median(),
        Some((bare_decode, "opus-pure decode_s16")),
    ));

    #[cfg(feature = "libopus")]
    {
        use peerster_audio::codec::{LibopusDecoder, LibopusEncoder};
        let mut enc = LibopusEncoder::new(&config).unwrap();
        let mut dec = LibopusDecoder::new().unwrap();
        let mut lib = Samples::default();
        c.bench_function("libopus: encode + decode 20 ms", |b| {
            b.iter_custom(|iters| {
                lib.time(iters, || {
                    let p = enc.encode(&pcm[k % FRAMES]).unwrap();
                    black_box(dec.decode(&p).unwrap());
                    k += 1;
                })
            })
        });
        rows.push((
            "VoiceEncoder + VoiceDecoder (libopus)",
            lib.median(),
            Some((bare_codec, "opus-pure encode_s16 + decode_s16")),
        ));
    }

    c.final_summary();
    println!();
    println!(
        "peerster-audio codec benchmark{} (median ns per 20 ms frame)",
        if quick { " [quick smoke run]" } else { "" }
    );
    println!(
        "{:<44} {:>10} {:>10} {:>7}  bare call",
        "operation", "ours", "bare", "ratio"
    );
    println!("{}", "-".repeat(105));
    for (name, ns, bare) in rows {
        match bare {
            Some((bare, what)) => {
                println!(
                    "{name:<44} {ns:>10.0} {bare:>10.0} {:>6.2}x  {what}",
                    ns / bare
                )
            }
            None => println!("{name:<44} {ns:>10.0} {:>10} {:>7}", "-", "-"),
        }
    }
}
