//! Five `peerster run` processes on loopback, driven only through `peerster ctl --json`: one
//! founds a cluster and four join it one after another; every member sees the same five
//! members; a post reaches the four others; an anonymous message reaches only its recipient;
//! then the members vote one of them out, and it no longer receives the posts.
//!
//! Every node listens on a port the OS picks and keeps its data in its own temporary
//! directory, so parallel runs do not collide; the processes are killed when the test ends,
//! whether it passed or not.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::steps::{
    Node, STEP, ctl, ctl_until, entries, fingerprints, found_cluster, holds_post, start, string,
};
use serde_json::Value;

/// How long the members may take to vote one out and roll out the next epoch's key.
const EXPULSION: Duration = Duration::from_secs(60);

/// How long a post that must not arrive is given to arrive anyway.
const GRACE: Duration = Duration::from_secs(2);

/// Whether an `inbox` reply holds an entry with `text`.
fn holds(inbox: &Value, text: &str) -> bool {
    entries(inbox).iter().any(|e| e["text"] == text)
}

#[test]
fn five_nodes_join_post_whisper_and_vote_one_out() {
    let started = Instant::now();
    let mut nodes: Vec<Node> = (0..5).map(|_| start()).collect();

    // Node 0 founds the cluster; nodes 1 to 4 join it through node 0, one after another;
    // every member lists the same five members.
    let cluster = found_cluster(&nodes);
    let mut everyone: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
    everyone.sort();

    // A post from node 1 reaches the four others.
    let post = format!("hello from node 1 to cluster {cluster}");
    ctl("post", nodes[1].dir(), &["post", &post]);
    for (at, node) in nodes.iter().enumerate().filter(|(at, _)| *at != 1) {
        let step = format!("post reaches node {at}");
        ctl_until(&step, node.dir(), &["inbox"], STEP, |i| {
            holds_post(i, &post, &nodes[1].id)
        });
    }

    // An anonymous message from node 2 reaches node 3, and only node 3.
    let whisper = format!("psst, node 3, in cluster {cluster}");
    let sent = ctl(
        "send-anon",
        nodes[2].dir(),
        &["send-anon", &nodes[3].id, &whisper],
    );
    let thread = string(&sent["thread"]);
    let inbox = ctl_until(
        "anon reaches node 3",
        nodes[3].dir(),
        &["inbox"],
        STEP,
        |i| holds(i, &whisper),
    );
    let got = (entries(&inbox).iter())
        .find(|e| e["text"] == whisper.as_str())
        .unwrap();
    assert_eq!(got["kind"], "anon", "step \"anon reaches node 3\": {inbox}");
    assert_eq!(
        got["direction"], "in",
        "step \"anon reaches node 3\": {inbox}"
    );
    assert_eq!(
        got["thread"],
        thread.as_str(),
        "step \"anon reaches node 3\": {inbox}"
    );
    assert!(
        got.get("from").is_none(),
        "step \"anon reaches node 3\": unsigned, yet: {inbox}"
    );
    ctl_until("anon delivered", nodes[2].dir(), &["inbox"], STEP, |i| {
        (entries(i).iter()).any(|e| {
            e["kind"] == "anon"
                && e["direction"] == "out"
                && e["thread"] == thread.as_str()
                && e["state"] == "delivered"
        })
    });
    for at in [0, 1, 4] {
        let inbox = ctl("anon elsewhere", nodes[at].dir(), &["inbox"]);
        assert!(
            !holds(&inbox, &whisper),
            "step \"anon reaches only node 3\": node {at} holds it: {inbox}"
        );
    }

    // Node 0 proposes to expel node 4; the members vote it out and roll out a new key.
    let expelled = nodes[4].id.clone();
    let proposed = ctl("expel", nodes[0].dir(), &["expel", &expelled]);
    assert_eq!(
        proposed["member"],
        expelled.as_str(),
        "step \"expel\": {proposed}"
    );
    let remaining: Vec<String> = everyone.into_iter().filter(|id| *id != expelled).collect();
    let deadline = Instant::now() + EXPULSION;
    for (at, node) in nodes[..4].iter().enumerate() {
        let step = format!("node {at} sees node 4 expelled");
        let within = deadline.saturating_duration_since(Instant::now());
        ctl_until(&step, node.dir(), &["members"], within, |m| {
            fingerprints(m) == remaining
        });
    }

    // A post from node 1 reaches nodes 0, 2 and 3, and not node 4.
    let after = format!("node 4 is out of cluster {cluster}");
    ctl("post after expulsion", nodes[1].dir(), &["post", &after]);
    for at in [0, 2, 3] {
        let step = format!("post after expulsion reaches node {at}");
        ctl_until(&step, nodes[at].dir(), &["inbox"], STEP, |i| {
            holds_post(i, &after, &nodes[1].id)
        });
    }
    thread::sleep(GRACE);
    let inbox = ctl("expelled inbox", nodes[4].dir(), &["inbox"]);
    assert!(
        !holds(&inbox, &after),
        "step \"expelled node gets no posts\": node 4 holds it: {inbox}"
    );

    for node in &mut nodes {
        node.process.assert_running();
    }
    let took = started.elapsed();
    eprintln!("five nodes: {took:?}");
    assert!(took < Duration::from_secs(90), "took {took:?}");
}
