//! The packet types a datagram can carry.
//!
//! The order of the variants of [`Packet`] is the wire tag: append new packet types at the
//! end, never reorder. The snapshot tests pin every type's bytes.

use serde::{Deserialize, Serialize};

use super::{BoundedBytes, MAX_DATAGRAM_SIZE};
use crate::crypto::{PublicIdentity, Signature};

/// A fresh random value that binds a handshake reply to its request.
pub type HandshakeNonce = [u8; 16];

/// Everything a Peerster datagram can carry, after its version byte.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Packet {
    /// First message of the node handshake: "this is my identity, prove yours".
    Hello(Hello),
    /// Second message: the answerer's identity and its signature over the exchange.
    HelloAck(HelloAck),
    /// Third message: the initiator's signature, completing mutual authentication.
    HelloConfirm(HelloConfirm),
    /// Liveness probe to a verified peer.
    Ping(Probe),
    /// Answer to a [`Packet::Ping`], echoing its nonce.
    Pong(Probe),
    /// A cluster frame: padded to a bucket size and sealed under the cluster key, so that an
    /// observer learns nothing from it but its bucket.
    Sealed(SealedFrame),
}

impl Packet {
    /// How many packet types this wire version defines; a tag at or above this is unknown.
    pub const TYPE_COUNT: u8 = 6;

    /// A short name of the packet type, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Packet::Hello(_) => "hello",
            Packet::HelloAck(_) => "hello-ack",
            Packet::HelloConfirm(_) => "hello-confirm",
            Packet::Ping(_) => "ping",
            Packet::Pong(_) => "pong",
            Packet::Sealed(_) => "sealed",
        }
    }
}

/// Opens a handshake: the initiator's identity and a nonce the answer must sign.
///
/// A `Hello` carries zero padding so that it is at least as large as the [`HelloAck`] it
/// asks for: a node never answers with more bytes than it received, so it cannot be used to
/// amplify a flood at a spoofed address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The initiator's long-term public identity.
    pub identity: PublicIdentity,
    /// A fresh nonce the answerer signs over.
    pub nonce: HandshakeNonce,
    /// Zero bytes that make the `Hello` as large as its answer.
    pub padding: BoundedBytes<{ Hello::MAX_PADDING }>,
}

impl Hello {
    /// The most padding a `Hello` may carry.
    pub const MAX_PADDING: usize = 256;
}

/// Answers a [`Hello`]: the answerer's identity, its own nonce, and its signature binding both
/// nonces and the initiator's identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloAck {
    /// The answerer's long-term public identity.
    pub identity: PublicIdentity,
    /// A fresh nonce the initiator signs over in its [`HelloConfirm`].
    pub nonce: HandshakeNonce,
    /// The initiator's nonce, echoed.
    pub echo: HandshakeNonce,
    /// The answerer's signature over the handshake transcript.
    pub signature: Signature,
}

/// Completes a handshake: the initiator's signature over the answerer's nonce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloConfirm {
    /// The answerer's nonce, echoed.
    pub echo: HandshakeNonce,
    /// The initiator's signature over the handshake transcript.
    pub signature: Signature,
}

/// The body of a [`Packet::Ping`] or [`Packet::Pong`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// A random value the answer echoes, proving it came from the pinged address.
    pub nonce: [u8; 8],
}

/// A cluster frame as it travels: a random nonce, then the ciphertext of a padded payload.
/// See [`super::frame`] for how it is made and opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedFrame {
    /// Nonce and ciphertext, as produced by [`crate::crypto::ClusterKey`].
    pub sealed: BoundedBytes<MAX_DATAGRAM_SIZE>,
}
