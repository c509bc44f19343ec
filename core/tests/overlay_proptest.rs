//! Protocol invariants under random histories, as quinn-proto's proptests do: a seed and a
//! random sequence of connects, announcements, restarts, loss bursts and waits; then a quiet
//! period, after which the overlay must be consistent.

mod common;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use common::{Net, Verdict};
use peerster_core::Config;
use proptest::prelude::*;

const NODES: usize = 6;

#[derive(Clone, Debug)]
enum Op {
    Connect(usize, usize),
    Announce(usize, u8),
    Restart(usize),
    /// Every link loses this many percent of datagrams from now on.
    Loss(u8),
    Wait(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..NODES, 0..NODES).prop_map(|(a, b)| Op::Connect(a, b)),
        (0..NODES, any::<u8>()).prop_map(|(a, n)| Op::Announce(a, n)),
        (0..NODES).prop_map(Op::Restart),
        (0u8..60).prop_map(Op::Loss),
        (0u8..30).prop_map(Op::Wait),
    ]
}

fn run(seed: u64, ops: &[Op]) -> Net {
    let mut net = Net::new(NODES, seed, Config::default());
    let loss = Rc::new(Cell::new(0u64));
    let mut state = seed | 1;
    let hook_loss = Rc::clone(&loss);
    net.hook = Box::new(move |_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if state % 100 < hook_loss.get() {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    for (k, op) in ops.iter().enumerate() {
        let now = net.now;
        match *op {
            Op::Connect(a, b) => {
                let to = net.addrs[b];
                net.nodes[a].connect(now, to);
            }
            Op::Announce(a, n) => {
                net.nodes[a].announce(now, &format!("{a}:{n}")).unwrap();
            }
            Op::Restart(a) => net.restart(a, k as u8),
            Op::Loss(p) => loss.set(u64::from(p)),
            Op::Wait(s) => net.run_for(Duration::from_secs(u64::from(s))),
        }
        net.run_for(Duration::from_millis(100));
    }
    // Quiet: no loss, everyone knows node 0, and time passes.
    loss.set(0);
    for i in 1..NODES {
        let now = net.now;
        let hub = net.addrs[0];
        net.nodes[i].connect(now, hub);
    }
    net.run_for(Duration::from_secs(180));
    net
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn overlay_is_consistent_after_any_history(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 1..24),
    ) {
        let net = run(seed, &ops);
        let config = Config::default();
        for (i, node) in net.nodes.iter().enumerate() {
            prop_assert!(node.peers().count() <= config.max_peers);
            prop_assert!(node.announcements().count() <= config.max_announcements);
            // Every peer entry is mutual and names the right identity.
            for (addr, peer) in node.peers() {
                let j = net.index(addr).expect("peers are nodes of the net");
                prop_assert_eq!(peer.identity, net.nodes[j].identity(), "node {} about {}", i, j);
                prop_assert!(
                    net.nodes[j].peer(&net.addrs[i]).is_some(),
                    "node {} lists {} but not the reverse", i, j
                );
            }
            prop_assert!(node.peers().count() >= 1, "node {} is alone", i);
        }
        // Gossip converged: for every origin, every node holds the same, newest, announcement.
        let mut newest: BTreeMap<_, u64> = BTreeMap::new();
        for node in &net.nodes {
            for a in node.announcements() {
                let seq = newest.entry(a.origin).or_default();
                *seq = (*seq).max(a.seq);
            }
        }
        for (i, node) in net.nodes.iter().enumerate() {
            let held: BTreeMap<_, u64> = node.announcements().map(|a| (a.origin, a.seq)).collect();
            prop_assert_eq!(&held, &newest, "node {} differs", i);
        }
    }
}
