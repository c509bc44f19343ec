//! Forming every cluster of a scenario at once: nodes connect along one overlay (random, or given), and
//! in each cluster either the founder founds it and the others join one by one through a
//! random member, the clusters all joining side by side (so that forming 200 clusters takes
//! the simulated time of forming one), or every member starts in a prearranged cluster.

use std::time::Duration;

use peerster_core::crypto::{ClusterKey, EpochSecret};
use peerster_core::ids::ClusterId;
use peerster_core::{ClusterState, PrearrangedMember, Timestamp};
use rand_core::Rng;

use super::spec::Formation;
use crate::cluster::converged;
use crate::random::below;
use crate::{NodeIndex, Observer, Simulation, Topology};

/// Where one cluster's formation stands.
#[derive(Debug)]
struct Forming {
    /// Its nodes, founder first.
    nodes: Vec<NodeIndex>,
    /// Members so far.
    joined: Vec<NodeIndex>,
    /// Index in `nodes` of the next joiner.
    next: usize,
    /// The join in progress: joiner, contact, since when, whether the request went out.
    current: Option<(NodeIndex, NodeIndex, Timestamp, bool)>,
}

/// How long a join may take before it is given up.
const JOIN_DEADLINE: Duration = Duration::from_secs(60);

/// How often formation checks progress; coarser for larger runs, where each check is work.
fn check_every(nodes: usize) -> Duration {
    if nodes <= 500 {
        Duration::from_millis(20)
    } else {
        Duration::from_millis(200)
    }
}

/// Forms `clusters` clusters of `members` nodes each (cluster `c` is nodes
/// `c * members .. (c + 1) * members`) on `topology` (a joiner also connects to the member
/// it joins through, so the overlay need not be connected) as `formation` says, and returns
/// each cluster's members, founder first.
pub fn form_clusters<O: Observer>(
    sim: &mut Simulation<O>,
    clusters: usize,
    members: usize,
    topology: &Topology,
    formation: Formation,
) -> Vec<Vec<NodeIndex>> {
    let nodes = clusters * members;
    sim.connect_topology(topology);
    // A joiner needs its contact's announcement (it carries the key the request is sealed
    // to); prearranged clusters have no joiner, and every announcement flooding every node
    // is quadratic in the overlay's size.
    if formation == Formation::Votes {
        for i in 0..nodes {
            sim.command(i, |node, now| {
                // A short ASCII name is always within the bound.
                let _ = node.announce(now, &format!("n{i}"));
            });
        }
    }
    sim.run_for(Duration::from_secs(5));
    match formation {
        Formation::Votes => form_by_votes(sim, clusters, members),
        Formation::Prearranged => prearrange(sim, clusters, members),
    }
}

/// How long prearranged clusters take to start, one after another: clusters that all start at
/// one instant heartbeat and roll their keys in step for the whole run, which no deployment
/// does, and the simultaneous rollouts of thousands of nodes make a burst of traffic and
/// memory that is the simulation's, not the protocol's.
const PREARRANGED_SPREAD: Duration = Duration::from_secs(10);

