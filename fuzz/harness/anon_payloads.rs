//! The `anon_payloads` target: any bytes into the decoders of anonymous relays, syncs,
//! payloads, messages and cluster frames, and packets into `open_anon`, sealed to and opened
//! with a fixed key.

use peerster_core::wire;

use super::anon_seal::{ANON_CLUSTER, anon_secret, seal_raw_anon};
use super::round_trip::payload_round_trip;
use super::util::fitted;

/// Any bytes into the decoders of anonymous traffic and into `open_anon`: never a panic, and
/// whatever decodes re-encodes to the same bytes (one encoding per payload). The first byte
/// picks what (`% 6`):
///
/// - 0, 1: an [`AnonRelay`] or an [`AnonSync`];
/// - 2: an [`AnonPayload`], which must also seal into one packet and open back exactly when
///   it fits the padded plaintext;
/// - 3: an [`AnonMessage`], which is within [`MAX_ANON_MESSAGE_BYTES`] and whose largest
///   fragment seals into one packet and opens back;
/// - 4: a [`ClusterFrame`], the frame that carries relays and syncs;
/// - 5: a packet (the bytes cut or zero-extended to 512) opened with a fixed secret; with bit
///   `0x10` set, the bytes are instead a detection tag and a padded plaintext sealed to that
///   secret, which must open to exactly what the plaintext decodes to.
///
/// With bit `0x10` set, a relay, sync or frame that decodes also goes through a sealed frame
/// of the smallest bucket that holds it and back.
///
/// [`AnonRelay`]: peerster_core::wire::anon::AnonRelay
/// [`AnonSync`]: peerster_core::wire::anon::AnonSync
/// [`AnonPayload`]: peerster_core::wire::anon::AnonPayload
/// [`AnonMessage`]: peerster_core::wire::anon::AnonMessage
/// [`MAX_ANON_MESSAGE_BYTES`]: peerster_core::wire::anon::MAX_ANON_MESSAGE_BYTES
/// [`ClusterFrame`]: peerster_core::wire::cluster::ClusterFrame
pub fn anon_payloads(data: &[u8]) {
    use peerster_core::wire::anon::{AnonRelay, AnonSync};
    use peerster_core::wire::cluster::ClusterFrame;

    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let seal = selector & 0x10 != 0;
    match selector % 6 {
        0 => payload_round_trip::<AnonRelay>(bytes, seal, false),
        1 => payload_round_trip::<AnonSync>(bytes, seal, false),
        2 => anon_payload(bytes),
        3 => anon_message(bytes),
        4 => payload_round_trip::<ClusterFrame>(bytes, seal, false),
        _ => anon_packet(bytes, seal),
    }
}

/// An anonymous payload that decodes re-encodes to its bytes, and seals (to the fixed secret)
/// into one packet that opens back to it, exactly when it fits the padded plaintext.
fn anon_payload(bytes: &[u8]) {
    use peerster_core::wire::anon::AnonPayload;

    let Ok(payload) = wire::decode_payload::<AnonPayload>(bytes) else {
        return;
    };
    payload_round_trip::<AnonPayload>(bytes, false, false);
    seal_and_open(&payload, bytes.len());
}

/// Seals `payload` (`encoded_len` bytes encoded) to the fixed secret: it seals exactly when it
/// fits the padded plaintext, into a packet with the tag asked for that only its recipient, in
/// its cluster, opens back to it.
fn seal_and_open(payload: &peerster_core::wire::anon::AnonPayload, encoded_len: usize) {
    use peerster_core::ids::ClusterId;
    use peerster_core::wire::DecodeError;
    use peerster_core::wire::anon::{
        ANON_PACKET_LEN, ANON_PLAINTEXT_LEN, AnonPacket, detection_tag, open_anon, seal_anon,
    };
    use peerster_core::wire::padding::LENGTH_PREFIX;
    use rand_core::SeedableRng;

    let secret = anon_secret();
    let public = secret.public();
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([0x47; 32]);
    let tag = detection_tag(&public, encoded_len as u32);
    let fits = encoded_len + LENGTH_PREFIX <= ANON_PLAINTEXT_LEN;
    let packet = match seal_anon(&mut rng, &public, ANON_CLUSTER, tag, payload) {
        Ok(packet) => packet,
        Err(error) => {
            assert!(
                !fits,
                "a payload of {encoded_len} bytes does not seal: {error}"
            );
            return;
        }
    };
    assert!(
        fits,
        "a payload of {encoded_len} bytes sealed into a packet"
    );
    assert_eq!(packet.as_bytes().len(), ANON_PACKET_LEN);
    assert_eq!(packet.tag(), tag);
    let opened = open_anon(secret, ANON_CLUSTER, &packet).expect("its recipient opens a packet");
    assert_eq!(&opened, payload);
    assert_eq!(
        open_anon(secret, ClusterId(ANON_CLUSTER.0 ^ 1), &packet),
        Err(DecodeError::Unauthenticated),
        "a packet opened in another cluster"
    );
    // The packet as the wire carries it, in a relay.
    let encoded = wire::encode_payload(&packet).expect("a packet encodes");
    let decoded = wire::decode_payload::<AnonPacket>(&encoded).expect("a packet decodes");
    assert_eq!(decoded, packet);
}

