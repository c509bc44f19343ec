//! Frame bodies, flooded objects (and how they are cut into fragments) and join messages,
//! built from fuzzer choices.

use arbitrary::Arbitrary;

use super::{
    AddrChoice, ClusterChoice, DecisionSpec, EpochChoice, IdentityChoice, LimitChoice,
    MemberChoice, PacketSpec, PhaseSpec, ProposalSpec, PublicKeyChoice, RelayEpochChoice, Signer,
    TallySpec,
};

/// A frame body, built from fuzzer choices.
#[derive(Debug, Arbitrary)]
pub enum BodySpec {
    /// A heartbeat: a link of a heartbeat chain.
    Heartbeat {
        /// Who signs the chain.
        signer: Signer,
        /// Cluster named in the chain.
        cluster: ClusterChoice,
        /// The member it is from.
        member: MemberChoice,
        /// The chain's generation (the chain's links follow from it: heartbeats of one
        /// generation are links of one chain).
        generation: u64,
        /// The index of the link revealed.
        index: u32,
        /// Flip a bit of the link.
        corrupt: bool,
        /// Ask for a heartbeat back (a probe).
        answer: bool,
    },
    /// A fragment with arbitrary fields.
    Fragment {
        /// Message id (repeated over 16 bytes).
        message: u8,
        /// Index.
        index: u16,
        /// Count.
        count: u16,
        /// Content.
        bytes: Vec<u8>,
    },
    /// A key request.
    KeyRequest {
        /// The leader named.
        leader: MemberChoice,
        /// The target epoch.
        target: EpochChoice,
    },
    /// A key offer.
    KeyOffer {
        /// Who signs it.
        signer: Signer,
        /// Cluster named inside.
        cluster: ClusterChoice,
        /// The target epoch.
        target: EpochChoice,
        /// The leader it is offered to.
        leader: MemberChoice,
        /// The member offering.
        member: MemberChoice,
        /// The key offered.
        key: PublicKeyChoice,
    },
    /// A post sync.
    PostSync {
        /// The sender named.
        member: MemberChoice,
        /// First index.
        first: u16,
        /// Last index.
        last: u16,
        /// Heads: (index, epoch, seq).
        heads: Vec<(u16, EpochChoice, u32)>,
        /// Reply wanted.
        reply_wanted: bool,
    },
    /// An anonymous packet on its way.
    Anon {
        /// The epoch the relay names.
        epoch: RelayEpochChoice,
        /// Where the packet is on its way.
        phase: PhaseSpec,
        /// Marked as voice rather than a message.
        realtime: bool,
        /// The packet.
        packet: PacketSpec,
    },
    /// Cover traffic.
    Cover {
        /// Its bytes.
        packet: PacketSpec,
    },
    /// Anti-entropy of stored anonymous packets.
    AnonSync {
        /// The sender named.
        member: MemberChoice,
        /// Packets held (`None`: as many as listed).
        total: Option<u32>,
        /// XOR of their short digests (`None`: of those listed).
        fingerprint: Option<u64>,
        /// The first short digest covered.
        from: u64,
        /// Short digests listed.
        ids: Vec<u64>,
        /// Also list the short digests of known packets (bit i: the i-th newest of the
        /// first eight).
        known: u8,
        /// Sort the list and drop repeats.
        sorted: bool,
        /// The listing runs to the end of the digest space.
        to_end: bool,
        /// Reply wanted.
        reply_wanted: bool,
    },
    /// A ballot on its way to an authority: an anonymous packet (a ballot sealed to the node's
    /// epoch key is [`PacketSpec::Sealed`] with [`AnonPayloadSpec::Ballot`]).
    ///
    /// [`AnonPayloadSpec::Ballot`]: super::AnonPayloadSpec::Ballot
    Ballot {
        /// The packet.
        packet: PacketSpec,
    },
}

