//! Stories of one call direction through the jitter buffer: frames in order, reordered,
//! duplicated, lost, late; jitter rising and calming; bytes and numbers it must refuse.

use super::*;

/// The receiver's clock runs 1 s ahead of the media clock; ticks fall 7 ms into a frame.
const EPOCH_US: u64 = 1_000_000;
const TICK_PHASE_US: u64 = 7_000;

/// The bytes of frame `seq` (so a test can see which frame it got).
fn bytes(seq: u32) -> Vec<u8> {
    seq.to_le_bytes().to_vec()
}

/// When frame `seq` arrives if it spends `transit_ms` in the network.
fn arrival(seq: u32, transit_ms: u64) -> Timestamp {
    Timestamp::from_micros(EPOCH_US + u64::from(seq) * 20_000 + transit_ms * 1_000)
}

/// Tick `k` of the receiver.
fn tick(k: u64) -> Timestamp {
    Timestamp::from_micros(EPOCH_US + TICK_PHASE_US + k * 20_000)
}

/// Frames on their way to the receiver, delivered tick by tick.
struct Network {
    /// (arrival, seq), latest first so that the next arrival pops off the end.
    arrivals: Vec<(Timestamp, u32)>,
}

impl Network {
    /// Frames `(seq, arrival time)` in any order.
    fn new(arrivals: Vec<(u32, Timestamp)>) -> Self {
        let mut arrivals: Vec<_> = arrivals.into_iter().map(|(s, at)| (at, s)).collect();
        arrivals.sort_by(|a, b| b.cmp(a));
        Network { arrivals }
    }

    /// Runs `ticks`, pushing every frame that has arrived before each tick; returns what each
    /// tick played.
    fn run(&mut self, buf: &mut JitterBuffer, ticks: std::ops::Range<u64>) -> Vec<Playout> {
        ticks
            .map(|k| {
                while self.arrivals.last().is_some_and(|&(at, _)| at <= tick(k)) {
                    let (at, seq) = self.arrivals.pop().unwrap(); // just checked
                    buf.push(seq, seq * 960, at, &bytes(seq));
                }
                buf.pop(tick(k))
            })
            .collect()
    }
}

/// Delivers `arrivals` (seq, arrival time; any order) over ticks `0..ticks`.
fn run(buf: &mut JitterBuffer, arrivals: Vec<(u32, Timestamp)>, ticks: u64) -> Vec<Playout> {
    Network::new(arrivals).run(buf, 0..ticks)
}

/// The sequence numbers of the frames played from their own bytes, checking the bytes.
fn played(out: &[Playout]) -> Vec<u32> {
    out.iter()
        .filter_map(|p| match p {
            Playout::Play { seq, frame } => {
                assert_eq!(frame, &bytes(*seq));
                Some(*seq)
            }
            _ => None,
        })
        .collect()
}

fn buffer() -> JitterBuffer {
    JitterBuffer::new(JitterConfig::default()).unwrap()
}

#[test]
fn frames_in_order_play_in_order_after_the_start_delay() {
    let mut buf = buffer();
    assert_eq!(
        buf.pop(tick(0)),
        Playout::Waiting,
        "nothing before the first frame"
    );
    let out = run(&mut buf, (0..50).map(|s| (s, arrival(s, 30))).collect(), 55);
    // Frame 0 arrives at 30 ms (tick 2 at 47 ms sees it) and waits at least 60 ms: it plays
    // at tick 5 (107 ms), 77 ms after it arrived; frame 49 plays at the last tick, 54.
    assert!(out[..5].iter().all(|p| *p == Playout::Waiting));
    assert_eq!(
        out[5],
        Playout::Play {
            seq: 0,
            frame: bytes(0)
        }
    );
    assert_eq!(played(&out), (0..50).collect::<Vec<_>>());
    let stats = buf.stats();
    assert_eq!(
        (stats.played, stats.late, stats.concealed, stats.recovered),
        (50, 0, 0, 0)
    );
    assert_eq!(stats.playout_delay, Duration::from_millis(77));
}