/// Starts every member in its cluster's founding epoch, with one key and table per cluster
/// drawn from the scenario's randomness, the clusters one after another over
/// [`PREARRANGED_SPREAD`], and lets the first heartbeats confirm them.
fn prearrange<O: Observer>(
    sim: &mut Simulation<O>,
    clusters: usize,
    members: usize,
) -> Vec<Vec<NodeIndex>> {
    let mut formed = Vec::with_capacity(clusters);
    let gap = PREARRANGED_SPREAD / u32::try_from(clusters.max(1)).unwrap_or(u32::MAX);
    for c in 0..clusters {
        if c > 0 {
            sim.run_for(gap);
        }
        let nodes: Vec<NodeIndex> = (c * members..(c + 1) * members).collect();
        let cluster = ClusterId(sim.rng().next_u64());
        let key = ClusterKey::from_bytes(random_bytes(sim));
        let table: Vec<PrearrangedMember> = nodes
            .iter()
            .map(|&n| PrearrangedMember {
                identity: sim.identity(n),
                addr: sim.addr(n),
                epoch_secret: EpochSecret::from_bytes(random_bytes(sim)),
            })
            .collect();
        let states = ClusterState::prearranged(cluster, &key, &table);
        let mut restored = Vec::with_capacity(members);
        for (&n, state) in nodes.iter().zip(&states) {
            let mut ok = false;
            sim.command(n, |node, now| ok = node.restore_cluster(now, state).is_ok());
            if ok {
                restored.push(n);
            }
        }
        formed.push(restored);
    }
    // Members confirm one another with their first heartbeats.
    sim.run_for(Duration::from_secs(1));
    formed
}

/// 32 bytes from the scenario's randomness.
fn random_bytes<O: Observer>(sim: &mut Simulation<O>) -> [u8; 32] {
    let mut bytes = [0; 32];
    sim.rng().fill_bytes(&mut bytes);
    bytes
}

/// Forms the clusters through the protocol, every join decided by a vote.
fn form_by_votes<O: Observer>(
    sim: &mut Simulation<O>,
    clusters: usize,
    members: usize,
) -> Vec<Vec<NodeIndex>> {
    let nodes = clusters * members;
    let mut forming: Vec<Forming> = (0..clusters)
        .map(|c| {
            let nodes: Vec<NodeIndex> = (c * members..(c + 1) * members).collect();
            Forming {
                joined: vec![nodes[0]],
                nodes,
                next: 1,
                current: None,
            }
        })
        .collect();
    for f in &forming {
        sim.command(f.nodes[0], |node, now| {
            // No limit: always valid.
            let _ = node.create_cluster(now, None);
        });
    }
    let step = check_every(nodes);
    loop {
        let mut busy = false;
        for f in &mut forming {
            busy |= advance(sim, f);
        }
        if !busy {
            break;
        }
        sim.run_for(step);
    }
    forming.into_iter().map(|f| f.joined).collect()
}

/// Whether `joiner` holds the announcement of `contact`, a connected peer (a join request
/// needs it).
pub fn knows_announcement<O: Observer>(
    sim: &Simulation<O>,
    joiner: NodeIndex,
    contact: NodeIndex,
) -> bool {
    let addr = sim.addr(contact);
    sim.node(joiner).is_some_and(|n| {
        n.peer(&addr).is_some_and(|p| {
            let identity = p.identity;
            n.announcements().any(|a| a.origin == identity)
        })
    })
}

/// Moves one cluster's formation on; returns whether it still has work.
fn advance<O: Observer>(sim: &mut Simulation<O>, f: &mut Forming) -> bool {
    if f.current.is_none() {
        let Some(&joiner) = f.nodes.get(f.next) else {
            return false;
        };
        f.next += 1;
        let contact = f.joined[below(sim.rng(), f.joined.len() as u64) as usize];
        let addr = sim.addr(contact);
        sim.command(joiner, |node, now| node.connect(now, addr));
        f.current = Some((joiner, contact, sim.now(), false));
    }
    let Some((joiner, contact, since, asked)) = f.current else {
        return true;
    };
    let addr = sim.addr(contact);
    if sim.now() >= since + JOIN_DEADLINE {
        f.current = None;
        return true;
    }
    if !asked {
        if knows_announcement(sim, joiner, contact) {
            let mut ok = false;
            sim.command(joiner, |node, now| ok = node.join(now, addr).is_ok());
            f.current = ok.then_some((joiner, contact, since, true));
        }
        return true;
    }
    let mut with_joiner = f.joined.clone();
    with_joiner.push(joiner);
    if converged(sim, &with_joiner) {
        f.joined = with_joiner;
        f.current = None;
    }
    true
}
