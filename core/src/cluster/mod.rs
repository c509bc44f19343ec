//! Clusters: creating one, joining and leaving, heartbeats, and the key rollout that keeps the
//! cluster key known only to current, live members.
//!
//! A node is in at most one cluster ([`member::Membership`]) and has at most one join in
//! progress ([`join::PendingJoin`]). Member traffic travels in sealed cluster frames; join
//! traffic in join frames sealed to one node. See `docs/design.md` for the protocol and its
//! rules (leader order, concurrent rollouts, what a newcomer and a removed member can read).

pub(crate) mod epoch;
mod heartbeat;
pub(crate) mod join;
pub(crate) mod member;
mod rollout;
mod state;
pub(crate) mod transport;

#[cfg(feature = "test-hooks")]
pub use self::state::PrearrangedMember;
pub use self::state::{CLUSTER_STATE_VERSION, ClusterState, ClusterStateError};

use std::collections::BTreeMap;
use std::net::SocketAddr;

use tracing::{debug, info};

use self::epoch::{EpochState, FOUNDING_RANK, MemberEntry};
use self::join::PendingJoin;
use self::member::{Continue, Membership};
use crate::crypto::{ClusterKey, EpochPublic, EpochSecret, IdentityKey, PublicIdentity};
use crate::ids::{ClusterId, Epoch, MemberId};
use crate::node::{CommandError, Ctx, Event};
use crate::time::Timestamp;
use crate::wire::cluster::{
    Flooded, JoinMessage, MAX_FLOODED_BYTES, MAX_POST_BYTES, PostPosition, RefusalReason, Signed,
    Welcome,
};
use crate::wire::fragment::{Reassembler, ReassemblyLimits};
use crate::wire::{self, BoundedBytes, SealedFrame, SealedJoin, join_frame};

/// What a node knows of its cluster, for hosts and user interfaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterInfo {
    /// The cluster's id.
    pub id: ClusterId,
    /// The current epoch.
    pub epoch: Epoch,
    /// The member limit, if any.
    pub limit: Option<u16>,
    /// When the current epoch was installed.
    pub epoch_since: Timestamp,
    /// The epoch of the key rollout this node is leading now, if it is leading one.
    pub leading: Option<Epoch>,
    /// The order in which members lead the rollout out of the current epoch (members known
    /// to be leaving left out): who rolls the key next, and who takes over if it fails.
    pub leader_order: Vec<MemberId>,
    /// The members, this node included, sorted by id.
    pub members: Vec<MemberInfo>,
}

/// One member of a cluster, as a node knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberInfo {
    /// Its id.
    pub id: MemberId,
    /// Its long-term identity.
    pub identity: PublicIdentity,
    /// Its epoch key.
    pub epoch_key: EpochPublic,
    /// Its address.
    pub addr: SocketAddr,
    /// The epoch it joined in.
    pub joined: Epoch,
    /// When it was last heard from (for this node itself, when the epoch was installed).
    pub last_heard: Timestamp,
}

/// The cluster sub-protocol of one node.
#[derive(Debug)]
pub(crate) struct ClusterLayer {
    /// The secret of the node key: join requests to this node are sealed to it.
    node_secret: EpochSecret,
    membership: Option<Membership>,
    joining: Option<PendingJoin>,
    /// Welcome fragments being reassembled.
    welcomes: Reassembler,
    /// As an authority, publish tallies with yes and no swapped (set only through the
    /// `test-hooks` feature, for the simulator's lying authorities).
    lying: bool,
}

impl ClusterLayer {
    pub(crate) fn new(identity: &IdentityKey, config: &crate::Config) -> Self {
        ClusterLayer {
            lying: false,
            node_secret: identity.node_key(),
            membership: None,
            joining: None,
            welcomes: Reassembler::new(ReassemblyLimits {
                max_messages: 4,
                max_message_bytes: MAX_FLOODED_BYTES,
                timeout: config.join_retry * config.join_attempts,
                // A welcome sent again (the contact settled on another rollout, then back) must
                // be read again; a repeated copy of one already installed is recognised by its
                // content.
                remember_completed: 0,
            }),
        }
    }

