//! Wire tests of anonymous packets: their one size, who can open them, detection tags, pinned
//! bytes of the relay header and sync, round trips and hostile input.

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::crypto::IdentityKey;
use crate::wire::cluster::{ClusterFrame, FrameBody};
use crate::wire::fragment;
use crate::wire::{decode_payload, encode_payload, frame};

const CLUSTER: ClusterId = ClusterId(0x0123_4567_89ab_cdef);

fn text_message(len: usize) -> AnonMessage {
    AnonMessage {
        thread: [7; 16],
        reply_key: EpochPublic([9; 32]),
        body: AnonBody::Text(BoundedBytes::new(vec![b'x'; len]).unwrap()),
        signer: Some(AnonSigner {
            identity: IdentityKey::from_secret_bytes([1; 32]).public(),
            signature: Signature([2; 64]),
        }),
    }
}

fn fragment_payload(len: usize) -> AnonPayload {
    AnonPayload::Fragment(Fragment {
        message: [3; 16],
        index: (MAX_ANON_FRAGMENTS - 1) as u16,
        count: MAX_ANON_FRAGMENTS as u16,
        bytes: BoundedBytes::new(vec![0xee; len]).unwrap(),
    })
}

#[test]
fn a_full_fragment_and_an_ack_fill_the_same_packet_size() {
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let secret = EpochSecret::generate(&mut rng);
    let full = fragment_payload(ANON_FRAGMENT_BYTES);
    let ack = AnonPayload::Ack(AnonAck { message: [4; 16] });
    for payload in [full, ack] {
        let packet = seal_anon(&mut rng, &secret.public(), CLUSTER, [0; 16], &payload).unwrap();
        assert_eq!(packet.as_bytes().len(), ANON_PACKET_LEN);
        assert_eq!(open_anon(&secret, CLUSTER, &packet).unwrap(), payload);
    }
    let too_long = fragment_payload(ANON_FRAGMENT_BYTES + 30);
    assert!(seal_anon(&mut rng, &secret.public(), CLUSTER, [0; 16], &too_long).is_err());
}

#[test]
fn the_longest_message_fits_its_fragments() {
    let encoded = encode_payload(&text_message(MAX_ANON_TEXT)).unwrap();
    assert!(encoded.len() <= MAX_ANON_MESSAGE_BYTES, "{}", encoded.len());
    let pieces = fragment::split([0; 16], &encoded, ANON_FRAGMENT_BYTES).unwrap();
    assert!(pieces.len() <= MAX_ANON_FRAGMENTS);
}

#[test]
fn only_the_recipient_of_its_cluster_opens_a_packet() {
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    let recipient = EpochSecret::generate(&mut rng);
    let other = EpochSecret::generate(&mut rng);
    let payload = AnonPayload::Ack(AnonAck { message: [5; 16] });
    let packet = seal_anon(&mut rng, &recipient.public(), CLUSTER, [6; 16], &payload).unwrap();
    assert_eq!(
        open_anon(&other, CLUSTER, &packet),
        Err(DecodeError::Unauthenticated)
    );
    assert_eq!(
        open_anon(&recipient, ClusterId(1), &packet),
        Err(DecodeError::Unauthenticated)
    );
    // The detection tag is bound to the ciphertext: changing it breaks the packet.
    let mut bytes = *packet.as_bytes();
    bytes[0] ^= 1;
    let retagged = AnonPacket::from_bytes(&bytes).unwrap();
    assert_eq!(
        open_anon(&recipient, CLUSTER, &retagged),
        Err(DecodeError::Unauthenticated)
    );
}

#[test]
fn detection_tags_differ_by_key_and_index() {
    let a = EpochPublic([1; 32]);
    let b = EpochPublic([2; 32]);
    assert_eq!(detection_tag(&a, 0), detection_tag(&a, 0));
    assert_ne!(detection_tag(&a, 0), detection_tag(&a, 1));
    assert_ne!(detection_tag(&a, 0), detection_tag(&b, 0));
}

#[test]
fn packets_of_different_senders_and_recipients_look_alike() {
    // Two senders, two recipients, an ack and a fragment: same length, and the only bytes in
    // clear (the detection tag, the encapsulated key) are fresh random values.
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let r1 = EpochSecret::generate(&mut rng);
    let r2 = EpochSecret::generate(&mut rng);
    let mut tag = [0u8; 16];
    rand_core::Rng::fill_bytes(&mut rng, &mut tag);
    let p1 = seal_anon(&mut rng, &r1.public(), CLUSTER, tag, &fragment_payload(10)).unwrap();
    rand_core::Rng::fill_bytes(&mut rng, &mut tag);
    let ack = AnonPayload::Ack(AnonAck { message: [1; 16] });
    let p2 = seal_anon(&mut rng, &r2.public(), CLUSTER, tag, &ack).unwrap();
    assert_eq!(p1.as_bytes().len(), p2.as_bytes().len());
    assert_ne!(p1.tag(), p2.tag());
    assert_ne!(p1.as_bytes()[16..48], p2.as_bytes()[16..48]);
    assert!(
        !p1.as_bytes()
            .windows(32)
            .any(|w| w == r1.public().as_bytes())
    );
}

