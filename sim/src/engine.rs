//! The event loop: [`Simulation`] owns the clock, the randomness and the network, and drives
//! real [`Node`]s through them, one queued event at a time.
//!
//! Four things sit in the event queue: datagram deliveries, node timers, user commands, and
//! churn (crash, restart). A node's timer is queued once per deadline it asks for: `armed`
//! remembers the deadline queued, and a popped timer that no longer matches it is stale and
//! skipped. After every input the node is drained: its datagrams go through the observer and
//! the network into the queue, its events to the observer, and its deadline is re-armed.
//! Events due at the same instant run in the order they were queued.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use peerster_core::crypto::{IdentityKey, PublicIdentity};
use peerster_core::{Config, ConfigError, Node, Timestamp};
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

use crate::address::{MAX_NODES, NodeIndex, address_of, index_of};
use crate::digest::Digest;
use crate::network::Network;
use crate::observer::{Observer, Verdict};
use crate::queue::EventQueue;
use crate::signature_memo::SharedSignatureMemo;
use crate::topology::Topology;

/// A queued user command: called with the node and the current time.
type Command = Box<dyn FnOnce(&mut Node, Timestamp)>;

/// How many times a node may be woken at one instant before the engine calls it a busy loop.
const MAX_WAKEUPS_PER_INSTANT: u32 = 10_000;

/// What a simulation starts with.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// How many nodes to create (more can be added with [`Simulation::add_node`]).
    pub nodes: usize,
    /// The seed every identity, node seed, network draw and scenario draw derives from.
    pub seed: u64,
    /// The configuration every node runs with.
    pub config: Config,
    /// The links between the nodes.
    pub network: Network,
    /// Whether the nodes share a [`SharedSignatureMemo`], so that each distinct signature is
    /// verified once per run rather than once per node that receives it. Results are the same
    /// either way; only the time differs.
    pub signature_memo: bool,
}

impl SimConfig {
    /// `nodes` nodes with the default [`Config`] on the default [`Network`] (20 ms, lossless).
    pub fn new(nodes: usize, seed: u64) -> SimConfig {
        SimConfig {
            nodes,
            seed,
            config: Config::default(),
            network: Network::default(),
            signature_memo: true,
        }
    }
}

/// Counters of what the engine did, for tests, benchmarks and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Inputs handed to nodes: deliveries, timer expiries and commands, plus crashes and
    /// restarts. This is what "events per second" counts.
    pub events: u64,
    /// Datagrams nodes handed to the network.
    pub datagrams_sent: u64,
    /// Datagrams that reached a running node.
    pub datagrams_delivered: u64,
    /// Datagrams an observer dropped.
    pub dropped_by_observer: u64,
    /// Datagrams the network model lost.
    pub lost_in_network: u64,
    /// Datagrams sent to an address where no node was ever created.
    pub to_no_node: u64,
    /// Datagrams that arrived at a node that was down, or had crashed since they were sent.
    pub to_down_node: u64,
    /// Events the nodes emitted.
    pub node_events: u64,
    /// Queued timers skipped because the node's deadline had moved since.
    pub stale_timers: u64,
    /// Scheduled commands skipped because their node was down.
    pub skipped_commands: u64,
}

/// What the event queue holds.
enum Item {
    Deliver {
        from: NodeIndex,
        to: NodeIndex,
        /// The incarnation of `to` when the datagram was sent: a crash in between loses it.
        incarnation: u32,
        payload: Vec<u8>,
    },
    Timer {
        node: NodeIndex,
        deadline: Timestamp,
    },
    Command {
        node: NodeIndex,
        command: Command,
    },
    Crash(NodeIndex),
    Restart(NodeIndex),
}

/// One node slot: the node while it runs, and its timer bookkeeping, side by side so that
/// handling a node's input touches one region of memory.
struct Host {
    /// `None` while crashed.
    node: Option<Node>,
    /// The deadline a timer is queued for.
    armed: Option<Timestamp>,
    /// The last instant the node was woken at, and how many times.
    wakeups: (Timestamp, u32),
}

