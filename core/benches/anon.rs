//! Anonymous-message benchmark: what trial decryption costs (every member pays it for every
//! packet), and what a fluffed packet costs the member that relays it, next to the bare
//! primitives, in one process.
//!
//! Run with `cargo bench -p peerster-core --bench anon`. The trial decryption is compared with
//! the `hpke` crate's single-shot open of a packet of the same size; a relayed packet (a real
//! node: open the frame, suppress duplicates, trial-decrypt, store, pass on to six members) is
//! compared with the bare calls it is made of.

use std::hint::black_box;
use std::time::Duration;

use hpke::Deserializable;
use peerster_core::Config;
use peerster_core::crypto::EpochSecret;
use peerster_core::ids::ClusterId;
use peerster_core::wire::anon::{
    AnonAck, AnonPacket, AnonPayload, AnonRelay, RelayPhase, TrafficClass, open_anon, seal_anon,
};
use peerster_core::wire::cluster::{ClusterFrame, FrameBody};
use peerster_core::wire::{encode_payload, frame};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

mod harness;

use harness::cluster::Cluster;
use harness::frame_aead::FrameAead;
use harness::{Harness, Row, print_table};

type Kem = hpke::kem::X25519HkdfSha256;

fn main() {
    let h = Harness::from_args();
    let mut rows = Vec::new();
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let cluster_id = ClusterId(7);

    // ---- Trial decryption of a packet that is not for us: the common case -------------------
    let mine = EpochSecret::generate(&mut rng);
    let other = EpochSecret::generate(&mut rng);
    let ack = AnonPayload::Ack(AnonAck { message: [1; 16] });
    let packet = seal_anon(&mut rng, &other.public(), cluster_id, [0; 16], &ack).expect("seal");
    let trial_ns = h.measure(|| {
        assert!(open_anon(&mine, cluster_id, black_box(&packet)).is_err());
    });
    // The `hpke` crate opening the same packet with the same key: a single-shot open that
    // fails at the tag, as a trial decryption does.
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(&mine.secret_bytes()[..]).expect("key");
    let enc_bytes = &packet.as_bytes()[16..48];
    let ciphertext = packet.as_bytes()[48..].to_vec();
    let hpke_ns = h.measure(|| {
        let encapped =
            <Kem as hpke::Kem>::EncappedKey::from_bytes(black_box(enc_bytes)).expect("point");
        let opened =
            hpke::single_shot_open::<hpke::aead::ChaCha20Poly1305, hpke::kdf::HkdfSha256, Kem>(
                &hpke::OpModeR::Base,
                &sk,
                &encapped,
                b"peerster/anon/v1\0\0\0\0\0\0\0\x07",
                black_box(&ciphertext),
                &[0; 16],
            );
        assert!(opened.is_err());
    });
    rows.push(Row {
        name: "trial decryption, packet not for us",
        ours: trial_ns,
        bare: Some((hpke_ns, "hpke crate single-shot open, same size")),
    });

    // ---- A fluffed packet arriving at a member that is not its recipient --------------------
    let mut cluster = Cluster::new(8);
    let info = cluster.nodes[1].cluster().expect("member");
    let key = cluster.nodes[1].cluster_key().expect("member");
    let recipient = info
        .members
        .iter()
        .find(|m| m.id == cluster.nodes[2].id())
        .unwrap();
    let count = if h.quick { 2_000 } else { 40_000 };
    let datagrams: Vec<Vec<u8>> = (0..count)
        .map(|i: u32| {
            let payload = AnonPayload::Ack(AnonAck {
                message: [i as u8; 16],
            });
            let packet: AnonPacket =
                seal_anon(&mut rng, &recipient.epoch_key, info.id, [0; 16], &payload)
                    .expect("seal");
            let frame_payload = encode_payload(&ClusterFrame {
                cluster: info.id,
                epoch: info.epoch,
                body: FrameBody::Anon(AnonRelay {
                    epoch: info.epoch,
                    phase: RelayPhase::Fluff { hops: 1 },
                    class: TrafficClass::Message,
                    packet,
                }),
            })
            .expect("encode");
            let bucket =
                frame::smallest_bucket(&Config::default().pad_buckets, frame_payload.len())
                    .expect("fits");
            frame::seal_frame(&key, &mut rng, bucket, &frame_payload).expect("seal")
        })
        .collect();
    let from = cluster.addrs[0];
    let mut next = 0usize;
    let before = cluster.nodes[1].stats();
    let relay_ns = h.measure(|| {
        // A millisecond per packet keeps the trial budget (2000/s) from deferring trials.
        cluster.now += Duration::from_millis(1);
        let datagram = &datagrams[next % datagrams.len()];
        next += 1;
        cluster.nodes[1].handle_datagram(cluster.now, from, black_box(datagram));
        while cluster.nodes[1].poll_transmit().is_some() {}
    });
    let after = cluster.nodes[1].stats();
    assert!(next <= datagrams.len(), "every packet measured was new");
    assert_eq!(
        after.anon_trial_decryptions - before.anon_trial_decryptions,
        next as u64,
        "every packet was tried"
    );
    let sent = after.datagrams_sent - before.datagrams_sent;
    // The bare calls: open the frame, one trial decryption, seal a frame per member relayed to.
    let aead = FrameAead::new();
    let body = vec![0u8; 640 - 44];
    let sealed = aead.seal(&body);
    let per_packet = (sent as f64 / next as f64).round() as usize;
    let bare_ns = h.measure(|| {
        let opened = aead.open(black_box(&sealed));
        assert!(open_anon(&mine, cluster_id, black_box(&packet)).is_err());
        for _ in 0..per_packet {
            black_box(aead.seal(&opened));
        }
    });
    rows.push(Row {
        name: "fluffed packet relayed by a non-recipient",
        ours: relay_ns,
        bare: Some((
            bare_ns,
            "open frame + trial + seal one frame per member relayed to",
        )),
    });

    print_table("anonymous message", &rows, h.quick);
    println!(
        "trial decryptions per second per core: {:.0}; a relay passed each packet on in {per_packet} frames",
        1e9 / trial_ns
    );
}
