//! Sealing to one member: HPKE (RFC 9180) base mode, single shot, with the suite
//! DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305 (kem 0x0020, kdf 0x0001,
//! aead 0x0003).
//!
//! A sealed message is `enc (32 bytes) ‖ ciphertext ‖ tag (16 bytes)`, exactly what the
//! `hpke` crate's single-shot seal produces (sequence number 0, nonce = `base_nonce`).
//!
//! # Why not call the `hpke` crate
//!
//! `hpke`'s `Decap` re-derives the recipient's public key `pk(skR)` from the secret on every
//! call, so opening costs two scalar multiplications. Every cluster member trial-decrypts every
//! fluffed anonymous packet, so [`EpochSecret`] caches its public key (RFC 9180 §3 allows `pk(skX)`
//! to be "the retrieval of the public key, assuming it is stored along with the private key
//! object") and [`EpochSecret::open`] costs one X25519 multiplication plus a few HMACs.
//! This module implements the base-mode key schedule for this one suite with the standard
//! primitives (`x25519-dalek`, `hkdf`, `chacha20poly1305`): nothing home-made below them.
//! Tests check it against RFC 9180 Appendix A.2.1 and against the `hpke` crate in both
//! directions, byte for byte.

use core::fmt;

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};
use hkdf::{Hkdf, HkdfExtract};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, Zeroizing};

use super::{CryptoError, split_sealed};
use crate::ids::hex_prefix;

/// Length of the encapsulated key `enc` (an X25519 public key) at the start of a sealed message.
pub const ENC_LEN: usize = 32;
/// Length of the ChaCha20-Poly1305 tag at the end of a sealed message.
pub const TAG_LEN: usize = 16;
/// Bytes a sealed message adds to its plaintext: `enc` (32) plus the AEAD tag (16).
pub const SEAL_OVERHEAD: usize = ENC_LEN + TAG_LEN;

/// `suite_id` inside the KEM: "KEM" ‖ I2OSP(kem_id = 0x0020, 2).
const KEM_SUITE_ID: [u8; 5] = *b"KEM\x00\x20";
/// `suite_id` of the whole ciphersuite: "HPKE" ‖ kem_id ‖ kdf_id (0x0001) ‖ aead_id (0x0003).
const HPKE_SUITE_ID: [u8; 10] = *b"HPKE\x00\x20\x00\x01\x00\x03";
/// Version label that prefixes every labeled KDF input.
const HPKE_V1: &[u8] = b"HPKE-v1";
/// `mode_base`.
const MODE_BASE: u8 = 0x00;
/// ChaCha20-Poly1305 key and nonce lengths (Nk, Nn).
const NK: usize = 32;
const NN: usize = 12;
/// Length of the key schedule context: mode ‖ psk_id_hash ‖ info_hash.
const KSC_LEN: usize = 1 + 32 + 32;

/// `LabeledExtract("", "psk_id_hash", "")` for [`HPKE_SUITE_ID`]: the same for every base-mode
/// message, so it is a constant (a unit test recomputes it).
const PSK_ID_HASH: [u8; 32] = [
    0x43, 0x1d, 0xf6, 0xcd, 0x95, 0xe1, 0x1f, 0xf4, 0x9d, 0x70, 0x13, 0x56, 0x3b, 0xaf, 0x7f, 0x11,
    0x58, 0x8c, 0x75, 0xa6, 0x61, 0x1e, 0xe2, 0xa4, 0x40, 0x4a, 0x49, 0x30, 0x6a, 0xe4, 0xcf, 0xc5,
];

/// `LabeledExtract(salt, label, ikm)` (RFC 9180 §4): the PRK, as an HKDF instance and as bytes.
fn labeled_extract(
    salt: &[u8],
    suite_id: &[u8],
    label: &[u8],
    ikm: &[u8],
) -> (Zeroizing<[u8; 32]>, Hkdf<Sha256>) {
    let mut extract = HkdfExtract::<Sha256>::new(Some(salt));
    extract.input_ikm(HPKE_V1);
    extract.input_ikm(suite_id);
    extract.input_ikm(label);
    extract.input_ikm(ikm);
    let (prk, hkdf) = extract.finalize();
    let mut bytes = Zeroizing::new([0u8; 32]);
    bytes.copy_from_slice(&prk);
    (bytes, hkdf)
}

