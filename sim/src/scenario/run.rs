//! Running a [`Scenario`]: form the clusters, cast the adversaries, drive the workload and
//! the churn at their drawn times, then score what happened.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use peerster_core::ids::MemberId;
use peerster_core::wire::cluster::PostPosition;
use peerster_core::wire::fragment::MessageId;
use peerster_core::{AnonOptions, ConfigError, Node, Timestamp, VoteOutcome};

use super::anonymity::{self, Crowd};
use super::calls::CallWorkload;
use super::eavesdrop::Eavesdropper;
use super::formation::form_clusters;
use super::joins::Joins;
use super::observe::{Misbehaviour, ScenarioObserver};
use super::report::{Delivery, Latencies, Percentiles, Report, Rollouts, Sample, Spread, Votes};
use super::spec::Scenario;
use super::tamper::drops_of;
use crate::anon::anon_bucket;
use crate::random::{below, shuffle, unit};
use crate::{LinkModel, Network, NodeIndex, SimConfig, Simulation};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

/// Where a run is, for progress bars.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Simulated time so far.
    pub sim: Duration,
    /// Simulated time the run will reach (formation not included until it is over).
    pub total: Duration,
    /// Engine events so far.
    pub events: u64,
}

/// One thing the workload or the churn does, at a drawn time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Post(usize),
    Anon(usize),
    Expel(usize),
    Crash,
    Restart(NodeIndex),
    Leave,
    Join(usize),
    Call(usize),
}

/// A message the workload sent.
#[derive(Clone, Copy, Debug)]
struct SentAnon {
    at: Timestamp,
    sender: NodeIndex,
    recipient: NodeIndex,
    reply: bool,
}

/// The longest stretch of simulated time between two looks at the run (for replies, keys and
/// progress).
const SLICE: Duration = Duration::from_millis(250);

