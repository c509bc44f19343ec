//! [`SafetyNumber`]: a short code two members compute from their two identity keys and
//! compare in person (or over a channel they trust), as Signal's safety numbers are. If the
//! codes match, neither side talks to an impostor holding another key.
//!
//! The code is the same on both sides: the two 32-byte Ed25519 public identity keys are
//! sorted bytewise, and `h = SHA-512("peerster/safety-number/v1" ‖ low ‖ high)` is iterated
//! [`ITERATIONS`] times as `h = SHA-512(h ‖ low ‖ high)` (as Signal does, to slow down a
//! search for a key pair with a chosen code). The first 60 bytes of the last hash are read as
//! 12 big-endian 5-byte numbers, each taken modulo 100000: 12 groups of 5 decimal digits (60
//! digits, about 199 bits), the length of Signal's. SHA-512 rather than SHA-256 so that one
//! hash covers the 12 groups.

use std::fmt;

use sha2::{Digest, Sha512};

/// Domain separation: a hash made for another purpose is never a safety number.
const LABEL: &[u8] = b"peerster/safety-number/v1";
/// How many times the hash is iterated.
pub const ITERATIONS: usize = 5200;
/// Groups of digits in a safety number.
pub const GROUPS: usize = 12;
/// Bytes of the hash read per group.
const BYTES_PER_GROUP: usize = 5;

/// The code two identities share: [`GROUPS`] groups of 5 decimal digits, shown separated by
/// spaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SafetyNumber([u32; GROUPS]);

impl SafetyNumber {
    /// The safety number of the identities whose public keys are `a` and `b`, in either order.
    pub fn of(a: &[u8; 32], b: &[u8; 32]) -> SafetyNumber {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let mut hash = Sha512::new()
            .chain_update(LABEL)
            .chain_update(low)
            .chain_update(high)
            .finalize();
        for _ in 1..ITERATIONS {
            hash = Sha512::new()
                .chain_update(hash)
                .chain_update(low)
                .chain_update(high)
                .finalize();
        }
        let mut groups = [0; GROUPS];
        for (group, chunk) in groups.iter_mut().zip(hash.chunks_exact(BYTES_PER_GROUP)) {
            let value = chunk.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
            // Below 100000: fits.
            *group = u32::try_from(value % 100_000).unwrap_or(0);
        }
        SafetyNumber(groups)
    }

    /// The groups, each below 100000.
    pub fn groups(&self) -> &[u32; GROUPS] {
        &self.0
    }
}

impl fmt::Display for SafetyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{group:05}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_compute_the_same_number() {
        let (alice, bob) = ([1; 32], [2; 32]);
        assert_eq!(
            SafetyNumber::of(&alice, &bob),
            SafetyNumber::of(&bob, &alice)
        );
    }

    #[test]
    fn another_pair_gets_another_number() {
        let (alice, bob, mallory) = ([1; 32], [2; 32], [3; 32]);
        let genuine = SafetyNumber::of(&alice, &bob);
        assert_ne!(genuine, SafetyNumber::of(&alice, &mallory));
        assert_ne!(genuine, SafetyNumber::of(&mallory, &bob));
        let mut flipped = bob;
        flipped[31] ^= 1;
        assert_ne!(genuine, SafetyNumber::of(&alice, &flipped));
    }

    #[test]
    fn the_number_is_twelve_groups_of_five_digits_and_stable() {
        let text = SafetyNumber::of(&[1; 32], &[2; 32]).to_string();
        let groups: Vec<&str> = text.split(' ').collect();
        assert_eq!(groups.len(), GROUPS, "{text}");
        assert!(
            (groups.iter()).all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit())),
            "{text}"
        );
        // Pinned: a change of the derivation must be a new version of the label.
        assert_eq!(text, PINNED, "the derivation changed");
    }

    /// Computed independently (Python hashlib) from the derivation in the module doc.
    const PINNED: &str = "80170 27405 43780 37250 16550 94875 07685 94317 55232 27174 15175 78049";
}
