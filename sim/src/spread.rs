//! The announcement-spread scenario: how long the overlay takes to carry every node's
//! announcement to every live node, and at what cost.
//!
//! Nodes connect along a random connected graph of a given degree, warm up (handshakes, peer
//! exchange), then every node announces itself at once. The run ends when every live node
//! holds the announcement of every node, or at the deadline.

use std::time::Duration;

use peerster_core::{Config, ConfigError, Timestamp};

use crate::{LinkModel, Network, SimConfig, SimStats, Simulation, Topology};

/// The parameters of a spread run.
#[derive(Clone, Debug)]
pub struct SpreadScenario {
    /// Number of nodes.
    pub nodes: usize,
    /// Degree of the random connected graph the nodes first connect along.
    pub degree: usize,
    /// Seed of the whole run.
    pub seed: u64,
    /// The model of every link.
    pub link: LinkModel,
    /// The nodes' configuration.
    pub config: Config,
    /// Simulated time between the first connects and the announcements.
    pub warmup: Duration,
    /// Simulated time the announcements get to spread before the run gives up.
    pub deadline: Duration,
    /// How often (simulated) the run checks whether the spread is complete: the resolution of
    /// the measured spread time.
    pub check_every: Duration,
}

impl SpreadScenario {
    /// `nodes` nodes on a degree-4 graph with 20 ms links, default node configuration, 10 s of
    /// warm-up, a 120 s deadline and 50 ms resolution.
    pub fn new(nodes: usize, seed: u64) -> Self {
        SpreadScenario {
            nodes,
            degree: 4,
            seed,
            link: LinkModel::ideal(Duration::from_millis(20)),
            config: Config::default(),
            warmup: Duration::from_secs(10),
            deadline: Duration::from_secs(120),
            check_every: Duration::from_millis(50),
        }
    }
}

/// What a spread run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct SpreadReport {
    /// Number of nodes.
    pub nodes: usize,
    /// Simulated time from the announcements until every live node held all of them, if it
    /// happened before the deadline.
    pub spread_time: Option<Duration>,
    /// Share of (node, announcement) pairs held at the end, 1.0 when the spread completed.
    pub coverage: f64,
    /// Mean number of verified peers per node at the end.
    pub mean_peers: f64,
    /// Simulated time of the whole run.
    pub simulated: Duration,
    /// The engine's counters.
    pub stats: SimStats,
    /// Bytes every node sent, on average, over the whole run.
    pub bytes_per_node: u64,
    /// The run's digest: the same scenario and seed give the same digest.
    pub digest: u64,
}

/// Runs `scenario` and reports how the announcements spread.
pub fn run_spread(scenario: &SpreadScenario) -> Result<SpreadReport, ConfigError> {
    let n = scenario.nodes;
    let mut setup = SimConfig::new(n, scenario.seed);
    setup.config = scenario.config.clone();
    setup.network = Network::new(scenario.link);
    let mut sim = Simulation::new(setup)?;
    let topology = Topology::random_connected(n, scenario.degree, sim.rng());
    sim.connect_topology(&topology);
    sim.run_for(scenario.warmup);

    for i in 0..n {
        sim.command(i, |node, now| {
            // A short ASCII name is always within the bound.
            let _ = node.announce(now, &format!("node-{i}"));
        });
    }
    let announced_at = sim.now();
    let complete = |sim: &Simulation| {
        sim.nodes()
            .filter(|&(i, _)| sim.is_up(i))
            .all(|(_, node)| node.announcements().count() >= n)
    };
    let mut spread_time = None;
    while sim.now() < announced_at + scenario.deadline {
        sim.run_for(scenario.check_every);
        if complete(&sim) {
            spread_time = Some(sim.now() - announced_at);
            break;
        }
    }
    let held: usize = sim
        .nodes()
        .map(|(_, node)| node.announcements().count().min(n))
        .sum();
    let peers: usize = sim.nodes().map(|(_, node)| node.peers().count()).sum();
    let bytes: u64 = sim.nodes().map(|(_, node)| node.stats().bytes_sent).sum();
    Ok(SpreadReport {
        nodes: n,
        spread_time,
        coverage: held as f64 / (n * n) as f64,
        mean_peers: peers as f64 / n as f64,
        simulated: sim.now() - Timestamp::ZERO,
        stats: sim.stats(),
        bytes_per_node: bytes / n as u64,
        digest: sim.digest(),
    })
}
