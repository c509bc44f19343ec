//! The ways a datagram can fail to encode or decode.

use thiserror::Error;

/// Why a received datagram was not accepted by [`decode`](super::decode) or one of the
/// frame openers. Every malformed input maps to one of these; none panics.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The datagram is empty: not even a version byte.
    #[error("empty datagram")]
    Empty,
    /// The datagram is larger than any Peerster datagram may be.
    #[error("datagram of {len} bytes exceeds the {max}-byte limit")]
    Oversize {
        /// Length of the datagram.
        len: usize,
        /// The limit, [`MAX_DATAGRAM_SIZE`](super::MAX_DATAGRAM_SIZE).
        max: usize,
    },
    /// The version byte names a wire version this node does not speak.
    #[error("unknown wire version {got} (this node speaks {expected})")]
    UnknownVersion {
        /// The version byte received.
        got: u8,
        /// The version this node speaks.
        expected: u8,
    },
    /// The packet type tag is not one this version defines.
    #[error("unknown packet type {tag}")]
    UnknownPacketType {
        /// The tag received.
        tag: u64,
    },
    /// The datagram ended in the middle of a field.
    #[error("datagram truncated")]
    Truncated,
    /// The packet decoded but bytes were left after it.
    #[error("{extra} trailing bytes after the packet")]
    TrailingBytes {
        /// How many bytes were left.
        extra: usize,
    },
    /// The packet decoded, but from bytes other than its one canonical encoding (an over-long
    /// varint).
    #[error("non-canonical encoding")]
    NonCanonical,
    /// A variable-length field is longer than its bound.
    #[error("a field exceeds its length bound")]
    FieldTooLong,
    /// A field holds a value its type does not allow (bad varint, unknown variant, bad UTF-8…).
    #[error("malformed field")]
    Malformed,
    /// A padded frame has a length prefix past its end or non-zero padding bytes.
    #[error("bad padding")]
    BadPadding,
    /// A sealed frame did not open under any key this node holds (or was tampered with).
    #[error("sealed frame did not authenticate")]
    Unauthenticated,
}

impl From<postcard::Error> for DecodeError {
    fn from(e: postcard::Error) -> Self {
        use postcard::Error as P;
        match e {
            P::DeserializeUnexpectedEnd => DecodeError::Truncated,
            // Custom errors come only from our bounded types refusing a length.
            P::SerdeDeCustom => DecodeError::FieldTooLong,
            _ => DecodeError::Malformed,
        }
    }
}

/// Why a packet could not be encoded for sending. These are bugs or oversized user input
/// caught before anything goes on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The encoded datagram would exceed the datagram limit.
    #[error("encoded datagram of {len} bytes exceeds the {max}-byte limit")]
    Oversize {
        /// The length the datagram would have had.
        len: usize,
        /// The limit, [`MAX_DATAGRAM_SIZE`](super::MAX_DATAGRAM_SIZE).
        max: usize,
    },
    /// A payload is too large for the largest padding bucket.
    #[error("payload of {len} bytes does not fit the largest padding bucket ({max} bytes)")]
    PayloadTooLarge {
        /// The payload length.
        len: usize,
        /// The largest payload any bucket holds.
        max: usize,
    },
    /// The serializer failed (a bounded field was over its bound).
    #[error("serialization failed: {0}")]
    Serialize(String),
}
