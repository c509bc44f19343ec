//! The vote scenario: a cluster votes a newcomer in, then votes it out, while some members lie
//! as authorities (they publish tallies with yes and no swapped, all the same way: a
//! coalition), some crash in the middle of the expulsion vote, and links lose datagrams. Every
//! honest member votes yes. The run reports, for each vote, the outcome every live honest
//! member applied, whether they agree, how long the vote took, how many rounds were redrawn,
//! and what it cost; and whether the expelled member reads anything of the epochs after.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use peerster_core::wire::vote::ProposalId;
use peerster_core::{Config, ConfigError, Event, Timestamp, VoteOutcome};
use rand_core::Rng;

use crate::cluster::{Formation, converged, form_cluster, join_through};
use crate::{LinkModel, Network, NodeIndex, Observer, SimConfig, SimStats, Simulation};

/// The parameters of a vote run.
#[derive(Clone, Debug)]
pub struct VoteScenario {
    /// Members of the cluster before the newcomer.
    pub members: usize,
    /// Seed of the whole run.
    pub seed: u64,
    /// The model of every link while the votes run (the cluster forms on loss-free links).
    pub link: LinkModel,
    /// The nodes' configuration.
    pub config: Config,
    /// Members that lie as authorities (yes and no swapped in their tallies).
    pub liars: usize,
    /// Members that crash right after the expulsion vote opens.
    pub crashes: usize,
    /// How long a vote may take before the run stops waiting for it.
    pub deadline: Duration,
    /// Groups of nodes (node 0 the proposer, node `members` the newcomer) that cannot reach
    /// one another from the moment the expulsion opens to the end of the run. Empty: no
    /// partition.
    pub partition: Vec<Vec<NodeIndex>>,
}

impl VoteScenario {
    /// `members` members on 5 ms links, no adversary, default configuration, 10 minutes per
    /// vote at most.
    pub fn new(members: usize, seed: u64) -> Self {
        VoteScenario {
            members,
            seed,
            link: LinkModel::ideal(Duration::from_millis(5)),
            config: Config::default(),
            liars: 0,
            crashes: 0,
            deadline: Duration::from_secs(600),
            partition: Vec::new(),
        }
    }
}

/// What one vote did.
#[derive(Clone, Debug, PartialEq)]
pub struct VoteRun {
    /// The outcome each live honest member applied (`None`: it saw no outcome in time).
    pub applied: Vec<Option<VoteOutcome>>,
    /// Every live honest member applied the same outcome.
    pub agreed: bool,
    /// Outcomes applied by a live honest member other than what the honest ballots decide
    /// (every honest member votes yes, and they are the majority: anything but `Accepted` or
    /// `Failed` is wrong).
    pub wrong_outcomes: usize,
    /// From the command that started the vote to the last live honest member applying it.
    pub duration: Option<Duration>,
    /// Rounds redrawn, summed over members.
    pub redraws: u64,
    /// Bytes every member sent from the request to the last member applying the outcome (the
    /// vote, the rollout that applied it, and whatever else ran meanwhile), on average.
    pub bytes_per_member: f64,
}

/// What a vote run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct VoteReport {
    /// Members before the newcomer.
    pub members: usize,
    /// The vote on admitting the newcomer.
    pub join: VoteRun,
    /// The vote on expelling it (none if it was not admitted).
    pub expel: Option<VoteRun>,
    /// Whether the newcomer was in the table between the two votes.
    pub admitted: bool,
    /// Whether the newcomer was out of every live honest member's table at the end.
    pub expelled: bool,
    /// Posts and anonymous messages of the epochs after the expulsion that the expelled member
    /// opened (must be zero).
    pub expelled_read: u64,
    /// The engine's counters.
    pub stats: SimStats,
    /// The run's digest.
    pub digest: u64,
}

/// Keeps vote closings, by node.
#[derive(Debug, Default)]
pub struct VoteLog {
    closed: BTreeMap<(NodeIndex, ProposalId), (Timestamp, VoteOutcome)>,
    opened: Vec<(NodeIndex, ProposalId)>,
}