fn relay_frame(phase: RelayPhase) -> ClusterFrame {
    let packet = AnonPacket::from_bytes(&[0x42; ANON_PACKET_LEN]).unwrap();
    ClusterFrame {
        cluster: CLUSTER,
        epoch: Epoch(7),
        body: FrameBody::Anon(AnonRelay {
            epoch: Epoch(6),
            phase,
            class: TrafficClass::Message,
            packet,
        }),
    }
}

#[test]
fn a_relay_frame_fits_one_bucket_whatever_its_phase() {
    let buckets = crate::Config::default().pad_buckets;
    let sizes: Vec<usize> = [
        RelayPhase::Stem { copy: 1 },
        RelayPhase::Fluff { hops: 255 },
        RelayPhase::Stored { ttl_s: u16::MAX },
    ]
    .into_iter()
    .map(|phase| {
        let payload = encode_payload(&relay_frame(phase)).unwrap();
        frame::smallest_bucket(&buckets, payload.len() + 20).unwrap()
    })
    .collect();
    assert!(sizes.iter().all(|&s| s == sizes[0]), "{sizes:?}");
}

#[test]
fn relay_header_and_sync_are_pinned() {
    let relay = encode_payload(&relay_frame(RelayPhase::Fluff { hops: 3 })).unwrap();
    // The packet's 512 bytes are all 0x42; pin the header around them.
    insta::assert_snapshot!(
        "anon_relay_header",
        format!(
            "{} .. {} ({} bytes)",
            hex::encode(&relay[..relay.len() - ANON_PACKET_LEN]),
            hex::encode(&relay[relay.len() - 4..]),
            relay.len()
        )
    );
    let sync = ClusterFrame {
        cluster: CLUSTER,
        epoch: Epoch(7),
        body: FrameBody::AnonSync(AnonSync {
            member: MemberId([8; 16]),
            total: 3,
            fingerprint: 0x0102_0304_0506_0708,
            from: 0,
            ids: BoundedVec::new(vec![1, 0xffff_ffff_ffff_ffff]).unwrap(),
            to_end: true,
            reply_wanted: false,
        }),
    };
    insta::assert_snapshot!("anon_sync", hex::encode(encode_payload(&sync).unwrap()));
    let message = encode_payload(&text_message(5)).unwrap();
    insta::assert_snapshot!("anon_message", hex::encode(message));
}

#[test]
fn a_packet_of_another_length_is_refused() {
    let mut relay = encode_payload(&relay_frame(RelayPhase::Stem { copy: 0 })).unwrap();
    // Shorten the packet's length varint by one and drop a byte: a 511-byte packet.
    let len_at = relay.len() - ANON_PACKET_LEN - 2;
    assert_eq!(relay[len_at..len_at + 2], [0x80, 0x04]);
    relay[len_at] = 0xff;
    relay[len_at + 1] = 0x03;
    relay.pop();
    assert!(decode_payload::<ClusterFrame>(&relay).is_err());
}

proptest! {
    #[test]
    fn payloads_round_trip_through_a_packet(
        seed in any::<[u8; 32]>(),
        len in 0..=ANON_FRAGMENT_BYTES,
        index in 0u16..8,
        message in any::<[u8; 16]>(),
        ack in any::<bool>(),
    ) {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let secret = EpochSecret::generate(&mut rng);
        let payload = if ack {
            AnonPayload::Ack(AnonAck { message })
        } else {
            AnonPayload::Fragment(Fragment {
                message,
                index,
                count: 8,
                bytes: BoundedBytes::new(vec![1; len]).unwrap(),
            })
        };
        let packet = seal_anon(&mut rng, &secret.public(), CLUSTER, [0; 16], &payload).unwrap();
        prop_assert_eq!(open_anon(&secret, CLUSTER, &packet).unwrap(), payload);
    }

    #[test]
    fn syncs_round_trip(ids in proptest::collection::vec(any::<u64>(), 0..=AnonSync::MAX), from in any::<u64>(), to_end in any::<bool>()) {
        let sync = AnonSync {
            member: MemberId([1; 16]),
            total: ids.len() as u32,
            fingerprint: ids.iter().fold(0, |a, b| a ^ b),
            from,
            ids: BoundedVec::new(ids).unwrap(),
            to_end,
            reply_wanted: true,
        };
        let bytes = encode_payload(&sync).unwrap();
        prop_assert_eq!(decode_payload::<AnonSync>(&bytes).unwrap(), sync);
    }

    #[test]
    fn opening_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), ANON_PACKET_LEN)) {
        let secret = EpochSecret::from_bytes([5; 32]);
        let packet = AnonPacket::from_bytes(&bytes).unwrap();
        prop_assert!(open_anon(&secret, CLUSTER, &packet).is_err());
    }
}
