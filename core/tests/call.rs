//! Anonymous calls on a handful of hand-wired members: setup, decline, hang-up, an unanswered
//! call, voice both ways through loss, what third members on the path can open, a key rollout
//! in the middle of a call, cover traffic, and refused commands. Calls with real audio, jitter
//! and loss across a whole cluster are in the simulator tests.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Net, Verdict, settled_cluster};
use peerster_core::ids::MemberId;
use peerster_core::wire::anon::{ANON_PACKET_LEN, TrafficClass};
use peerster_core::wire::cluster::{ClusterFrame, FrameBody};
use peerster_core::wire::{Packet, decode, decode_payload, frame};
use peerster_core::{CallEnd, CallId, CallOptions, CallState, CommandError, Config, Event};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

/// The call events of node `i`, in order.
fn call_events(net: &Net, i: usize) -> Vec<Event> {
    net.events
        .iter()
        .filter(|(n, e)| {
            *n == i
                && matches!(
                    e,
                    Event::IncomingCall { .. }
                        | Event::CallConnected { .. }
                        | Event::CallEnded { .. }
                )
        })
        .map(|(_, e)| e.clone())
        .collect()
}

/// The voice frames node `i` received: (seq, data).
fn frames(net: &Net, i: usize) -> Vec<(u32, Vec<u8>)> {
    net.events
        .iter()
        .filter_map(|(n, e)| match e {
            Event::VoiceFrame { seq, data, .. } if *n == i => Some((*seq, data.clone())),
            _ => None,
        })
        .collect()
}

/// Places a call from `caller` to `callee`, has it answered, and returns its id.
fn connected_call(net: &mut Net, caller: usize, callee: usize) -> CallId {
    let (now, to) = (net.now, net.nodes[callee].id());
    let call = net.nodes[caller]
        .call(now, to, CallOptions::default())
        .unwrap();
    net.run_for(Duration::from_millis(500));
    assert_eq!(
        call_events(net, callee),
        [Event::IncomingCall { call, from: None }]
    );
    let now = net.now;
    net.nodes[callee].answer_call(now, call).unwrap();
    net.run_for(Duration::from_millis(500));
    for i in [caller, callee] {
        assert!(
            call_events(net, i).contains(&Event::CallConnected { call }),
            "node {i}: {:?}",
            call_events(net, i)
        );
        let info = net.nodes[i].calls();
        assert_eq!(info.len(), 1);
        assert_eq!(info[0].state, CallState::Active);
    }
    call
}

/// Both ends send `count` frames, one every 20 ms; frame `k` of node `i` is `[i, k]` padded.
fn talk(net: &mut Net, call: CallId, ends: [usize; 2], count: u32) {
    for k in 0..count {
        for end in ends {
            let now = net.now;
            let data = voice_bytes(end, k);
            net.nodes[end]
                .send_voice(now, call, k * 960, &data)
                .unwrap();
        }
        net.run_for(Duration::from_millis(20));
    }
    net.run_for(Duration::from_secs(1));
}

fn voice_bytes(end: usize, k: u32) -> Vec<u8> {
    let mut data = vec![end as u8; 60];
    data[1..5].copy_from_slice(&k.to_be_bytes());
    data
}

fn assert_each_frame_once(net: &Net, from: usize, to: usize, count: u32, at_least: f64) {
    let got = frames(net, to);
    let mut seen = BTreeMap::new();
    for (seq, data) in &got {
        assert_eq!(data, &voice_bytes(from, *seq), "frame {seq} intact");
        assert!(
            seen.insert(*seq, ()).is_none(),
            "frame {seq} delivered twice"
        );
    }
    let ratio = seen.len() as f64 / f64::from(count);
    assert!(
        ratio >= at_least,
        "node {to} got {} of {count} frames",
        seen.len()
    );
}

