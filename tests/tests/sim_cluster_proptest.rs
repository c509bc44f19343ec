//! Test 6 of the cluster issue: random interleavings of joins, posts, crashes, restarts and
//! loss bursts on a small cluster keep the cluster's invariants once the network is quiet:
//!
//! * membership is mutual and agreed: two live nodes of one cluster either both list each
//!   other, on the same epoch with the same table, or neither lists the other;
//! * a post of the current epoch is read by exactly the live members of its author's table.
//!
//! Timers are shortened so that a case settles in a minute of simulated time.
//! `PROPTEST_CASES=N` runs more cases.

use std::time::Duration;

use peerster_core::{ClusterInfo, Config, Event, Node, Timestamp};
use peerster_sim::{
    LinkModel, Network, NodeIndex, Observer, SimConfig, Simulation, Topology, address_of,
};
use proptest::prelude::*;

const NODES: usize = 7;

fn fast_config() -> Config {
    Config {
        heartbeat_interval: Duration::from_secs(1),
        member_timeout: Duration::from_secs(6),
        rollout_interval: Duration::from_secs(30),
        rollout_settle: Duration::from_millis(500),
        rollout_timeout: Duration::from_secs(2),
        offer_window: Duration::from_millis(300),
        rollout_grace: Duration::from_secs(6),
        join_retry: Duration::from_millis(500),
        post_sync_min_interval: Duration::from_millis(500),
        ..Config::default()
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Node `node` joins through the `via`-th current member.
    Join { node: usize, via: usize },
    /// Node `node` posts, if it is a member.
    Post { node: usize },
    /// Node `node` (never node 0, the founder) crashes.
    Crash { node: usize },
    /// Node `node` restarts (a fresh node with the same identity) and reconnects.
    Restart { node: usize },
    /// Every link loses `percent` % for `ms` milliseconds.
    LossBurst { percent: u8, ms: u16 },
    /// Time passes.
    Wait { ms: u16 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1..NODES, 0..NODES).prop_map(|(node, via)| Op::Join { node, via }),
        3 => (0..NODES).prop_map(|node| Op::Post { node }),
        1 => (1..NODES).prop_map(|node| Op::Crash { node }),
        1 => (1..NODES).prop_map(|node| Op::Restart { node }),
        1 => (10..60u8, 100..3000u16).prop_map(|(percent, ms)| Op::LossBurst { percent, ms }),
        2 => (50..3000u16).prop_map(|ms| Op::Wait { ms }),
    ]
}

/// Keeps every post delivery.
#[derive(Default)]
struct Posts {
    delivered: Vec<(Timestamp, NodeIndex, String)>,
}

impl Observer for Posts {
    fn on_event(&mut self, at: Timestamp, node: NodeIndex, event: &Event) {
        if let Event::Post { text, .. } = event {
            self.delivered.push((at, node, text.clone()));
        }
    }
}

fn lossless() -> LinkModel {
    LinkModel::ideal(Duration::from_millis(10)).with_jitter(Duration::from_millis(5))
}

fn info(sim: &Simulation<Posts>, i: NodeIndex) -> Option<ClusterInfo> {
    sim.node(i).and_then(Node::cluster)
}

fn lists(info: &ClusterInfo, sim: &Simulation<Posts>, j: NodeIndex) -> bool {
    let id = sim.identity(j).member_id();
    info.members.iter().any(|m| m.id == id)
}

/// Connects node `i` to two others and announces it, as a (re)started node does.
fn bring_up(sim: &mut Simulation<Posts>, i: NodeIndex) {
    for other in [(i + 1) % NODES, (i + 3) % NODES] {
        let to = address_of(other);
        sim.command(i, |node, now| node.connect(now, to));
    }
    sim.command(i, |node, now| {
        node.announce(now, &format!("n{i}")).expect("short name");
    });
}

