//! Cluster frames: padded payloads sealed under the cluster key.
//!
//! Everything members send each other travels as a [`Packet::Sealed`] whose datagram is
//! exactly one of the configured bucket sizes. The payload (whatever a sub-protocol encoded)
//! is padded with [`super::padding`] to fill the bucket, then sealed with a fresh random nonce,
//! so two frames in one bucket differ on the wire only in random-looking bytes.

use rand_core::CryptoRng;

use super::padding::{self, LENGTH_PREFIX};
use super::{BoundedBytes, DecodeError, EncodeError, Packet, SealedFrame};
use crate::config::Config;
use crate::crypto::{ClusterKey, cluster_aead};

/// Associated data bound into every frame's AEAD, so a frame cannot be taken for another
/// use of the cluster key.
const FRAME_AAD: &[u8] = b"peerster/frame/v1";

/// Bytes a frame adds to its padded plaintext: version, packet tag, a two-byte length varint,
/// then the AEAD nonce and tag.
pub const FRAME_OVERHEAD: usize = 1 + 1 + 2 + cluster_aead::OVERHEAD;

/// The largest payload a datagram of `bucket` bytes carries.
pub const fn payload_capacity(bucket: usize) -> usize {
    bucket.saturating_sub(FRAME_OVERHEAD + LENGTH_PREFIX)
}

/// The smallest of `buckets` (sorted ascending) that holds a payload of `len` bytes.
pub fn smallest_bucket(buckets: &[usize], len: usize) -> Result<usize, EncodeError> {
    buckets
        .iter()
        .copied()
        .find(|&bucket| payload_capacity(bucket) >= len)
        .ok_or(EncodeError::PayloadTooLarge {
            len,
            max: buckets.last().map_or(0, |&b| payload_capacity(b)),
        })
}

/// Pads `payload` to fill a datagram of exactly `bucket` bytes, seals it under `key` and
/// returns the encoded datagram.
pub fn seal_frame<R: CryptoRng + ?Sized>(
    key: &ClusterKey,
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
    let sealed = key.seal(rng, FRAME_AAD, &padded);
    let sealed = BoundedBytes::new(sealed).map_err(|s| EncodeError::Oversize {
        len: s.len(),
        max: super::MAX_DATAGRAM_SIZE,
    })?;
    let packet = Packet::Sealed(SealedFrame { sealed });
    let datagram = super::encode_into(&packet, Vec::with_capacity(bucket))?;
    debug_assert!(
        datagram.len() == bucket || bucket < Config::MIN_PAD_BUCKET,
        "frame of {} bytes for bucket {bucket}",
        datagram.len()
    );
    Ok(datagram)
}

/// Opens a frame sealed under `key` and returns its payload.
pub fn open_frame(key: &ClusterKey, frame: &SealedFrame) -> Result<Vec<u8>, DecodeError> {
    let padded = key
        .open(FRAME_AAD, &frame.sealed)
        .map_err(|_| DecodeError::Unauthenticated)?;
    padding::unpad(&padded).map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::decode;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn open_datagram(key: &ClusterKey, datagram: &[u8]) -> Result<Vec<u8>, DecodeError> {
        match decode(datagram)? {
            Packet::Sealed(frame) => open_frame(key, &frame),
            other => panic!("expected a sealed frame, got {}", other.kind()),
        }
    }

    #[test]
    fn every_bucket_gives_a_datagram_of_exactly_its_size() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let key = ClusterKey::generate(&mut rng);
        for bucket in [Config::MIN_PAD_BUCKET, 256, 640, 1200] {
            for len in [0, 1, payload_capacity(bucket)] {
                let payload = vec![0xa5; len];
                let datagram = seal_frame(&key, &mut rng, bucket, &payload).unwrap();
                assert_eq!(datagram.len(), bucket, "payload {len} in bucket {bucket}");
                assert_eq!(open_datagram(&key, &datagram).unwrap(), payload);
            }
            assert!(matches!(
                seal_frame(
                    &key,
                    &mut rng,
                    bucket,
                    &vec![0; payload_capacity(bucket) + 1]
                ),
                Err(EncodeError::PayloadTooLarge { .. })
            ));
        }
    }

    #[test]
    fn smallest_bucket_picks_the_first_that_fits() {
        let buckets = Config::default().pad_buckets;
        assert_eq!(smallest_bucket(&buckets, 0), Ok(256));
        assert_eq!(
            smallest_bucket(&buckets, payload_capacity(256) + 1),
            Ok(640)
        );
        assert_eq!(smallest_bucket(&buckets, payload_capacity(1200)), Ok(1200));
        assert!(smallest_bucket(&buckets, payload_capacity(1200) + 1).is_err());
    }

    #[test]
    fn wrong_key_or_tampering_does_not_open() {
        let mut rng = ChaCha20Rng::from_seed([2; 32]);
        let key = ClusterKey::generate(&mut rng);
        let other = ClusterKey::generate(&mut rng);
        let mut datagram = seal_frame(&key, &mut rng, 256, b"members only").unwrap();
        assert_eq!(
            open_datagram(&other, &datagram),
            Err(DecodeError::Unauthenticated)
        );
        let last = datagram.len() - 1;
        datagram[last] ^= 1;
        assert_eq!(
            open_datagram(&key, &datagram),
            Err(DecodeError::Unauthenticated)
        );
    }

    #[test]
    fn frames_of_different_content_in_one_bucket_share_their_clear_prefix() {
        // An observer sees version, tag and length; they must not depend on the payload.
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let key = ClusterKey::generate(&mut rng);
        let a = seal_frame(&key, &mut rng, 640, b"a text").unwrap();
        let b = seal_frame(&key, &mut rng, 640, &[9; 300]).unwrap();
        assert_eq!(a.len(), b.len());
        assert_eq!(a[..4], b[..4]);
    }
}
