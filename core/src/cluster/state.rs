//! [`ClusterState`]: what a member must keep of its cluster so that, restarted, it resumes its
//! membership without a new vote.
//!
//! A host takes it with [`Node::cluster_state`](crate::Node::cluster_state) whenever the
//! membership changes (join, new epoch) and on a clean stop, keeps it (the runtime writes it to
//! a private file), and gives it back to a new node of the same identity with
//! [`Node::restore_cluster`](crate::Node::restore_cluster).
//!
//! It holds the cluster's id, size limit and current epoch, the epoch's cluster key, this
//! member's epoch secret and the fresh secrets it offered to a rollout leader (so that a
//! rollout published while it was away still opens), the member table (identities, epoch keys,
//! addresses, joined epochs, how far their heartbeat chains were accepted), the rank of the
//! rollout that opened the epoch, the generation of this member's heartbeat chain, and where
//! the chat stands (this member's last post and the last post delivered from each member).
//! It holds nothing transient: no time (the
//! host's clock may restart with the process), no votes, no anonymous conversations or calls,
//! no previous epoch, no message in flight.
//!
//! The encoding is the version byte [`CLUSTER_STATE_VERSION`] followed by the state in
//! `postcard`, with the wire's rules: one canonical encoding, every list bounded. Its secret
//! bytes are zeroized when the state and its encoding are dropped.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::epoch::{EpochState, MemberEntry, Rank};
use super::heartbeat::{ChainView, OwnChain};
use super::member::{MAX_OFFERED, Membership, Offer};
use crate::crypto::{ClusterKey, EpochPublic, EpochSecret, PublicIdentity};
use crate::ids::{ClusterId, Epoch, MemberId};
use crate::time::Timestamp;
use crate::wire::cluster::{MAX_MEMBERS, PostPosition};
use crate::wire::{BoundedVec, DecodeError, PeerAddr};

/// The version byte that starts an encoded [`ClusterState`].
pub const CLUSTER_STATE_VERSION: u8 = 2;

/// How far the generation of a restored member's heartbeat chain jumps past the one saved.
/// Members refuse a chain older than the newest they accepted (replays), and a member killed
/// without a clean stop may have started chains after its state was last saved; this step is
/// more chains than a member uses between two saves (one per `HeartbeatChain::MAX_LEN`
/// heartbeats, saves at every epoch change) in any realistic life, and leaves room for 2^32
/// restarts.
pub(crate) const RESTORE_GENERATION_STEP: u64 = 1 << 32;

/// 32 secret bytes as they are kept in a [`ClusterState`]: zeroized on drop.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct Secret32([u8; 32]);

/// One member of the table, as kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SavedMember {
    identity: PublicIdentity,
    epoch_key: EpochPublic,
    addr: PeerAddr,
    joined: Epoch,
    heartbeat: Option<ChainView>,
}

/// A fresh epoch secret offered to a rollout leader, as kept.
#[derive(Clone, Serialize, Deserialize)]
struct SavedOffer {
    leader: MemberId,
    target: Epoch,
    secret: Secret32,
}

/// The last post delivered from one author.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct SavedHead {
    author: MemberId,
    position: PostPosition,
}

/// A member's cluster membership, to be kept by the host and restored after a restart (see
/// the module documentation for what it holds). Its secrets are zeroized on drop; `Debug`
/// shows none of them.
#[derive(Clone, Serialize, Deserialize)]
pub struct ClusterState {
    cluster: ClusterId,
    limit: Option<u16>,
    epoch: Epoch,
    /// The epoch this member joined in.
    joined: Epoch,
    key: Secret32,
    my_secret: Secret32,
    leader_rank: Rank,
    /// Sorted by member id.
    members: BoundedVec<SavedMember, MAX_MEMBERS>,
    offered: BoundedVec<SavedOffer, MAX_OFFERED>,
    heartbeat_generation: u64,
    last_posted: Option<PostPosition>,
    /// Sorted by author.
    heads: BoundedVec<SavedHead, MAX_MEMBERS>,
}

