//! Join frames: padded payloads HPKE-sealed to one node.
//!
//! A node outside a cluster shares no key with its members, so its join request is sealed to
//! the contact's node key ([`crate::crypto::IdentityKey::node_key`]) and the answer to the
//! fresh join key the request carried. Like a cluster frame, the datagram is exactly one of the
//! configured bucket sizes, and an observer sees only random-looking bytes between two
//! addresses.

use rand_core::CryptoRng;

use super::padding::{self, LENGTH_PREFIX};
use super::{BoundedBytes, DecodeError, EncodeError, Packet, SealedJoin};
use crate::crypto::{EpochPublic, EpochSecret, SEAL_OVERHEAD, seal_to};

/// HPKE `info` of every join frame.
const JOIN_INFO: &[u8] = b"peerster/join/v1";

/// Bytes a join frame adds to its padded plaintext: version, packet tag, a two-byte length
/// varint, then the HPKE encapsulated key and tag.
pub const JOIN_FRAME_OVERHEAD: usize = 1 + 1 + 2 + SEAL_OVERHEAD;

/// The largest payload a join datagram of `bucket` bytes carries.
pub const fn payload_capacity(bucket: usize) -> usize {
    bucket.saturating_sub(JOIN_FRAME_OVERHEAD + LENGTH_PREFIX)
}

/// Pads `payload` to fill a datagram of exactly `bucket` bytes, seals it to `recipient` and
/// returns the encoded datagram.
pub fn seal_join<R: CryptoRng + ?Sized>(
    recipient: &EpochPublic,
    rng: &mut R,
    bucket: usize,
    payload: &[u8],
) -> Result<Vec<u8>, EncodeError> {
    let capacity = payload_capacity(bucket);
    let padded =
        padding::pad(payload, capacity + LENGTH_PREFIX).ok_or(EncodeError::PayloadTooLarge {
            len: payload.len(),
            max: capacity,
        })?;
    let sealed = seal_to(rng, recipient, JOIN_INFO, b"", &padded)
        .map_err(|_| EncodeError::Serialize("join frame recipient key has low order".into()))?;
    let sealed = BoundedBytes::new(sealed).map_err(|s| EncodeError::Oversize {
        len: s.len(),
        max: super::MAX_DATAGRAM_SIZE,
    })?;
    super::encode(&Packet::Join(SealedJoin { sealed }))
}

/// Opens a join frame sealed to `secret` and returns its payload.
pub fn open_join(secret: &EpochSecret, frame: &SealedJoin) -> Result<Vec<u8>, DecodeError> {
    let padded = secret
        .open(JOIN_INFO, b"", &frame.sealed)
        .map_err(|_| DecodeError::Unauthenticated)?;
    padding::unpad(&padded).map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::wire::decode;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn open_datagram(secret: &EpochSecret, datagram: &[u8]) -> Result<Vec<u8>, DecodeError> {
        match decode(datagram)? {
            Packet::Join(frame) => open_join(secret, &frame),
            other => panic!("expected a join frame, got {}", other.kind()),
        }
    }

    #[test]
    fn every_bucket_gives_a_datagram_of_exactly_its_size() {
        let mut rng = ChaCha20Rng::from_seed([4; 32]);
        let secret = EpochSecret::generate(&mut rng);
        for bucket in Config::default().pad_buckets {
            for len in [0, 1, payload_capacity(bucket)] {
                let payload = vec![0x5a; len];
                let datagram = seal_join(&secret.public(), &mut rng, bucket, &payload).unwrap();
                assert_eq!(datagram.len(), bucket, "payload {len} in bucket {bucket}");
                assert_eq!(open_datagram(&secret, &datagram).unwrap(), payload);
            }
            let too_long = vec![0; payload_capacity(bucket) + 1];
            assert!(seal_join(&secret.public(), &mut rng, bucket, &too_long).is_err());
        }
    }

    #[test]
    fn only_the_recipient_opens_it() {
        let mut rng = ChaCha20Rng::from_seed([5; 32]);
        let secret = EpochSecret::generate(&mut rng);
        let other = EpochSecret::generate(&mut rng);
        let mut datagram = seal_join(&secret.public(), &mut rng, 256, b"let me in").unwrap();
        assert_eq!(
            open_datagram(&other, &datagram),
            Err(DecodeError::Unauthenticated)
        );
        let last = datagram.len() - 1;
        datagram[last] ^= 1;
        assert_eq!(
            open_datagram(&secret, &datagram),
            Err(DecodeError::Unauthenticated)
        );
    }
}
