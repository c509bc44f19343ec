//! The `peerster` binary: processes on loopback find each other, form a cluster (its members
//! voting joiners in, unattended or from standard input), carry posts and anonymous messages
//! from standard input to the other members' standard output, and exit cleanly on SIGINT and
//! SIGTERM.

mod common;

use std::process::{Command, Stdio};

use common::Peerster;

#[test]
fn two_processes_verify_each_other_and_exit_cleanly() {
    let mut a = Peerster::run(&["--listen", "127.0.0.1:0"]);
    let a_addr = a.logged_addr();
    let mut b = Peerster::run(&["--listen", "127.0.0.1:0", "--peer", &a_addr]);
    let b_addr = b.logged_addr();

    b.err
        .wait_for(&["peer verified", &format!("addr={a_addr}")]);
    a.err
        .wait_for(&["peer verified", &format!("addr={b_addr}")]);

    let status = a.signal_and_wait("-INT");
    assert!(status.success(), "A exited with {status}");
    a.err.wait_for(&["shutting down", "SIGINT"]);
    a.err
        .wait_for(&["node stopped", "peers=1", "handshakes_completed=1"]);

    let status = b.signal_and_wait("-TERM");
    assert!(status.success(), "B exited with {status}");
    b.err.wait_for(&["shutting down", "SIGTERM"]);
    b.err.wait_for(&["node stopped", "handshakes_completed=1"]);
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_peerster"))
        .args(["run", "--listen", &addr])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on UDP {addr}")),
        "{stderr}"
    );
}

#[test]
fn a_joiner_and_the_founder_exchange_posts_from_stdin() {
    let mut a = Peerster::run(&[
        "--listen",
        "127.0.0.1:0",
        "--create-cluster",
        "--auto-vote",
        "yes",
        "--name",
        "alice",
    ]);
    let (a_id, a_addr) = a.id_and_addr();
    let created = a.out.wait_for(&["[cluster] created "]);
    let cluster = created.rsplit(' ').next().unwrap().to_string();

    let mut b = Peerster::run(&[
        "--listen",
        "127.0.0.1:0",
        "--join",
        &a_addr,
        "--name",
        "bob",
    ]);
    let (b_id, _) = b.id_and_addr();
    b.out
        .wait_for(&[&format!("[cluster] joined {cluster}, epoch 1, 2 members")]);
    a.out
        .wait_for(&[&format!("[cluster] epoch 1, 2 members (+{b_id})")]);

    b.type_line("hello from bob");
    a.out.wait_for(&[&format!("[post] {b_id}: hello from bob")]);
    a.type_line("hi bob\u{1b}[2J");
    b.out
        .wait_for(&[&format!(r"[post] {a_id}: hi bob\u{{1b}}[2J")]);

    // End of input does not stop B: it still receives posts.
    b.close_stdin();
    a.type_line("still there?");
    b.out.wait_for(&[&format!("[post] {a_id}: still there?")]);
    b.assert_running();

    for (node, id) in [(&mut a, &a_id), (&mut b, &b_id)] {
        let status = node.signal_and_wait("-INT");
        assert!(status.success(), "exited with {status}");
        // A node's own posts are not shown to it, and nothing was refused.
        let own = format!("[post] {id}: ");
        assert!(!node.out.seen.iter().any(|l| l.starts_with(&own)));
        assert!(!node.err.seen.iter().any(|l| l.starts_with("peerster: ")));
    }
}

#[test]
fn members_message_each_other_anonymously_from_stdin() {
    let yes = ["--auto-vote", "yes"];
    let mut a = Peerster::run(&[
        "--listen",
        "127.0.0.1:0",
        "--create-cluster",
        yes[0],
        yes[1],
    ]);
    let (a_id, a_addr) = a.id_and_addr();
    // B and C join at once (in one rollout, or one after the other: then B votes on C).
    let joiner = ["--listen", "127.0.0.1:0", "--join", &a_addr, yes[0], yes[1]];
    let mut b = Peerster::run(&joiner);
    let mut c = Peerster::run(&joiner);
    let (b_id, b_addr) = b.id_and_addr();
    let (c_id, _) = c.id_and_addr();
    for node in [&mut a, &mut b, &mut c] {
        node.out.wait_for(&["[cluster] ", ", 3 members"]);
    }

    // A's member table names B by its whole id, which any 4 or more of its digits select.
    a.type_line("/members");
    a.out.wait_for(&["[members] cluster ", ", 3 members"]);
    let b_row = a.out.wait_for(&[&format!("[members] {b_id}"), &b_addr]);
    let b_whole = b_row.split_whitespace().nth(1).unwrap().to_string();
    assert_eq!(b_whole.len(), 32, "{b_row}");
    a.out.wait_for(&["[members] ", " this node"]);
    a.out.wait_for(&["[members] anonymity: ", " live)"]);

    a.type_line(&format!("/anon {} hello", &b_whole[..6]));
    let sent = a
        .out
        .wait_for(&["[anon] thread ", &format!(" sent to {b_id}")]);
    let thread = sent.split_whitespace().nth(2).unwrap().to_string();
    // Three members are few to hide among.
    a.out
        .wait_for(&["[anon] warning: only ", " members to hide among (below 5)"]);
    b.out
        .wait_for(&[&format!("[anon] thread {thread} from anonymous: hello")]);
    a.out
        .wait_for(&[&format!("[anon] thread {thread} delivered")]);

    b.type_line(&format!("/reply {} hi", &thread[..4]));
    b.out
        .wait_for(&[&format!("[anon] thread {thread} reply sent")]);
    a.out
        .wait_for(&[&format!("[anon] thread {thread} from anonymous: hi")]);
    b.out
        .wait_for(&[&format!("[anon] thread {thread} delivered")]);

    // Signed, the sender is shown.
    c.type_line(&format!("/anon-signed {b_id} it is C"));
    b.out
        .wait_for(&["[anon] thread ", &format!(" from {c_id}: it is C")]);

    // Mistakes are reported and the node goes on.
    let nobody = ["0000", "ffff", "8888"]
        .into_iter()
        .find(|p| ![&a_id, &b_id, &c_id].iter().any(|id| id.starts_with(p)))
        .unwrap();
    a.type_line(&format!("/anon {nobody} anyone?"));
    a.err.wait_for(&[&format!(
        "peerster: no member of the cluster has an id starting with {nobody}"
    )]);
    a.type_line("/reply 9f9f9f9f hi");
    a.err
        .wait_for(&["peerster: no known thread has an id starting with 9f9f9f9f"]);
    a.type_line(&format!("/anon {a_id} hi me"));
    a.err.wait_for(&[
        "peerster: anonymous message refused: cannot send an anonymous message to oneself",
    ]);
    a.type_line("/frobnicate");
    a.err
        .wait_for(&["peerster: unknown command /frobnicate: /help lists the commands"]);
    a.type_line("/help");
    a.out.wait_for(&["[help] /reply THREAD TEXT"]);
    a.assert_running();
}

