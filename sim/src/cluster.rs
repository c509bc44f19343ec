//! The cluster scenario: members join one cluster one by one through different contacts,
//! post, then idle; the run measures how fast each join converges, how reliably and how fast
//! posts arrive, and what an idle cluster costs.
//!
//! Node 0 founds the cluster. Node `i` joins through a member drawn at random: it connects to
//! it, waits until it knows the contact's announcement (the node key its request is sealed
//! to), and asks. A join has converged when every member, the newcomer included, holds the
//! same epoch of the same cluster with the same member table.

use std::collections::BTreeMap;
use std::time::Duration;

use peerster_core::wire::cluster::PostPosition;
use peerster_core::{Config, ConfigError, Event, Node, Timestamp, ids::MemberId};
use rand_core::Rng;

use crate::{LinkModel, Network, NodeIndex, Observer, SimConfig, SimStats, Simulation, Topology};

/// The parameters of a cluster run.
#[derive(Clone, Debug)]
pub struct ClusterScenario {
    /// Members at the end, the founder included.
    pub members: usize,
    /// Seed of the whole run.
    pub seed: u64,
    /// The model of every link.
    pub link: LinkModel,
    /// The nodes' configuration.
    pub config: Config,
    /// Degree of the random overlay the nodes connect along before the joins.
    pub degree: usize,
    /// Simulated time of connecting before the founder founds the cluster.
    pub warmup: Duration,
    /// How long one join may take to converge before the run gives up on it.
    pub join_deadline: Duration,
    /// Posts made after the last join, each by a random member.
    pub posts: usize,
    /// Simulated time between two posts.
    pub post_interval: Duration,
    /// Simulated time after the last post for stragglers to catch up.
    pub settle: Duration,
    /// Simulated idle time at the end whose traffic is measured (zero to skip).
    pub idle: Duration,
    /// How often (simulated) the run checks for convergence: the resolution of join times.
    pub check_every: Duration,
    /// One more node joins at the very end, into the settled cluster: the time a join takes
    /// when no other rollout is recent.
    pub late_join: bool,
}

impl ClusterScenario {
    /// `members` members on 5 ms links, default configuration, 100 posts one second apart,
    /// 60 s to settle, no idle measurement.
    pub fn new(members: usize, seed: u64) -> Self {
        ClusterScenario {
            members,
            seed,
            link: LinkModel::ideal(Duration::from_millis(5)),
            config: Config::default(),
            degree: 4,
            warmup: Duration::from_secs(5),
            join_deadline: Duration::from_secs(120),
            posts: 100,
            post_interval: Duration::from_secs(1),
            settle: Duration::from_secs(60),
            idle: Duration::ZERO,
            check_every: Duration::from_millis(10),
            late_join: true,
        }
    }
}

/// What a cluster run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterReport {
    /// Members aimed for.
    pub members: usize,
    /// Members that joined (the founder included).
    pub joined: usize,
    /// For each join, the simulated time from the join command to convergence; `None` for a
    /// join that did not converge by its deadline.
    pub join_times: Vec<Option<Duration>>,
    /// Whether every member held the same epoch and table at the end.
    pub converged: bool,
    /// The epoch at the end (of node 0).
    pub epoch: u64,
    /// Posts made.
    pub posts: usize,
    /// Share of (post, member other than its author) pairs delivered.
    pub delivery: f64,
    /// Share of posts delivered to at least 99 % of the other members.
    pub posts_reaching_99: f64,
    /// Post latencies (post to delivery, every delivery), sorted.
    pub post_latencies: Vec<Duration>,
    /// Deliveries of a post to a member twice, or out of its author's order (must be zero).
    pub order_violations: usize,
    /// Bytes each member sent per hour during the idle period, on average.
    pub idle_bytes_per_member_hour: Option<f64>,
    /// Time from the late joiner's join command to convergence, if it joined (see
    /// [`ClusterScenario::late_join`]).
    pub late_join_time: Option<Duration>,
    /// The engine's counters.
    pub stats: SimStats,
    /// The run's digest: the same scenario and seed give the same digest.
    pub digest: u64,
}

