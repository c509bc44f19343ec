//! A member under a flood: three `peerster run` processes on loopback form a cluster through
//! `peerster ctl --json`, then the test process, as a stranger on loopback, sends member B a
//! bounded flood of 200 000 datagrams over 10 s: seeded random garbage of random sizes,
//! oversized datagrams, and replays (whole, truncated, padded) of real handshake datagrams a
//! fourth node sent to the test's own socket. While it lasts, B answers every `ctl status`
//! within 2 s and stays in its cluster; the five posts member C sends during the flood are in
//! B's inbox a few seconds after it ends; and B's resident set size (`VmRSS`), as well as its
//! peak (`VmHWM`), stays below 100 MiB.
//!
//! Every node listens on a port the OS picks and keeps its data in its own temporary
//! directory; the processes are killed when the test ends, whether it passed or not.

mod common;

use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use common::steps::{Node, STEP, ctl, ctl_until, fingerprints, holds_post, start, string, try_ctl};

/// How many datagrams the flood sends, at most.
const FLOOD_SIZE: u64 = 200_000;

/// How long the flood lasts, at most.
const FLOOD_FOR: Duration = Duration::from_secs(10);

/// The seed of the flood's random datagrams.
const SEED: u64 = 0x5EED_F100D;

/// The largest garbage datagram that fits the node's ordinary size.
const GARBAGE_MAX: usize = 1200;

/// The largest datagram the flood sends: larger than any the node sends.
const OVERSIZED_MAX: usize = 1500;

/// How long the flooded node may take to answer one `ctl status`.
const ANSWER: Duration = Duration::from_secs(2);

/// How many posts C sends during the flood, one a second.
const POSTS: u32 = 5;

/// How long after the flood the posts sent during it may take to be in B's inbox.
const DELIVERY: Duration = Duration::from_secs(5);

/// The bound on the flooded node's resident set size, in KiB (100 MiB).
const RSS_BOUND_KIB: u64 = 100 * 1024;

/// How long the test may take, from the first process started to the last check.
const WHOLE: Duration = Duration::from_secs(45);

/// A line of `/proc/<pid>/status`, such as `VmRSS`, in KiB.
fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let line = (status.lines())
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    let kib = line.split_whitespace().nth(1).expect("a value in KiB");
    kib.parse().expect("a number of KiB")
}

/// A xorshift64 generator: the flood's only source of randomness, so a seed replays it.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }

    /// `len` random bytes.
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len.next_multiple_of(8)];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        bytes.truncate(len);
        bytes
    }
}

/// What the flood sent.
#[derive(Debug, Default)]
struct Flood {
    garbage: u64,
    oversized: u64,
    replayed: u64,
    truncated: u64,
    padded: u64,
    /// Sends the kernel refused (its buffers were full).
    refused: u64,
    took: Duration,
}

impl Flood {
    fn sent(&self) -> u64 {
        self.garbage + self.oversized + self.replayed + self.truncated + self.padded
    }
}

/// Sends `to`, from `socket`, [`FLOOD_SIZE`] datagrams spread evenly over [`FLOOD_FOR`] (fewer
/// if it falls behind): garbage, oversized garbage, and replays of `recorded`, whole,
/// truncated, or padded with garbage past the largest size.
fn flood(socket: &UdpSocket, to: SocketAddr, recorded: &[Vec<u8>]) -> Flood {
    let mut random = XorShift(SEED);
    let mut sent = Flood::default();
    let started = Instant::now();
    loop {
        let elapsed = started.elapsed();
        if sent.sent() >= FLOOD_SIZE || elapsed >= FLOOD_FOR {
            break;
        }
        let due = (FLOOD_SIZE as u128 * elapsed.as_micros() / FLOOD_FOR.as_micros()) as u64;
        if sent.sent() >= due {
            thread::sleep(Duration::from_millis(1));
            continue;
        }
        let replay =
            (!recorded.is_empty()).then(|| &recorded[random.between(0, recorded.len() - 1)]);
        let (datagram, count) = match (random.between(0, 9), replay) {
            (0..=4, _) | (7.., None) => {
                let len = random.between(1, GARBAGE_MAX);
                (random.bytes(len), &mut sent.garbage)
            }
            (5..=6, _) => {
                let len = random.between(GARBAGE_MAX + 1, OVERSIZED_MAX);
                (random.bytes(len), &mut sent.oversized)
            }
            (7, Some(replay)) => (replay.clone(), &mut sent.replayed),
            (8, Some(replay)) => {
                let len = random.between(0, replay.len() - 1);
                (replay[..len].to_vec(), &mut sent.truncated)
            }
            (_, Some(replay)) => {
                let len = random.between(replay.len().max(GARBAGE_MAX) + 1, OVERSIZED_MAX);
                let mut padded = replay.clone();
                padded.extend(random.bytes(len - replay.len()));
                (padded, &mut sent.padded)
            }
        };
        *count += 1;
        if socket.send_to(&datagram, to).is_err() {
            sent.refused += 1;
        }
    }
    sent.took = started.elapsed();
    sent
}

