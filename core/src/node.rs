//! [`Node`]: the sans-IO state machine a host drives.

use std::net::SocketAddr;
use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tracing::trace;

use crate::anon::{AnonFailure, AnonOptions, AnonSent, AnonymityEstimate};
use crate::call::{CallEnd, CallId, CallInfo, CallOptions};
use crate::cluster::{ClusterInfo, ClusterLayer, ClusterState, ClusterStateError};
use crate::config::{Config, ConfigError};
use crate::crypto::memo::Verifier;
use crate::crypto::{EpochPublic, IdentityKey, PublicIdentity, SignatureMemo};
use crate::ids::{ClusterId, Epoch, MemberId};
use crate::outbox::Outbox;
use crate::overlay::{Overlay, Peer};
use crate::stats::Stats;
use crate::time::Timestamp;
use crate::vote::{VoteInfo, VoteOutcome};
use crate::wire::anon::ThreadId;
use crate::wire::cluster::{PostPosition, RefusalReason};
use crate::wire::fragment::MessageId;
use crate::wire::vote::{ProposalId, ProposalKind};
use crate::wire::{self, AnnouncementBody, BoundedBytes};

/// A datagram the node wants sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub destination: SocketAddr,
    /// The UDP payload, at most [`wire::MAX_DATAGRAM_SIZE`] bytes.
    pub payload: Vec<u8>,
}

/// Something the node wants its user (or the host) to know.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A handshake proved that `identity` answers at `addr`.
    PeerVerified {
        /// The peer's address.
        addr: SocketAddr,
        /// The peer's id.
        peer: MemberId,
        /// The peer's public identity.
        identity: PublicIdentity,
    },
    /// A handshake started with [`Node::connect`] got no answer.
    PeerUnreachable {
        /// The address that did not answer.
        addr: SocketAddr,
    },
    /// A verified peer stopped answering and was dropped from the peer table.
    PeerLost {
        /// The peer's last address.
        addr: SocketAddr,
        /// The peer's id.
        peer: MemberId,
    },
    /// Another node's announcement arrived, new or newer than the one held.
    Announcement {
        /// The announcing node's id.
        origin: MemberId,
        /// The announcing node's public identity (the signature was checked against it).
        identity: PublicIdentity,
        /// The origin's sequence number of this announcement.
        seq: u64,
        /// What was announced.
        body: AnnouncementBody,
    },
    /// This node's join request was accepted: it is a member of `cluster`.
    JoinedCluster {
        /// The cluster joined.
        cluster: ClusterId,
        /// Its epoch, the first this node can read.
        epoch: Epoch,
        /// How many members it has, this node included.
        members: usize,
    },
    /// This node's join request was refused by its contact.
    JoinRefused {
        /// The contact's address.
        contact: SocketAddr,
        /// Why.
        reason: RefusalReason,
    },
    /// This node's join request got no answer after `Config::join_attempts` tries.
    JoinFailed {
        /// The contact's address.
        contact: SocketAddr,
    },
    /// A vote opened in this node's cluster (a node asked to join, or a member proposed to
    /// expel another). With [`AutoVote::Ask`](crate::AutoVote::Ask), answer with
    /// [`Node::vote`].
    VoteOpened {
        /// The proposal.
        proposal: ProposalId,
        /// What it proposes.
        kind: ProposalKind,
        /// The member it is about (the joiner, or the member to expel).
        subject: MemberId,
        /// The member that opened it.
        proposer: MemberId,
        /// When its first round counts the ballots at the latest.
        deadline: Timestamp,
    },
    /// A key rollout closed a vote: every member applies the same outcome.
    VoteClosed {
        /// The proposal.
        proposal: ProposalId,
        /// What it proposed.
        kind: ProposalKind,
        /// How it ended.
        outcome: VoteOutcome,
    },
    /// An authority published a tally that does not add up to the ballots it says it counted
    /// (in verifiable mode, the ballots it published): its round is void.
    AuthorityMiscounted {
        /// The proposal.
        proposal: ProposalId,
        /// The authority.
        authority: MemberId,
    },
    /// A key rollout opened a new epoch of this node's cluster.
    EpochChanged {
        /// The cluster.
        cluster: ClusterId,
        /// The new epoch.
        epoch: Epoch,
        /// How many members it has, this node included.
        members: usize,
        /// Members that were not in the previous epoch.
        added: Vec<MemberId>,
        /// Members of the previous epoch that are gone.
        removed: Vec<MemberId>,
    },
    /// A rollout left this node out: it is no longer a member (it went silent, or left).
    RemovedFromCluster {
        /// The cluster it was in.
        cluster: ClusterId,
    },
    /// This node left its cluster (by command, or by joining another).
    LeftCluster {
        /// The cluster it left.
        cluster: ClusterId,
    },
    /// An anonymous message to this node, delivered once.
    AnonMessage {
        /// Its conversation: answer with [`Node::reply_anonymous`].
        thread: ThreadId,
        /// Its id.
        message: MessageId,
        /// The text.
        text: String,
        /// The sender, only if it chose to sign (the signature was checked).
        from: Option<MemberId>,
    },
    /// The recipient of one of this node's anonymous messages acknowledged it (possibly after
    /// [`Event::AnonFailed`], if the recipient was away and found it later).
    AnonDelivered {
        /// Its conversation.
        thread: ThreadId,
        /// The message.
        message: MessageId,
    },
    /// One of this node's anonymous messages was given up.
    AnonFailed {
        /// Its conversation.
        thread: ThreadId,
        /// The message.
        message: MessageId,
        /// Why.
        reason: AnonFailure,
    },
    /// The next anonymous message hides among fewer members than `Config::min_anonymity_set`
    /// (emitted when one is sent): its recipient, or an observer, has few candidates to
    /// choose its sender from.
    AnonymityLow {
        /// Live members other than the recipient.
        anonymity_set: usize,
        /// The configured minimum.
        threshold: usize,
    },
    /// Another member calls this node: answer with [`Node::answer_call`], or
    /// [`Node::decline_call`]. Unanswered, it ends after `Config::call_ring_timeout`.
    IncomingCall {
        /// The call.
        call: CallId,
        /// The caller, only if it chose to sign its offer (the signature was checked).
        from: Option<MemberId>,
    },
    /// A call was answered (this node's, or one this node answered): voice may flow, with
    /// [`Node::send_voice`].
    CallConnected {
        /// The call.
        call: CallId,
    },
    /// A call ended.
    CallEnded {
        /// The call.
        call: CallId,
        /// Why.
        reason: CallEnd,
    },
    /// A voice frame of an active call arrived from the other end, the first time: hand it
    /// to a jitter buffer (frames come out of order, and some never).
    VoiceFrame {
        /// The call.
        call: CallId,
        /// Its number, consecutive from 0.
        seq: u32,
        /// When it was captured, in 48 kHz samples from the start of the sender's capture.
        timestamp: u32,
        /// The encoded audio.
        data: Vec<u8>,
    },
    /// A post to the cluster, delivered once and in its author's order.
    Post {
        /// The cluster.
        cluster: ClusterId,
        /// Its author (the signature was checked).
        author: MemberId,
        /// Where it stands in its author's sequence.
        position: PostPosition,
        /// The text.
        text: String,
    },
}

