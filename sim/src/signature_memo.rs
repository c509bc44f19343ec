//! The simulation's shared memory of valid signatures: every node of a run checks signatures
//! through it, so that a heartbeat that reaches 49 members, or an announcement gossiped to
//! thousands of nodes, is verified once for real and then recognised. Answers do not change
//! (core remembers only successes, keyed by a digest of key, message and signature); a test
//! checks that runs with and without it are identical.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use peerster_core::crypto::SignatureMemo;

/// Digests remembered per generation: two generations bound the memo to about 2 × 32 bytes ×
/// this (plus the table's overhead), 64 MiB at most.
const GENERATION: usize = 1 << 20;

/// A bounded two-generation set of digests: when the young generation fills, it becomes the
/// old one and the previous old one is forgotten, so recently seen signatures stay.
#[derive(Default)]
pub struct SharedSignatureMemo {
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    young: HashSet<[u8; 32], DigestHash>,
    old: HashSet<[u8; 32], DigestHash>,
}

impl SignatureMemo for SharedSignatureMemo {
    fn contains(&self, digest: &[u8; 32]) -> bool {
        let generations = self.lock();
        generations.young.contains(digest) || generations.old.contains(digest)
    }

    fn insert(&self, digest: [u8; 32]) {
        let mut generations = self.lock();
        if generations.young.len() >= GENERATION {
            generations.old = std::mem::take(&mut generations.young);
        }
        generations.young.insert(digest);
    }
}

impl SharedSignatureMemo {
    /// An empty memo.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many digests it holds now.
    pub fn len(&self) -> usize {
        let generations = self.lock();
        generations.young.len() + generations.old.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        // A panic elsewhere while the lock was held leaves a set that is still a set.
        self.generations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The digests are SHA-256 outputs: their first eight bytes already are a uniform hash.
type DigestHash = BuildHasherDefault<DigestHasher>;

/// Hashes a digest by taking its first eight bytes.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 32]` hashes as its length (a `usize`, through `write_usize`) and then its
        // bytes in one call.
        let mut first = [0u8; 8];
        let n = bytes.len().min(8);
        first[..n].copy_from_slice(&bytes[..n]);
        self.0 ^= u64::from_le_bytes(first);
    }

    fn write_usize(&mut self, _: usize) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(i: u32) -> [u8; 32] {
        let mut d = [0u8; 32];
        d[..4].copy_from_slice(&i.to_le_bytes());
        d[31] = 1;
        d
    }

    #[test]
    fn remembers_what_it_was_given_and_nothing_else() {
        let memo = SharedSignatureMemo::new();
        assert!(memo.is_empty());
        memo.insert(digest(1));
        assert!(memo.contains(&digest(1)));
        assert!(!memo.contains(&digest(2)));
        assert_eq!(memo.len(), 1);
    }

    #[test]
    fn forgets_the_oldest_generation_when_full() {
        let memo = SharedSignatureMemo::new();
        for i in 0..(2 * GENERATION as u32 + 1) {
            memo.insert(digest(i));
        }
        assert!(!memo.contains(&digest(0)), "the first generation is gone");
        assert!(memo.contains(&digest(GENERATION as u32)));
        assert!(memo.contains(&digest(2 * GENERATION as u32)));
        assert!(memo.len() <= 2 * GENERATION);
    }
}
