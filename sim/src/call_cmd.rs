//! `peerster-sim call`: one anonymous call across a simulated cluster, from a WAV file to a
//! WAV file, with a JSON report on stdout.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use peerster_audio::wav::{read_wav, write_wav};
use peerster_sim::{CallScenario, LinkModel, codec_only, run_call};
use serde_json::json;

/// A call run.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// What the caller says: a 48 kHz mono 16-bit WAV file (`sox in.wav -r 48000 -c 1 -b 16
    /// out.wav` makes one). Without it, 8 s of a synthetic voice-like signal.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Where to write what the callee heard, sample-aligned to the input.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Share of datagrams every link loses, as a probability (0.05 is 5 %).
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// One-way latency of every link, in milliseconds.
    #[arg(long, default_value_t = 5)]
    latency_ms: u64,
    /// Largest extra delay drawn per datagram, in milliseconds (uniform from 0).
    #[arg(long, default_value_t = 10)]
    jitter_ms: u64,
    /// Members of the cluster, the two ends included.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(2..=256))]
    members: u16,
    /// Seed of the whole run: the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Opus bitrate, in bits per second.
    #[arg(long, default_value_t = 24_000)]
    bitrate: u32,
    /// Stem probability of voice packets (default: the configuration's).
    #[arg(long)]
    p_stem: Option<f64>,
    /// Members each fluff relay passes a voice packet to (default: the configuration's).
    #[arg(long)]
    fanout: Option<usize>,
    /// Earlier frames each voice packet repeats, 0 to 2 (default: the configuration's).
    #[arg(long)]
    repeats: Option<usize>,
    /// Cover traffic, in packets per second per member (default: off).
    #[arg(long, default_value_t = 0)]
    cover_rate: u32,
    /// The callee's jitter buffer: smallest playout delay, in milliseconds (default: the
    /// buffer's).
    #[arg(long)]
    jitter_min_ms: Option<u64>,
    /// The callee's jitter buffer: playout delay before it has measured jitter, in
    /// milliseconds (default: the buffer's).
    #[arg(long)]
    jitter_start_ms: Option<u64>,
    /// The callee's jitter buffer: largest playout delay, in milliseconds (default: the
    /// buffer's).
    #[arg(long)]
    jitter_max_ms: Option<u64>,
    /// The callee's jitter buffer: share of recent frames, in percent, its delay should let
    /// arrive in time (default: the buffer's).
    #[arg(long)]
    jitter_percentile: Option<u8>,
    /// Run the input through the codec alone (no network): the baseline of the call's
    /// quality.
    #[arg(long)]
    codec_only: bool,
}

pub fn call(args: CallArgs) -> Result<(), Box<dyn std::error::Error>> {
    if !(0.0..=1.0).contains(&args.loss) {
        return Err(format!("--loss must be between 0 and 1, got {}", args.loss).into());
    }
    let input = match &args.input {
        Some(path) => read_wav(path).map_err(|e| format!("{}: {e}", path.display()))?,
        None => peerster_audio::signal::synthetic_voice(8 * 48_000, args.seed),
    };
    let mut scenario = CallScenario::new(usize::from(args.members), args.seed, input);
    scenario.codec.bitrate_bps = args.bitrate;
    scenario.link = LinkModel::ideal(Duration::from_millis(args.latency_ms))
        .with_jitter(Duration::from_millis(args.jitter_ms))
        .with_uniform_loss(args.loss);
    if let Some(p) = args.p_stem {
        scenario.config.call_p_stem = p;
    }
    if let Some(f) = args.fanout {
        scenario.config.call_fanout = f;
    }
    if let Some(r) = args.repeats {
        scenario.config.call_frame_repeats = r;
    }
    scenario.config.cover_rate = args.cover_rate;
    let jitter = &mut scenario.jitter;
    for (arg, field) in [
        (args.jitter_min_ms, &mut jitter.min_delay),
        (args.jitter_start_ms, &mut jitter.start_delay),
        (args.jitter_max_ms, &mut jitter.max_delay),
    ] {
        if let Some(ms) = arg {
            *field = Duration::from_millis(ms);
        }
    }
    if let Some(p) = args.jitter_percentile {
        jitter.percentile = p;
    }
    jitter.validate()?;
    scenario.config.validate()?;
    if args.codec_only {
        let output = codec_only(&scenario.input, &scenario.codec)?;
        if let Some(path) = &args.output {
            write_wav(path, &output)?;
        }
        println!("{}", json!({ "codec_only": true, "samples": output.len() }));
        return Ok(());
    }
    let started = Instant::now();
    let report = run_call(&scenario)?;
    if let Some(path) = &args.output {
        write_wav(path, &report.output)?;
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let doc = json!({
        "members": report.members,
        "seed": args.seed,
        "link": {
            "latency_ms": args.latency_ms,
            "jitter_ms": args.jitter_ms,
            "loss": args.loss,
        },
        "setup_ms": ms(report.setup),
        "latency_ms": {
            "p50": report.latency_ms.p50,
            "p90": report.latency_ms.p90,
            "p99": report.latency_ms.p99,
            "max": report.latency_ms.max,
        },
        "frames_sent": report.frames_sent,
        "frames_delivered": report.frames_delivered,
        "frames_played": report.frames_played,
        "frames_recovered_fec": report.frames_recovered,
        "frames_lost": report.frames_lost,
        "frames_concealed": report.frames_concealed,
        "frames_late": report.frames_late,
        "jitter": {
            "inserted": report.jitter.inserted,
            "skipped": report.jitter.skipped,
            "recovered": report.jitter.recovered,
            "target_delay_ms": ms(report.jitter.target_delay),
        },
        "playout_delay_ms": ms(report.playout_delay),
        "bytes_per_member": report.bytes_per_member,
        "caller_datagram_ratio": report.caller_datagram_ratio,
        "events": report.stats.events,
        "wall_s": started.elapsed().as_secs_f64(),
        "digest": format!("{:016x}", report.digest),
    });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}
