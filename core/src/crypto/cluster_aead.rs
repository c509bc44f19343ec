//! Cluster-wide encryption under the shared cluster key: XChaCha20-Poly1305 with a random
//! 192-bit nonce per message.
//!
//! Many members encrypt under one key with no coordination, so nonces are drawn at random; at
//! 192 bits a collision is negligible even after 2^64 messages. A sealed message is
//! `nonce (24 bytes) ‖ ciphertext ‖ tag (16 bytes)`.

use core::fmt;

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, Tag, XChaCha20Poly1305, XNonce};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{CryptoError, split_sealed};

/// Length of the random nonce at the start of a sealed message.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag at the end of a sealed message.
pub const TAG_LEN: usize = 16;
/// Bytes a sealed message adds to its plaintext: nonce (24) plus tag (16).
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// The symmetric key that every current member of a cluster shares for the epoch.
///
/// Zeroized on drop; `Debug` never shows the key bytes.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ClusterKey([u8; 32]);

impl ClusterKey {
    /// The length of a cluster key in bytes.
    pub const LEN: usize = 32;

    /// Draws a fresh random cluster key from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut key = ClusterKey([0u8; 32]);
        rng.fill_bytes(&mut key.0);
        key
    }

    /// Wraps 32 key bytes (for instance received, sealed, in a key rollout).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let mut bytes = bytes;
        let key = ClusterKey(bytes);
        bytes.zeroize();
        key
    }

    /// The raw key bytes, to seal them to a member during a rollout.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }

    /// Encrypts `plaintext` with `aad`: returns `nonce ‖ ciphertext ‖ tag`.
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        self.seal_into(rng, aad, plaintext, &mut out);
        out
    }

    /// Like [`Self::seal`], but appends the sealed message to `out`.
    pub fn seal_into<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        aad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) {
        let start = out.len();
        out.reserve(plaintext.len() + OVERHEAD);
        out.resize(start + NONCE_LEN, 0);
        rng.fill_bytes(&mut out[start..]);
        out.extend_from_slice(plaintext);
        self.encrypt_tail(aad, out, start);
    }

    /// Like [`Self::seal`], but in place: `buf` holds the plaintext and is replaced by
    /// `nonce ‖ ciphertext ‖ tag` (one memmove of the plaintext, no new allocation if `buf` has
    /// [`OVERHEAD`] spare capacity).
    pub fn seal_in_place<R: CryptoRng + ?Sized>(&self, rng: &mut R, aad: &[u8], buf: &mut Vec<u8>) {
        let len = buf.len();
        buf.reserve(OVERHEAD);
        buf.resize(len + NONCE_LEN, 0);
        buf.copy_within(..len, NONCE_LEN);
        rng.fill_bytes(&mut buf[..NONCE_LEN]);
        self.encrypt_tail(aad, buf, 0);
    }

    /// Encrypts `buf[start + NONCE_LEN..]` under the nonce at `buf[start..start + NONCE_LEN]`
    /// and appends the tag.
    fn encrypt_tail(&self, aad: &[u8], buf: &mut Vec<u8>, start: usize) {
        let (head, body) = buf[start..].split_at_mut(NONCE_LEN);
        let nonce = XNonce::try_from(&*head).expect("head is NONCE_LEN bytes");
        // XChaCha20-Poly1305 fails only for messages over 256 GiB, which cannot be in memory.
        let tag = self
            .cipher()
            .encrypt_inout_detached(&nonce, aad, body.into())
            .expect("message shorter than 256 GiB");
        buf.extend_from_slice(&tag);
    }

    /// Decrypts `nonce ‖ ciphertext ‖ tag` sealed under this key with the same `aad`.
    ///
    /// Any failure (other key, tampered, truncated) is [`CryptoError::OpenFailed`]; it never
    /// panics.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = Vec::with_capacity(sealed.len().saturating_sub(OVERHEAD));
        self.open_into(aad, sealed, &mut out)?;
        Ok(out)
    }

    /// Like [`Self::open`], but appends the plaintext to `out` (left unchanged on failure).
    pub fn open_into(
        &self,
        aad: &[u8],
        sealed: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let (nonce, ciphertext, tag) = split_sealed::<NONCE_LEN>(sealed)?;
        let start = out.len();
        out.extend_from_slice(ciphertext);
        let result = self.cipher().decrypt_inout_detached(
            &XNonce::from(*nonce),
            aad,
            (&mut out[start..]).into(),
            &Tag::from(*tag),
        );
        if result.is_err() {
            out.truncate(start);
            return Err(CryptoError::OpenFailed);
        }
        Ok(())
    }

    /// Like [`Self::open`], but in place: `buf` holds the sealed message and, on success, is
    /// replaced by the plaintext. On failure `buf` is left exactly as it was.
    pub fn open_in_place(&self, aad: &[u8], buf: &mut Vec<u8>) -> Result<(), CryptoError> {
        let (nonce, _, tag) = split_sealed::<NONCE_LEN>(buf)?;
        let (nonce, tag) = (*nonce, *tag);
        let end = buf.len() - TAG_LEN;
        self.cipher()
            .decrypt_inout_detached(
                &XNonce::from(nonce),
                aad,
                (&mut buf[NONCE_LEN..end]).into(),
                &Tag::from(tag),
            )
            .map_err(|_| CryptoError::OpenFailed)?;
        buf.truncate(end);
        buf.drain(..NONCE_LEN);
        Ok(())
    }
}