/// One member of a rollout beyond those kept from the table.
#[derive(Debug, Arbitrary)]
pub struct EntrySpec {
    /// Its identity.
    pub identity: IdentityChoice,
    /// Its epoch key.
    pub epoch_key: PublicKeyChoice,
    /// Its address.
    pub addr: AddrChoice,
    /// The epoch it joined in.
    pub joined: EpochChoice,
    /// Whether the new key is sealed to it properly (else garbage).
    pub garbage_key: bool,
}

/// A flooded object, built from fuzzer choices.
#[derive(Debug, Arbitrary)]
pub enum FloodSpec {
    /// A post.
    Post {
        /// Who signs it.
        signer: Signer,
        /// Cluster named inside.
        cluster: ClusterChoice,
        /// The author.
        author: MemberChoice,
        /// Epoch of its position.
        epoch: EpochChoice,
        /// Sequence number of its position.
        seq: u32,
        /// The previous post's position.
        prev: Option<(EpochChoice, u32)>,
        /// The text (not necessarily UTF-8).
        text: Vec<u8>,
    },
    /// A rollout.
    Rollout {
        /// Who signs it.
        signer: Signer,
        /// Cluster named inside.
        cluster: ClusterChoice,
        /// The epoch it opens.
        epoch: EpochChoice,
        /// Its leader.
        leader: MemberChoice,
        /// Its member limit.
        limit: LimitChoice,
        /// Table members left out (bit i: the i-th member).
        drop: u8,
        /// Members added.
        extra: Vec<EntrySpec>,
        /// Leave the entries in the order built, repeats included.
        unsorted: bool,
        /// The votes it closes (the first three).
        decisions: Vec<DecisionSpec>,
        /// Apply the decisions it accepts: their joiners in with their join keys, the
        /// members they expel out.
        follow: bool,
    },
    /// A proposal: a member opens a vote.
    Proposal(ProposalSpec),
    /// An authority's tally of a round of a vote.
    Tally(TallySpec),
    /// One of the objects the real nodes flooded that the harness overheard (the newest
    /// first), again.
    Heard(u8),
    /// A leave.
    Leave {
        /// Who signs it.
        signer: Signer,
        /// Cluster named inside.
        cluster: ClusterChoice,
        /// Epoch named inside.
        epoch: EpochChoice,
        /// The member leaving.
        member: MemberChoice,
    },
}

/// How a flooded object is cut into fragments and which of them are delivered.
#[derive(Debug, Arbitrary)]
pub struct Cutting {
    /// Message id (repeated over 16 bytes).
    pub message: u8,
    /// Bytes per fragment (0: as many as fit).
    pub per_fragment: u16,
    /// Fragments not delivered (bit i: the i-th of the first eight).
    pub skip: u8,
    /// Deliver the fragments last first.
    pub reverse: bool,
}

/// A join message, built from fuzzer choices.
#[derive(Debug, Arbitrary)]
pub enum JoinSpec {
    /// A join request.
    Request {
        /// Who signs it.
        signer: Signer,
        /// The joiner.
        joiner: IdentityChoice,
        /// The contact named.
        contact: MemberChoice,
        /// The contact address named.
        contact_addr: AddrChoice,
        /// The joiner's join key.
        join_key: PublicKeyChoice,
    },
    /// A refusal.
    Refusal {
        /// Who signs it.
        signer: Signer,
        /// The contact named.
        contact: MemberChoice,
        /// The join key named.
        join_key: PublicKeyChoice,
        /// The reason (mod 3).
        reason: u8,
    },
    /// The fragments of a welcome (any flooded object, a rollout being the real one).
    Welcome {
        /// Which of its sender's welcomes it is.
        seq: u32,
        /// What it carries.
        object: FloodSpec,
        /// How it is cut.
        cutting: Cutting,
    },
    /// One welcome fragment with arbitrary fields.
    RawWelcome {
        /// Which of its sender's welcomes it is.
        seq: u32,
        /// Message id (repeated over 16 bytes).
        message: u8,
        /// Index.
        index: u16,
        /// Count.
        count: u16,
        /// Content.
        bytes: Vec<u8>,
    },
}
