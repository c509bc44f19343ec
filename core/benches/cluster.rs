//! Cluster benchmark: what a post and a heartbeat cost a node end to end, next to the bare
//! primitives they are made of, in one process.
//!
//! Run with `cargo bench -p peerster-core --bench cluster`. Two real nodes form a cluster;
//! each operation goes through the public `Node` API (encode, pad, seal, open, check,
//! deliver), and the baseline is the same signatures and AEAD calls made directly.

use std::hint::black_box;
use std::time::Duration;

use ed25519_dalek::{Signer, SigningKey, Verifier};
use peerster_core::Event;
use peerster_core::wire::cluster::{ClusterFrame, FrameBody};
use peerster_core::wire::{self, Packet, frame};

mod harness;

use harness::cluster::Cluster;
use harness::frame_aead::FrameAead;
use harness::{Harness, Row, print_table};

fn main() {
    let h = Harness::from_args();
    let mut rows = Vec::new();
    let mut pair = Cluster::new(2);
    let text = "x".repeat(200);

    // ---- A post: signed, sealed, flooded, opened, checked, delivered, relayed ---------------
    let now = pair.now;
    let post_ns = h.measure(|| {
        pair.nodes[0].post(now, black_box(&text)).expect("member");
        while let Some(t) = pair.nodes[0].poll_transmit() {
            pair.nodes[1].handle_datagram(now, pair.addrs[0], &t.payload);
        }
        let mut delivered = false;
        while let Some(event) = pair.nodes[1].poll_event() {
            delivered |= matches!(event, Event::Post { .. });
        }
        assert!(delivered);
        while pair.nodes[1].poll_transmit().is_some() {}
    });
    // The bare calls a post costs: the author signs and seals; the member opens, verifies
    // and seals again to relay.
    let signing = SigningKey::from_bytes(&[3; 32]);
    let verifying = signing.verifying_key();
    let aead = FrameAead::new();
    let frame = vec![0u8; 256 - 44];
    let bare_post_ns = h.measure(|| {
        let signature = signing.sign(black_box(text.as_bytes()));
        let sealed = aead.seal(&frame);
        let opened = aead.open(&sealed);
        verifying
            .verify(text.as_bytes(), &signature)
            .expect("valid");
        black_box(aead.seal(&opened));
    });
    rows.push(Row {
        name: "post of 200 B, author to member, relayed",
        ours: post_ns,
        bare: Some((bare_post_ns, "sign + seal + open + verify + seal")),
    });

    // ---- A heartbeat received: opened and its signature checked ------------------------------
    // Catch one of node 0's heartbeats to node 1 (the `test-hooks` feature, on for the
    // crate's benchmarks, gives the key to tell it from other frames).
    let mut heartbeat = None;
    for _ in 0..200 {
        pair.now += Duration::from_secs(1);
        let now = pair.now;
        pair.nodes[0].handle_timeout(now);
        let key = pair.nodes[0].cluster_key().expect("member");
        while let Some(t) = pair.nodes[0].poll_transmit() {
            let Ok(Packet::Sealed(sealed)) = wire::decode(&t.payload) else {
                continue;
            };
            let opened = frame::open_frame(&key, &sealed).expect("own frame");
            let frame: ClusterFrame = wire::decode_payload(&opened).expect("own frame");
            if matches!(frame.body, FrameBody::Heartbeat(_)) && heartbeat.is_none() {
                heartbeat = Some(t.payload);
            }
        }
        if heartbeat.is_some() {
            break;
        }
    }
    let heartbeat = heartbeat.expect("node 0 sends heartbeats");
    let now = pair.now;
    let from = pair.addrs[0];
    // The same heartbeat again and again: opened and verified each time, then refused as a
    // replay, which is what a heartbeat costs its receiver.
    let heartbeat_ns = h.measure(|| {
        pair.nodes[1].handle_datagram(now, from, black_box(&heartbeat));
    });
    let message = [7u8; 60];
    let signature = signing.sign(&message);
    let sealed = aead.seal(&frame);
    let bare_heartbeat_ns = h.measure(|| {
        black_box(aead.open(black_box(&sealed)));
        verifying.verify(&message, &signature).expect("valid");
    });
    rows.push(Row {
        name: "heartbeat received (open, verify, refuse replay)",
        ours: heartbeat_ns,
        bare: Some((bare_heartbeat_ns, "open 256 B + verify")),
    });

    print_table("cluster", &rows, h.quick);
}
