//! Restart: three real `peerster run` processes in one cluster, driven only through
//! `peerster ctl --json`. One member is killed (`kill -9`, or a clean SIGTERM) and started
//! again on the same data directory and port: it resumes its membership from its `cluster`
//! file with no vote held, every member lists it again and hears from it, it reads a post
//! made after the restart and the others read its next post. A damaged cluster file stops
//! the node with a message naming it. Each process has its own
//! temporary data directory and a port the OS picked; all are killed when the test ends,
//! passed or failed.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use common::refused_start;
use common::steps::{
    Node, STEP, ctl, ctl_until, found_cluster, holds_post, run_voting_yes, start, start_with,
};
use peerster_mio::cluster_path;
use serde_json::Value;

/// How long the restarted member stays down: longer than the `last_heard_s` that tells its
/// heartbeats after the restart from those before.
const DOWN: Duration = Duration::from_secs(3);

/// A cluster of three: `a` founded it, `b` and `c` joined; `c` runs on `c_dir`.
struct Three {
    a: Node,
    b: Node,
    c: Node,
    cluster: String,
    epoch: u64,
}

fn three_members(c_dir: &Path) -> Three {
    let c_dir = c_dir.to_str().expect("a UTF-8 path");
    let mut nodes = vec![start(), start(), start_with(&["--data-dir", c_dir])];
    let cluster = found_cluster(&nodes);
    let members = ctl("members", nodes[0].dir(), &["members"]);
    let epoch = members["epoch"].as_u64().unwrap();
    let c = nodes.pop().unwrap();
    let b = nodes.pop().unwrap();
    let a = nodes.pop().unwrap();
    Three {
        a,
        b,
        c,
        cluster,
        epoch,
    }
}

/// The `members` entry of the member `id` in a `members` reply.
fn member<'a>(members: &'a Value, id: &str) -> Option<&'a Value> {
    members["members"]
        .as_array()?
        .iter()
        .find(|m| m["fingerprint"] == id)
}

/// Starts `c` again on its data directory and port, and checks that it resumed its membership
/// with no vote: it is in the cluster at once, in the same epoch; the others list it and hear
/// its heartbeats again (heard less than [`DOWN`] ago); nobody holds a vote.
fn restart_and_check(three: &mut Three, c_dir: &Path) {
    let dir = c_dir.to_str().unwrap();
    let addr = three.c.addr.clone();
    three.c = run_voting_yes(&["--listen", &addr, "--data-dir", dir]);
    assert_eq!(three.c.addr, addr, "the same port");
    let status = ctl("resumed", three.c.dir(), &["status"]);
    assert_eq!(status["cluster"], three.cluster.as_str(), "{status}");
    assert_eq!(status["epoch"], three.epoch, "{status}");
    let c_id = three.c.id.clone();
    for node in [&three.a, &three.b] {
        let members = ctl_until("heard again", node.dir(), &["members"], STEP, |m| {
            member(m, &c_id)
                .and_then(|c| c["last_heard_s"].as_u64())
                .is_some_and(|s| s < DOWN.as_secs() - 1)
        });
        assert_eq!(members["members"].as_array().unwrap().len(), 3, "{members}");
        assert_eq!(members["epoch"], three.epoch, "no new epoch: {members}");
    }
    for node in [&three.a, &three.b, &three.c] {
        let votes = ctl("votes", node.dir(), &["votes"]);
        assert_eq!(votes["votes"].as_array().map(Vec::len), Some(0), "{votes}");
    }
}

/// A post from `a` after the restart reaches `c`, and `c`'s next post reaches `a` and `b`.
fn posts_flow_again(three: &Three, tag: &str) {
    let to_c = format!("after the {tag} restart, from a");
    ctl("post", three.a.dir(), &["post", &to_c]);
    ctl_until("post reaches c", three.c.dir(), &["inbox"], STEP, |i| {
        holds_post(i, &to_c, &three.a.id)
    });
    let from_c = format!("c is back after the {tag} restart");
    ctl("post", three.c.dir(), &["post", &from_c]);
    for node in [&three.a, &three.b] {
        ctl_until("post of c", node.dir(), &["inbox"], STEP, |i| {
            holds_post(i, &from_c, &three.c.id)
        });
    }
}

/// The cluster file of `dir` exists and is private.
fn assert_private_cluster_file(dir: &Path) {
    let path = cluster_path(dir);
    let mode = std::fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{}", path.display());
}

#[test]
fn a_member_killed_with_sigkill_resumes_its_membership_and_reads_new_posts() {
    let started = Instant::now();
    let c_dir = tempfile::tempdir().unwrap();
    let mut three = three_members(c_dir.path());
    // c posts before the crash: its next post must be numbered after this one.
    let before = "c before the crash";
    ctl("post", three.c.dir(), &["post", before]);
    ctl_until("post of c", three.a.dir(), &["inbox"], STEP, |i| {
        holds_post(i, before, &three.c.id)
    });
    assert_private_cluster_file(c_dir.path());

    let killed = three.c.process.signal_and_wait("-KILL");
    assert!(!killed.success());
    thread::sleep(DOWN);
    restart_and_check(&mut three, c_dir.path());
    posts_flow_again(&three, "kill -9");
    eprintln!("kill -9 restart test took {:?}", started.elapsed());
}

#[test]
fn a_member_stopped_with_sigterm_resumes_its_membership_and_leaving_removes_the_file() {
    let started = Instant::now();
    let c_dir = tempfile::tempdir().unwrap();
    let mut three = three_members(c_dir.path());
    let stopped = three.c.process.signal_and_wait("-TERM");
    assert!(stopped.success(), "{stopped:?}");
    assert_private_cluster_file(c_dir.path());
    thread::sleep(DOWN);
    restart_and_check(&mut three, c_dir.path());
    posts_flow_again(&three, "SIGTERM");

    // Leaving removes the file: the next start is outside the cluster.
    ctl("leave", three.c.dir(), &["leave"]);
    let path = cluster_path(c_dir.path());
    let deadline = Instant::now() + STEP;
    while path.exists() {
        assert!(Instant::now() < deadline, "{} still there", path.display());
        thread::sleep(Duration::from_millis(100));
    }
    eprintln!("SIGTERM restart test took {:?}", started.elapsed());
}

#[test]
fn a_damaged_cluster_file_stops_the_node_naming_the_file_and_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let args = ["--listen", "127.0.0.1:0", "--data-dir", data];
    let mut node = start_with(&["--data-dir", data]);
    ctl("create-cluster", node.dir(), &["create-cluster"]);
    assert!(node.process.signal_and_wait("-TERM").success());
    let path = cluster_path(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, &bytes).unwrap();

    let output = refused_start(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    assert!(stderr.contains("checksum does not match"), "{stderr}");
    assert!(
        stderr.contains("remove it to start outside the cluster"),
        "{stderr}"
    );
    // Left for the user; once removed, the node starts outside any cluster.
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    std::fs::remove_file(&path).unwrap();
    let node = start_with(&["--data-dir", data]);
    assert!(ctl("status", node.dir(), &["status"])["cluster"].is_null());
}