/// A deterministic simulation of Peerster nodes on a modelled network: the same
/// [`SimConfig`] and the same calls give the same run, datagram for datagram, which
/// [`Simulation::digest`] sums up.
///
/// `O` is the [`Observer`] watching the run; `()` watches nothing.
pub struct Simulation<O: Observer = ()> {
    now: Timestamp,
    config: Config,
    /// Each node and its timer, by index.
    hosts: Vec<Host>,
    /// Each node's identity, kept across restarts.
    identities: Vec<IdentityKey>,
    /// How many times each node has crashed (dense, as every send reads it).
    incarnations: Vec<u32>,
    queue: EventQueue<Item>,
    network: Network,
    /// Draws identities and seeds of new nodes.
    identity_rng: ChaCha8Rng,
    /// Draws network loss and delay.
    network_rng: ChaCha8Rng,
    /// Draws the seeds of restarted nodes.
    reboot_rng: ChaCha8Rng,
    /// Lent to the scenario (topologies, workloads) through [`Simulation::rng`].
    scenario_rng: ChaCha8Rng,
    observer: O,
    digest: Digest,
    stats: SimStats,
    /// Shared by every node, when the setup asked for it.
    signature_memo: Option<Arc<SharedSignatureMemo>>,
}

impl Simulation<()> {
    /// A simulation with no observer.
    pub fn new(setup: SimConfig) -> Result<Simulation<()>, ConfigError> {
        Simulation::with_observer(setup, ())
    }
}

impl<O: Observer> Simulation<O> {
    /// A simulation watched by `observer`. Fails if `setup.config` is invalid.
    pub fn with_observer(setup: SimConfig, observer: O) -> Result<Simulation<O>, ConfigError> {
        setup.config.validate()?;
        // One ChaCha stream per purpose, so that, say, changing the loss rate does not change
        // the nodes' identities.
        let stream = |n| {
            let mut rng = ChaCha8Rng::seed_from_u64(setup.seed);
            rng.set_stream(n);
            rng
        };
        let mut sim = Simulation {
            now: Timestamp::ZERO,
            config: setup.config,
            hosts: Vec::with_capacity(setup.nodes),
            identities: Vec::with_capacity(setup.nodes),
            incarnations: Vec::with_capacity(setup.nodes),
            queue: EventQueue::new(),
            network: setup.network,
            identity_rng: stream(0),
            network_rng: stream(1),
            reboot_rng: stream(2),
            scenario_rng: stream(3),
            observer,
            digest: Digest::new(),
            stats: SimStats::default(),
            signature_memo: setup
                .signature_memo
                .then(|| Arc::new(SharedSignatureMemo::new())),
        };
        for _ in 0..setup.nodes {
            sim.add_node();
        }
        Ok(sim)
    }

    /// Creates one more running node, with a fresh identity, at [`address_of`] its index.
    ///
    /// # Panics
    ///
    /// If the simulation already holds [`MAX_NODES`] nodes.
    pub fn add_node(&mut self) -> NodeIndex {
        let i = self.hosts.len();
        assert!(i < MAX_NODES, "the address plan holds {MAX_NODES} nodes");
        let mut secret = [0; 32];
        self.identity_rng.fill_bytes(&mut secret);
        let mut seed = [0; 32];
        self.identity_rng.fill_bytes(&mut seed);
        let identity = IdentityKey::from_secret_bytes(secret);
        self.hosts.push(Host {
            node: Some(self.boot(identity.clone(), seed)),
            armed: None,
            wakeups: (Timestamp::ZERO, 0),
        });
        self.identities.push(identity);
        self.incarnations.push(0);
        self.drain(i);
        i
    }

    fn boot(&self, identity: IdentityKey, seed: [u8; 32]) -> Node {
        let mut node = Node::new(self.config.clone(), identity, seed, self.now)
            .expect("the config was validated when the simulation was created");
        if let Some(memo) = &self.signature_memo {
            node.set_signature_memo(memo.clone());
        }
        node
    }

    /// The current simulated time.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// How many nodes were created, running or not.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether the simulation has no node.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Node `i`, or `None` while it is crashed.
    pub fn node(&self, i: NodeIndex) -> Option<&Node> {
        self.hosts[i].node.as_ref()
    }