#[test]
fn reordered_frames_play_in_sequence() {
    let mut buf = buffer();
    // Odd frames overtake the even ones before them by 15 ms.
    let arrivals = (0..50)
        .map(|s| (s, arrival(s, if s % 2 == 0 { 40 } else { 5 })))
        .collect();
    let out = run(&mut buf, arrivals, 60);
    assert_eq!(played(&out), (0..50).collect::<Vec<_>>());
    assert_eq!(buf.stats().late, 0);
}

#[test]
fn duplicates_are_dropped_and_counted() {
    let mut buf = buffer();
    let mut arrivals: Vec<_> = (0..40).map(|s| (s, arrival(s, 20))).collect();
    arrivals.extend((0..40).map(|s| (s, arrival(s, 50)))); // every frame again, 30 ms later
    let out = run(&mut buf, arrivals, 50);
    assert_eq!(played(&out), (0..40).collect::<Vec<_>>());
    assert_eq!(buf.stats().duplicate, 40);
    // A copy of an old, already played frame is a duplicate too, not a late frame.
    assert_eq!(
        buf.push(3, 3 * 960, tick(50), &bytes(3)),
        Arrival::Duplicate
    );
    assert_eq!(buf.stats().late, 0);
}

#[test]
fn a_lost_frame_is_recovered_from_the_next_and_two_lost_are_concealed() {
    let mut buf = buffer();
    let arrivals = (0..40)
        .filter(|s| ![10, 20, 21].contains(s))
        .map(|s| (s, arrival(s, 30)))
        .collect();
    let out = run(&mut buf, arrivals, 45);
    let slot = |seq: u32| {
        out.iter().position(|p| {
            *p == Playout::Play {
                seq,
                frame: bytes(seq),
            }
        })
    };
    let at9 = slot(9).unwrap();
    assert_eq!(
        out[at9 + 1],
        Playout::Recover {
            seq: 10,
            next: bytes(11)
        }
    );
    assert_eq!(
        out[at9 + 2],
        Playout::Play {
            seq: 11,
            frame: bytes(11)
        }
    );
    let at19 = slot(19).unwrap();
    assert_eq!(out[at19 + 1], Playout::Conceal { seq: Some(20) });
    assert_eq!(
        out[at19 + 2],
        Playout::Recover {
            seq: 21,
            next: bytes(22)
        }
    );
    assert_eq!(
        out[at19 + 3],
        Playout::Play {
            seq: 22,
            frame: bytes(22)
        }
    );
    let stats = buf.stats();
    assert_eq!((stats.played, stats.recovered, stats.concealed), (37, 2, 1));
}

#[test]
fn a_frame_after_its_slot_is_late() {
    let mut buf = buffer();
    // Frame 15 takes 300 ms: its slot is recovered from frame 16's FEC long before.
    let arrivals = (0..40)
        .map(|s| (s, arrival(s, if s == 15 { 300 } else { 30 })))
        .collect();
    let out = run(&mut buf, arrivals, 60);
    assert!(out.contains(&Playout::Recover {
        seq: 15,
        next: bytes(16)
    }));
    assert_eq!(
        played(&out),
        (0..40).filter(|&s| s != 15).collect::<Vec<_>>()
    );
    let stats = buf.stats();
    assert_eq!((stats.late, stats.recovered), (1, 1));
    // Seeing one frame that late, the buffer grew its delay (few samples: the maximum counts).
    assert!(stats.inserted > 0, "{stats:?}");
}

/// Transit times of a jittery path: 10 ms plus up to `spread_ms`, pseudo-random.
fn jittery(seq: u32, spread_ms: u64) -> u64 {
    let h = u64::from(seq).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    10 + h % (spread_ms + 1)
}