#[test]
fn a_founder_that_asks_votes_a_joiner_in_from_stdin() {
    let mut a = Peerster::run(&[
        "--listen",
        "127.0.0.1:0",
        "--create-cluster",
        "--auto-vote",
        "ask",
    ]);
    let (a_id, a_addr) = a.id_and_addr();
    a.out.wait_for(&["[cluster] created "]);
    // Nothing to vote on yet.
    a.type_line("/votes");
    a.out.wait_for(&["[votes] no open votes"]);

    let mut b = Peerster::run(&["--listen", "127.0.0.1:0", "--join", &a_addr]);
    let (b_id, _) = b.id_and_addr();
    let opened = a
        .out
        .wait_for(&["[vote] ", &format!(": admit {b_id}, proposed by {a_id}")]);
    let proposal = opened
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':');
    assert_eq!(proposal.len(), 8, "{opened}");

    a.type_line("/votes");
    let row = a.out.wait_for(&[&format!(
        "[votes] {proposal} admit {b_id}, proposed by {a_id}, round 0, deadline in "
    )]);
    assert!(row.ends_with(" s, open, my vote: none"), "{row}");

    // A prefix that names no open vote is reported; the right one casts the ballot.
    let other = ["0000", "ffff"]
        .into_iter()
        .find(|p| !proposal.starts_with(p))
        .unwrap();
    a.type_line(&format!("/vote {other} yes"));
    a.err.wait_for(&[&format!(
        "peerster: no open vote has an id starting with {other} (see /votes)"
    )]);
    a.type_line(&format!("/vote {} yes", &proposal[..4]));
    a.out.wait_for(&[&format!("[vote] {proposal}: voted yes")]);
    a.out.wait_for(&[&format!("[vote] {proposal}: accepted")]);
    b.out.wait_for(&["[cluster] joined ", "epoch 1, 2 members"]);
    a.out
        .wait_for(&[&format!("[cluster] epoch 1, 2 members (+{b_id})")]);

    // An expulsion opens a vote that every member sees; a member cannot expel itself.
    a.type_line(&format!("/expel {b_id}"));
    let proposed = a
        .out
        .wait_for(&["[vote] ", &format!(": expel {b_id} proposed")]);
    let expulsion = proposed
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':');
    b.out.wait_for(&[&format!(
        "[vote] {expulsion}: expel {b_id}, proposed by {a_id}"
    )]);
    a.type_line(&format!("/expel {a_id}"));
    a.err.wait_for(&[
        "peerster: expulsion refused: a member cannot expel itself; leave the cluster instead",
    ]);
    a.assert_running();
    b.assert_running();
}

#[test]
fn a_joiner_waits_for_a_contact_that_starts_late() {
    let hole = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let a_addr = hole.local_addr().unwrap().to_string();
    drop(hole);
    let mut b = Peerster::run(&["--listen", "127.0.0.1:0", "--join", &a_addr]);
    b.err
        .wait_for(&["joining a cluster", &format!("contact={a_addr}")]);

    // B's first handshake found nobody; its retries find A, and its join follows.
    let mut a = Peerster::run(&[
        "--listen",
        &a_addr,
        "--create-cluster",
        "--auto-vote",
        "yes",
    ]);
    b.out.wait_for(&["[cluster] joined ", "epoch 1, 2 members"]);
    a.out.wait_for(&["[cluster] epoch 1, 2 members"]);
    assert!(!b.err.seen.iter().any(|l| l.starts_with("peerster: ")));
}

#[test]
fn a_full_cluster_refuses_and_a_post_outside_a_cluster_is_reported() {
    let mut a = Peerster::run(&[
        "--listen",
        "127.0.0.1:0",
        "--create-cluster",
        "--limit",
        "1",
    ]);
    let (_, a_addr) = a.id_and_addr();
    a.out.wait_for(&["[cluster] created ", ", limit 1 members"]);

    let mut b = Peerster::run(&["--listen", "127.0.0.1:0", "--join", &a_addr]);
    b.out.wait_for(&[&format!(
        "[cluster] join refused by {a_addr}: the cluster is full"
    )]);

    b.type_line("anyone?");
    b.err
        .wait_for(&["peerster: post refused: not in a cluster"]);
    b.assert_running();
    a.assert_running();
}

#[test]
fn conflicting_cluster_flags_are_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_peerster"))
        .args([
            "run",
            "--listen",
            "127.0.0.1:0",
            "--create-cluster",
            "--join",
        ])
        .arg("127.0.0.1:9")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
