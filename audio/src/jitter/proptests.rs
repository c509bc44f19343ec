//! Random arrivals (any order, drops, duplicates, huge sequence numbers, any times) never
//! panic the jitter buffer, never play a frame twice, and play slots in increasing order.

use std::collections::HashSet;

use proptest::prelude::*;

use super::*;

/// One step of a random run.
#[derive(Clone, Debug)]
enum Step {
    /// Frame `seq` arrives `dt_ms` after the current time (negative: with an earlier stamp).
    Push {
        seq: u32,
        dt_ms: i64,
        len: usize,
        bad_timestamp: bool,
    },
    /// A tick: time moves on by `ms` and the buffer is popped.
    Tick { ms: u64 },
}

fn step() -> impl Strategy<Value = Step> {
    let seq = prop_oneof![
        6 => 0u32..120,
        1 => any::<u32>(),
        1 => (u32::MAX - 70)..=u32::MAX,
    ];
    // Mostly near the current time; sometimes at either end of the clock.
    let dt_ms = prop_oneof![
        20 => -300i64..300,
        1 => Just(i64::MAX / 2_000),
        1 => Just(i64::MIN / 2_000),
    ];
    // Mostly a plausible frame; sometimes empty or longer than any Opus packet.
    let len = prop_oneof![20 => 1usize..100, 1 => 0usize..1_400];
    let push = (seq, dt_ms, len, proptest::bool::weighted(0.05)).prop_map(
        |(seq, dt_ms, len, bad_timestamp)| Step::Push {
            seq,
            dt_ms,
            len,
            bad_timestamp,
        },
    );
    let tick = prop_oneof![9 => Just(20u64), 1 => 0u64..500].prop_map(|ms| Step::Tick { ms });
    prop_oneof![3 => push, 2 => tick]
}

fn config() -> impl Strategy<Value = JitterConfig> {
    (
        0u64..60,
        0u64..100,
        0u64..200,
        1usize..200,
        0u8..=100,
        11usize..80,
        0u32..30,
    )
        .prop_map(
            |(min, extra_start, extra_max, window, percentile, max_frames, hold)| {
                let min_delay = Duration::from_millis(min);
                let start_delay = min_delay + Duration::from_millis(extra_start);
                // Often invalid (start above what max_frames can hold): such cases are skipped.
                JitterConfig {
                    min_delay,
                    start_delay,
                    max_delay: start_delay + Duration::from_millis(extra_max),
                    window_frames: window,
                    percentile,
                    max_frames,
                    shrink_hold_ticks: hold,
                    grow_hold_ticks: hold / 5,
                    ..JitterConfig::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_arrivals_never_replay_or_reorder(
        config in config(),
        steps in proptest::collection::vec(step(), 1..400),
    ) {
        prop_assume!(config.validate().is_ok());
        let mut buf = JitterBuffer::new(config).unwrap();
        let mut now = Timestamp::from_secs(10);
        let mut pushed: HashSet<u32> = HashSet::new();
        let mut last_slot: Option<u32> = None;
        let mut played: HashSet<u32> = HashSet::new();
        let mut started = false;
        for step in steps {
            match step {
                Step::Push { seq, dt_ms, len, bad_timestamp } => {
                    let at = Timestamp::from_micros(
                        now.as_micros().saturating_add_signed(dt_ms * 1_000),
                    );
                    let ts = seq.wrapping_mul(960).wrapping_add(u32::from(bad_timestamp));
                    let frame = vec![seq as u8; len];
                    let resyncs = buf.stats().resyncs;
                    let arrival = buf.push(seq, ts, at, &frame);
                    if buf.stats().resyncs != resyncs {
                        // The sender jumped far: playout starts over on the new numbering.
                        (started, last_slot) = (false, None);
                        pushed.clear();
                        played.clear();
                    }
                    if arrival == Arrival::Accepted {
                        pushed.insert(seq);
                    }
                    prop_assert!(buf.len() <= config.max_frames);
                }
                Step::Tick { ms } => {
                    now += Duration::from_millis(ms);
                    let playout = buf.pop(now);
                    if playout == Playout::Waiting {
                        prop_assert!(!started, "waiting after playout started");
                    } else {
                        started = true;
                    }
                    let slot = match playout {
                        Playout::Waiting => None,
                        Playout::Play { seq, frame } => {
                            prop_assert!(pushed.contains(&seq), "played a frame never accepted");
                            prop_assert!(played.insert(seq), "frame {} played twice", seq);
                            prop_assert!(frame.iter().all(|&b| b == seq as u8));
                            Some(seq)
                        }
                        Playout::Recover { seq, next } => {
                            prop_assert!(!played.contains(&seq), "recovered frame {} was played", seq);
                            prop_assert!(next.iter().all(|&b| b == seq.wrapping_add(1) as u8));
                            Some(seq)
                        }
                        Playout::Conceal { seq } => seq,
                    };
                    if let Some(seq) = slot {
                        prop_assert!(last_slot.is_none_or(|last| seq > last), "slot {} after {:?}", seq, last_slot);
                        last_slot = Some(seq);
                    }
                }
            }
        }
    }
}
