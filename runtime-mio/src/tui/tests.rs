//! The TUI drawn on ratatui's `TestBackend`: what a person would see for a given state, at
//! the usual size, the smallest, and every size in between and below.

use std::path::Path;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

use super::link::{Incoming, Part, Purpose};
use super::render::{self, MIN_HEIGHT, MIN_WIDTH};
use super::state::{App, Focus};

const ME: &str = "1f2e3d4c5b6a79881a2b3c4d5e6f7081";
const BOB: &str = "0a0b0c0d0e0f10111213141516171819";

fn refreshed(app: &mut App, part: Part, value: serde_json::Value) {
    app.apply(Incoming::Reply {
        purpose: Purpose::Refresh(part),
        outcome: Ok(value),
    });
}

/// A node in a cluster with Bob, a post each way, an anonymous thread, an open vote and an
/// incoming call.
fn busy_app() -> App {
    let mut app = App::new(Path::new("/data"));
    app.apply(Incoming::Watching);
    refreshed(
        &mut app,
        Part::Status,
        json!({"ok": true, "fingerprint": ME, "name": "alice", "listen": "127.0.0.1:7000",
               "cluster": "5a6b7c8d9e0f1a2b", "epoch": 3, "peers": 1}),
    );
    refreshed(
        &mut app,
        Part::Members,
        json!({"ok": true, "cluster": "5a6b7c8d9e0f1a2b", "epoch": 3, "epoch_key_age_s": 42,
               "members": [
                   {"fingerprint": ME, "name": "alice", "last_heard_s": null, "this_node": true},
                   {"fingerprint": BOB, "name": "bob", "last_heard_s": 4, "this_node": false}],
               "anonymity": {"anonymity_set": 1, "low": true}}),
    );
    refreshed(
        &mut app,
        Part::Votes,
        json!({"ok": true, "votes": [{"id": "5e6f7a8b00000000", "kind": "expel", "subject": BOB,
               "deadline": 52, "state": "open", "my_vote": null}]}),
    );
    refreshed(
        &mut app,
        Part::Calls,
        json!({"ok": true, "calls": [{"call": "9a8b7c6d00", "state": "incoming", "role": "callee",
               "peer": null, "duration_s": 2}]}),
    );
    refreshed(
        &mut app,
        Part::Inbox,
        json!({"ok": true, "inbox": [
            {"kind": "post", "direction": "in", "text": "hello from bob", "from": BOB},
            {"kind": "post", "direction": "out", "text": "hi bob\u{1b}[31m", "from": ME},
            {"kind": "anon", "direction": "in", "text": "psst", "thread": "77aa88bb99"}]}),
    );
    app
}

/// Asserts that `screen` shows each of `expected`.
fn shows(screen: &str, expected: &[&str]) {
    for expected in expected {
        assert!(screen.contains(expected), "no {expected:?} on\n{screen}");
    }
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| render::draw(frame, app)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

#[test]
fn every_panel_shows_what_the_node_said() {
    let app = busy_app();
    shows(
        &screen(&app, 120, 40),
        &[
            "● connected · alice 1f2e3d4c · 127.0.0.1:7000 · 1 peers",
            "● connected",
            "Members (2)",
            "0a0b0c0d bob 4 s ago",
            "1f2e3d4c alice me",
            "cluster 5a6b7c8d9e0f1a2b",
            "epoch 3 · key age 42 s",
            "hides among 1 (low)",
            "bob: hello from bob",
            "me: hi bob\\u{1b}[31m",
            "77aa88bb 1 message · received",
            "anonymous: psst",
            "Votes (1 open)",
            "5e6f7a8b expel 0a0b0c0d (bob)",
            "[Yes] [No] 52 s left",
            "9a8b7c6d 2 s",
            "incoming from anonymous",
            "a answer · d decline",
            "Post, or /command",
        ],
    );
}

#[test]
fn errors_and_a_lost_node_are_shown_plainly() {
    let mut app = busy_app();
    app.apply(Incoming::Reply {
        purpose: Purpose::User("vote".into()),
        outcome: Err(super::link::Failure::Refused(
            "vote refused: already voted".into(),
        )),
    });
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("✗ vote refused: already voted"), "{shown}");
    app.apply(Incoming::WatchLost("no node runs on /data".into()));
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("NODE GONE"), "{shown}");
    assert!(
        shown.contains("✗ node gone: no node runs on /data; retrying every second"),
        "{shown}"
    );
    app.apply(Incoming::Watching);
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("● connected"), "{shown}");
    assert!(!shown.contains("node gone"), "{shown}");
}

