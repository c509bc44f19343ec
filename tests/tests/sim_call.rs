//! Anonymous calls in the simulator, with real nodes, real Opus and the real jitter buffer: a
//! call across eight members through loss, jitter and reordering sounds like the codec alone,
//! in time; the same seed replays the same call. Every test names its seed on failure
//! (`PEERSTER_SEED=N` reruns one seed alone). Speech quality (PESQ) is measured by
//! `sim/scripts/call_quality.sh`, not here.

use std::time::Duration;

use peerster_audio::signal::{correlation, synthetic_voice};
use peerster_sim::{CallScenario, LinkModel, codec_only, for_each_seed, run_call};

/// Four seconds of a voice-like signal.
fn voice(seed: u64) -> Vec<i16> {
    synthetic_voice(4 * 48_000, seed)
}

/// Eight members, 5 ms links with up to 10 ms of jitter (so frames overtake each other on
/// the way) and 5 % loss on every link: every frame plays, from its own packet or the next
/// one's FEC, each once and in order, and what the callee hears is what the codec alone gives,
/// within the latency bound.
#[test]
fn a_call_through_loss_and_jitter_sounds_like_the_codec_alone_in_time() {
    for_each_seed([1, 2], |seed| {
        let mut scenario = CallScenario::new(8, seed, voice(seed));
        scenario.link = LinkModel::ideal(Duration::from_millis(5))
            .with_jitter(Duration::from_millis(10))
            .with_uniform_loss(0.05);
        let report = run_call(&scenario).expect("valid scenario");
        let reference = codec_only(&scenario.input, &scenario.codec).expect("codec works");
        assert_eq!(report.frames_sent, 200, "seed {seed}");
        assert!(
            report.frames_lost <= 3,
            "seed {seed}: {} frames lost (only pauses may be skipped): {:?}",
            report.frames_lost,
            report.jitter
        );
        assert_eq!(report.frames_late, 0, "seed {seed}");
        let similar = correlation(&reference, &report.output);
        assert!(similar > 0.95, "seed {seed}: correlation {similar}");
        assert!(
            report.latency_ms.p99 <= 150.0,
            "seed {seed}: {:?}",
            report.latency_ms
        );
        assert!(
            report.latency_ms.p50 >= 26.5,
            "capture and codec delay are counted"
        );
        assert!(
            report.setup < Duration::from_secs(1),
            "seed {seed}: {:?}",
            report.setup
        );
    });
}

/// Without repeated frames and with only one stem copy, heavy loss does cost frames: the
/// protocol's redundancy is what the test above measures, not a lenient network.
#[test]
fn without_redundancy_heavy_loss_costs_frames() {
    for_each_seed([3], |seed| {
        let mut scenario = CallScenario::new(8, seed, voice(seed));
        scenario.link = LinkModel::ideal(Duration::from_millis(5)).with_uniform_loss(0.3);
        scenario.config.call_frame_repeats = 0;
        scenario.config.anon_stem_copies = 1;
        let bare = run_call(&scenario).expect("valid scenario");
        scenario.config.call_frame_repeats = 2;
        scenario.config.anon_stem_copies = 3;
        let redundant = run_call(&scenario).expect("valid scenario");
        assert!(
            bare.frames_delivered < redundant.frames_delivered,
            "seed {seed}: {} without redundancy, {} with",
            bare.frames_delivered,
            redundant.frames_delivered
        );
    });
}

#[test]
fn the_same_seed_replays_the_same_call() {
    let scenario = CallScenario::new(5, 9, voice(9));
    let a = run_call(&scenario).expect("valid scenario");
    let b = run_call(&scenario).expect("valid scenario");
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.output, b.output);
    let other = run_call(&CallScenario {
        seed: 10,
        ..scenario
    })
    .expect("valid scenario");
    assert_ne!(a.digest, other.digest);
}
