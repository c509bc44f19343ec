//! Engine throughput: simulation events per second of wall time on overlay-only work.
//!
//! Nodes connect along a random degree-4 topology (the handshake phase, dominated by Ed25519
//! signatures in core), then only keep-alive pings run (the steady phase, where the engine's
//! own cost shows). Peer exchange and gossip are switched off and the keep-alive interval is
//! shortened to 1 s, so that a short simulated span gives many events; what is measured is
//! the cost per event, not per simulated second.
//!
//! `cargo bench -p peerster-sim --bench engine` runs 1 000 and 10 000 nodes; pass node counts
//! to run others (`-- 2000`). `STEADY_EVENTS=20000000` lengthens the steady phase (about 2
//! million events by default), for profiling it.

use std::time::{Duration, Instant};

use peerster_core::Config;
use peerster_sim::{LinkModel, Network, SimConfig, SimStats, Simulation, Topology};

/// This process's resident memory in bytes, from Linux's `/proc/self/status`.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// One timed stretch of a run.
struct Phase {
    name: &'static str,
    simulated: Duration,
    wall: Duration,
    /// CPU time of this thread, where the OS tells it: on a shared machine it leaves out the
    /// time spent waiting for a core.
    cpu: Option<Duration>,
    stats: SimStats,
}

/// This thread's CPU time so far, from Linux's `/proc/thread-self/schedstat`.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

impl Phase {
    fn print(&self, nodes: usize) {
        let events = self.stats.events;
        let secs = self.wall.as_secs_f64();
        let cpu = self.cpu.map_or(String::new(), |cpu| {
            let cpu = cpu.as_secs_f64();
            format!(
                "  (CPU {cpu:.3} s, {:.0} events/CPU-s)",
                events as f64 / cpu
            )
        });
        println!(
            "{nodes:>6} nodes  {:<9} {:>4} s simulated {events:>9} events {:>9} datagrams \
             {secs:>7.3} s wall {:>9.0} events/s {:>5.2} µs/event{cpu}",
            self.name,
            self.simulated.as_secs(),
            self.stats.datagrams_delivered,
            events as f64 / secs,
            secs * 1e6 / events.max(1) as f64,
        );
    }
}

/// What the engine did between two snapshots of its counters.
fn delta(after: SimStats, before: SimStats) -> SimStats {
    SimStats {
        events: after.events - before.events,
        datagrams_sent: after.datagrams_sent - before.datagrams_sent,
        datagrams_delivered: after.datagrams_delivered - before.datagrams_delivered,
        stale_timers: after.stale_timers - before.stale_timers,
        ..SimStats::default()
    }
}

fn run_phase(
    sim: &mut Simulation,
    name: &'static str,
    simulated: Duration,
    before: impl FnOnce(&mut Simulation),
) -> Phase {
    let stats = sim.stats();
    let cpu = thread_cpu_time();
    let started = Instant::now();
    before(sim);
    sim.run_for(simulated);
    Phase {
        name,
        simulated,
        wall: started.elapsed(),
        cpu: cpu.and_then(|before| Some(thread_cpu_time()? - before)),
        stats: delta(sim.stats(), stats),
    }
}

fn bench(nodes: usize) {
    let config = Config {
        keepalive_interval: Duration::from_secs(1),
        peer_timeout: Duration::from_secs(5),
        // Overlay only: no peer exchange, no gossip.
        target_peers: 0,
        peer_exchange_interval: Duration::from_secs(1 << 20),
        gossip_interval: Duration::from_secs(1 << 20),
        max_pending_handshakes: 64,
        ..Config::default()
    };
    let setup = SimConfig {
        nodes,
        seed: 1,
        config,
        network: Network::new(
            LinkModel::ideal(Duration::from_millis(20)).with_jitter(Duration::from_millis(10)),
        ),
        signature_memo: true,
    };
    let resident_before = resident_bytes();
    let started = Instant::now();
    let mut sim = Simulation::new(setup).expect("valid config");
    let created = started.elapsed();
    let topology = Topology::random_connected(nodes, 4, sim.rng());
    let handshakes = run_phase(&mut sim, "handshake", Duration::from_secs(3), |sim| {
        sim.connect_topology(&topology)
    });
    let links = sim.nodes().map(|(_, n)| n.peers().count()).sum::<usize>() / 2;
    assert_eq!(links, topology.edges().len(), "every link verified");
    // About the same number of steady events at every size: 12 per node per simulated second.
    let target: u64 = std::env::var("STEADY_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let steady_span = Duration::from_secs((target / (12 * nodes as u64)).max(10));
    let steady = run_phase(&mut sim, "steady", steady_span, |_| {});
    assert_eq!(
        sim.nodes().map(|(_, n)| n.peers().count()).sum::<usize>() / 2,
        links,
        "no link lost while pinging"
    );

    println!(
        "{nodes:>6} nodes  created in {:.3} s ({} links, {} queued at the end, digest {:016x})",
        created.as_secs_f64(),
        links,
        sim.queued(),
        sim.digest()
    );
    handshakes.print(nodes);
    steady.print(nodes);
    if let (Some(before), Some(after)) = (resident_before, resident_bytes()) {
        let per_node = after.saturating_sub(before) as f64 / nodes as f64;
        let cpu_per_node_second = steady.cpu.map_or(String::new(), |cpu| {
            format!(
                ", {:.1} µs of CPU per node per simulated second in the steady phase",
                cpu.as_secs_f64() * 1e6 / (nodes as f64 * steady.simulated.as_secs_f64())
            )
        });
        println!(
            "{nodes:>6} nodes  cost per node: {:.1} KiB resident{cpu_per_node_second}",
            per_node / 1024.0
        );
    }
    let total = Phase {
        name: "total",
        simulated: handshakes.simulated + steady.simulated,
        wall: handshakes.wall + steady.wall,
        cpu: handshakes.cpu.zip(steady.cpu).map(|(a, b)| a + b),
        stats: delta(sim.stats(), SimStats::default()),
    };
    total.print(nodes);
}

fn main() {
    // `cargo bench` passes `--bench`; anything numeric is a node count.
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000]
    } else {
        sizes
    };
    for nodes in sizes {
        bench(nodes);
    }
}
