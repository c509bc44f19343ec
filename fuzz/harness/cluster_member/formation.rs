//! The two-node cluster every `cluster_member` run starts from: formed once per member limit
//! and pair of unattended voting policies by moving datagrams between two real nodes,
//! recorded, and replayed to rebuild either node.

use std::net::SocketAddr;

use peerster_core::{AutoVote, Config, Node, Timestamp};

use super::fixture::{fixtures, real_addr};

/// One input to a real node while the cluster forms, recorded to be replayed.
#[derive(Clone, Debug)]
enum SetupInput {
    Datagram {
        now: Timestamp,
        from: SocketAddr,
        bytes: Vec<u8>,
    },
    Timeout {
        now: Timestamp,
    },
    Join {
        now: Timestamp,
        contact: SocketAddr,
    },
    /// A yes on a vote (the joiner's admission, for a founder that asks).
    Vote {
        now: Timestamp,
        proposal: peerster_core::wire::vote::ProposalId,
    },
}

/// How the cluster formed: each real node's inputs, and what came of them.
pub(super) struct Formation {
    inputs: [Vec<SetupInput>; 2],
    /// The time when node 1 was in the cluster.
    pub(super) now: Timestamp,
    info: [Option<peerster_core::ClusterInfo>; 2],
    stats: [peerster_core::Stats; 2],
}

/// Real node `i` as it starts: voting unattended as `auto_vote` says, announced, node 0
/// founding a cluster with member `limit`, node 1 connecting to node 0.
fn setup_node(i: usize, limit: Option<u16>, auto_vote: AutoVote) -> Node {
    let now = Timestamp::ZERO;
    let config = Config {
        auto_vote,
        ..Config::default()
    };
    let identity = fixtures().identities[i].clone();
    let mut node = Node::new(config, identity, [0x50 + i as u8; 32], now).expect("valid config");
    node.announce(now, "fuzz").expect("a short name");
    if i == 0 {
        node.create_cluster(now, limit).expect("a valid limit");
    } else {
        node.connect(now, real_addr(0));
    }
    node
}

/// Gives `node` one recorded input. Returns whether a command succeeded.
fn apply_setup_input(node: &mut Node, input: &SetupInput) -> bool {
    match input {
        SetupInput::Datagram { now, from, bytes } => {
            node.handle_datagram(*now, *from, bytes);
            true
        }
        SetupInput::Timeout { now } => {
            node.handle_timeout(*now);
            true
        }
        SetupInput::Join { now, contact } => node.join(*now, *contact).is_ok(),
        SetupInput::Vote { now, proposal } => node.vote(*now, *proposal, true).is_ok(),
    }
}

/// Forms a cluster of the two real nodes: node 1 joins through node 0 once it has verified
/// node 0 and holds its announcement; node 0, if it asks, votes yes. Datagrams move by hand
/// with no delay; when none is in flight the clock jumps to the next deadline. Records every
/// node's inputs.
fn form_cluster(limit: Option<u16>, auto_vote: [AutoVote; 2]) -> Formation {
    use peerster_core::Event;

    let mut nodes = [0, 1].map(|i| setup_node(i, limit, auto_vote[i]));
    let mut inputs: [Vec<SetupInput>; 2] = [Vec::new(), Vec::new()];
    let mut now = Timestamp::ZERO;
    let mut joining = false;
    for _ in 0..256 {
        if nodes[1].cluster().is_some() {
            while nodes[0].poll_transmit().is_some() {}
            while nodes[0].poll_event().is_some() {}
            return Formation {
                info: [nodes[0].cluster(), nodes[1].cluster()],
                stats: [nodes[0].stats(), nodes[1].stats()],
                inputs,
                now,
            };
        }
        if !joining {
            let join = SetupInput::Join {
                now,
                contact: real_addr(0),
            };
            if nodes[1].join(now, real_addr(0)).is_ok() {
                inputs[1].push(join);
                joining = true;
            }
        }
        let mut moved = false;
        for i in 0..2 {
            let outgoing: Vec<_> = std::iter::from_fn(|| nodes[i].poll_transmit()).collect();
            for t in outgoing {
                if t.destination == real_addr(1 - i) {
                    let input = SetupInput::Datagram {
                        now,
                        from: real_addr(i),
                        bytes: t.payload,
                    };
                    apply_setup_input(&mut nodes[1 - i], &input);
                    inputs[1 - i].push(input);
                    moved = true;
                }
            }
            let events: Vec<_> = std::iter::from_fn(|| nodes[i].poll_event()).collect();
            for event in events {
                if let Event::VoteOpened { proposal, .. } = event
                    && auto_vote[i] == AutoVote::Ask
                {
                    let input = SetupInput::Vote { now, proposal };
                    assert!(apply_setup_input(&mut nodes[i], &input));
                    inputs[i].push(input);
                }
            }
        }
        if !moved {
            now = nodes
                .iter()
                .filter_map(Node::poll_timeout)
                .min()
                .expect("nodes have deadlines")
                .max(now);
            for i in 0..2 {
                if nodes[i].poll_timeout().is_some_and(|t| t <= now) {
                    let input = SetupInput::Timeout { now };
                    apply_setup_input(&mut nodes[i], &input);
                    inputs[i].push(input);
                }
            }
        }
    }
    panic!("the cluster did not form");
}

/// The formation for a member limit and the nodes' unattended voting, recorded on first use.
/// Cached across runs: `Node` is deterministic, and [`replay_node`] checks that a replay ends
/// where the recording did.
pub(super) fn formation(limit: Option<u16>, auto_vote: [AutoVote; 2]) -> &'static Formation {
    type Key = (Option<u16>, [AutoVote; 2]);
    static FORMATIONS: std::sync::Mutex<Vec<(Key, &'static Formation)>> =
        std::sync::Mutex::new(Vec::new());
    let key = (limit, auto_vote);
    let mut formations = FORMATIONS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, formation)) = formations.iter().find(|(k, _)| *k == key) {
        return formation;
    }
    let formation: &'static Formation = Box::leak(Box::new(form_cluster(limit, auto_vote)));
    formations.push((key, formation));
    formation
}

/// Real node `i` of a formation, rebuilt by replaying its inputs.
pub(super) fn replay_node(
    i: usize,
    limit: Option<u16>,
    auto_vote: [AutoVote; 2],
    formation: &Formation,
) -> Node {
    let mut node = setup_node(i, limit, auto_vote[i]);
    for input in &formation.inputs[i] {
        assert!(
            apply_setup_input(&mut node, input),
            "a recorded command succeeds again"
        );
        // What it sent then was delivered then.
        while node.poll_transmit().is_some() {}
        while node.poll_event().is_some() {}
    }
    assert_eq!(node.cluster(), formation.info[i], "the replay diverged");
    assert_eq!(node.stats(), formation.stats[i], "the replay diverged");
    node
}
