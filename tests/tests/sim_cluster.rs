//! Clusters in the simulator: whole protocols on real nodes under latency, loss, silence,
//! crashes and competing clusters. Every test names its seed on failure
//! (`PEERSTER_SEED=N` reruns one seed alone).

use std::net::SocketAddr;
use std::time::Duration;

use peerster_core::wire::cluster::RefusalReason;
use peerster_core::wire::{self, Packet};
use peerster_core::{Config, Event, Node, Timestamp};
use peerster_sim::cluster::{converged, join_through};
use peerster_sim::{
    ClusterScenario, LinkModel, Network, NodeIndex, Observer, SimConfig, Simulation, Topology,
    Verdict, for_each_seed, run_cluster,
};

/// Test 1 of the cluster issue: 50 members join one by one through different contacts and
/// converge; posts reach every member, at 0 % and at 30 % loss.
#[test]
fn fifty_members_join_one_by_one_and_every_post_reaches_every_member() {
    for loss in [0.0, 0.30] {
        for_each_seed([1, 2], |seed| {
            let mut scenario = ClusterScenario::new(50, seed);
            scenario.link = LinkModel::ideal(Duration::from_millis(5)).with_uniform_loss(loss);
            scenario.posts = 60;
            scenario.post_interval = Duration::from_millis(500);
            scenario.settle = Duration::from_secs(30);
            let report = run_cluster(&scenario).expect("valid scenario");
            let failed = report.join_times.iter().filter(|t| t.is_none()).count();
            assert_eq!(
                failed, 0,
                "loss {loss}, seed {seed}: joins failed: {report:?}"
            );
            assert_eq!(report.joined, 50);
            assert!(report.converged, "loss {loss}, seed {seed}: not converged");
            assert_eq!(report.order_violations, 0);
            if loss == 0.0 {
                assert_eq!(report.delivery, 1.0, "seed {seed}: lossless delivery");
            }
            assert!(
                report.posts_reaching_99 >= 0.99,
                "loss {loss}, seed {seed}: {:.3} of posts reached 99 % of members",
                report.posts_reaching_99
            );
            let mut times: Vec<_> = report.join_times.iter().flatten().copied().collect();
            times.sort();
            eprintln!(
                "loss {loss}, seed {seed}: joins converged in p50 {:?}, max {:?}; delivery {:.4}; \
                 post latency p50 {:?} p99 {:?}",
                times[times.len() / 2],
                times.last(),
                report.delivery,
                report.post_latency(0.5),
                report.post_latency(0.99)
            );
        });
    }
}

/// Watches a run: keeps every event, can cut one node off the network, and records the cluster
/// frames the others send while `recording`.
#[derive(Default)]
struct Watch {
    events: Vec<(Timestamp, NodeIndex, Event)>,
    cut: Option<(NodeIndex, SocketAddr)>,
    recording: bool,
    frames: Vec<(NodeIndex, Vec<u8>)>,
}

impl Watch {
    fn events_of(&self, node: NodeIndex) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .filter(move |(_, n, _)| *n == node)
            .map(|(_, _, e)| e)
    }
}

impl Observer for Watch {
    fn on_send(&mut self, _: Timestamp, from: NodeIndex, to: SocketAddr, d: &[u8]) -> Verdict {
        if let Some((node, addr)) = self.cut
            && (from == node || to == addr)
        {
            return Verdict::Drop;
        }
        if self.recording && matches!(wire::decode(d), Ok(Packet::Sealed(_))) {
            self.frames.push((from, d.to_vec()));
        }
        Verdict::Deliver
    }

    fn on_event(&mut self, at: Timestamp, node: NodeIndex, event: &Event) {
        self.events.push((at, node, event.clone()));
    }
}

