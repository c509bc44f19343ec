//! LAN discovery between real processes: three `peerster run --discover` on 127.0.0.1, given
//! no `--peer`, find each other through their multicast beacons (TTL 1, on the loopback
//! interface, so nothing leaves the host), as `peerster ctl --json peers` shows; a fourth
//! node without `--discover` is neither found nor finds anyone: discovery is opt-in.
//!
//! The test needs IPv4 multicast on the loopback interface (Linux has it, with no set-up);
//! where it is missing the test fails, naming the step, rather than pass without looking.
//! Other discovering nodes on the host (another run of this test) may be found as well: the
//! test asks only that its own nodes find each other.

mod common;

use std::thread;
use std::time::Duration;

use common::steps::{Node, ctl, ctl_until, start, start_with, string};
use serde_json::Value;

/// How long the nodes may take to find each other: a beacon goes out every 4 to 6 s.
const FIND: Duration = Duration::from_secs(30);

/// The addresses of a `peers` reply.
fn addresses(peers: &Value) -> Vec<String> {
    let list = peers["peers"].as_array().map_or(&[][..], Vec::as_slice);
    list.iter().map(|p| string(&p["addr"])).collect()
}

#[test]
fn discovering_nodes_find_each_other_and_others_stay_unseen() {
    let hidden = start();
    let nodes: Vec<Node> = (0..3).map(|_| start_with(&["--discover"])).collect();

    for (at, node) in nodes.iter().enumerate() {
        let others: Vec<&str> = nodes
            .iter()
            .filter(|n| n.addr != node.addr)
            .map(|n| n.addr.as_str())
            .collect();
        let step = format!(
            "node {at} finds the others by multicast beacons on 127.0.0.1 \
             (this fails where the host has no IPv4 multicast on loopback)"
        );
        let peers = ctl_until(&step, node.dir(), &["peers"], FIND, |p| {
            let found = addresses(p);
            others.iter().all(|o| found.iter().any(|f| f == o))
        });
        // Each peer found is a verified node: its fingerprint is known.
        for peer in peers["peers"].as_array().unwrap() {
            assert_eq!(string(&peer["fingerprint"]).len(), 32, "{peer}");
        }
        assert!(
            !addresses(&peers).contains(&node.addr),
            "node {at} lists itself: {peers}"
        );
    }

    // The node without --discover announced nothing and heard nothing, even after a full
    // beacon interval more.
    thread::sleep(Duration::from_secs(6));
    for (at, node) in nodes.iter().enumerate() {
        let peers = ctl("peers of a discovering node", node.dir(), &["peers"]);
        assert!(
            !addresses(&peers).contains(&hidden.addr),
            "node {at} found the node that did not ask for discovery: {peers}"
        );
    }
    let peers = ctl("peers of the hidden node", hidden.dir(), &["peers"]);
    assert_eq!(addresses(&peers), Vec::<String>::new(), "{peers}");
}

#[test]
fn discovery_on_ipv6_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_peerster"))
        .args(["run", "--listen", "[::1]:0", "--discover", "--data-dir"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--discover needs an IPv4 --listen address"),
        "{stderr}"
    );
    // Refused before the node started: nothing on standard output.
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
}