impl ClusterReport {
    /// The `q`-quantile (0..=1) of the post latencies.
    pub fn post_latency(&self, q: f64) -> Option<Duration> {
        quantile(&self.post_latencies, q)
    }
}

/// The `q`-quantile of sorted `values` (nearest rank).
pub fn quantile(values: &[Duration], q: f64) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let rank = ((q.clamp(0.0, 1.0) * values.len() as f64).ceil() as usize).max(1);
    values.get(rank - 1).copied()
}

/// A delivered post: when, where, whose, which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// When it was delivered.
    pub at: Timestamp,
    /// The node it was delivered to.
    pub node: NodeIndex,
    /// Its author.
    pub author: MemberId,
    /// Its position in the author's sequence.
    pub position: PostPosition,
}

/// An observer that keeps every post delivery.
#[derive(Clone, Debug, Default)]
pub struct PostLog {
    /// Every delivery, in order.
    pub deliveries: Vec<Delivery>,
}

impl Observer for PostLog {
    fn on_event(&mut self, at: Timestamp, node: NodeIndex, event: &Event) {
        if let Event::Post {
            author, position, ..
        } = event
        {
            self.deliveries.push(Delivery {
                at,
                node,
                author: *author,
                position: *position,
            });
        }
    }
}

/// Whether every node of `members` holds the same epoch of the same cluster, with exactly
/// `members` as its table (and the same epoch key for each: two rollouts of one epoch
/// differ in them).
pub fn converged<O: Observer>(sim: &Simulation<O>, members: &[NodeIndex]) -> bool {
    let Some(first) = members.first().and_then(|&i| sim.node(i)?.cluster()) else {
        return false;
    };
    let mut expected: Vec<MemberId> = members
        .iter()
        .map(|&i| sim.identity(i).member_id())
        .collect();
    expected.sort();
    let table = |c: &peerster_core::ClusterInfo| -> Vec<_> {
        c.members.iter().map(|m| (m.id, m.epoch_key)).collect()
    };
    let reference = table(&first);
    first
        .members
        .iter()
        .map(|m| m.id)
        .eq(expected.iter().copied())
        && members.iter().all(|&i| {
            sim.node(i).and_then(Node::cluster).is_some_and(|c| {
                c.id == first.id && c.epoch == first.epoch && table(&c) == reference
            })
        })
}

/// Has `joiner` connect to `contact` and ask it to join, retrying the command until the
/// contact's announcement is known; then runs until `members` (the joiner included) converge
/// or `deadline` passes. Returns the time from the join command to convergence.
pub fn join_through<O: Observer>(
    sim: &mut Simulation<O>,
    joiner: NodeIndex,
    contact: NodeIndex,
    members: &[NodeIndex],
    deadline: Duration,
    check_every: Duration,
) -> Option<Duration> {
    let contact_addr = sim.addr(contact);
    let started = sim.now();
    let known = |sim: &Simulation<O>| {
        sim.node(joiner).is_some_and(|n| {
            n.peer(&contact_addr).is_some_and(|p| {
                let identity = p.identity;
                n.announcements().any(|a| a.origin == identity)
            })
        })
    };
    if !known(sim) {
        sim.command(joiner, |node, now| node.connect(now, contact_addr));
    }
    while !known(sim) {
        if sim.now() >= started + deadline {
            return None;
        }
        sim.run_for(check_every);
    }
    let mut asked = false;
    sim.command(joiner, |node, now| {
        asked = node.join(now, contact_addr).is_ok()
    });
    if !asked {
        return None;
    }
    let asked_at = sim.now();
    while sim.now() < started + deadline {
        sim.run_for(check_every);
        if converged(sim, members) {
            return Some(sim.now() - asked_at);
        }
    }
    None
}

