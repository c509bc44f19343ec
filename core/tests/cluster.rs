//! Clusters on a handful of hand-wired nodes: found, join, post, leave, limits, forward
//! secrecy. Whole-cluster behaviour under loss and churn is in the simulator tests.

mod common;

use std::time::Duration;

use common::{Net, Verdict};
use peerster_core::wire::cluster::RefusalReason;
use peerster_core::{CommandError, Config, Event, Stats};

/// `n` nodes, all connected to node 0 and announced, node 0 founding a cluster.
fn net_with_founder(n: usize, seed: u64, config: Config) -> Net {
    let mut net = Net::new(n, seed, config);
    for i in 1..n {
        let to = net.addrs[0];
        let now = net.now;
        net.nodes[i].connect(now, to);
    }
    for i in 0..n {
        let now = net.now;
        net.nodes[i].announce(now, &format!("node {i}")).unwrap();
    }
    net.run_for(Duration::from_secs(3));
    let now = net.now;
    net.nodes[0].create_cluster(now, None).unwrap();
    net
}

/// [`net_with_founder`] with every other node joined through node 0, one after another.
fn full_cluster(n: usize, seed: u64, config: Config) -> Net {
    let mut net = net_with_founder(n, seed, config);
    for i in 1..n {
        let (now, contact) = (net.now, net.addrs[0]);
        net.nodes[i].join(now, contact).unwrap();
        net.run_for(Duration::from_secs(5));
    }
    net
}

/// Node `poster` posts; every cluster frame the others send in the next 3 s is handed to node
/// `to`, which must open none: each counts as undecryptable, no post is delivered. Its
/// counters before and after.
fn post_and_open_nothing_at(net: &mut Net, poster: usize, to: usize) -> (Stats, Stats) {
    let start = net.transcript.len();
    let now = net.now;
    net.nodes[poster]
        .post(now, "not for the one left out")
        .unwrap();
    net.run_for(Duration::from_secs(3));
    let frames: Vec<_> = net.transcript[start..]
        .iter()
        .filter(|f| f.from != net.addrs[to] && is_cluster_frame(&f.payload))
        .cloned()
        .collect();
    assert!(!frames.is_empty());
    let before = net.nodes[to].stats();
    for flight in &frames {
        let now = net.now;
        net.nodes[to].handle_datagram(now, flight.from, &flight.payload);
    }
    let after = net.nodes[to].stats();
    assert_eq!(
        after.dropped.undecryptable - before.dropped.undecryptable,
        frames.len() as u64,
        "every frame of the new epoch fails to open"
    );
    assert_eq!(after.posts_delivered, before.posts_delivered);
    (before, after)
}

fn epochs(net: &Net) -> Vec<Option<u64>> {
    net.nodes
        .iter()
        .map(|n| n.cluster().map(|c| c.epoch.0))
        .collect()
}

#[test]
fn members_join_one_by_one_and_agree_on_the_table_and_epoch() {
    let mut net = net_with_founder(5, 1, Config::default());
    for i in 1..5 {
        let now = net.now;
        let contact = net.addrs[0];
        net.nodes[i].join(now, contact).unwrap();
        net.run_for(Duration::from_secs(5));
        assert!(
            net.events
                .iter()
                .any(|(n, e)| *n == i && matches!(e, Event::JoinedCluster { .. })),
            "node {i} joined: {:?}",
            epochs(&net)
        );
    }
    net.run_for(Duration::from_secs(5));
    let infos: Vec<_> = net.nodes.iter().map(|n| n.cluster().unwrap()).collect();
    for info in &infos {
        assert_eq!(info.id, infos[0].id);
        assert_eq!(info.epoch, infos[0].epoch);
        let table = |i: &peerster_core::ClusterInfo| -> Vec<_> {
            i.members
                .iter()
                .map(|m| (m.id, m.epoch_key, m.addr, m.joined))
                .collect()
        };
        assert_eq!(table(info), table(&infos[0]), "one member table");
        assert_eq!(info.members.len(), 5);
    }
    assert_eq!(
        infos[0].epoch.0,
        4,
        "one rollout per join: {:?}",
        epochs(&net)
    );
}

