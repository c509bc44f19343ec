//! Identifiers that the protocol passes around, as newtypes so that they cannot be mixed up.

use core::fmt;

use serde::{Deserialize, Serialize};

/// The id of a node and, inside a cluster, of a member: a fingerprint of its Ed25519 public key.
///
/// Derived with [`crate::crypto::PublicIdentity::member_id`]; 16 bytes are enough to name a
/// member among any realistic number of nodes and keep tables small.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MemberId(pub [u8; 16]);

impl MemberId {
    /// The length of a member id in bytes.
    pub const LEN: usize = 16;

    /// A short lowercase-hex prefix, for logs and user interfaces.
    pub fn short(&self) -> String {
        hex_prefix(&self.0, 4)
    }
}

impl fmt::Debug for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberId({})", hex_prefix(&self.0, Self::LEN))
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

/// The id of a cluster: a random 64-bit number drawn by its founder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClusterId(pub u64);

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A cluster key epoch: incremented by every key rollout.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Epoch(pub u64);

impl Epoch {
    /// The epoch after this one.
    pub fn next(self) -> Epoch {
        Epoch(self.0.saturating_add(1))
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Lowercase hex of the first `n` bytes of `bytes`.
pub(crate) fn hex_prefix(bytes: &[u8], n: usize) -> String {
    use fmt::Write;
    let mut s = String::with_capacity(2 * n);
    for b in bytes.iter().take(n) {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_id_prints_as_short_hex() {
        let id = MemberId([0xab; 16]);
        assert_eq!(id.to_string(), "abababab");
        assert_eq!(format!("{id:?}"), format!("MemberId({})", "ab".repeat(16)));
    }
}
