//! `peerster tui` used as a person would: two real nodes in one cluster, a TUI on each under
//! tmux; a post typed in one TUI shows in the other's, the screen follows resizes (down to a
//! "too small" message and back), a node that stops is shown gone, and `q` quits with the
//! terminal restored; a join waits for the vote its founder casts with the TUI's `[Yes]`
//! button, a call is answered and hung up with the call panel's keys, and SIGTERM ends the TUI
//! as cleanly as `q`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::Peerster;
use common::steps::{STEP, ctl, ctl_until, start, string};
use common::tmux::{Tmux, ends_within};

/// How long a screen may take to show what it should (the TUI refreshes every second).
const SHOW: Duration = Duration::from_secs(15);

/// The shell command that runs the TUI on `dir`, then records how it exited and the terminal
/// modes it left (`stty -a`) in `report`, and waits (so the screen stays readable).
fn tui_command(dir: &Path, report: &Path) -> String {
    format!(
        "'{}' tui --data-dir '{}'; echo \"exit $?\" > '{r}'; stty -a >> '{r}'; sleep 600",
        env!("CARGO_BIN_EXE_peerster"),
        dir.display(),
        r = report.display(),
    )
}

/// Asserts that the TUI of session `name` exited with 0 after `how`, leaving the terminal's
/// modes as they were and the alternate screen, as its shell's `report` shows.
fn assert_left_cleanly(tmux: &Tmux, name: &str, report: &Path, how: &str) {
    let deadline = Instant::now() + SHOW;
    let report = loop {
        let report = std::fs::read_to_string(report).unwrap_or_default();
        if report.contains("speed") || Instant::now() > deadline {
            break report;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        report.starts_with("exit 0"),
        "the TUI of {name} did not exit 0 after {how}:\n{report}"
    );
    let modes: Vec<&str> = report.split_whitespace().collect();
    for restored in ["icanon", "echo", "icrnl", "opost"] {
        assert!(
            modes.contains(&restored),
            "{restored} not restored after {how}:\n{report}"
        );
    }
    let screen = tmux.screen(name);
    assert!(
        !screen.contains("Members ("),
        "the alternate screen was not left after {how}:\n{screen}"
    );
}

#[test]
fn a_post_typed_in_one_tui_shows_in_the_others_through_resizes_and_q_restores_the_terminal() {
    let started = Instant::now();
    let tmux = Tmux::new();
    let a = start();
    let mut b = start();
    let created = ctl("create", a.dir(), &["create-cluster"]);
    let cluster = string(&created["cluster"]);
    ctl("join", b.dir(), &["join", &a.addr]);
    ctl_until("joined", b.dir(), &["status"], STEP, |s| {
        s["cluster"] == cluster.as_str()
    });
    for node in [&a, &b] {
        ctl_until("members", node.dir(), &["members"], STEP, |m| {
            m["members"].as_array().is_some_and(|list| list.len() == 2)
        });
    }

    let reports = tempfile::tempdir().unwrap();
    let report_a = reports.path().join("a");
    tmux.start("a", 120, 40, &tui_command(a.dir(), &report_a));
    tmux.start(
        "b",
        120,
        40,
        &tui_command(b.dir(), &reports.path().join("b")),
    );
    let cluster_line = format!("cluster {cluster}");
    for session in ["a", "b"] {
        tmux.wait_for(
            session,
            &["● connected", "Members (2)", &cluster_line],
            SHOW,
        );
    }

    // Typed in A's TUI, shown in B's chat, and in A's as its own.
    tmux.type_text("a", "hello from the tui");
    tmux.press("a", "Enter");
    let seen_by_b = tmux.wait_for("b", &["hello from the tui"], SHOW);
    println!("B's screen after A's post:\n{seen_by_b}");
    tmux.wait_for("a", &["me: hello from the tui"], SHOW);

    // B's terminal shrinks to the smallest the panels take: still working both ways.
    tmux.resize("b", 60, 20);
    tmux.wait_for("b", &["Members (2)", "Chat"], SHOW);
    tmux.type_text("b", "small but working");
    tmux.press("b", "Enter");
    tmux.wait_for("a", &["small but working"], SHOW);
    // Smaller: a message instead of the panels; larger again: the panels are back.
    tmux.resize("b", 50, 15);
    tmux.wait_for("b", &["terminal too small", "have 50x15"], SHOW);
    tmux.resize("b", 100, 30);
    tmux.wait_for(
        "b",
        &["Members (2)", "hello from the tui", "small but working"],
        SHOW,
    );

    // B's node stops: its TUI says so, and keeps running to reconnect.
    b.process.signal_and_wait("-TERM");
    tmux.wait_for("b", &["NODE GONE", "node gone: no node runs on"], SHOW);

    // q on the input line types; outside it, it quits, leaving the terminal as it was.
    tmux.press("a", "Tab");
    tmux.press("a", "q");
    assert_left_cleanly(&tmux, "a", &report_a, "q");

    // B's terminal goes away (the tmux server is killed): its TUI, still waiting for its
    // node, ends with it rather than live on without a terminal.
    let b_tui = tmux.child_of_pane("b");
    drop(tmux);
    assert!(
        ends_within(b_tui, SHOW),
        "B's TUI (process {b_tui}) outlived its terminal: killed"
    );
    println!("took {:?}", started.elapsed());
}

#[test]
fn a_join_waits_for_the_vote_cast_with_the_yes_button_and_a_call_is_answered_with_a_key() {
    let tmux = Tmux::new();
    // A asks its user how to vote; B joins it.
    let a = Peerster::run(&[
        "--listen",
        "127.0.0.1:0",
        "--create-cluster",
        "--auto-vote",
        "ask",
    ]);
    let status = ctl_until("start", &a.data_dir, &["status"], STEP, |s| {
        !s["cluster"].is_null()
    });
    let (cluster, a_addr) = (string(&status["cluster"]), string(&status["listen"]));
    let b = start();
    let reports = tempfile::tempdir().unwrap();
    let report_a = reports.path().join("a");
    tmux.start("a", 120, 40, &tui_command(&a.data_dir, &report_a));
    tmux.wait_for("a", &["● connected", "Members (1)"], SHOW);
    ctl("join", b.dir(), &["join", &a_addr]);

    let b_short = &b.id[..8];
    let asked = tmux.wait_for(
        "a",
        &["Votes (1 open)", "admit", b_short, "[Yes] [No]"],
        SHOW,
    );
    println!("A's screen with the vote:\n{asked}");
    // To the votes panel, [No] then back to [Yes], Enter.
    for key in ["Tab", "Tab", "Tab", "Tab", "Right", "Left", "Enter"] {
        tmux.press("a", key);
    }
    // (B joining shows the ballot was yes; the status bar's "voted yes" may already have
    // given way to the vote's outcome.)
    ctl_until("joined", b.dir(), &["status"], STEP, |s| {
        s["cluster"] == cluster.as_str()
    });
    tmux.wait_for("a", &["Members (2)", b_short], SHOW);

    // B calls A: A's call panel (one Tab on from the votes) answers, then hangs up.
    ctl("call", b.dir(), &["call", &string(&status["fingerprint"])]);
    tmux.wait_for(
        "a",
        &["incoming from anonymous", "a answer · d decline"],
        SHOW,
    );
    tmux.press("a", "Tab");
    tmux.press("a", "a");
    // (The status bar says "answered", or "connected" if that event came after the reply.)
    tmux.wait_for("a", &["active with anonymous", "h hang up"], SHOW);
    tmux.press("a", "h");
    tmux.wait_for("a", &["hung up", "no call"], SHOW);
    ctl_until("call ended", b.dir(), &["calls"], STEP, |c| {
        c["calls"].as_array().is_some_and(Vec::is_empty)
    });

    // SIGTERM ends the TUI as q does.
    let tui = tmux.child_of_pane("a");
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &tui.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert_left_cleanly(&tmux, "a", &report_a, "SIGTERM");
}
