//! Wire tests of call packets: one size with every other anonymous packet, who can open a
//! voice packet, pinned signal and voice encodings, round trips and hostile input.

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::ids::ClusterId;
use crate::wire::anon::{AnonBody, AnonMessage, seal_anon};
use crate::wire::{decode_payload, encode_payload};

fn keys(byte: u8) -> VoiceKeys {
    VoiceKeys {
        key: [byte; 32],
        tag_key: [byte ^ 0x55; 32],
    }
}

fn frame(seq: u32, len: usize) -> VoiceFrame {
    VoiceFrame {
        seq,
        timestamp: seq.wrapping_mul(960),
        data: BoundedBytes::new(vec![0xab; len]).unwrap(),
    }
}

fn full_payload() -> VoicePayload {
    let frames = (0..MAX_FRAMES_PER_PACKET as u32)
        .map(|i| frame(u32::MAX - i, MAX_VOICE_FRAME))
        .collect();
    VoicePayload {
        frames: BoundedVec::new(frames).unwrap(),
    }
}

#[test]
fn a_full_voice_packet_is_one_anonymous_packet_long_and_opens_only_with_its_keys_and_index() {
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let payload = full_payload();
    let packet = seal_voice(&mut rng, &keys(1), 7, &payload).unwrap();
    assert_eq!(packet.as_bytes().len(), ANON_PACKET_LEN);
    assert_eq!(packet.tag(), keys(1).tag(7));
    assert_eq!(open_voice(&keys(1), 7, &packet).unwrap(), payload);
    assert_eq!(
        open_voice(&keys(1), 8, &packet),
        Err(DecodeError::Unauthenticated)
    );
    assert_eq!(
        open_voice(&keys(2), 7, &packet),
        Err(DecodeError::Unauthenticated)
    );
    for at in [0, 20, 100, ANON_PACKET_LEN - 1] {
        let mut bytes = *packet.as_bytes();
        bytes[at] ^= 1;
        let tampered = AnonPacket::from_bytes(&bytes).unwrap();
        assert_eq!(
            open_voice(&keys(1), 7, &tampered),
            Err(DecodeError::Unauthenticated),
            "byte {at} flipped"
        );
    }
}

#[test]
fn voice_tags_differ_by_index_and_direction() {
    let a = keys(1);
    let b = keys(2);
    assert_ne!(a.tag(0), a.tag(1));
    assert_ne!(a.tag(0), b.tag(0));
    assert_eq!(a.tag(5), keys(1).tag(5));
}

#[test]
fn a_voice_packet_and_a_message_packet_share_their_layout() {
    // Both carry a real X25519 public key where HPKE's enc goes: its top bit is clear.
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    for index in 0..64 {
        let packet = seal_voice(&mut rng, &keys(3), index, &full_payload()).unwrap();
        assert_eq!(packet.as_bytes()[DETECTION_TAG_LEN + 31] & 0x80, 0);
    }
    let recipient = EpochSecret::generate(&mut rng).public();
    let message =
        crate::wire::anon::AnonPayload::Ack(crate::wire::anon::AnonAck { message: [1; 16] });
    let sealed = seal_anon(&mut rng, &recipient, ClusterId(1), [0; 16], &message).unwrap();
    assert_eq!(sealed.as_bytes().len(), ANON_PACKET_LEN);
}

#[test]
fn an_empty_or_oversized_payload_is_refused() {
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let empty = VoicePayload {
        frames: BoundedVec::default(),
    };
    let packet = seal_voice(&mut rng, &keys(1), 0, &empty).unwrap();
    assert_eq!(
        open_voice(&keys(1), 0, &packet),
        Err(DecodeError::Malformed)
    );
    assert!(BoundedBytes::<MAX_VOICE_FRAME>::new(vec![0; MAX_VOICE_FRAME + 1]).is_err());
    let too_many = vec![frame(0, 1); MAX_FRAMES_PER_PACKET + 1];
    assert!(BoundedVec::<VoiceFrame, MAX_FRAMES_PER_PACKET>::new(too_many).is_err());
}

#[test]
fn signals_and_voice_are_pinned() {
    let key = EpochPublic([9; 32]);
    for (name, signal) in [
        ("call_offer", CallSignal::Offer { key }),
        ("call_accept", CallSignal::Accept { key }),
        ("call_decline", CallSignal::Decline),
        ("call_hangup", CallSignal::Hangup),
    ] {
        let message = AnonMessage {
            thread: [7; 16],
            reply_key: EpochPublic([8; 32]),
            body: AnonBody::Call(signal),
            signer: None,
        };
        insta::assert_snapshot!(name, hex::encode(encode_payload(&message).unwrap()));
    }
    let voice = VoicePayload {
        frames: BoundedVec::new(vec![frame(2, 3), frame(1, 2)]).unwrap(),
    };
    insta::assert_snapshot!(
        "voice_payload",
        hex::encode(encode_payload(&voice).unwrap())
    );
}

proptest! {
    #[test]
    fn voice_payloads_round_trip_through_a_packet(
        seed in any::<[u8; 32]>(),
        index in any::<u32>(),
        lens in proptest::collection::vec(0..=MAX_VOICE_FRAME, 1..=MAX_FRAMES_PER_PACKET),
        seq in any::<u32>(),
    ) {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let frames = lens
            .iter()
            .enumerate()
            .map(|(i, &len)| frame(seq.wrapping_sub(i as u32) / 2, len))
            .collect();
        let payload = VoicePayload { frames: BoundedVec::new(frames).unwrap() };
        let packet = seal_voice(&mut rng, &keys(4), index, &payload).unwrap();
        prop_assert_eq!(open_voice(&keys(4), index, &packet).unwrap(), payload);
    }

    #[test]
    fn random_packets_never_open_and_random_payload_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), ANON_PACKET_LEN),
        payload in proptest::collection::vec(any::<u8>(), 0..600),
        index in any::<u32>(),
    ) {
        let packet = AnonPacket::from_bytes(&bytes).unwrap();
        prop_assert!(open_voice(&keys(5), index, &packet).is_err());
        let _ = decode_payload::<VoicePayload>(&payload);
        let _ = decode_payload::<CallSignal>(&payload);
    }
}
