//! What members of a cluster, and nodes asking to join one, say to each other.
//!
//! None of these types travels in clear. Member traffic is a [`ClusterFrame`] padded and sealed
//! under the cluster key ([`super::frame`]); join traffic is a [`JoinMessage`] padded and sealed
//! with HPKE to a node key or a join key ([`super::join_frame`]). Objects that every member
//! must receive (posts, rollouts, admissions, leaves) are [`Flooded`]: encoded once, split into
//! [`Fragment`]s and relayed by every member that completes them.
//!
//! Everything that says who did what is [`Signed`] by that member, inside the encryption, with
//! a domain label per type, so a member cannot speak for another and a signature cannot be
//! taken from one kind of message to another.

use serde::{Deserialize, Serialize};

use super::anon::{AnonPacket, AnonRelay, AnonSync};
use super::fragment::Fragment;
use super::vote::{Decision, Proposal, PublishedTally};
use super::{BoundedBytes, BoundedVec, PeerAddr};
use crate::crypto::memo::Verifier;
use crate::crypto::{
    ClusterKey, CryptoError, EpochPublic, IdentityKey, PublicIdentity, SEAL_OVERHEAD, Signature,
};
use crate::ids::{ClusterId, Epoch, MemberId};

/// The most members a cluster can have, whatever its configured limit: every member holds the
/// whole table, and a rollout carries it.
pub const MAX_MEMBERS: usize = 256;

/// The longest post text, in bytes.
pub const MAX_POST_BYTES: usize = 16 * 1024;

/// The largest encoded [`Flooded`] object (a rollout of [`MAX_MEMBERS`] members and a vote
/// decision with the tallies of [`MAX_AUTHORITIES`](super::vote::MAX_AUTHORITIES) fit).
pub const MAX_FLOODED_BYTES: usize = 128 * 1024;

/// The most vote decisions one rollout records.
pub const MAX_DECISIONS: usize = 8;

/// The length of a cluster key sealed with HPKE to one member.
pub const SEALED_KEY_LEN: usize = ClusterKey::LEN + SEAL_OVERHEAD;

/// Bytes of a flooded object carried by one fragment: a fragment, its frame header and its
/// padding prefix fit the largest padding bucket.
pub const FRAGMENT_PAYLOAD: usize = 1100;

/// A message type that travels [`Signed`]: its own domain label.
pub trait SignedBody: Serialize {
    /// The domain label prefixed to the bytes the signature covers.
    const LABEL: &'static [u8];
}

/// A message and its author's Ed25519 signature over `LABEL ‖ postcard(body)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed<T> {
    /// What is signed.
    pub body: T,
    /// The signer's signature.
    pub signature: Signature,
}

impl<T: SignedBody> Signed<T> {
    /// Signs `body` with `identity`.
    pub fn sign(identity: &IdentityKey, body: T) -> Self {
        let signature = identity.sign(&signed_bytes(&body));
        Signed { body, signature }
    }

    /// Checks that `signer` signed this message.
    pub fn verify(&self, signer: &PublicIdentity) -> Result<(), CryptoError> {
        self.verify_with(signer, Verifier::default())
    }

    /// Checks that `signer` signed this message, through `verifier`.
    pub(crate) fn verify_with(
        &self,
        signer: &PublicIdentity,
        verifier: Verifier<'_>,
    ) -> Result<(), CryptoError> {
        verifier.verify(signer, &signed_bytes(&self.body), &self.signature)
    }
}

fn signed_bytes<T: SignedBody>(body: &T) -> Vec<u8> {
    let mut bytes = T::LABEL.to_vec();
    // Every field of a body is bounded and serializable: encoding cannot fail.
    bytes.extend_from_slice(&postcard::to_allocvec(body).unwrap_or_default());
    bytes
}

/// The plaintext of a sealed cluster frame.
///
/// The cluster id and epoch are inside the encryption: an observer cannot tell which cluster,
/// or which epoch, a frame belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterFrame {
    /// The cluster the sender is a member of.
    pub cluster: ClusterId,
    /// The sender's epoch: the key that sealed the frame.
    pub epoch: Epoch,
    /// What the frame says.
    pub body: FrameBody,
}

/// The kinds of cluster frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrameBody {
    /// "I am alive": sent to every member at the heartbeat interval.
    Heartbeat(Heartbeat),
    /// A piece of a [`Flooded`] object.
    Fragment(Fragment),
    /// From a rollout leader: "send me a fresh epoch key for the next epoch".
    KeyRequest(KeyRequest),
    /// A member's fresh epoch key, to the leader that asked for it.
    KeyOffer(Signed<KeyOffer>),
    /// Anti-entropy of posts: the last post the sender delivered from each author.
    PostSync(PostSync),
    /// An anonymous packet on its way (see [`super::anon`]).
    Anon(AnonRelay),
    /// Anti-entropy of stored anonymous packets.
    AnonSync(AnonSync),
    /// A ballot, sealed to the authority this frame is sent to, in an anonymous-path packet.
    Ballot(AnonPacket),
    /// Cover traffic: random bytes the size of an anonymous packet, sent in place of voice a
    /// member does not have (see `Config::cover_rate`); the receiver drops it. Its frame is
    /// the size of an [`FrameBody::Anon`] frame.
    Cover(AnonPacket),
}

