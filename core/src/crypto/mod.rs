//! Peerster's cryptography: thin, allocation-aware wrappers over audited primitives.
//!
//! | use | type | primitive |
//! |---|---|---|
//! | node identity, signatures | [`IdentityKey`], [`PublicIdentity`], [`Signature`] | Ed25519 (strict verification) |
//! | sealing to one member | [`EpochSecret`], [`EpochPublic`], [`seal_to`] | HPKE base mode, RFC 9180: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305 |
//! | cluster-wide traffic | [`ClusterKey`] | XChaCha20-Poly1305 with random 192-bit nonces |
//! | key derivation | [`kdf::derive()`], [`kdf::derive_key32`] | HKDF-SHA256 |
//! | liveness proofs | [`HashChain`], [`hash_chain::verifies`] | one-way SHA-256 chain (Lamport, RFC 1760) |
//!
//! Everything here is deterministic given its inputs: randomness is always passed in by the
//! caller as a [`rand_core::CryptoRng`] (the node's seeded `ChaCha20Rng`), never read from the
//! operating system. Secret keys are zeroized on drop and their `Debug` output never shows
//! secret bytes.
//!
//! The HPKE suite is implemented here, on top of `x25519-dalek`, `hkdf` and `chacha20poly1305`,
//! rather than through the `hpke` crate, so that the recipient's public key can be cached in
//! [`EpochSecret`]: opening then costs one X25519 scalar multiplication instead of two, which
//! matters because every member trial-decrypts every anonymous packet. The implementation is
//! cross-tested against the `hpke` crate in both directions and against RFC 9180 Appendix A.2.

pub mod cluster_aead;
pub mod hash_chain;
pub mod identity;
pub mod kdf;
pub mod memo;
pub mod seal;

pub use cluster_aead::ClusterKey;
pub use hash_chain::HashChain;
pub use identity::{IdentityKey, PublicIdentity, Signature};
pub use memo::SignatureMemo;
pub use seal::{EpochPublic, EpochSecret, SEAL_OVERHEAD, seal_to, seal_to_into};

/// Why a cryptographic operation failed.
///
/// The variants deliberately carry no detail: an attacker probing us learns only that the input
/// was rejected, not why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum CryptoError {
    /// A signature did not verify under the given public key and message.
    #[error("signature verification failed")]
    BadSignature,
    /// A sealed message could not be opened: wrong key, tampered, truncated or malformed.
    #[error("could not open sealed message")]
    OpenFailed,
    /// Bytes that were supposed to be a public key do not encode a usable key.
    #[error("invalid key")]
    InvalidKey,
    /// A message could not be sealed (for instance, to a low-order X25519 public key).
    #[error("could not seal message")]
    SealFailed,
    /// More key material was requested from HKDF-SHA256 than it can produce (255 × 32 bytes).
    #[error("requested key derivation output is too long")]
    KdfOutputTooLong,
}

/// The parts of a sealed message: its head, ciphertext and tag.
type SealedParts<'a, const HEAD: usize> = (&'a [u8; HEAD], &'a [u8], &'a [u8; 16]);

/// Splits a sealed message `head ‖ ciphertext ‖ tag` (the head is a nonce or an encapsulated
/// key of `HEAD` bytes, the tag 16 bytes), refusing anything too short to hold both.
fn split_sealed<const HEAD: usize>(sealed: &[u8]) -> Result<SealedParts<'_, HEAD>, CryptoError> {
    let (head, rest) = sealed
        .split_first_chunk::<HEAD>()
        .ok_or(CryptoError::OpenFailed)?;
    let (ciphertext, tag) = rest
        .split_last_chunk::<16>()
        .ok_or(CryptoError::OpenFailed)?;
    Ok((head, ciphertext, tag))
}
