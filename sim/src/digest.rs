//! A running 64-bit hash of everything a run sent and emitted: two runs with equal digests
//! exchanged the same datagrams at the same times and emitted the same events.
//!
//! The mixing step is wyhash's folded 64 × 64 → 128-bit multiply, taking 16 bytes per step,
//! so hashing a datagram costs a few nanoseconds. It is not cryptographic: it detects
//! divergence between honest runs, not tampering.

use core::fmt;

const K0: u64 = 0xa076_1d64_78bd_642f;
const K1: u64 = 0xe703_7ed1_a0b4_28db;
const K2: u64 = 0x8ebc_6af0_9c88_c6e3;
const K3: u64 = 0x5899_65cc_7537_4cc3;

/// Multiplies `a` and `b` to 128 bits and folds the halves together.
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// A running hash that absorbs words and byte strings in order; see the module doc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest {
    state: u64,
}

impl Default for Digest {
    fn default() -> Self {
        Digest::new()
    }
}

impl Digest {
    /// The digest of nothing.
    pub const fn new() -> Digest {
        Digest { state: K0 ^ K2 }
    }

    /// Absorbs one word.
    pub fn write_u64(&mut self, word: u64) {
        self.state = fold(self.state ^ K0, word ^ K1);
    }

    /// Absorbs a byte string; its length is absorbed too, so `"ab", "c"` and `"a", "bc"`
    /// differ.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        let mut h = self.state ^ (bytes.len() as u64).wrapping_mul(K2);
        let mut chunks = bytes.chunks_exact(16);
        for chunk in &mut chunks {
            let (a, b) = chunk.split_at(8);
            h = fold(word(a) ^ h ^ K0, word(b) ^ K1);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0; 16];
            last[..rest.len()].copy_from_slice(rest);
            let (a, b) = last.split_at(8);
            h = fold(word(a) ^ h ^ K0, word(b) ^ K1);
        }
        self.state = fold(h ^ K2, (bytes.len() as u64) ^ K3);
    }

    /// The hash of everything absorbed so far.
    pub fn value(&self) -> u64 {
        fold(self.state ^ K1, K2)
    }
}

/// Reads 8 bytes as a little-endian word; shorter input is padded with zeros.
fn word(bytes: &[u8]) -> u64 {
    let mut w = [0; 8];
    w[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(w)
}

/// Lets `write!` hash formatted text (an event's `Debug` form) without allocating it.
impl fmt::Write for Digest {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(parts: &[&[u8]]) -> u64 {
        let mut d = Digest::new();
        parts.iter().for_each(|p| d.write_bytes(p));
        d.value()
    }

    #[test]
    fn the_hash_function_is_pinned() {
        // A change here changes every recorded digest: make it on purpose.
        let mut d = Digest::new();
        d.write_u64(42);
        d.write_bytes(b"peerster");
        d.write_bytes(&[7; 100]);
        assert_eq!(d.to_string(), format!("{:016x}", d.value()));
        assert_eq!(d.value(), 0x93e8af292f4372ea);
    }

    #[test]
    fn order_content_and_framing_all_count() {
        let base = of(&[b"ab", b"c"]);
        assert_ne!(base, of(&[b"a", b"bc"]));
        assert_ne!(base, of(&[b"c", b"ab"]));
        assert_ne!(base, of(&[b"ab", b"d"]));
        assert_ne!(of(&[b""]), of(&[]));
        assert_ne!(of(&[&[0; 16]]), of(&[&[0; 17]]));
        assert_eq!(base, of(&[b"ab", b"c"]));
        let mut flipped = [0u8; 1200];
        let reference = of(&[&flipped]);
        for i in (0..1200).step_by(97) {
            flipped[i] ^= 1;
            assert_ne!(of(&[&flipped]), reference, "bit at byte {i}");
            flipped[i] ^= 1;
        }
    }
}
