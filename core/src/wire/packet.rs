//! The packet types a datagram can carry.
//!
//! The order of the variants of [`Packet`] is the wire tag: append new packet types at the
//! end, never reorder. The snapshot tests pin every type's bytes.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::{BoundedBytes, BoundedVec, MAX_DATAGRAM_SIZE};
use crate::crypto::memo::Verifier;
use crate::crypto::{CryptoError, EpochPublic, IdentityKey, PublicIdentity, Signature};
use crate::ids::MemberId;

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
    /// Peer exchange: addresses of other peers the sender verified.
    PeerList(PeerList),
    /// A signed node-level announcement, spread by rumor mongering.
    Rumor(Announcement),
    /// Anti-entropy: a digest of each bucket of the sender's announcement store.
    Status(Status),
    /// Anti-entropy: what the sender holds in one range of one bucket of its store.
    StatusRange(StatusRange),
    /// A join-protocol message HPKE-sealed to one node and padded to a bucket size: a join
    /// request to a contact, or a refusal or welcome to a joiner.
    Join(SealedJoin),
}

impl Packet {
    /// How many packet types this wire version defines; a tag at or above this is unknown.
    pub const TYPE_COUNT: u8 = 11;

    /// A short name of the packet type, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Packet::Hello(_) => "hello",
            Packet::HelloAck(_) => "hello-ack",
            Packet::HelloConfirm(_) => "hello-confirm",
            Packet::Ping(_) => "ping",
            Packet::Pong(_) => "pong",
            Packet::Sealed(_) => "sealed",
            Packet::PeerList(_) => "peer-list",
            Packet::Rumor(_) => "rumor",
            Packet::Status(_) => "status",
            Packet::StatusRange(_) => "status-range",
            Packet::Join(_) => "join",
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

/// The body of a [`Packet::Ping`] or [`Packet::Pong`]: a fresh random value for the next
/// packet of the other side to echo, and the echo of the last one the other side sent, so that
/// one round trip proves to each side that the other is alive at its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// A fresh random value. A ping's is echoed by the pong that answers it; a pong's by the
    /// next ping of the peer it answered.
    pub nonce: [u8; 8],
    /// In a pong, the nonce of the ping it answers. In a ping, the nonce of the last pong the
    /// pinger received from this peer (zeros before the first): it shows the pinged peer that
    /// the pinger is alive, so that the pinged peer need not ping back.
    pub echo: [u8; 8],
}

/// A cluster frame as it travels: a random nonce, then the ciphertext of a padded payload.
/// See [`super::frame`] for how it is made and opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedFrame {
    /// Nonce and ciphertext, as produced by [`crate::crypto::ClusterKey`].
    pub sealed: BoundedBytes<MAX_DATAGRAM_SIZE>,
}

/// A join frame as it travels: HPKE encapsulated key, then the ciphertext of a padded payload.
/// See [`super::join_frame`] for how it is made and opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedJoin {
    /// Encapsulated key, ciphertext and tag, as produced by [`crate::crypto::seal_to`].
    pub sealed: BoundedBytes<MAX_DATAGRAM_SIZE>,
}

/// Addresses of peers the sender has verified, so the receiver can find more peers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerList {
    /// The addresses, at most [`PeerList::MAX`].
    pub addrs: BoundedVec<PeerAddr, { PeerList::MAX }>,
    /// The sender is short of peers and asks for the receiver's list in return.
    pub reply_wanted: bool,
}

/// A UDP address as it travels: IP and port only (an IPv6 scope or flow label means nothing
/// to another host).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PeerAddr {
    /// The IP address.
    pub ip: IpAddr,
    /// The UDP port.
    pub port: u16,
}

impl From<SocketAddr> for PeerAddr {
    fn from(addr: SocketAddr) -> Self {
        PeerAddr {
            ip: addr.ip(),
            port: addr.port(),
        }
    }
}

impl From<PeerAddr> for SocketAddr {
    fn from(addr: PeerAddr) -> Self {
        SocketAddr::new(addr.ip, addr.port)
    }
}