#[test]
fn a_call_is_answered_carries_voice_both_ways_and_is_hung_up() {
    let mut net = settled_cluster(6, 1, Config::default());
    let call = connected_call(&mut net, 1, 4);
    talk(&mut net, call, [1, 4], 100);
    assert_each_frame_once(&net, 1, 4, 100, 1.0);
    assert_each_frame_once(&net, 4, 1, 100, 1.0);
    let now = net.now;
    net.nodes[1].hang_up(now, call).unwrap();
    net.run_for(Duration::from_secs(2));
    assert_eq!(
        call_events(&net, 1).last(),
        Some(&Event::CallEnded {
            call,
            reason: CallEnd::Local
        })
    );
    assert_eq!(
        call_events(&net, 4).last(),
        Some(&Event::CallEnded {
            call,
            reason: CallEnd::HungUp
        })
    );
    assert!(net.nodes[1].calls().is_empty() && net.nodes[4].calls().is_empty());
    // The others relayed the voice and heard nothing of the call.
    for i in [0, 2, 3, 5] {
        assert!(call_events(&net, i).is_empty(), "node {i}");
        let stats = net.nodes[i].stats();
        assert_eq!(stats.voice_frames_received, 0, "node {i}");
        assert_eq!(stats.anon_received, 0, "node {i}");
        assert!(stats.datagrams_sent > 200, "node {i} relayed: {stats:?}");
    }
    // Voice is not tried with epoch keys, and signals only a few times.
    assert!(net.nodes[0].stats().anon_trial_decryptions < 20);
}

#[test]
fn a_declined_call_ends_at_both_ends_and_a_signed_caller_is_named() {
    let mut net = settled_cluster(5, 2, Config::default());
    let (now, to) = (net.now, net.nodes[3].id());
    let call = net.nodes[0]
        .call(now, to, CallOptions { sign: true })
        .unwrap();
    net.run_for(Duration::from_millis(500));
    let caller = net.nodes[0].id();
    assert_eq!(
        call_events(&net, 3),
        [Event::IncomingCall {
            call,
            from: Some(caller)
        }]
    );
    assert_eq!(net.nodes[3].calls()[0].peer, Some(caller));
    let now = net.now;
    net.nodes[3].decline_call(now, call).unwrap();
    net.run_for(Duration::from_secs(2));
    assert_eq!(
        call_events(&net, 0),
        [Event::CallEnded {
            call,
            reason: CallEnd::Declined
        }]
    );
    let now = net.now;
    assert_eq!(
        net.nodes[3].answer_call(now, call),
        Err(CommandError::NoSuchCall)
    );
    // Signals travel as anonymous messages: acknowledged, but not reported as texts.
    assert!(
        !net.events
            .iter()
            .any(|(_, e)| matches!(e, Event::AnonDelivered { .. } | Event::AnonMessage { .. }))
    );
}

#[test]
fn an_unanswered_call_ends_at_both_ends_after_the_ring_timeout() {
    let mut net = settled_cluster(4, 3, Config::default());
    let (now, to) = (net.now, net.nodes[2].id());
    let call = net.nodes[1].call(now, to, CallOptions::default()).unwrap();
    net.run_for(Duration::from_secs(29));
    assert_eq!(net.nodes[1].calls()[0].state, CallState::Ringing);
    assert_eq!(net.nodes[2].calls()[0].state, CallState::Incoming);
    net.run_for(Duration::from_secs(3));
    // The caller gives up, and calls off the ring at the callee.
    let ended = |reason| Event::CallEnded { call, reason };
    assert_eq!(
        call_events(&net, 1).last(),
        Some(&ended(CallEnd::Unanswered))
    );
    assert_eq!(call_events(&net, 2).last(), Some(&ended(CallEnd::HungUp)));
    assert!(net.nodes[1].calls().is_empty() && net.nodes[2].calls().is_empty());
}

