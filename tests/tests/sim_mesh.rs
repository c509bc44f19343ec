//! The simulator drives real core nodes: a chain of nodes authenticates every link, and the
//! run replays byte for byte from its seed.

use std::time::Duration;

use peerster_core::Event;
use peerster_sim::{Recorder, SimConfig, Simulation, Topology, for_each_seed};

fn chain(n: usize, seed: u64) -> Simulation<Recorder> {
    let mut setup = SimConfig::new(n, seed);
    setup.network =
        peerster_sim::Network::new(peerster_sim::LinkModel::ideal(Duration::from_millis(15)));
    let mut sim =
        Simulation::with_observer(setup, Recorder::default()).expect("default config is valid");
    sim.connect_topology(&Topology::chain(n));
    sim.run_for(Duration::from_secs(90));
    sim
}

#[test]
fn chain_of_twenty_verifies_every_link_and_replays_from_its_seed() {
    for_each_seed([1, 2], |seed| {
        let sim = chain(20, seed);
        for i in 0..20 {
            let node = sim.node(i).expect("no churn in this run");
            for j in [i.wrapping_sub(1), i + 1] {
                if j < 20 {
                    assert!(
                        node.peer(&sim.addr(j)).is_some(),
                        "{i} knows its neighbour {j}"
                    );
                }
            }
            let verified = sim
                .observer()
                .events_of(i)
                .filter(|e| matches!(e, Event::PeerVerified { .. }))
                .count();
            assert_eq!(
                verified,
                node.peers().count(),
                "node {i}: one event per peer"
            );
        }
        let again = chain(20, seed);
        assert_eq!(
            sim.observer().trace,
            again.observer().trace,
            "did not replay"
        );
        assert_eq!(sim.digest(), again.digest());
    });
}
