//! Joins during the run: a new node comes up, connects to a member of its cluster, announces
//! itself and asks to join; the members vote through the real protocol, and the node counts
//! as a member from the moment it holds the cluster.

use std::collections::BTreeMap;
use std::time::Duration;

use peerster_core::{Node, Timestamp};
use serde::Serialize;

use super::formation::knows_announcement;
use super::observe::ScenarioObserver;
use super::report::Percentiles;
use crate::{NodeIndex, Simulation};

/// How long a new node may take to learn its contact's announcement before its join is given
/// up.
const JOIN_DEADLINE: Duration = Duration::from_secs(60);

/// One join in progress.
#[derive(Clone, Copy, Debug)]
struct Joining {
    node: NodeIndex,
    cluster: usize,
    contact: NodeIndex,
    since: Timestamp,
    asked: bool,
}

/// The joins of a run.
#[derive(Debug, Default)]
pub struct Joins {
    pending: Vec<Joining>,
    /// Joins started.
    pub started: usize,
    /// Each new member, when it joined, and how long its join took.
    pub joined: BTreeMap<NodeIndex, (Timestamp, Duration)>,
}

/// The joins of a run (the `joins` object of `report.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JoinReport {
    /// New nodes that asked to join a cluster.
    pub requested: usize,
    /// Those that became members before the run ended.
    pub joined: usize,
    /// From the join command to membership.
    pub latency_ms: Option<Percentiles>,
}

impl Joins {
    /// Brings up a new node for cluster `cluster` and has it connect to `contact`, a member,
    /// and announce itself; returns the node.
    pub fn start(
        &mut self,
        sim: &mut Simulation<ScenarioObserver>,
        cluster: usize,
        contact: NodeIndex,
    ) -> NodeIndex {
        let node = sim.add_node();
        let cluster_of = &mut sim.observer_mut().cluster_of;
        cluster_of.resize(node + 1, None);
        cluster_of[node] = Some(cluster);
        // The joiner needs the contact's announcement (prearranged clusters never announced).
        sim.command(contact, |n, now| {
            // A short ASCII name is always within the bound.
            let _ = n.announce(now, &format!("n{contact}"));
        });
        let addr = sim.addr(contact);
        sim.command(node, |n, now| {
            n.connect(now, addr);
            // A short ASCII name is always within the bound.
            let _ = n.announce(now, &format!("n{node}"));
        });
        self.started += 1;
        self.pending.push(Joining {
            node,
            cluster,
            contact,
            since: sim.now(),
            asked: false,
        });
        node
    }

    /// Moves every join on: asks once the contact's announcement is known, and adds each
    /// node that became a member to `clusters`.
    pub fn advance(
        &mut self,
        sim: &mut Simulation<ScenarioObserver>,
        clusters: &mut [Vec<NodeIndex>],
    ) {
        let mut still = Vec::new();
        for mut j in std::mem::take(&mut self.pending) {
            let now = sim.now();
            if sim.node(j.node).and_then(Node::cluster).is_some() {
                self.joined
                    .insert(j.node, (now, now.saturating_since(j.since)));
                clusters[j.cluster].push(j.node);
                continue;
            }
            // Not asked yet and no way to: given up. Once asked, the vote decides, however
            // long it takes and whatever becomes of the contact.
            if !j.asked && (now >= j.since + JOIN_DEADLINE || !sim.is_up(j.contact)) {
                continue;
            }
            if !j.asked {
                let addr = sim.addr(j.contact);
                if knows_announcement(sim, j.node, j.contact) {
                    sim.command(j.node, |n, now| j.asked = n.join(now, addr).is_ok());
                    if j.asked {
                        j.since = sim.now();
                    }
                }
            }
            still.push(j);
        }
        self.pending = still;
    }

    /// When `node` joined, if it is a new member.
    pub fn joined_at(&self, node: NodeIndex) -> Option<Timestamp> {
        self.joined.get(&node).map(|(at, _)| *at)
    }

    /// The report of the joins.
    pub fn report(&self) -> JoinReport {
        let mut took: Vec<Duration> = self.joined.values().map(|(_, d)| *d).collect();
        took.sort();
        JoinReport {
            requested: self.started,
            joined: self.joined.len(),
            latency_ms: Percentiles::of(&took),
        }
    }
}