/// Runs `scenario`, calling `progress` now and then.
pub fn run_scenario(
    scenario: &Scenario,
    mut progress: impl FnMut(Progress),
) -> Result<Report, ConfigError> {
    let wall = Instant::now();
    let members = scenario.cluster.members;
    let nodes = scenario.nodes();
    let config = scenario.config();
    let mut setup = SimConfig::new(nodes, scenario.seed);
    setup.config = config.clone();
    setup.network = Network::new(LinkModel::ideal(scenario.link_model().latency));
    let observer = ScenarioObserver {
        cluster_of: (0..nodes).map(|i| Some(i / members)).collect(),
        keys: vec![Vec::new(); scenario.clusters],
        anon_bucket: anon_bucket(&config),
        ..ScenarioObserver::default()
    };
    let mut sim = Simulation::with_observer(setup, observer)?;
    let overlay = scenario.overlay(sim.rng());
    let mut clusters = form_clusters(
        &mut sim,
        scenario.clusters,
        members,
        &overlay,
        scenario.cluster.formation,
    );
    let formation = sim.now().saturating_since(Timestamp::ZERO);
    let members_joined = clusters.iter().map(Vec::len).sum();
    sim.run_for(Duration::from_secs(5));
    sim.network_mut().set_default_link(scenario.link_model());

    // The adversaries: malicious members among each cluster's non-founders, taps among the
    // honest nodes.
    let a = &scenario.adversary;
    let mut malicious: BTreeMap<NodeIndex, Misbehaviour> = BTreeMap::new();
    let mut liars = BTreeSet::new();
    for cluster in &clusters {
        let mut others: Vec<NodeIndex> = cluster.iter().skip(1).copied().collect();
        shuffle(sim.rng(), &mut others);
        let mut cast = others.into_iter();
        for (count, role) in [
            (a.spies, Some(Misbehaviour::Spy)),
            (a.droppers, Some(Misbehaviour::Dropper)),
            (a.silent, Some(Misbehaviour::Silent)),
            (a.tamperers, Some(Misbehaviour::Tamperer)),
            (a.liars, None),
        ] {
            for node in cast.by_ref().take(count) {
                match role {
                    Some(role) => {
                        malicious.insert(node, role);
                    }
                    None => {
                        liars.insert(node);
                    }
                }
            }
        }
    }
    for &liar in &liars {
        sim.command(liar, |node, _| node.set_lying(true));
    }
    let bad = |n: &NodeIndex| malicious.contains_key(n) || liars.contains(n);
    let mut honest: Vec<NodeIndex> = (0..nodes).filter(|n| !bad(n)).collect();
    shuffle(sim.rng(), &mut honest);
    let taps: BTreeSet<NodeIndex> = honest.iter().take(a.taps).copied().collect();
    let spies: BTreeSet<NodeIndex> = (malicious.iter())
        .filter(|(_, m)| **m == Misbehaviour::Spy)
        .map(|(n, _)| *n)
        .collect();
    {
        let o = sim.observer_mut();
        o.open_frames = !malicious.is_empty() || !taps.is_empty() || a.global_observer;
        o.global = a.global_observer.then(Eavesdropper::default);
        o.malicious = malicious.clone();
        o.taps = taps.clone();
        o.tamper_rng = Some(ChaCha8Rng::seed_from_u64(scenario.seed));
    }
    refresh_keys(&mut sim, &clusters);

    // The workload and the churn, at uniformly drawn times.
    let start = sim.now();
    let duration = scenario.duration();
    let end_of_work = start + duration;
    let end = end_of_work + scenario.settle();
    let w = &scenario.workload;
    let mut actions: Vec<(Timestamp, Action)> = Vec::new();
    let mut draw =
        |sim: &mut Simulation<ScenarioObserver>, count: usize, action: &dyn Fn(usize) -> Action| {
            for _ in 0..count {
                let at = start + duration.mul_f64(unit(sim.rng()));
                let cluster = below(sim.rng(), scenario.clusters as u64) as usize;
                actions.push((at, action(cluster)));
            }
        };
    draw(&mut sim, w.posts, &Action::Post);
    draw(&mut sim, w.anon_messages, &Action::Anon);
    draw(&mut sim, w.expulsions, &Action::Expel);
    draw(&mut sim, scenario.churn.crashes, &|_| Action::Crash);
    draw(&mut sim, scenario.churn.leaves, &|_| Action::Leave);
    draw(&mut sim, scenario.churn.joins, &Action::Join);
    draw(&mut sim, w.calls, &Action::Call);
    actions.sort();
    let mut actions: std::collections::VecDeque<_> = actions.into();

    let text = "x".repeat(w.text_bytes);
    let mut calls = CallWorkload::new(w.call_s);
    let mut posts: BTreeMap<(MemberId, PostPosition), (Timestamp, usize)> = BTreeMap::new();
    let mut anon: BTreeMap<MessageId, SentAnon> = BTreeMap::new();
    let mut answered: BTreeSet<MessageId> = BTreeSet::new();
    let mut gone: BTreeSet<NodeIndex> = BTreeSet::new();
    // Crashed at some point: a restarted node has its identity but not its membership.
    let mut crashed: BTreeSet<NodeIndex> = BTreeSet::new();
    let mut expelled: BTreeSet<NodeIndex> = BTreeSet::new();
    let mut joins = Joins::default();
    // Expulsions the proposer refused, by reason.
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let bytes_at_start = bytes_sent(&sim, nodes);
    let honest_nodes: Vec<NodeIndex> = (0..nodes).filter(|n| !bad(n)).collect();
    let drops_at_start = drops_of(&sim, &honest_nodes);
    let mut timeline = vec![Sample {
        t_s: 0.0,
        bytes_per_node: 0.0,
    }];
    let sample_every = Duration::from_secs_f64(scenario.sample_every_s);
    let mut next_sample = start + sample_every;
    while sim.now() < end {
        while let Some(&(at, action)) = actions.front() {
            if at > sim.now() {
                break;
            }
            actions.pop_front();
            let live = |sim: &Simulation<ScenarioObserver>, c: usize| -> Vec<NodeIndex> {
                clusters[c]
                    .iter()
                    .copied()
                    .filter(|n| !bad(n) && !gone.contains(n) && sim.is_up(*n))
                    .filter(|&n| sim.node(n).and_then(Node::cluster).is_some())
                    .collect()
            };
            match action {
                Action::Post(c) => {
                    let candidates = live(&sim, c);
                    let Some(author) = pick(&mut sim, &candidates) else {
                        continue;
                    };
                    let id = sim.identity(author).member_id();
                    let mut position = None;
                    sim.command(author, |node, now| position = node.post(now, &text).ok());
                    if let Some(position) = position {
                        posts.insert((id, position), (sim.now(), c));
                    }
                }
                Action::Anon(c) => {
                    let candidates = live(&sim, c);
                    if candidates.len() < 2 {
                        continue;
                    }
                    let sender = pick(&mut sim, &candidates).unwrap_or(candidates[0]);
                    let others: Vec<NodeIndex> = candidates
                        .iter()
                        .copied()
                        .filter(|&n| n != sender)
                        .collect();
                    let recipient = pick(&mut sim, &others).unwrap_or(others[0]);
                    let to = sim.identity(recipient).member_id();
                    let mut sent = None;
                    sim.command(sender, |node, now| {
                        sent = node
                            .send_anonymous(now, to, &text, AnonOptions::default())
                            .ok();
                    });
                    if let Some(sent) = sent {
                        anon.insert(
                            sent.message,
                            SentAnon {
                                at: sim.now(),
                                sender,
                                recipient,
                                reply: false,
                            },
                        );
                    }
                }
                Action::Expel(c) => {
                    let candidates = live(&sim, c);
                    let Some(proposer) = pick(&mut sim, &candidates) else {
                        continue;
                    };
                    let targets: Vec<NodeIndex> = clusters[c]
                        .iter()
                        .copied()
                        .filter(|&n| n != proposer && !gone.contains(&n) && sim.is_up(n))
                        // A target already proposed would be the same proposal again.
                        .filter(|n| !expelled.contains(n))
                        .collect();
                    let Some(target) = pick(&mut sim, &targets) else {
                        continue;
                    };
                    let id = sim.identity(target).member_id();
                    let mut result = Ok(());
                    sim.command(proposer, |node, now| result = node.expel(now, id).map(drop));
                    match result {
                        Ok(()) => {
                            expelled.insert(target);
                        }
                        Err(e) => *refused.entry(e.to_string()).or_default() += 1,
                    }
                }
                Action::Crash => {
                    let candidates: Vec<NodeIndex> = (0..nodes)
                        .filter(|n| !gone.contains(n) && sim.is_up(*n))
                        .collect();
                    let Some(victim) = pick(&mut sim, &candidates) else {
                        continue;
                    };
                    sim.crash(victim);
                    crashed.insert(victim);
                    match scenario.churn.restart_after_s {
                        Some(after) => {
                            let at = sim.now() + Duration::from_secs_f64(after);
                            let slot = actions.partition_point(|(t, _)| *t <= at);
                            actions.insert(slot, (at, Action::Restart(victim)));
                        }
                        None => {
                            gone.insert(victim);
                        }
                    }
                }
                Action::Call(c) => {
                    let candidates = live(&sim, c);
                    calls.place(&mut sim, &candidates);
                }
                Action::Restart(node) => sim.restart(node),
                Action::Leave => {
                    let candidates: Vec<NodeIndex> = (0..nodes)
                        .filter(|n| !bad(n) && !gone.contains(n) && sim.is_up(*n))
                        .collect();
                    let Some(leaver) = pick(&mut sim, &candidates) else {
                        continue;
                    };
                    sim.command(leaver, |node, now| {
                        // Not being a member any more is what leaving wants.
                        let _ = node.leave_cluster(now);
                    });
                    gone.insert(leaver);
                }
                Action::Join(c) => {
                    let candidates = live(&sim, c);
                    if let Some(contact) = pick(&mut sim, &candidates) {
                        joins.start(&mut sim, c, contact);
                    }
                }
            }
        }
        let next_action = actions.front().map_or(end, |(at, _)| *at);
        let until = next_action.min(end).min(sim.now() + SLICE).max(sim.now());
        let until = calls.next_wake(sim.now()).map_or(until, |t| t.min(until));
        sim.run_until(until);
        joins.advance(&mut sim, &mut clusters);
        calls.step(&mut sim);
        if sim.observer().open_frames {
            refresh_keys(&mut sim, &clusters);
        }
        if w.replies {
            reply_to_fresh(&mut sim, &mut anon, &mut answered);
        } else {
            sim.observer_mut().fresh.clear();
        }
        while sim.now() >= next_sample && next_sample <= end {
            let spent = bytes_sent(&sim, nodes);
            let total: u64 = (spent.iter().zip(&bytes_at_start))
                .map(|(a, b)| a.saturating_sub(*b))
                .sum();
            timeline.push(Sample {
                t_s: next_sample.saturating_since(start).as_secs_f64(),
                bytes_per_node: total as f64 / nodes.max(1) as f64,
            });
            next_sample += sample_every;
        }
        progress(Progress {
            sim: sim.now().saturating_since(Timestamp::ZERO),
            total: end.saturating_since(Timestamp::ZERO),
            events: sim.stats().events,
        });
    }

    // Scoring.
    let o = sim.observer();
    let is_honest = |n: NodeIndex| !bad(&n);
    // Posts: every (post, other member of its cluster still in it at the end) pair.
    let mut chat_latencies = Vec::new();
    let mut chat_wrong = 0;
    let mut seen_posts: BTreeSet<(MemberId, PostPosition, NodeIndex)> = BTreeSet::new();
    for &(author, position, node, at) in &o.posts {
        if let Some(&(sent_at, cluster)) = posts.get(&(author, position)) {
            let in_cluster = o.cluster_of.get(node).copied().flatten() == Some(cluster);
            if !in_cluster || !seen_posts.insert((author, position, node)) {
                chat_wrong += 1;
            } else {
                chat_latencies.push(at.saturating_since(sent_at));
            }
        }
    }
    let still_in = |n: NodeIndex| {
        !gone.contains(&n)
            && !crashed.contains(&n)
            && !expelled.contains(&n)
            && sim.is_up(n)
            && !o.removed.iter().any(|r| r.0 == n)
    };
    let mut wanted = 0usize;
    let mut got = 0usize;
    for (&(author, position), &(sent_at, cluster)) in &posts {
        for &n in &clusters[cluster] {
            // A joiner counts only for posts sent once it was a member.
            let later = joins.joined_at(n).is_some_and(|at| at > sent_at);
            if sim.identity(n).member_id() == author || !still_in(n) || !is_honest(n) || later {
                continue;
            }
            wanted += 1;
            got += usize::from(seen_posts.contains(&(author, position, n)));
        }
    }
    chat_latencies.sort();
    // Anonymous messages.
    let mut anon_latencies = Vec::new();
    let mut anon_wrong = 0;
    let mut delivered = BTreeSet::new();
    for &(message, node, at, _) in &o.opened {
        let Some(sent) = anon.get(&message) else {
            continue;
        };
        if node != sent.recipient || !delivered.insert(message) {
            anon_wrong += 1;
        } else {
            anon_latencies.push(at.saturating_since(sent.at));
        }
    }
    anon_latencies.sort();
    // A message to a member that left, crashed for good or was expelled counts only if it
    // arrived all the same.
    let anon_wanted = (anon.iter())
        .filter(|(m, s)| still_in(s.recipient) || delivered.contains(*m))
        .count();
    let anon_got = delivered.len();
    // Rollouts during the workload.
    let mut convergence = Vec::new();
    for installs in o.epochs.values() {
        let first = installs.iter().map(|i| i.1).min();
        let last = installs.iter().map(|i| i.1).max();
        if let (Some(first), Some(last)) = (first, last)
            && first >= start
        {
            convergence.push(last.saturating_since(first));
        }
    }
    convergence.sort();
    // Votes during the workload.
    let opened: BTreeSet<[u8; 16]> = (o.votes_opened.iter())
        .filter(|(_, at)| **at >= start)
        .map(|(p, _)| *p)
        .collect();
    let votes = (!opened.is_empty() || w.expulsions > 0).then(|| {
        let applied = |outcome: VoteOutcome| {
            (o.votes_closed.iter())
                .filter(|(p, n, out)| opened.contains(p) && is_honest(*n) && *out == outcome)
                .map(|(p, _, _)| *p)
                .collect::<BTreeSet<_>>()
                .len()
        };
        Votes {
            opened: opened.len(),
            passed: applied(VoteOutcome::Accepted),
            failed: applied(VoteOutcome::Failed),
            rejected: applied(VoteOutcome::Rejected),
            refused,
            redraws: (0..nodes)
                .filter(|&n| is_honest(n))
                .filter_map(|n| sim.node(n))
                .map(|n| n.stats().vote_redraws)
                .sum(),
            wrong_outcomes: (o.votes_closed.iter())
                .filter(|(p, n, out)| {
                    opened.contains(p) && is_honest(*n) && *out == VoteOutcome::Rejected
                })
                .count(),
        }
    });
    // Anonymity.
    let anonymity = (!spies.is_empty() || !taps.is_empty() || a.global_observer).then(|| {
        let spies_per_cluster = a.spies;
        let p_forward = config.p_stem;
        let mut scored = anonymity::score(&o.sightings, &spies, |_| Crowd {
            members,
            spies: spies_per_cluster,
            p_forward,
        });
        if !taps.is_empty() {
            scored.tap_precision = o.tapped.precision();
            scored.tap_recall = o.tapped.recall(&o.sightings, |n| taps.contains(&n));
        }
        if let Some(global) = &o.global {
            scored.global_observer_precision = global.precision();
            scored.global_observer_recall = global.recall(&o.sightings, |_| true);
        }
        scored
    });
    let tampering = (a.tamperers > 0)
        .then(|| (o.tampering.clone()).with_drops(&drops_at_start, &drops_of(&sim, &honest_nodes)));
    let spent = bytes_sent(&sim, nodes);
    let per_node: Vec<u64> = (spent.iter().zip(&bytes_at_start))
        .map(|(a, b)| a.saturating_sub(*b))
        .collect();
    let stats = sim.stats();
    let wall_s = wall.elapsed().as_secs_f64();
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    Ok(Report {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        nodes,
        clusters: scenario.clusters,
        members_joined,
        events: stats.events,
        events_per_s: stats.events as f64 / wall_s.max(1e-9),
        wall_s,
        sim_s: sim.now().saturating_since(Timestamp::ZERO).as_secs_f64(),
        formation_s: formation.as_secs_f64(),
        bytes_per_node: Spread::of(&per_node),
        chat: Delivery {
            sent: posts.len(),
            delivery_ratio: ratio(got, wanted),
            latency_ms: Percentiles::of(&chat_latencies),
            wrong_deliveries: chat_wrong,
        },
        anon: Delivery {
            sent: anon.len(),
            delivery_ratio: ratio(anon_got, anon_wanted),
            latency_ms: Percentiles::of(&anon_latencies),
            wrong_deliveries: anon_wrong,
        },
        rollout: Rollouts {
            count: convergence.len(),
            convergence_ms: Percentiles::of(&convergence),
            ejected: o.dropped.values().filter(|&&at| at >= start).count(),
        },
        votes,
        anonymity,
        tampering,
        joins: (scenario.churn.joins > 0).then(|| joins.report()),
        calls: calls.score(),
        timeline,
        latencies: Latencies {
            chat: chat_latencies,
            anon: anon_latencies,
            calls: calls.latencies(),
        },
        config: scenario.clone(),
        digest: format!("{:016x}", sim.digest()),
    })
}

