//! Two ends of a call on a perfect in-memory network, a fake clock, and the files of a plan.

use peerster_audio::signal::{best_lag, correlation, energy, synthetic_voice};
use peerster_audio::{SAMPLE_RATE_HZ, SAMPLES_PER_FRAME};

use super::ticker::TICK;
use super::*;

const CALL: CallId = [0x1a; 16];
const OTHER: CallId = [0x2b; 16];

fn files(dir: &tempfile::TempDir, input: &str, output: &str) -> CallFiles {
    CallFiles {
        input: dir.path().join(input),
        output: dir.path().join(output),
    }
}

/// Moves every frame one end's tick produced to the other end, arriving at `now`.
fn deliver(tick: &Tick, to: &mut CallAudio, now: Timestamp) {
    for (call, frame) in &tick.frames {
        to.push(now, *call, frame.seq, frame.timestamp, &frame.bytes);
    }
}

#[test]
fn a_plan_reads_its_input_and_creates_its_output_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let voice = synthetic_voice(4_800, 1);
    wav::write_wav(dir.path().join("in.wav"), &voice).unwrap();

    let plan = Plan::for_files(Some(&files(&dir, "in.wav", "out.wav"))).unwrap();
    assert!(matches!(&plan, Plan::Files { input, .. } if *input == voice));
    assert_eq!(
        wav::read_wav(dir.path().join("out.wav")).unwrap(),
        [0i16; 0]
    );

    let missing = Plan::for_files(Some(&files(&dir, "absent.wav", "out.wav"))).unwrap_err();
    assert!(
        matches!(&missing, CallAudioError::ReadInput { path, .. } if path.ends_with("absent.wav")),
        "{missing}"
    );
    let unwritable = Plan::for_files(Some(&files(&dir, "in.wav", "no/dir/out.wav"))).unwrap_err();
    assert!(
        matches!(&unwritable, CallAudioError::WriteOutput { .. }),
        "{unwritable}"
    );
}

#[test]
fn an_input_in_another_format_is_refused_with_its_format() {
    let dir = tempfile::tempdir().unwrap();
    // A 44.1 kHz file: the WAV header's sample rate (bytes 24..28) patched.
    let path = dir.path().join("cd.wav");
    wav::write_wav(&path, &[0; 100]).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[24..28].copy_from_slice(&44_100u32.to_le_bytes());
    bytes[28..32].copy_from_slice(&(2 * 44_100u32).to_le_bytes());
    std::fs::write(&path, bytes).unwrap();

    let error = Plan::for_files(Some(&files(&dir, "cd.wav", "out.wav"))).unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with("cannot read "), "{text}");
    assert!(text.contains("44100 Hz"), "{text}");
}

#[test]
fn no_files_is_the_default_plan() {
    let plan = Plan::for_files(None).unwrap();
    #[cfg(not(feature = "device"))]
    assert!(matches!(plan, Plan::Silent));
    #[cfg(feature = "device")]
    assert!(matches!(plan, Plan::Devices));
}

