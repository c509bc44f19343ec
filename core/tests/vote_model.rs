//! A state-machine exploration of vote agreement on real nodes, with proptest and shrinking
//! (in the manner of quinn-proto's proptests): a cluster of 3 to 5 members, one of which may lie
//! as an authority, votes on expelling a member while proptest decides, step by step, which
//! datagram in flight is delivered next, which is lost, when time advances (timers fire) and
//! which member crashes. After the steps the network delivers everything in order until it is
//! quiet. The property: no two honest members apply different outcomes, and none applies one
//! the honest ballots do not give (all vote yes, so `Rejected` is wrong); and the vote ends, at
//! least at the proposer (node 0, which never crashes), while a majority of the members lives.
//! `PROPTEST_CASES=N` explores more orders.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Flight, settled_cluster};
use peerster_core::{Config, Event, VoteOutcome};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    /// Deliver the datagram at this position (modulo the number in flight).
    Deliver(usize),
    /// Lose it.
    Lose(usize),
    /// Let this many milliseconds pass, firing the timers that fall due.
    Wait(u16),
    /// Crash this member (modulo the members), never node 0, the proposer.
    Crash(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => any::<usize>().prop_map(Step::Deliver),
        2 => any::<usize>().prop_map(Step::Lose),
        3 => (1u16..3000).prop_map(Step::Wait),
        1 => any::<usize>().prop_map(Step::Crash),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24),
        ..ProptestConfig::default()
    })]

    #[test]
    fn honest_members_never_apply_different_outcomes(
        members in 3usize..=5,
        seed in any::<u64>(),
        liar in proptest::option::of(1usize..5),
        steps in proptest::collection::vec(step(), 1..120),
    ) {
        let mut net = settled_cluster(members, seed, Config::default());
        let liar = liar.filter(|&l| l < members - 1);
        if let Some(l) = liar {
            net.nodes[l].set_lying(true);
        }
        let subject = net.nodes[members - 1].id();
        let now = net.now;
        net.nodes[0].expel(now, subject).expect("a member");
        let mut crashed = vec![false; members];
        let mut pool: Vec<Flight> = Vec::new();
        let mut events: Vec<(usize, Event)> = Vec::new();
        let collect = |net: &mut common::Net, pool: &mut Vec<Flight>, events: &mut Vec<(usize, Event)>, crashed: &[bool]| {
            let now = net.now;
            for (i, (node, down)) in net.nodes.iter_mut().zip(crashed).enumerate() {
                let from = net.addrs[i];
                while let Some(t) = node.poll_transmit() {
                    if !down {
                        pool.push(Flight { deliver_at: now, from, to: t.destination, payload: t.payload });
                    }
                }
                while let Some(e) = node.poll_event() {
                    events.push((i, e));
                }
            }
        };
        for step in steps {
            collect(&mut net, &mut pool, &mut events, &crashed);
            match step {
                Step::Deliver(k) if !pool.is_empty() => {
                    let flight = pool.remove(k % pool.len());
                    if let Some(to) = net.index(flight.to).filter(|&t| !crashed[t]) {
                        let now = net.now;
                        net.nodes[to].handle_datagram(now, flight.from, &flight.payload);
                    }
                }
                Step::Lose(k) if !pool.is_empty() => {
                    pool.remove(k % pool.len());
                }
                Step::Wait(ms) => {
                    net.now += Duration::from_millis(u64::from(ms));
                    let now = net.now;
                    for (i, node) in net.nodes.iter_mut().enumerate() {
                        if !crashed[i] && node.poll_timeout().is_some_and(|t| t <= now) {
                            node.handle_timeout(now);
                        }
                    }
                }
                Step::Crash(k) => {
                    let victim = 1 + k % (members - 1);
                    crashed[victim] = true;
                }
                _ => {}
            }
        }
        // Then the network delivers everything in order until it is quiet.
        collect(&mut net, &mut pool, &mut events, &crashed);
        for flight in pool.drain(..) {
            net.in_flight.push_back(flight);
        }
        let crashed_addrs: Vec<_> = (0..members).filter(|&i| crashed[i]).map(|i| net.addrs[i]).collect();
        net.hook = Box::new(move |f| {
            if crashed_addrs.contains(&f.from) || crashed_addrs.contains(&f.to) {
                common::Verdict::Drop
            } else {
                common::Verdict::Deliver
            }
        });
        net.run_for(Duration::from_secs(900));
        events.append(&mut net.events);
        let mut applied: BTreeMap<usize, VoteOutcome> = BTreeMap::new();
        for (node, event) in &events {
            if let Event::VoteClosed { kind: peerster_core::wire::vote::ProposalKind::Expel { member }, outcome, .. } = event
                && *member == subject
            {
                // The last close of a node stands (a concurrent rollout may correct it).
                applied.insert(*node, *outcome);
            }
        }
        let honest: Vec<usize> = (0..members)
            .filter(|i| Some(*i) != liar && !crashed[*i] && *i != members - 1)
            .collect();
        let outcomes: Vec<VoteOutcome> = honest.iter().filter_map(|i| applied.get(i).copied()).collect();
        // A vote needs ballots from a majority of its electorate: with a majority crashed it
        // can neither decide nor fail (the others might be deciding elsewhere), and stays open.
        let live = crashed.iter().filter(|c| !**c).count();
        prop_assert!(
            applied.contains_key(&0) || live < members / 2 + 1,
            "the vote ended at the proposer: {:?}", applied
        );
        prop_assert!(outcomes.windows(2).all(|w| w[0] == w[1]), "honest members disagree: {:?}", applied);
        prop_assert!(!outcomes.contains(&VoteOutcome::Rejected), "a wrong outcome: {:?}", applied);
    }
}