/// How a cluster is formed: the overlay, the warm-up, and each join's deadline.
#[derive(Clone, Copy, Debug)]
pub struct Formation {
    /// Degree of the random overlay the nodes connect along before the joins.
    pub degree: usize,
    /// Simulated time of connecting before the founder founds the cluster.
    pub warmup: Duration,
    /// How long one join may take to converge before the run gives up on it.
    pub join_deadline: Duration,
    /// How often (simulated) the run checks for convergence.
    pub check_every: Duration,
}

impl Default for Formation {
    /// A degree-4 overlay, 5 s of warm-up, a minute per join, checked every 10 ms: how the
    /// scenarios that measure one protocol in a formed cluster form it.
    fn default() -> Self {
        Formation {
            degree: 4,
            warmup: Duration::from_secs(5),
            join_deadline: Duration::from_secs(60),
            check_every: Duration::from_millis(10),
        }
    }
}

/// Forms a cluster of nodes `0..n` the default way on the links the simulation starts with,
/// lets it settle for 5 s, then puts `link` on every link: the start of a scenario that
/// measures one protocol in a formed cluster. Returns the members that joined.
pub fn settled_cluster<O: Observer>(
    sim: &mut Simulation<O>,
    n: usize,
    link: crate::LinkModel,
) -> Vec<NodeIndex> {
    let (members, _) = form_cluster(sim, n, n, Formation::default());
    sim.run_for(Duration::from_secs(5));
    sim.network_mut().set_default_link(link);
    members
}

/// Connects nodes `0..nodes` along a random overlay, announces them, has node 0 found a
/// cluster and nodes `1..members` join it one by one, each through a random member. Returns
/// the members that joined (node 0 first) and each join's time (`None` if it did not
/// converge by its deadline).
pub fn form_cluster<O: Observer>(
    sim: &mut Simulation<O>,
    nodes: usize,
    members: usize,
    formation: Formation,
) -> (Vec<NodeIndex>, Vec<Option<Duration>>) {
    if nodes > 1 {
        let topology =
            Topology::random_connected(nodes, formation.degree.min(nodes - 1), sim.rng());
        sim.connect_topology(&topology);
    }
    for i in 0..nodes {
        sim.command(i, |node, now| {
            // A short ASCII name is always within the bound.
            let _ = node.announce(now, &format!("member-{i}"));
        });
    }
    sim.run_for(formation.warmup);
    sim.command(0, |node, now| {
        // No limit: always valid.
        let _ = node.create_cluster(now, None);
    });
    let mut joined = vec![0];
    let mut join_times = Vec::new();
    for joiner in 1..members {
        let pick = (sim.rng().next_u64() % joined.len() as u64) as usize;
        let contact = joined[pick];
        let mut with_joiner = joined.clone();
        with_joiner.push(joiner);
        let time = join_through(
            sim,
            joiner,
            contact,
            &with_joiner,
            formation.join_deadline,
            formation.check_every,
        );
        join_times.push(time);
        if sim
            .node(joiner)
            .is_some_and(|node| node.cluster().is_some())
        {
            joined = with_joiner;
        }
    }
    (joined, join_times)
}