/// A simulation of `n` nodes on a random degree-4 overlay, announced, with node 0 founding
/// a cluster of `limit`, and nodes `1..members` joined through random members.
fn cluster_sim(
    n: usize,
    members: usize,
    seed: u64,
    config: Config,
    link: LinkModel,
    limit: Option<u16>,
) -> Simulation<Watch> {
    let mut setup = SimConfig::new(n, seed);
    setup.config = config;
    setup.network = Network::new(link);
    let mut sim = Simulation::with_observer(setup, Watch::default()).expect("valid config");
    let topology = Topology::random_connected(n, 4.min(n - 1), sim.rng());
    sim.connect_topology(&topology);
    for i in 0..n {
        sim.command(i, |node, now| {
            node.announce(now, &format!("n{i}")).expect("short name");
        });
    }
    sim.run_for(Duration::from_secs(5));
    sim.command(0, |node, now| {
        node.create_cluster(now, limit).expect("valid limit");
    });
    let mut joined = vec![0];
    for joiner in 1..members {
        let contact = joined[(seed as usize + joiner * 7) % joined.len()];
        let mut with = joined.clone();
        with.push(joiner);
        let time = join_through(
            &mut sim,
            joiner,
            contact,
            &with,
            Duration::from_secs(60),
            Duration::from_millis(10),
        );
        assert!(time.is_some(), "seed {seed}: member {joiner} did not join");
        joined = with;
    }
    sim
}

fn lan() -> LinkModel {
    LinkModel::ideal(Duration::from_millis(5))
}

/// Test 2: a member goes silent. Within the member timeout plus one rollout it is gone from
/// every table, and it opens nothing of the new epoch.
#[test]
fn a_silent_member_is_dropped_within_the_timeout_and_reads_nothing_new() {
    for_each_seed([3, 4], |seed| {
        let config = Config::default();
        let mut sim = cluster_sim(10, 10, seed, config.clone(), lan(), None);
        let silent = 7;
        let others: Vec<NodeIndex> = (0..10).filter(|&i| i != silent).collect();
        let before = sim.node(0).and_then(Node::cluster).expect("member").epoch;
        let cut_at = sim.now();
        sim.observer_mut().cut = Some((silent, sim.addr(silent)));
        let bound = config.member_timeout
            + config.heartbeat_interval
            + config.rollout_timeout
            + config.offer_window
            + Duration::from_secs(1);
        let mut dropped_after = None;
        while sim.now() < cut_at + bound + Duration::from_secs(60) {
            sim.run_for(Duration::from_millis(100));
            if converged(&sim, &others) {
                dropped_after = Some(sim.now() - cut_at);
                break;
            }
        }
        let dropped_after = dropped_after.unwrap_or_else(|| panic!("seed {seed}: never dropped"));
        assert!(
            dropped_after <= bound,
            "seed {seed}: dropped after {dropped_after:?}, bound {bound:?}"
        );
        let after = sim.node(0).and_then(Node::cluster).expect("member");
        assert!(after.epoch > before);
        // Everything the others now send, handed to the silent member: nothing opens.
        sim.observer_mut().recording = true;
        sim.command(2, |node, now| {
            node.post(now, "not for the silent one").expect("member");
        });
        sim.run_for(Duration::from_secs(40));
        let frames = std::mem::take(&mut sim.observer_mut().frames);
        assert!(frames.len() > 50, "heartbeats and the post were recorded");
        let stats = sim.node(silent).expect("up").stats();
        let from = sim.addr(2);
        for (_, frame) in &frames {
            sim.command(silent, |node, now| node.handle_datagram(now, from, frame));
        }
        let later = sim.node(silent).expect("up").stats();
        assert_eq!(
            later.dropped.undecryptable - stats.dropped.undecryptable,
            frames.len() as u64,
            "seed {seed}: every frame of the new epoch fails to open"
        );
        assert_eq!(later.posts_delivered, stats.posts_delivered);
        eprintln!("seed {seed}: silent member dropped after {dropped_after:?}");
    });
}

