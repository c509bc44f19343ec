//! Stories of the node overlay: handshakes, liveness, and what a hostile network cannot do.

mod common;

use std::time::Duration;

use common::{Net, Verdict};
use peerster_core::wire::{self, Packet, Probe};
use peerster_core::{Config, Event, Timestamp};

fn verified_pairs(net: &Net) -> Vec<(usize, usize)> {
    net.events
        .iter()
        .filter_map(|(i, e)| match e {
            Event::PeerVerified { addr, .. } => Some((*i, net.index(*addr).unwrap())),
            _ => None,
        })
        .collect()
}

#[test]
fn two_nodes_verify_each_other_and_stay_alive() {
    let mut net = Net::new(2, 1, Config::default());
    let b = net.addrs[1];
    net.nodes[0].connect(Timestamp::ZERO, b);
    net.run_for(Duration::from_secs(1));
    assert_eq!(verified_pairs(&net), vec![(0, 1), (1, 0)]);
    assert_eq!(net.nodes[0].peer(&b).unwrap().id, net.nodes[1].id());

    // Ten minutes of keep-alives: nobody is lost.
    net.run_for(Duration::from_secs(600));
    assert!(
        !net.events
            .iter()
            .any(|(_, e)| matches!(e, Event::PeerLost { .. })),
        "{:?}",
        net.events
    );
    for node in &net.nodes {
        assert_eq!(node.peers().count(), 1);
        assert_eq!(node.stats().dropped, Default::default());
    }
}

