//! The keys and identities every `cluster_member` run uses, and the real nodes' addresses.

use std::net::SocketAddr;

use peerster_core::crypto::IdentityKey;

/// Keys and identities every `cluster_member` run uses, derived once (the derivation is
/// deterministic, so caching it changes no run).
pub(super) struct Fixtures {
    /// Identities: 0 and 1 are the two real nodes, the others outsiders.
    pub(super) identities: Vec<IdentityKey>,
    /// The public node key of each identity.
    pub(super) node_keys: Vec<peerster_core::crypto::EpochPublic>,
    /// X25519 keys outsiders use as join keys or epoch keys.
    pub(super) secrets: Vec<peerster_core::crypto::EpochSecret>,
    /// Their public halves.
    pub(super) secret_publics: Vec<peerster_core::crypto::EpochPublic>,
}

/// The fixtures, derived on first use.
pub(super) fn fixtures() -> &'static Fixtures {
    use peerster_core::crypto::EpochSecret;
    static FIXTURES: std::sync::OnceLock<Fixtures> = std::sync::OnceLock::new();
    FIXTURES.get_or_init(|| {
        let identities: Vec<IdentityKey> = (0..4u8)
            .map(|i| IdentityKey::from_secret_bytes([0xa0 + i; 32]))
            .collect();
        let node_keys = identities.iter().map(|i| i.node_key().public()).collect();
        let secrets: Vec<EpochSecret> = (0..3u8)
            .map(|i| EpochSecret::from_bytes([0xc0 + i; 32]))
            .collect();
        let secret_publics = secrets.iter().map(EpochSecret::public).collect();
        Fixtures {
            identities,
            node_keys,
            secrets,
            secret_publics,
        }
    })
}

/// The address of real node `i` (0 or 1).
pub(super) fn real_addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1 + i as u8], 7000))
}