/// Runs `scenario` and reports what it measured.
pub fn run_cluster(scenario: &ClusterScenario) -> Result<ClusterReport, ConfigError> {
    let n = scenario.members;
    let nodes = n + usize::from(scenario.late_join);
    let mut setup = SimConfig::new(nodes, scenario.seed);
    setup.config = scenario.config.clone();
    setup.network = Network::new(scenario.link);
    let mut sim = Simulation::with_observer(setup, PostLog::default())?;
    let formation = Formation {
        degree: scenario.degree,
        warmup: scenario.warmup,
        join_deadline: scenario.join_deadline,
        check_every: scenario.check_every,
    };
    let (members, join_times) = form_cluster(&mut sim, nodes, n, formation);

    // Posts by random members.
    let mut sent: BTreeMap<(MemberId, PostPosition), (Timestamp, NodeIndex)> = BTreeMap::new();
    for k in 0..scenario.posts {
        let author = members[(sim.rng().next_u64() % members.len() as u64) as usize];
        let id = sim.identity(author).member_id();
        let mut position = None;
        sim.command(author, |node, now| {
            position = node.post(now, &format!("post {k}")).ok();
        });
        if let Some(position) = position {
            sent.insert((id, position), (sim.now(), author));
        }
        sim.run_for(scenario.post_interval);
    }
    sim.run_for(scenario.settle);

    // Delivery, latency, order.
    let others = members.len().saturating_sub(1);
    let mut per_post: BTreeMap<(MemberId, PostPosition), usize> = BTreeMap::new();
    let mut latencies = Vec::new();
    let mut last_seen: BTreeMap<(NodeIndex, MemberId), PostPosition> = BTreeMap::new();
    let mut order_violations = 0;
    for d in &sim.observer().deliveries {
        if let Some(last) = last_seen.insert((d.node, d.author), d.position)
            && last >= d.position
        {
            order_violations += 1;
        }
        if let Some((at, _)) = sent.get(&(d.author, d.position))
            && members.contains(&d.node)
        {
            *per_post.entry((d.author, d.position)).or_default() += 1;
            latencies.push(d.at - *at);
        }
    }
    latencies.sort();
    let delivered: usize = per_post.values().sum();
    let wanted = sent.len() * others;
    let reaching = per_post
        .values()
        .filter(|&&count| count as f64 >= 0.99 * others as f64)
        .count();

    let idle_bytes_per_member_hour = if scenario.idle.is_zero() || members.is_empty() {
        None
    } else {
        let bytes = |sim: &Simulation<PostLog>| -> u64 {
            members
                .iter()
                .filter_map(|&i| sim.node(i))
                .map(|node| node.stats().bytes_sent)
                .sum()
        };
        let before = bytes(&sim);
        sim.run_for(scenario.idle);
        let spent = bytes(&sim) - before;
        let hours = scenario.idle.as_secs_f64() / 3600.0;
        Some(spent as f64 / members.len() as f64 / hours)
    };

    let converged_at_end = converged(&sim, &members);
    let late_join_time = if scenario.late_join && !members.is_empty() {
        let contact = members[(sim.rng().next_u64() % members.len() as u64) as usize];
        let mut with_joiner = members.clone();
        with_joiner.push(n);
        join_through(
            &mut sim,
            n,
            contact,
            &with_joiner,
            scenario.join_deadline,
            scenario.check_every,
        )
    } else {
        None
    };
    let epoch = sim.node(0).and_then(Node::cluster).map_or(0, |c| c.epoch.0);
    Ok(ClusterReport {
        members: n,
        joined: members.len(),
        join_times,
        converged: converged_at_end,
        epoch,
        posts: sent.len(),
        delivery: if wanted == 0 {
            1.0
        } else {
            delivered as f64 / wanted as f64
        },
        posts_reaching_99: if sent.is_empty() {
            1.0
        } else {
            reaching as f64 / sent.len() as f64
        },
        post_latencies: latencies,
        order_violations,
        idle_bytes_per_member_hour,
        late_join_time,
        stats: sim.stats(),
        digest: sim.digest(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let v: Vec<Duration> = (1..=10).map(Duration::from_millis).collect();
        assert_eq!(quantile(&v, 0.5), Some(Duration::from_millis(5)));
        assert_eq!(quantile(&v, 0.99), Some(Duration::from_millis(10)));
        assert_eq!(quantile(&v, 0.0), Some(Duration::from_millis(1)));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn a_small_cluster_converges_and_delivers_every_post() {
        let mut scenario = ClusterScenario::new(6, 3);
        scenario.posts = 10;
        scenario.settle = Duration::from_secs(10);
        let report = run_cluster(&scenario).unwrap();
        assert_eq!(report.joined, 6, "{report:?}");
        assert!(report.converged, "{report:?}");
        assert_eq!(report.delivery, 1.0, "{report:?}");
        assert_eq!(report.order_violations, 0);
    }
}