/// A member's liveness signal: the next link of its heartbeat chain (see
/// [`crate::crypto::hash_chain`]). The link proves the sender alive without a signature of its
/// own: only the member that signed the chain's head knows the links not yet revealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The chain the link belongs to, its head signed by the sender. Sent with every
    /// heartbeat, so that a member that missed earlier ones can check this one; it is
    /// verified once per chain.
    pub chain: Signed<HeartbeatChain>,
    /// The link's index in the chain, from 1 to [`HeartbeatChain::MAX_LEN`].
    pub index: u32,
    /// The link: hashed down `index` times, it gives the chain's head.
    pub link: [u8; 32],
    /// A probe: the sender has not heard from the receiver for two heartbeat intervals, and
    /// the receiver answers with a heartbeat at once.
    pub answer: bool,
}

/// A member's commitment to one heartbeat chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatChain {
    /// The cluster.
    pub cluster: ClusterId,
    /// The member (the signer).
    pub member: MemberId,
    /// Increases with every chain of one membership: a member keeps the chain of the highest
    /// generation it has checked, so an older chain is not accepted again.
    pub generation: u64,
    /// The chain's head, `link[0]`.
    pub head: [u8; 32],
}

impl HeartbeatChain {
    /// The most links a heartbeat chain has: a member starts a new chain (one signature)
    /// after this many heartbeats, and a receiver hashes at most this many times per
    /// heartbeat.
    pub const MAX_LEN: u32 = 64;

    /// The salt of the chain's steps: its member and generation.
    pub fn salt(&self) -> [u8; 24] {
        let mut salt = [0; 24];
        salt[..16].copy_from_slice(&self.member.0);
        salt[16..].copy_from_slice(&self.generation.to_be_bytes());
        salt
    }
}

impl SignedBody for HeartbeatChain {
    const LABEL: &'static [u8] = b"peerster/heartbeat-chain/v1";
}

/// A rollout leader's request for fresh epoch keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRequest {
    /// The leader asking.
    pub leader: MemberId,
    /// The epoch the rollout will open.
    pub target: Epoch,
}

/// A member's fresh epoch key for the epoch a rollout will open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyOffer {
    /// The cluster.
    pub cluster: ClusterId,
    /// The epoch the key is for.
    pub target: Epoch,
    /// The leader it is offered to.
    pub leader: MemberId,
    /// The member offering it.
    pub member: MemberId,
    /// The public half of the member's fresh X25519 epoch key.
    pub key: EpochPublic,
}

impl SignedBody for KeyOffer {
    const LABEL: &'static [u8] = b"peerster/key-offer/v1";
}

/// Where a post stands in its author's sequence: the epoch it was posted in and its number
/// among the author's posts of that epoch.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct PostPosition {
    /// The epoch the post was made in.
    pub epoch: Epoch,
    /// Its number among its author's posts of that epoch, from 0.
    pub seq: u32,
}

/// Anti-entropy of posts: for the authors with table indices `first..=last` (in the frame
/// epoch's table, sorted by member id), the last post the sender delivered from each. An
/// author of that range with no entry is one the sender has delivered nothing from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostSync {
    /// The sender. Answers go to the address the table gives for it, not to the datagram's
    /// source, so claiming another member's id gains nothing.
    pub member: MemberId,
    /// The first table index covered.
    pub first: u16,
    /// The last table index covered.
    pub last: u16,
    /// The heads, at most [`PostSync::MAX`].
    pub heads: BoundedVec<AuthorHead, { PostSync::MAX }>,
    /// The sender wants the receiver's own sync back if the receiver is behind it.
    pub reply_wanted: bool,
}

impl PostSync {
    /// The most authors one sync covers.
    pub const MAX: usize = 96;
}

/// The last post delivered from one author.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorHead {
    /// The author's index in the table.
    pub index: u16,
    /// Its last delivered post.
    pub head: PostPosition,
}

/// An object flooded to every member: encoded, fragmented, relayed once by each member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flooded {
    /// A confidential post to the whole cluster.
    Post(Signed<Post>),
    /// A key rollout: the new epoch's member table and key.
    Rollout(Signed<Rollout>),
    /// A member opens a vote.
    Proposal(Signed<Proposal>),
    /// An authority's count of a round of a vote. (Boxed: it may carry ballots.)
    Tally(Box<PublishedTally>),
    /// A member leaves: the next rollout must drop it.
    Leave(Signed<Leave>),
}