    /// What this node knows of its cluster, if it is in one.
    pub(crate) fn info(&self) -> Option<ClusterInfo> {
        let m = self.membership.as_ref()?;
        let members = m
            .current
            .table
            .iter()
            .map(|(id, e)| MemberInfo {
                id: *id,
                identity: e.identity,
                epoch_key: e.epoch_key,
                addr: e.addr,
                joined: e.joined,
                last_heard: if *id == m.me {
                    m.installed_at
                } else {
                    e.last_heard
                },
            })
            .collect();
        Some(ClusterInfo {
            id: m.cluster,
            epoch: m.current.epoch,
            limit: m.limit,
            epoch_since: m.installed_at,
            leading: m.leading.as_ref().map(|l| l.target),
            leader_order: m.current.leader_order(&m.leaving()),
            members,
        })
    }

    /// This member's cluster state, to resume its membership after a restart; `None` outside
    /// a cluster.
    pub(crate) fn state(&self) -> Option<ClusterState> {
        self.membership.as_ref().map(ClusterState::of)
    }

    /// Resumes the membership `state` holds, as of `now`, in a node that is in no cluster and
    /// joining none. Heartbeats go out at once, and the member pokes the others for a while
    /// in case the cluster rolled its key meanwhile (see [`Membership::keep_poking`]).
    pub(crate) fn restore(
        &mut self,
        now: Timestamp,
        state: &ClusterState,
        ctx: &mut Ctx<'_>,
    ) -> Result<ClusterId, ClusterStateError> {
        if self.membership.is_some() || self.joining.is_some() {
            return Err(ClusterStateError::Busy);
        }
        let me = ctx.identity.public().member_id();
        let mut membership = state.resume(now, me, ctx.config)?;
        membership.votes.lying = self.lying;
        membership.behind_until = now + ctx.config.rollout_timeout;
        membership.resumed_unconfirmed = true;
        let cluster = membership.cluster;
        info!(%cluster, epoch = %membership.current.epoch, members = membership.current.table.len(), "cluster membership restored");
        self.membership = Some(membership);
        Ok(cluster)
    }

    /// Makes this node, as an authority, swap yes and no in its tallies (test hooks only).
    #[cfg(feature = "test-hooks")]
    pub(crate) fn set_lying(&mut self, lying: bool) {
        self.lying = lying;
        if let Some(m) = &mut self.membership {
            m.votes.set_lying(lying);
        }
    }

    /// The current cluster key (test hooks only).
    #[cfg(feature = "test-hooks")]
    pub(crate) fn key(&self) -> Option<ClusterKey> {
        self.membership.as_ref().map(|m| m.current.key.clone())
    }

    /// Founds a cluster with this node as its only member, leaving the current one.
    pub(crate) fn create(
        &mut self,
        now: Timestamp,
        limit: Option<u16>,
        ctx: &mut Ctx<'_>,
    ) -> Result<ClusterId, CommandError> {
        let max = ctx.config.max_cluster_size;
        if let Some(l) = limit
            && (l == 0 || usize::from(l) > max)
        {
            return Err(CommandError::BadMemberLimit { limit: l, max });
        }
        self.leave_current(ctx);
        let cluster = ClusterId(rand_core::Rng::next_u64(ctx.rng));
        let me = ctx.identity.public().member_id();
        let secret = EpochSecret::generate(ctx.rng);
        let entry = MemberEntry {
            identity: ctx.identity.public(),
            epoch_key: secret.public(),
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            joined: Epoch(0),
            last_heard: now,
            heartbeat: None,
        };
        let state = EpochState::new(
            cluster,
            Epoch(0),
            ClusterKey::generate(ctx.rng),
            BTreeMap::from([(me, entry)]),
            secret,
            FOUNDING_RANK,
            None,
        );
        info!(%cluster, ?limit, "cluster founded");
        let mut membership = Membership::new(now, cluster, limit, me, Epoch(0), state, ctx.config);
        membership.votes.lying = self.lying;
        self.membership = Some(membership);
        Ok(cluster)
    }

    /// Starts joining the cluster of the node at `contact`, whose identity and node key the
    /// caller looked up.
    pub(crate) fn join(
        &mut self,
        now: Timestamp,
        contact: SocketAddr,
        contact_identity: PublicIdentity,
        contact_key: EpochPublic,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), CommandError> {
        if let Some(m) = &self.membership
            && m.current.table.contains_key(&contact_identity.member_id())
        {
            return Err(CommandError::AlreadyMember { cluster: m.cluster });
        }
        let mut pending = PendingJoin {
            contact,
            contact_identity,
            contact_key,
            secret: EpochSecret::generate(ctx.rng),
            attempts: 0,
            next_retry: now,
        };
        info!(%contact, "asking to join a cluster");
        pending.send_request(now, ctx);
        self.joining = Some(pending);
        Ok(())
    }