#[test]
fn a_post_reaches_every_member_once_in_order() {
    let mut net = net_with_founder(6, 2, Config::default());
    for i in 1..6 {
        let now = net.now;
        let contact = net.addrs[i - 1];
        net.nodes[i].join(now, contact).unwrap();
        net.run_for(Duration::from_secs(5));
    }
    assert!(
        epochs(&net).iter().all(|e| *e == Some(5)),
        "{:?}",
        epochs(&net)
    );
    for k in 0..5 {
        let now = net.now;
        net.nodes[2].post(now, &format!("hello {k}")).unwrap();
    }
    net.run_for(Duration::from_secs(5));
    for i in (0..6).filter(|&i| i != 2) {
        let texts: Vec<&str> = net
            .events
            .iter()
            .filter(|(n, _)| *n == i)
            .filter_map(|(_, e)| match e {
                Event::Post { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            texts,
            ["hello 0", "hello 1", "hello 2", "hello 3", "hello 4"],
            "node {i}"
        );
    }
}

#[test]
fn a_post_too_long_is_refused_with_a_typed_error() {
    let mut net = net_with_founder(1, 3, Config::default());
    let now = net.now;
    let long = "x".repeat(16 * 1024 + 1);
    assert_eq!(
        net.nodes[0].post(now, &long),
        Err(CommandError::PostTooLong {
            len: 16 * 1024 + 1,
            max: 16 * 1024
        })
    );
    assert!(net.nodes[0].post(now, &"y".repeat(16 * 1024)).is_ok());
}

#[test]
fn the_member_limit_refuses_the_next_joiner() {
    let mut net = Net::new(4, 4, Config::default());
    for i in 1..4 {
        let (now, to) = (net.now, net.addrs[0]);
        net.nodes[i].connect(now, to);
    }
    for i in 0..4 {
        let now = net.now;
        net.nodes[i].announce(now, "n").unwrap();
    }
    net.run_for(Duration::from_secs(3));
    let now = net.now;
    net.nodes[0].create_cluster(now, Some(3)).unwrap();
    for i in 1..4 {
        let (now, contact) = (net.now, net.addrs[0]);
        net.nodes[i].join(now, contact).unwrap();
        net.run_for(Duration::from_secs(5));
    }
    assert!(net.events.iter().any(|(n, e)| *n == 3
        && matches!(
            e,
            Event::JoinRefused {
                reason: RefusalReason::Full,
                ..
            }
        )));
    assert!(net.nodes[3].cluster().is_none());
    assert_eq!(net.nodes[0].cluster().unwrap().members.len(), 3);
}

#[test]
fn a_signed_leave_rolls_the_key_at_once() {
    let mut net = full_cluster(4, 5, Config::default());
    let before = net.nodes[0].cluster().unwrap().epoch;
    let now = net.now;
    let left = net.nodes[3].leave_cluster(now).unwrap();
    assert_eq!(net.nodes[3].cluster(), None);
    assert_eq!(
        net.nodes[3].leave_cluster(now),
        Err(CommandError::NotInCluster)
    );
    net.run_for(Duration::from_secs(5));
    for i in 0..3 {
        let info = net.nodes[i].cluster().unwrap();
        assert_eq!(info.id, left);
        assert_eq!(info.epoch, before.next(), "node {i}: one rollout, at once");
        assert_eq!(info.members.len(), 3);
    }
}

/// Whether a datagram is a sealed cluster frame.
fn is_cluster_frame(payload: &[u8]) -> bool {
    matches!(
        peerster_core::wire::decode(payload),
        Ok(peerster_core::wire::Packet::Sealed(_))
    )
}

/// A short heartbeat and member timeout, so that silence is detected within a test.
fn fast_config() -> Config {
    Config {
        heartbeat_interval: Duration::from_secs(2),
        member_timeout: Duration::from_secs(10),
        ..Config::default()
    }
}

#[test]
fn a_silent_member_is_dropped_and_cannot_read_the_new_epoch() {
    let mut net = full_cluster(4, 6, fast_config());
    let before = net.nodes[0].cluster().unwrap().epoch;
    // Node 3 is cut off: it keeps its state and keys, but nothing reaches or leaves it.
    let cut = net.addrs[3];
    net.hook = Box::new(move |f| {
        if f.to == cut || f.from == cut {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    net.run_for(Duration::from_secs(20));
    for i in 0..3 {
        let info = net.nodes[i].cluster().unwrap();
        assert!(info.epoch > before, "node {i} rolled the key");
        assert!(
            info.members.iter().all(|m| m.addr != cut),
            "node {i} dropped it"
        );
    }
    // On its side of the partition, the others went silent: it rolled them out in turn.
    let alone = net.nodes[3].cluster().unwrap_or_else(|| {
        panic!(
            "{:?}",
            net.events
                .iter()
                .filter(|(n, _)| *n == 3)
                .collect::<Vec<_>>()
        )
    });
    assert_eq!(alone.members.len(), 1, "{alone:?}");
    // Whatever the others send now, it records and tries: nothing opens.
    post_and_open_nothing_at(&mut net, 1, 3);
}

#[test]
fn a_member_not_heard_from_for_two_intervals_is_probed_and_answers_at_once() {
    // Heartbeats every 12 s, so a probe (every 2 s) is answered well before the next one.
    let config = Config {
        heartbeat_interval: Duration::from_secs(12),
        member_timeout: Duration::from_secs(120),
        ..Config::default()
    };
    let probe_interval = config.heartbeat_interval / 6;
    for seed in 1..=4 {
        let mut net = full_cluster(4, seed, config.clone());
        let (from, to) = (net.addrs[3], net.addrs[0]);
        let heard = |net: &Net| {
            let info = net.nodes[0].cluster().expect("a member");
            info.members
                .iter()
                .find(|m| m.addr == from)
                .expect("node 3")
                .last_heard
        };
        // Nothing from node 3 reaches node 0 for three heartbeat intervals.
        net.hook = Box::new(move |f| {
            if f.from == from && f.to == to {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        net.run_for(config.heartbeat_interval * 3);
        let before = heard(&net);
        assert!(
            net.now >= before + config.heartbeat_interval * 2,
            "seed {seed}"
        );
        net.hook = Box::new(|_| Verdict::Deliver);
        let healed = net.now;
        while heard(&net) == before {
            net.run_for(Duration::from_millis(100));
            assert!(
                net.now <= healed + probe_interval + Duration::from_secs(1),
                "seed {seed}: node 0 did not hear node 3 within a probe interval"
            );
        }
        assert_eq!(
            net.nodes[0].cluster().unwrap().members.len(),
            4,
            "seed {seed}"
        );
    }
}

#[test]
fn a_newcomer_cannot_read_posts_of_earlier_epochs() {
    let mut net = net_with_founder(4, 7, Config::default());
    for i in 1..3 {
        let (now, contact) = (net.now, net.addrs[0]);
        net.nodes[i].join(now, contact).unwrap();
        net.run_for(Duration::from_secs(5));
    }
    let start = net.transcript.len();
    let now = net.now;
    net.nodes[1].post(now, "before the newcomer").unwrap();
    net.run_for(Duration::from_secs(3));
    let recorded: Vec<_> = net.transcript[start..]
        .iter()
        .filter(|f| is_cluster_frame(&f.payload))
        .cloned()
        .collect();
    assert!(!recorded.is_empty());
    let (now, contact) = (net.now, net.addrs[2]);
    net.nodes[3].join(now, contact).unwrap();
    net.run_for(Duration::from_secs(8));
    assert!(net.nodes[3].cluster().is_some(), "the newcomer joined");
    let before = net.nodes[3].stats();
    for flight in &recorded {
        let now = net.now;
        net.nodes[3].handle_datagram(now, flight.from, &flight.payload);
    }
    let after = net.nodes[3].stats();
    assert_eq!(
        after.dropped.undecryptable - before.dropped.undecryptable,
        recorded.len() as u64
    );
    let posts: Vec<_> = net
        .events
        .iter()
        .filter(|(n, e)| *n == 3 && matches!(e, Event::Post { .. }))
        .collect();
    assert!(posts.is_empty(), "{posts:?}");
}

#[test]
fn with_ask_the_members_decide_by_vote() {
    let config = Config {
        auto_vote: peerster_core::AutoVote::Ask,
        ..Config::default()
    };
    let mut net = net_with_founder(3, 8, config);
    let (now, contact) = (net.now, net.addrs[0]);
    net.nodes[1].join(now, contact).unwrap();
    net.run_for(Duration::from_secs(1));
    let opened = |net: &Net, node: usize| -> Vec<peerster_core::wire::vote::ProposalId> {
        net.events
            .iter()
            .filter_map(|(n, e)| match e {
                Event::VoteOpened {
                    proposal, subject, ..
                } if *n == node => {
                    assert!(net.nodes.iter().any(|m| m.id() == *subject));
                    Some(*proposal)
                }
                _ => None,
            })
            .collect()
    };
    let asked = opened(&net, 0);
    assert_eq!(asked.len(), 1);
    assert_eq!(net.nodes[0].votes()[0].subject, net.nodes[1].id());
    assert!(net.nodes[1].cluster().is_none(), "nobody voted yet");
    let now = net.now;
    net.nodes[0].vote(now, asked[0], true).unwrap();
    assert_eq!(
        net.nodes[0].vote(now, asked[0], true),
        Err(CommandError::AlreadyVoted),
        "one ballot"
    );
    net.run_for(Duration::from_secs(5));
    assert!(net.nodes[1].cluster().is_some(), "accepted");
    assert!(net.nodes[0].votes().is_empty(), "closed");
    assert!(net.events.iter().any(|(n, e)| *n == 1
        || matches!(
            e,
            Event::VoteClosed {
                outcome: peerster_core::VoteOutcome::Accepted,
                ..
            }
        )));

    let (now, contact) = (net.now, net.addrs[0]);
    net.nodes[2].join(now, contact).unwrap();
    net.run_for(Duration::from_secs(1));
    let second = *opened(&net, 1).last().expect("member 1 sees the vote");
    assert_eq!(opened(&net, 0).last(), Some(&second));
    let now = net.now;
    net.nodes[0].vote(now, second, false).unwrap();
    net.nodes[1].vote(now, second, false).unwrap();
    net.run_for(Duration::from_secs(5));
    assert!(net.events.iter().any(|(n, e)| *n == 2
        && matches!(
            e,
            Event::JoinRefused {
                reason: RefusalReason::Declined,
                ..
            }
        )));
    for member in 0..2 {
        assert!(net.events.iter().any(|(n, e)| *n == member
            && matches!(
                e,
                Event::VoteClosed {
                    outcome: peerster_core::VoteOutcome::Rejected,
                    ..
                }
            )));
    }
    assert!(net.nodes[2].cluster().is_none());
    assert_eq!(net.nodes[0].cluster().unwrap().members.len(), 2);
}

#[test]
fn a_member_that_was_away_catches_up_on_posts_in_order() {
    let mut net = net_with_founder(4, 9, Config::default());
    for i in 1..4 {
        let (now, contact) = (net.now, net.addrs[0]);
        net.nodes[i].join(now, contact).unwrap();
        net.run_for(Duration::from_secs(5));
    }
    // Node 3 is away for 20 s (well within the member timeout) while node 1 posts.
    let away = net.addrs[3];
    net.hook = Box::new(move |f| {
        if f.to == away || f.from == away {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    for k in 0..6 {
        let now = net.now;
        net.nodes[1].post(now, &format!("while away {k}")).unwrap();
        net.run_for(Duration::from_secs(3));
    }
    net.hook = Box::new(|_| Verdict::Deliver);
    net.run_for(Duration::from_secs(20));
    let texts: Vec<&str> = net
        .events
        .iter()
        .filter_map(|(n, e)| match e {
            Event::Post { text, .. } if *n == 3 => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let expected: Vec<String> = (0..6).map(|k| format!("while away {k}")).collect();
    assert_eq!(
        texts, expected,
        "caught up by anti-entropy, once each, in order"
    );
}

#[test]
fn an_expelled_member_opens_nothing_of_the_next_epoch() {
    let mut net = full_cluster(4, 11, Config::default());
    let before = net.nodes[0].cluster().unwrap().epoch;
    let (now, expelled) = (net.now, net.nodes[3].id());
    net.nodes[0].expel(now, expelled).unwrap();
    net.run_for(Duration::from_secs(8));
    for i in 0..3 {
        let info = net.nodes[i].cluster().unwrap();
        assert!(info.epoch > before, "node {i} rolled the key");
        assert!(info.members.iter().all(|m| m.id != expelled), "node {i}");
    }
    assert_eq!(net.nodes[3].cluster(), None, "the expelled member knows");
    assert!(
        net.events
            .iter()
            .any(|(n, e)| *n == 3 && matches!(e, Event::RemovedFromCluster { .. }))
    );
    // Everything the others send from now on, handed to the expelled member: nothing opens,
    // and every frame is counted as one it could not open (not as unexpected).
    let (stats, after) = post_and_open_nothing_at(&mut net, 1, 3);
    assert_eq!(after.dropped.unexpected, stats.dropped.unexpected);
}

/// The table of `node` as (id, epoch key) pairs: two members on competing rollouts of one
/// epoch differ here, not in the epoch number.
fn keyed_table(net: &Net, node: usize) -> Vec<(peerster_core::ids::MemberId, Vec<u8>)> {
    let info = net.nodes[node].cluster().expect("a member");
    info.members
        .iter()
        .map(|m| (m.id, m.epoch_key.as_bytes().to_vec()))
        .collect()
}

#[test]
fn competing_rollouts_of_one_epoch_heal_once_the_two_sides_hear_each_other() {
    let config = Config {
        heartbeat_interval: Duration::from_secs(5),
        member_timeout: Duration::from_secs(120),
        rollout_interval: Duration::from_secs(20),
        rollout_timeout: Duration::from_secs(3),
        ..Config::default()
    };
    for seed in [31, 32, 33] {
        let mut net = common::settled_cluster(4, seed, config.clone());
        let epoch = net.nodes[0].cluster().unwrap().epoch;
        // Nodes 0 and 1 cannot reach nodes 2 and 3: when the epoch is due to roll, each side
        // rolls it on its own, every member still in (none silent yet), with different keys.
        let split = std::rc::Rc::new(std::cell::Cell::new(true));
        let (cut, addrs) = (split.clone(), net.addrs.clone());
        let side = move |a: std::net::SocketAddr| addrs.iter().position(|x| *x == a) < Some(2);
        net.hook = Box::new(move |f| {
            if cut.get() && side(f.from) != side(f.to) {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        for _ in 0..60 {
            net.run_for(Duration::from_secs(1));
            if (0..4).all(|i| net.nodes[i].cluster().unwrap().epoch > epoch) {
                break;
            }
        }
        let epochs: Vec<_> = (0..4)
            .map(|i| net.nodes[i].cluster().unwrap().epoch)
            .collect();
        assert!(
            epochs.iter().all(|e| *e == epoch.next()),
            "seed {seed}: {epochs:?}"
        );
        assert_eq!(keyed_table(&net, 0), keyed_table(&net, 1), "seed {seed}");
        assert_eq!(keyed_table(&net, 2), keyed_table(&net, 3), "seed {seed}");
        assert_ne!(
            keyed_table(&net, 0),
            keyed_table(&net, 2),
            "seed {seed}: a fork"
        );
        // The partition ends while both sides still hold the key they rolled out of: the
        // better-ranked rollout wins on both sides.
        split.set(false);
        net.run_for(Duration::from_secs(15));
        let reference = keyed_table(&net, 0);
        for i in 1..4 {
            assert_eq!(
                net.nodes[i].cluster().unwrap().epoch,
                net.nodes[0].cluster().unwrap().epoch,
                "seed {seed}, node {i}"
            );
            assert_eq!(keyed_table(&net, i), reference, "seed {seed}, node {i}");
        }
        assert_eq!(reference.len(), 4, "seed {seed}: nobody dropped");
    }
}