impl fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn rng(seed: u8) -> ChaCha20Rng {
        ChaCha20Rng::from_seed([seed; 32])
    }

    #[test]
    fn round_trip_and_layout() {
        let key = ClusterKey::generate(&mut rng(1));
        let mut r = rng(2);
        for len in [0usize, 1, 16, 63, 64, 65, 255, 256, 257, 1160] {
            let pt: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let sealed = key.seal(&mut r, b"hdr", &pt);
            assert_eq!(sealed.len(), len + OVERHEAD);
            assert_eq!(key.open(b"hdr", &sealed).unwrap(), pt);
        }
    }

    #[test]
    fn tamper_wrong_key_wrong_aad_and_truncation_fail() {
        let key = ClusterKey::generate(&mut rng(3));
        let other = ClusterKey::generate(&mut rng(4));
        let sealed = key.seal(&mut rng(5), b"aad", b"cluster post");
        assert_eq!(other.open(b"aad", &sealed), Err(CryptoError::OpenFailed));
        assert_eq!(key.open(b"aae", &sealed), Err(CryptoError::OpenFailed));
        assert_eq!(key.open(b"", &sealed), Err(CryptoError::OpenFailed));
        for bit in 0..sealed.len() * 8 {
            let mut bad = sealed.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                key.open(b"aad", &bad),
                Err(CryptoError::OpenFailed),
                "bit {bit}"
            );
        }
        for len in 0..sealed.len() {
            assert_eq!(
                key.open(b"aad", &sealed[..len]),
                Err(CryptoError::OpenFailed),
                "truncated to {len}"
            );
        }
    }

    #[test]
    fn into_and_in_place_variants_agree() {
        let key = ClusterKey::generate(&mut rng(6));
        let pt = vec![0xc3u8; 900];
        let sealed = key.seal(&mut rng(7), b"a", &pt);

        let mut out = b"hdr".to_vec();
        key.seal_into(&mut rng(7), b"a", &pt, &mut out);
        assert_eq!(&out[..3], b"hdr");
        assert_eq!(&out[3..], &sealed[..]);

        let mut buf = pt.clone();
        key.seal_in_place(&mut rng(7), b"a", &mut buf);
        assert_eq!(buf, sealed);

        let mut opened = b"x".to_vec();
        key.open_into(b"a", &sealed, &mut opened).unwrap();
        assert_eq!(&opened[1..], &pt[..]);
        assert!(key.open_into(b"b", &sealed, &mut opened).is_err());
        assert_eq!(&opened[1..], &pt[..], "unchanged on failure");

        assert_eq!(
            key.open_in_place(b"b", &mut buf),
            Err(CryptoError::OpenFailed)
        );
        assert_eq!(buf, sealed, "untouched on failure");
        key.open_in_place(b"a", &mut buf).unwrap();
        assert_eq!(buf, pt);

        let mut short = vec![9u8; OVERHEAD - 1];
        assert!(key.open_in_place(b"a", &mut short).is_err());
        assert_eq!(short, vec![9u8; OVERHEAD - 1]);
    }

    #[test]
    fn sealing_is_deterministic_per_seed_and_nonces_differ() {
        let key = ClusterKey::generate(&mut rng(8));
        assert_eq!(
            key.seal(&mut rng(9), b"", b"m"),
            key.seal(&mut rng(9), b"", b"m")
        );
        let mut r = rng(10);
        let a = key.seal(&mut r, b"", b"m");
        let b = key.seal(&mut r, b"", b"m");
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_eq!(
            ClusterKey::generate(&mut rng(11)).as_bytes(),
            ClusterKey::generate(&mut rng(11)).as_bytes()
        );
    }

    #[test]
    fn debug_does_not_leak_secret() {
        let key = ClusterKey::from_bytes([0x5e; 32]);
        let shown = format!("{key:?} {key:#?}");
        assert!(!shown.contains("5e"), "{shown}");
        assert!(!shown.contains("94"), "{shown}"); // 0x5e in decimal
    }
}
