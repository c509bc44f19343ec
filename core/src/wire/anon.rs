//! Anonymous-path packets: what a member seals to one other member, and how members relay it.
//!
//! Every packet of the anonymous path (a fragment of a text, an acknowledgement, and later call
//! signals, voice frames and ballots) is one [`AnonPacket`] of exactly [`ANON_PACKET_LEN`]
//! bytes:
//!
//! ```text
//! detection tag (16) ‖ HPKE enc (32) ‖ ChaCha20-Poly1305 ciphertext of the padded payload ‖ tag (16)
//! ```
//!
//! The payload ([`AnonPayload`]) is padded to [`ANON_PLAINTEXT_LEN`] and HPKE-sealed
//! ([`crate::crypto::seal_to`]) either to the recipient's epoch key, which every member
//! trial-decrypts against, or to a one-time reply key the recipient carried in an earlier
//! message. The detection tag is random in the first case; in the second it is derived from the
//! reply key ([`detection_tag`]), which only the two ends know, so the key's owner finds its
//! answers with a table lookup instead of one Diffie-Hellman per packet. To anyone else both
//! look like 16 random bytes.
//!
//! Members relay packets inside cluster frames ([`AnonRelay`]): re-sealed under the cluster key
//! with a fresh nonce at every hop, so a link observer cannot follow a packet from hop to hop,
//! and the relay header (phase, hop count) is seen only by members. The packet itself does not
//! change between hops.

use core::fmt;

use hkdf::Hkdf;
use rand_core::CryptoRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::fragment::{Fragment, MessageId};
use super::padding;
use super::{BoundedBytes, BoundedVec, DecodeError, EncodeError};
use crate::crypto::{EpochPublic, EpochSecret, PublicIdentity, SEAL_OVERHEAD, Signature, seal_to};
use crate::ids::{ClusterId, Epoch, MemberId};

/// Bytes of every anonymous packet.
pub const ANON_PACKET_LEN: usize = 512;

/// Bytes of the detection tag that opens a packet.
pub const DETECTION_TAG_LEN: usize = 16;

/// Bytes of the padded plaintext inside a packet.
pub const ANON_PLAINTEXT_LEN: usize = ANON_PACKET_LEN - DETECTION_TAG_LEN - SEAL_OVERHEAD;

/// Bytes of a message carried by one fragment: a [`Fragment`] inside an [`AnonPayload`] fills
/// the padded plaintext.
pub const ANON_FRAGMENT_BYTES: usize = 400;

/// The longest anonymous text, in bytes.
pub const MAX_ANON_TEXT: usize = 16 * 1024;

/// The largest encoded [`AnonMessage`]: the longest text with its header and signature.
pub const MAX_ANON_MESSAGE_BYTES: usize = MAX_ANON_TEXT + 512;

/// The most fragments an anonymous message has.
pub const MAX_ANON_FRAGMENTS: usize = MAX_ANON_MESSAGE_BYTES.div_ceil(ANON_FRAGMENT_BYTES);

/// HPKE `info` prefix of every anonymous packet; the cluster id follows.
const ANON_INFO: &[u8] = b"peerster/anon/v1";

/// Domain label of detection tags.
const TAG_LABEL: &[u8] = b"peerster/anon-tag/v1";

/// Domain label of a sender's signature inside a message.
const SIGNED_LABEL: &[u8] = b"peerster/anon-signed/v1";

/// A conversation: random, chosen by the member that opens it, known only to its two ends.
pub type ThreadId = [u8; 16];

/// The 16 bytes in front of a packet that let the owner of a reply key find its answers.
pub type DetectionTag = [u8; DETECTION_TAG_LEN];

/// A packet's identity for duplicate suppression and anti-entropy: SHA-256 of its bytes,
/// truncated. Nobody can make a second packet with the digest of a given one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PacketDigest(pub [u8; 16]);

impl PacketDigest {
    /// The digest's first eight bytes: what anti-entropy lists.
    pub fn short(&self) -> u64 {
        let mut prefix = [0u8; 8];
        prefix.copy_from_slice(&self.0[..8]);
        u64::from_be_bytes(prefix)
    }
}

/// A sealed anonymous packet: exactly [`ANON_PACKET_LEN`] bytes, whatever it carries.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AnonPacket(Box<[u8; ANON_PACKET_LEN]>);