    /// The running nodes with their indices.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeIndex, &Node)> {
        self.hosts
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.node.as_ref().map(|n| (i, n)))
    }

    /// Whether node `i` is running.
    pub fn is_up(&self, i: NodeIndex) -> bool {
        self.hosts[i].node.is_some()
    }

    /// The public identity of node `i`, which it keeps across restarts.
    pub fn identity(&self, i: NodeIndex) -> PublicIdentity {
        self.identities[i].public()
    }

    /// The address of node `i`.
    pub fn addr(&self, i: NodeIndex) -> SocketAddr {
        address_of(i)
    }

    /// The node at `addr`, if one was created there.
    pub fn index_of(&self, addr: SocketAddr) -> Option<NodeIndex> {
        index_of(addr).filter(|&i| i < self.hosts.len())
    }

    /// The network model; change it with [`Simulation::network_mut`] at any time (a
    /// partition, a lossy period).
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The network model, to change links during the run.
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.network
    }

    /// The observer.
    pub fn observer(&self) -> &O {
        &self.observer
    }

    /// The observer, to read or reset what it collected.
    pub fn observer_mut(&mut self) -> &mut O {
        &mut self.observer
    }

    /// A seeded RNG for the scenario's own draws (topologies, workloads), separate from the
    /// engine's, so scenario draws do not shift network draws.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.scenario_rng
    }

    /// What the engine has done so far.
    pub fn stats(&self) -> SimStats {
        self.stats
    }

    /// The running hash of every datagram sent (time, sender, destination, bytes), every
    /// event emitted (time, node, `Debug` text) and every crash and restart: equal digests
    /// mean equal runs.
    pub fn digest(&self) -> u64 {
        self.digest.value()
    }

    /// When the next queued event is due, if any.
    pub fn next_event_at(&self) -> Option<Timestamp> {
        self.queue.next_at()
    }

    /// How many events are queued (stale timers included).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Runs `command` on node `i` now, as if its user typed it; returns false, doing
    /// nothing, if the node is down.
    pub fn command(&mut self, i: NodeIndex, command: impl FnOnce(&mut Node, Timestamp)) -> bool {
        let now = self.now;
        let Some(node) = self.hosts[i].node.as_mut() else {
            return false;
        };
        command(node, now);
        self.stats.events += 1;
        self.drain(i);
        true
    }

    /// Queues `command` for node `i` at `at` (or now, if `at` has passed); it is skipped if
    /// the node is down then.
    pub fn schedule_command(
        &mut self,
        at: Timestamp,
        i: NodeIndex,
        command: impl FnOnce(&mut Node, Timestamp) + 'static,
    ) {
        let command: Command = Box::new(command);
        self.queue
            .push(at.max(self.now), Item::Command { node: i, command });
    }

    /// Has every edge `(a, b)` of `topology` connected now, by node `a` (the higher index)
    /// to node `b`.
    pub fn connect_topology(&mut self, topology: &Topology) {
        for &(a, b) in topology.edges() {
            let to = address_of(b);
            self.command(a, |node, now| node.connect(now, to));
        }
    }

    /// Crashes node `i` now: it stops receiving, its timers stop, and datagrams in flight to
    /// it are lost. Crashing a crashed node does nothing.
    pub fn crash(&mut self, i: NodeIndex) {
        let host = &mut self.hosts[i];
        if host.node.take().is_none() {
            return;
        }
        host.armed = None;
        self.incarnations[i] += 1;
        self.stats.events += 1;
        self.digest.write_u64(self.now.as_micros());
        self.digest.write_bytes(b"crash");
        self.digest.write_u64(i as u64);
    }

    /// Restarts node `i` now as a rebooted process: a fresh [`Node`] with the same identity
    /// and address and a new seed, knowing no peers. A running node is crashed first.
    pub fn restart(&mut self, i: NodeIndex) {
        self.crash(i);
        let mut seed = [0; 32];
        self.reboot_rng.fill_bytes(&mut seed);
        self.hosts[i].node = Some(self.boot(self.identities[i].clone(), seed));
        self.stats.events += 1;
        self.digest.write_u64(self.now.as_micros());
        self.digest.write_bytes(b"restart");
        self.digest.write_u64(i as u64);
        self.drain(i);
    }

    /// Queues a [`Simulation::crash`] of node `i` at `at`.
    pub fn schedule_crash(&mut self, at: Timestamp, i: NodeIndex) {
        self.queue.push(at.max(self.now), Item::Crash(i));
    }

    /// Queues a [`Simulation::restart`] of node `i` at `at`; commands queued afterwards for
    /// the same instant run on the restarted node.
    pub fn schedule_restart(&mut self, at: Timestamp, i: NodeIndex) {
        self.queue.push(at.max(self.now), Item::Restart(i));
    }

    /// Processes the next queued event, if any; returns whether there was one.
    pub fn step(&mut self) -> bool {
        match self.queue.pop_due(Timestamp::MAX) {
            Some((at, item)) => {
                self.now = at;
                self.process(item);
                true
            }
            None => false,
        }
    }

    /// Processes events in time order until the queue is empty or the next one is after
    /// `until`; the clock then stands at `until`.
    pub fn run_until(&mut self, until: Timestamp) {
        while let Some((at, item)) = self.queue.pop_due(until) {
            self.now = at;
            self.process(item);
        }
        self.now = self.now.max(until);
    }

    /// Runs for `span` of simulated time.
    pub fn run_for(&mut self, span: Duration) {
        let until = self.now + span;
        self.run_until(until);
    }

    fn process(&mut self, item: Item) {
        let now = self.now;
        match item {
            Item::Deliver {
                from,
                to,
                incarnation,
                payload,
            } => {
                let up = incarnation == self.incarnations[to];
                let Some(node) = self.hosts[to].node.as_mut().filter(|_| up) else {
                    self.stats.to_down_node += 1;
                    return;
                };
                self.observer.on_deliver(now, from, to, &payload);
                node.handle_datagram(now, address_of(from), &payload);
                self.stats.datagrams_delivered += 1;
                self.stats.events += 1;
                self.drain(to);
            }
            Item::Timer { node: i, deadline } => {
                let host = &mut self.hosts[i];
                let Some(node) = host.node.as_mut().filter(|_| host.armed == Some(deadline)) else {
                    self.stats.stale_timers += 1;
                    return;
                };
                host.armed = None;
                node.handle_timeout(now);
                self.stats.events += 1;
                self.count_wakeup(i);
                self.drain(i);
            }
            Item::Command { node: i, command } => {
                if !self.command(i, command) {
                    self.stats.skipped_commands += 1;
                }
            }
            Item::Crash(i) => self.crash(i),
            Item::Restart(i) => self.restart(i),
        }
    }

    /// Catches a node whose deadline does not move past the instant it is woken at, which
    /// would spin the simulation forever at one instant.
    fn count_wakeup(&mut self, i: NodeIndex) {
        let (at, count) = &mut self.hosts[i].wakeups;
        if *at == self.now {
            *count += 1;
            assert!(
                *count < MAX_WAKEUPS_PER_INSTANT,
                "node {i} was woken {count} times at {}: its deadline does not advance",
                self.now
            );
        } else {
            *at = self.now;
            *count = 1;
        }
    }

    /// Moves node `i`'s datagrams into the network, its events to the observer, and re-arms
    /// its timer.
    fn drain(&mut self, i: NodeIndex) {
        let now = self.now;
        let Simulation {
            hosts,
            incarnations,
            queue,
            network,
            network_rng,
            observer,
            digest,
            stats,
            ..
        } = self;
        let Host { node, armed, .. } = &mut hosts[i];
        let Some(node) = node.as_mut() else {
            return;
        };
        let len = incarnations.len();
        while let Some(transmit) = node.poll_transmit() {
            let (to, mut payload) = (transmit.destination, transmit.payload);
            stats.datagrams_sent += 1;
            digest.write_u64(now.as_micros());
            digest.write_u64(i as u64);
            digest.write_u64(index_of(to).map_or(u64::MAX, |j| j as u64));
            digest.write_bytes(&payload);
            if observer.on_send(now, i, to, &payload) == Verdict::Drop {
                stats.dropped_by_observer += 1;
                continue;
            }
            observer.on_forward(now, i, to, &mut payload);
            let Some(j) = index_of(to).filter(|&j| j < len) else {
                stats.to_no_node += 1;
                continue;
            };
            let Some(delay) = network.transit(i, j, network_rng) else {
                stats.lost_in_network += 1;
                continue;
            };
            let deliver = Item::Deliver {
                from: i,
                to: j,
                incarnation: incarnations[j],
                payload,
            };
            queue.push(now + delay, deliver);
        }
        while let Some(event) = node.poll_event() {
            stats.node_events += 1;
            digest.write_u64(now.as_micros());
            digest.write_u64(i as u64);
            // Writing into a digest cannot fail.
            let _ = write!(digest, "{event:?}");
            observer.on_event(now, i, &event);
        }
        let deadline = node.poll_timeout();
        if deadline != *armed {
            *armed = deadline;
            if let Some(deadline) = deadline {
                queue.push(deadline.max(now), Item::Timer { node: i, deadline });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use peerster_core::Event;

    use super::*;
    use crate::network::LinkModel;
    use crate::observer::Recorder;

    fn verified(recorder: &Recorder) -> usize {
        recorder
            .events()
            .filter(|(_, e)| matches!(e, Event::PeerVerified { .. }))
            .count()
    }

    #[test]
    fn a_chain_of_nodes_verifies_every_link() {
        let mut sim = Simulation::with_observer(SimConfig::new(5, 1), Recorder::default()).unwrap();
        sim.connect_topology(&Topology::chain(5));
        sim.run_for(Duration::from_secs(2));
        for i in 1..5 {
            let (a, b) = (sim.node(i).unwrap(), sim.node(i - 1).unwrap());
            assert!(a.peer(&address_of(i - 1)).is_some() && b.peer(&address_of(i)).is_some());
        }
        assert!(
            verified(sim.observer()) >= 8,
            "4 links, verified at both ends"
        );
        assert_eq!(sim.stats().lost_in_network, 0);
    }

    fn lossy_run(seed: u64) -> (u64, SimStats) {
        lossy_run_with(seed, true)
    }

    fn lossy_run_with(seed: u64, signature_memo: bool) -> (u64, SimStats) {
        let mut setup = SimConfig::new(30, seed);
        setup.signature_memo = signature_memo;
        setup.network = Network::new(
            LinkModel::ideal(Duration::from_millis(10))
                .with_jitter(Duration::from_millis(20))
                .with_uniform_loss(0.05),
        );
        let mut sim = Simulation::new(setup).unwrap();
        let topology = Topology::random_connected(30, 4, sim.rng());
        sim.connect_topology(&topology);
        sim.run_for(Duration::from_secs(40));
        (sim.digest(), sim.stats())
    }

    #[test]
    fn the_same_seed_replays_the_same_run() {
        let (digest, stats) = lossy_run(3);
        assert!(stats.lost_in_network > 0 && stats.datagrams_delivered > 500);
        assert_eq!(lossy_run(3), (digest, stats));
        assert_ne!(lossy_run(4).0, digest);
    }

    #[test]
    fn the_shared_signature_memo_changes_nothing_but_time() {
        assert_eq!(lossy_run_with(9, false), lossy_run_with(9, true));
    }

    #[test]
    fn timers_are_queued_once_per_deadline() {
        let mut sim = Simulation::new(SimConfig::new(2, 5)).unwrap();
        sim.connect_topology(&Topology::chain(2));
        let mut most_queued = 0;
        while sim.now() < Timestamp::from_secs(120) && sim.step() {
            most_queued = most_queued.max(sim.queued());
        }
        // Two nodes: at most a timer each, a few stale ones and the datagrams in flight;
        // re-arming on every input without the `armed` check would grow it without bound.
        assert!(most_queued <= 12, "{most_queued} queued");
        let stats = sim.stats();
        assert!(stats.stale_timers < stats.events / 4, "{stats:?}");
    }

    /// Drops every datagram node 0 sends after it has seen three.
    struct Muzzle {
        seen: usize,
    }

    impl Observer for Muzzle {
        fn on_send(&mut self, _: Timestamp, from: NodeIndex, _: SocketAddr, _: &[u8]) -> Verdict {
            if from != 0 {
                return Verdict::Deliver;
            }
            self.seen += 1;
            if self.seen > 3 {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        }
    }

    #[test]
    fn an_observer_can_drop_datagrams_and_peers_notice() {
        let mut sim = Simulation::with_observer(
            SimConfig::new(2, 6),
            (Muzzle { seen: 0 }, Recorder::default()),
        )
        .unwrap();
        sim.connect_topology(&Topology::chain(2));
        sim.run_for(Duration::from_secs(120));
        let recorder = &sim.observer().1;
        assert!(
            recorder
                .events_of(1)
                .any(|e| matches!(e, Event::PeerLost { .. })),
            "node 1 lost node 0 once it went silent"
        );
        assert!(sim.stats().dropped_by_observer > 0);
    }

    #[test]
    fn datagrams_to_nowhere_are_dropped() {
        let mut sim = Simulation::new(SimConfig::new(1, 7)).unwrap();
        let nowhere = address_of(5);
        sim.command(0, |node, now| node.connect(now, nowhere));
        sim.run_for(Duration::from_secs(30));
        let stats = sim.stats();
        assert!(stats.to_no_node > 1, "the handshake was retried: {stats:?}");
        assert_eq!(stats.to_no_node, stats.datagrams_sent);
        assert_eq!(stats.datagrams_delivered, 0);
    }

    #[test]
    fn a_crashed_node_drops_traffic_and_its_restart_handshakes_again() {
        let mut sim = Simulation::with_observer(SimConfig::new(3, 8), Recorder::default()).unwrap();
        sim.connect_topology(&Topology::chain(3));
        sim.run_for(Duration::from_secs(5));
        assert_eq!(sim.node(1).unwrap().peers().count(), 2);
        let id = sim.node(1).unwrap().id();

        // Node 1 crashes while pings are in flight, and comes back 100 s later.
        sim.schedule_crash(Timestamp::from_secs(20), 1);
        sim.schedule_restart(Timestamp::from_secs(120), 1);
        for peer in [0, 2] {
            let to = address_of(peer);
            sim.schedule_command(Timestamp::from_secs(120), 1, move |node, now| {
                node.connect(now, to)
            });
        }
        sim.run_until(Timestamp::from_secs(119));
        assert!(!sim.is_up(1) && sim.node(1).is_none());
        assert!(sim.stats().to_down_node > 0, "{:?}", sim.stats());
        for peer in [0, 2] {
            assert!(
                sim.observer()
                    .events_of(peer)
                    .any(|e| matches!(e, Event::PeerLost { peer, .. } if *peer == id))
            );
            assert!(sim.node(peer).unwrap().peer(&address_of(1)).is_none());
        }

        sim.observer_mut().trace.clear();
        sim.run_until(Timestamp::from_secs(125));
        let node = sim.node(1).unwrap();
        assert_eq!(node.id(), id, "same identity after the restart");
        for peer in [0, 2] {
            assert!(node.peer(&address_of(peer)).is_some(), "1 knows {peer}");
            assert!(sim.node(peer).unwrap().peer(&address_of(1)).is_some());
            let verified_1 =
                |e: &&Event| matches!(e, Event::PeerVerified { peer, .. } if *peer == id);
            assert!(sim.observer().events_of(peer).any(|e| verified_1(&e)));
        }
    }

    #[test]
    fn commands_for_a_crashed_node_are_skipped() {
        let mut sim = Simulation::new(SimConfig::new(2, 9)).unwrap();
        sim.crash(0);
        let to = address_of(1);
        assert!(!sim.command(0, |node, now| node.connect(now, to)));
        sim.schedule_command(Timestamp::from_secs(1), 0, move |node, now| {
            node.connect(now, to)
        });
        sim.run_for(Duration::from_secs(10));
        assert_eq!(sim.stats().skipped_commands, 1);
        assert_eq!(sim.stats().datagrams_sent, 0);
    }
}
