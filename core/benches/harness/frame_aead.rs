//! The bare AEAD a cluster frame costs (XChaCha20-Poly1305 with the frame's associated data),
//! for the baselines the benchmarks compare our frames with.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};

const FRAME_AAD: &[u8] = b"peerster/frame/v1";

/// A fixed key and nonce: a baseline measures the primitive, not key management.
pub struct FrameAead {
    aead: XChaCha20Poly1305,
    nonce: XNonce,
}

impl FrameAead {
    pub fn new() -> FrameAead {
        FrameAead {
            aead: XChaCha20Poly1305::new(&[5u8; 32].into()),
            nonce: XNonce::from([9; 24]),
        }
    }

    /// Seals `msg` as a frame would.
    pub fn seal(&self, msg: &[u8]) -> Vec<u8> {
        let payload = Payload {
            msg,
            aad: FRAME_AAD,
        };
        self.aead.encrypt(&self.nonce, payload).expect("seal")
    }

    /// Opens what [`FrameAead::seal`] sealed.
    pub fn open(&self, sealed: &[u8]) -> Vec<u8> {
        let payload = Payload {
            msg: sealed,
            aad: FRAME_AAD,
        };
        self.aead.decrypt(&self.nonce, payload).expect("open")
    }
}
