//! The per-call key agreement: the offer carries the caller's ephemeral X25519 key, the answer
//! the callee's; both ends derive the keys of the two directions from their Diffie-Hellman
//! with HKDF-SHA256, bound to the call and to both keys. Each end drops its ephemeral secret
//! once the keys are derived and the keys when the call ends, so a recording of the call
//! cannot be opened afterwards even with both members' long-term and epoch keys (forward
//! secrecy).

use zeroize::Zeroizing;

use crate::crypto::{EpochPublic, EpochSecret, kdf};
use crate::wire::anon::ThreadId;
use crate::wire::call::VoiceKeys;

/// HKDF salt of the call keys.
const CALL_KEY_LABEL: &[u8] = b"peerster/call-keys/v1";

/// Which end of a call this member is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallRole {
    /// It placed the call.
    Caller,
    /// It was called.
    Callee,
}

/// The keys of both directions of a call, as one end holds them.
#[derive(Debug)]
pub(crate) struct CallKeys {
    /// What this end seals its voice with.
    pub(crate) send: VoiceKeys,
    /// What the other end seals its voice with.
    pub(crate) recv: VoiceKeys,
}

/// Why call keys could not be agreed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the other end's call key is of low order")]
pub(crate) struct LowOrderKey;

/// Derives the keys of `call` at the end playing `role`, from this end's ephemeral secret and
/// the other end's ephemeral public key.
pub(crate) fn derive(
    call: &ThreadId,
    role: CallRole,
    own: &EpochSecret,
    peer: &EpochPublic,
) -> Result<CallKeys, LowOrderKey> {
    let shared = own.diffie_hellman(peer).map_err(|_| LowOrderKey)?;
    let (caller, callee) = match role {
        CallRole::Caller => (own.public(), *peer),
        CallRole::Callee => (*peer, own.public()),
    };
    let mut info = Vec::with_capacity(16 + 64);
    info.extend_from_slice(call);
    info.extend_from_slice(caller.as_bytes());
    info.extend_from_slice(callee.as_bytes());
    let mut okm = Zeroizing::new([0u8; 128]);
    // 128 bytes is far below HKDF-SHA256's output limit.
    let _ = kdf::derive(CALL_KEY_LABEL, shared.as_slice(), &info, okm.as_mut_slice());
    let part = |i: usize| {
        let mut key = [0u8; 32];
        key.copy_from_slice(&okm[i * 32..(i + 1) * 32]);
        key
    };
    let to_callee = VoiceKeys {
        key: part(0),
        tag_key: part(1),
    };
    let to_caller = VoiceKeys {
        key: part(2),
        tag_key: part(3),
    };
    Ok(match role {
        CallRole::Caller => CallKeys {
            send: to_callee,
            recv: to_caller,
        },
        CallRole::Callee => CallKeys {
            send: to_caller,
            recv: to_callee,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ends_agree_and_the_directions_differ() {
        let caller = EpochSecret::from_bytes([1; 32]);
        let callee = EpochSecret::from_bytes([2; 32]);
        let call = [3; 16];
        let a = derive(&call, CallRole::Caller, &caller, &callee.public()).unwrap();
        let b = derive(&call, CallRole::Callee, &callee, &caller.public()).unwrap();
        assert_eq!(a.send.key, b.recv.key);
        assert_eq!(a.send.tag_key, b.recv.tag_key);
        assert_eq!(a.recv.key, b.send.key);
        assert_ne!(a.send.key, a.recv.key);
        assert_ne!(a.send.key, a.send.tag_key);
        // Another call with the same keys gets other keys.
        let c = derive(&[4; 16], CallRole::Caller, &caller, &callee.public()).unwrap();
        assert_ne!(a.send.key, c.send.key);
        // A third member's key gives other keys too.
        let eve = EpochSecret::from_bytes([5; 32]);
        let e = derive(&call, CallRole::Callee, &eve, &caller.public()).unwrap();
        assert_ne!(e.recv.key, a.send.key);
    }

    #[test]
    fn a_low_order_key_is_refused() {
        let own = EpochSecret::from_bytes([1; 32]);
        assert_eq!(
            derive(&[0; 16], CallRole::Caller, &own, &EpochPublic([0; 32])).unwrap_err(),
            LowOrderKey
        );
    }
}