#[test]
fn the_input_line_shows_what_is_typed_and_scrolls_with_the_cursor() {
    let mut app = busy_app();
    let long = "x".repeat(200) + "END";
    for c in long.chars() {
        app.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    let screen = screen(&app, 80, 24);
    assert!(screen.contains("xxxEND"), "{screen}");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|frame| render::draw(frame, &app)).unwrap();
    let cursor = terminal.get_cursor_position().unwrap();
    assert_eq!(cursor.y, 24 - 3, "on the input line");
    assert!(cursor.x < 80);
}

#[test]
fn the_help_lists_the_commands() {
    let mut app = busy_app();
    app.help = true;
    shows(
        &screen(&app, 120, 40),
        &[
            "/anon MEMBER TEXT",
            "/reply THREAD TEXT",
            "/expel MEMBER",
            "/join ADDR",
            "any key closes this help",
        ],
    );
}

#[test]
fn a_narrow_terminal_shows_the_panels_in_two_columns_and_a_tiny_one_says_so() {
    let mut app = busy_app();
    app.focus = Focus::Votes;
    // 80x24: two columns, the key rollout on a line of its own.
    shows(
        &screen(&app, 80, 24),
        &[
            "● connected",
            "keys: epoch 3 · key age 42 s · 2 members",
            "0a0b0c0d bob 4 s ago",
            "bob: hello from bob",
            "5e6f7a8b expel 0a0b0c0d (bob)",
            "[Yes] [No] 52 s left",
            "incoming from anonymous",
            "77aa88bb 1 message · received",
        ],
    );
    let smallest = screen(&app, MIN_WIDTH, MIN_HEIGHT);
    shows(
        &smallest,
        &[
            "● connected",
            "keys: epoch 3",
            "Members (2)",
            "Votes (1 open)",
            "Call",
            "Chat",
            "Anonymous threads",
        ],
    );
    assert!(!smallest.contains("too small"), "{smallest}");
    let tiny = screen(&app, MIN_WIDTH - 1, MIN_HEIGHT);
    shows(&tiny, &["terminal too small", "need 60x20, have 59x20"]);
}

#[test]
fn no_size_makes_drawing_panic() {
    let mut app = busy_app();
    app.help = true;
    for width in (0..=130).step_by(7).chain([MIN_WIDTH, MIN_WIDTH + 1]) {
        for height in (0..=45).step_by(3).chain([MIN_HEIGHT, MIN_HEIGHT + 1]) {
            for help in [false, true] {
                app.help = help;
                screen(&app, width, height);
            }
        }
    }
}

#[test]
fn the_chat_keeps_the_latest_posts_in_view_and_scrolls_back() {
    let mut app = busy_app();
    let posts: Vec<serde_json::Value> = (0..50)
        .map(|i| json!({"kind": "post", "direction": "in", "text": format!("post number {i}"), "from": BOB}))
        .collect();
    refreshed(&mut app, Part::Inbox, json!({"ok": true, "inbox": posts}));
    let latest = screen(&app, 120, 40);
    assert!(latest.contains("post number 49"), "{latest}");
    assert!(!latest.contains("post number 10 "), "{latest}");
    app.focus = Focus::Chat;
    for _ in 0..4 {
        app.key(KeyEvent::new(KeyCode::PageUp, KeyModifiers::NONE));
    }
    let back = screen(&app, 120, 40);
    assert!(back.contains("post number 9"), "{back}");
    assert!(!back.contains("post number 49"), "{back}");
    assert!(back.contains("40 newer below"), "{back}");
}

#[test]
fn before_the_node_answers_every_panel_says_what_is_missing() {
    let app = App::new(Path::new("/data"));
    shows(
        &screen(&app, 120, 40),
        &[
            "connecting to the node of /data",
            "not in a cluster:",
            "no cluster, no key",
            "no posts yet",
            "none: /anon MEMBER TEXT starts one",
            "no votes",
            "no call: /call MEMBER",
        ],
    );
}
