//! Measurement for the closing note, not part of the normal run (`#[ignore]`): how many
//! datagrams per second one real node forwards on loopback, against a raw UDP echo loop
//! measured in the same run with the same traffic. Run it in release mode:
//!
//! ```text
//! cargo test --release -p peerster-mio --test forward_rate -- --ignored --nocapture
//! ```
//!
//! The forwarding node is a `peerster run` process (B) that founds a cluster; two members
//! driven in this process on their own UDP sockets (S and D, each a `peerster_core::Node`
//! whose timers and datagrams a thread handles) join it. The traffic is what a member passes
//! on most: voice-class anonymous packets in the fluff. A generator seals, with the cluster
//! key, frames carrying fresh 512-byte packets (to B, as to any relay, indistinguishable from
//! a call's: B is not the callee, so it looks at the detection tag only) and sends them as
//! fast as it can from S's address to B; B opens each frame, suppresses duplicates, checks
//! the tag and fluffs the packet on, in a new frame, to the only live member other than S:
//! D, whose thread counts what arrives from B. The raw loop is the same generator (sealing
//! the same frames) sending to a process of its own, as B is (this test binary run for
//! `raw_echo_process`), that does `recv_from` and `send_to` of each datagram to a counting
//! socket. Rounds alternate between the two; the rate is what reached the
//! counting end per second of sending. On a machine busy with other work that rate swings
//! with the load, so the test also prints what reached the counting end per CPU second of
//! the forwarding process (its user and system time from `/proc/PID/stat`): what one core
//! would forward.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::steps::{STEP, ctl, start};
use peerster_core::crypto::ClusterKey;
use peerster_core::wire::anon::{ANON_PACKET_LEN, AnonPacket, AnonRelay, RelayPhase, TrafficClass};
use peerster_core::wire::cluster::{ClusterFrame, FrameBody};
use peerster_core::wire::{encode_payload, frame};
use peerster_core::{AutoVote, ClusterInfo, Config, Node};
use peerster_mio::{Clock, fresh_identity, os_seed};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

/// How long each round sends.
const ROUND: Duration = Duration::from_secs(1);
/// Rounds of each kind. The machine may be busy with other work: short rounds side by side,
/// and medians, keep a busy moment from deciding the figures.
const ROUNDS: usize = 7;

/// A member driven in this process: a core node on its own UDP socket, served by a thread.
struct Member {
    node: Arc<Mutex<Node>>,
    socket: UdpSocket,
    clock: Clock,
    /// While set, datagrams from `counted_from` are counted and dropped, not handled.
    counting: Arc<AtomicBool>,
    counted: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Member {
    /// A member on a fresh socket that connects to `contact`, with its serving thread.
    fn spawn(name: &str, contact: SocketAddr, counted_from: SocketAddr) -> Member {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(2)))
            .unwrap();
        let clock = Clock::start();
        let config = Config {
            auto_vote: AutoVote::Yes,
            ..Config::default()
        };
        let mut node = Node::new(
            config,
            fresh_identity().unwrap(),
            os_seed().unwrap(),
            clock.now(),
        )
        .unwrap();
        node.announce(clock.now(), name).expect("announce");
        node.connect(clock.now(), contact);
        let member = Member {
            node: Arc::new(Mutex::new(node)),
            socket,
            clock,
            counting: Arc::new(AtomicBool::new(false)),
            counted: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (node, socket, counting, counted, stop) = (
            Arc::clone(&member.node),
            member.socket.try_clone().unwrap(),
            Arc::clone(&member.counting),
            Arc::clone(&member.counted),
            Arc::clone(&member.stop),
        );
        thread::spawn(move || {
            let mut buffer = vec![0; 1 << 16];
            while !stop.load(Ordering::Relaxed) {
                let received = socket.recv_from(&mut buffer);
                let mut node = node.lock().unwrap();
                let now = clock.now();
                if let Ok((len, from)) = received {
                    if from == counted_from && counting.load(Ordering::Relaxed) {
                        counted.fetch_add(1, Ordering::Relaxed);
                    } else {
                        node.handle_datagram(now, from, &buffer[..len]);
                    }
                }
                if node.poll_timeout().is_some_and(|d| d <= now) {
                    node.handle_timeout(now);
                }
                while let Some(t) = node.poll_transmit() {
                    let _ = socket.send_to(&t.payload, t.destination);
                }
                while node.poll_event().is_some() {}
            }
        });
        member
    }

