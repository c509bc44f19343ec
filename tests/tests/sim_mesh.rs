//! The simulator drives real core nodes: a chain of nodes authenticates every link, and the
//! run replays byte for byte from its seed.

use std::time::Duration;

use peerster_core::{Config, Event};
use peerster_sim::{Simulation, TraceEntry};

fn chain(n: usize, seed: u64) -> Simulation {
    let mut sim = Simulation::new(n, seed, Config::default(), Duration::from_millis(15))
        .expect("default config is valid");
    for i in 1..n {
        let to = sim.addr(i - 1);
        sim.command(i, |node, now| node.connect(now, to));
    }
    sim.run_for(Duration::from_secs(90));
    sim
}

#[test]
fn chain_of_twenty_verifies_every_link_and_replays_from_its_seed() {
    for seed in [1, 2, 3] {
        let sim = chain(20, seed);
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
        assert_eq!(verified, 2 * 19, "seed {seed}");
        for (i, node) in sim.nodes().iter().enumerate() {
            let expected = if i == 0 || i == 19 { 1 } else { 2 };
            assert_eq!(node.peers().count(), expected, "seed {seed}, node {i}");
        }
        assert_eq!(
            sim.trace(),
            chain(20, seed).trace(),
            "seed {seed} did not replay"
        );
    }
}
