//! Node identity: Ed25519 signing keys, public identities and signatures.
//!
//! Verification is *strict* (`ed25519-dalek`'s `verify_strict`): non-canonical `s`, non-canonical
//! or small-order `R`, and small-order public keys are rejected, so a signature cannot be mauled
//! into a second valid one and a weak key cannot sign "everything". [`PublicIdentity::from_bytes`]
//! additionally accepts only the canonical encoding of a point, so one key has exactly one
//! [`MemberId`].

use core::fmt;
use core::hash::{Hash, Hasher};

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::CryptoError;
use crate::ids::{MemberId, hex_prefix};

/// Salt of the derivation of the node key from the identity secret.
const NODE_KEY_SALT: &[u8] = b"peerster/node-key/v1";

/// Domain-separation prefix of the member-id hash.
const MEMBER_ID_DOMAIN: &[u8] = b"peerster/member-id/v1";

/// A node's long-term secret Ed25519 signing key.
///
/// Zeroized on drop (by `ed25519-dalek`); `Debug` shows only the public half.
#[derive(Clone)]
pub struct IdentityKey {
    signing: SigningKey,
}

impl IdentityKey {
    /// Draws a fresh identity key from `rng` (32 bytes of seed).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        IdentityKey {
            signing: SigningKey::generate(rng),
        }
    }

    /// Rebuilds an identity key from the 32-byte secret seed returned by [`Self::secret_bytes`].
    pub fn from_secret_bytes(bytes: [u8; 32]) -> Self {
        let mut bytes = bytes;
        let signing = SigningKey::from_bytes(&bytes);
        bytes.zeroize();
        IdentityKey { signing }
    }

    /// The 32-byte secret seed, for the runtime to store on disk; zeroized when dropped.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing.to_bytes())
    }

    /// The public identity that verifies this key's signatures.
    pub fn public(&self) -> PublicIdentity {
        PublicIdentity {
            key: self.signing.verifying_key(),
        }
    }

    /// This node's long-term X25519 key for being sealed to by nodes that are not (yet) in its
    /// cluster, such as a join request. Derived from the identity secret with HKDF-SHA256
    /// (salt `peerster/node-key/v1`) and RFC 9180 `DeriveKeyPair`, so it needs no storage of its
    /// own and is independent of the signing key.
    pub fn node_key(&self) -> super::EpochSecret {
        let seed = self.secret_bytes();
        let ikm = super::kdf::derive_key32(NODE_KEY_SALT, seed.as_slice(), b"");
        super::EpochSecret::derive(ikm.as_slice())
    }

    /// Signs `msg` (deterministic Ed25519, RFC 8032: no randomness needed).
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature(self.signing.sign(msg).to_bytes())
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IdentityKey {{ public: {}, secret: <redacted> }}",
            hex_prefix(self.signing.verifying_key().as_bytes(), 32)
        )
    }
}

/// A node's public identity: a validated Ed25519 public key.
///
/// Holds the decompressed point so that verification does not decode the key again; serializes
/// as its 32-byte compressed encoding. Equality, ordering and hashing are on those 32 bytes.
#[derive(Clone, Copy)]
pub struct PublicIdentity {
    key: VerifyingKey,
}

impl PublicIdentity {
    /// The length of an encoded public identity in bytes.
    pub const LEN: usize = 32;

    /// Decodes a public identity, accepting only the canonical encoding of a point of large
    /// order; anything else is [`CryptoError::InvalidKey`].
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, CryptoError> {
        // `VerifyingKey::from_bytes` tolerates non-canonical encodings, and two encodings of one
        // key would give two member ids, so insist on the canonical one. An encoding is
        // non-canonical iff y >= p, or x = 0 with the sign bit set; x = 0 only for y = ±1, which
        // are small-order points that `is_weak` rejects anyway.
        if !y_is_canonical(&bytes) {
            return Err(CryptoError::InvalidKey);
        }
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| CryptoError::InvalidKey)?;
        if key.is_weak() {
            return Err(CryptoError::InvalidKey);
        }
        Ok(PublicIdentity { key })
    }

    /// The 32-byte compressed Edwards encoding of this key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// Checks `sig` on `msg` with strict Ed25519 verification.
    pub fn verify(&self, msg: &[u8], sig: &Signature) -> Result<(), CryptoError> {
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        self.key
            .verify_strict(msg, &sig)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// The member id of this identity: the first 16 bytes of
    /// SHA-256("peerster/member-id/v1" ‖ public key).
    pub fn member_id(&self) -> MemberId {
        let digest = Sha256::new()
            .chain_update(MEMBER_ID_DOMAIN)
            .chain_update(self.as_bytes())
            .finalize();
        let mut id = [0u8; MemberId::LEN];
        id.copy_from_slice(&digest[..MemberId::LEN]);
        MemberId(id)
    }
}

/// Whether the y coordinate of a compressed Edwards point (its low 255 bits, little-endian) is
/// below p = 2^255 - 19. The only larger values are p..2^255-1: bytes 1..=30 all 0xff, the low
/// 7 bits of byte 31 all set, and byte 0 at least 0xed.
fn y_is_canonical(bytes: &[u8; 32]) -> bool {
    !(bytes[0] >= 0xed && bytes[1..31].iter().all(|&b| b == 0xff) && bytes[31] & 0x7f == 0x7f)
}