/// `LabeledExpand(prk, label, info, L)` with `L = out.len()` (at most 255 × 32 here, always).
fn labeled_expand(prk: &Hkdf<Sha256>, suite_id: &[u8], label: &[u8], info: &[u8], out: &mut [u8]) {
    debug_assert!(out.len() <= 255 * 32);
    let len = (out.len() as u16).to_be_bytes();
    if prk
        .expand_multi_info(&[&len, HPKE_V1, suite_id, label, info], out)
        .is_err()
    {
        unreachable!("HPKE expands at most 32 bytes at a time");
    }
}

/// DHKEM `ExtractAndExpand(dh, kem_context)` with `kem_context = enc ‖ pkRm`.
fn extract_and_expand(dh: &[u8; 32], enc: &[u8; 32], pk_r: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let (_, eae_prk) = labeled_extract(b"", &KEM_SUITE_ID, b"eae_prk", dh);
    let mut kem_context = [0u8; 64];
    kem_context[..32].copy_from_slice(enc);
    kem_context[32..].copy_from_slice(pk_r);
    let mut shared_secret = Zeroizing::new([0u8; 32]);
    labeled_expand(
        &eae_prk,
        &KEM_SUITE_ID,
        b"shared_secret",
        &kem_context,
        shared_secret.as_mut_slice(),
    );
    shared_secret
}

/// The AEAD key and base nonce of a base-mode context (RFC 9180 §5.1 `KeySchedule`).
struct AeadContext {
    key: Zeroizing<[u8; NK]>,
    base_nonce: [u8; NN],
}

/// Base-mode `KeySchedule(mode_base, shared_secret, info, psk = "", psk_id = "")`, without the
/// exporter secret (single-shot sealing never exports).
fn key_schedule_base(shared_secret: &[u8; 32], info: &[u8]) -> AeadContext {
    let mut ksc = [0u8; KSC_LEN];
    key_schedule_context(info, &mut ksc);
    let (_, secret) = labeled_extract(shared_secret, &HPKE_SUITE_ID, b"secret", b"");
    let mut key = Zeroizing::new([0u8; NK]);
    labeled_expand(&secret, &HPKE_SUITE_ID, b"key", &ksc, key.as_mut_slice());
    let mut base_nonce = [0u8; NN];
    labeled_expand(
        &secret,
        &HPKE_SUITE_ID,
        b"base_nonce",
        &ksc,
        &mut base_nonce,
    );
    AeadContext { key, base_nonce }
}

/// `key_schedule_context = mode ‖ psk_id_hash ‖ info_hash` for base mode.
fn key_schedule_context(info: &[u8], out: &mut [u8; KSC_LEN]) {
    let (info_hash, _) = labeled_extract(b"", &HPKE_SUITE_ID, b"info_hash", info);
    out[0] = MODE_BASE;
    out[1..33].copy_from_slice(&PSK_ID_HASH);
    out[33..].copy_from_slice(&info_hash[..]);
}

/// RFC 7748 `decodeScalar25519` clamping (RFC 9180 §7.1.2: serialized private keys are clamped).
fn clamp(mut bytes: [u8; 32]) -> [u8; 32] {
    bytes[0] &= 248;
    bytes[31] &= 127;
    bytes[31] |= 64;
    bytes
}

/// A member's X25519 secret key for the current epoch: what others seal to.
///
/// Caches its public key so that [`Self::open`] needs a single scalar multiplication.
/// Zeroized on drop (by `x25519-dalek`); `Debug` shows only the public key.
#[derive(Clone)]
pub struct EpochSecret {
    secret: StaticSecret,
    public: EpochPublic,
}

