//! Proposals, ballots, tallies and the decisions a rollout records, built from fuzzer choices.

use arbitrary::Arbitrary;

use super::{
    AddrChoice, ClusterChoice, EpochChoice, IdentityChoice, MemberChoice, PublicKeyChoice,
    RoundChoice, Signer, VoteChoice,
};

/// What a proposal proposes.
#[derive(Debug, Arbitrary)]
pub enum ProposalKindSpec {
    /// Let a joiner in.
    Admit {
        /// The joiner.
        joiner: IdentityChoice,
        /// The join key it asked with.
        join_key: PublicKeyChoice,
        /// Its address.
        addr: AddrChoice,
    },
    /// Expel a member.
    Expel {
        /// The member.
        member: MemberChoice,
    },
}

/// A proposal.
#[derive(Debug, Arbitrary)]
pub struct ProposalSpec {
    /// Who signs it ([`Signer::Named`]: its proposer, if a fixture).
    pub signer: Signer,
    /// Cluster named inside.
    pub cluster: ClusterChoice,
    /// Epoch named inside.
    pub epoch: EpochChoice,
    /// The member proposing.
    pub proposer: MemberChoice,
    /// What it proposes.
    pub kind: ProposalKindSpec,
    /// Authorities publish the ballots.
    pub verifiable: bool,
}

/// A ballot.
#[derive(Debug, Arbitrary)]
pub struct BallotSpec {
    /// Who signs it ([`Signer::Named`]: its voter, if a fixture).
    pub signer: Signer,
    /// Cluster named inside.
    pub cluster: ClusterChoice,
    /// The epoch of the round.
    pub epoch: EpochChoice,
    /// The vote.
    pub proposal: VoteChoice,
    /// The round.
    pub round: RoundChoice,
    /// The voter.
    pub voter: MemberChoice,
    /// Yes or no (`None`: as the node voted if it is the voter, else yes).
    pub yes: Option<bool>,
}

/// A ballot a tally counts: of the tally's cluster, epoch, vote and round.
#[derive(Debug, Arbitrary)]
pub struct TallyBallotSpec {
    /// Who signs it ([`Signer::Named`]: its voter, if a fixture).
    pub signer: Signer,
    /// The voter.
    pub voter: MemberChoice,
    /// Yes or no (`None`: as the node voted if it is the voter, else yes).
    pub yes: Option<bool>,
}

/// What a tally counted.
#[derive(Debug, Arbitrary)]
pub enum CountSpec {
    /// The count, ballot digests and ballots of a tally the harness overheard (one of the
    /// tally's vote if any), else as [`CountSpec::Ballots`] with every bit set.
    Heard(u8),
    /// Counted from the tally's ballots. In a table of one or two members every member is an
    /// authority; in a larger one, bit i says ballot i is an authority's.
    Ballots {
        /// Ballots of authorities (bit i: the i-th ballot).
        authorities: u8,
    },
    /// Any count, over the digests of the tally's ballots.
    Raw {
        /// Yes ballots.
        yes: u16,
        /// No ballots.
        no: u16,
        /// Yes ballots of authorities.
        authorities_yes: u16,
        /// No ballots of authorities.
        authorities_no: u16,
        /// The hash of the digests (`None`: the right one).
        hash: Option<[u8; 32]>,
    },
}

/// An authority's published tally.
#[derive(Debug, Arbitrary)]
pub struct TallySpec {
    /// Who signs it ([`Signer::Named`]: its authority, if a fixture).
    pub signer: Signer,
    /// Cluster named inside.
    pub cluster: ClusterChoice,
    /// The epoch of the round.
    pub epoch: EpochChoice,
    /// The vote.
    pub proposal: VoteChoice,
    /// The round.
    pub round: RoundChoice,
    /// The authority.
    pub authority: MemberChoice,
    /// The ballots it counted (the first eight).
    pub ballots: Vec<TallyBallotSpec>,
    /// The count.
    pub count: CountSpec,
    /// Publish the ballots with the tally (verifiable mode).
    pub publish: bool,
}

/// The proposal a rollout's decision closes.
#[derive(Debug, Arbitrary)]
pub enum ProposalSource {
    /// One of the node's open votes, its proposal signed again by its proposer's fixture
    /// identity (the id does not cover the epoch signed), else one overheard.
    Open(u8),
    /// One of the proposals the harness overheard in floods, else an open one.
    Heard(u8),
    /// A built one.
    Built(ProposalSpec),
}

/// How a decision says its vote ended.
#[derive(Debug, Arbitrary)]
pub enum OutcomeSpec {
    /// Accepted, with these tallies as certificate (the first four).
    Accepted(Vec<TallySpec>),
    /// Rejected, with these tallies as certificate (the first four).
    Rejected(Vec<TallySpec>),
    /// Failed.
    Failed,
}

/// A vote a rollout closes.
#[derive(Debug, Arbitrary)]
pub struct DecisionSpec {
    /// The proposal.
    pub proposal: ProposalSource,
    /// Its outcome.
    pub outcome: OutcomeSpec,
}
