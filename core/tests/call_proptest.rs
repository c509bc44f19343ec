//! Call invariants under random histories, in quinn-proto's manner: a seed and a random
//! sequence of calls, answers, declines, hang-ups, voice, loss and waits on a small
//! hand-wired cluster, then a quiet period. Whatever happened:
//!
//! - only the callee rings, once per call;
//! - voice reaches only the two ends of a connected call, each frame at most once, with the
//!   bytes its sender sent for that number;
//! - every call ends at both ends, once, by the end of the quiet period.
//!
//! `PROPTEST_CASES=N` runs more cases.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{Net, Verdict, settled_cluster};
use peerster_core::{CallId, CallOptions, CallState, Config, Event};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

const MEMBERS: usize = 5;

#[derive(Clone, Debug)]
enum Op {
    Call {
        from: usize,
        to: usize,
        sign: bool,
    },
    Answer {
        node: usize,
        pick: usize,
    },
    Decline {
        node: usize,
        pick: usize,
    },
    HangUp {
        node: usize,
        pick: usize,
    },
    /// The `pick`-th end of an active call, among all members, talks.
    Talk {
        pick: usize,
        frames: u8,
    },
    Loss {
        percent: u8,
    },
    Wait {
        ms: u16,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let node = 0..MEMBERS;
    prop_oneof![
        3 => (node.clone(), 0..MEMBERS, any::<bool>())
            .prop_map(|(from, to, sign)| Op::Call { from, to, sign }),
        4 => (node.clone(), 0..3usize).prop_map(|(node, pick)| Op::Answer { node, pick }),
        1 => (node.clone(), 0..3usize).prop_map(|(node, pick)| Op::Decline { node, pick }),
        1 => (node.clone(), 0..3usize).prop_map(|(node, pick)| Op::HangUp { node, pick }),
        4 => (0..8usize, 1..40u8).prop_map(|(pick, frames)| Op::Talk { pick, frames }),
        1 => (0..40u8).prop_map(|percent| Op::Loss { percent }),
        2 => (1..20_000u16).prop_map(|ms| Op::Wait { ms }),
    ]
}

/// The bytes end `node` sends as frame `seq` of `call`.
fn voice(call: &CallId, node: usize, seq: u32) -> Vec<u8> {
    let mut bytes = call[..8].to_vec();
    bytes.push(node as u8);
    bytes.extend_from_slice(&seq.to_be_bytes());
    bytes
}

/// The `pick`-th call of `node` (by id) in `state`, if any.
fn pick_call(net: &Net, node: usize, pick: usize, states: &[CallState]) -> Option<CallId> {
    let calls: Vec<CallId> = net.nodes[node]
        .calls()
        .into_iter()
        .filter(|c| states.contains(&c.state))
        .map(|c| c.call)
        .collect();
    (!calls.is_empty()).then(|| calls[pick % calls.len()])
}

fn run(seed: u64, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut net = settled_cluster(MEMBERS, seed, Config::default());
    let start_events = net.events.len();
    let loss = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let hook_loss = loss.clone();
    net.hook = Box::new(move |_| {
        if rng.next_u32() % 100 < hook_loss.get() {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    // Every call placed: its two ends.
    let mut ends: BTreeMap<CallId, (usize, usize)> = BTreeMap::new();
    for op in ops {
        let now = net.now;
        match *op {
            Op::Call { from, to, sign } => {
                let callee = net.nodes[to].id();
                if let Ok(call) = net.nodes[from].call(now, callee, CallOptions { sign }) {
                    prop_assert!(from != to);
                    ends.insert(call, (from, to));
                    // Long enough for the offer to ring, most of the time.
                    net.run_for(Duration::from_millis(300));
                }
            }
            Op::Answer { node, pick } => {
                if let Some(call) = pick_call(&net, node, pick, &[CallState::Incoming]) {
                    prop_assert!(net.nodes[node].answer_call(now, call).is_ok());
                }
            }
            Op::Decline { node, pick } => {
                if let Some(call) = pick_call(&net, node, pick, &[CallState::Incoming]) {
                    prop_assert!(net.nodes[node].decline_call(now, call).is_ok());
                }
            }
            Op::HangUp { node, pick } => {
                let any = [CallState::Incoming, CallState::Ringing, CallState::Active];
                if let Some(call) = pick_call(&net, node, pick, &any) {
                    prop_assert!(net.nodes[node].hang_up(now, call).is_ok());
                }
            }
            Op::Talk { pick, frames } => {
                let active: Vec<(usize, CallId)> = (0..MEMBERS)
                    .flat_map(|n| {
                        let calls = net.nodes[n].calls();
                        calls
                            .into_iter()
                            .filter(|c| c.state == CallState::Active)
                            .map(move |c| (n, c.call))
                    })
                    .collect();
                if let Some(&(node, call)) = active.get(pick % active.len().max(1)) {
                    for _ in 0..frames {
                        let now = net.now;
                        let seq = net.nodes[node]
                            .calls()
                            .iter()
                            .find(|c| c.call == call)
                            .map_or(0, |c| c.frames_sent);
                        let sent = net.nodes[node].send_voice(
                            now,
                            call,
                            seq * 960,
                            &voice(&call, node, seq),
                        );
                        if let Ok(numbered) = sent {
                            prop_assert_eq!(numbered, seq, "frames are numbered in order");
                        }
                        net.run_for(Duration::from_millis(20));
                    }
                }
            }
            Op::Loss { percent } => loss.set(u32::from(percent)),
            Op::Wait { ms } => net.run_for(Duration::from_millis(ms.into())),
        }
        net.run_for(Duration::from_millis(5));
    }
    // Quiet: no loss, no voice; every call ends (unanswered, or lost for silence).
    loss.set(0);
    net.run_for(Duration::from_secs(60));

    let mut rang: BTreeSet<CallId> = BTreeSet::new();
    let mut connected: BTreeSet<(usize, CallId)> = BTreeSet::new();
    let mut ended: BTreeSet<(usize, CallId)> = BTreeSet::new();
    let mut heard: BTreeSet<(usize, CallId, u32)> = BTreeSet::new();
    for (node, event) in &net.events[start_events..] {
        let node = *node;
        match event {
            Event::IncomingCall { call, .. } => {
                let &(_, callee) = ends
                    .get(call)
                    .ok_or_else(|| TestCaseError::fail("unknown call rang"))?;
                prop_assert_eq!(node, callee, "only the callee rings");
                prop_assert!(rang.insert(*call), "a call rang twice");
            }
            Event::CallConnected { call } => {
                let &(caller, callee) = ends
                    .get(call)
                    .ok_or_else(|| TestCaseError::fail("unknown call"))?;
                prop_assert!(node == caller || node == callee);
                prop_assert!(connected.insert((node, *call)), "connected twice");
            }
            Event::CallEnded { call, .. } => {
                prop_assert!(ends.contains_key(call));
                prop_assert!(ended.insert((node, *call)), "ended twice at node {}", node);
            }
            Event::VoiceFrame {
                call, seq, data, ..
            } => {
                let &(caller, callee) = ends
                    .get(call)
                    .ok_or_else(|| TestCaseError::fail("voice of an unknown call"))?;
                prop_assert!(
                    node == caller || node == callee,
                    "voice reached a third member"
                );
                prop_assert!(
                    connected.contains(&(node, *call)),
                    "voice before connecting"
                );
                let other = if node == caller { callee } else { caller };
                prop_assert_eq!(data, &voice(call, other, *seq), "the other end's frame");
                prop_assert!(heard.insert((node, *call, *seq)), "frame {} twice", seq);
            }
            _ => {}
        }
    }
    for (i, node) in net.nodes.iter().enumerate() {
        prop_assert!(
            node.calls().is_empty(),
            "node {} still has {:?}",
            i,
            node.calls()
        );
    }
    for (call, (caller, callee)) in &ends {
        prop_assert!(
            ended.contains(&(*caller, *call)),
            "the caller's end of a call ended"
        );
        if rang.contains(call) {
            prop_assert!(
                ended.contains(&(*callee, *call)),
                "the callee's end of a call ended"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn calls_keep_their_invariants_under_random_histories(
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 1..30),
    ) {
        run(seed, &ops)?;
    }
}