#[test]
fn silent_peer_is_lost_after_the_timeout() {
    let config = Config::default();
    let mut net = Net::new(2, 2, config.clone());
    let b = net.addrs[1];
    net.nodes[0].connect(Timestamp::ZERO, b);
    net.run_for(Duration::from_secs(1));
    // From now on, node 1 is unreachable.
    net.hook = Box::new(move |f| {
        if f.to == b {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    let cut = net.now;
    net.run_for(config.peer_timeout * 2);
    let lost: Vec<_> = net
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::PeerLost { .. }))
        .collect();
    assert_eq!(lost.len(), 2, "both sides lose the other: {lost:?}");
    assert!(net.now - cut >= config.peer_timeout);
    assert_eq!(net.nodes[0].peers().count(), 0);
}

/// Pings each node sent since `since`.
fn pings_sent(net: &Net, since: Timestamp) -> Vec<usize> {
    let mut sent = vec![0; net.nodes.len()];
    for flight in net.transcript.iter().filter(|f| f.deliver_at >= since) {
        if let Ok(Packet::Ping(_)) = wire::decode(&flight.payload) {
            sent[net.index(flight.from).unwrap()] += 1;
        }
    }
    sent
}

#[test]
fn a_link_is_kept_alive_by_the_pings_of_one_end() {
    let config = Config::default();
    for seed in 0..4 {
        let mut net = Net::new(2, seed, config.clone());
        let b = net.addrs[1];
        net.nodes[0].connect(Timestamp::ZERO, b);
        // The first round of pings comes from both ends, before either has a pong to echo.
        net.run_for(config.keepalive_interval * 3);
        let since = net.now;
        net.run_for(config.keepalive_interval * 20);
        let mut pings = pings_sent(&net, since);
        // The end with the smaller member id pings, about once an interval; the other only
        // answers.
        if net.nodes[1].id() < net.nodes[0].id() {
            pings.reverse();
        }
        assert!((19..=21).contains(&pings[0]), "seed {seed}: {pings:?}");
        assert_eq!(pings[1], 0, "seed {seed}");
        assert!(
            !net.events
                .iter()
                .any(|(_, e)| matches!(e, Event::PeerLost { .. })),
            "seed {seed}"
        );
        for node in &net.nodes {
            let (_, peer) = node.peers().next().expect("still a peer");
            assert!(net.now - peer.last_heard <= config.keepalive_interval);
        }
    }
}

#[test]
fn when_the_pinging_end_falls_silent_the_other_pings_and_drops_it_despite_forged_pings() {
    let config = Config::default();
    let mut net = Net::new(2, 5, config.clone());
    let b = net.addrs[1];
    net.nodes[0].connect(Timestamp::ZERO, b);
    net.run_for(config.keepalive_interval * 3);
    let pinger = usize::from(net.nodes[1].id() < net.nodes[0].id());
    let (gone, other) = (net.addrs[pinger], 1 - pinger);
    // The pinging end vanishes. An attacker on the path keeps sending pings in its name, with
    // made-up echoes: they are answered, but they are no sign of life.
    net.hook = Box::new(move |f| {
        if f.from == gone || f.to == gone {
            Verdict::Drop
        } else {
            Verdict::Deliver
        }
    });
    let cut = net.now;
    let mut forged = 0u8;
    while net.now < cut + config.peer_timeout * 2 {
        forged = forged.wrapping_add(1);
        let probe = Probe {
            nonce: [forged; 8],
            echo: [forged; 8],
        };
        let ping = wire::encode(&Packet::Ping(probe)).unwrap();
        let now = net.now;
        net.nodes[other].handle_datagram(now, gone, &ping);
        net.run_for(Duration::from_secs(5));
    }
    let pings_after_cut = net
        .transcript
        .iter()
        .filter(|f| f.from == net.addrs[other] && f.deliver_at > cut)
        .filter(|f| matches!(wire::decode(&f.payload), Ok(Packet::Ping(_))))
        .count();
    assert!(
        pings_after_cut > 0,
        "the other end pinged once the pings stopped"
    );
    assert!(
        net.events.iter().any(
            |(i, e)| *i == other && matches!(e, Event::PeerLost { addr, .. } if *addr == gone)
        ),
        "{:?}",
        net.events
    );
    assert_eq!(net.nodes[other].peers().count(), 0);
}

#[test]
fn handshake_to_nobody_gives_up_after_its_attempts_then_retries_its_bootstrap() {
    let config = Config::default();
    let mut net = Net::new(1, 3, config.clone());
    let nobody = common::addr(99);
    net.nodes[0].connect(Timestamp::ZERO, nobody);
    net.run_for(Duration::from_secs(60));
    assert!(
        net.events
            .iter()
            .any(|(_, e)| matches!(e, Event::PeerUnreachable { addr } if *addr == nobody)),
        "no PeerUnreachable: {:?}",
        net.events
    );
    let hellos: Vec<_> = net.transcript.iter().filter(|f| f.to == nobody).collect();
    let first_round = &hellos[..config.handshake_attempts as usize];
    let round_span = first_round.last().unwrap().deliver_at - first_round[0].deliver_at;
    // Backoff: 1 + 2 + 4 s between the four tries of one round.
    assert_eq!(round_span, Duration::from_secs(7));
    // A user-given address is tried again after a round fails: a node whose only contact was
    // briefly down must not stay alone.
    assert!(hellos.len() > first_round.len(), "{} hellos", hellos.len());
}

#[test]
fn forged_signature_does_not_verify() {
    let mut net = Net::new(2, 4, Config::default());
    // Flip one bit of the signature in every HelloAck.
    net.hook = Box::new(|f| {
        if let Ok(Packet::HelloAck(_)) = wire::decode(&f.payload) {
            let last = f.payload.len() - 1;
            f.payload[last] ^= 1;
        }
        Verdict::Deliver
    });
    let b = net.addrs[1];
    net.nodes[0].connect(Timestamp::ZERO, b);
    net.run_for(Duration::from_secs(60));
    assert!(verified_pairs(&net).is_empty());
    let stats = net.nodes[0].stats();
    assert!(stats.dropped.bad_signature >= u64::from(Config::default().handshake_attempts));
    assert_eq!(net.nodes[0].peers().count(), 0);
}

#[test]
fn replayed_handshake_messages_are_refused() {
    let mut net = Net::new(2, 5, Config::default());
    let (a, b) = (net.addrs[0], net.addrs[1]);
    net.nodes[0].connect(Timestamp::ZERO, b);
    net.run_for(Duration::from_secs(1));
    let before = net.nodes[1].stats().handshakes_completed;
    // Replay every handshake datagram of the first exchange at both nodes.
    let replay: Vec<_> = net.transcript.clone();
    for f in &replay {
        let to = net.index(f.to).unwrap();
        let now = net.now;
        net.nodes[to].handle_datagram(now, f.from, &f.payload);
    }
    // The replayed Hello is answered (it may be a restarted peer) but cannot complete: its
    // confirmation was for the old nonce.
    assert_eq!(net.nodes[1].stats().handshakes_completed, before);
    assert!(net.nodes[1].stats().dropped.unexpected >= 1);
    assert!(
        net.nodes[0].stats().dropped.unexpected >= 1,
        "stale HelloAck refused"
    );
    let _ = a;
}

#[test]
fn unpadded_hello_and_strangers_pings_get_no_answer() {
    let mut net = Net::new(2, 6, Config::default());
    let (a, b) = (net.addrs[0], net.addrs[1]);
    net.nodes[0].connect(Timestamp::ZERO, b);
    let hello = net.nodes[0].poll_transmit().unwrap();
    let Ok(Packet::Hello(mut h)) = wire::decode(&hello.payload) else {
        panic!("first datagram is a Hello");
    };
    h.padding = Default::default();
    let short = wire::encode(&Packet::Hello(h)).unwrap();
    assert!(short.len() < hello.payload.len());
    net.nodes[1].handle_datagram(Timestamp::ZERO, a, &short);
    assert_eq!(net.nodes[1].poll_transmit(), None);
    assert_eq!(net.nodes[1].stats().dropped.unpadded_hello, 1);

    let probe = Probe {
        nonce: [9; 8],
        echo: [0; 8],
    };
    let ping = wire::encode(&Packet::Ping(probe)).unwrap();
    net.nodes[1].handle_datagram(Timestamp::ZERO, a, &ping);
    assert_eq!(net.nodes[1].poll_transmit(), None);
    assert_eq!(net.nodes[1].stats().dropped.unexpected, 1);

    // The padded Hello is answered with no more bytes than it carried.
    net.nodes[1].handle_datagram(Timestamp::ZERO, a, &hello.payload);
    let ack = net.nodes[1].poll_transmit().unwrap();
    assert!(ack.payload.len() <= hello.payload.len());
}

#[test]
fn peer_table_is_bounded() {
    let config = Config {
        max_peers: 3,
        ..Config::default()
    };
    let mut net = Net::new(6, 7, config);
    let hub = net.addrs[0];
    for i in 1..6 {
        net.nodes[i].connect(Timestamp::ZERO, hub);
    }
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.nodes[0].peers().count(), 3);
}