/// Test 3: the rollout leader crashes while collecting keys: the next in order takes over and
/// the cluster converges on one new epoch that includes the joiner that started the rollout.
/// Sparse heartbeats under heavy loss: with heartbeats every 60 s and a 5 min member timeout,
/// a member hears about five heartbeats of each other per timeout, and at 30 % loss all five
/// of some pair are lost every few minutes in a cluster of 30 (870 pairs, each with a chance
/// of about 0.3^5 per timeout). Probes (a member quiet for two intervals is asked for a
/// heartbeat every 10 s) must keep every live member in for half an hour of such loss.
#[test]
fn at_thirty_percent_loss_no_live_member_is_left_out_for_half_an_hour() {
    for_each_seed([1, 2], |seed| {
        let config = Config::default();
        let link = LinkModel::ideal(Duration::from_millis(5)).with_uniform_loss(0.3);
        let mut sim = cluster_sim(30, 30, seed, config, link, None);
        let all: Vec<NodeIndex> = (0..30).collect();
        let start = sim.now();
        sim.run_for(Duration::from_secs(30 * 60));
        let removals: Vec<_> = (sim.observer().events.iter())
            .filter(|(at, _, _)| *at >= start)
            .filter(|(_, _, e)| match e {
                Event::EpochChanged { removed, .. } => !removed.is_empty(),
                Event::RemovedFromCluster { .. } => true,
                _ => false,
            })
            .collect();
        assert!(removals.is_empty(), "seed {seed}: {removals:?}");
        // Rollouts on the timer went on meanwhile, and every member is in the last one.
        sim.run_for(Duration::from_secs(30));
        assert!(converged(&sim, &all), "seed {seed}: not converged");
    });
}

#[test]
fn a_leader_crashing_mid_rollout_is_replaced_and_the_cluster_converges() {
    for_each_seed([5, 6, 7], |seed| {
        let mut sim = cluster_sim(11, 10, seed, Config::default(), lan(), None);
        let before = sim.node(0).and_then(Node::cluster).expect("member").epoch;
        let contact_addr = sim.addr(3);
        sim.command(10, |node, now| node.connect(now, contact_addr));
        sim.run_for(Duration::from_secs(2));
        sim.command(10, |node, now| {
            node.join(now, contact_addr).expect("contact known")
        });
        // Run until some member leads the rollout, then crash it.
        let mut leader = None;
        for _ in 0..1000 {
            sim.run_for(Duration::from_millis(10));
            leader = (0..10).find(|&i| {
                sim.node(i)
                    .and_then(Node::cluster)
                    .is_some_and(|c| c.leading.is_some())
            });
            if leader.is_some() {
                break;
            }
        }
        let leader = leader.unwrap_or_else(|| panic!("seed {seed}: nobody led"));
        sim.crash(leader);
        sim.run_for(Duration::from_secs(40));
        let live: Vec<NodeIndex> = (0..11).filter(|&i| i != leader).collect();
        let infos: Vec<_> = live
            .iter()
            .map(|&i| sim.node(i).and_then(Node::cluster))
            .collect();
        let first = infos[0].clone().expect("member");
        assert!(first.epoch > before, "seed {seed}: a new epoch");
        for (i, info) in live.iter().zip(&infos) {
            let info = info
                .clone()
                .unwrap_or_else(|| panic!("seed {seed}: {i} is out"));
            assert_eq!(info.epoch, first.epoch, "seed {seed}: node {i}");
            let table = |c: &peerster_core::ClusterInfo| -> Vec<_> {
                c.members.iter().map(|m| (m.id, m.epoch_key)).collect()
            };
            assert_eq!(table(&info), table(&first), "seed {seed}: node {i}'s table");
        }
        let joiner = sim.identity(10).member_id();
        assert!(
            first.members.iter().any(|m| m.id == joiner),
            "seed {seed}: joiner in"
        );
        eprintln!(
            "seed {seed}: leader {leader} crashed, epoch {} -> {}",
            before, first.epoch
        );
    });
}

