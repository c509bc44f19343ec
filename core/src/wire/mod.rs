//! The wire format: packet types and their one encoding.
//!
//! A datagram is a version byte ([`WIRE_VERSION`]) followed by one [`Packet`] in `postcard`,
//! and is at most [`MAX_DATAGRAM_SIZE`] bytes. [`encode`] and [`decode`] are the only way in
//! and out; [`decode`] turns any malformed input into a typed [`DecodeError`] and never panics.
//! Cluster traffic is further padded and sealed into fixed-size frames by [`frame`].

pub mod anon;
mod bounded;
pub mod call;
pub mod cluster;
mod error;
pub mod fragment;
pub mod frame;
pub mod join_frame;
mod packet;
pub mod padding;
pub mod vote;

pub use bounded::{BoundedBytes, BoundedVec};
pub use error::{DecodeError, EncodeError};
pub use packet::{
    Announcement, AnnouncementBody, HandshakeNonce, Hello, HelloAck, HelloConfirm, Packet,
    PeerAddr, PeerList, Probe, STATUS_BUCKETS, SealedFrame, SealedJoin, Status, StatusRange,
};

/// The wire version this node speaks; the first byte of every datagram.
pub const WIRE_VERSION: u8 = 1;

/// The largest datagram Peerster sends or accepts. Any path MTU carries it, as QUIC assumes.
pub const MAX_DATAGRAM_SIZE: usize = 1200;

/// Encodes `packet` into a datagram.
pub fn encode(packet: &Packet) -> Result<Vec<u8>, EncodeError> {
    encode_into(packet, Vec::with_capacity(128))
}

/// Encodes a packet after the bytes of `out`, which is empty and has room for the datagram
/// when the caller knows its size.
pub(crate) fn encode_into(packet: &Packet, mut out: Vec<u8>) -> Result<Vec<u8>, EncodeError> {
    debug_assert!(out.is_empty());
    out.push(WIRE_VERSION);
    let out =
        postcard::to_extend(packet, out).map_err(|e| EncodeError::Serialize(e.to_string()))?;
    if out.len() > MAX_DATAGRAM_SIZE {
        return Err(EncodeError::Oversize {
            len: out.len(),
            max: MAX_DATAGRAM_SIZE,
        });
    }
    Ok(out)
}

/// Decodes a datagram into a packet, refusing anything that is not exactly one well-formed
/// packet of this wire version.
pub fn decode(datagram: &[u8]) -> Result<Packet, DecodeError> {
    if datagram.len() > MAX_DATAGRAM_SIZE {
        return Err(DecodeError::Oversize {
            len: datagram.len(),
            max: MAX_DATAGRAM_SIZE,
        });
    }
    let (&version, body) = datagram.split_first().ok_or(DecodeError::Empty)?;
    if version != WIRE_VERSION {
        return Err(DecodeError::UnknownVersion {
            got: version,
            expected: WIRE_VERSION,
        });
    }
    // The tag is a postcard varint; one of ours always fits its first byte, and a first byte
    // at or above the type count (a longer varint included) names no type of ours.
    let &tag = body.first().ok_or(DecodeError::Truncated)?;
    if tag >= Packet::TYPE_COUNT {
        return Err(DecodeError::UnknownPacketType { tag: tag.into() });
    }
    let (packet, rest) = postcard::take_from_bytes::<Packet>(body)?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes { extra: rest.len() });
    }
    // postcard accepts over-long varints (a length of 2 written as `82 00`). Only the one
    // canonical encoding is accepted, so a packet cannot be re-encoded into fresh bytes that
    // slip past duplicate suppression or change a digest.
    let mut canonical = [0u8; MAX_DATAGRAM_SIZE];
    match postcard::to_slice(&packet, &mut canonical) {
        Ok(bytes) if *bytes == *body => Ok(packet),
        _ => Err(DecodeError::NonCanonical),
    }
}

/// Decodes a payload carried inside a frame (a [`cluster::ClusterFrame`], a
/// [`cluster::JoinMessage`], a reassembled [`cluster::Flooded`]) with the same rules as
/// [`decode`]: exactly one value, no trailing bytes, only the canonical encoding.
pub fn decode_payload<T>(bytes: &[u8]) -> Result<T, DecodeError>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let (value, rest) = postcard::take_from_bytes::<T>(bytes)?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes { extra: rest.len() });
    }
    // A canonical encoding the same length as `bytes` fits; one that does not fit differs.
    let mut canonical = vec![0; bytes.len()];
    match postcard::to_slice(&value, &mut canonical) {
        Ok(written) if written == bytes => Ok(value),
        _ => Err(DecodeError::NonCanonical),
    }
}

/// Encodes a payload to be carried inside a frame.
pub fn encode_payload<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, EncodeError> {
    postcard::to_extend(value, Vec::with_capacity(256))
        .map_err(|e| EncodeError::Serialize(e.to_string()))
}

#[cfg(test)]
mod cluster_tests;
#[cfg(test)]
mod tests;