/// Why an encoded [`ClusterState`] was refused, or could not be restored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterStateError {
    /// No bytes at all.
    #[error("the cluster state is empty")]
    Empty,
    /// The version byte names a format this node does not read.
    #[error("unknown cluster state version {got} (this node reads version {expected})")]
    UnknownVersion {
        /// The version byte found.
        got: u8,
        /// The version this node reads, [`CLUSTER_STATE_VERSION`].
        expected: u8,
    },
    /// The bytes are not a well-formed state (cut short, trailing bytes, a list over its
    /// bound, a bad key…).
    #[error("malformed cluster state: {0}")]
    Malformed(#[from] DecodeError),
    /// The state decodes but contradicts itself.
    #[error("inconsistent cluster state: {0}")]
    Inconsistent(&'static str),
    /// The state is not of this node's identity: its epoch secret is not the epoch key the
    /// table holds for this node.
    #[error("the cluster state belongs to another identity")]
    NotThisNode,
    /// The node is already in a cluster or joining one: a state is restored into a new node.
    #[error("the node is already in a cluster or joining one")]
    Busy,
}

impl ClusterState {
    /// The cluster's id.
    pub fn cluster(&self) -> ClusterId {
        self.cluster
    }

    /// The epoch the state is of.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The members' ids, sorted.
    pub fn members(&self) -> Vec<MemberId> {
        self.members
            .iter()
            .map(|m| m.identity.member_id())
            .collect()
    }

    /// The state's encoding: [`CLUSTER_STATE_VERSION`], then the state in `postcard`.
    /// Zeroized when dropped: it holds the cluster key and this member's epoch secrets.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        // Room for everything up front, so that no reallocation leaves a copy of a secret
        // behind in freed memory.
        let room = 256
            + self.members.len() * 192
            + self.offered.len() * 64
            + self.heads.len() * (MemberId::LEN + 16);
        let mut out = Zeroizing::new(Vec::with_capacity(room));
        out.push(CLUSTER_STATE_VERSION);
        let mut body = Zeroizing::new(vec![0u8; room]);
        // Every list is within its bound, so serializing cannot fail; were it to, the
        // encoding would be the bare version byte, which `decode` refuses.
        if let Ok(used) = postcard::to_slice(self, &mut body[..]) {
            out.extend_from_slice(used);
        }
        out
    }

    /// Decodes an encoded state, refusing anything that is not exactly one canonical, bounded
    /// and self-consistent state of this version. Never panics.
    pub fn decode(bytes: &[u8]) -> Result<ClusterState, ClusterStateError> {
        let (&version, body) = bytes.split_first().ok_or(ClusterStateError::Empty)?;
        if version != CLUSTER_STATE_VERSION {
            return Err(ClusterStateError::UnknownVersion {
                got: version,
                expected: CLUSTER_STATE_VERSION,
            });
        }
        let (state, rest) =
            postcard::take_from_bytes::<ClusterState>(body).map_err(DecodeError::from)?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingBytes { extra: rest.len() }.into());
        }
        if state.encode().as_slice() != bytes {
            return Err(DecodeError::NonCanonical.into());
        }
        state.check()?;
        Ok(state)
    }

    /// Checks what the state says of itself.
    fn check(&self) -> Result<(), ClusterStateError> {
        let inconsistent = |what| Err(ClusterStateError::Inconsistent(what));
        let ids = self.members();
        if ids.is_empty() || !ids.windows(2).all(|w| w[0] < w[1]) {
            return inconsistent("the members are not sorted by id without repeats");
        }
        if let Some(limit) = self.limit
            && (limit == 0 || ids.len() > usize::from(limit))
        {
            return inconsistent("more members than the limit");
        }
        if self.joined > self.epoch || self.members.iter().any(|m| m.joined > self.epoch) {
            return inconsistent("a member joined after the epoch");
        }
        let mine = EpochSecret::from_bytes(self.my_secret.0).public();
        if !self.members.iter().any(|m| m.epoch_key == mine) {
            return inconsistent("no member has this member's epoch key");
        }
        if self.offered.iter().any(|o| o.target < self.epoch) {
            return inconsistent("a key offered for an epoch already past");
        }
        if !self.heads.windows(2).all(|w| w[0].author < w[1].author) {
            return inconsistent("the post heads are not sorted by author without repeats");
        }
        Ok(())
    }

    /// The state of `membership`, whose member this node is.
    pub(super) fn of(membership: &Membership) -> ClusterState {
        let current = &membership.current;
        let members = current
            .table
            .values()
            .map(|e| SavedMember {
                identity: e.identity,
                epoch_key: e.epoch_key,
                addr: e.addr.into(),
                joined: e.joined,
                heartbeat: e.heartbeat,
            })
            .collect();
        let offered = membership
            .offered
            .iter()
            .map(|o| SavedOffer {
                leader: o.leader,
                target: o.target,
                secret: Secret32(*o.secret.secret_bytes()),
            })
            .collect();
        let (last_posted, heads) = membership.chat.resume_point();
        let heads = heads
            .into_iter()
            .filter(|(author, _)| current.table.contains_key(author))
            .map(|(author, position)| SavedHead { author, position })
            .collect();
        ClusterState {
            cluster: membership.cluster,
            limit: membership.limit,
            epoch: current.epoch,
            joined: membership.joined,
            key: Secret32(*current.key.as_bytes()),
            my_secret: Secret32(*current.my_secret.secret_bytes()),
            leader_rank: current.leader_rank,
            members: BoundedVec::truncating(members),
            offered: BoundedVec::truncating(offered),
            heartbeat_generation: membership.heartbeats.generation(),
            last_posted,
            heads: BoundedVec::truncating(heads),
        }
    }

    /// The membership this state resumes for the member `me`, installed at `now`: every
    /// member counts as heard from now, and this member's next heartbeat chain is
    /// [`RESTORE_GENERATION_STEP`] generations past the one saved.
    pub(super) fn resume(
        &self,
        now: Timestamp,
        me: MemberId,
        config: &crate::Config,
    ) -> Result<Membership, ClusterStateError> {
        let my_secret = EpochSecret::from_bytes(self.my_secret.0);
        let table: BTreeMap<MemberId, MemberEntry> = self
            .members
            .iter()
            .map(|m| {
                let entry = MemberEntry {
                    identity: m.identity,
                    epoch_key: m.epoch_key,
                    addr: SocketAddr::from(m.addr),
                    joined: m.joined,
                    last_heard: now,
                    heartbeat: m.heartbeat,
                };
                (m.identity.member_id(), entry)
            })
            .collect();
        if table.get(&me).map(|e| e.epoch_key) != Some(my_secret.public()) {
            return Err(ClusterStateError::NotThisNode);
        }
        let state = EpochState::new(
            self.cluster,
            self.epoch,
            ClusterKey::from_bytes(self.key.0),
            table,
            my_secret,
            self.leader_rank,
            None,
        );
        let mut membership = Membership::new(
            now,
            self.cluster,
            self.limit,
            me,
            self.joined,
            state,
            config,
        );
        membership.offered = self
            .offered
            .iter()
            .map(|o| Offer {
                leader: o.leader,
                target: o.target,
                secret: EpochSecret::from_bytes(o.secret.0),
            })
            .collect();
        membership.heartbeats = OwnChain::new(
            self.heartbeat_generation
                .saturating_add(RESTORE_GENERATION_STEP),
        );
        let heads = self.heads.iter().map(|h| (h.author, h.position)).collect();
        membership.chat = crate::chat::Chat::resumed(now, self.last_posted, heads);
        Ok(membership)
    }
}