#[test]
fn the_delay_grows_under_jitter_and_shrinks_when_it_calms() {
    let mut buf = buffer();
    // 10 s of up to 100 ms of jitter, then 15 s of a calm path.
    let transit = |s: u32| if s < 500 { jittery(s, 100) } else { 10 };
    let mut net = Network::new((0..1_250).map(|s| (s, arrival(s, transit(s)))).collect());
    net.run(&mut buf, 0..250);
    let first_half = buf.stats();
    net.run(&mut buf, 250..500);
    let stormy = buf.stats();
    eprintln!("after 5 s of jitter: {first_half:?}\nafter 10 s: {stormy:?}");
    assert!(
        stormy.target_delay >= Duration::from_millis(90),
        "{stormy:?}"
    );
    assert!(
        stormy.playout_delay >= Duration::from_millis(90),
        "{stormy:?}"
    );
    assert!(stormy.inserted >= 2, "grew by inserting frames: {stormy:?}");
    // Once grown, almost every frame is in time: at most 5 % late in the second 5 s.
    assert!(stormy.late - first_half.late <= 12, "{stormy:?}");

    net.run(&mut buf, 500..1_270);
    let calmed = buf.stats();
    eprintln!("after 15 s of calm: {calmed:?}");
    assert_eq!(
        calmed.target_delay,
        JitterConfig::default().min_delay,
        "{calmed:?}"
    );
    assert!(
        calmed.playout_delay < Duration::from_millis(45),
        "{calmed:?}"
    );
    assert!(calmed.playout_delay >= JitterConfig::default().min_delay);
    assert!(
        calmed.skipped >= stormy.skipped + 3,
        "shrank by skipping: {calmed:?}"
    );
    assert_eq!(calmed.late, stormy.late, "nothing late on a calm path");
}

#[test]
fn bad_frames_and_far_numbers_are_refused() {
    let mut buf = buffer();
    let at = arrival(5, 0);
    assert_eq!(buf.push(0, 0, at, &[]), Arrival::Refused, "empty");
    assert_eq!(
        buf.push(0, 0, at, &[0; 1_276]),
        Arrival::Refused,
        "too long"
    );
    assert_eq!(
        buf.push(1, 961, at, &bytes(1)),
        Arrival::Refused,
        "timestamp is not seq * 960"
    );
    assert_eq!(buf.push(5, 5 * 960, at, &bytes(5)), Arrival::Accepted);
    assert_eq!(
        buf.push(5 + 64, 69 * 960, at, &bytes(69)),
        Arrival::Refused,
        "far future"
    );
    assert_eq!(
        buf.push(4_000_000_000, 4_000_000_000u32.wrapping_mul(960), at, &[1]),
        Arrival::Refused
    );
    assert_eq!(buf.stats().refused, 5);
    assert_eq!(buf.len(), 1);
    // After playout has started, frames far behind it are refused, near ones are late.
    let out = run(
        &mut buf,
        (6..300).map(|s| (s, arrival(s, 0))).collect(),
        300,
    );
    assert!(played(&out).len() > 250);
    assert_eq!(
        buf.push(200, 200 * 960, tick(300), &bytes(200)),
        Arrival::Duplicate
    );
    assert_eq!(buf.push(2, 2 * 960, tick(300), &bytes(2)), Arrival::Refused);
}

#[test]
fn memory_is_bounded_and_the_soonest_frames_are_kept() {
    let config = JitterConfig {
        max_frames: 16,
        max_delay: Duration::from_millis(100),
        ..Default::default()
    };
    let mut buf = JitterBuffer::new(config).unwrap();
    let at = tick(0);
    for seq in (0..16).rev() {
        assert_eq!(buf.push(seq, seq * 960, at, &bytes(seq)), Arrival::Accepted);
    }
    assert_eq!(buf.len(), 16);
    // Full, and frame 16 plays after everything held: refused.
    assert_eq!(buf.push(16, 16 * 960, at, &bytes(16)), Arrival::Refused);
    assert_eq!(buf.len(), 16);
    let out = run(&mut buf, vec![], 30);
    assert_eq!(played(&out), (0..16).collect::<Vec<_>>());
}

