//! Anonymous packets sealed by hand, shared by `anon_payloads` and `cluster_member`: the
//! fixed cluster and key `anon_payloads` seals for, the HPKE `info` of a packet (checked
//! against core's), and sealing any plaintext as a packet's body.

/// The cluster `anon_payloads` seals its packets for.
pub(super) const ANON_CLUSTER: peerster_core::ids::ClusterId =
    peerster_core::ids::ClusterId(0x0123_4567_89ab_cdef);

/// The recipient key `anon_payloads` seals to and opens with.
pub(super) fn anon_secret() -> &'static peerster_core::crypto::EpochSecret {
    static SECRET: std::sync::OnceLock<peerster_core::crypto::EpochSecret> =
        std::sync::OnceLock::new();
    SECRET.get_or_init(|| peerster_core::crypto::EpochSecret::from_bytes([0x45; 32]))
}

/// The HPKE `info` of an anonymous packet of `cluster`, as `wire::anon` builds it (private
/// there): `"peerster/anon/v1" ‖ cluster id (big-endian)`. Checked against `seal_anon` on
/// first use, so a change in core fails loudly here rather than making the harness's raw
/// packets silently unopenable.
fn anon_info(cluster: peerster_core::ids::ClusterId) -> Vec<u8> {
    use peerster_core::wire::anon::{AnonAck, AnonPayload, seal_anon};
    use rand_core::SeedableRng;

    let info = |cluster: peerster_core::ids::ClusterId| {
        let mut info = b"peerster/anon/v1".to_vec();
        info.extend_from_slice(&cluster.0.to_be_bytes());
        info
    };
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        let secret = anon_secret();
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([0x46; 32]);
        let payload = AnonPayload::Ack(AnonAck { message: [1; 16] });
        let packet = seal_anon(&mut rng, &secret.public(), ANON_CLUSTER, [2; 16], &payload)
            .expect("an ack seals");
        let (tag, sealed) = packet.as_bytes().split_at(16);
        assert!(
            secret.open(&info(ANON_CLUSTER), tag, sealed).is_ok(),
            "the harness's copy of the anonymous packet `info` is out of date"
        );
    });
    info(cluster)
}

/// Seals `plaintext` (any bytes, not necessarily a padded payload) to `recipient` as the body
/// of an anonymous packet of `cluster` with detection tag `tag`, as `seal_anon` would seal a
/// padded payload. `None` if the plaintext is not [`ANON_PLAINTEXT_LEN`] bytes or the key has
/// low order.
///
/// [`ANON_PLAINTEXT_LEN`]: peerster_core::wire::anon::ANON_PLAINTEXT_LEN
pub(super) fn seal_raw_anon<R: rand_core::CryptoRng>(
    rng: &mut R,
    recipient: &peerster_core::crypto::EpochPublic,
    cluster: peerster_core::ids::ClusterId,
    tag: [u8; 16],
    plaintext: &[u8],
) -> Option<peerster_core::wire::anon::AnonPacket> {
    use peerster_core::crypto::seal_to;
    use peerster_core::wire::anon::{ANON_PLAINTEXT_LEN, AnonPacket};

    if plaintext.len() != ANON_PLAINTEXT_LEN {
        return None;
    }
    let sealed = seal_to(rng, recipient, &anon_info(cluster), &tag, plaintext).ok()?;
    let packet = AnonPacket::from_bytes(&[&tag[..], &sealed].concat());
    assert!(
        packet.is_some(),
        "a sealed plaintext fills exactly one packet"
    );
    packet
}
