//! Steps of the tests that drive nodes only through `peerster ctl --json`: a started node,
//! one ctl call that must succeed, and polling a node until its reply is as wanted, each
//! failure naming its step.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Peerster, ctl_output};

/// How long one step may take.
pub const STEP: Duration = Duration::from_secs(20);

/// One running node and what the test knows of it.
pub struct Node {
    pub process: Peerster,
    /// Its whole fingerprint, 32 hex digits.
    pub id: String,
    /// The UDP address it listens on.
    pub addr: String,
}

impl Node {
    pub fn dir(&self) -> &Path {
        &self.process.data_dir
    }
}

/// Runs `peerster ctl --json ARGS` on `dir` once: its reply if it succeeded with `"ok":true`,
/// else what it printed.
pub fn try_ctl(dir: &Path, args: &[&str]) -> Result<Value, String> {
    let output = ctl_output(dir, args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let reply: Option<Value> = serde_json::from_str(stdout.trim()).ok();
    match reply {
        Some(reply) if output.status.success() && reply["ok"] == true => Ok(reply),
        _ => Err(format!(
            "{}: {stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

/// Runs `peerster ctl --json ARGS` on `dir`; panics, naming `step`, unless it succeeded.
pub fn ctl(step: &str, dir: &Path, args: &[&str]) -> Value {
    try_ctl(dir, args).unwrap_or_else(|failed| panic!("step {step:?}: ctl {args:?}: {failed}"))
}

/// Asks `dir`'s node for `args` until the reply satisfies `good`; panics, naming `step` and
/// showing the last reply, if `within` passes first.
pub fn ctl_until(
    step: &str,
    dir: &Path,
    args: &[&str],
    within: Duration,
    good: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let last = try_ctl(dir, args);
        match last {
            Ok(reply) if good(&reply) => return reply,
            _ if Instant::now() > deadline => panic!(
                "step {step:?}: no good reply to ctl {args:?} within {within:?}; last: {}",
                match last {
                    Ok(reply) => reply.to_string(),
                    Err(failed) => failed,
                }
            ),
            _ => thread::sleep(Duration::from_millis(200)),
        }
    }
}

pub fn string(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"))
        .to_string()
}

/// The fingerprints of a `members` reply.
pub fn fingerprints(members: &Value) -> Vec<String> {
    let list = members["members"].as_array().map_or(&[][..], Vec::as_slice);
    let mut ids: Vec<String> = list.iter().map(|m| string(&m["fingerprint"])).collect();
    ids.sort();
    ids
}

/// The entries of an `inbox` reply.
pub fn entries(inbox: &Value) -> &[Value] {
    inbox["inbox"].as_array().map_or(&[], Vec::as_slice)
}

/// Whether an `inbox` reply holds a received post with `text` by `author`.
pub fn holds_post(inbox: &Value, text: &str, author: &str) -> bool {
    entries(inbox).iter().any(|e| {
        e["kind"] == "post" && e["direction"] == "in" && e["text"] == text && e["from"] == author
    })
}

/// Starts a node with no cluster that votes yes on every vote, and waits until its control
/// socket answers.
pub fn start() -> Node {
    start_with(&[])
}

/// Starts a node as [`start`] does, with the further `peerster run` arguments `more`.
pub fn start_with(more: &[&str]) -> Node {
    let node = run_voting_yes(&[&["--listen", "127.0.0.1:0"], more].concat());
    let status = node_status(&node);
    assert!(status["cluster"].is_null(), "step \"start\": {status}");
    node
}

/// Starts `peerster run ARGS --auto-vote yes` (in a fresh data directory unless `args` name
/// one), and waits until its control socket answers: a node that may resume a cluster, as a
/// restarted one does.
pub fn run_voting_yes(args: &[&str]) -> Node {
    let args = [args, &["--auto-vote", "yes"]].concat();
    let process = Peerster::run(&args);
    let status = ctl_until("start", &process.data_dir, &["status"], STEP, |_| true);
    Node {
        id: string(&status["fingerprint"]),
        addr: string(&status["listen"]),
        process,
    }
}

/// The node's `status` reply.
pub fn node_status(node: &Node) -> Value {
    ctl("status", node.dir(), &["status"])
}

/// Node 0 of `nodes` founds a cluster and the others join it through node 0, one after
/// another; waits until every member lists all of them. The cluster's id.
pub fn found_cluster(nodes: &[Node]) -> String {
    let created = ctl("create-cluster", nodes[0].dir(), &["create-cluster"]);
    let cluster = string(&created["cluster"]);
    for joiner in &nodes[1..] {
        let joining = ctl("join", joiner.dir(), &["join", &nodes[0].addr]);
        assert_eq!(joining["joining"], nodes[0].addr.as_str(), "{joining}");
        ctl_until("join", joiner.dir(), &["status"], STEP, |s| {
            s["cluster"] == cluster.as_str()
        });
    }
    let mut everyone: Vec<String> = nodes.iter().map(|n| n.id.clone()).collect();
    everyone.sort();
    for node in nodes {
        ctl_until("all members listed", node.dir(), &["members"], STEP, |m| {
            fingerprints(m) == everyone
        });
    }
    cluster
}
