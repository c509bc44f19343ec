//! Same seed and same inputs give byte-identical outputs; another seed gives other bytes.

mod common;

use std::time::Duration;

use common::Net;
use peerster_core::Config;

/// One datagram as the network saw it: delivery time, sender, destination, bytes.
type Sent = (u64, String, String, Vec<u8>);

/// Runs four nodes that all connect to node 0 and to each other, for two simulated minutes,
/// and returns everything they sent and emitted.
fn run(seed: u64) -> (Vec<Sent>, Vec<String>) {
    let mut net = Net::new(4, seed, Config::default());
    for i in 1..4 {
        let now = net.now;
        let target = net.addrs[i - 1];
        net.nodes[i].connect(now, target);
    }
    net.run_for(Duration::from_secs(120));
    let transcript = net
        .transcript
        .iter()
        .map(|f| {
            (
                f.deliver_at.as_micros(),
                f.from.to_string(),
                f.to.to_string(),
                f.payload.clone(),
            )
        })
        .collect();
    let events = net
        .events
        .iter()
        .map(|(i, e)| format!("{i}:{e:?}"))
        .collect();
    (transcript, events)
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (t1, e1) = run(7);
    let (t2, e2) = run(7);
    assert!(
        t1.len() > 20,
        "the scenario must exchange traffic, got {}",
        t1.len()
    );
    assert!(
        e1.len() >= 6,
        "every link must be verified on both ends: {e1:?}"
    );
    assert_eq!(t1, t2, "same seed gave different datagrams");
    assert_eq!(e1, e2, "same seed gave different events");

    let (t3, _) = run(8);
    assert_ne!(t1, t3, "another seed must draw other nonces");
}