    /// Leaves the current cluster with a signed leave.
    pub(crate) fn leave(&mut self, ctx: &mut Ctx<'_>) -> Result<ClusterId, CommandError> {
        let cluster = self
            .membership
            .as_ref()
            .map(|m| m.cluster)
            .ok_or(CommandError::NotInCluster)?;
        self.leave_current(ctx);
        Ok(cluster)
    }

    fn leave_current(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(mut m) = self.membership.take() {
            info!(cluster = %m.cluster, "leaving the cluster");
            m.anon.end_all_calls(ctx);
            m.leave(ctx);
            ctx.out
                .emit(ctx.stats, Event::LeftCluster { cluster: m.cluster });
        }
    }

    /// Posts `text` to the cluster.
    pub(crate) fn post(
        &mut self,
        now: Timestamp,
        text: &str,
        ctx: &mut Ctx<'_>,
    ) -> Result<PostPosition, CommandError> {
        let m = self.membership.as_mut().ok_or(CommandError::NotInCluster)?;
        let text = BoundedBytes::<MAX_POST_BYTES>::new(text.as_bytes().to_vec()).map_err(|t| {
            CommandError::PostTooLong {
                len: t.len(),
                max: MAX_POST_BYTES,
            }
        })?;
        let (chat, view) = m.chat_parts();
        let (position, message, bytes) = chat.post(now, text, &view, ctx);
        m.relay(message, &bytes, ctx, |e| e.joined <= position.epoch);
        Ok(position)
    }

    /// Sends an anonymous message in a new thread.
    pub(crate) fn send_anonymous(
        &mut self,
        now: Timestamp,
        to: MemberId,
        text: &str,
        options: crate::anon::AnonOptions,
        ctx: &mut Ctx<'_>,
    ) -> Result<crate::anon::AnonSent, CommandError> {
        let m = self.membership.as_mut().ok_or(CommandError::NotInCluster)?;
        let (anon, view) = m.anon_parts();
        anon.send(now, to, text, options, &view, ctx)
    }

    /// Sends an anonymous message in an existing thread.
    pub(crate) fn reply_anonymous(
        &mut self,
        now: Timestamp,
        thread: crate::wire::anon::ThreadId,
        text: &str,
        options: crate::anon::AnonOptions,
        ctx: &mut Ctx<'_>,
    ) -> Result<crate::wire::fragment::MessageId, CommandError> {
        let m = self.membership.as_mut().ok_or(CommandError::NotInCluster)?;
        let (anon, view) = m.anon_parts();
        anon.reply(now, thread, text, options, &view, ctx)
    }

    /// Runs `command` on the anonymous layer of this node's membership.
    pub(crate) fn with_anon<T>(
        &mut self,
        ctx: &mut Ctx<'_>,
        command: impl FnOnce(
            &mut crate::anon::AnonLayer,
            &crate::anon::AnonView<'_>,
            &mut Ctx<'_>,
        ) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        let m = self.membership.as_mut().ok_or(CommandError::NotInCluster)?;
        let (anon, view) = m.anon_parts();
        command(anon, &view, ctx)
    }

    /// This node's calls.
    pub(crate) fn calls(&self) -> Vec<crate::call::CallInfo> {
        self.membership
            .as_ref()
            .map(|m| m.anon.calls())
            .unwrap_or_default()
    }

    /// The anonymity estimate of the next message, if in a cluster.
    pub(crate) fn anonymity(
        &self,
        now: Timestamp,
        config: &crate::Config,
    ) -> Option<crate::anon::AnonymityEstimate> {
        let m = self.membership.as_ref()?;
        Some(m.anon.estimate(now, &m.anon_view(), config))
    }

    /// Casts this member's ballot on an open vote.
    pub(crate) fn vote(
        &mut self,
        now: Timestamp,
        proposal: crate::wire::vote::ProposalId,
        yes: bool,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), CommandError> {
        let m = self.membership.as_mut().ok_or(CommandError::NotInCluster)?;
        let (votes, view) = m.vote_parts();
        let cast = votes.cast(now, proposal, yes, &view, ctx);
        m.flood_votes(ctx);
        cast
    }

