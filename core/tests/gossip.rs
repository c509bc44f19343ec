//! Stories of peer exchange and gossip: a node learns the others from one address, an
//! announcement reaches everyone, replays and forgeries are dropped, and a restarted node's
//! announcements win over its old ones.

mod common;

use std::time::Duration;

use common::{Net, Verdict};
use peerster_core::wire::{self, Packet};
use peerster_core::{Config, Event, Timestamp};

/// `n` nodes that all know only node 0.
fn star(n: usize, seed: u64, config: Config) -> Net {
    let mut net = Net::new(n, seed, config);
    let hub = net.addrs[0];
    for i in 1..n {
        net.nodes[i].connect(Timestamp::ZERO, hub);
    }
    net
}

fn announcements_seen(net: &Net, node: usize) -> Vec<(u64, String)> {
    net.events
        .iter()
        .filter(|(i, _)| *i == node)
        .filter_map(|(_, e)| match e {
            Event::Announcement { seq, body, .. } => Some((*seq, body.name()?.to_owned())),
            _ => None,
        })
        .collect()
}

#[test]
fn node_started_with_one_address_learns_the_others() {
    for seed in 0..3 {
        let config = Config::default();
        let target = config.target_peers;
        let mut net = star(12, seed, config);
        net.run_for(Duration::from_secs(30));
        for (i, node) in net.nodes.iter().enumerate() {
            assert!(
                node.peers().count() >= target,
                "seed {seed}: node {i} has {} peers",
                node.peers().count()
            );
        }
    }
}

#[test]
fn announcement_reaches_every_node_once() {
    let mut net = star(20, 1, Config::default());
    net.run_for(Duration::from_secs(10));
    let now = net.now;
    net.nodes[7].announce(now, "alice").unwrap();
    net.run_for(Duration::from_secs(10));
    for i in (0..20).filter(|&i| i != 7) {
        assert_eq!(
            announcements_seen(&net, i).len(),
            1,
            "node {i} must see alice once"
        );
        assert!(net.nodes[i].announcements().any(|a| a.seq == 1));
        let alice = net.nodes[i]
            .announcements()
            .find(|a| a.origin == net.nodes[7].identity())
            .unwrap();
        let peerster_core::wire::AnnouncementBody::Node { node_key, .. } = &alice.body;
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&7u64.to_le_bytes());
        let expected = peerster_core::crypto::IdentityKey::from_secret_bytes(id).node_key();
        assert_eq!(
            *node_key,
            expected.public(),
            "the announcement carries the node key"
        );
    }
    let duplicates: u64 = net.nodes.iter().map(|n| n.stats().dropped.duplicate).sum();
    assert!(
        duplicates > 0,
        "fanout makes some copies arrive twice; they must be dropped"
    );
}

#[test]
fn replayed_and_forged_rumors_are_dropped() {
    let mut net = star(4, 2, Config::default());
    net.run_for(Duration::from_secs(5));
    let now = net.now;
    net.nodes[1].announce(now, "bob").unwrap();
    net.run_for(Duration::from_secs(5));
    let rumor = net
        .transcript
        .iter()
        .find(|f| matches!(wire::decode(&f.payload), Ok(Packet::Rumor(_))))
        .cloned()
        .expect("the announcement travelled");
    let to = net.index(rumor.to).unwrap();
    let events_before = net.events.len();
    let dup_before = net.nodes[to].stats().dropped.duplicate;
    let now = net.now;
    net.nodes[to].handle_datagram(now, rumor.from, &rumor.payload);
    assert_eq!(net.nodes[to].stats().dropped.duplicate, dup_before + 1);

    // The same rumor with a higher sequence number, but the old signature: a forgery.
    let Ok(Packet::Rumor(mut forged)) = wire::decode(&rumor.payload) else {
        unreachable!()
    };
    forged.seq += 1;
    let bytes = wire::encode(&Packet::Rumor(forged)).unwrap();
    net.nodes[to].handle_datagram(now, rumor.from, &bytes);
    assert_eq!(net.nodes[to].stats().dropped.bad_signature, 1);
    net.run_for(Duration::from_secs(1));
    assert!(
        !net.events[events_before..]
            .iter()
            .any(|(_, e)| matches!(e, Event::Announcement { .. })),
        "neither replay nor forgery produced an event"
    );
}

