//! Anonymous messages on a handful of hand-wired members: delivery to the recipient only,
//! acknowledgements, replies, signing, long messages, retries, what the wire shows, and hostile
//! relay input. Whole-cluster behaviour under loss is in the simulator tests.

mod common;

use std::time::Duration;

use common::{Net, Verdict, settled_cluster};
use peerster_core::ids::{Epoch, MemberId};
use peerster_core::wire::anon::{
    ANON_PACKET_LEN, AnonPacket, AnonRelay, MAX_ANON_TEXT, RelayPhase, TrafficClass,
};
use peerster_core::wire::cluster::{ClusterFrame, FrameBody};
use peerster_core::wire::{Packet, decode, decode_payload, encode_payload, frame};
use peerster_core::{AnonOptions, CommandError, Config, Event};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn anon_events(net: &Net, node: usize) -> Vec<Event> {
    net.events
        .iter()
        .filter(|(n, e)| {
            *n == node
                && matches!(
                    e,
                    Event::AnonMessage { .. }
                        | Event::AnonDelivered { .. }
                        | Event::AnonFailed { .. }
                )
        })
        .map(|(_, e)| e.clone())
        .collect()
}

fn received(net: &Net, node: usize) -> Vec<(String, Option<MemberId>)> {
    anon_events(net, node)
        .into_iter()
        .filter_map(|e| match e {
            Event::AnonMessage { text, from, .. } => Some((text, from)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_message_reaches_only_its_recipient_and_is_acknowledged() {
    let mut net = settled_cluster(8, 1, Config::default());
    let to = net.nodes[5].id();
    let now = net.now;
    let sent = net.nodes[2]
        .send_anonymous(now, to, "meet at noon", AnonOptions::default())
        .unwrap();
    net.run_for(Duration::from_secs(10));
    assert_eq!(received(&net, 5), [("meet at noon".to_string(), None)]);
    for i in (0..8).filter(|&i| i != 5) {
        assert!(received(&net, i).is_empty(), "node {i} opened nothing");
        assert_eq!(net.nodes[i].stats().anon_received, 0);
    }
    assert_eq!(
        anon_events(&net, 2),
        [Event::AnonDelivered {
            thread: sent.thread,
            message: sent.message
        }]
    );
    // Every other member tried to open it; the budget was never reached.
    for i in (0..8).filter(|&i| i != 2) {
        assert!(net.nodes[i].stats().anon_trial_decryptions >= 1, "node {i}");
        assert_eq!(net.nodes[i].stats().dropped.trial_budget, 0);
    }
}

#[test]
fn replies_travel_back_to_the_anonymous_sender_and_a_conversation_goes_on() {
    let mut net = settled_cluster(6, 2, Config::default());
    let to = net.nodes[4].id();
    let now = net.now;
    let sent = net.nodes[1]
        .send_anonymous(now, to, "who is this?", AnonOptions::default())
        .unwrap();
    net.run_for(Duration::from_secs(10));
    let thread = match &anon_events(&net, 4)[..] {
        [Event::AnonMessage { thread, .. }] => *thread,
        other => panic!("{other:?}"),
    };
    assert_eq!(thread, sent.thread);
    let now = net.now;
    net.nodes[4]
        .reply_anonymous(now, thread, "a friend", AnonOptions::default())
        .unwrap();
    net.run_for(Duration::from_secs(10));
    assert_eq!(received(&net, 1), [("a friend".to_string(), None)]);
    let now = net.now;
    net.nodes[1]
        .reply_anonymous(now, thread, "thanks", AnonOptions::default())
        .unwrap();
    net.run_for(Duration::from_secs(10));
    assert_eq!(
        received(&net, 4),
        [
            ("who is this?".to_string(), None),
            ("thanks".to_string(), None)
        ]
    );
    for i in [1, 4] {
        let acked = anon_events(&net, i)
            .iter()
            .filter(|e| matches!(e, Event::AnonDelivered { .. }))
            .count();
        assert_eq!(acked, if i == 1 { 2 } else { 1 }, "node {i}");
    }
    for i in [0, 2, 3, 5] {
        assert!(received(&net, i).is_empty(), "node {i}");
    }
    let now = net.now;
    assert_eq!(
        net.nodes[3].reply_anonymous(now, thread, "?", AnonOptions::default()),
        Err(CommandError::UnknownThread)
    );
}

#[test]
fn a_signed_message_names_its_sender_to_the_recipient_only() {
    let mut net = settled_cluster(5, 3, Config::default());
    let to = net.nodes[3].id();
    let now = net.now;
    net.nodes[1]
        .send_anonymous(now, to, "it's me", AnonOptions { sign: true })
        .unwrap();
    net.run_for(Duration::from_secs(10));
    assert_eq!(
        received(&net, 3),
        [("it's me".to_string(), Some(net.nodes[1].id()))]
    );
}

#[test]
fn a_long_message_arrives_whole_and_a_too_long_one_is_refused() {
    let mut net = settled_cluster(5, 4, Config::default());
    let to = net.nodes[2].id();
    let text: String = (0..MAX_ANON_TEXT)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let now = net.now;
    net.nodes[0]
        .send_anonymous(now, to, &text, AnonOptions::default())
        .unwrap();
    net.run_for(Duration::from_secs(10));
    assert_eq!(received(&net, 2), [(text.clone(), None)]);
    let now = net.now;
    assert_eq!(
        net.nodes[0].send_anonymous(now, to, &(text + "!"), AnonOptions::default()),
        Err(CommandError::MessageTooLong {
            len: MAX_ANON_TEXT + 1,
            max: MAX_ANON_TEXT
        })
    );
    let me = net.nodes[0].id();
    assert_eq!(
        net.nodes[0].send_anonymous(now, me, "hi", AnonOptions::default()),
        Err(CommandError::MessageToSelf)
    );
    assert!(matches!(
        net.nodes[0].send_anonymous(now, MemberId([9; 16]), "hi", AnonOptions::default()),
        Err(CommandError::NotAMember { .. })
    ));
}

#[test]
fn a_lost_first_send_is_retried_and_delivered_once() {
    let mut net = settled_cluster(6, 5, Config::default());
    let to = net.nodes[3].id();
    // Everything node 1 sends in the next two seconds is lost: its stem, and its own
    // embargo fluff if it fires that early.
    let cut_until = net.now + Duration::from_secs(2);
    let sender = net.addrs[1];
    let clock = std::rc::Rc::new(std::cell::Cell::new(net.now));
    let seen = clock.clone();
    net.hook = Box::new(move |flight| {
        seen.set(flight.deliver_at);
        if flight.from == sender && flight.deliver_at < cut_until {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    let now = net.now;
    net.nodes[1]
        .send_anonymous(now, to, "are you there?", AnonOptions::default())
        .unwrap();
    net.run_for(Duration::from_secs(40));
    assert!(clock.get() > cut_until);
    assert_eq!(received(&net, 3), [("are you there?".to_string(), None)]);
    let delivered = anon_events(&net, 1)
        .iter()
        .filter(|e| matches!(e, Event::AnonDelivered { .. }))
        .count();
    assert_eq!(delivered, 1);
    let stats = net.nodes[1].stats();
    assert!(
        stats.anon_retries + stats.anon_embargo_fluffs >= 1,
        "{stats:?}"
    );
}

/// The first anonymous frame node `from` sends after a command, opened with the cluster key.
fn first_relay_after(net: &Net, start: usize, from: usize) -> (usize, Vec<u8>, AnonRelay) {
    let key = net.nodes[from].cluster_key().unwrap();
    for flight in &net.transcript[start..] {
        if flight.from != net.addrs[from] {
            continue;
        }
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
            return (flight.payload.len(), flight.payload[..4].to_vec(), relay);
        }
    }
    panic!("node {from} sent no anonymous frame");
}

#[test]
fn packets_of_different_senders_to_different_recipients_look_the_same() {
    let mut net = settled_cluster(8, 6, Config::default());
    let start = net.transcript.len();
    let (a, b) = (net.nodes[5].id(), net.nodes[6].id());
    let now = net.now;
    net.nodes[1]
        .send_anonymous(now, a, "short", AnonOptions::default())
        .unwrap();
    net.run_for(Duration::from_millis(1));
    let first = first_relay_after(&net, start, 1);
    let start = net.transcript.len();
    let now = net.now;
    net.nodes[2]
        .send_anonymous(
            now,
            b,
            "a rather longer text than the other one",
            AnonOptions { sign: true },
        )
        .unwrap();
    net.run_for(Duration::from_millis(1));
    let second = first_relay_after(&net, start, 2);
    // On the wire: one size, one clear prefix (version, type, length); the rest is sealed.
    assert_eq!(first.0, second.0);
    assert_eq!(first.1, second.1);
    // To a member that opens the frame: the same header, a packet of the same size, and no
    // trace of sender or recipient in it.
    let (r1, r2) = (first.2, second.2);
    assert_eq!((r1.epoch, r1.phase), (r2.epoch, r2.phase));
    assert_eq!(r1.phase, RelayPhase::Stem { copy: 0 });
    for (relay, ids) in [(&r1, [net.nodes[1].id(), a]), (&r2, [net.nodes[2].id(), b])] {
        let bytes = relay.packet.as_bytes();
        assert_eq!(bytes.len(), ANON_PACKET_LEN);
        for id in ids {
            assert!(!bytes.windows(16).any(|w| w == id.0), "an id in clear");
        }
        for info in net.nodes[0].cluster().unwrap().members {
            assert!(
                !bytes.windows(32).any(|w| w == info.epoch_key.0),
                "a key in clear"
            );
        }
    }
}

/// Seals `relay` in a frame of node `at`'s cluster key.
fn relay_frame(net: &Net, at: usize, relay: AnonRelay) -> Vec<u8> {
    let info = net.nodes[at].cluster().unwrap();
    let key = net.nodes[at].cluster_key().unwrap();
    let payload = encode_payload(&ClusterFrame {
        cluster: info.id,
        epoch: info.epoch,
        body: FrameBody::Anon(relay),
    })
    .unwrap();
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let bucket = frame::smallest_bucket(&[256, 640, 1200], payload.len()).unwrap();
    frame::seal_frame(&key, &mut rng, bucket, &payload).unwrap()
}

#[test]
fn garbage_replays_past_epochs_and_excessive_hops_are_dropped_and_counted() {
    let mut net = settled_cluster(4, 7, Config::default());
    let epoch = net.nodes[2].cluster().unwrap().epoch;
    let garbage = |byte: u8| AnonPacket::from_bytes(&[byte; ANON_PACKET_LEN]).unwrap();
    let deliver = |net: &mut Net, relay: AnonRelay| {
        let datagram = relay_frame(net, 2, relay);
        let (now, from) = (net.now, net.addrs[1]);
        net.nodes[2].handle_datagram(now, from, &datagram);
    };
    let before = net.nodes[2].stats();
    let fluff = |byte, hops| AnonRelay {
        epoch,
        phase: RelayPhase::Fluff { hops },
        class: TrafficClass::Message,
        packet: garbage(byte),
    };
    deliver(&mut net, fluff(1, 0));
    deliver(&mut net, fluff(1, 0));
    deliver(&mut net, fluff(2, 200));
    deliver(
        &mut net,
        AnonRelay {
            epoch: Epoch(epoch.0.saturating_sub(3)),
            phase: RelayPhase::Stem { copy: 1 },
            class: TrafficClass::Message,
            packet: garbage(3),
        },
    );
    let after = net.nodes[2].stats();
    assert_eq!(after.dropped.duplicate - before.dropped.duplicate, 1);
    assert_eq!(after.dropped.hop_limit - before.dropped.hop_limit, 1);
    assert_eq!(after.dropped.stale - before.dropped.stale, 1);
    assert_eq!(
        after.anon_trial_decryptions - before.anon_trial_decryptions,
        1
    );
    assert_eq!(after.anon_received, 0);
    // The garbage that was new is relayed on like any packet (a relay cannot tell), once.
    net.run_for(Duration::from_secs(5));
    for i in 0..4 {
        assert_eq!(net.nodes[i].stats().anon_received, 0);
    }
}

#[test]
fn a_flood_of_packets_costs_at_most_the_trial_budget() {
    let config = Config {
        anon_trial_budget: 50,
        max_pending_trials: 20,
        ..Config::default()
    };
    let mut net = Net::new(1, 8, config);
    let now = net.now;
    net.nodes[0].create_cluster(now, None).unwrap();
    let epoch = net.nodes[0].cluster().unwrap().epoch;
    for i in 0..500u32 {
        let mut bytes = [0u8; ANON_PACKET_LEN];
        bytes[..4].copy_from_slice(&i.to_be_bytes());
        let relay = AnonRelay {
            epoch,
            phase: RelayPhase::Fluff { hops: 1 },
            class: TrafficClass::Message,
            packet: AnonPacket::from_bytes(&bytes).unwrap(),
        };
        let datagram = relay_frame(&net, 0, relay);
        let now = net.now;
        net.nodes[0].handle_datagram(now, common::addr(9), &datagram);
    }
    let stats = net.nodes[0].stats();
    // A full bucket of 50, then nothing more at this instant; the queue keeps the newest 20.
    assert_eq!(stats.anon_trial_decryptions, 50);
    assert_eq!(stats.dropped.trial_budget, 500 - 50 - 20);
    net.run_for(Duration::from_secs(2));
    assert_eq!(net.nodes[0].stats().anon_trial_decryptions, 70);
}

/// Test 4: a member removed by a rollout (it went silent) cannot open anonymous messages of
/// the new epoch even when it is handed every packet under the old key it still holds; a
/// message in flight to it fails cleanly, and new ones are refused.
#[test]
fn a_removed_member_opens_nothing_of_the_new_epoch() {
    let mut net = settled_cluster(5, 9, Config::default());
    let old_epoch = net.nodes[4].cluster().unwrap().epoch;
    // Node 4 is cut off: the others remove it, while it still holds cluster keys of its own
    // (it even rolls the key out of the others, whom it no longer hears).
    let silent = net.addrs[4];
    net.hook = Box::new(move |flight| {
        if flight.from == silent || flight.to == silent {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    let to_silent = net.nodes[4].id();
    let now = net.now;
    let in_flight = net.nodes[1]
        .send_anonymous(now, to_silent, "still there?", AnonOptions::default())
        .unwrap();
    net.run_for(Duration::from_secs(400));
    let epoch = net.nodes[0].cluster().unwrap().epoch;
    assert!(epoch > old_epoch);
    assert!(
        net.nodes[0]
            .cluster()
            .unwrap()
            .members
            .iter()
            .all(|m| m.id != to_silent),
        "node 4 was removed"
    );
    assert!(anon_events(&net, 1).iter().any(|e| matches!(
        e,
        Event::AnonFailed { message, .. } if *message == in_flight.message
    )));
    let now = net.now;
    assert!(matches!(
        net.nodes[1].send_anonymous(now, to_silent, "hi", AnonOptions::default()),
        Err(CommandError::NotAMember { .. })
    ));

    // New-epoch messages among the others; node 4 is handed every one of their packets, in
    // frames of the key it holds now.
    let (own_key, own) = (
        net.nodes[4].cluster_key().unwrap(),
        net.nodes[4].cluster().unwrap(),
    );
    let start = net.transcript.len();
    for (from, to) in [(1, 2), (2, 3), (3, 0)] {
        let (now, to) = (net.now, net.nodes[to].id());
        net.nodes[from]
            .send_anonymous(now, to, "new epoch", AnonOptions::default())
            .unwrap();
    }
    net.run_for(Duration::from_secs(5));
    let current_key = net.nodes[0].cluster_key().unwrap();
    let before = net.nodes[4].stats();
    let mut handed = 0;
    let mut seen = std::collections::BTreeSet::new();
    let flights: Vec<_> = net.transcript[start..].to_vec();
    for flight in flights {
        let Ok(Packet::Sealed(sealed)) = decode(&flight.payload) else {
            continue;
        };
        let Ok(payload) = frame::open_frame(&current_key, &sealed) else {
            continue;
        };
        let Ok(ClusterFrame {
            body: FrameBody::Anon(relay),
            ..
        }) = decode_payload::<ClusterFrame>(&payload)
        else {
            continue;
        };
        if !seen.insert(relay.packet.digest()) {
            continue;
        }
        let rewrapped = encode_payload(&ClusterFrame {
            cluster: own.id,
            epoch: own.epoch,
            body: FrameBody::Anon(AnonRelay {
                epoch: own.epoch,
                phase: RelayPhase::Fluff { hops: 1 },
                class: TrafficClass::Message,
                packet: relay.packet,
            }),
        })
        .unwrap();
        let mut rng = ChaCha20Rng::from_seed([handed as u8; 32]);
        let bucket = frame::smallest_bucket(&[256, 640, 1200], rewrapped.len()).unwrap();
        let datagram = frame::seal_frame(&own_key, &mut rng, bucket, &rewrapped).unwrap();
        let (now, from) = (net.now, net.addrs[0]);
        net.nodes[4].handle_datagram(now, from, &datagram);
        handed += 1;
    }
    let after = net.nodes[4].stats();
    assert!(handed >= 6, "messages and their acknowledgements: {handed}");
    assert_eq!(
        after.anon_trial_decryptions - before.anon_trial_decryptions,
        handed as u64,
        "node 4 tried every packet"
    );
    assert_eq!(after.anon_received, 0, "and opened none");
    assert_eq!(received(&net, 4), []);
}