impl PartialEq for PublicIdentity {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for PublicIdentity {}

impl PartialOrd for PublicIdentity {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicIdentity {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for PublicIdentity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Debug for PublicIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicIdentity({})", hex_prefix(self.as_bytes(), 32))
    }
}

impl Serialize for PublicIdentity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_bytes().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PublicIdentity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = <[u8; 32]>::deserialize(deserializer)?;
        PublicIdentity::from_bytes(bytes)
            .map_err(|_| serde::de::Error::custom("invalid Ed25519 public key"))
    }
}

/// An Ed25519 signature (`R ‖ s`, 64 bytes).
///
/// Serializes as a fixed-length tuple of 64 bytes (no length prefix in postcard).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// The length of a signature in bytes.
    pub const LEN: usize = 64;

    /// Wraps 64 signature bytes (validity is checked only by [`PublicIdentity::verify`]).
    pub fn from_bytes(bytes: [u8; 64]) -> Self {
        Signature(bytes)
    }

    /// The 64 signature bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex_prefix(&self.0, 64))
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut tuple = serializer.serialize_tuple(Self::LEN)?;
        for byte in &self.0 {
            tuple.serialize_element(byte)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SignatureVisitor;

        impl<'de> serde::de::Visitor<'de> for SignatureVisitor {
            type Value = Signature;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("64 bytes of an Ed25519 signature")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Signature, A::Error> {
                let mut bytes = [0u8; Signature::LEN];
                for (i, byte) in bytes.iter_mut().enumerate() {
                    *byte = seq
                        .next_element()?
                        .ok_or_else(|| serde::de::Error::invalid_length(i, &self))?;
                }
                Ok(Signature(bytes))
            }
        }

        deserializer.deserialize_tuple(Self::LEN, SignatureVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_key_is_derived_from_the_identity_and_opens_what_is_sealed_to_it() {
        let alice = IdentityKey::from_secret_bytes([1; 32]);
        let bob = IdentityKey::from_secret_bytes([2; 32]);
        assert_eq!(alice.node_key().public(), alice.node_key().public());
        assert_ne!(alice.node_key().public(), bob.node_key().public());
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let sealed =
            crate::crypto::seal_to(&mut rng, &alice.node_key().public(), b"info", b"", b"join")
                .unwrap();
        assert_eq!(
            alice.node_key().open(b"info", b"", &sealed).unwrap(),
            b"join"
        );
        assert!(bob.node_key().open(b"info", b"", &sealed).is_err());
    }
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn rng(seed: u8) -> ChaCha20Rng {
        ChaCha20Rng::from_seed([seed; 32])
    }

    #[test]
    fn sign_verify_round_trip() {
        let key = IdentityKey::generate(&mut rng(1));
        let public = key.public();
        let sig = key.sign(b"hello");
        assert_eq!(public.verify(b"hello", &sig), Ok(()));
        assert_eq!(
            public.verify(b"hellp", &sig),
            Err(CryptoError::BadSignature)
        );
        let other = IdentityKey::generate(&mut rng(2)).public();
        assert_eq!(other.verify(b"hello", &sig), Err(CryptoError::BadSignature));
    }

    #[test]
    fn every_flipped_signature_bit_is_rejected() {
        let key = IdentityKey::generate(&mut rng(3));
        let public = key.public();
        let sig = key.sign(b"vote: yes");
        for bit in 0..(Signature::LEN * 8) {
            let mut bad = sig;
            bad.0[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                public.verify(b"vote: yes", &bad),
                Err(CryptoError::BadSignature),
                "bit {bit}"
            );
        }
    }

    #[test]
    fn non_canonical_s_is_rejected() {
        // s + l verifies under lax verification but not under strict verification.
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x10,
        ];
        let key = IdentityKey::generate(&mut rng(4));
        let sig = key.sign(b"m");
        let mut s = [0u8; 32];
        s.copy_from_slice(&sig.0[32..]);
        // s + l with carry, little-endian.
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(s[i]) + u16::from(L[i]) + carry;
            s[i] = v as u8;
            carry = v >> 8;
        }
        let mut mauled = sig;
        mauled.0[32..].copy_from_slice(&s);
        assert_ne!(mauled, sig);
        assert_eq!(
            key.public().verify(b"m", &mauled),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn secret_bytes_round_trip() {
        let key = IdentityKey::generate(&mut rng(5));
        let again = IdentityKey::from_secret_bytes(*key.secret_bytes());
        assert_eq!(key.public(), again.public());
        assert_eq!(key.sign(b"x"), again.sign(b"x"));
    }

    #[test]
    fn generation_is_deterministic_per_seed() {
        let a = IdentityKey::generate(&mut rng(6));
        let b = IdentityKey::generate(&mut rng(6));
        let c = IdentityKey::generate(&mut rng(7));
        assert_eq!(*a.secret_bytes(), *b.secret_bytes());
        assert_eq!(a.sign(b"m"), b.sign(b"m"));
        assert_ne!(a.public(), c.public());
    }

    #[test]
    fn debug_does_not_leak_secret() {
        let key = IdentityKey::from_secret_bytes([0xa7; 32]);
        let shown = format!("{key:?} {key:#?}");
        assert!(!shown.contains(&"a7".repeat(8)), "{shown}");
        let secret = key.secret_bytes();
        assert!(!shown.contains(&hex_prefix(&secret[..], 32)));
        assert!(shown.contains(&hex_prefix(key.public().as_bytes(), 32)));
    }

    #[test]
    fn from_bytes_rejects_bad_keys() {
        // The identity point (y = 1) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            PublicIdentity::from_bytes(identity),
            Err(CryptoError::InvalidKey)
        );
        // y = p: a non-canonical encoding (of y = 0, which also has small order).
        let mut y_eq_p = [0xffu8; 32];
        y_eq_p[0] = 0xed;
        y_eq_p[31] = 0x7f;
        assert_eq!(
            PublicIdentity::from_bytes(y_eq_p),
            Err(CryptoError::InvalidKey)
        );
        let good = IdentityKey::generate(&mut rng(8)).public();
        assert_eq!(PublicIdentity::from_bytes(*good.as_bytes()), Ok(good));
        // y = 2 is not on the curve.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        assert_eq!(
            PublicIdentity::from_bytes(off_curve),
            Err(CryptoError::InvalidKey)
        );
    }

    #[test]
    fn non_canonical_encodings_are_rejected() {
        // Every y in p..2^255 (y mod p = 0..18), with either sign bit, against the definition:
        // canonical iff re-compressing the decoded point gives back the same bytes.
        for v in 0u8..19 {
            for sign in [0u8, 0x80] {
                let mut bytes = [0xffu8; 32];
                bytes[0] = 0xed + v;
                bytes[31] = 0x7f | sign;
                assert!(!y_is_canonical(&bytes));
                assert_eq!(
                    PublicIdentity::from_bytes(bytes),
                    Err(CryptoError::InvalidKey)
                );
            }
        }
        // x = 0 with the sign bit set ("negative zero") for y = 1 and y = p - 1.
        let mut minus_zero_one = [0u8; 32];
        minus_zero_one[0] = 1;
        minus_zero_one[31] = 0x80;
        let mut minus_zero_minus_one = [0xffu8; 32];
        minus_zero_minus_one[0] = 0xec;
        for bytes in [minus_zero_one, minus_zero_minus_one] {
            assert_eq!(
                PublicIdentity::from_bytes(bytes),
                Err(CryptoError::InvalidKey)
            );
        }
        // Random encodings: the fast check agrees with the re-compression definition.
        let mut r = rng(12);
        let mut accepted = 0;
        for _ in 0..2000 {
            let mut bytes = [0u8; 32];
            rand_core::Rng::fill_bytes(&mut r, &mut bytes);
            let by_definition = VerifyingKey::from_bytes(&bytes)
                .is_ok_and(|k| k.to_edwards().compress().to_bytes() == bytes && !k.is_weak());
            assert_eq!(PublicIdentity::from_bytes(bytes).is_ok(), by_definition);
            accepted += usize::from(by_definition);
        }
        assert!(accepted > 500, "about half of random y are on the curve");
    }

    #[test]
    fn member_id_is_domain_separated_prefix_of_sha256() {
        let public = IdentityKey::from_secret_bytes([9; 32]).public();
        let mut hasher = Sha256::new();
        hasher.update(b"peerster/member-id/v1");
        hasher.update(public.as_bytes());
        let digest = hasher.finalize();
        assert_eq!(public.member_id().0[..], digest[..16]);
        let other = IdentityKey::from_secret_bytes([10; 32]).public();
        assert_ne!(public.member_id(), other.member_id());
    }

    #[test]
    fn postcard_round_trips() {
        let key = IdentityKey::generate(&mut rng(11));
        let public = key.public();
        let sig = key.sign(b"postcard");

        let sig_bytes = postcard::to_allocvec(&sig).unwrap();
        assert_eq!(sig_bytes.len(), 64, "no length prefix");
        assert_eq!(&sig_bytes[..], &sig.0[..]);
        assert_eq!(postcard::from_bytes::<Signature>(&sig_bytes).unwrap(), sig);
        assert!(postcard::from_bytes::<Signature>(&sig_bytes[..63]).is_err());

        let pk_bytes = postcard::to_allocvec(&public).unwrap();
        assert_eq!(&pk_bytes[..], &public.as_bytes()[..]);
        assert_eq!(
            postcard::from_bytes::<PublicIdentity>(&pk_bytes).unwrap(),
            public
        );
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(postcard::from_bytes::<PublicIdentity>(&identity).is_err());

        // Both in one struct, as wire messages will carry them.
        let pair = (public, sig);
        let bytes = postcard::to_allocvec(&pair).unwrap();
        assert_eq!(bytes.len(), 96);
        assert_eq!(
            postcard::from_bytes::<(PublicIdentity, Signature)>(&bytes).unwrap(),
            pair
        );
    }
}