/// An anonymous message that decodes re-encodes to its bytes, is within the bound of a
/// message, is cut into no more than the most fragments, and its largest fragment seals into
/// one packet. Checking a signature it carries never panics.
fn anon_message(bytes: &[u8]) {
    use peerster_core::wire::anon::{
        ANON_FRAGMENT_BYTES, AnonMessage, AnonPayload, MAX_ANON_FRAGMENTS, MAX_ANON_MESSAGE_BYTES,
        signed_bytes,
    };
    use peerster_core::wire::fragment;

    let Ok(message) = wire::decode_payload::<AnonMessage>(bytes) else {
        return;
    };
    payload_round_trip::<AnonMessage>(bytes, false, false);
    assert!(
        bytes.len() <= MAX_ANON_MESSAGE_BYTES,
        "a message of {} bytes",
        bytes.len()
    );
    let id = [0x48; 16];
    let pieces = fragment::split(id, bytes, ANON_FRAGMENT_BYTES).expect("a message splits");
    assert!(pieces.len() <= MAX_ANON_FRAGMENTS);
    let largest = pieces
        .into_iter()
        .map(|piece| {
            let payload = AnonPayload::Fragment(piece);
            let len = wire::encode_payload(&payload)
                .expect("a fragment encodes")
                .len();
            (len, payload)
        })
        .max_by_key(|(len, _)| *len);
    if let Some((len, payload)) = largest {
        seal_and_open(&payload, len);
    }
    if let Some(signer) = &message.signer {
        let signed = signed_bytes(
            &anon_secret().public(),
            &id,
            &message.thread,
            &message.reply_key,
            &message.body,
        );
        let _ = signer.identity.verify(&signed, &signer.signature);
    }
}

/// A packet opened with the fixed secret: never a panic. Without `seal`, the bytes are the
/// packet; with it, they are a detection tag and a plaintext sealed to the secret, which opens
/// to what the plaintext decodes to (its padding removed), and only to that.
fn anon_packet(bytes: &[u8], seal: bool) {
    use peerster_core::wire::anon::{
        ANON_PACKET_LEN, ANON_PLAINTEXT_LEN, AnonPacket, AnonPayload, DETECTION_TAG_LEN, open_anon,
    };
    use peerster_core::wire::padding;
    use rand_core::SeedableRng;

    let secret = anon_secret();
    if !seal {
        // The bytes as the wire type, then as a packet's bytes.
        payload_round_trip::<AnonPacket>(bytes, false, false);
        let raw = fitted(bytes, ANON_PACKET_LEN);
        let packet = AnonPacket::from_bytes(&raw).expect("a packet's length");
        assert_eq!(&packet.as_bytes()[..], &raw[..]);
        if let Ok(payload) = open_anon(secret, ANON_CLUSTER, &packet) {
            let encoded = wire::encode_payload(&payload).expect("an opened payload encodes");
            assert!(encoded.len() + padding::LENGTH_PREFIX <= ANON_PLAINTEXT_LEN);
        }
        return;
    }
    let mut tag = [0u8; DETECTION_TAG_LEN];
    tag.copy_from_slice(&fitted(bytes, DETECTION_TAG_LEN));
    let plaintext = fitted(
        bytes.get(DETECTION_TAG_LEN..).unwrap_or_default(),
        ANON_PLAINTEXT_LEN,
    );
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([0x49; 32]);
    let packet = seal_raw_anon(&mut rng, &secret.public(), ANON_CLUSTER, tag, &plaintext)
        .expect("the fixed key seals");
    assert_eq!(packet.tag(), tag);
    let expected = padding::unpad(&plaintext)
        .ok()
        .and_then(|p| wire::decode_payload::<AnonPayload>(p).ok());
    assert_eq!(open_anon(secret, ANON_CLUSTER, &packet).ok(), expected);
}