/// One member of a cluster set up with [`ClusterState::prearranged`].
#[cfg(feature = "test-hooks")]
pub struct PrearrangedMember {
    /// Its long-term identity.
    pub identity: PublicIdentity,
    /// Where the others reach it.
    pub addr: SocketAddr,
    /// Its epoch secret for the founding epoch (the others seal rollouts to its public half).
    pub epoch_secret: EpochSecret,
}

#[cfg(feature = "test-hooks")]
impl ClusterState {
    /// The founding-epoch state of every member of a cluster whose members were agreed outside
    /// the protocol, in the order of `members`: each member restores its own with
    /// [`Node::restore_cluster`](crate::Node::restore_cluster) and they are a cluster, as if
    /// it had been formed by votes and every node restarted. For simulations that start from
    /// formed clusters (forming 200 clusters of 50 by votes costs far more than the run they
    /// are formed for); a real cluster only forms by votes, so only the `test-hooks` feature
    /// has this.
    pub fn prearranged(
        cluster: ClusterId,
        key: &ClusterKey,
        members: &[PrearrangedMember],
    ) -> Vec<ClusterState> {
        let mut table: Vec<SavedMember> = members
            .iter()
            .map(|m| SavedMember {
                identity: m.identity,
                epoch_key: m.epoch_secret.public(),
                addr: m.addr.into(),
                joined: Epoch(0),
                heartbeat: None,
            })
            .collect();
        table.sort_by_key(|m| m.identity.member_id());
        members
            .iter()
            .map(|m| ClusterState {
                cluster,
                limit: None,
                epoch: Epoch(0),
                joined: Epoch(0),
                key: Secret32(*key.as_bytes()),
                my_secret: Secret32(*m.epoch_secret.secret_bytes()),
                leader_rank: super::epoch::FOUNDING_RANK,
                members: BoundedVec::truncating(table.clone()),
                offered: BoundedVec::truncating(Vec::new()),
                heartbeat_generation: 0,
                last_posted: None,
                heads: BoundedVec::truncating(Vec::new()),
            })
            .collect()
    }
}

impl core::fmt::Debug for ClusterState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClusterState")
            .field("cluster", &self.cluster)
            .field("epoch", &self.epoch)
            .field("limit", &self.limit)
            .field("members", &self.members.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