/// Test 4: the member limit refuses the next joiner, with a clear event.
#[test]
fn the_joiner_past_the_member_limit_is_refused() {
    for_each_seed([8], |seed| {
        let mut sim = cluster_sim(7, 5, seed, Config::default(), lan(), Some(5));
        let contact = sim.addr(2);
        sim.command(6, |node, now| node.connect(now, contact));
        sim.run_for(Duration::from_secs(2));
        sim.command(6, |node, now| {
            node.join(now, contact).expect("contact known")
        });
        sim.run_for(Duration::from_secs(10));
        let refused = sim.observer().events_of(6).any(|e| {
            matches!(
                e,
                Event::JoinRefused {
                    reason: RefusalReason::Full,
                    ..
                }
            )
        });
        assert!(refused, "seed {seed}: the sixth joiner was refused as full");
        assert!(sim.node(6).and_then(Node::cluster).is_none());
        assert_eq!(
            sim.node(0).and_then(Node::cluster).map(|c| c.members.len()),
            Some(5)
        );
    });
}

/// Test 5: a node joins cluster X, then Y: it ends in Y only, and X rolls its key.
#[test]
fn joining_another_cluster_leaves_the_first_which_rolls_its_key() {
    for_each_seed([9, 10], |seed| {
        // Nodes 0..4 form X; node 4 founds Y and 5 joins it; node 6 joins X, then Y.
        let mut sim = cluster_sim(7, 4, seed, Config::default(), lan(), None);
        sim.command(4, |node, now| {
            node.create_cluster(now, None).expect("no limit");
        });
        let y_members = [4, 5];
        let t = join_through(
            &mut sim,
            5,
            4,
            &y_members,
            Duration::from_secs(30),
            Duration::from_millis(10),
        );
        assert!(t.is_some(), "seed {seed}: 5 joined Y");
        let x_members = [0, 1, 2, 3, 6];
        let t = join_through(
            &mut sim,
            6,
            1,
            &x_members,
            Duration::from_secs(30),
            Duration::from_millis(10),
        );
        assert!(t.is_some(), "seed {seed}: 6 joined X");
        let x_epoch = sim.node(0).and_then(Node::cluster).expect("member").epoch;
        let t = join_through(
            &mut sim,
            6,
            5,
            &[4, 5, 6],
            Duration::from_secs(30),
            Duration::from_millis(10),
        );
        assert!(t.is_some(), "seed {seed}: 6 joined Y");
        sim.run_for(Duration::from_secs(10));
        let y = sim.node(4).and_then(Node::cluster).expect("Y");
        let mine = sim.node(6).and_then(Node::cluster).expect("in Y");
        assert_eq!(mine.id, y.id);
        assert!(converged(&sim, &[0, 1, 2, 3]), "seed {seed}: X without 6");
        let x = sim.node(0).and_then(Node::cluster).expect("X");
        assert!(x.epoch > x_epoch, "seed {seed}: X rolled its key");
        assert!(
            sim.observer()
                .events_of(6)
                .any(|e| matches!(e, Event::LeftCluster { cluster } if *cluster == x.id))
        );
    });
}

/// The same cluster scenario and seed give the same run, byte for byte; another seed another.
#[test]
fn a_cluster_run_is_determined_by_its_seed() {
    let run = |seed| {
        let mut scenario = ClusterScenario::new(8, seed);
        scenario.link = LinkModel::ideal(Duration::from_millis(5))
            .with_jitter(Duration::from_millis(5))
            .with_uniform_loss(0.1);
        scenario.posts = 10;
        scenario.settle = Duration::from_secs(10);
        run_cluster(&scenario).expect("valid scenario")
    };
    let (a, b, c) = (run(21), run(21), run(22));
    assert_eq!(a.digest, b.digest);
    assert_eq!(a, b);
    assert_ne!(a.digest, c.digest);
}