#[test]
fn an_incoming_call_the_caller_never_calls_off_ends_unanswered() {
    let mut net = settled_cluster(4, 3, Config::default());
    let (now, to) = (net.now, net.nodes[2].id());
    let call = net.nodes[1].call(now, to, CallOptions::default()).unwrap();
    net.run_for(Duration::from_secs(1));
    // The caller is gone before its ring runs out.
    let gone = net.addrs[1];
    net.hook = Box::new(move |f| {
        if f.from == gone {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    net.run_for(Duration::from_secs(31));
    assert_eq!(
        call_events(&net, 2).last(),
        Some(&Event::CallEnded {
            call,
            reason: CallEnd::Unanswered
        })
    );
}

#[test]
fn voice_crosses_ten_percent_loss_each_frame_once() {
    let mut net = settled_cluster(8, 4, Config::default());
    let call = connected_call(&mut net, 2, 6);
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    net.hook = Box::new(move |_| {
        if rng.next_u32() % 10 == 0 {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    talk(&mut net, call, [2, 6], 250);
    // Three copies per stem hop, a flood and two repeats of every frame in the next packets.
    assert_each_frame_once(&net, 2, 6, 250, 0.99);
    assert_each_frame_once(&net, 6, 2, 250, 0.99);
}

#[test]
fn relays_see_only_realtime_packets_of_one_size_and_open_none() {
    let mut net = settled_cluster(6, 5, Config::default());
    let call = connected_call(&mut net, 0, 5);
    let start = net.transcript.len();
    talk(&mut net, call, [0, 5], 20);
    let key = net.nodes[1].cluster_key().unwrap();
    let mut realtime = 0;
    let mut sizes = Vec::new();
    for flight in &net.transcript[start..] {
        let Ok(Packet::Sealed(sealed)) = decode(&flight.payload) else {
            continue;
        };
        let Ok(payload) = frame::open_frame(&key, &sealed) else {
            continue;
        };
        if let Ok(ClusterFrame {
            body: FrameBody::Anon(relay),
            ..
        }) = decode_payload::<ClusterFrame>(&payload)
        {
            assert_eq!(relay.packet.as_bytes().len(), ANON_PACKET_LEN);
            if relay.class == TrafficClass::Realtime {
                realtime += 1;
            }
            sizes.push(flight.payload.len());
        }
    }
    assert!(realtime > 40 * 3, "{realtime} voice relay frames");
    sizes.sort();
    sizes.dedup();
    // Voice, signals and acknowledgements: one datagram size.
    assert_eq!(sizes.len(), 1, "{sizes:?}");
    for i in 1..5 {
        assert_eq!(net.nodes[i].stats().voice_frames_received, 0);
        assert!(call_events(&net, i).is_empty());
    }
}

#[test]
fn a_call_goes_on_through_a_key_rollout() {
    let mut net = settled_cluster(6, 6, Config::default());
    let call = connected_call(&mut net, 1, 3);
    talk(&mut net, call, [1, 3], 50);
    let epoch = net.nodes[1].cluster().unwrap().epoch;
    // A member leaves mid-call: the cluster rolls its key at once.
    let now = net.now;
    net.nodes[5].leave_cluster(now).unwrap();
    talk(&mut net, call, [1, 3], 100);
    assert!(net.nodes[1].cluster().unwrap().epoch > epoch, "rolled over");
    assert_eq!(net.nodes[1].cluster().unwrap().members.len(), 5);
    let received = frames(&net, 3).len();
    assert!(
        received >= 148,
        "{received} of 150 frames across the rollout"
    );
    assert_eq!(net.nodes[3].calls()[0].state, CallState::Active);
}

#[test]
fn a_call_whose_other_end_goes_silent_is_ended_as_lost() {
    let mut net = settled_cluster(4, 7, Config::default());
    let call = connected_call(&mut net, 0, 2);
    talk(&mut net, call, [0, 2], 10);
    // Node 2 vanishes: nothing reaches it or leaves it any more.
    let gone = net.addrs[2];
    net.hook = Box::new(move |f| {
        if f.to == gone || f.from == gone {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    for k in 10..(16 * 50) {
        let now = net.now;
        let _ = net.nodes[0].send_voice(now, call, k * 960, &[1; 40]);
        net.run_for(Duration::from_millis(20));
    }
    assert_eq!(
        call_events(&net, 0).last(),
        Some(&Event::CallEnded {
            call,
            reason: CallEnd::Lost
        })
    );
}

#[test]
fn cover_traffic_keeps_the_realtime_rate_steady_whether_or_not_a_member_talks() {
    let config = Config {
        cover_rate: 50,
        ..Config::default()
    };
    let mut net = settled_cluster(4, 8, config);
    let before: Vec<u64> = net.nodes.iter().map(|n| n.stats().cover_sent).collect();
    net.run_for(Duration::from_secs(2));
    for (i, (node, before)) in net.nodes.iter().zip(before).enumerate() {
        let sent = node.stats().cover_sent - before;
        assert!(
            (95..=105).contains(&sent),
            "node {i} sent {sent} dummies in 2 s"
        );
    }
    let call = connected_call(&mut net, 0, 1);
    let before = net.nodes[0].stats();
    talk(&mut net, call, [0, 1], 50);
    let after = net.nodes[0].stats();
    // While it talks, its voice takes the place of the dummies (the last second is silent).
    let dummies = after.cover_sent - before.cover_sent;
    assert!(dummies <= 55, "{dummies} dummies while talking");
    // Every dummy reaches a member (in `anon_stem_copies` copies), which drops it; only those
    // still in flight are missing. Which members receive them depends on the stem successors
    // drawn, so the count is over the cluster.
    let copies = Config::default().anon_stem_copies as u64;
    let sent: u64 = net.nodes.iter().map(|n| n.stats().cover_sent).sum::<u64>() * copies;
    let received: u64 = net.nodes.iter().map(|n| n.stats().cover_received).sum();
    assert!(
        received <= sent && received * 100 >= sent * 95,
        "{received} of {sent} cover copies received"
    );
}

#[test]
fn call_commands_refuse_what_cannot_be() {
    let config = Config {
        max_calls: 1,
        ..Config::default()
    };
    let mut net = settled_cluster(4, 9, config);
    let now = net.now;
    let me = net.nodes[0].id();
    assert_eq!(
        net.nodes[0].call(now, me, CallOptions::default()),
        Err(CommandError::CallToSelf)
    );
    let stranger = MemberId([9; 16]);
    assert_eq!(
        net.nodes[0].call(now, stranger, CallOptions::default()),
        Err(CommandError::NotAMember { member: stranger })
    );
    assert_eq!(
        net.nodes[0].answer_call(now, [1; 16]),
        Err(CommandError::NoSuchCall)
    );
    let to = net.nodes[1].id();
    let call = net.nodes[0].call(now, to, CallOptions::default()).unwrap();
    assert_eq!(
        net.nodes[0].send_voice(now, call, 0, &[0; 10]),
        Err(CommandError::CallNotActive)
    );
    assert_eq!(
        net.nodes[0].answer_call(now, call),
        Err(CommandError::CallNotIncoming)
    );
    let to = net.nodes[2].id();
    assert_eq!(
        net.nodes[0].call(now, to, CallOptions::default()),
        Err(CommandError::TooManyCalls { max: 1 })
    );
    net.run_for(Duration::from_millis(500));
    let now = net.now;
    net.nodes[1].answer_call(now, call).unwrap();
    net.run_for(Duration::from_millis(500));
    let now = net.now;
    assert_eq!(
        net.nodes[0].send_voice(now, call, 0, &[0; 129]),
        Err(CommandError::VoiceFrameTooLong { len: 129, max: 128 })
    );
    assert!(net.nodes[0].send_voice(now, call, 0, &[0; 128]).is_ok());
    // A third member calling either end while it is busy is not rung through.
    let to = net.nodes[1].id();
    let now = net.now;
    let third = net.nodes[3].call(now, to, CallOptions::default()).unwrap();
    net.run_for(Duration::from_secs(1));
    assert!(!call_events(&net, 1).contains(&Event::IncomingCall {
        call: third,
        from: None
    }));
}

#[test]
fn voice_comes_back_after_an_outage_longer_than_the_packets_expected_ahead() {
    let mut net = settled_cluster(5, 10, Config::default());
    let call = connected_call(&mut net, 1, 3);
    talk(&mut net, call, [1, 3], 10);
    let before = frames(&net, 3).len();
    // Seven seconds in which nothing arrives anywhere: 350 packets, past the 256 expected.
    net.hook = Box::new(|_| Verdict::Drop);
    for k in 10..360 {
        let now = net.now;
        let _ = net.nodes[1].send_voice(now, call, k * 960, &voice_bytes(1, k));
        net.run_for(Duration::from_millis(20));
    }
    net.hook = Box::new(|_| Verdict::Deliver);
    for k in 360..410 {
        let now = net.now;
        net.nodes[1]
            .send_voice(now, call, k * 960, &voice_bytes(1, k))
            .unwrap();
        net.run_for(Duration::from_millis(20));
    }
    net.run_for(Duration::from_millis(500));
    let after: Vec<u32> = frames(&net, 3)[before..].iter().map(|(s, _)| *s).collect();
    assert!(
        (360..410).all(|k| after.contains(&k)),
        "frames after the outage: {after:?}"
    );
    assert_eq!(net.nodes[3].calls()[0].state, CallState::Active);
}
