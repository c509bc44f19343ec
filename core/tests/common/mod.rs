//! A tiny hand-wired network for core's integration tests: nodes, a fixed one-way delay, and
//! a hook that may drop or rewrite each datagram. The simulator crate has the real engine.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use peerster_core::crypto::IdentityKey;
use peerster_core::{Config, Event, Node, Timestamp};

/// A datagram in flight.
#[derive(Clone, Debug)]
pub struct Flight {
    pub deliver_at: Timestamp,
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub payload: Vec<u8>,
}

/// What the hook decides for one datagram.
pub enum Verdict {
    Deliver,
    Drop,
}

pub struct Net {
    pub now: Timestamp,
    pub nodes: Vec<Node>,
    pub addrs: Vec<SocketAddr>,
    pub delay: Duration,
    pub in_flight: VecDeque<Flight>,
    /// Every datagram sent, in order, with its time: the transcript determinism tests compare.
    pub transcript: Vec<Flight>,
    /// Every event, with the index of the node that emitted it.
    pub events: Vec<(usize, Event)>,
    pub hook: Box<dyn FnMut(&mut Flight) -> Verdict>,
}

pub fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, (i / 250) as u8, (i % 250 + 1) as u8], 7000))
}

impl Net {
    /// `n` nodes with identities and seeds derived from `seed`.
    pub fn new(n: usize, seed: u64, config: Config) -> Net {
        let now = Timestamp::ZERO;
        let nodes = (0..n)
            .map(|i| {
                let mut id = [0u8; 32];
                id[..8].copy_from_slice(&(i as u64).to_le_bytes());
                let mut rng_seed = [0u8; 32];
                rng_seed[..8].copy_from_slice(&seed.to_le_bytes());
                rng_seed[8..16].copy_from_slice(&(i as u64).to_le_bytes());
                Node::new(
                    config.clone(),
                    IdentityKey::from_secret_bytes(id),
                    rng_seed,
                    now,
                )
                .expect("valid config")
            })
            .collect();
        Net {
            now,
            nodes,
            addrs: (0..n).map(addr).collect(),
            delay: Duration::from_millis(10),
            in_flight: VecDeque::new(),
            transcript: Vec::new(),
            events: Vec::new(),
            hook: Box::new(|_| Verdict::Deliver),
        }
    }

    /// Replaces node `i` by a fresh node with the same identity and a new seed, as a process
    /// restart would; datagrams in flight to it still arrive.
    pub fn restart(&mut self, i: usize, seed: u8) {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&(i as u64).to_le_bytes());
        self.nodes[i] = Node::new(
            self.nodes[i].config().clone(),
            IdentityKey::from_secret_bytes(id),
            [seed; 32],
            self.now,
        )
        .expect("valid config");
    }

    pub fn index(&self, a: SocketAddr) -> Option<usize> {
        self.addrs.iter().position(|x| *x == a)
    }

    /// Moves every queued output of every node into the network and the event log.
    fn collect(&mut self) {
        for (i, node) in self.nodes.iter_mut().enumerate() {
            while let Some(t) = node.poll_transmit() {
                let flight = Flight {
                    deliver_at: self.now + self.delay,
                    from: self.addrs[i],
                    to: t.destination,
                    payload: t.payload,
                };
                self.transcript.push(flight.clone());
                self.in_flight.push_back(flight);
            }
            while let Some(e) = node.poll_event() {
                self.events.push((i, e));
            }
        }
    }

    /// Runs the network until `until`, delivering datagrams and firing timers in time order.
    pub fn run_until(&mut self, until: Timestamp) {
        loop {
            self.collect();
            let next_flight = self.in_flight.front().map(|f| f.deliver_at);
            let next_timer = self.nodes.iter().filter_map(Node::poll_timeout).min();
            let next = match (next_flight, next_timer) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => break,
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            if next_flight == Some(next) {
                let mut flight = self.in_flight.pop_front().expect("front exists");
                if let (Verdict::Deliver, Some(to)) =
                    ((self.hook)(&mut flight), self.index(flight.to))
                {
                    self.nodes[to].handle_datagram(self.now, flight.from, &flight.payload);
                }
            } else {
                let now = self.now;
                for node in &mut self.nodes {
                    if node.poll_timeout().is_some_and(|t| t <= now) {
                        node.handle_timeout(now);
                    }
                }
            }
        }
        self.now = self.now.max(until);
    }

    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }
}

/// A settled cluster of `n` members with `config`: node 0 founds it and the others join it one
/// by one, every member voting yes by hand on whatever is open (with `AutoVote::Ask`; with
/// the default, they have voted already).
pub fn settled_cluster(n: usize, seed: u64, config: Config) -> Net {
    let mut net = Net::new(n, seed, config);
    for i in 1..n {
        let (now, to) = (net.now, net.addrs[0]);
        net.nodes[i].connect(now, to);
    }
    for i in 0..n {
        let now = net.now;
        net.nodes[i].announce(now, "n").expect("short name");
    }
    net.run_for(Duration::from_secs(3));
    let now = net.now;
    net.nodes[0].create_cluster(now, None).expect("no limit");
    for i in 1..n {
        let (now, contact) = (net.now, net.addrs[0]);
        net.nodes[i].join(now, contact).expect("contact known");
        net.run_for(Duration::from_secs(1));
        for member in 0..i {
            let now = net.now;
            for vote in net.nodes[member].votes() {
                let _ = net.nodes[member].vote(now, vote.id, true);
            }
        }
        net.run_for(Duration::from_secs(3));
        assert!(net.nodes[i].cluster().is_some(), "node {i} joined");
    }
    net.run_for(Duration::from_secs(5));
    let epochs: Vec<_> = net
        .nodes
        .iter()
        .map(|n| n.cluster().map(|c| c.epoch))
        .collect();
    assert!(
        epochs.iter().all(|e| *e == epochs[0] && e.is_some()),
        "{epochs:?}"
    );
    net
}
