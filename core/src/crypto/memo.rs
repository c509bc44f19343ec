//! A host-provided memory of signatures already found valid.
//!
//! A simulator runs thousands of nodes in one process, and most signatures reach many of them:
//! a post or the head of a heartbeat chain is checked by every other member of its cluster, an
//! announcement by every node it is gossiped to. Checking each distinct (key, message,
//! signature) once and remembering that it held gives the same answers at a fraction of the
//! cost, as Bitcoin Core's signature cache does for transactions checked in the mempool and
//! again in a block.
//!
//! A node uses a memo only when its host installs one ([`crate::Node::set_signature_memo`]);
//! a node alone in its process gains nothing from it and the runtime leaves it out. The memo
//! is consulted only for successes: a signature that fails is checked in full every time, and
//! a memo that forgets (it may be bounded in any way it likes) only costs time, never changes
//! an answer.

use sha2::{Digest, Sha256};

use super::{CryptoError, PublicIdentity, Signature};

/// Domain label of the digest a memo stores.
const MEMO_DOMAIN: &[u8] = b"peerster/signature-memo/v1";

/// A memory of digests of valid (key, message, signature) triples, shared by the nodes of one
/// host. Implementations choose their own bound and eviction.
pub trait SignatureMemo: Send + Sync {
    /// Whether `digest` was remembered.
    fn contains(&self, digest: &[u8; 32]) -> bool;
    /// Remembers `digest`, the digest of a triple that verified.
    fn insert(&self, digest: [u8; 32]);
}

/// How a node checks signatures: in full each time, or through its host's memo.
#[derive(Clone, Copy, Default)]
pub(crate) struct Verifier<'a> {
    memo: Option<&'a dyn SignatureMemo>,
}

impl<'a> Verifier<'a> {
    /// A verifier that checks through `memo` when there is one.
    pub(crate) fn new(memo: Option<&'a dyn SignatureMemo>) -> Self {
        Verifier { memo }
    }

    /// Checks that `sig` is `signer`'s strict Ed25519 signature on `msg`.
    pub(crate) fn verify(
        &self,
        signer: &PublicIdentity,
        msg: &[u8],
        sig: &Signature,
    ) -> Result<(), CryptoError> {
        let Some(memo) = self.memo else {
            return signer.verify(msg, sig);
        };
        let digest = memo_digest(signer, msg, sig);
        if memo.contains(&digest) {
            return Ok(());
        }
        signer.verify(msg, sig)?;
        memo.insert(digest);
        Ok(())
    }
}

/// SHA-256 over the domain, the key, the signature, the message's length and the message: the
/// fixed-length fields first, so that no two triples share an encoding.
fn memo_digest(signer: &PublicIdentity, msg: &[u8], sig: &Signature) -> [u8; 32] {
    Sha256::new()
        .chain_update(MEMO_DOMAIN)
        .chain_update(signer.as_bytes())
        .chain_update(sig.0)
        .chain_update((msg.len() as u64).to_be_bytes())
        .chain_update(msg)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::crypto::IdentityKey;

    /// A memo that counts what it is asked.
    #[derive(Default)]
    struct CountingMemo {
        seen: Mutex<HashSet<[u8; 32]>>,
        hits: AtomicUsize,
        inserts: AtomicUsize,
    }

    impl SignatureMemo for CountingMemo {
        fn contains(&self, digest: &[u8; 32]) -> bool {
            let hit = self.seen.lock().unwrap().contains(digest);
            if hit {
                self.hits.fetch_add(1, Ordering::Relaxed);
            }
            hit
        }
        fn insert(&self, digest: [u8; 32]) {
            self.inserts.fetch_add(1, Ordering::Relaxed);
            self.seen.lock().unwrap().insert(digest);
        }
    }

    #[test]
    fn a_valid_signature_is_checked_once_and_then_remembered() {
        let key = IdentityKey::from_secret_bytes([7; 32]);
        let sig = key.sign(b"heartbeat");
        let memo = CountingMemo::default();
        let verifier = Verifier::new(Some(&memo));
        for _ in 0..3 {
            assert_eq!(verifier.verify(&key.public(), b"heartbeat", &sig), Ok(()));
        }
        assert_eq!(memo.inserts.load(Ordering::Relaxed), 1);
        assert_eq!(memo.hits.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_remembered_signature_does_not_vouch_for_another_message_key_or_signature() {
        let key = IdentityKey::from_secret_bytes([7; 32]);
        let other = IdentityKey::from_secret_bytes([8; 32]);
        let sig = key.sign(b"yes");
        let memo = CountingMemo::default();
        let verifier = Verifier::new(Some(&memo));
        assert_eq!(verifier.verify(&key.public(), b"yes", &sig), Ok(()));
        let bad = Err(CryptoError::BadSignature);
        assert_eq!(verifier.verify(&key.public(), b"no", &sig), bad);
        assert_eq!(verifier.verify(&other.public(), b"yes", &sig), bad);
        let mut mauled = sig;
        mauled.0[63] ^= 0x10;
        assert_eq!(verifier.verify(&key.public(), b"yes", &mauled), bad);
        // Failures are never remembered: each is checked again in full.
        assert_eq!(verifier.verify(&other.public(), b"yes", &sig), bad);
        assert_eq!(memo.inserts.load(Ordering::Relaxed), 1);
        assert_eq!(memo.hits.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn without_a_memo_every_check_is_in_full() {
        let key = IdentityKey::from_secret_bytes([1; 32]);
        let sig = key.sign(b"m");
        let verifier = Verifier::default();
        assert_eq!(verifier.verify(&key.public(), b"m", &sig), Ok(()));
        assert_eq!(
            verifier.verify(&key.public(), b"n", &sig),
            Err(CryptoError::BadSignature)
        );
    }
}