impl Observer for VoteLog {
    fn on_event(&mut self, at: Timestamp, node: NodeIndex, event: &Event) {
        match event {
            Event::VoteClosed {
                proposal, outcome, ..
            } => {
                // A later close of the same vote (a concurrent rollout replaced the first)
                // is the one that stands.
                self.closed.insert((node, *proposal), (at, *outcome));
            }
            Event::VoteOpened { proposal, .. } => self.opened.push((node, *proposal)),
            _ => {}
        }
    }
}

fn bytes_sent(sim: &Simulation<VoteLog>, nodes: &[NodeIndex]) -> u64 {
    nodes
        .iter()
        .filter_map(|&i| sim.node(i))
        .map(|n| n.stats().bytes_sent)
        .sum()
}

fn redraws(sim: &Simulation<VoteLog>, nodes: &[NodeIndex]) -> u64 {
    nodes
        .iter()
        .filter_map(|&i| sim.node(i))
        .map(|n| n.stats().vote_redraws)
        .sum()
}

/// The state of a run when a vote starts.
struct Before {
    started: Timestamp,
    opened: usize,
    bytes: u64,
    redraws: u64,
}

impl Before {
    fn now(sim: &Simulation<VoteLog>, honest: &[NodeIndex]) -> Before {
        Before {
            started: sim.now(),
            opened: sim.observer().opened.len(),
            bytes: bytes_sent(sim, honest),
            redraws: redraws(sim, honest),
        }
    }
}

/// Runs until every node of `honest` that is up closed the first vote opened after the
/// `opened_before`-th one seen (or the deadline passes), and reports it.
fn follow_vote(
    sim: &mut Simulation<VoteLog>,
    honest: &[NodeIndex],
    before: Before,
    deadline: Duration,
) -> VoteRun {
    let Before {
        started,
        opened: opened_before,
        bytes: bytes_before,
        redraws: redraws_before,
    } = before;
    let live = |sim: &Simulation<VoteLog>| -> Vec<NodeIndex> {
        honest.iter().copied().filter(|&i| sim.is_up(i)).collect()
    };
    let proposal = loop {
        if let Some(&(_, p)) = sim.observer().opened[opened_before..]
            .iter()
            .find(|(n, _)| honest.contains(n))
        {
            break Some(p);
        }
        if sim.now() >= started + deadline {
            break None;
        }
        sim.run_for(Duration::from_millis(10));
    };
    let closed_at = |sim: &Simulation<VoteLog>, node: NodeIndex| {
        proposal.and_then(|p| sim.observer().closed.get(&(node, p)).copied())
    };
    while sim.now() < started + deadline && live(sim).iter().any(|&n| closed_at(sim, n).is_none()) {
        sim.run_for(Duration::from_millis(50));
    }
    // What the vote and the rollout that applied it cost, up to the last member applying it.
    let bytes = bytes_sent(sim, honest).saturating_sub(bytes_before);
    // Let a concurrent rollout settle, if one raced.
    sim.run_for(Duration::from_secs(15));
    let live = live(sim);
    let applied: Vec<Option<VoteOutcome>> = live
        .iter()
        .map(|&n| closed_at(sim, n).map(|(_, o)| o))
        .collect();
    let agreed = applied.windows(2).all(|w| w[0] == w[1]) && applied.iter().all(Option::is_some);
    let wrong_outcomes = applied
        .iter()
        .filter(|o| matches!(o, Some(VoteOutcome::Rejected)))
        .count();
    let duration = applied
        .iter()
        .all(Option::is_some)
        .then(|| {
            live.iter()
                .filter_map(|&n| closed_at(sim, n).map(|(at, _)| at - started))
                .max()
        })
        .flatten();
    let members = live.len().max(1) as f64;
    VoteRun {
        applied,
        agreed,
        wrong_outcomes,
        duration,
        // A crashed member's counters are gone: they count no more.
        redraws: redraws(sim, honest).saturating_sub(redraws_before),
        bytes_per_member: bytes as f64 / members,
    }
}