    /// Joins the cluster of `contact` and waits until this member sees `members` members.
    fn join(&self, contact: SocketAddr, members: usize) {
        let deadline = Instant::now() + STEP;
        while self
            .node
            .lock()
            .unwrap()
            .join(self.clock.now(), contact)
            .is_err()
        {
            assert!(Instant::now() < deadline, "no join through {contact}");
            thread::sleep(Duration::from_millis(100));
        }
        self.wait_members(members);
    }

    /// Waits until this member sees `members` members.
    fn wait_members(&self, members: usize) {
        let deadline = Instant::now() + STEP;
        loop {
            let seen = self.cluster().map_or(0, |c| c.members.len());
            if seen == members {
                return;
            }
            assert!(Instant::now() < deadline, "{seen} members, not {members}");
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn cluster(&self) -> Option<ClusterInfo> {
        self.node.lock().unwrap().cluster()
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Seals frames of fresh voice-class packets in the fluff, as a member passes them on.
struct Frames {
    key: ClusterKey,
    info: ClusterInfo,
    rng: ChaCha20Rng,
    bucket: usize,
}

impl Frames {
    fn new(key: ClusterKey, info: ClusterInfo) -> Frames {
        let mut frames = Frames {
            key,
            info,
            rng: ChaCha20Rng::from_seed([7; 32]),
            bucket: 0,
        };
        let sample = frames.payload();
        frames.bucket =
            frame::smallest_bucket(&Config::default().pad_buckets, sample.len()).unwrap();
        frames
    }

    fn payload(&mut self) -> Vec<u8> {
        let mut bytes = [0u8; ANON_PACKET_LEN];
        self.rng.fill_bytes(&mut bytes);
        let packet = AnonPacket::from_bytes(&bytes).expect("packet length");
        encode_payload(&ClusterFrame {
            cluster: self.info.id,
            epoch: self.info.epoch,
            body: FrameBody::Anon(AnonRelay {
                epoch: self.info.epoch,
                phase: RelayPhase::Fluff { hops: 0 },
                class: TrafficClass::Realtime,
                packet,
            }),
        })
        .expect("encode")
    }

    fn next(&mut self) -> Vec<u8> {
        let payload = self.payload();
        frame::seal_frame(&self.key, &mut self.rng, self.bucket, &payload).expect("seal")
    }
}

/// What one round measured.
struct Round {
    /// Datagrams that reached the counting end, per second of sending.
    rate: f64,
    /// Datagrams sent, per second.
    offered: f64,
    /// Datagrams that reached the counting end.
    arrived: u64,
    /// CPU time the forwarding process used meanwhile, in seconds.
    cpu: f64,
}

/// Sends fresh frames from `socket` to `to` for [`ROUND`] and counts what reached `counted`,
/// and the CPU time of the forwarding process `forwarder`.
fn round(
    frames: &mut Frames,
    socket: &UdpSocket,
    to: SocketAddr,
    counted: &AtomicU64,
    forwarder: u32,
) -> Round {
    let before = counted.load(Ordering::Relaxed);
    let cpu_before = cpu_seconds(forwarder);
    let started = Instant::now();
    let mut sent = 0u64;
    while started.elapsed() < ROUND {
        let datagram = frames.next();
        if socket.send_to(&datagram, to).is_ok() {
            sent += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // What is still in the queues arrives within moments.
    thread::sleep(Duration::from_millis(300));
    let arrived = counted.load(Ordering::Relaxed) - before;
    Round {
        rate: arrived as f64 / elapsed,
        offered: sent as f64 / elapsed,
        arrived,
        cpu: cpu_seconds(forwarder) - cpu_before,
    }
}

/// The CPU time process `pid` used so far (user and system, all threads), in seconds, from
/// `/proc/PID/stat` (in the kernel's user-visible ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// A socket that counts, on a thread until `stop`, the datagrams that arrive; its address.
fn counter(counted: Arc<AtomicU64>, stop: Arc<AtomicBool>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let addr = socket.local_addr().unwrap();
    thread::spawn(move || {
        let mut buffer = vec![0; 1 << 16];
        while !stop.load(Ordering::Relaxed) {
            if socket.recv_from(&mut buffer).is_ok() {
                counted.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    addr
}

/// The environment variable that makes [`raw_echo_process`] echo to its address.
const ECHO_SINK: &str = "PEERSTER_RAW_ECHO_SINK";
/// The line in which the echo process names its address.
const ECHO_ADDR: &str = "raw echo on ";

/// The raw echo loop in a process of its own, as the node is: this test binary run for
/// [`raw_echo_process`]. Killed when dropped.
struct EchoProcess {
    child: Child,
    addr: SocketAddr,
}

impl EchoProcess {
    fn start(sink: SocketAddr) -> EchoProcess {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["raw_echo_process", "--exact", "--ignored", "--nocapture"])
            .env(ECHO_SINK, sink.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the echo process starts");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let addr = stdout
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix(ECHO_ADDR).map(|a| a.parse().unwrap()))
            .expect("the echo process names its address");
        EchoProcess { child, addr }
    }
}

impl Drop for EchoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The raw echo loop: `recv_from` and `send_to` of every datagram to the address in
/// [`ECHO_SINK`], until killed. Started by the measurement; without [`ECHO_SINK`] it says so
/// and ends.
#[test]
#[ignore = "the raw echo process of forwarding_rate_of_a_node_against_a_raw_echo_loop"]
fn raw_echo_process() {
    let Ok(sink) = std::env::var(ECHO_SINK) else {
        println!("{ECHO_SINK} unset: only the measurement runs this, as its echo process");
        return;
    };
    let sink: SocketAddr = sink.parse().unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    println!("{ECHO_ADDR}{}", socket.local_addr().unwrap());
    let mut buffer = vec![0; 1 << 16];
    loop {
        if let Ok((len, _)) = socket.recv_from(&mut buffer) {
            let _ = socket.send_to(&buffer[..len], sink);
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
#[ignore = "a measurement for the closing note; run in release mode with --ignored --nocapture"]
fn forwarding_rate_of_a_node_against_a_raw_echo_loop() {
    let forwarder = start();
    ctl("create-cluster", forwarder.dir(), &["create-cluster"]);
    let b: SocketAddr = forwarder.addr.parse().unwrap();
    let s = Member::spawn("source", b, b);
    s.join(b, 2);
    let d = Member::spawn("sink", b, b);
    d.join(b, 3);
    s.wait_members(3);
    let key = s.node.lock().unwrap().cluster_key().expect("a member");
    let mut frames = Frames::new(key, s.cluster().unwrap());
    let size = frames.next().len();

    let stop = Arc::new(AtomicBool::new(false));
    let raw_counted = Arc::new(AtomicU64::new(0));
    let raw_sink = counter(Arc::clone(&raw_counted), Arc::clone(&stop));
    let echo = EchoProcess::start(raw_sink);
    let raw_echo = echo.addr;
    let raw_source = UdpSocket::bind("127.0.0.1:0").unwrap();
    d.counting.store(true, Ordering::Relaxed);

    let (mut raw, mut node, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let echo_pid = echo.child.id();
    let node_pid = forwarder.process.pid();
    for at in 0..ROUNDS {
        let r = round(&mut frames, &raw_source, raw_echo, &raw_counted, echo_pid);
        let n = round(&mut frames, &s.socket, b, &d.counted, node_pid);
        println!(
            "round {at}: raw echo {:.0}/s (offered {:.0}/s, {:.2} CPU s), \
             node {:.0}/s (offered {:.0}/s, {:.2} CPU s), ratio {:.2}",
            r.rate,
            r.offered,
            r.cpu,
            n.rate,
            n.offered,
            n.cpu,
            n.rate / r.rate
        );
        ratios.push(n.rate / r.rate);
        raw.push(r);
        node.push(n);
    }
    stop.store(true, Ordering::Relaxed);
    // Per CPU second of the forwarding process: what one core would forward, whatever else
    // the machine was busy with.
    let per_cpu = |rounds: &[Round]| {
        let arrived: u64 = rounds.iter().map(|r| r.arrived).sum();
        let cpu: f64 = rounds.iter().map(|r| r.cpu).sum();
        arrived as f64 / cpu
    };
    let (raw_per_cpu, node_per_cpu) = (per_cpu(&raw), per_cpu(&node));
    let rates = |rounds: &[Round]| rounds.iter().map(|r| r.rate).collect::<Vec<_>>();
    let (raw, node, ratio) = (median(rates(&raw)), median(rates(&node)), median(ratios));
    println!(
        "datagrams of {size} bytes forwarded per second on loopback, medians of {ROUNDS} rounds \
         of {ROUND:?}: raw echo loop {raw:.0}/s, peerster node {node:.0}/s, ratio of the \
         medians {:.2}, median of the rounds' ratios {ratio:.2} (goal 0.50)",
        node / raw
    );
    println!(
        "per CPU second of the forwarding process: raw echo loop {raw_per_cpu:.0} datagrams, \
         peerster node {node_per_cpu:.0} datagrams, ratio {:.2}",
        node_per_cpu / raw_per_cpu
    );
    assert!(raw > 1000.0, "the raw loop echoed {raw:.0}/s");
    assert!(node > 1000.0, "the node forwarded {node:.0}/s");
}