impl EpochSecret {
    /// Draws a fresh epoch key from `rng` (32 random bytes, clamped).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut_slice());
        Self::from_bytes(*bytes)
    }

    /// Builds an epoch key from 32 secret bytes (clamped as X25519 requires; any value is valid).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let mut clamped = clamp(bytes);
        let mut bytes = bytes;
        bytes.zeroize();
        let secret = StaticSecret::from(clamped);
        clamped.zeroize();
        let public = EpochPublic(PublicKey::from(&secret).to_bytes());
        EpochSecret { secret, public }
    }

    /// Derives an epoch key deterministically from input keying material: RFC 9180 §7.1.3
    /// `DeriveKeyPair(ikm)` for DHKEM(X25519, HKDF-SHA256). `ikm` should hold 32 bytes of entropy.
    pub fn derive(ikm: &[u8]) -> Self {
        let (_, dkp_prk) = labeled_extract(b"", &KEM_SUITE_ID, b"dkp_prk", ikm);
        let mut sk = Zeroizing::new([0u8; 32]);
        labeled_expand(&dkp_prk, &KEM_SUITE_ID, b"sk", b"", sk.as_mut_slice());
        Self::from_bytes(*sk)
    }

    /// The public key others seal to.
    pub fn public(&self) -> EpochPublic {
        self.public
    }

    /// The clamped secret scalar bytes, for tests and for storage; zeroized when dropped.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// Raw X25519 with this secret, rejecting an all-zero result (RFC 9180 §7.1.4) as
    /// [`CryptoError::InvalidKey`].
    ///
    /// Protocol code should use [`seal_to`] and [`Self::open`]; this is exposed so that the test
    /// vectors can exercise exactly the Diffie-Hellman that sealing uses.
    pub fn diffie_hellman(&self, peer: &EpochPublic) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
        let shared = self.secret.diffie_hellman(&PublicKey::from(peer.0));
        if !shared.was_contributory() {
            return Err(CryptoError::InvalidKey);
        }
        Ok(Zeroizing::new(shared.to_bytes()))
    }

    /// Recipient side of the base-mode setup: the AEAD context for a message with this `enc`.
    fn receiver_context(&self, info: &[u8], enc: &[u8; 32]) -> Result<AeadContext, CryptoError> {
        let dh = self
            .diffie_hellman(&EpochPublic(*enc))
            .map_err(|_| CryptoError::OpenFailed)?;
        let shared_secret = extract_and_expand(&dh, enc, &self.public.0);
        Ok(key_schedule_base(&shared_secret, info))
    }

    /// Opens a message sealed to this key with [`seal_to`] under the same `info` and `aad`.
    ///
    /// Any failure (not for us, tampered, truncated, low-order `enc`) is
    /// [`CryptoError::OpenFailed`]; it never panics.
    pub fn open(&self, info: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = Vec::with_capacity(sealed.len().saturating_sub(SEAL_OVERHEAD));
        self.open_into(info, aad, sealed, &mut out)?;
        Ok(out)
    }

    /// Like [`Self::open`], but appends the plaintext to `out` (left unchanged on failure), so a
    /// caller can reuse one buffer for every trial decryption.
    pub fn open_into(
        &self,
        info: &[u8],
        aad: &[u8],
        sealed: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let (enc, ciphertext, tag) = split_sealed::<ENC_LEN>(sealed)?;
        let ctx = self.receiver_context(info, enc)?;
        let start = out.len();
        out.extend_from_slice(ciphertext);
        let result = ChaCha20Poly1305::new(&(*ctx.key).into()).decrypt_inout_detached(
            &Nonce::from(ctx.base_nonce),
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
    /// replaced by the plaintext. On failure `buf` is left exactly as it was (the tag is
    /// checked before anything is decrypted), so a relay can still forward it.
    pub fn open_in_place(
        &self,
        info: &[u8],
        aad: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let (enc, _, tag) = split_sealed::<ENC_LEN>(buf)?;
        let (enc, tag) = (*enc, *tag);
        let ctx = self.receiver_context(info, &enc)?;
        let end = buf.len() - TAG_LEN;
        ChaCha20Poly1305::new(&(*ctx.key).into())
            .decrypt_inout_detached(
                &Nonce::from(ctx.base_nonce),
                aad,
                (&mut buf[ENC_LEN..end]).into(),
                &Tag::from(tag),
            )
            .map_err(|_| CryptoError::OpenFailed)?;
        buf.truncate(end);
        buf.drain(..ENC_LEN);
        Ok(())
    }
}

impl fmt::Debug for EpochSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "EpochSecret {{ public: {}, secret: <redacted> }}",
            hex_prefix(&self.public.0, 32)
        )
    }
}

/// A member's X25519 public key for the current epoch (32 bytes, RFC 7748 encoding).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EpochPublic(pub [u8; 32]);

impl EpochPublic {
    /// The 32 public key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for EpochPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EpochPublic({})", hex_prefix(&self.0, 32))
    }
}