/// Answers each anonymous message the workload sent that reached its recipient, once.
fn reply_to_fresh(
    sim: &mut Simulation<ScenarioObserver>,
    anon: &mut BTreeMap<MessageId, SentAnon>,
    answered: &mut BTreeSet<MessageId>,
) {
    let fresh = std::mem::take(&mut sim.observer_mut().fresh);
    for (message, node, thread) in fresh {
        let Some(original) = anon.get(&message).copied() else {
            continue;
        };
        if original.reply || original.recipient != node || !answered.insert(message) {
            continue;
        }
        let mut reply = None;
        sim.command(node, |n, now| {
            reply = n
                .reply_anonymous(now, thread, "got it", AnonOptions::default())
                .ok();
        });
        if let Some(reply) = reply {
            anon.insert(
                reply,
                SentAnon {
                    at: sim.now(),
                    sender: node,
                    recipient: original.sender,
                    reply: true,
                },
            );
        }
    }
}

/// Gives the observer each cluster's current key (the last three kept, for frames in flight
/// across a rollout).
fn refresh_keys(sim: &mut Simulation<ScenarioObserver>, clusters: &[Vec<NodeIndex>]) {
    for (c, cluster) in clusters.iter().enumerate() {
        let key = cluster
            .iter()
            .find_map(|&n| sim.node(n).and_then(Node::cluster_key));
        let Some(key) = key else { continue };
        let keys = &mut sim.observer_mut().keys[c];
        if !keys.iter().any(|k| k.as_bytes() == key.as_bytes()) {
            keys.insert(0, key);
            keys.truncate(3);
        }
    }
}

/// Bytes each node has handed to the network so far.
fn bytes_sent(sim: &Simulation<ScenarioObserver>, nodes: usize) -> Vec<u64> {
    let mut bytes = sim.observer().bytes_sent.clone();
    bytes.resize(nodes, 0);
    bytes
}

/// A random element of `items`.
fn pick(sim: &mut Simulation<ScenarioObserver>, items: &[NodeIndex]) -> Option<NodeIndex> {
    (!items.is_empty()).then(|| items[below(sim.rng(), items.len() as u64) as usize])
}
