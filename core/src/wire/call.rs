//! Call packets: the signals that set a call up and end it, and the voice packets that carry
//! it.
//!
//! Signals ([`CallSignal`]) are anonymous messages ([`super::anon::AnonBody::Call`]): sealed,
//! relayed, acknowledged and sent again like any text. The call is the message's thread, so
//! its id travels only inside the encryption.
//!
//! Voice travels in [`VoicePayload`]s, each sealed under a per-call, per-direction key
//! ([`VoiceKeys`], agreed in the offer and the answer) into a packet of exactly
//! [`ANON_PACKET_LEN`] bytes with the layout of every other anonymous packet:
//!
//! ```text
//! detection tag (16) ‖ fresh X25519 public key (32) ‖ ChaCha20-Poly1305 of the padded payload ‖ tag (16)
//! ```
//!
//! The detection tag of the `i`-th packet of a direction is `HKDF-Expand(tag key, i)`, which
//! only the two ends can compute, so the receiving end finds its packets with a table lookup.
//! The public key in the place of HPKE's `enc` is a real one, drawn for the packet and thrown
//! away, so that a voice packet cannot be told from a message by what a relay can check. The
//! AEAD nonce is the packet index, which never repeats under one key.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};
use hkdf::Hkdf;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::anon::{
    ANON_PACKET_LEN, ANON_PLAINTEXT_LEN, AnonPacket, DETECTION_TAG_LEN, DetectionTag,
};
use super::{BoundedBytes, BoundedVec, DecodeError, EncodeError, padding};
use crate::crypto::{EpochPublic, EpochSecret};

/// Bytes of one encoded voice frame at most: 51 kbit/s of 20 ms frames, twice what a call
/// needs at the default 24 kbit/s.
pub const MAX_VOICE_FRAME: usize = 128;

/// Frames one voice packet carries at most: the newest and the ones before it, so that one
/// lost packet loses no frame.
pub const MAX_FRAMES_PER_PACKET: usize = 3;

/// Bytes of the ephemeral public key in a voice packet, where HPKE puts its `enc`.
const EPHEMERAL_LEN: usize = 32;

/// Bytes of the AEAD tag.
const AEAD_TAG_LEN: usize = 16;

/// Domain label of voice detection tags.
const VOICE_TAG_LABEL: &[u8] = b"peerster/voice-tag/v1";

/// What sets a call up and ends it, carried as an anonymous message in the call's thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallSignal {
    /// "Will you talk?": the caller's ephemeral X25519 key for this call.
    Offer {
        /// The caller's call key.
        key: EpochPublic,
    },
    /// "Yes": the callee's ephemeral X25519 key for this call.
    Accept {
        /// The callee's call key.
        key: EpochPublic,
    },
    /// "No", from the callee.
    Decline,
    /// The call is over (or, from the caller before an answer, called off).
    Hangup,
}

/// One encoded 20 ms frame of one direction of a call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceFrame {
    /// Consecutive from 0 in each direction.
    pub seq: u32,
    /// When the frame was captured: 48 kHz samples from the start of the sender's capture.
    pub timestamp: u32,
    /// The encoded audio (Opus): opaque to `core`.
    pub data: BoundedBytes<MAX_VOICE_FRAME>,
}

/// What one voice packet carries: the newest frame first, then earlier ones again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoicePayload {
    /// The frames, at least one.
    pub frames: BoundedVec<VoiceFrame, MAX_FRAMES_PER_PACKET>,
}

/// The keys of one direction of a call: its AEAD key and the key its detection tags are
/// derived from. Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct VoiceKeys {
    /// ChaCha20-Poly1305 key of the direction's packets.
    pub key: [u8; 32],
    /// HKDF pseudo-random key of the direction's detection tags.
    pub tag_key: [u8; 32],
}

impl core::fmt::Debug for VoiceKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("VoiceKeys(<redacted>)")
    }
}

impl VoiceKeys {
    /// The detection tag of this direction's `index`-th packet.
    pub fn tag(&self, index: u32) -> DetectionTag {
        let mut tag = [0u8; DETECTION_TAG_LEN];
        // A 32-byte PRK is a valid HKDF-SHA256 PRK, and 16 bytes is far below the output
        // limit: neither call can fail.
        if let Ok(hkdf) = Hkdf::<Sha256>::from_prk(&self.tag_key) {
            let _ = hkdf.expand_multi_info(&[VOICE_TAG_LABEL, &index.to_be_bytes()], &mut tag);
        }
        tag
    }
}

fn nonce(index: u32) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[8..].copy_from_slice(&index.to_be_bytes());
    Nonce::from(nonce)
}

/// Seals `payload` as this direction's `index`-th voice packet.
pub fn seal_voice<R: CryptoRng + ?Sized>(
    rng: &mut R,
    keys: &VoiceKeys,
    index: u32,
    payload: &VoicePayload,
) -> Result<AnonPacket, EncodeError> {
    let encoded = super::encode_payload(payload)?;
    let mut padded =
        padding::pad(&encoded, ANON_PLAINTEXT_LEN).ok_or(EncodeError::PayloadTooLarge {
            len: encoded.len(),
            max: ANON_PLAINTEXT_LEN - padding::LENGTH_PREFIX,
        })?;
    let mut bytes = Vec::with_capacity(ANON_PACKET_LEN);
    bytes.extend_from_slice(&keys.tag(index));
    bytes.extend_from_slice(EpochSecret::generate(rng).public().as_bytes());
    let tag = ChaCha20Poly1305::new(&keys.key.into())
        .encrypt_inout_detached(&nonce(index), &bytes, padded.as_mut_slice().into())
        .map_err(|_| EncodeError::Serialize("voice payload too long for the AEAD".into()))?;
    bytes.extend_from_slice(&padded);
    bytes.extend_from_slice(&tag);
    AnonPacket::from_bytes(&bytes).ok_or(EncodeError::Oversize {
        len: bytes.len(),
        max: ANON_PACKET_LEN,
    })
}

/// Opens this direction's `index`-th voice packet: [`DecodeError::Unauthenticated`] if it was
/// not sealed under `keys` with that index.
pub fn open_voice(
    keys: &VoiceKeys,
    index: u32,
    packet: &AnonPacket,
) -> Result<VoicePayload, DecodeError> {
    let header_len = DETECTION_TAG_LEN + EPHEMERAL_LEN;
    let bytes = packet.as_bytes();
    let (header, rest) = bytes.split_at(header_len);
    let (ciphertext, tag) = rest.split_at(rest.len() - AEAD_TAG_LEN);
    let tag: [u8; AEAD_TAG_LEN] = tag.try_into().map_err(|_| DecodeError::Unauthenticated)?;
    let mut padded = ciphertext.to_vec();
    ChaCha20Poly1305::new(&keys.key.into())
        .decrypt_inout_detached(
            &nonce(index),
            header,
            padded.as_mut_slice().into(),
            &Tag::from(tag),
        )
        .map_err(|_| DecodeError::Unauthenticated)?;
    let payload: VoicePayload = super::decode_payload(padding::unpad(&padded)?)?;
    if payload.frames.is_empty() {
        return Err(DecodeError::Malformed);
    }
    Ok(payload)
}

#[cfg(test)]
#[path = "call_tests.rs"]
mod tests;