#[test]
fn a_flooded_member_answers_stays_and_delivers_within_a_memory_bound() {
    let started = Instant::now();
    let nodes: Vec<Node> = (0..3).map(|_| start()).collect();
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);

    // A fourth node tries to join through the test's socket: what it sends there is real
    // traffic to replay.
    let socket = UdpSocket::bind("127.0.0.1:0").expect("a loopback socket");
    let recorder = start();
    let socket_addr = socket.local_addr().unwrap().to_string();
    ctl("record", recorder.dir(), &["join", &socket_addr]);

    // A founds the cluster; B and C join it through A.
    let created = ctl("create-cluster", a.dir(), &["create-cluster"]);
    let cluster = string(&created["cluster"]);
    for joiner in [b, c] {
        ctl("join", joiner.dir(), &["join", &a.addr]);
        ctl_until("join", joiner.dir(), &["status"], STEP, |s| {
            s["cluster"] == cluster.as_str()
        });
    }
    let mut everyone = vec![a.id.clone(), b.id.clone(), c.id.clone()];
    everyone.sort();
    for node in &nodes {
        ctl_until("three members", node.dir(), &["members"], STEP, |m| {
            fingerprints(m) == everyone
        });
    }

    let mut recorded = Vec::new();
    let mut buffer = [0; 2048];
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    while let Ok((len, _)) = socket.recv_from(&mut buffer) {
        recorded.push(buffer[..len].to_vec());
        if recorded.len() >= 16 {
            break;
        }
    }
    drop(recorder);
    let sizes: Vec<usize> = recorded.iter().map(Vec::len).collect();
    eprintln!(
        "recorded {} datagrams to replay, of sizes {sizes:?}",
        recorded.len()
    );

    let pid = b.process.pid();
    let rss_before = memory_kib(pid, "VmRSS");
    let to: SocketAddr = b.addr.parse().expect("B's address");
    let flooding = thread::spawn(move || flood(&socket, to, &recorded));

    // Every second of the flood, B answers `status` in time and is still in the cluster; in
    // the first five, C posts.
    let flood_started = Instant::now();
    let posts: Vec<String> = (1..=POSTS)
        .map(|n| format!("post {n} during the flood of cluster {cluster}"))
        .collect();
    let mut slowest = Duration::ZERO;
    for second in 0..FLOOD_FOR.as_secs() as u32 {
        let tick = flood_started + Duration::from_secs(second.into()) + Duration::from_millis(500);
        thread::sleep(tick.saturating_duration_since(Instant::now()));
        if let Some(post) = posts.get(second as usize) {
            ctl("post during the flood", c.dir(), &["post", post]);
        }
        let asked = Instant::now();
        let status = try_ctl(b.dir(), &["status"]);
        let answered = asked.elapsed();
        slowest = slowest.max(answered);
        let status =
            status.unwrap_or_else(|failed| panic!("step \"status at {second} s\": {failed}"));
        assert!(
            answered < ANSWER,
            "step \"status at {second} s\": answered in {answered:?}"
        );
        assert_eq!(
            status["cluster"],
            cluster.as_str(),
            "step \"status at {second} s\": {status}"
        );
    }
    let sent = flooding.join().expect("the flood thread");
    let rss_after = memory_kib(pid, "VmRSS");
    let rss_peak = memory_kib(pid, "VmHWM");
    eprintln!(
        "flood: {} datagrams in {:?} ({:.0}/s), {} refused by the kernel: {sent:?}",
        sent.sent(),
        sent.took,
        sent.sent() as f64 / sent.took.as_secs_f64(),
        sent.refused
    );
    eprintln!(
        "B: VmRSS {rss_before} KiB before, {rss_after} KiB after, VmHWM {rss_peak} KiB; \
         slowest status {slowest:?}"
    );
    assert!(
        sent.sent() >= FLOOD_SIZE / 2,
        "the flood fell behind: {sent:?}"
    );
    assert!(
        rss_after < RSS_BOUND_KIB && rss_peak < RSS_BOUND_KIB,
        "B's memory: VmRSS {rss_after} KiB, VmHWM {rss_peak} KiB, bound {RSS_BOUND_KIB} KiB"
    );

    // The posts sent during the flood reach B soon after it ends.
    ctl_until(
        "posts during the flood",
        b.dir(),
        &["inbox"],
        DELIVERY,
        |i| posts.iter().all(|post| holds_post(i, post, &c.id)),
    );
    // And A still counts B as a member.
    let members = ctl("members after the flood", a.dir(), &["members"]);
    assert_eq!(fingerprints(&members), everyone, "{members}");

    for node in &nodes {
        let status = ctl("status after the flood", node.dir(), &["status"]);
        assert_eq!(status["cluster"], cluster.as_str(), "{status}");
    }
    let mut nodes = nodes;
    for node in &mut nodes {
        node.process.assert_running();
    }
    let took = started.elapsed();
    eprintln!("flood test: {took:?}");
    assert!(took < WHOLE, "took {took:?}");
}
