//! `peerster demo --nodes 4`: the README's first command runs the whole story in one process
//! and exits 0 within a minute, telling every step.

mod common;

use std::time::{Duration, Instant};

use common::output_within;

/// The demo's promise: the whole story within a minute.
const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn the_demo_tells_every_step_of_the_story_and_exits_0() {
    let started = Instant::now();
    let output = output_within(&["demo".as_ref(), "--nodes".as_ref(), "4".as_ref()], MINUTE);
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}\n{stdout}\n{stderr}",
        output.status
    );
    // The numbered steps, by their tags, in order: one join per node after the founder.
    let tags: Vec<&str> = (stdout.lines())
        .filter_map(|line| {
            let (number, rest) = line.trim_start().split_once(". ")?;
            number.parse::<usize>().ok()?;
            rest.split_whitespace().next()
        })
        .collect();
    let story = [
        "start",
        "found",
        "join",
        "join",
        "join",
        "post",
        "anon",
        "reply",
        "call",
        "expel",
        "rollout",
        "locked-out",
        "done",
    ];
    assert_eq!(tags, story, "{stdout}");
    let line = |tag: &str| {
        (stdout.lines())
            .find(|l| l.split_whitespace().nth(1) == Some(tag))
            .unwrap_or_default()
    };
    assert!(line("start").contains("4 nodes: alice "), "{stdout}");
    for joiner in ["bob", "carol", "dave"] {
        assert!(
            stdout.contains(&format!("{joiner} asks alice to join; vote ")),
            "{stdout}"
        );
    }
    assert_eq!(stdout.matches("-> accepted").count(), 4, "{stdout}");
    assert!(line("post").contains("(3 of 3)"), "{stdout}");
    assert!(stdout.contains("opened none"), "{stdout}");
    assert!(stdout.contains("voice frames"), "{stdout}");
    assert!(line("expel").contains("dave no -> accepted"), "{stdout}");
    // What the expelled member was handed, all of which it failed to decrypt.
    let number_after = |prefix: &str| -> u64 {
        let at = stdout
            .find(prefix)
            .unwrap_or_else(|| panic!("{prefix}: {stdout}"));
        let digits: String = (stdout[at + prefix.len()..].chars())
            .take_while(char::is_ascii_digit)
            .collect();
        digits
            .parse()
            .unwrap_or_else(|_| panic!("{prefix}: {stdout}"))
    };
    let handed = number_after("dave, handed the ");
    assert!(handed > 0, "{stdout}");
    assert_eq!(number_after("failed to decrypt "), handed, "{stdout}");
    assert!(took < MINUTE, "took {took:?}");
    eprintln!("the demo took {took:?}:\n{stdout}");
}

#[test]
fn too_few_nodes_are_refused_with_a_message() {
    let output = output_within(
        &["demo".as_ref(), "--nodes".as_ref(), "2".as_ref()],
        Duration::from_secs(10),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--nodes"), "{stderr}");
}
