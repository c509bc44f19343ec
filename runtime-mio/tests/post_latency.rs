//! Measurement for the closing note, not part of the normal run (`#[ignore]`): a post's
//! end-to-end latency across five `peerster run` processes on loopback. Run it in release
//! mode:
//!
//! ```text
//! cargo test --release -p peerster-mio --test post_latency -- --ignored --nocapture
//! ```
//!
//! The five found a cluster as in the five-node test; each of the four receivers is watched
//! by a `peerster ctl --json watch` whose lines are stamped as they arrive. Node 0 posts
//! [`POSTS`] times (`peerster ctl post`, one at a time, each once the previous one reached
//! everyone); a post's latency at a receiver runs from just before the `ctl post` starts to
//! the moment its watch prints the post, so it includes the two `ctl` processes' own
//! start-up and socket round trips, as a script would see it.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use common::steps::{Node, STEP, ctl, found_cluster, start};
use serde_json::Value;

/// Posts measured.
const POSTS: usize = 50;

/// A `peerster ctl --json watch` of one node, its lines stamped on arrival.
struct Watch {
    child: Child,
    lines: Receiver<(Instant, Value)>,
}

impl Watch {
    fn start(node: &Node) -> Watch {
        let mut child = Command::new(env!("CARGO_BIN_EXE_peerster"))
            .args(["ctl", "--json", "--data-dir"])
            .arg(node.dir())
            .arg("watch")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("peerster ctl watch starts");
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let stamped = (
                    Instant::now(),
                    serde_json::from_str(&line).unwrap_or_default(),
                );
                if sender.send(stamped).is_err() {
                    break;
                }
            }
        });
        Watch { child, lines }
    }

    /// Waits for the post with `text`; when it was printed.
    fn post_seen(&self, text: &str) -> Instant {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (at, event) = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("post {text:?} not seen within {STEP:?}"));
            if event["kind"] == "post" && event["text"] == text {
                return at;
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at]
}

#[test]
#[ignore = "a measurement for the closing note; run in release mode with --ignored --nocapture"]
fn post_latency_across_five_processes() {
    let nodes: Vec<Node> = (0..5).map(|_| start()).collect();
    found_cluster(&nodes);
    let watches: Vec<Watch> = nodes[1..].iter().map(Watch::start).collect();
    // Let the watches subscribe before the first post.
    thread::sleep(Duration::from_millis(500));

    let mut all = Vec::new();
    let mut last_of_post = Vec::new();
    let mut per_receiver: BTreeMap<usize, Vec<Duration>> = BTreeMap::new();
    for n in 0..POSTS {
        let text = format!("latency probe {n}");
        let posted = Instant::now();
        ctl("post", nodes[0].dir(), &["post", &text]);
        let mut slowest = Duration::ZERO;
        for (at, watch) in watches.iter().enumerate() {
            let latency = watch.post_seen(&text) - posted;
            all.push(latency);
            per_receiver.entry(at + 1).or_default().push(latency);
            slowest = slowest.max(latency);
        }
        last_of_post.push(slowest);
    }
    all.sort();
    last_of_post.sort();
    println!(
        "post latency over {POSTS} posts x 4 receivers: p50 {:?}, p90 {:?}, max {:?}; \
         until the last receiver: p50 {:?}, max {:?}",
        percentile(&all, 0.5),
        percentile(&all, 0.9),
        all[all.len() - 1],
        percentile(&last_of_post, 0.5),
        last_of_post[last_of_post.len() - 1],
    );
    for (at, mut latencies) in per_receiver {
        latencies.sort();
        println!(
            "  node {at}: p50 {:?}, max {:?}",
            percentile(&latencies, 0.5),
            latencies[latencies.len() - 1]
        );
    }
    assert_eq!(all.len(), POSTS * 4);
}
