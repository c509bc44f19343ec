//! Which cluster, epoch, member, identity, key, signer, address, sealing key or member limit
//! a message names.

use arbitrary::{Arbitrary, Unstructured};

/// Which cluster id a message names: the real one, 15 times in 16.
#[derive(Debug)]
pub enum ClusterChoice {
    /// The node's cluster.
    Real,
    /// Another id.
    Other(u64),
}

impl<'a> Arbitrary<'a> for ClusterChoice {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(if u.ratio(15u8, 16)? {
            ClusterChoice::Real
        } else {
            ClusterChoice::Other(u.arbitrary()?)
        })
    }
}

/// Which epoch a message names, relative to the node's current one.
#[derive(Debug, Arbitrary)]
pub enum EpochChoice {
    /// The current epoch.
    Current,
    /// The next epoch.
    Next,
    /// The previous epoch.
    Previous,
    /// Any epoch.
    Other(u64),
}

/// Which member id a message names.
#[derive(Debug, Arbitrary)]
pub enum MemberChoice {
    /// The fuzzed node.
    Me,
    /// The other real node.
    Peer,
    /// One of the node's member table.
    Table(u8),
    /// One of the fixture identities.
    Pool(u8),
    /// Any id.
    Raw([u8; 16]),
}

/// Which identity a message names.
#[derive(Debug, Arbitrary)]
pub enum IdentityChoice {
    /// One of the fixture identities (0 and 1 are the real nodes).
    Pool(u8),
    /// Any bytes (an outsider if they are a valid key).
    Raw([u8; 32]),
}

/// Which X25519 public key a message names or is sealed to.
#[derive(Debug, Arbitrary)]
pub enum PublicKeyChoice {
    /// The fuzzed node's node key.
    MyNodeKey,
    /// The fuzzed node's epoch key (from its member table).
    MyEpochKey,
    /// The epoch key of a member of the table.
    Member(u8),
    /// The node key of a fixture identity.
    NodeKey(u8),
    /// One of the fixture outsiders' keys.
    Pool(u8),
    /// Any bytes.
    Raw([u8; 32]),
}

/// Who signs a message.
#[derive(Debug, Arbitrary)]
pub enum Signer {
    /// The identity the message names as its author, if a fixture.
    Named,
    /// One of the fixture identities.
    Pool(u8),
    /// Arbitrary signature bytes.
    Raw([u8; 64]),
}

/// Where a datagram comes from.
#[derive(Debug, Arbitrary)]
pub enum AddrChoice {
    /// The other real node.
    Peer,
    /// The address of a member of the table.
    Member(u8),
    /// An address no member has.
    Stranger(u8),
}

/// Which key seals a frame.
#[derive(Debug, Arbitrary)]
pub enum KeyChoice {
    /// The node's current cluster key.
    Current,
    /// A cluster key the node held before.
    Previous(u8),
    /// Any key.
    Random([u8; 32]),
}

/// A member limit a rollout names.
#[derive(Debug, Arbitrary)]
pub enum LimitChoice {
    /// The cluster's.
    Same,
    /// Another.
    Other(Option<u16>),
}

/// Which vote a ballot, a tally or a command names.
#[derive(Debug, Arbitrary)]
pub enum VoteChoice {
    /// One of the node's open votes ([`Node::votes`]), else one the harness knows of.
    ///
    /// [`Node::votes`]: peerster_core::Node::votes
    Open(u8),
    /// One the harness knows of: opened or closed in the node's events, returned by `expel`,
    /// or overheard in a flood (the default id if none).
    Known(u8),
    /// Any id.
    Raw([u8; 16]),
    /// In a tally of a rollout's certificate, the vote of its decision; elsewhere, as
    /// `Open(0)`.
    Decision,
}

/// Which round of a vote a ballot or a tally names.
#[derive(Debug, Arbitrary)]
pub enum RoundChoice {
    /// The vote's current round, as the node reports it (0 for a vote it does not hold open).
    Current,
    /// Any round.
    Other(u8),
}