impl AnonPacket {
    /// Wraps `bytes` if they are exactly one packet long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let array: [u8; ANON_PACKET_LEN] = bytes.try_into().ok()?;
        Some(AnonPacket(Box::new(array)))
    }

    /// The packet's bytes.
    pub fn as_bytes(&self) -> &[u8; ANON_PACKET_LEN] {
        &self.0
    }

    /// Its detection tag.
    pub fn tag(&self) -> DetectionTag {
        let mut tag = [0u8; DETECTION_TAG_LEN];
        tag.copy_from_slice(&self.0[..DETECTION_TAG_LEN]);
        tag
    }

    /// Its digest.
    pub fn digest(&self) -> PacketDigest {
        let hash = Sha256::digest(self.0.as_slice());
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&hash[..16]);
        PacketDigest(digest)
    }
}

impl fmt::Debug for AnonPacket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnonPacket({:016x})", self.digest().short())
    }
}

impl Serialize for AnonPacket {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0.as_slice())
    }
}

impl<'de> Deserialize<'de> for AnonPacket {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = BoundedBytes::<ANON_PACKET_LEN>::deserialize(deserializer)?;
        AnonPacket::from_bytes(&bytes).ok_or_else(|| {
            serde::de::Error::invalid_length(bytes.len(), &"an anonymous packet of 512 bytes")
        })
    }
}

/// An anonymous packet as one member hands it to another, inside a cluster frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonRelay {
    /// The epoch whose keys the packet was sealed under: relays refuse packets of epochs that
    /// are gone.
    pub epoch: Epoch,
    /// Where the packet is on its way.
    pub phase: RelayPhase,
    /// How relays treat it.
    pub class: TrafficClass,
    /// The packet, the same at every hop.
    pub packet: AnonPacket,
}

/// How relays treat an anonymous packet, as its sender marked it (only members see the
/// mark; to a link observer every relay frame looks alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TrafficClass {
    /// A message, an acknowledgement: kept in stores for members that were away, fluffed by
    /// the embargo if the stem loses it, relayed with `Config::p_stem` and
    /// `Config::anon_hop_limit`.
    Message,
    /// Voice: useless a moment later, so never stored nor embargoed, and relayed with the
    /// call's own `Config::call_p_stem` and `Config::call_hop_limit`, chosen for latency.
    Realtime,
}

/// Where an anonymous packet is on its way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RelayPhase {
    /// On the stem: passed from one member to one other, in `Config::anon_stem_copies`
    /// copies numbered from 0 (a relay tells a second copy of a hop from a stem that looped
    /// back to it).
    Stem {
        /// Which copy of this hop.
        copy: u8,
    },
    /// In the fluff flood; `hops` counts the flood hops it has made, and every relay adds one.
    Fluff {
        /// Flood hops made so far.
        hops: u8,
    },
    /// Sent by anti-entropy to a member that lacked it; not flooded further.
    Stored {
        /// Seconds it is still kept for.
        ttl_s: u16,
    },
}

/// Anti-entropy of stored anonymous packets: what the sender holds.
///
/// The sender holds `total` packets whose short digests XOR to `fingerprint`; from short
/// digest `from` upwards it lists the ones it holds, ascending. The listing covers
/// `from..=ids.last()`, or `from..=u64::MAX` when `to_end` is set. The receiver sends back the
/// packets it holds in that range that the list lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonSync {
    /// The sender, so the answer goes to the address the table gives for it.
    pub member: MemberId,
    /// How many packets the sender holds.
    pub total: u32,
    /// XOR of the short digests of all of them.
    pub fingerprint: u64,
    /// The first short digest the listing covers.
    pub from: u64,
    /// The short digests held from `from` on, ascending, at most [`AnonSync::MAX`].
    pub ids: BoundedVec<u64, { AnonSync::MAX }>,
    /// The listing runs to the end of the digest space.
    pub to_end: bool,
    /// The sender wants the receiver's own listing of the range back if the receiver lacks
    /// some of it.
    pub reply_wanted: bool,
}

impl AnonSync {
    /// The most digests one sync lists.
    pub const MAX: usize = 64;
}

/// What an anonymous packet carries, once opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnonPayload {
    /// A piece of an encoded [`AnonMessage`].
    Fragment(Fragment),
    /// "Your message arrived": sent to the message's reply key.
    Ack(AnonAck),
    /// A ballot, to an authority of its round (see [`super::vote`]).
    Ballot(super::cluster::Signed<super::vote::Ballot>),
}

/// A delivery acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonAck {
    /// The message acknowledged.
    pub message: MessageId,
}