#[test]
fn garbage_is_counted_and_changes_nothing() {
    let mut net = Net::new(1, 8, Config::default());
    let deadline = net.nodes[0].poll_timeout();
    let from = common::addr(50);
    for len in [0usize, 1, 2, 7, 100, 1200, 1500] {
        let junk: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        net.nodes[0].handle_datagram(Timestamp::ZERO, from, &junk);
    }
    let stats = net.nodes[0].stats();
    assert_eq!(stats.datagrams_received, 7);
    assert_eq!(stats.dropped.malformed, 7);
    assert_eq!(net.nodes[0].poll_transmit(), None);
    assert_eq!(net.nodes[0].poll_timeout(), deadline);
}

#[test]
fn lost_confirmation_is_resent_until_the_answerer_knows_us() {
    let mut net = Net::new(2, 9, Config::default());
    let mut dropped = 0;
    net.hook = Box::new(move |f| match wire::decode(&f.payload) {
        Ok(Packet::HelloConfirm(_)) if dropped < 2 => {
            dropped += 1;
            Verdict::Drop
        }
        _ => Verdict::Deliver,
    });
    let b = net.addrs[1];
    net.nodes[0].connect(Timestamp::ZERO, b);
    net.run_for(Duration::from_secs(5));
    assert_eq!(
        net.nodes[1].peers().count(),
        1,
        "the third confirmation got through"
    );
    net.run_for(Duration::from_secs(300));
    assert!(
        !net.events
            .iter()
            .any(|(_, e)| matches!(e, Event::PeerLost { .. }))
    );
    assert_eq!(net.nodes[0].peers().count(), 1);
}

#[test]
fn pairs_under_ten_percent_loss_all_verify_and_stay() {
    for seed in 0..5u64 {
        let mut net = Net::new(10, seed, Config::default());
        // A deterministic pseudo-random 10 % loss per datagram.
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        net.hook = Box::new(move |_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if state % 10 == 0 {
                Verdict::Drop
            } else {
                Verdict::Deliver
            }
        });
        for i in (1..10).step_by(2) {
            let to = net.addrs[i - 1];
            net.nodes[i].connect(Timestamp::ZERO, to);
        }
        net.run_for(Duration::from_secs(600));
        let lost_or_unreachable: Vec<_> = net
            .events
            .iter()
            .filter(|(_, e)| !matches!(e, Event::PeerVerified { .. }))
            .collect();
        assert!(
            lost_or_unreachable.is_empty(),
            "seed {seed}: {lost_or_unreachable:?}"
        );
        for (i, node) in net.nodes.iter().enumerate() {
            assert_eq!(node.peers().count(), 1, "seed {seed}, node {i}");
        }
    }
}
