//! HKDF-SHA256 (RFC 5869) helpers for protocol key derivation.
//!
//! Every protocol key that is derived rather than drawn (the next cluster key's leader ranking,
//! per-purpose subkeys, ...) goes through [`derive()`] or [`derive_key32`] with a distinct,
//! versioned `info` string, so that keys for different purposes are independent.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::CryptoError;

/// The largest output HKDF-SHA256 can produce: 255 blocks of 32 bytes.
pub const MAX_OUTPUT_LEN: usize = 255 * 32;

/// Fills `out` with HKDF-SHA256(salt, ikm, info): extract, then expand to `out.len()` bytes.
///
/// An empty `salt` means "no salt" (RFC 5869 then uses 32 zero bytes, which is equivalent).
/// Fails with [`CryptoError::KdfOutputTooLong`] if `out` is longer than [`MAX_OUTPUT_LEN`].
pub fn derive(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) -> Result<(), CryptoError> {
    let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
    hk.expand(info, out)
        .map_err(|_| CryptoError::KdfOutputTooLong)
}

/// Derives a 32-byte key with HKDF-SHA256(salt, ikm, info); the result is zeroized on drop.
pub fn derive_key32(salt: &[u8], ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below the 8160-byte limit, so expansion cannot fail.
    let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
    if hk.expand(info, out.as_mut_slice()).is_err() {
        unreachable!("HKDF-SHA256 can always produce 32 bytes");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_key32_matches_derive() {
        let mut a = [0u8; 32];
        derive(b"salt", b"ikm", b"info", &mut a).unwrap();
        let b = derive_key32(b"salt", b"ikm", b"info");
        assert_eq!(&a, &*b);
    }

    #[test]
    fn different_info_gives_independent_keys() {
        let a = derive_key32(b"", b"ikm", b"peerster/a/v1");
        let b = derive_key32(b"", b"ikm", b"peerster/b/v1");
        assert_ne!(*a, *b);
    }

    #[test]
    fn empty_salt_equals_zero_salt() {
        // RFC 5869 §2.2: an absent salt is HashLen zero bytes.
        let a = derive_key32(b"", b"ikm", b"info");
        let b = derive_key32(&[0u8; 32], b"ikm", b"info");
        assert_eq!(*a, *b);
    }

    #[test]
    fn output_length_limits() {
        let mut max = vec![0u8; MAX_OUTPUT_LEN];
        assert_eq!(derive(b"s", b"k", b"i", &mut max), Ok(()));
        let mut too_long = vec![0u8; MAX_OUTPUT_LEN + 1];
        assert_eq!(
            derive(b"s", b"k", b"i", &mut too_long),
            Err(CryptoError::KdfOutputTooLong)
        );
        let mut empty: [u8; 0] = [];
        assert_eq!(derive(b"s", b"k", b"i", &mut empty), Ok(()));
    }

    #[test]
    fn prefix_property() {
        // HKDF output of length n is a prefix of the output of length m > n.
        let mut short = [0u8; 40];
        let mut long = [0u8; 100];
        derive(b"s", b"k", b"i", &mut short).unwrap();
        derive(b"s", b"k", b"i", &mut long).unwrap();
        assert_eq!(&short[..], &long[..40]);
    }
}