/// Runs `scenario` and reports what it measured.
pub fn run_vote(scenario: &VoteScenario) -> Result<VoteReport, ConfigError> {
    let n = scenario.members;
    let newcomer = n;
    let mut setup = SimConfig::new(n + 1, scenario.seed);
    setup.config = scenario.config.clone();
    setup.network = Network::new(LinkModel::ideal(scenario.link.latency));
    let mut sim = Simulation::with_observer(setup, VoteLog::default())?;
    let formation = Formation::default();
    let (members, _) = form_cluster(&mut sim, n + 1, n, formation);
    sim.run_for(Duration::from_secs(5));
    sim.network_mut().set_default_link(scenario.link);

    // Liars among the members (never node 0, the contact of the newcomer).
    let mut others: Vec<NodeIndex> = members.iter().copied().filter(|&m| m != 0).collect();
    for i in (1..others.len()).rev() {
        let j = (sim.rng().next_u64() % (i as u64 + 1)) as usize;
        others.swap(i, j);
    }
    let liars: BTreeSet<NodeIndex> = others.iter().take(scenario.liars).copied().collect();
    for &liar in &liars {
        sim.command(liar, |node, _| node.set_lying(true));
    }
    let honest: Vec<NodeIndex> = members
        .iter()
        .copied()
        .filter(|m| !liars.contains(m))
        .collect();

    // Vote 1: the newcomer asks node 0 to join.
    let before = Before::now(&sim, &honest);
    let mut with_newcomer = members.clone();
    with_newcomer.push(newcomer);
    join_through(
        &mut sim,
        newcomer,
        0,
        &with_newcomer,
        Duration::from_secs(5),
        Duration::from_millis(10),
    );
    let join = follow_vote(&mut sim, &honest, before, scenario.deadline);
    let newcomer_id = sim.identity(newcomer).member_id();
    let admitted = sim
        .node(0)
        .and_then(|n| n.cluster())
        .is_some_and(|c| c.members.iter().any(|m| m.id == newcomer_id));
    sim.run_for(Duration::from_secs(10));

    // Vote 2: node 0 proposes to expel the newcomer; some members crash at once.
    let before = Before::now(&sim, &honest);
    let mut proposed = false;
    sim.command(0, |node, now| {
        proposed = node.expel(now, newcomer_id).is_ok();
    });
    let crashed: Vec<NodeIndex> = others
        .iter()
        .skip(scenario.liars)
        .take(scenario.crashes)
        .copied()
        .collect();
    for &c in &crashed {
        sim.crash(c);
    }
    for (i, side) in scenario.partition.iter().enumerate() {
        for other in &scenario.partition[i + 1..] {
            for (&a, &b) in side.iter().flat_map(|a| other.iter().map(move |b| (a, b))) {
                sim.network_mut().set_link(a, b, LinkModel::cut());
                sim.network_mut().set_link(b, a, LinkModel::cut());
            }
        }
    }
    let expel = proposed.then(|| follow_vote(&mut sim, &honest, before, scenario.deadline));
    let live_honest: Vec<NodeIndex> = honest.iter().copied().filter(|&i| sim.is_up(i)).collect();
    let expelled = live_honest.iter().all(|&i| {
        sim.node(i)
            .and_then(|n| n.cluster())
            .is_none_or(|c| c.members.iter().all(|m| m.id != newcomer_id))
    });

    // The epochs after: posts and an anonymous message the expelled member must not read.
    let read_before = sim
        .node(newcomer)
        .map_or(0, |n| n.stats().posts_delivered + n.stats().anon_received);
    if let (Some(&a), Some(&b)) = (live_honest.first(), live_honest.last()) {
        let to = sim.identity(b).member_id();
        sim.command(a, |node, now| {
            let _ = node.post(now, "after the expulsion");
            let _ = node.send_anonymous(now, to, "after the expulsion", Default::default());
        });
    }
    sim.run_for(Duration::from_secs(20));
    let read_after = sim
        .node(newcomer)
        .map_or(0, |n| n.stats().posts_delivered + n.stats().anon_received);
    let _ = converged(&sim, &live_honest);
    Ok(VoteReport {
        members: members.len(),
        join,
        expel,
        admitted,
        expelled,
        expelled_read: read_after - read_before,
        stats: sim.stats(),
        digest: sim.digest(),
    })
}
