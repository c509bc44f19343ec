//! Gossip at scale: on 200 nodes over a random degree-4 graph where every link loses 30 % of
//! datagrams, every node's announcement reaches every live node.

use std::time::Duration;

use peerster_core::Config;
use peerster_sim::{LinkModel, SpreadScenario, for_each_seed, run_spread};

#[test]
fn every_announcement_reaches_every_node_of_200_at_30_percent_loss() {
    spread_at_30_percent_loss(Config::default(), "with peer exchange");
}

#[test]
fn the_same_holds_on_the_bare_degree_4_graph() {
    // No peer exchange: every node keeps exactly the neighbours of the degree-4 graph.
    let config = Config {
        target_peers: 0,
        ..Config::default()
    };
    spread_at_30_percent_loss(config, "degree 4, no peer exchange");
}

fn spread_at_30_percent_loss(config: Config, label: &str) {
    for_each_seed([1, 2], |seed| {
        let mut scenario = SpreadScenario::new(200, seed);
        scenario.config = config.clone();
        scenario.link = LinkModel::ideal(Duration::from_millis(20))
            .with_jitter(Duration::from_millis(20))
            .with_uniform_loss(0.30);
        scenario.warmup = Duration::from_secs(30);
        let report = run_spread(&scenario).expect("default config is valid");
        let spread = report.spread_time.unwrap_or_else(|| {
            panic!(
                "seed {seed}: only {:.1} % of announcements arrived in {:?}: {report:?}",
                100.0 * report.coverage,
                scenario.deadline
            )
        });
        eprintln!(
            "{label}, seed {seed}: 200 announcements reached 200 nodes at 30 % loss in \
             {spread:?} (simulated), {:.1} peers per node, {} bytes sent per node",
            report.mean_peers, report.bytes_per_node
        );
        assert!(report.stats.lost_in_network > 0);
    });
}
