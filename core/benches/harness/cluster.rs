//! A cluster of real nodes wired by hand, for the benchmarks that need members.

use std::net::SocketAddr;
use std::time::Duration;

use peerster_core::crypto::IdentityKey;
use peerster_core::{Config, Node, Timestamp};

/// `n` nodes, wired by hand, in one cluster founded by node 0.
pub struct Cluster {
    /// The nodes, node 0 the founder.
    pub nodes: Vec<Node>,
    /// Their addresses.
    pub addrs: Vec<SocketAddr>,
    /// The simulated time.
    pub now: Timestamp,
}

impl Cluster {
    /// `n` nodes that connect to node 0, which founds a cluster that the others join.
    pub fn new(n: u8) -> Cluster {
        let now = Timestamp::ZERO;
        let nodes = (1..=n)
            .map(|i| {
                Node::new(
                    Config::default(),
                    IdentityKey::from_secret_bytes([i; 32]),
                    [i; 32],
                    now,
                )
                .expect("default config is valid")
            })
            .collect();
        let addrs = (1..=n)
            .map(|i| SocketAddr::from(([10, 0, 0, i], 7000)))
            .collect();
        let mut cluster = Cluster { nodes, addrs, now };
        for i in 0..cluster.nodes.len() {
            cluster.nodes[i].announce(now, "bench").expect("short name");
            if i > 0 {
                let to = cluster.addrs[0];
                cluster.nodes[i].connect(now, to);
            }
        }
        cluster.settle();
        cluster.nodes[0]
            .create_cluster(now, None)
            .expect("no limit");
        for i in 1..cluster.nodes.len() {
            let (now, contact) = (cluster.now, cluster.addrs[0]);
            cluster.nodes[i].join(now, contact).expect("contact known");
            cluster.settle();
            assert!(cluster.nodes[i].cluster().is_some(), "node {i} joined");
        }
        cluster
    }

    /// Delivers every datagram and fires every timer for 5 simulated seconds.
    pub fn settle(&mut self) {
        let until = self.now + Duration::from_secs(5);
        loop {
            let mut idle = true;
            for from in 0..self.nodes.len() {
                while let Some(t) = self.nodes[from].poll_transmit() {
                    idle = false;
                    if let Some(to) = self.addrs.iter().position(|a| *a == t.destination) {
                        let from = self.addrs[from];
                        self.nodes[to].handle_datagram(self.now, from, &t.payload);
                    }
                }
                while self.nodes[from].poll_event().is_some() {}
            }
            if idle {
                let next = self.nodes.iter().filter_map(Node::poll_timeout).min();
                match next {
                    Some(t) if t <= until => {
                        self.now = t.max(self.now);
                        let now = self.now;
                        self.nodes.iter_mut().for_each(|n| n.handle_timeout(now));
                    }
                    _ => break,
                }
            }
        }
    }
}
