//! Measurement for the closing note, not part of the normal run (`#[ignore]`): the resident
//! memory of an idle node in a 50-member cluster. Run it in release mode:
//!
//! ```text
//! cargo test --release -p peerster-mio --test idle_memory -- --ignored --nocapture
//! ```
//!
//! Fifty `peerster run` processes on loopback found one cluster (node 0 founds it, the
//! others join through it one after another, every member then lists all fifty); after
//! [`SETTLE`] with no traffic but the protocol's own (heartbeats, gossip, cover traffic),
//! `VmRSS` of each process is read from `/proc/PID/status`, and the minimum, median and
//! maximum are printed.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::steps::{Node, found_cluster, start};

/// Members of the cluster.
const MEMBERS: usize = 50;
/// How long the cluster idles before its members are measured.
const SETTLE: Duration = Duration::from_secs(60);

/// The resident memory of process `pid`, in KiB, from `/proc/PID/status`.
fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("a VmRSS line");
    line.split_whitespace()
        .nth(1)
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS in kB")
}

#[test]
#[ignore = "a measurement for the closing note; run in release mode with --ignored --nocapture"]
fn idle_memory_in_a_fifty_member_cluster() {
    let started = Instant::now();
    let mut nodes: Vec<Node> = (0..MEMBERS).map(|_| start()).collect();
    found_cluster(&nodes);
    println!("{MEMBERS} members in {:?}", started.elapsed());
    thread::sleep(SETTLE);
    let mut rss: Vec<u64> = nodes
        .iter_mut()
        .map(|node| {
            node.process.assert_running();
            vm_rss_kib(node.process.pid())
        })
        .collect();
    rss.sort_unstable();
    println!(
        "VmRSS of {MEMBERS} idle members after {SETTLE:?}: min {} KiB, median {} KiB, max {} KiB",
        rss[0],
        rss[MEMBERS / 2],
        rss[MEMBERS - 1]
    );
    assert!(rss[0] > 0);
}