/// Why a user command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// A display name is longer than [`AnnouncementBody::MAX_NAME`] bytes.
    #[error("name of {len} bytes is longer than {max} bytes")]
    NameTooLong {
        /// The name's length in bytes.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
    /// A post is longer than [`MAX_POST_BYTES`](crate::wire::cluster::MAX_POST_BYTES).
    #[error("post of {len} bytes is longer than {max} bytes")]
    PostTooLong {
        /// The post's length in bytes.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
    /// The command needs this node to be in a cluster.
    #[error("not in a cluster")]
    NotInCluster,
    /// A member limit of zero, or above `Config::max_cluster_size`.
    #[error("member limit {limit} must be between 1 and {max}")]
    BadMemberLimit {
        /// The limit asked for.
        limit: u16,
        /// The largest allowed.
        max: usize,
    },
    /// The contact of a join is not a verified peer whose announcement (and so node key) this
    /// node holds: connect to it first and wait for its announcement.
    #[error("{addr} is not a verified peer with a known announcement")]
    UnknownContact {
        /// The contact's address.
        addr: SocketAddr,
    },
    /// The contact of a join is a member of this node's own cluster.
    #[error("already a member of cluster {cluster}")]
    AlreadyMember {
        /// The cluster.
        cluster: ClusterId,
    },
    /// An anonymous message is longer than
    /// [`MAX_ANON_TEXT`](crate::wire::anon::MAX_ANON_TEXT).
    #[error("message of {len} bytes is longer than {max} bytes")]
    MessageTooLong {
        /// The message's length in bytes.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
    /// The recipient named is not a member of this node's cluster.
    #[error("{member} is not a member of this cluster")]
    NotAMember {
        /// The member named.
        member: MemberId,
    },
    /// A node cannot send an anonymous message to itself.
    #[error("cannot send an anonymous message to oneself")]
    MessageToSelf,
    /// No conversation with this id is known (or it expired).
    #[error("no such conversation")]
    UnknownThread,
    /// Too many anonymous messages await acknowledgement.
    #[error("{max} anonymous messages already await acknowledgement")]
    TooManyPending {
        /// The bound (`Config::max_anon_outgoing`).
        max: usize,
    },
    /// No open vote has this id.
    #[error("no such open vote")]
    NoSuchVote,
    /// This node voted on this proposal already.
    #[error("already voted")]
    AlreadyVoted,
    /// The same proposal (a proposal's id is its cluster and kind) was voted on recently:
    /// members would drop it as a replay, so it is not opened again.
    #[error("the same proposal was voted on recently")]
    VotedRecently,
    /// Too many votes are open.
    #[error("{max} votes are open already")]
    TooManyVotes {
        /// The bound (`Config::max_open_votes`).
        max: usize,
    },
    /// A member cannot propose to expel itself: it leaves.
    #[error("a member cannot expel itself; leave the cluster instead")]
    ExpelSelf,
    /// A node cannot call itself.
    #[error("cannot call oneself")]
    CallToSelf,
    /// No call with this id is going on (or it ended).
    #[error("no such call")]
    NoSuchCall,
    /// The call is not an incoming one waiting for an answer.
    #[error("the call is not waiting for an answer")]
    CallNotIncoming,
    /// The call has not been answered (or was not answered yet): no voice flows.
    #[error("the call is not connected")]
    CallNotActive,
    /// Too many calls are going on.
    #[error("{max} calls are going on already")]
    TooManyCalls {
        /// The bound (`Config::max_calls`).
        max: usize,
    },
    /// An encoded voice frame is longer than
    /// [`MAX_VOICE_FRAME`](crate::wire::call::MAX_VOICE_FRAME).
    #[error("voice frame of {len} bytes is longer than {max} bytes")]
    VoiceFrameTooLong {
        /// The frame's length in bytes.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
}

/// What a sub-protocol needs from the node to handle one input: configuration, identity,
/// randomness, and where to put its output.
pub(crate) struct Ctx<'a> {
    pub(crate) config: &'a Config,
    pub(crate) identity: &'a IdentityKey,
    pub(crate) rng: &'a mut ChaCha20Rng,
    pub(crate) out: &'a mut Outbox,
    pub(crate) stats: &'a mut Stats,
    /// How signatures are checked: through the host's memo, if it installed one.
    pub(crate) verifier: Verifier<'a>,
}

/// One Peerster node: a deterministic state machine with no I/O.
///
/// The host feeds it datagrams ([`Node::handle_datagram`]), expired deadlines
/// ([`Node::handle_timeout`]) and user commands, and drains what it produces
/// ([`Node::poll_transmit`], [`Node::poll_event`], [`Node::poll_timeout`]). The same
/// configuration, identity, seed and inputs always give the same outputs.
pub struct Node {
    config: Config,
    identity: IdentityKey,
    rng: ChaCha20Rng,
    outbox: Outbox,
    stats: Stats,
    overlay: Overlay,
    cluster: ClusterLayer,
    /// The public half of [`IdentityKey::node_key`], announced to the overlay.
    node_key: EpochPublic,
    /// The host's memory of valid signatures, shared with its other nodes.
    signature_memo: Option<Arc<dyn SignatureMemo>>,
}

impl Node {
    /// Creates a node with its long-term `identity`, seeding its CSPRNG with `seed`.
    ///
    /// The host draws `seed` from the OS (the runtime) or from a scenario seed (the
    /// simulator); it is the node's only source of randomness. `now` is the current time.
    pub fn new(
        config: Config,
        identity: IdentityKey,
        seed: [u8; 32],
        now: Timestamp,
    ) -> Result<Node, ConfigError> {
        config.validate()?;
        trace!(%now, id = %identity.public().member_id(), "node created");
        let node_key = identity.node_key().public();
        let cluster = ClusterLayer::new(&identity, &config);
        Ok(Node {
            outbox: Outbox::new(config.max_queued_transmits, config.max_queued_events),
            config,
            identity,
            rng: ChaCha20Rng::from_seed(seed),
            stats: Stats::default(),
            overlay: Overlay::new(now),
            cluster,
            node_key,
            signature_memo: None,
        })
    }

    /// Has this node check signatures through `memo`, which the host shares among the many
    /// nodes it runs in one process (a simulator): each distinct signature is then verified
    /// once. Answers and outputs are the same with or without it (see [`SignatureMemo`]).
    pub fn set_signature_memo(&mut self, memo: Arc<dyn SignatureMemo>) {
        self.signature_memo = Some(memo);
    }

    /// This node's public identity.
    pub fn identity(&self) -> PublicIdentity {
        self.identity.public()
    }

    /// This node's id: the fingerprint of its identity.
    pub fn id(&self) -> MemberId {
        self.identity.public().member_id()
    }

    /// The configuration the node runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Handles a UDP payload received from `from` at `now`.
    ///
    /// Anything malformed, unexpected or wrongly signed is dropped and counted in
    /// [`Node::stats`]; nothing a peer sends can make this panic.
    pub fn handle_datagram(&mut self, now: Timestamp, from: SocketAddr, datagram: &[u8]) {
        self.stats.datagrams_received += 1;
        self.stats.bytes_received += datagram.len() as u64;
        let packet = match wire::decode(datagram) {
            Ok(packet) => packet,
            Err(error) => {
                trace!(%from, %error, "dropped malformed datagram");
                self.stats.dropped.malformed += 1;
                return;
            }
        };
        trace!(%from, kind = packet.kind(), "received");
        let (overlay, cluster, mut ctx) = self.split();
        match packet {
            wire::Packet::Sealed(frame) => cluster.handle_sealed(now, from, &frame, &mut ctx),
            wire::Packet::Join(frame) => cluster.handle_join(now, from, &frame, &mut ctx),
            packet => overlay.handle(now, from, datagram.len(), packet, &mut ctx),
        }
    }

    /// Handles the passing of the deadline given by [`Node::poll_timeout`].
    ///
    /// Calling it early or late is harmless: work that is not due yet waits.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let (overlay, cluster, mut ctx) = self.split();
        overlay.handle_timeout(now, &mut ctx);
        cluster.handle_timeout(now, &mut ctx);
    }

    /// Starts an authenticated handshake with the node at `addr`.
    ///
    /// Completes with [`Event::PeerVerified`], or [`Event::PeerUnreachable`] after
    /// `Config::handshake_attempts` tries.
    pub fn connect(&mut self, now: Timestamp, addr: SocketAddr) {
        let (overlay, _, mut ctx) = self.split();
        overlay.connect(now, addr, &mut ctx);
    }

    /// Announces this node to the whole overlay under a display `name`, replacing its earlier
    /// announcement. Returns the announcement's sequence number.
    pub fn announce(&mut self, now: Timestamp, name: &str) -> Result<u64, CommandError> {
        let name =
            BoundedBytes::new(name.as_bytes().to_vec()).map_err(|n| CommandError::NameTooLong {
                len: n.len(),
                max: AnnouncementBody::MAX_NAME,
            })?;
        let node_key = self.node_key;
        let (overlay, _, mut ctx) = self.split();
        Ok(overlay.announce(now, AnnouncementBody::Node { name, node_key }, &mut ctx))
    }

    /// The latest announcement held from each node, this node's own included.
    pub fn announcements(&self) -> impl Iterator<Item = &wire::Announcement> {
        self.overlay.announcements()
    }

    /// The next datagram to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.outbox.pop_transmit()
    }

    /// The next event for the user, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.outbox.pop_event()
    }

    /// When [`Node::handle_timeout`] should next be called, if the node has a deadline.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let overlay = self.overlay.poll_timeout(&self.config);
        Some(
            self.cluster
                .poll_timeout(&self.config)
                .map_or(overlay, |c| c.min(overlay)),
        )
    }

    /// Counters of what the node received, sent and dropped.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The verified peers, by address.
    pub fn peers(&self) -> impl Iterator<Item = (SocketAddr, &Peer)> {
        self.overlay.peers().iter().map(|(&a, p)| (a, p))
    }

    /// The verified peer at `addr`, if any.
    pub fn peer(&self, addr: &SocketAddr) -> Option<&Peer> {
        self.overlay.peers().get(addr)
    }

    /// Founds a cluster with this node as its only member and an optional member `limit`,
    /// leaving the cluster it is in. Returns the new cluster's random id.
    pub fn create_cluster(
        &mut self,
        now: Timestamp,
        limit: Option<u16>,
    ) -> Result<ClusterId, CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.create(now, limit, &mut ctx)
    }

    /// Asks the node at `contact` to let this node into its cluster.
    ///
    /// The contact must be a verified peer whose announcement arrived (it carries the node key
    /// the request is sealed to). Completes with [`Event::JoinedCluster`] (after which this
    /// node has left any cluster it was in), [`Event::JoinRefused`] or [`Event::JoinFailed`].
    pub fn join(&mut self, now: Timestamp, contact: SocketAddr) -> Result<(), CommandError> {
        let unknown = CommandError::UnknownContact { addr: contact };
        let identity = self
            .overlay
            .peers()
            .get(&contact)
            .ok_or(unknown.clone())?
            .identity;
        let node_key = self
            .overlay
            .announcements()
            .find(|a| a.origin == identity)
            .map(|a| match &a.body {
                AnnouncementBody::Node { node_key, .. } => *node_key,
            })
            .ok_or(unknown)?;
        let (_, cluster, mut ctx) = self.split();
        cluster.join(now, contact, identity, node_key, &mut ctx)
    }

    /// Leaves this node's cluster with a signed leave, so that the others roll the key at
    /// once. Returns the cluster left.
    pub fn leave_cluster(&mut self, _now: Timestamp) -> Result<ClusterId, CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.leave(&mut ctx)
    }

    /// Posts `text` (UTF-8, at most [`MAX_POST_BYTES`](crate::wire::cluster::MAX_POST_BYTES)
    /// bytes) to this node's cluster, confidentially. Returns the post's position in this
    /// node's sequence.
    pub fn post(&mut self, now: Timestamp, text: &str) -> Result<PostPosition, CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.post(now, text, &mut ctx)
    }

    /// Casts this node's ballot on an open vote ([`Event::VoteOpened`]).
    pub fn vote(
        &mut self,
        now: Timestamp,
        proposal: ProposalId,
        yes: bool,
    ) -> Result<(), CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.vote(now, proposal, yes, &mut ctx)
    }

    /// Proposes to expel `member` from this node's cluster. Returns the vote's id; it closes
    /// with [`Event::VoteClosed`].
    pub fn expel(&mut self, now: Timestamp, member: MemberId) -> Result<ProposalId, CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.expel(now, member, &mut ctx)
    }

    /// The votes open in this node's cluster.
    pub fn votes(&self) -> Vec<VoteInfo> {
        self.cluster.votes(&self.config)
    }

    /// Sends `text` (UTF-8, at most [`MAX_ANON_TEXT`](crate::wire::anon::MAX_ANON_TEXT)
    /// bytes) to the member `to` of this node's cluster, anonymously, in a new conversation.
    ///
    /// Completes with [`Event::AnonDelivered`] when the recipient acknowledges it, or
    /// [`Event::AnonFailed`]. Emits [`Event::AnonymityLow`] first if few members are live.
    pub fn send_anonymous(
        &mut self,
        now: Timestamp,
        to: MemberId,
        text: &str,
        options: AnonOptions,
    ) -> Result<AnonSent, CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.send_anonymous(now, to, text, options, &mut ctx)
    }

    /// Sends `text` in an existing conversation: to the anonymous other end through the reply
    /// key of its latest message, or to the member this node opened it with.
    pub fn reply_anonymous(
        &mut self,
        now: Timestamp,
        thread: ThreadId,
        text: &str,
        options: AnonOptions,
    ) -> Result<MessageId, CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.reply_anonymous(now, thread, text, options, &mut ctx)
    }

    /// Calls the member `to` of this node's cluster, anonymously unless `options` say to sign.
    /// Returns the call's id.
    ///
    /// Completes with [`Event::CallConnected`] when the callee answers, or
    /// [`Event::CallEnded`] (declined, unanswered).
    pub fn call(
        &mut self,
        now: Timestamp,
        to: MemberId,
        options: CallOptions,
    ) -> Result<CallId, CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.with_anon(&mut ctx, |anon, view, ctx| {
            anon.call(now, to, options, view, ctx)
        })
    }

    /// Answers an incoming call ([`Event::IncomingCall`]); [`Event::CallConnected`] follows at
    /// once.
    pub fn answer_call(&mut self, now: Timestamp, call: CallId) -> Result<(), CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.with_anon(&mut ctx, |anon, view, ctx| {
            anon.answer_call(now, call, view, ctx)
        })
    }

    /// Declines an incoming call.
    pub fn decline_call(&mut self, now: Timestamp, call: CallId) -> Result<(), CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.with_anon(&mut ctx, |anon, view, ctx| {
            anon.decline_call(now, call, view, ctx)
        })
    }

    /// Ends a call, whatever its state; [`Event::CallEnded`] follows at once.
    pub fn hang_up(&mut self, now: Timestamp, call: CallId) -> Result<(), CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.with_anon(&mut ctx, |anon, view, ctx| {
            anon.hang_up(now, call, view, ctx)
        })
    }

    /// Sends one encoded 20 ms voice frame (at most
    /// [`MAX_VOICE_FRAME`](crate::wire::call::MAX_VOICE_FRAME) bytes) of a connected call,
    /// captured at `timestamp` (48 kHz samples from the start of this end's capture). Returns
    /// the frame's number. Call it every 20 ms while the call lasts.
    pub fn send_voice(
        &mut self,
        now: Timestamp,
        call: CallId,
        timestamp: u32,
        frame: &[u8],
    ) -> Result<u32, CommandError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.with_anon(&mut ctx, |anon, view, ctx| {
            anon.send_voice(now, call, timestamp, frame, view, ctx)
        })
    }

    /// This node's calls (ringing, incoming and active).
    pub fn calls(&self) -> Vec<CallInfo> {
        self.cluster.calls()
    }

    /// Makes this node, as a vote authority, publish tallies with yes and no swapped: a lying
    /// authority for the simulator's adversaries. Only with the `test-hooks` feature.
    #[cfg(feature = "test-hooks")]
    pub fn set_lying(&mut self, lying: bool) {
        self.cluster.set_lying(lying);
    }

    /// How well this node's next anonymous message would hide its sender, if it is in a
    /// cluster.
    pub fn anonymity(&self, now: Timestamp) -> Option<AnonymityEstimate> {
        self.cluster.anonymity(now, &self.config)
    }

    /// What this node knows of its cluster, if it is in one.
    pub fn cluster(&self) -> Option<ClusterInfo> {
        self.cluster.info()
    }

    /// This node's cluster membership as a [`ClusterState`], for the host to keep (it holds
    /// the cluster key and this member's epoch secrets: keep it as private as the identity)
    /// and give back to [`Node::restore_cluster`] after a restart; `None` outside a cluster.
    /// Take it again whenever the membership changes ([`Event::JoinedCluster`],
    /// [`Event::EpochChanged`]) and when stopping; after [`Event::LeftCluster`] or
    /// [`Event::RemovedFromCluster`] there is none to keep.
    pub fn cluster_state(&self) -> Option<ClusterState> {
        self.cluster.state()
    }

    /// Resumes the cluster membership `state` holds, without a new vote: a node of the same
    /// identity, restarted, is a member again as of `now`. It heartbeats at once, so members
    /// that found it silent but have not removed it yet keep it; posts made while it was away
    /// come by anti-entropy. If the cluster rolled its key meanwhile, a member still holding
    /// the old epoch sends it the rollout (it installs it, or learns it was dropped:
    /// [`Event::RemovedFromCluster`]). Until something opens under its key it leads no
    /// rollout (the members it finds silent may have gone on without it), and if nothing does
    /// within `Config::member_timeout` it reports [`Event::RemovedFromCluster`] too.
    ///
    /// Refused if the node is in a cluster or joining one ([`ClusterStateError::Busy`]) or
    /// `state` is of another identity ([`ClusterStateError::NotThisNode`]).
    pub fn restore_cluster(
        &mut self,
        now: Timestamp,
        state: &ClusterState,
    ) -> Result<ClusterId, ClusterStateError> {
        let (_, cluster, mut ctx) = self.split();
        cluster.restore(now, state, &mut ctx)
    }

    /// The current cluster key, for fuzz targets and tests that seal frames this node opens.
    /// Only with the `test-hooks` feature, which no build people run enables.
    #[cfg(feature = "test-hooks")]
    pub fn cluster_key(&self) -> Option<crate::crypto::ClusterKey> {
        self.cluster.key()
    }

    /// Splits the node into its sub-protocols and the context they work in.
    fn split(&mut self) -> (&mut Overlay, &mut ClusterLayer, Ctx<'_>) {
        (
            &mut self.overlay,
            &mut self.cluster,
            Ctx {
                config: &self.config,
                identity: &self.identity,
                rng: &mut self.rng,
                out: &mut self.outbox,
                stats: &mut self.stats,
                verifier: Verifier::new(self.signature_memo.as_deref()),
            },
        )
    }
}

impl core::fmt::Debug for Node {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.id())
            .field("peers", &self.overlay.peers().len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