/// A post, signed by its author inside the cluster encryption.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// The cluster.
    pub cluster: ClusterId,
    /// The author.
    pub author: MemberId,
    /// Where the post stands in its author's sequence.
    pub position: PostPosition,
    /// The author's previous post, so that posts are delivered in the author's order; `None`
    /// for the first post of a membership.
    pub prev: Option<PostPosition>,
    /// The text, UTF-8.
    pub text: BoundedBytes<MAX_POST_BYTES>,
}

impl SignedBody for Post {
    const LABEL: &'static [u8] = b"peerster/post/v1";
}

/// A key rollout, signed by its leader: the member table of the new epoch and, for each
/// member, the new cluster key sealed to that member's epoch key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// The cluster.
    pub cluster: ClusterId,
    /// The epoch it opens.
    pub epoch: Epoch,
    /// The member that led it.
    pub leader: MemberId,
    /// The cluster's member limit, if any.
    pub limit: Option<u16>,
    /// The members of the new epoch, sorted by member id, without repeats.
    pub members: BoundedVec<RolloutEntry, MAX_MEMBERS>,
    /// The votes this rollout closes; every member it adds is admitted by one of them, every
    /// member expelled by one is gone.
    pub decisions: BoundedVec<Decision, MAX_DECISIONS>,
}

impl SignedBody for Rollout {
    const LABEL: &'static [u8] = b"peerster/rollout/v1";
}

/// One member of a rollout's table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutEntry {
    /// The member's long-term identity.
    pub identity: PublicIdentity,
    /// The member's X25519 key for this epoch: messages sealed to it, and the cluster key.
    pub epoch_key: EpochPublic,
    /// Where the member receives datagrams.
    pub addr: PeerAddr,
    /// The epoch the member joined in: it is sent no post older than that.
    pub joined: Epoch,
    /// The new cluster key, HPKE-sealed to `epoch_key`.
    pub sealed_key: BoundedBytes<SEALED_KEY_LEN>,
}

/// A member leaves the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leave {
    /// The cluster.
    pub cluster: ClusterId,
    /// The member's epoch when it left.
    pub epoch: Epoch,
    /// The member leaving (the signer).
    pub member: MemberId,
}

impl SignedBody for Leave {
    const LABEL: &'static [u8] = b"peerster/leave/v1";
}

/// What a joiner and its contact say to each other, HPKE-sealed: a request to the contact's
/// node key, a refusal or a welcome to the joiner's fresh join key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinMessage {
    /// "Let me into your cluster." (Boxed: an identity is large in memory.)
    Request(Box<Signed<JoinRequest>>),
    /// "No", with the reason.
    Refusal(Signed<JoinRefusal>),
    /// A piece of the signed [`Rollout`] that admitted the joiner.
    Welcome(Welcome),
}

/// A piece of the welcome: the signed [`Rollout`] that admitted the joiner, encoded as
/// [`Flooded`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// Which of its sender's welcomes to this joiner it is: a contact that settles on another
    /// rollout (two leaders raced) numbers its next welcome higher, and the joiner follows the
    /// highest, whatever order copies arrive in. A leader's welcome is number 0.
    pub seq: u32,
    /// The piece.
    pub fragment: Fragment,
}

/// A join request, signed by the joiner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The joiner's identity.
    pub joiner: PublicIdentity,
    /// The member asked, so the request cannot be replayed to another.
    pub contact: MemberId,
    /// The address the request was sent to: how the contact is reached from outside, which
    /// a node behind its socket cannot know by itself.
    pub contact_addr: PeerAddr,
    /// A fresh X25519 key: the welcome is sealed to it, and it is the joiner's first epoch key.
    pub join_key: EpochPublic,
}

impl SignedBody for JoinRequest {
    const LABEL: &'static [u8] = b"peerster/join-request/v1";
}

/// A refused join, signed by the contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRefusal {
    /// The member that refused.
    pub contact: MemberId,
    /// The join key of the request refused.
    pub join_key: EpochPublic,
    /// Why.
    pub reason: RefusalReason,
}

impl SignedBody for JoinRefusal {
    const LABEL: &'static [u8] = b"peerster/join-refusal/v1";
}

/// Why a join was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalReason {
    /// The contact is in no cluster.
    NotInCluster,
    /// The cluster has reached its member limit.
    Full,
    /// The contact (or its user) declined.
    Declined,
}

impl core::fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RefusalReason::NotInCluster => "the contact is in no cluster",
            RefusalReason::Full => "the cluster is full",
            RefusalReason::Declined => "the join was declined",
        })
    }
}