impl PeerList {
    /// The most addresses one list carries.
    pub const MAX: usize = 32;
}

/// A node-level announcement, signed by its origin. Each origin numbers its announcements;
/// a node keeps the one with the highest number, so an old one replayed is recognised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The node that made the announcement.
    pub origin: PublicIdentity,
    /// The origin's sequence number: a newer announcement replaces an older one.
    pub seq: u64,
    /// What is announced.
    pub body: AnnouncementBody,
    /// The origin's signature over `origin`, `seq` and `body`.
    pub signature: Signature,
}

impl Announcement {
    /// Domain label of the bytes an announcement's signature covers.
    const LABEL: &'static [u8] = b"peerster/announcement/v1";

    /// Makes `identity`'s announcement number `seq` of `body`, signed.
    pub fn new_signed(identity: &IdentityKey, seq: u64, body: AnnouncementBody) -> Self {
        let origin = identity.public();
        let signature = identity.sign(&Self::signed_bytes(&origin, seq, &body));
        Announcement {
            origin,
            seq,
            body,
            signature,
        }
    }

    /// Checks that `origin` signed this announcement.
    pub fn verify(&self) -> Result<(), CryptoError> {
        self.verify_with(Verifier::default())
    }

    /// Checks that `origin` signed this announcement, through `verifier`.
    pub(crate) fn verify_with(&self, verifier: Verifier<'_>) -> Result<(), CryptoError> {
        let signed = Self::signed_bytes(&self.origin, self.seq, &self.body);
        verifier.verify(&self.origin, &signed, &self.signature)
    }

    /// The bytes the signature covers: label, origin, sequence number, encoded body.
    fn signed_bytes(origin: &PublicIdentity, seq: u64, body: &AnnouncementBody) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(Self::LABEL.len() + 32 + 8 + 80);
        bytes.extend_from_slice(Self::LABEL);
        bytes.extend_from_slice(origin.as_bytes());
        bytes.extend_from_slice(&seq.to_be_bytes());
        // Every field of a body is bounded and serializable: encoding cannot fail.
        bytes.extend_from_slice(&postcard::to_allocvec(body).unwrap_or_default());
        bytes
    }
}

/// What an [`Announcement`] says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnnouncementBody {
    /// "This node, with these public keys, is here": a node's presence and display name.
    Node {
        /// A display name chosen by its user (UTF-8, at most [`AnnouncementBody::MAX_NAME`]
        /// bytes). Not unique and not verified: the origin's key is the identity.
        name: BoundedBytes<{ AnnouncementBody::MAX_NAME }>,
        /// The node's X25519 key for messages sealed to it from outside its cluster
        /// ([`IdentityKey::node_key`]).
        node_key: EpochPublic,
    },
}

impl AnnouncementBody {
    /// The longest display name, in bytes.
    pub const MAX_NAME: usize = 64;

    /// The announced display name, if it is valid UTF-8.
    pub fn name(&self) -> Option<&str> {
        match self {
            AnnouncementBody::Node { name, .. } => core::str::from_utf8(name).ok(),
        }
    }
}

/// The number of buckets the announcement store is split into for anti-entropy.
pub const STATUS_BUCKETS: usize = 32;

/// Anti-entropy summary: for each of the [`STATUS_BUCKETS`] buckets of the sender's
/// announcement store, an 8-byte digest of the `(origin, seq)` pairs it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// One digest per bucket.
    pub digests: BoundedVec<[u8; 8], STATUS_BUCKETS>,
}

/// Anti-entropy detail: every `(origin, seq)` the sender holds with an origin id in
/// `start..end` of one bucket (an absent bound is open).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRange {
    /// The bucket.
    pub bucket: u8,
    /// The first origin id of the range, inclusive; `None` for the bucket's start.
    pub start: Option<MemberId>,
    /// The origin id after the range, exclusive; `None` for the bucket's end.
    pub end: Option<MemberId>,
    /// The entries, sorted by origin id.
    pub entries: BoundedVec<(MemberId, u64), { StatusRange::MAX }>,
}

impl StatusRange {
    /// The most entries one range carries.
    pub const MAX: usize = 40;
}