#[test]
fn restarted_node_continues_after_its_old_sequence() {
    let mut net = star(6, 3, Config::default());
    net.run_for(Duration::from_secs(5));
    for name in ["v1", "v2", "v3"] {
        let now = net.now;
        net.nodes[2].announce(now, name).unwrap();
        net.run_for(Duration::from_secs(5));
    }
    // Node 2 restarts: it has forgotten its sequence and announces from 1 again.
    net.restart(2, 99);
    let hub = net.addrs[0];
    let now = net.now;
    net.nodes[2].connect(now, hub);
    net.nodes[2].announce(now, "after restart").unwrap();
    net.run_for(Duration::from_secs(30));
    for i in (0..6).filter(|&i| i != 2) {
        let newest = net.nodes[i]
            .announcements()
            .find(|a| a.origin == net.nodes[2].identity())
            .unwrap();
        assert_eq!(newest.seq, 4, "node {i}");
        assert_eq!(newest.body.name(), Some("after restart"), "node {i}");
    }
}

#[test]
fn every_announcement_reaches_every_node_under_loss() {
    for seed in 0..3u64 {
        let mut net = star(40, seed, Config::default());
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        net.hook = Box::new(move |_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if state % 100 < 20 {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        net.run_for(Duration::from_secs(30));
        for i in 0..40 {
            let now = net.now;
            net.nodes[i].announce(now, &format!("node {i}")).unwrap();
        }
        let start = net.now;
        let mut done = None;
        for _ in 0..120 {
            net.run_for(Duration::from_secs(1));
            if net.nodes.iter().all(|n| n.announcements().count() == 40) {
                done = Some(net.now - start);
                break;
            }
        }
        let spread = done.unwrap_or_else(|| {
            let counts: Vec<_> = net
                .nodes
                .iter()
                .map(|n| n.announcements().count())
                .collect();
            panic!("seed {seed}: not every node holds all 40 announcements: {counts:?}")
        });
        eprintln!("seed {seed}: 40 announcements reached 40 nodes at 20 % loss in {spread:?}");
    }
}

/// Statuses sent by node `i` whose delivery falls in `from..to`.
fn statuses_sent(net: &Net, i: usize, from: Timestamp, to: Timestamp) -> usize {
    net.transcript
        .iter()
        .filter(|f| f.from == net.addrs[i] && f.deliver_at >= from && f.deliver_at < to)
        .filter(|f| matches!(wire::decode(&f.payload), Ok(Packet::Status(_))))
        .count()
}

#[test]
fn status_exchanges_slow_down_while_nothing_changes_and_speed_up_on_a_change() {
    let config = Config::default();
    let (fast, idle) = (config.gossip_interval, config.gossip_idle_interval);
    let mut net = star(6, 4, config.clone());
    net.nodes[2].announce(Timestamp::ZERO, "bob").unwrap();
    net.run_for(Duration::from_secs(200));
    // From 100 s on, nothing has changed for longer than `gossip_idle_after`.
    let quiet = (Timestamp::from_secs(100), Timestamp::from_secs(200));
    let window = quiet.1 - quiet.0;
    for i in 0..6 {
        let sent = statuses_sent(&net, i, quiet.0, quiet.1);
        let at_idle_pace = (window.as_secs() / idle.as_secs()) as usize + 1;
        assert!(sent <= at_idle_pace, "node {i}: {sent} statuses while idle");
    }
    // A new announcement brings the fast pace back everywhere, and still reaches everyone.
    let now = net.now;
    net.nodes[4].announce(now, "carol").unwrap();
    net.run_for(Duration::from_secs(20));
    for i in 0..6 {
        let sent = statuses_sent(&net, i, now, net.now);
        assert!(
            sent as u64 >= 20 / fast.as_secs() / 2,
            "node {i}: only {sent} statuses after a change"
        );
        if i != 4 {
            assert!(
                announcements_seen(&net, i)
                    .iter()
                    .any(|(_, n)| n == "carol")
            );
        }
    }
}
