//! Cluster membership, the inbox and safety numbers driven only through `peerster ctl --json`:
//! a node founds a cluster with `create-cluster`, another `join`s it; a post and a signed
//! anonymous message from the joiner show in the founder's `inbox`, and the joiner's shows its
//! message delivered; both compute the same safety number; the joiner `leave`s.

mod common;

use std::time::{Duration, Instant};

use common::steps::{ctl_until, string};
use common::{Peerster, WAIT, ctl, ctl_output};
use serde_json::Value;

/// The entries of an `inbox` reply.
fn entries(inbox: &Value) -> &[Value] {
    inbox["inbox"].as_array().map_or(&[], Vec::as_slice)
}

fn members(reply: &Value) -> usize {
    reply["members"].as_array().map_or(0, Vec::len)
}

#[test]
fn a_cluster_made_and_joined_through_ctl_carries_posts_anonymous_messages_and_safety_numbers() {
    let started = Instant::now();
    let run = ["--listen", "127.0.0.1:0", "--auto-vote", "yes"];
    let mut a = Peerster::run(&run);
    let mut b = Peerster::run(&run);
    // The first replies once each node listens on its control socket.
    let status = ctl_until("wait", &a.data_dir, &["status"], WAIT, |_| true);
    assert!(status["cluster"].is_null(), "{status}");
    let (a_id, a_addr) = (string(&status["fingerprint"]), string(&status["listen"]));
    let b_id = string(&ctl_until("wait", &b.data_dir, &["status"], WAIT, |_| true)["fingerprint"]);

    // A founds a cluster, B joins it.
    let created = ctl(&a.data_dir, &["create-cluster", "--limit", "8"]);
    let cluster = string(&created["cluster"]);
    assert_eq!(cluster.len(), 16, "{created}");
    assert_eq!(created["limit"], 8, "{created}");
    assert_eq!(ctl(&a.data_dir, &["status"])["cluster"], cluster.as_str());
    let joining = ctl(&b.data_dir, &["join", &a_addr]);
    assert_eq!(joining["joining"], a_addr.as_str(), "{joining}");
    ctl_until("wait", &b.data_dir, &["status"], WAIT, |s| {
        s["cluster"] == cluster.as_str()
    });
    for node in [&a, &b] {
        ctl_until("wait", &node.data_dir, &["members"], WAIT, |m| {
            members(m) == 2
        });
    }

    // B posts, and sends A a signed anonymous message.
    ctl(&b.data_dir, &["post", "hello from B"]);
    let sent = ctl(&b.data_dir, &["send-anon", &a_id[..8], "psst", "--sign"]);
    let thread = string(&sent["thread"]);
    let inbox = ctl_until("wait", &a.data_dir, &["inbox"], WAIT, |i| {
        entries(i).len() == 2
    });
    let post = (entries(&inbox).iter())
        .find(|e| e["kind"] == "post")
        .unwrap_or_else(|| panic!("no post in {inbox}"));
    assert_eq!(post["text"], "hello from B", "{inbox}");
    assert_eq!(post["from"], b_id.as_str(), "{inbox}");
    assert_eq!(post["direction"], "in", "{inbox}");
    assert!(post.get("thread").is_none(), "{inbox}");
    let anon = (entries(&inbox).iter())
        .find(|e| e["kind"] == "anon")
        .unwrap_or_else(|| panic!("no anonymous message in {inbox}"));
    assert_eq!(anon["text"], "psst", "{inbox}");
    assert_eq!(anon["thread"], thread.as_str(), "{inbox}");
    assert_eq!(anon["from"], b_id.as_str(), "signed: {inbox}");
    assert_eq!(anon["direction"], "in", "{inbox}");
    assert!(anon["at_s"].is_u64(), "{inbox}");
    let last = ctl(&a.data_dir, &["inbox", "--limit", "1"]);
    assert_eq!(entries(&last).len(), 1, "{last}");

    // B's inbox: its post, and its message delivered once A acknowledged it.
    let b_inbox = ctl_until("wait", &b.data_dir, &["inbox"], WAIT, |i| {
        entries(i)
            .iter()
            .any(|e| e["kind"] == "anon" && e["state"] == "delivered")
    });
    let out = (entries(&b_inbox).iter())
        .find(|e| e["kind"] == "anon")
        .unwrap();
    assert_eq!(out["direction"], "out", "{b_inbox}");
    assert_eq!(out["thread"], thread.as_str(), "{b_inbox}");
    assert!(
        (entries(&b_inbox).iter())
            .any(|e| e["kind"] == "post" && e["direction"] == "out" && e["from"] == b_id.as_str()),
        "{b_inbox}"
    );

    // Both sides compute the same safety number.
    let on_a = ctl(&a.data_dir, &["safety-number", &b_id[..6]]);
    let on_b = ctl(&b.data_dir, &["safety-number", &a_id]);
    assert_eq!(on_a["fingerprint"], b_id.as_str(), "{on_a}");
    assert_eq!(on_b["fingerprint"], a_id.as_str(), "{on_b}");
    let number = string(&on_a["safety_number"]);
    assert_eq!(on_b["safety_number"], number.as_str());
    let groups: Vec<&str> = number.split(' ').collect();
    assert_eq!(groups.len(), 12, "{number}");
    assert!(groups.iter().all(|g| g.len() == 5), "{number}");
    let unknown = ctl_output(&a.data_dir, &["safety-number", "ffff"]);
    assert!(!unknown.status.success() || !b_id.starts_with("ffff"));

    // B leaves.
    let left = ctl(&b.data_dir, &["leave"]);
    assert_eq!(left["cluster"], cluster.as_str(), "{left}");
    assert!(ctl(&b.data_dir, &["status"])["cluster"].is_null());
    let again = ctl_output(&b.data_dir, &["leave"]);
    assert!(!again.status.success(), "a second leave is refused");

    a.assert_running();
    b.assert_running();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}
