//! Call benchmark: what a voice frame costs the end that sends it and the end that receives
//! it, through real nodes of a hand-wired cluster, next to the bare primitives, in one
//! process.
//!
//! Run with `cargo bench -p peerster-core --bench call`. Sending a frame (number it, repeat the
//! two before it, seal the packet under the call key with a fresh X25519 public key in place
//! of HPKE's `enc`, put it on the stem in three copies) is compared with the bare calls it is
//! made of; so is receiving one (open the frame, suppress duplicates, find the packet by its
//! detection tag, open it, deliver the new frame, pass it on to six members).

use std::hint::black_box;
use std::time::Duration;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce};
use peerster_core::crypto::EpochSecret;
use peerster_core::wire::anon::{ANON_PLAINTEXT_LEN, AnonRelay, RelayPhase};
use peerster_core::wire::cluster::{ClusterFrame, FrameBody};
use peerster_core::wire::{Packet, decode, decode_payload, encode_payload, frame};
use peerster_core::{CallOptions, Config};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

mod harness;

use harness::cluster::Cluster;
use harness::frame_aead::FrameAead;
use harness::{Harness, Row, print_table};

/// An Opus frame of a 24 kbit/s call.
const FRAME_BYTES: usize = 60;

fn main() {
    let h = Harness::from_args();
    let mut rows = Vec::new();
    let mut rng = ChaCha20Rng::from_seed([2; 32]);

    // A call between nodes 1 and 2 of an eight-member cluster.
    let mut cluster = Cluster::new(8);
    let callee = cluster.nodes[2].id();
    let now = cluster.now;
    let call = cluster.nodes[1]
        .call(now, callee, CallOptions::default())
        .expect("call placed");
    cluster.settle();
    let now = cluster.now;
    cluster.nodes[2].answer_call(now, call).expect("call rings");
    cluster.settle();
    let opus = [0x5a; FRAME_BYTES];

    // ---- Sending a frame --------------------------------------------------------------------
    let mut timestamp = 0u32;
    let mut sent = 0u64;
    let send_ns = h.measure(|| {
        // A frame every 20 ms, as a call sends them.
        cluster.now += Duration::from_millis(20);
        timestamp = timestamp.wrapping_add(960);
        cluster.nodes[1]
            .send_voice(cluster.now, call, timestamp, black_box(&opus))
            .expect("connected");
        while let Some(t) = cluster.nodes[1].poll_transmit() {
            black_box(t);
            sent += 1;
        }
    });
    let copies = Config::default().anon_stem_copies;
    assert!(sent >= copies as u64, "frames went out");
    let aead = FrameAead::new();
    let voice_aead = ChaCha20Poly1305::new(&[7u8; 32].into());
    let padded = vec![0u8; ANON_PLAINTEXT_LEN];
    let frame_body = vec![0u8; 640 - 44];
    let send_bare_ns = h.measure(|| {
        let enc = EpochSecret::generate(&mut rng).public();
        let sealed = voice_aead
            .encrypt(
                &Nonce::from([0; 12]),
                Payload {
                    msg: black_box(&padded),
                    aad: enc.as_bytes(),
                },
            )
            .expect("seal");
        black_box(sealed);
        for _ in 0..copies {
            black_box(aead.seal(black_box(&frame_body)));
        }
    });
    rows.push(Row {
        name: "voice frame sent by an end",
        ours: send_ns,
        bare: Some((
            send_bare_ns,
            "X25519 public key + ChaCha20-Poly1305 448 B + 3 frame seals",
        )),
    });

    // ---- Receiving a frame ------------------------------------------------------------------
    // The caller's packets, as node 1 put them on its stem, handed to node 2 in the fluff.
    let key = cluster.nodes[1].cluster_key().expect("member");
    let info = cluster.nodes[1].cluster().expect("member");
    let count = if h.quick { 2_000 } else { 80_000 };
    let mut datagrams = Vec::with_capacity(count);
    let generated_from = cluster.now;
    while datagrams.len() < count {
        cluster.now += Duration::from_millis(20);
        timestamp = timestamp.wrapping_add(960);
        cluster.nodes[1]
            .send_voice(cluster.now, call, timestamp, &opus)
            .expect("connected");
        let mut first_copy = None;
        while let Some(t) = cluster.nodes[1].poll_transmit() {
            first_copy.get_or_insert(t.payload);
        }
        let Some(Ok(Packet::Sealed(sealed))) = first_copy.map(|p| decode(&p)) else {
            panic!("a voice frame went out");
        };
        let opened = frame::open_frame(&key, &sealed).expect("our key");
        let Ok(ClusterFrame {
            body: FrameBody::Anon(relay),
            ..
        }) = decode_payload::<ClusterFrame>(&opened)
        else {
            panic!("an anonymous relay frame");
        };
        let fluffed = encode_payload(&ClusterFrame {
            cluster: info.id,
            epoch: info.epoch,
            body: FrameBody::Anon(AnonRelay {
                phase: RelayPhase::Fluff { hops: 1 },
                ..relay
            }),
        })
        .expect("encode");
        let bucket =
            frame::smallest_bucket(&Config::default().pad_buckets, fluffed.len()).expect("fits");
        datagrams.push(frame::seal_frame(&key, &mut rng, bucket, &fluffed).expect("seal"));
    }
    let from = cluster.addrs[0];
    let before = cluster.nodes[2].stats();
    let mut next = 0usize;
    // The callee receives the packets on the same clock they were sent on.
    cluster.now = generated_from;
    let receive_ns = h.measure(|| {
        cluster.now += Duration::from_millis(20);
        let datagram = &datagrams[next % datagrams.len()];
        next += 1;
        cluster.nodes[2].handle_datagram(cluster.now, from, black_box(datagram));
        while cluster.nodes[2].poll_transmit().is_some() {}
        while cluster.nodes[2].poll_event().is_some() {}
    });
    let after = cluster.nodes[2].stats();
    assert!(next <= datagrams.len(), "every packet measured was new");
    let frames = after.voice_frames_received - before.voice_frames_received;
    assert!(
        frames >= next as u64,
        "every packet delivered a frame: {frames} of {next}"
    );
    let relayed = after.datagrams_sent - before.datagrams_sent;
    let per_packet = (relayed as f64 / next as f64).round() as usize;
    let sealed_padded = voice_aead
        .encrypt(
            &Nonce::from([0; 12]),
            Payload {
                msg: &padded,
                aad: &[0; 48],
            },
        )
        .expect("seal");
    let sealed_frame = aead.seal(&frame_body);
    let receive_bare_ns = h.measure(|| {
        let opened = aead.open(black_box(&sealed_frame));
        let voice = voice_aead
            .decrypt(
                &Nonce::from([0; 12]),
                Payload {
                    msg: black_box(&sealed_padded),
                    aad: &[0; 48],
                },
            )
            .expect("open");
        black_box(voice);
        for _ in 0..per_packet {
            black_box(aead.seal(&opened));
        }
    });
    rows.push(Row {
        name: "voice packet received by the callee",
        ours: receive_ns,
        bare: Some((
            receive_bare_ns,
            "open frame + ChaCha20-Poly1305 open 448 B + relay frame seals",
        )),
    });

    print_table("call", &rows, h.quick);
    println!(
        "a sent frame left in {} datagrams; the callee passed each packet on in {per_packet} frames",
        copies
    );
}