fn run_case(seed: u64, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut setup = SimConfig::new(NODES, seed);
    setup.config = fast_config();
    setup.network = Network::new(lossless());
    let mut sim = Simulation::with_observer(setup, Posts::default()).expect("valid config");
    let topology = Topology::random_connected(NODES, 3, sim.rng());
    sim.connect_topology(&topology);
    for i in 0..NODES {
        sim.command(i, |node, now| {
            node.announce(now, &format!("n{i}")).expect("short name");
        });
    }
    sim.run_for(Duration::from_secs(3));
    sim.command(0, |node, now| {
        node.create_cluster(now, None).expect("no limit");
    });
    let mut posts = 0;
    for op in ops {
        match *op {
            Op::Join { node, via } => {
                let members: Vec<NodeIndex> = info(&sim, 0)
                    .map(|c| {
                        (0..NODES)
                            .filter(|&j| j != node && lists(&c, &sim, j) && sim.is_up(j))
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(&contact) = members.get(via % members.len().max(1)) {
                    let to = sim.addr(contact);
                    sim.command(node, |n, now| n.connect(now, to));
                    sim.run_for(Duration::from_millis(500));
                    // Refused if the contact is not verified yet: the op is then a no-op.
                    sim.command(node, |n, now| {
                        let _ = n.join(now, to);
                    });
                }
            }
            Op::Post { node } => {
                posts += 1;
                sim.command(node, |n, now| {
                    let _ = n.post(now, &format!("post {posts}"));
                });
            }
            Op::Crash { node } => sim.crash(node),
            Op::Restart { node } => {
                sim.restart(node);
                bring_up(&mut sim, node);
            }
            Op::LossBurst { percent, ms } => {
                let lossy = lossless().with_uniform_loss(f64::from(percent) / 100.0);
                sim.network_mut().set_default_link(lossy);
                sim.run_for(Duration::from_millis(ms.into()));
                sim.network_mut().set_default_link(lossless());
            }
            Op::Wait { ms } => sim.run_for(Duration::from_millis(ms.into())),
        }
    }
    // Quiet network: long enough for silent members to be rolled out, laggards to catch up
    // or find themselves out.
    sim.run_for(Duration::from_secs(40));

    let live: Vec<NodeIndex> = (0..NODES).filter(|&i| sim.is_up(i)).collect();
    for &a in &live {
        for &b in &live {
            let (Some(ia), Some(ib)) = (info(&sim, a), info(&sim, b)) else {
                continue;
            };
            if a == b || ia.id != ib.id {
                continue;
            }
            let (a_lists_b, b_lists_a) = (lists(&ia, &sim, b), lists(&ib, &sim, a));
            prop_assert_eq!(
                a_lists_b,
                b_lists_a,
                "seed {}: {} lists {}: {}, the reverse: {}",
                seed,
                a,
                b,
                a_lists_b,
                b_lists_a
            );
            if a_lists_b {
                let table = |c: &ClusterInfo| -> Vec<_> {
                    c.members.iter().map(|m| (m.id, m.epoch_key)).collect()
                };
                prop_assert_eq!(ia.epoch, ib.epoch, "seed {}: {} and {} epochs", seed, a, b);
                prop_assert_eq!(table(&ia), table(&ib), "seed {}: {} and {}", seed, a, b);
            }
        }
    }

    // A post of the current epoch reaches exactly the other live members of its author's table.
    let Some(author) = live.iter().copied().find(|&i| info(&sim, i).is_some()) else {
        return Ok(());
    };
    let table = info(&sim, author).expect("member");
    sim.command(author, |n, now| {
        n.post(now, "the last word").expect("member");
    });
    sim.run_for(Duration::from_secs(10));
    let readers: Vec<NodeIndex> = sim
        .observer()
        .delivered
        .iter()
        .filter(|(_, _, text)| text == "the last word")
        .map(|(_, node, _)| *node)
        .collect();
    let expected: Vec<NodeIndex> = live
        .iter()
        .copied()
        .filter(|&j| j != author && lists(&table, &sim, j))
        .collect();
    let mut sorted = readers.clone();
    sorted.sort();
    prop_assert_eq!(sorted, expected, "seed {}: who read the last post", seed);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(12),
        // A failing case prints its seed and operations; nothing is written to disk.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_histories_keep_the_cluster_invariants(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        run_case(seed, &ops)?;
    }
}