/// An anonymous message, reassembled from its fragments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonMessage {
    /// The conversation it belongs to.
    pub thread: ThreadId,
    /// A one-time key the recipient seals its acknowledgement and replies to.
    pub reply_key: EpochPublic,
    /// What it says.
    pub body: AnonBody,
    /// The sender's identity and signature, when it chose to reveal itself.
    pub signer: Option<AnonSigner>,
}

/// The content of an anonymous message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnonBody {
    /// A text, UTF-8.
    Text(BoundedBytes<MAX_ANON_TEXT>),
    /// A call signal: the thread is the call.
    Call(super::call::CallSignal),
}

/// A sender that reveals itself to the recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonSigner {
    /// The sender's identity.
    pub identity: PublicIdentity,
    /// Its signature over [`signed_bytes`].
    pub signature: Signature,
}

/// What a revealing sender signs: the key the message is sealed to (the recipient's epoch key,
/// or the reply key it answers), the message id and everything the message says, so the
/// signature cannot be shown to anyone else as addressed to them, nor moved to another message.
pub fn signed_bytes(
    sealed_to: &EpochPublic,
    message: &MessageId,
    thread: &ThreadId,
    reply_key: &EpochPublic,
    body: &AnonBody,
) -> Vec<u8> {
    let mut bytes = SIGNED_LABEL.to_vec();
    bytes.extend_from_slice(sealed_to.as_bytes());
    bytes.extend_from_slice(message);
    bytes.extend_from_slice(thread);
    bytes.extend_from_slice(reply_key.as_bytes());
    // A body is bounded and serializable: encoding cannot fail.
    bytes.extend_from_slice(&postcard::to_allocvec(body).unwrap_or_default());
    bytes
}

/// The detection tag of the `index`-th packet sent to `reply_key`:
/// HKDF-SHA256(salt = label, ikm = reply key), expanded with the index.
pub fn detection_tag(reply_key: &EpochPublic, index: u32) -> DetectionTag {
    let hkdf = Hkdf::<Sha256>::new(Some(TAG_LABEL), reply_key.as_bytes());
    let mut tag = [0u8; DETECTION_TAG_LEN];
    // 16 bytes is far below HKDF-SHA256's output limit.
    let _ = hkdf.expand(&index.to_be_bytes(), &mut tag);
    tag
}

fn info(cluster: ClusterId) -> [u8; ANON_INFO.len() + 8] {
    let mut info = [0u8; ANON_INFO.len() + 8];
    info[..ANON_INFO.len()].copy_from_slice(ANON_INFO);
    info[ANON_INFO.len()..].copy_from_slice(&cluster.0.to_be_bytes());
    info
}

/// Seals `payload` to `recipient` (an epoch key or a reply key) as a packet of `cluster` with
/// detection tag `tag`.
pub fn seal_anon<R: CryptoRng + ?Sized>(
    rng: &mut R,
    recipient: &EpochPublic,
    cluster: ClusterId,
    tag: DetectionTag,
    payload: &AnonPayload,
) -> Result<AnonPacket, EncodeError> {
    let encoded = super::encode_payload(payload)?;
    let padded =
        padding::pad(&encoded, ANON_PLAINTEXT_LEN).ok_or(EncodeError::PayloadTooLarge {
            len: encoded.len(),
            max: ANON_PLAINTEXT_LEN - padding::LENGTH_PREFIX,
        })?;
    let mut bytes = Vec::with_capacity(ANON_PACKET_LEN);
    bytes.extend_from_slice(&tag);
    let sealed = seal_to(rng, recipient, &info(cluster), &tag, &padded)
        .map_err(|_| EncodeError::Serialize("anonymous recipient key has low order".into()))?;
    bytes.extend_from_slice(&sealed);
    AnonPacket::from_bytes(&bytes).ok_or(EncodeError::Oversize {
        len: bytes.len(),
        max: ANON_PACKET_LEN,
    })
}

/// Opens a packet of `cluster` with `secret`: [`DecodeError::Unauthenticated`] if it was not
/// sealed to that key (the usual outcome of a trial decryption).
pub fn open_anon(
    secret: &EpochSecret,
    cluster: ClusterId,
    packet: &AnonPacket,
) -> Result<AnonPayload, DecodeError> {
    let (tag, sealed) = packet.as_bytes().split_at(DETECTION_TAG_LEN);
    let padded = secret
        .open(&info(cluster), tag, sealed)
        .map_err(|_| DecodeError::Unauthenticated)?;
    super::decode_payload(padding::unpad(&padded)?)
}

#[cfg(test)]
#[path = "anon_tests.rs"]
mod tests;
