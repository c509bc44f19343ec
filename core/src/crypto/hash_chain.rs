//! One-way hash chains: a member proves it is alive by revealing, one at a time, values only
//! it can know, under a single signature.
//!
//! The owner draws a random value `link[L]` and hashes backwards,
//! `link[i - 1] = H(salt, i, link[i])`, down to the head `link[0]`, which it signs once. Its
//! i-th proof reveals `link[i]`: anyone holding the head (or any earlier link `link[j]`, `j <
//! i`) hashes `link[i]` down `i - j` times and compares. Finding `link[i]` from the links
//! already revealed means inverting SHA-256, so a valid link can only come from the owner, and
//! a link already accepted is refused again by its index. This is Lamport's one-time
//! password scheme (Lamport, "Password authentication with insecure communication", CACM
//! 1981), as S/KEY (RFC 1760) and TESLA (RFC 4082) use it.
//!
//! Each step hashes a domain label, the chain's salt (its owner and generation) and the index
//! along with the value, so that no work done against one chain or one position helps
//! against another (Hu, Jakobsson and Perrig, "Efficient constructions for one-way hash
//! chains", ACNS 2005).

use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Domain label of a chain step.
const STEP_LABEL: &[u8] = b"peerster/hash-chain/v1";

/// A link of a chain: 32 bytes.
pub type Link = [u8; 32];

/// What makes one chain's steps differ from every other's: bytes naming its owner and
/// generation, hashed into every step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainSalt<'a>(pub &'a [u8]);

/// One step down the chain: the link at `index - 1` from the link at `index`.
fn step(salt: ChainSalt<'_>, index: u32, link: &Link) -> Link {
    Sha256::new()
        .chain_update(STEP_LABEL)
        .chain_update((salt.0.len() as u64).to_be_bytes())
        .chain_update(salt.0)
        .chain_update(index.to_be_bytes())
        .chain_update(link)
        .finalize()
        .into()
}

/// The owner's side: every link of one chain, kept so that each proof costs nothing. Secret
/// until revealed, so zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct HashChain {
    /// `links[i]` is the link at index `i`; `links[0]` is the head.
    links: Vec<Link>,
}

impl HashChain {
    /// A fresh chain of `len` links after its head, from the random `seed` (its last link).
    pub fn from_seed(salt: ChainSalt<'_>, len: u32, seed: Link) -> Self {
        let mut links = vec![[0; 32]; len as usize + 1];
        links[len as usize] = seed;
        for index in (1..=len).rev() {
            links[index as usize - 1] = step(salt, index, &links[index as usize]);
        }
        HashChain { links }
    }

    /// The head, `link[0]`: what the owner signs.
    pub fn head(&self) -> Link {
        self.links[0]
    }

    /// The number of links after the head: the proofs the chain holds.
    pub fn len(&self) -> u32 {
        // At most `u32::MAX + 1` links were made from a `u32` length.
        (self.links.len() - 1) as u32
    }

    /// Whether the chain holds no proof at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The link at `index` (0 is the head), if the chain is that long.
    pub fn link(&self, index: u32) -> Option<Link> {
        self.links.get(index as usize).copied()
    }
}

impl core::fmt::Debug for HashChain {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HashChain")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// Whether `link` is the chain's link at `index`, given its link `known` at `known_index`
/// (the head, at 0, or any link accepted since). Costs `index - known_index` hashes; false
/// when `index` is not after `known_index`.
pub fn verifies(
    salt: ChainSalt<'_>,
    known_index: u32,
    known: &Link,
    index: u32,
    link: &Link,
) -> bool {
    if index <= known_index {
        return false;
    }
    let mut value = *link;
    for i in (known_index + 1..=index).rev() {
        value = step(salt, i, &value);
    }
    value == *known
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: ChainSalt<'static> = ChainSalt(b"member 7, generation 1");

    fn chain(len: u32) -> HashChain {
        HashChain::from_seed(SALT, len, [42; 32])
    }

    #[test]
    fn sha256_answers_the_fips_180_2_vector() {
        // FIPS 180-2, Appendix B.1: SHA-256("abc").
        let digest: [u8; 32] = Sha256::digest(b"abc").into();
        assert_eq!(
            hex::encode(digest),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn each_step_is_sha256_of_label_salt_index_and_link() {
        let c = chain(3);
        let mut input = Vec::new();
        input.extend_from_slice(STEP_LABEL);
        input.extend_from_slice(&(SALT.0.len() as u64).to_be_bytes());
        input.extend_from_slice(SALT.0);
        input.extend_from_slice(&3u32.to_be_bytes());
        input.extend_from_slice(&[42; 32]);
        let expected: [u8; 32] = Sha256::digest(&input).into();
        assert_eq!(c.link(2), Some(expected));
        assert_eq!(c.link(3), Some([42; 32]));
        assert_eq!(c.link(4), None);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn every_link_verifies_against_the_head_and_every_earlier_link() {
        let c = chain(8);
        for index in 1..=8 {
            for known in 0..index {
                let link = c.link(index).unwrap();
                let from = c.link(known).unwrap();
                assert!(
                    verifies(SALT, known, &from, index, &link),
                    "{known} → {index}"
                );
            }
        }
    }

    #[test]
    fn a_link_does_not_verify_at_another_index_nor_backwards() {
        let c = chain(8);
        let head = c.head();
        let link = c.link(5).unwrap();
        assert!(!verifies(SALT, 0, &head, 4, &link));
        assert!(!verifies(SALT, 0, &head, 6, &link));
        // A link already accepted, or an earlier one, proves nothing new.
        assert!(!verifies(SALT, 5, &link, 5, &link));
        assert!(!verifies(SALT, 5, &link, 3, &c.link(3).unwrap()));
    }

    #[test]
    fn a_changed_link_or_salt_does_not_verify() {
        let c = chain(8);
        let head = c.head();
        let mut link = c.link(3).unwrap();
        assert!(!verifies(
            ChainSalt(b"member 7, generation 2"),
            0,
            &head,
            3,
            &link
        ));
        link[31] ^= 1;
        assert!(!verifies(SALT, 0, &head, 3, &link));
    }

    #[test]
    fn chains_of_different_salts_or_seeds_differ() {
        let other_salt = HashChain::from_seed(ChainSalt(b"other"), 8, [42; 32]);
        let other_seed = HashChain::from_seed(SALT, 8, [43; 32]);
        assert_ne!(chain(8).head(), other_salt.head());
        assert_ne!(chain(8).head(), other_seed.head());
    }
}
