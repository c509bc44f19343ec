//! The `cluster_state` target: any bytes into the decoder of a saved cluster state.

use peerster_core::{CLUSTER_STATE_VERSION, ClusterState};

/// Any bytes into [`ClusterState::decode`], as they are and behind the current version byte:
/// never a panic, and whatever decodes re-encodes to the same bytes (one encoding per state).
pub fn cluster_state(data: &[u8]) {
    check(data);
    let mut versioned = Vec::with_capacity(data.len() + 1);
    versioned.push(CLUSTER_STATE_VERSION);
    versioned.extend_from_slice(data);
    check(&versioned);
}

fn check(bytes: &[u8]) {
    if let Ok(state) = ClusterState::decode(bytes) {
        assert_eq!(
            state.encode().as_slice(),
            bytes,
            "two encodings of one state"
        );
        assert!(!state.members().is_empty());
    }
}