/// Seals `plaintext` to `recipient`: HPKE base-mode single-shot seal with `info` and `aad`.
///
/// Returns `enc ‖ ciphertext ‖ tag`, [`SEAL_OVERHEAD`] bytes longer than `plaintext`. The
/// ephemeral key is `DeriveKeyPair(32 bytes from rng)`, as the `hpke` crate draws it, so the same
/// RNG state gives the same bytes in both. Fails with [`CryptoError::SealFailed`] if the
/// recipient key has low order (all-zero shared secret).
pub fn seal_to<R: CryptoRng + ?Sized>(
    rng: &mut R,
    recipient: &EpochPublic,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::with_capacity(plaintext.len() + SEAL_OVERHEAD);
    seal_to_into(rng, recipient, info, aad, plaintext, &mut out)?;
    Ok(out)
}

/// Like [`seal_to`], but appends the sealed message to `out` (left unchanged on failure), so a
/// datagram can be built in one buffer without a copy.
pub fn seal_to_into<R: CryptoRng + ?Sized>(
    rng: &mut R,
    recipient: &EpochPublic,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CryptoError> {
    let mut ikm = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(ikm.as_mut_slice());
    let ephemeral = EpochSecret::derive(ikm.as_slice());
    let dh = ephemeral
        .diffie_hellman(recipient)
        .map_err(|_| CryptoError::SealFailed)?;
    let enc = ephemeral.public.0;
    let shared_secret = extract_and_expand(&dh, &enc, &recipient.0);
    let ctx = key_schedule_base(&shared_secret, info);

    let start = out.len();
    out.reserve(plaintext.len() + SEAL_OVERHEAD);
    out.extend_from_slice(&enc);
    out.extend_from_slice(plaintext);
    let tag = ChaCha20Poly1305::new(&(*ctx.key).into()).encrypt_inout_detached(
        &Nonce::from(ctx.base_nonce),
        aad,
        (&mut out[start + ENC_LEN..]).into(),
    );
    match tag {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            Ok(())
        }
        Err(_) => {
            out.truncate(start);
            Err(CryptoError::SealFailed)
        }
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

    fn unhex<const N: usize>(s: &str) -> [u8; N] {
        let v = hex::decode(s).unwrap();
        v.try_into().unwrap()
    }

    const INFO: &[u8] = b"peerster/test/v1";

    #[test]
    fn psk_id_hash_constant_is_labeled_extract_of_empty() {
        let (computed, _) = labeled_extract(b"", &HPKE_SUITE_ID, b"psk_id_hash", b"");
        assert_eq!(*computed, PSK_ID_HASH);
    }

    /// RFC 9180 Appendix A.2.1 (base mode, this suite): every intermediate value the key
    /// schedule produces, which the public API does not expose.
    #[test]
    fn rfc9180_a21_key_schedule_intermediates() {
        let info = hex::decode("4f6465206f6e2061204772656369616e2055726e").unwrap();
        let sk_e: [u8; 32] =
            unhex("f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600");
        let pk_r: [u8; 32] =
            unhex("4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a");
        let enc: [u8; 32] =
            unhex("1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a");

        let eph = EpochSecret::from_bytes(sk_e);
        assert_eq!(eph.public().0, enc);
        let dh = eph.diffie_hellman(&EpochPublic(pk_r)).unwrap();
        let shared_secret = extract_and_expand(&dh, &enc, &pk_r);
        assert_eq!(
            *shared_secret,
            unhex::<32>("0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7")
        );

        let mut ksc = [0u8; KSC_LEN];
        key_schedule_context(&info, &mut ksc);
        assert_eq!(
            ksc,
            unhex::<65>(concat!(
                "00431df6cd95e11ff49d7013563baf7f11588c75a6611ee2a4404a49306ae4cfc5b69c5718a60cc58",
                "76c358d3f7fc31ddb598503f67be58ea1e798c0bb19eb9796"
            ))
        );

        let (secret_bytes, secret) =
            labeled_extract(&shared_secret[..], &HPKE_SUITE_ID, b"secret", b"");
        assert_eq!(
            *secret_bytes,
            unhex::<32>("5b9cd775e64b437a2335cf499361b2e0d5e444d5cb41a8a53336d8fe402282c6")
        );
        let mut exporter_secret = [0u8; 32];
        labeled_expand(&secret, &HPKE_SUITE_ID, b"exp", &ksc, &mut exporter_secret);
        assert_eq!(
            exporter_secret,
            unhex::<32>("a3b010d4994890e2c6968a36f64470d3c824c8f5029942feb11e7a74b2921922")
        );

        let ctx = key_schedule_base(&shared_secret, &info);
        assert_eq!(
            *ctx.key,
            unhex::<32>("ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91")
        );
        assert_eq!(ctx.base_nonce, unhex::<12>("5c4d98150661b848853b547f"));

        // The encryptions with sequence numbers > 0 use nonce = base_nonce XOR I2OSP(seq, 12).
        let pt = hex::decode("4265617574792069732074727574682c20747275746820626561757479").unwrap();
        let cases: [(u64, &str, &str); 6] = [
            (
                0,
                "436f756e742d30",
                "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
            ),
            (
                1,
                "436f756e742d31",
                "6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e85285337cc95ba5f59992dc98c",
            ),
            (
                2,
                "436f756e742d32",
                "71146bd6795ccc9c49ce25dda112a48f202ad220559502cef1f34271e0cb4b02b4f10ecac6f48c32f878fae86b",
            ),
            (
                4,
                "436f756e742d34",
                "63357a2aa291f5a4e5f27db6baa2af8cf77427c7c1a909e0b37214dd47db122bb153495ff0b02e9e54a50dbe16",
            ),
            (
                255,
                "436f756e742d323535",
                "18ab939d63ddec9f6ac2b60d61d36a7375d2070c9b683861110757062c52b8880a5f6b3936da9cd6c23ef2a95c",
            ),
            (
                256,
                "436f756e742d323536",
                "7a4a13e9ef23978e2c520fd4d2e757514ae160cd0cd05e556ef692370ca53076214c0c40d4c728d6ed9e727a5b",
            ),
        ];
        let cipher = ChaCha20Poly1305::new(&(*ctx.key).into());
        for (seq, aad, ct) in cases {
            let mut nonce = ctx.base_nonce;
            for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
                *n ^= s;
            }
            let aad = hex::decode(aad).unwrap();
            let mut buf = pt.clone();
            let tag = cipher
                .encrypt_inout_detached(&Nonce::from(nonce), &aad, buf.as_mut_slice().into())
                .unwrap();
            buf.extend_from_slice(&tag);
            assert_eq!(hex::encode(&buf), ct, "sequence number {seq}");
        }
    }

    #[test]
    fn round_trip_and_layout() {
        let recipient = EpochSecret::generate(&mut rng(1));
        let mut r = rng(2);
        for len in [0usize, 1, 15, 16, 17, 63, 64, 65, 1000, 1152] {
            let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let sealed = seal_to(&mut r, &recipient.public(), INFO, b"aad", &pt).unwrap();
            assert_eq!(sealed.len(), len + SEAL_OVERHEAD);
            assert_eq!(recipient.open(INFO, b"aad", &sealed).unwrap(), pt);
        }
    }

    #[test]
    fn tamper_wrong_key_wrong_context_and_truncation_fail() {
        let recipient = EpochSecret::generate(&mut rng(3));
        let other = EpochSecret::generate(&mut rng(4));
        let sealed = seal_to(&mut rng(5), &recipient.public(), INFO, b"aad", b"secret").unwrap();

        assert_eq!(
            other.open(INFO, b"aad", &sealed),
            Err(CryptoError::OpenFailed)
        );
        assert_eq!(
            recipient.open(b"other info", b"aad", &sealed),
            Err(CryptoError::OpenFailed)
        );
        assert_eq!(
            recipient.open(INFO, b"aae", &sealed),
            Err(CryptoError::OpenFailed)
        );
        for bit in 0..sealed.len() * 8 {
            let mut bad = sealed.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                recipient.open(INFO, b"aad", &bad),
                Err(CryptoError::OpenFailed),
                "bit {bit}"
            );
        }
        for len in 0..sealed.len() {
            assert_eq!(
                recipient.open(INFO, b"aad", &sealed[..len]),
                Err(CryptoError::OpenFailed),
                "truncated to {len}"
            );
        }
        let mut longer = sealed.clone();
        longer.push(0);
        assert_eq!(
            recipient.open(INFO, b"aad", &longer),
            Err(CryptoError::OpenFailed)
        );
    }

    #[test]
    fn low_order_points_are_rejected() {
        // u = 0 and u = 1 are low-order points: X25519 with them is all-zero.
        let recipient = EpochSecret::generate(&mut rng(6));
        for u in [0u8, 1] {
            let mut low = [0u8; 32];
            low[0] = u;
            assert_eq!(
                seal_to(&mut rng(7), &EpochPublic(low), INFO, b"", b"x"),
                Err(CryptoError::SealFailed)
            );
            let mut sealed = low.to_vec();
            sealed.extend_from_slice(&[0u8; 20]);
            assert_eq!(
                recipient.open(INFO, b"", &sealed),
                Err(CryptoError::OpenFailed)
            );
            assert_eq!(
                recipient.diffie_hellman(&EpochPublic(low)).map(|_| ()),
                Err(CryptoError::InvalidKey)
            );
        }
    }

    #[test]
    fn into_and_in_place_variants_agree() {
        let recipient = EpochSecret::generate(&mut rng(8));
        let pt = vec![0x5a; 700];
        let sealed = seal_to(&mut rng(9), &recipient.public(), INFO, b"h", &pt).unwrap();

        let mut out = b"prefix".to_vec();
        seal_to_into(&mut rng(9), &recipient.public(), INFO, b"h", &pt, &mut out).unwrap();
        assert_eq!(&out[..6], b"prefix");
        assert_eq!(&out[6..], &sealed[..]);

        let mut opened = b"keep".to_vec();
        recipient
            .open_into(INFO, b"h", &sealed, &mut opened)
            .unwrap();
        assert_eq!(&opened[..4], b"keep");
        assert_eq!(&opened[4..], &pt[..]);
        assert!(
            recipient
                .open_into(INFO, b"x", &sealed, &mut opened)
                .is_err()
        );
        assert_eq!(&opened[4..], &pt[..], "unchanged on failure");

        let mut buf = sealed.clone();
        assert_eq!(
            recipient.open_in_place(INFO, b"wrong", &mut buf),
            Err(CryptoError::OpenFailed)
        );
        assert_eq!(buf, sealed, "untouched on failure");
        let other = EpochSecret::generate(&mut rng(10));
        assert!(other.open_in_place(INFO, b"h", &mut buf).is_err());
        assert_eq!(buf, sealed, "untouched on failure");
        recipient.open_in_place(INFO, b"h", &mut buf).unwrap();
        assert_eq!(buf, pt);

        let mut short = vec![1u8; SEAL_OVERHEAD - 1];
        assert!(recipient.open_in_place(INFO, b"h", &mut short).is_err());
        assert_eq!(short, vec![1u8; SEAL_OVERHEAD - 1]);
    }

    #[test]
    fn sealing_is_deterministic_per_seed() {
        let recipient = EpochSecret::generate(&mut rng(11));
        let a = seal_to(&mut rng(12), &recipient.public(), INFO, b"", b"m").unwrap();
        let b = seal_to(&mut rng(12), &recipient.public(), INFO, b"", b"m").unwrap();
        let c = seal_to(&mut rng(13), &recipient.public(), INFO, b"", b"m").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            EpochSecret::generate(&mut rng(14)).public(),
            EpochSecret::generate(&mut rng(14)).public()
        );
    }

    #[test]
    fn secret_bytes_are_clamped_and_round_trip() {
        let key = EpochSecret::from_bytes([0xff; 32]);
        let bytes = key.secret_bytes();
        assert_eq!(bytes[0] & 7, 0);
        assert_eq!(bytes[31] & 0xc0, 0x40);
        assert_eq!(EpochSecret::from_bytes(*bytes).public(), key.public());
    }

    #[test]
    fn debug_does_not_leak_secret() {
        let key = EpochSecret::from_bytes([0x3c; 32]);
        let shown = format!("{key:?} {key:#?}");
        let secret = key.secret_bytes();
        assert!(!shown.contains(&hex_prefix(&secret[..], 32)), "{shown}");
        assert!(!shown.contains(&hex_prefix(&secret[1..], 8)), "{shown}");
        assert!(shown.contains(&hex_prefix(&key.public().0, 32)));
    }

    #[test]
    fn epoch_public_postcard_is_32_raw_bytes() {
        let public = EpochSecret::generate(&mut rng(15)).public();
        let bytes = postcard::to_allocvec(&public).unwrap();
        assert_eq!(&bytes[..], &public.0[..]);
        assert_eq!(postcard::from_bytes::<EpochPublic>(&bytes).unwrap(), public);
    }
}