    /// Proposes to expel `member`.
    pub(crate) fn expel(
        &mut self,
        now: Timestamp,
        member: MemberId,
        ctx: &mut Ctx<'_>,
    ) -> Result<crate::wire::vote::ProposalId, CommandError> {
        let m = self.membership.as_mut().ok_or(CommandError::NotInCluster)?;
        if member == m.me {
            return Err(CommandError::ExpelSelf);
        }
        if !m.current.table.contains_key(&member) {
            return Err(CommandError::NotAMember { member });
        }
        let kind = crate::wire::vote::ProposalKind::Expel { member };
        let (votes, view) = m.vote_parts();
        let (id, proposal) = votes.propose(now, kind, &view, ctx)?;
        m.flood_own(&Flooded::Proposal(proposal), ctx);
        m.flood_votes(ctx);
        Ok(id)
    }

    /// The open votes, if in a cluster.
    pub(crate) fn votes(&self, config: &crate::Config) -> Vec<crate::vote::VoteInfo> {
        self.membership
            .as_ref()
            .map(|m| m.votes.info(config))
            .unwrap_or_default()
    }

    /// Handles a sealed cluster frame.
    pub(crate) fn handle_sealed(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        frame: &SealedFrame,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(m) = &mut self.membership else {
            // No key at all: what a removed member, or any outsider, makes of cluster traffic.
            ctx.stats.dropped.undecryptable += 1;
            return;
        };
        if m.on_frame(now, from, frame, ctx) == Continue::Removed {
            self.drop_membership(ctx);
        }
    }

    /// Forgets the membership this node lost, ending its calls.
    fn drop_membership(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(mut m) = self.membership.take() {
            m.anon.end_all_calls(ctx);
        }
    }

    /// Handles a join frame: a request to us as a contact, or an answer to our join.
    pub(crate) fn handle_join(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        frame: &SealedJoin,
        ctx: &mut Ctx<'_>,
    ) {
        if let Ok(payload) = join_frame::open_join(&self.node_secret, frame) {
            match wire::decode_payload::<JoinMessage>(&payload) {
                Ok(JoinMessage::Request(request)) => self.on_request(now, from, *request, ctx),
                Ok(_) => ctx.stats.dropped.unexpected += 1,
                Err(_) => ctx.stats.dropped.malformed += 1,
            }
            return;
        }
        let secret = match (&self.joining, &self.membership) {
            (Some(pending), _) => Some(pending.secret.clone()),
            (None, Some(m)) => m.join_secret.clone(),
            (None, None) => None,
        };
        let Some(payload) = secret.and_then(|s| join_frame::open_join(&s, frame).ok()) else {
            ctx.stats.dropped.undecryptable += 1;
            return;
        };
        match wire::decode_payload::<JoinMessage>(&payload) {
            Ok(JoinMessage::Refusal(refusal)) => self.on_refusal(refusal, ctx),
            Ok(JoinMessage::Welcome(welcome)) => self.on_welcome(now, welcome, ctx),
            Ok(JoinMessage::Request(_)) => ctx.stats.dropped.unexpected += 1,
            Err(_) => ctx.stats.dropped.malformed += 1,
        }
    }

    fn on_request(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        request: Signed<crate::wire::cluster::JoinRequest>,
        ctx: &mut Ctx<'_>,
    ) {
        let body = &request.body;
        if request.verify_with(&body.joiner, ctx.verifier).is_err() {
            ctx.stats.dropped.bad_signature += 1;
            return;
        }
        let me = ctx.identity.public();
        if body.contact != me.member_id() || body.joiner == me {
            ctx.stats.dropped.unexpected += 1;
            return;
        }
        match &mut self.membership {
            Some(m) => m.on_join_request(now, from, request.body, ctx),
            None => join::refuse(ctx, &body.join_key, from, RefusalReason::NotInCluster),
        }
    }

