//! The `peerster` binary: an anonymous voice call between two of three processes on
//! loopback, driven by WAV files from standard input; what one end said is what the other end
//! recorded, the call ends by itself when the caller's file is used up, and the third member
//! sees nothing of it.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::Peerster;
use peerster_audio::signal::{best_lag, energy, synthetic_voice};
use peerster_audio::wav::{read_wav, write_wav};
use peerster_audio::{SAMPLE_RATE_HZ, SAMPLES_PER_FRAME};

const RATE: usize = SAMPLE_RATE_HZ as usize;

/// Three processes in one cluster, voting each other in; with their short ids.
fn three_members() -> [(Peerster, String); 3] {
    let yes = ["--auto-vote", "yes"];
    let mut a = Peerster::run(&[
        "--listen",
        "127.0.0.1:0",
        "--create-cluster",
        yes[0],
        yes[1],
    ]);
    let (a_id, a_addr) = a.id_and_addr();
    let joiner = ["--listen", "127.0.0.1:0", "--join", &a_addr, yes[0], yes[1]];
    let mut b = Peerster::run(&joiner);
    let mut c = Peerster::run(&joiner);
    let (b_id, _) = b.id_and_addr();
    let (c_id, _) = c.id_and_addr();
    for node in [&mut a, &mut b, &mut c] {
        node.out.wait_for(&["[cluster] ", ", 3 members"]);
    }
    [(a, a_id), (b, b_id), (c, c_id)]
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

#[test]
fn a_call_carries_a_wav_file_to_the_callee_and_ends_when_it_is_used_up() {
    let dir = tempfile::tempdir().unwrap();
    let (a_in, a_out) = (
        dir.path().join("a-says.wav"),
        dir.path().join("a-heard.wav"),
    );
    let (b_in, b_out) = (
        dir.path().join("b-says.wav"),
        dir.path().join("b-heard.wav"),
    );
    // A says two seconds; B would say four, but A's file ends the call first.
    let said_by_a = synthetic_voice(2 * RATE, 1);
    let said_by_b = synthetic_voice(4 * RATE, 2);
    write_wav(&a_in, &said_by_a).unwrap();
    write_wav(&b_in, &said_by_b).unwrap();
    let [(mut a, a_id), (mut b, b_id), (mut c, c_id)] = three_members();

    // Mistakes are reported, and the node goes on.
    let nobody = ["0000", "ffff", "8888"]
        .into_iter()
        .find(|p| ![&a_id, &b_id, &c_id].iter().any(|id| id.starts_with(p)))
        .unwrap();
    a.type_line(&format!("/call {nobody}"));
    a.err.wait_for(&[&format!(
        "peerster: no member of the cluster has an id starting with {nobody}"
    )]);
    a.type_line("/answer 9f9f");
    a.err
        .wait_for(&["peerster: no call has an id starting with 9f9f (see /calls)"]);
    let absent = dir.path().join("absent.wav");
    a.type_line(&format!(
        "/call {b_id} {} {}",
        path_str(&absent),
        path_str(&a_out)
    ));
    a.err
        .wait_for(&[&format!("peerster: cannot read {}: ", path_str(&absent))]);
    a.type_line("/calls");
    a.out.wait_for(&["[calls] no calls"]);
    a.assert_running();

    // A calls B anonymously; B answers with its own files.
    let started = Instant::now();
    a.type_line(&format!(
        "/call {b_id} {} {}",
        path_str(&a_in),
        path_str(&a_out)
    ));
    let calling = a.out.wait_for(&["[call] ", &format!(" calling {b_id}")]);
    let call = calling.split_whitespace().nth(1).unwrap().to_string();
    assert_eq!(call.len(), 8, "{calling}");
    b.out.wait_for(&[&format!(
        "[call] {call} incoming from anonymous (answer with /answer {})",
        &call[..4]
    )]);
    b.type_line(&format!(
        "/answer {} {} {}",
        &call[..4],
        path_str(&b_in),
        path_str(&b_out)
    ));
    b.out.wait_for(&[&format!("[call] {call} connected")]);
    a.out.wait_for(&[&format!("[call] {call} connected")]);
    b.type_line("/calls");
    b.out.wait_for(&[&format!(
        "[calls] {call} active, callee, with anonymous, for "
    )]);
    a.type_line("/calls");
    a.out
        .wait_for(&[&format!("[calls] {call} active, caller, with {b_id}, for ")]);

    // Two seconds of voice, one of silence, then A hangs up by itself.
    a.out.wait_for(&[&format!(
        "[call] {call} ended: hung up here: the input file ended"
    )]);
    let lasted = started.elapsed();
    b.out
        .wait_for(&[&format!("[call] {call} ended: the other end hung up")]);
    b.out.wait_for(&[
        &format!("[call] {call} heard "),
        &format!(" s, written to {}", path_str(&b_out)),
    ]);
    a.out.wait_for(&[
        &format!("[call] {call} heard "),
        &format!(" s, written to {}", path_str(&a_out)),
    ]);
    assert!(
        (Duration::from_secs(3)..Duration::from_secs(8)).contains(&lasted),
        "the call lasted {lasted:?}"
    );

    // B recorded what A said: 48 kHz mono (read_wav refuses anything else), loud, and the
    // same waveform once aligned.
    let heard_by_b = read_wav(&b_out).unwrap();
    assert!(
        heard_by_b.len() > 5 * RATE / 2,
        "{} samples",
        heard_by_b.len()
    );
    assert!(energy(&heard_by_b) > 1e5, "energy {}", energy(&heard_by_b));
    let (lag, corr) = best_lag(&said_by_a[..RATE / 2], &heard_by_b, RATE);
    eprintln!(
        "B heard A {:.0} ms late, correlation {corr:.2}; the call lasted {lasted:?}",
        lag as f64 * 1e3 / RATE as f64
    );
    assert!(
        corr > 0.5,
        "B's recording matches A's voice only to {corr:.2} (lag {lag} samples)"
    );
    assert!(
        lag >= SAMPLES_PER_FRAME,
        "lag {lag}: it went through a network"
    );
    // A recorded B, from A's connection on.
    let heard_by_a = read_wav(&a_out).unwrap();
    assert!(energy(&heard_by_a) > 1e5, "energy {}", energy(&heard_by_a));

    // The call is over everywhere; C, which relayed its voice, saw nothing of it.
    for node in [&mut a, &mut b, &mut c] {
        node.type_line("/calls");
        node.out.wait_for_new(&["[calls] no calls"]);
        node.assert_running();
    }
    assert!(
        !c.out.seen.iter().any(|line| line.starts_with("[call]")),
        "C: {:?}",
        c.out.seen
    );
    for node in [&mut b, &mut c] {
        node.err.take_pending();
        let failures: Vec<&String> = node
            .err
            .seen
            .iter()
            .filter(|l| l.starts_with("peerster: "))
            .collect();
        assert!(failures.is_empty(), "{failures:?}");
    }
}
