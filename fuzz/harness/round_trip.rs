//! The round trip every decodable payload must survive, shared by `cluster_payloads` and
//! `anon_payloads`: one encoding per payload, and (if asked) a sealed frame or join frame and
//! back.

use peerster_core::Config;
use peerster_core::wire::{self, MAX_DATAGRAM_SIZE};

/// Bytes that decode as a `T` re-encode to the same bytes and decode again to the same
/// value. With `seal`, they also go through a sealed frame (a join frame if `join`) of the
/// smallest bucket that holds them and back, or fail to seal if no bucket does.
pub(super) fn payload_round_trip<T>(bytes: &[u8], seal: bool, join: bool)
where
    T: serde::de::DeserializeOwned + serde::Serialize + core::fmt::Debug + PartialEq,
{
    use peerster_core::crypto::{ClusterKey, EpochSecret};
    use peerster_core::wire::{Packet, frame, join_frame};
    use rand_core::SeedableRng;

    let Ok(value) = wire::decode_payload::<T>(bytes) else {
        return;
    };
    let again = wire::encode_payload(&value).expect("a decoded payload re-encodes");
    assert_eq!(again, bytes, "two encodings of one payload: {value:?}");
    let twice = wire::decode_payload::<T>(&again).expect("a re-encoded payload decodes");
    assert_eq!(twice, value);
    if !seal {
        return;
    }
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([0x42; 32]);
    let buckets = Config::default().pad_buckets;
    if join {
        let secret = EpochSecret::from_bytes([0x43; 32]);
        let Some(bucket) = buckets
            .iter()
            .copied()
            .find(|&b| join_frame::payload_capacity(b) >= bytes.len())
        else {
            let largest = MAX_DATAGRAM_SIZE;
            assert!(join_frame::seal_join(&secret.public(), &mut rng, largest, bytes).is_err());
            return;
        };
        let datagram = join_frame::seal_join(&secret.public(), &mut rng, bucket, bytes)
            .expect("a payload within the bucket's capacity seals");
        assert_eq!(datagram.len(), bucket);
        let Ok(Packet::Join(sealed)) = wire::decode(&datagram) else {
            panic!("a join frame does not decode as one");
        };
        let opened = join_frame::open_join(&secret, &sealed).expect("the recipient opens it");
        assert_eq!(opened, bytes);
    } else {
        let key = ClusterKey::from_bytes([0x44; 32]);
        let Ok(bucket) = frame::smallest_bucket(&buckets, bytes.len()) else {
            assert!(frame::seal_frame(&key, &mut rng, MAX_DATAGRAM_SIZE, bytes).is_err());
            return;
        };
        let datagram = frame::seal_frame(&key, &mut rng, bucket, bytes)
            .expect("a payload within the bucket's capacity seals");
        assert_eq!(datagram.len(), bucket);
        let Ok(Packet::Sealed(sealed)) = wire::decode(&datagram) else {
            panic!("a sealed frame does not decode as one");
        };
        let opened = frame::open_frame(&key, &sealed).expect("the key opens it");
        assert_eq!(opened, bytes);
    }
}
