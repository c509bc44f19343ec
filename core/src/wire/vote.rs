//! What members say to each other when they vote on who enters or leaves their cluster.
//!
//! A [`Proposal`] is flooded to every member. Each member seals a [`Ballot`] to each of the
//! proposal's drawn authorities, inside an anonymous-path packet
//! ([`AnonPayload::Ballot`](super::anon::AnonPayload::Ballot)) handed over directly in a
//! [`FrameBody::Ballot`](super::cluster::FrameBody::Ballot) frame: on the wire it looks like any
//! anonymous packet. Each authority floods a [`Tally`]. The rollout that applies (or closes)
//! the vote carries a [`Decision`]: the proposal and, for an outcome, the identical signed
//! tallies of every authority of the round that decided it. See `docs/design.md` § Votes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::cluster::{Signed, SignedBody};
use super::{BoundedVec, PeerAddr};
use crate::crypto::{EpochPublic, PublicIdentity};
use crate::ids::{ClusterId, Epoch, MemberId};

/// The most authorities a round draws: a majority of the largest cluster.
pub const MAX_AUTHORITIES: usize = super::cluster::MAX_MEMBERS / 2 + 1;

/// The id of a proposal: a digest of its cluster and what it proposes, so the same proposal
/// made twice is one vote, and a proposer has nothing to vary that would steer the draw of
/// authorities.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct ProposalId(pub [u8; 16]);

impl core::fmt::Display for ProposalId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for byte in &self.0[..4] {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// What a proposal asks the members to decide.
// Proposals are few and short-lived; boxing the larger variant would only complicate every
// match on them.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProposalKind {
    /// Let a joiner in: it asked the proposer (its contact) with this join key.
    Admit {
        /// The joiner's identity.
        joiner: PublicIdentity,
        /// The fresh epoch key it sent with its request.
        join_key: EpochPublic,
        /// Its address, as the contact saw it.
        addr: PeerAddr,
    },
    /// Remove a member.
    Expel {
        /// The member.
        member: MemberId,
    },
}

impl ProposalKind {
    /// The member the proposal is about.
    pub fn subject(&self) -> MemberId {
        match self {
            ProposalKind::Admit { joiner, .. } => joiner.member_id(),
            ProposalKind::Expel { member } => *member,
        }
    }
}

/// A proposal, signed by the member that opens it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The cluster.
    pub cluster: ClusterId,
    /// The proposer's epoch when it opened the proposal.
    pub epoch: Epoch,
    /// The member that opened it.
    pub proposer: MemberId,
    /// What it proposes.
    pub kind: ProposalKind,
    /// Authorities publish the signed ballots with their tallies, so every member recounts
    /// them (and ballots are no longer secret among members).
    pub verifiable: bool,
    /// How many members could vote on it when it was opened (the proposer's table in
    /// `epoch`). A round decides only with ballots from a majority of them, however many of
    /// them are left: members the table lost since (a partition, a fork of the rollouts) do
    /// not lower the quorum, so a minority never decides.
    pub electorate: u16,
}

impl SignedBody for Proposal {
    const LABEL: &'static [u8] = b"peerster/proposal/v1";
}

impl Proposal {
    /// The proposal's id: SHA-256 of label ‖ cluster ‖ kind, truncated.
    pub fn id(&self) -> ProposalId {
        let mut hash = Sha256::new();
        hash.update(b"peerster/proposal-id/v1");
        hash.update(self.cluster.0.to_be_bytes());
        // A kind is bounded and serializable: encoding cannot fail.
        hash.update(postcard::to_allocvec(&self.kind).unwrap_or_default());
        let digest = hash.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        ProposalId(id)
    }
}

/// One member's vote on one round of a proposal, sealed to one authority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ballot {
    /// The cluster.
    pub cluster: ClusterId,
    /// The epoch of the round.
    pub epoch: Epoch,
    /// The proposal.
    pub proposal: ProposalId,
    /// The round, from 0: a ballot counts only in its round.
    pub round: u8,
    /// The voter (the signer).
    pub voter: MemberId,
    /// Yes or no.
    pub yes: bool,
}

impl SignedBody for Ballot {
    const LABEL: &'static [u8] = b"peerster/ballot/v1";
}

/// The digest of a signed ballot, as tallies list it.
pub fn ballot_digest(ballot: &Signed<Ballot>) -> [u8; 16] {
    // A signed ballot is bounded and serializable: encoding cannot fail.
    let hash = Sha256::digest(postcard::to_allocvec(ballot).unwrap_or_default());
    let mut digest = [0u8; 16];
    digest.copy_from_slice(&hash[..16]);
    digest
}

/// An authority's count of one round, signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// The cluster.
    pub cluster: ClusterId,
    /// The epoch of the round.
    pub epoch: Epoch,
    /// The proposal.
    pub proposal: ProposalId,
    /// The round.
    pub round: u8,
    /// The authority (the signer).
    pub authority: MemberId,
    /// The count.
    pub count: Count,
}

impl SignedBody for Tally {
    const LABEL: &'static [u8] = b"peerster/tally/v1";
}

/// What a tally counted. Two authorities that counted the same ballots have equal counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// Yes ballots.
    pub yes: u16,
    /// No ballots.
    pub no: u16,
    /// Yes ballots cast by the round's authorities themselves (the tie-break).
    pub authorities_yes: u16,
    /// No ballots cast by the round's authorities.
    pub authorities_no: u16,
    /// SHA-256 of the sorted digests of the ballots counted.
    pub ballots: [u8; 32],
}

/// A tally as it is flooded: signed, with the digests of the ballots it counted (which hash
/// to `count.ballots`) and, in verifiable mode, the ballots themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedTally {
    /// The signed tally.
    pub tally: Signed<Tally>,
    /// The digests of the ballots counted, sorted.
    pub digests: BoundedVec<[u8; 16], { super::cluster::MAX_MEMBERS }>,
    /// The signed ballots counted, in verifiable mode (empty otherwise).
    pub ballots: BoundedVec<Signed<Ballot>, { super::cluster::MAX_MEMBERS }>,
}

/// The hash of sorted ballot digests that a [`Count`] carries.
pub fn digests_hash(digests: &[[u8; 16]]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"peerster/ballots/v1");
    for digest in digests {
        hash.update(digest);
    }
    hash.finalize().into()
}

/// How a vote ended, as a rollout records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The members said yes: the rollout applies the proposal. The certificate is the
    /// identical tallies of every authority of the deciding round.
    Accepted(BoundedVec<Signed<Tally>, MAX_AUTHORITIES>),
    /// The members said no (or too few voted): nothing changes. Same certificate.
    Rejected(BoundedVec<Signed<Tally>, MAX_AUTHORITIES>),
    /// No round produced identical tallies from all its authorities within the bound of rounds
    /// or time: nothing changes (the vote fails closed).
    Failed,
}

/// A vote closed by a rollout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The proposal.
    pub proposal: Signed<Proposal>,
    /// How it ended.
    pub outcome: Outcome,
}

#[cfg(test)]
#[path = "vote_tests.rs"]
mod tests;