    fn on_refusal(
        &mut self,
        refusal: Signed<crate::wire::cluster::JoinRefusal>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(pending) = &self.joining else {
            ctx.stats.dropped.unexpected += 1;
            return;
        };
        let body = &refusal.body;
        if body.contact != pending.contact_identity.member_id()
            || body.join_key != pending.secret.public()
        {
            ctx.stats.dropped.unexpected += 1;
            return;
        }
        if refusal
            .verify_with(&pending.contact_identity, ctx.verifier)
            .is_err()
        {
            ctx.stats.dropped.bad_signature += 1;
            return;
        }
        let contact = pending.contact;
        info!(%contact, reason = %body.reason, "join refused");
        ctx.out.emit(
            ctx.stats,
            Event::JoinRefused {
                contact,
                reason: body.reason,
            },
        );
        self.joining = None;
    }

    fn on_welcome(&mut self, now: Timestamp, welcome: Welcome, ctx: &mut Ctx<'_>) {
        let Welcome { seq, fragment } = welcome;
        let message = fragment.message;
        let bytes = match self.welcomes.insert(now, fragment) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return,
            Err(crate::wire::fragment::FragmentError::Duplicate) => {
                ctx.stats.dropped.duplicate += 1;
                return;
            }
            Err(_) => {
                ctx.stats.dropped.malformed += 1;
                return;
            }
        };
        let rollout = match wire::decode_payload::<Flooded>(&bytes) {
            Ok(Flooded::Rollout(rollout)) => rollout,
            _ => {
                ctx.stats.dropped.malformed += 1;
                return;
            }
        };
        let secret = match (&self.joining, &self.membership) {
            (Some(pending), _) => pending.secret.clone(),
            (None, Some(m)) => match &m.join_secret {
                // A later welcome from our contact: it settled on another rollout.
                Some(secret)
                    if rollout.body.cluster == m.cluster
                        && rollout.body.epoch >= m.current.epoch
                        && m.welcome_seq.is_some_and(|installed| seq > installed)
                        && m.current.opening.as_ref().map(|o| &o.rollout) != Some(&rollout) =>
                {
                    secret.clone()
                }
                _ => {
                    ctx.stats.dropped.duplicate += 1;
                    return;
                }
            },
            (None, None) => {
                ctx.stats.dropped.unexpected += 1;
                return;
            }
        };
        if let Err(fault) = rollout::check_self_consistent(&rollout, ctx.config.max_cluster_size) {
            fault.count(ctx.stats);
            return;
        }
        let body = &rollout.body;
        let leader = body
            .members
            .iter()
            .find(|e| e.identity.member_id() == body.leader);
        let me = ctx.identity.public().member_id();
        let mine = body
            .members
            .iter()
            .find(|e| e.identity.member_id() == me && e.epoch_key == secret.public());
        let (Some(leader), Some(mine)) = (leader, mine) else {
            ctx.stats.dropped.forged_rollout += 1;
            return;
        };
        if rollout.verify_with(&leader.identity, ctx.verifier).is_err() {
            ctx.stats.dropped.bad_signature += 1;
            return;
        }
        let Some(key) = rollout::open_cluster_key(body, mine, &secret) else {
            ctx.stats.dropped.forged_rollout += 1;
            return;
        };
        let joined = mine.joined;
        let table = body
            .members
            .iter()
            .map(|e| {
                let entry = MemberEntry {
                    identity: e.identity,
                    epoch_key: e.epoch_key,
                    addr: e.addr.into(),
                    joined: e.joined,
                    last_heard: now,
                    heartbeat: None,
                };
                (e.identity.member_id(), entry)
            })
            .collect();
        let (cluster, epoch, limit) = (body.cluster, body.epoch, body.limit);
        let state = EpochState::new(
            cluster,
            epoch,
            key,
            table,
            secret.clone(),
            // Unknown to a newcomer, which cannot rank the leaders of an epoch it was not in.
            [0xff; 32],
            Some(epoch::OpeningRollout::new(message, rollout)),
        );
        if self
            .membership
            .as_ref()
            .is_some_and(|m| m.cluster != cluster || m.join_secret.is_none())
        {
            // Joining another cluster leaves the current one.
            self.leave_current(ctx);
        }
        let decisions = state
            .opening
            .as_ref()
            .map(|o| o.rollout.body.decisions.to_vec())
            .unwrap_or_default();
        let mut membership = Membership::new(now, cluster, limit, me, joined, state, ctx.config);
        membership.join_secret = Some(secret);
        membership.welcome_seq = Some(seq);
        // A later welcome replaces the epoch of a member already in: its votes go on, and it
        // closes those the new epoch's rollout decided, as any member installing it does.
        if let Some(mut old) = self.membership.take_if(|m| m.cluster == cluster) {
            old.anon.end_all_calls(ctx);
            membership.votes = old.votes;
            // Its heartbeat chain goes on too: the others may have checked its links already,
            // and a fresh chain of the same generation would look forged to them until the
            // member moved past that generation, 64 heartbeats later; they would find it
            // silent and drop it meanwhile.
            membership.heartbeats = old.heartbeats;
            let (votes, view) = membership.vote_parts();
            votes.epoch_installed(now, &decisions, false, &view, ctx);
            membership.flood_votes(ctx);
        }
        let members = membership.current.table.len();
        membership.votes.lying = self.lying;
        self.drop_membership(ctx);
        self.membership = Some(membership);
        if self.joining.take().is_some() {
            info!(%cluster, %epoch, members, "joined a cluster");
            ctx.out.emit(
                ctx.stats,
                Event::JoinedCluster {
                    cluster,
                    epoch,
                    members,
                },
            );
        } else {
            debug!(%cluster, %epoch, "welcome replaced by the contact's later choice");
        }
    }

    /// Runs the cluster's timers.
    pub(crate) fn handle_timeout(&mut self, now: Timestamp, ctx: &mut Ctx<'_>) {
        self.welcomes.expire(now);
        if let Some(pending) = &mut self.joining
            && now >= pending.next_retry
        {
            if pending.attempts >= ctx.config.join_attempts {
                let contact = pending.contact;
                info!(%contact, "join got no answer");
                ctx.out.emit(ctx.stats, Event::JoinFailed { contact });
                self.joining = None;
            } else {
                debug!(contact = %pending.contact, attempt = pending.attempts + 1, "join retry");
                pending.send_request(now, ctx);
            }
        }
        let Some(m) = &mut self.membership else {
            return;
        };
        if m.previous.as_ref().is_some_and(|p| now >= p.until) {
            m.previous = None;
        }
        if m.lost(now, ctx.config) {
            info!(cluster = %m.cluster, "nothing from the cluster opens any more: out of it");
            ctx.out
                .emit(ctx.stats, Event::RemovedFromCluster { cluster: m.cluster });
            self.drop_membership(ctx);
            return;
        }
        m.floods.expire(now);
        m.refresh_heard_floor(now, ctx.config);
        m.expire_contacts(now, ctx);
        m.heartbeat(now, ctx);
        m.probe(now, ctx);
        m.keep_poking(now, ctx);
        if m.handle_rollout_timers(now, ctx) == Continue::Removed {
            self.drop_membership(ctx);
            return;
        }
        let (chat, view) = m.chat_parts();
        chat.handle_timeout(now, &view, ctx);
        let (anon, view) = m.anon_parts();
        anon.handle_timeout(now, &view, ctx);
        let (votes, view) = m.vote_parts();
        votes.handle_timeout(now, &view, ctx);
        m.flood_votes(ctx);
    }

    /// The cluster's next deadline.
    pub(crate) fn poll_timeout(&self, config: &crate::Config) -> Option<Timestamp> {
        let join = self.joining.as_ref().map(|p| p.next_retry);
        let welcomes = self.welcomes.next_expiry();
        let member = self.membership.as_ref().map(|m| {
            let mut at = m.next_heartbeat.min(m.chat.poll_timeout(config));
            if let Some(t) = m.anon.poll_timeout() {
                at = at.min(t);
            }
            if let Some(t) = m.votes.poll_timeout(m.me, config) {
                at = at.min(t);
            }
            for t in [
                m.previous.as_ref().map(|p| p.until),
                m.floods.next_expiry(),
                m.contacts
                    .values()
                    .map(|d| d.since + config.member_timeout)
                    .min(),
                (m.current.table.len() > 1).then(|| m.lost_at(config)),
                m.repoke_at(),
                m.next_probe,
            ]
            .into_iter()
            .flatten()
            {
                at = at.min(t);
            }
            // Last, so that it is computed only if it comes before everything else.
            if let Some(t) = m.rollout_timeout(config, at) {
                at = at.min(t);
            }
            at
        });
        [join, welcomes, member].into_iter().flatten().min()
    }
}
