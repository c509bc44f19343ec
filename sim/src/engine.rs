//! The event loop: a priority queue of datagram deliveries and node timers.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::Duration;

use peerster_core::crypto::IdentityKey;
use peerster_core::{Config, ConfigError, Event, Node, Timestamp};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

/// Index of a node in a [`Simulation`].
pub type NodeIndex = usize;

/// Something the simulation recorded, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceEntry {
    /// A node handed a datagram to the network.
    Sent {
        /// When it was sent.
        at: Timestamp,
        /// The sender.
        from: NodeIndex,
        /// The destination address (it may belong to no node).
        to: SocketAddr,
        /// The datagram.
        payload: Vec<u8>,
    },
    /// A node emitted an event.
    Event {
        /// When it was emitted.
        at: Timestamp,
        /// The node.
        node: NodeIndex,
        /// The event.
        event: Event,
    },
}

/// What the event queue holds.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Deliver {
        from: SocketAddr,
        to: NodeIndex,
        payload: Vec<u8>,
    },
    Timer {
        node: NodeIndex,
        deadline: Timestamp,
    },
}

/// An entry of the event queue, ordered by time and then by insertion, so that ties resolve
/// the same way in every run.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Scheduled {
    at: Timestamp,
    seq: u64,
    action: Action,
}

/// A set of nodes on a simulated network, driven in simulated time.
pub struct Simulation {
    now: Timestamp,
    nodes: Vec<Node>,
    addrs: Vec<SocketAddr>,
    /// The deadline each node has a timer queued for, so a timer is queued once.
    armed: Vec<Option<Timestamp>>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    latency: Duration,
    trace: Vec<TraceEntry>,
    events_processed: u64,
}

impl Simulation {
    /// `n` nodes with identities and CSPRNG seeds drawn from `seed`, on a network that
    /// delivers every datagram after `latency`.
    pub fn new(
        n: usize,
        seed: u64,
        config: Config,
        latency: Duration,
    ) -> Result<Simulation, ConfigError> {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let now = Timestamp::ZERO;
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            let mut secret = [0; 32];
            rng.fill_bytes(&mut secret);
            let mut node_seed = [0; 32];
            rng.fill_bytes(&mut node_seed);
            let identity = IdentityKey::from_secret_bytes(secret);
            nodes.push(Node::new(config.clone(), identity, node_seed, now)?);
        }
        Ok(Simulation {
            now,
            nodes,
            addrs: (0..n).map(address_of).collect(),
            armed: vec![None; n],
            queue: BinaryHeap::new(),
            seq: 0,
            latency,
            trace: Vec::new(),
            events_processed: 0,
        })
    }

    /// The current simulated time.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The nodes, by index.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The address of node `i`.
    pub fn addr(&self, i: NodeIndex) -> SocketAddr {
        self.addrs[i]
    }

    /// The node at `addr`, if any.
    pub fn index_of(&self, addr: SocketAddr) -> Option<NodeIndex> {
        // Addresses are handed out in order, so the index is in the address.
        self.addrs.binary_search(&addr).ok()
    }

    /// Everything sent and emitted so far.
    pub fn trace(&self) -> &[TraceEntry] {
        &self.trace
    }

    /// How many queued deliveries and timers have been processed.
    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    /// Runs `command` on node `i` at the current time, as if its user typed it.
    pub fn command(&mut self, i: NodeIndex, command: impl FnOnce(&mut Node, Timestamp)) {
        command(&mut self.nodes[i], self.now);
        self.drain(i);
    }

    /// Processes events in time order until the queue is empty or the next one is after
    /// `until`; the clock then stands at `until`.
    pub fn run_until(&mut self, until: Timestamp) {
        while let Some(Reverse(next)) = self.queue.peek() {
            if next.at > until {
                break;
            }
            let Some(Reverse(Scheduled { at, action, .. })) = self.queue.pop() else {
                break;
            };
            self.now = at;
            self.events_processed += 1;
            match action {
                Action::Deliver { from, to, payload } => {
                    self.nodes[to].handle_datagram(at, from, &payload);
                    self.drain(to);
                }
                Action::Timer { node, deadline } => {
                    if self.armed[node] == Some(deadline) {
                        self.armed[node] = None;
                        self.nodes[node].handle_timeout(at);
                        self.drain(node);
                    }
                }
            }
        }
        self.now = self.now.max(until);
    }

    /// Runs for `span` of simulated time.
    pub fn run_for(&mut self, span: Duration) {
        let until = self.now + span;
        self.run_until(until);
    }

    /// Moves node `i`'s output into the network and the trace, and re-arms its timer.
    fn drain(&mut self, i: NodeIndex) {
        let now = self.now;
        while let Some(t) = self.nodes[i].poll_transmit() {
            if let Some(to) = self.index_of(t.destination) {
                let action = Action::Deliver {
                    from: self.addrs[i],
                    to,
                    payload: t.payload.clone(),
                };
                self.schedule(now + self.latency, action);
            }
            self.trace.push(TraceEntry::Sent {
                at: now,
                from: i,
                to: t.destination,
                payload: t.payload,
            });
        }
        while let Some(event) = self.nodes[i].poll_event() {
            self.trace.push(TraceEntry::Event {
                at: now,
                node: i,
                event,
            });
        }
        let deadline = self.nodes[i].poll_timeout();
        if deadline != self.armed[i] {
            self.armed[i] = deadline;
            if let Some(deadline) = deadline {
                self.schedule(deadline.max(now), Action::Timer { node: i, deadline });
            }
        }
    }

    fn schedule(&mut self, at: Timestamp, action: Action) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            action,
        }));
    }
}

/// The synthetic address of node `i`: 10.x.y.z:7000, increasing with `i`.
pub fn address_of(i: NodeIndex) -> SocketAddr {
    let [_, b, c, d] = (0x0a00_0001u32 + i as u32).to_be_bytes();
    SocketAddr::from(([10, b, c, d], 7000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_sort_in_index_order() {
        let addrs: Vec<_> = (0..600).map(address_of).collect();
        assert!(addrs.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_chain_of_nodes_verifies_every_link() {
        let mut sim = Simulation::new(5, 1, Config::default(), Duration::from_millis(20)).unwrap();
        for i in 1..5 {
            let to = sim.addr(i - 1);
            sim.command(i, |node, now| node.connect(now, to));
        }
        sim.run_for(Duration::from_secs(2));
        let verified = sim
            .trace()
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    TraceEntry::Event {
                        event: Event::PeerVerified { .. },
                        ..
                    }
                )
            })
            .count();
        assert_eq!(verified, 8, "4 links, verified at both ends");
        assert_eq!(sim.nodes()[2].peers().count(), 2);
    }
}
