//! [`Outcome`]: what a user command did, as a value. The event loop carries a
//! [`Command`](crate::Command) out once and gets an `Outcome` (or a
//! [`CommandFailure`](crate::CommandFailure)); the console renders it as lines
//! (`display.rs`), the control socket as JSON (`control/render.rs`).

use std::net::SocketAddr;

use peerster_core::ids::{ClusterId, Epoch, MemberId};
use peerster_core::wire::anon::ThreadId;
use peerster_core::wire::cluster::PostPosition;
use peerster_core::wire::vote::ProposalId;
use peerster_core::{AnonymityEstimate, CallId, CallInfo, ClusterInfo, Timestamp, VoteInfo};

use crate::inbox::Entry;
use crate::safety_number::SafetyNumber;

/// What a command did, with what its user is shown.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    /// This node: who, where, in which cluster.
    Status(Status),
    /// The verified peers.
    Peers(Vec<PeerView>),
    /// A post went out, at this position of this node's posts.
    Posted(PostPosition),
    /// An anonymous message went to `to`, opening `thread`.
    AnonSent {
        /// Its conversation.
        thread: ThreadId,
        /// The recipient.
        to: MemberId,
        /// Whether it was signed.
        signed: bool,
    },
    /// A reply went out in `thread`.
    ReplySent {
        /// Its conversation.
        thread: ThreadId,
    },
    /// The member table.
    Members(Members),
    /// The open votes, at `now`.
    Votes {
        /// The votes.
        votes: Vec<VoteInfo>,
        /// When they were read.
        now: Timestamp,
    },
    /// This node voted on `proposal`.
    Voted {
        /// The vote.
        proposal: ProposalId,
        /// Its ballot.
        yes: bool,
    },
    /// This node proposed to expel `member`, opening `proposal`.
    ExpelProposed {
        /// The vote opened.
        proposal: ProposalId,
        /// The member to expel.
        member: MemberId,
    },
    /// This node called `to`.
    Calling {
        /// The call.
        call: CallId,
        /// The callee.
        to: MemberId,
        /// Whether the caller revealed itself.
        signed: bool,
    },
    /// This node answered `call` (its `connected` event follows).
    Answered {
        /// The call.
        call: CallId,
    },
    /// This node declined `call` (its `ended` event follows).
    Declined {
        /// The call.
        call: CallId,
    },
    /// This node hung up `call` (its `ended` event follows).
    HungUp {
        /// The call.
        call: CallId,
    },
    /// This node's calls, at `now`.
    Calls {
        /// The calls.
        calls: Vec<CallInfo>,
        /// When they were read.
        now: Timestamp,
    },
    /// The commands standard input takes.
    Help,
    /// This node founded `cluster`.
    ClusterCreated {
        /// The new cluster.
        cluster: ClusterId,
        /// Its member limit, if any.
        limit: Option<u16>,
    },
    /// This node started to join the cluster of `contact` (the outcome is an event).
    JoinStarted {
        /// The node asked to let this node in.
        contact: SocketAddr,
    },
    /// This node left `cluster`.
    Left {
        /// The cluster left.
        cluster: ClusterId,
    },
    /// The latest posts and anonymous messages, oldest first.
    Inbox {
        /// The entries.
        entries: Vec<Entry>,
    },
    /// The safety number this node shares with `member`.
    SafetyNumber {
        /// The other member.
        member: MemberId,
        /// The code both compute.
        number: SafetyNumber,
    },
}

/// What `status` shows about this node.
#[derive(Clone, Debug)]
pub(crate) struct Status {
    /// Its id.
    pub(crate) id: MemberId,
    /// The name it announced, if it did.
    pub(crate) name: Option<String>,
    /// The UDP address it listens on.
    pub(crate) listen: SocketAddr,
    /// Its cluster and the cluster's epoch, if it is in one.
    pub(crate) cluster: Option<(ClusterId, Epoch)>,
    /// How many verified peers it has.
    pub(crate) peers: usize,
}

/// One verified peer.
#[derive(Clone, Debug)]
pub(crate) struct PeerView {
    /// Its address.
    pub(crate) addr: SocketAddr,
    /// Its id.
    pub(crate) id: MemberId,
    /// The name in its announcement, if this node holds one.
    pub(crate) name: Option<String>,
    /// Seconds since it last proved it is alive.
    pub(crate) last_heard_s: u64,
}

/// What `members` shows.
#[derive(Clone, Debug)]
pub(crate) struct Members {
    /// The cluster, its members sorted by id.
    pub(crate) cluster: ClusterInfo,
    /// The name in each member's announcement, in the order of `cluster.members`.
    pub(crate) names: Vec<Option<String>>,
    /// This node's id.
    pub(crate) me: MemberId,
    /// When the table was read.
    pub(crate) now: Timestamp,
    /// How well an anonymous message would hide its sender now.
    pub(crate) estimate: Option<AnonymityEstimate>,
    /// The configured minimum anonymity set.
    pub(crate) min_set: usize,
}
