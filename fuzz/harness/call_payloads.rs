//! The `call_payloads` target: any bytes into the decoders of call signals and voice payloads,
//! and packets into `open_voice` with fixed keys.

use peerster_core::wire;
use peerster_core::wire::anon::{ANON_PACKET_LEN, ANON_PLAINTEXT_LEN, AnonPacket};
use peerster_core::wire::call::{CallSignal, VoiceKeys, VoicePayload, open_voice, seal_voice};
use peerster_core::wire::padding::LENGTH_PREFIX;

use super::round_trip::payload_round_trip;
use super::util::fitted;

/// The keys every sealed voice packet of this target uses.
fn voice_keys() -> VoiceKeys {
    VoiceKeys {
        key: [0x51; 32],
        tag_key: [0x52; 32],
    }
}

/// Any bytes into the decoders of call traffic and into `open_voice`: never a panic, and
/// whatever decodes re-encodes to the same bytes. The first byte picks what (`% 3`):
///
/// - 0: a [`CallSignal`];
/// - 1: a [`VoicePayload`], which must also seal into one packet under the fixed keys and
///   open back, with its packet index (the next four bytes) and no other, exactly when it
///   fits the padded plaintext and carries a frame;
/// - 2: a packet (the bytes cut or zero-extended to 512) opened with the fixed keys at the
///   index in its first four bytes: whatever opens is a voice payload with at least a frame.
pub fn call_payloads(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => payload_round_trip::<CallSignal>(bytes, selector & 0x10 != 0, false),
        1 => voice_payload(bytes),
        _ => voice_packet(bytes),
    }
}

fn voice_payload(bytes: &[u8]) {
    use rand_core::SeedableRng;

    let (index, bytes) = match bytes.split_first_chunk::<4>() {
        Some((index, rest)) => (u32::from_be_bytes(*index), rest),
        None => (0, bytes),
    };
    let Ok(payload) = wire::decode_payload::<VoicePayload>(bytes) else {
        return;
    };
    payload_round_trip::<VoicePayload>(bytes, false, false);
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([0x53; 32]);
    let fits = bytes.len() + LENGTH_PREFIX <= ANON_PLAINTEXT_LEN;
    let keys = voice_keys();
    match seal_voice(&mut rng, &keys, index, &payload) {
        Ok(packet) => {
            assert!(fits, "an oversized voice payload sealed");
            assert_eq!(packet.as_bytes().len(), ANON_PACKET_LEN);
            assert_eq!(packet.tag(), keys.tag(index));
            match open_voice(&keys, index, &packet) {
                Ok(opened) => assert_eq!(opened, payload),
                Err(_) => assert!(payload.frames.is_empty(), "a sealed payload did not open"),
            }
            assert!(open_voice(&keys, index.wrapping_add(1), &packet).is_err());
        }
        Err(_) => assert!(!fits, "a voice payload that fits did not seal"),
    }
}

fn voice_packet(bytes: &[u8]) {
    let index = bytes
        .first_chunk::<4>()
        .map_or(0, |index| u32::from_be_bytes(*index));
    let Some(packet) = AnonPacket::from_bytes(&fitted(bytes, ANON_PACKET_LEN)) else {
        return;
    };
    if let Ok(payload) = open_voice(&voice_keys(), index, &packet) {
        assert!(!payload.frames.is_empty());
    }
}