#[test]
fn what_one_end_says_the_other_records_then_the_call_hangs_up_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let said = synthetic_voice(SAMPLE_RATE_HZ as usize, 1); // one second
    wav::write_wav(dir.path().join("a.wav"), &said).unwrap();
    let mut a = CallAudio::default();
    let mut b = CallAudio::default();
    a.plan(
        CALL,
        Plan::for_files(Some(&files(&dir, "a.wav", "a-heard.wav"))).unwrap(),
    );
    let answer = synthetic_voice(4 * SAMPLE_RATE_HZ as usize, 2); // longer than the call
    b.plan(
        CALL,
        Plan::Files {
            input: answer.clone(),
            output: dir.path().join("b-heard.wav"),
        },
    );
    assert_eq!(a.next_tick(), None);

    // B connects (it answered) 40 ms before A hears of it.
    let mut now = Timestamp::from_secs(10);
    b.connect(CALL, now).unwrap();
    assert_eq!(b.next_tick(), Some(now));
    let mut used_up = Vec::new();
    for k in 0..150 {
        if k == 2 {
            a.connect(CALL, now).unwrap();
        }
        let from_a = a.tick(now);
        let from_b = b.tick(now);
        // A perfect network: each frame arrives in the same tick it was sent.
        deliver(&from_a, &mut b, now);
        deliver(&from_b, &mut a, now);
        used_up.extend(from_a.used_up.iter().map(|call| (k, *call)));
        assert!(from_b.used_up.is_empty());
        now += TICK;
    }
    // A's second of voice is 50 ticks from tick 2; it hangs up a second (50 ticks) later.
    assert_eq!(used_up, [(2 + 50 + 50, CALL)]);

    let heard = b.end(CALL).unwrap();
    assert_eq!(heard.path, dir.path().join("b-heard.wav"));
    assert_eq!(heard.samples.len(), 150 * SAMPLES_PER_FRAME);
    let (lag, corr) = best_lag(&said[..24_000], &heard.samples, 24_000);
    assert!(corr > 0.8, "correlation {corr} at lag {lag}");
    // A's first frame left at its tick 2 and played after the jitter buffer's start delay.
    assert!((2 * 960..=10 * 960).contains(&lag), "lag {lag}");
    // A heard B from its own connection on: B's first two frames went to no one.
    let a_heard = a.end(CALL).unwrap();
    assert_eq!(a_heard.samples.len(), 148 * SAMPLES_PER_FRAME);
    assert!(energy(&a_heard.samples) > 1e5);
    let (lag, corr) = best_lag(&answer[4_800..28_800], &a_heard.samples, 24_000);
    assert!(corr > 0.8, "correlation {corr} at lag {lag}");
    assert!(correlation(&said[..24_000], &a_heard.samples) < 0.2);
    assert_eq!(a.next_tick(), None, "the tick stops with the last call");
}

#[test]
fn a_call_that_never_connects_still_gives_its_empty_recording() {
    let mut audio = CallAudio::default();
    audio.plan(
        CALL,
        Plan::Files {
            input: vec![1; 960],
            output: "out.wav".into(),
        },
    );
    audio.plan(OTHER, Plan::Silent);
    let recording = audio.end(CALL).unwrap();
    assert!(recording.samples.is_empty());
    assert_eq!(audio.end(OTHER), None);
    assert_eq!(audio.end(OTHER), None, "ended twice");
    assert_eq!(audio.next_tick(), None);
}

#[test]
fn calls_share_one_tick_and_frames_of_unknown_calls_are_dropped() {
    let mut audio = CallAudio::default();
    let start = Timestamp::from_secs(1);
    audio.connect(CALL, start).unwrap();
    audio.push(start, [0x99; 16], 0, 0, &[1, 2, 3]);
    audio.push(start, CALL, 7, 7 * 960, &[0xff; 200]); // garbage: concealed, not a panic
    assert_eq!(audio.tick(start).frames.len(), 1);
    // A call connected later joins the grid of the first one.
    audio
        .connect(OTHER, start + Duration::from_millis(5))
        .unwrap();
    assert_eq!(audio.next_tick(), Some(start + TICK));
    let tick = audio.tick(start + TICK);
    let calls: Vec<CallId> = tick.frames.iter().map(|(call, _)| *call).collect();
    assert_eq!(calls, [CALL, OTHER]);
    assert_eq!(tick.frames[0].1.seq, 1);
    assert_eq!(tick.frames[1].1.seq, 0);
    // Silent sources never run out, so nothing hangs up.
    let mut now = start + TICK;
    for _ in 0..200 {
        now += TICK;
        assert!(audio.tick(now).used_up.is_empty());
    }
    assert_eq!(audio.end(CALL), None);
    assert!(audio.next_tick().is_some(), "OTHER still runs");
    assert_eq!(audio.end(OTHER), None);
    assert_eq!(audio.next_tick(), None);
}