#[test]
fn a_sender_that_jumps_far_ahead_is_followed_after_a_resync() {
    let mut buf = buffer();
    let out = run(&mut buf, (0..20).map(|s| (s, arrival(s, 30))).collect(), 25);
    assert_eq!(played(&out).len(), 20);
    // The sender restarts its numbering a million frames on.
    let jump = 1_000_000u32;
    let mut refused = 0;
    for k in 25..200u32 {
        let seq = jump + k;
        if buf.push(seq, seq.wrapping_mul(960), tick(u64::from(k)), &bytes(seq)) == Arrival::Refused
        {
            refused += 1;
        }
        buf.pop(tick(u64::from(k)));
    }
    assert_eq!(refused, 63);
    assert_eq!(buf.stats().resyncs, 1);
    let out: Vec<_> = (200..210).map(|k| buf.pop(tick(k))).collect();
    assert!(played(&out).iter().all(|&s| s > jump), "{out:?}");
}

#[test]
fn growth_inserts_concealment_without_a_sequence_number() {
    let config = JitterConfig {
        start_delay: Duration::from_millis(20),
        ..Default::default()
    };
    let mut buf = JitterBuffer::new(config).unwrap();
    // A steady path, then frames start arriving 60 ms later than before.
    let arrivals = (0..60)
        .map(|s| (s, arrival(s, if s < 30 { 5 } else { 65 })))
        .collect();
    let out = run(&mut buf, arrivals, 70);
    assert!(out.contains(&Playout::Conceal { seq: None }));
    // Waiting for the slower frames rather than concealing them: all but a few still play.
    assert!(played(&out).len() >= 55, "{:?}", buf.stats());
    assert!(buf.stats().inserted >= 2);
}

#[test]
fn inconsistent_settings_are_refused() {
    let bad = [
        JitterConfig {
            min_delay: Duration::from_millis(100),
            ..Default::default()
        },
        JitterConfig {
            start_delay: Duration::from_millis(300),
            ..Default::default()
        },
        JitterConfig {
            max_frames: 10,
            ..Default::default()
        },
        JitterConfig {
            window_frames: 0,
            ..Default::default()
        },
        JitterConfig {
            percentile: 101,
            ..Default::default()
        },
    ];
    for config in bad {
        assert!(JitterBuffer::new(config).is_err(), "{config:?}");
    }
}

#[test]
fn the_delay_moves_over_frames_that_arrived_only_while_it_is_quiet() {
    // Constant 10 ms transit: the start delay (60 ms) is well above target, so the buffer
    // wants to shrink by skipping frames that did arrive.
    let arrivals: Vec<_> = (0..400).map(|s| (s, arrival(s, 10))).collect();
    let mut network = Network::new(arrivals);
    let mut talking = buffer();
    talking.set_quiet(false);
    let out = network.run(&mut talking, 0..300);
    assert_eq!(talking.stats().skipped, 0, "nothing skipped mid-word");
    assert_eq!(
        played(&out).len(),
        played(&out).last().map_or(0, |&s| s as usize + 1)
    );
    // Quiet now: it shrinks.
    talking.set_quiet(true);
    network.run(&mut talking, 300..380);
    assert!(talking.stats().skipped >= 1, "{:?}", talking.stats());
    // Without the gate, it shrinks while talking too.
    let arrivals: Vec<_> = (0..400).map(|s| (s, arrival(s, 10))).collect();
    let mut ungated = JitterBuffer::new(JitterConfig {
        adjust_in_silence: false,
        ..JitterConfig::default()
    })
    .unwrap();
    ungated.set_quiet(false);
    run(&mut ungated, arrivals, 300);
    assert!(ungated.stats().skipped >= 1, "{:?}", ungated.stats());
}
