//! Two runtimes in one process on loopback ports find each other and form a cluster, and a
//! runtime survives garbage and oversized datagrams.

use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use peerster_core::{Config, Event, Stats, wire::MAX_DATAGRAM_SIZE};
use peerster_mio::{Command, Console, Runtime, RuntimeError, ShutdownHandle};

const WAIT: Duration = Duration::from_secs(5);

/// A runtime running on its own thread.
struct Running {
    addr: SocketAddr,
    events: Receiver<Event>,
    stop: ShutdownHandle,
    thread: JoinHandle<(Runtime, Result<Stats, RuntimeError>)>,
}

fn start(peers: &[SocketAddr]) -> Running {
    start_with(|runtime| {
        for &peer in peers {
            runtime.connect(peer);
        }
    })
}

/// Starts a runtime on a loopback port after `setup` has given it its first commands.
fn start_with(setup: impl FnOnce(&mut Runtime)) -> Running {
    let mut runtime = Runtime::bind("127.0.0.1:0".parse().unwrap(), Config::default()).unwrap();
    let addr = runtime.local_addr();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    let events = runtime.subscribe(64);
    let stop = runtime.shutdown_handle();
    setup(&mut runtime);
    let thread = thread::spawn(move || {
        let result = runtime.run();
        (runtime, result)
    });
    Running {
        addr,
        events,
        stop,
        thread,
    }
}

impl Running {
    /// Waits, at most [`WAIT`], for the event `want` accepts.
    fn wait_for(&self, what: &str, want: impl Fn(&Event) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) if want(&event) => return,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!("no {what} within {WAIT:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("runtime stopped before {what}"),
            }
        }
    }

    /// Stops the runtime and gives it back with its final counters.
    fn stop(self) -> (Runtime, Stats) {
        self.stop.shutdown();
        let deadline = Instant::now() + WAIT;
        while !self.thread.is_finished() {
            assert!(
                Instant::now() < deadline,
                "runtime did not stop within {WAIT:?}"
            );
            thread::sleep(Duration::from_millis(5));
        }
        let (runtime, result) = self.thread.join().expect("runtime thread panicked");
        (runtime, result.expect("run failed"))
    }
}

fn verified(addr: SocketAddr) -> impl Fn(&Event) -> bool {
    move |event| matches!(event, Event::PeerVerified { addr: a, .. } if *a == addr)
}

#[test]
fn two_runtimes_verify_each_other() {
    let a = start(&[]);
    let b = start(&[a.addr]);
    b.wait_for("B verifying A", verified(a.addr));
    a.wait_for("A verifying B", verified(b.addr));
    let (a_addr, b_addr) = (a.addr, b.addr);

    let (a, a_stats) = a.stop();
    let (b, b_stats) = b.stop();
    assert!(a.node().peer(&b_addr).is_some(), "A knows B");
    assert!(b.node().peer(&a_addr).is_some(), "B knows A");
    assert_eq!(a.node().peer(&b_addr).unwrap().id, b.node().id());
    assert_eq!(b.node().peer(&a_addr).unwrap().id, a.node().id());
    assert!(a_stats.handshakes_completed >= 1 && b_stats.handshakes_completed >= 1);
    assert_eq!(a_stats.dropped.malformed + b_stats.dropped.malformed, 0);
}

#[test]
fn garbage_and_oversized_datagrams_are_read_whole_and_refused() {
    let a = start(&[]);
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let oversized = vec![1u8; MAX_DATAGRAM_SIZE + 800];
    let garbage = [0xffu8; 7];
    sender.send_to(&oversized, a.addr).unwrap();
    sender.send_to(&garbage, a.addr).unwrap();
    sender.send_to(&[], a.addr).unwrap();

    // The runtime still works: a real node can verify it after the garbage.
    let b = start(&[a.addr]);
    b.wait_for("B verifying A", verified(a.addr));
    let (_b, _) = b.stop();
    let (_a, stats) = a.stop();

    assert_eq!(stats.dropped.malformed, 3, "{stats:?}");
    // Every byte of the oversized datagram reached the node: nothing was truncated.
    let garbage_bytes = (oversized.len() + garbage.len()) as u64;
    assert!(stats.bytes_received >= garbage_bytes, "{stats:?}");
}

#[test]
fn a_peer_that_is_not_there_is_survived() {
    // Nothing listens on this port: sends may bounce with ICMP port unreachable.
    let hole = UdpSocket::bind("127.0.0.1:0").unwrap();
    let hole_addr = hole.local_addr().unwrap();
    drop(hole);
    let a = start(&[hole_addr]);
    thread::sleep(Duration::from_millis(100));
    let b = start(&[a.addr]);
    b.wait_for("B verifying A", verified(a.addr));
    b.stop();
    let (runtime, _) = a.stop();
    assert!(runtime.node().peer(&hole_addr).is_none());
}

#[test]
fn binding_a_taken_port_names_the_address() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let error = Runtime::bind(addr, Config::default()).unwrap_err();
    assert!(matches!(error, RuntimeError::Bind { .. }));
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
}

/// A console sink the test reads back.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[test]
fn a_runtime_joins_another_and_posts_through_commands() {
    let (a_out, a_err) = (Sink::default(), Sink::default());
    let a = start_with(|runtime| {
        runtime.print_to(Console::new(a_out.clone(), a_err.clone()));
        runtime.announce("a").unwrap();
        runtime.create_cluster(None).unwrap();
    });
    let (b_out, b_err) = (Sink::default(), Sink::default());
    let mut commands = None;
    let b = start_with(|runtime| {
        runtime.print_to(Console::new(b_out.clone(), b_err.clone()));
        runtime.announce("b").unwrap();
        commands = Some(runtime.commands());
        // Not in a cluster yet: refused, shown on the console's error sink.
        commands
            .as_ref()
            .unwrap()
            .send(Command::Post("too early".into()))
            .unwrap();
        runtime.join(a.addr);
    });
    let commands = commands.unwrap();
    b.wait_for("B joining", |e| {
        matches!(e, Event::JoinedCluster { members: 2, .. })
    });
    a.wait_for("A's new epoch", |e| {
        matches!(e, Event::EpochChanged { members: 2, .. })
    });

    commands.send(Command::Post("hello".into())).unwrap();
    a.wait_for(
        "B's post",
        |e| matches!(e, Event::Post { text, .. } if text == "hello"),
    );

    let (a, _) = a.stop();
    let (b, _) = b.stop();
    let (a_id, a_addr, b_id) = (a.node().id(), a.local_addr(), b.node().id());
    drop(b);
    assert!(
        commands.send(Command::Post("after".into())).is_err(),
        "the runtime is gone"
    );
    assert!(
        b_err
            .text()
            .contains("peerster: post refused: not in a cluster"),
        "{}",
        b_err.text()
    );
    assert!(a_err.text().is_empty(), "{}", a_err.text());
    let a_out = a_out.text();
    assert!(a_out.starts_with(&format!("[node] {a_id} listening on {a_addr}\n")));
    assert!(a_out.contains("[cluster] created "), "{a_out}");
    assert!(
        a_out.contains(&format!("[cluster] epoch 1, 2 members (+{b_id})\n")),
        "{a_out}"
    );
    assert!(
        a_out.contains(&format!("[post] {b_id}: hello\n")),
        "{a_out}"
    );
    assert!(
        b_out.text().contains("[cluster] joined "),
        "{}",
        b_out.text()
    );
}
