//! A member's state and what it does with cluster frames: heartbeats, floods, admissions and
//! leaves. Rollouts are in [`super::rollout`], joins in [`super::join`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;

use tracing::{debug, trace};

use super::epoch::{EpochState, MemberEntry};
use super::heartbeat::{self, OwnChain, Refused};
use super::transport;
use crate::anon::{AnonLayer, AnonView};
use crate::chat::{Chat, ChatView};
use crate::crypto::EpochSecret;
use crate::ids::{ClusterId, Epoch, MemberId};
use crate::node::Ctx;
use crate::time::Timestamp;
use crate::vote::{VoteView, Votes};
use crate::wire::cluster::{
    ClusterFrame, Flooded, FrameBody, Heartbeat, KeyOffer, KeyRequest, Leave, MAX_FLOODED_BYTES,
    Signed, SignedBody,
};
use crate::wire::fragment::{MessageId, Reassembler, ReassemblyLimits};
use crate::wire::{self, SealedFrame, frame};

/// How often one member is poked at most (see [`Membership::poke`]).
const POKE_PACE: core::time::Duration = core::time::Duration::from_secs(2);

/// How many members are poked at most per [`POKE_PACE`].
const POKES_PER_PACE: usize = 4;

/// How many probes a member not heard from gets per heartbeat interval (see
/// [`Membership::probe`]).
const PROBES_PER_HEARTBEAT: u32 = 6;

/// How often a member behind is sent the rollout it missed, at most, by each member ahead
/// (see [`Membership::catch_up`]).
const CATCH_UP_PACE: core::time::Duration = core::time::Duration::from_secs(5);

/// How many fresh epoch secrets a member keeps while rollouts are pending.
pub(crate) const MAX_OFFERED: usize = 4;

/// The previous epoch, kept for a grace period after a rollout.
#[derive(Debug)]
pub(crate) struct Previous {
    pub(crate) state: EpochState,
    /// When it was installed here.
    pub(crate) installed_at: Timestamp,
    /// When it is forgotten.
    pub(crate) until: Timestamp,
}

/// A fresh epoch secret this member offered to a rollout leader.
#[derive(Debug)]
pub(crate) struct Offer {
    pub(crate) leader: MemberId,
    pub(crate) target: Epoch,
    pub(crate) secret: EpochSecret,
}

/// A rollout this member leads.
#[derive(Debug)]
pub(crate) struct Leading {
    /// The epoch it opens.
    pub(crate) target: Epoch,
    /// Fresh epoch keys received, by member.
    pub(crate) offers: BTreeMap<MemberId, crate::crypto::EpochPublic>,
    /// When to ask again those that have not answered.
    pub(crate) next_request: Timestamp,
    /// When to publish.
    pub(crate) finalize_at: Timestamp,
}

/// Which of the keys held opened a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyUsed {
    Current,
    Previous,
}

/// What the cluster layer must do after a member handled an input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Continue {
    /// Stay a member.
    Stay,
    /// This node is no longer a member (a rollout dropped it).
    Removed,
}

/// Everything a member holds about its cluster.
#[derive(Debug)]
pub(crate) struct Membership {
    pub(crate) cluster: ClusterId,
    pub(crate) limit: Option<u16>,
    pub(crate) me: MemberId,
    /// The epoch this member joined in.
    pub(crate) joined: Epoch,
    pub(crate) current: EpochState,
    /// When the current epoch was installed here.
    pub(crate) installed_at: Timestamp,
    pub(crate) previous: Option<Previous>,
    /// Fresh epoch secrets offered to leaders, newest last.
    pub(crate) offered: VecDeque<Offer>,
    /// The secret of the join key, while it is still this member's epoch key.
    pub(crate) join_secret: Option<EpochSecret>,
    /// The number of the welcome installed, while `join_secret` is kept: only a higher one
    /// from the contact replaces it.
    pub(crate) welcome_seq: Option<u32>,
    pub(crate) votes: Votes,
    pub(crate) leaves: BTreeMap<MemberId, Timestamp>,
    pub(crate) leading: Option<Leading>,
    /// A leader ranked before this member was seen at work: do not take over before this.
    pub(crate) quiet_until: Timestamp,
    /// No later than the time every other member of the current table was last heard from
    /// (their `last_heard` only grows, and a table installed later holds no earlier one), so
    /// that the rollout deadline can be bounded without a pass over the table.
    pub(crate) heard_floor: Timestamp,
    /// This member's heartbeat chain.
    pub(crate) heartbeats: OwnChain,
    pub(crate) next_heartbeat: Timestamp,
    /// When members not heard from lately are next probed; `None` while none is.
    pub(crate) next_probe: Option<Timestamp>,
    /// Members whose probe this member answered, and when: one answer per half probe
    /// interval each.
    pub(crate) answered: BTreeMap<MemberId, Timestamp>,
    /// When a frame from another member last opened under the current key (or the current
    /// epoch was installed).
    pub(crate) last_opened: Timestamp,
    /// Restored from a saved state, and nothing has opened under the current key since: it
    /// leads no rollout (the others it finds silent may be the ones that went on without
    /// it), and gives up after one member timeout rather than two.
    pub(crate) resumed_unconfirmed: bool,
    /// Members whose frame did not open that were sent a heartbeat, and when.
    pub(crate) pokes: BTreeMap<SocketAddr, Timestamp>,
    /// Until when this member may be behind and keeps poking (see `keep_poking`).
    pub(crate) behind_until: Timestamp,
    /// When it next pokes a random member while it may be behind.
    pub(crate) next_repoke: Timestamp,
    pub(crate) floods: Reassembler,
    /// Members that were sent the current rollout because they were behind, and when.
    pub(crate) caught_up: BTreeMap<MemberId, Timestamp>,
    pub(crate) contacts: BTreeMap<MemberId, super::join::ContactDuty>,
    pub(crate) chat: Chat,
    pub(crate) anon: AnonLayer,
}

impl Membership {
    /// A membership of `current`, installed at `now`.
    pub(crate) fn new(
        now: Timestamp,
        cluster: ClusterId,
        limit: Option<u16>,
        me: MemberId,
        joined: Epoch,
        current: EpochState,
        config: &crate::Config,
    ) -> Self {
        let mut membership = Membership {
            cluster,
            limit,
            me,
            joined,
            current,
            installed_at: now,
            previous: None,
            offered: VecDeque::new(),
            join_secret: None,
            welcome_seq: None,
            votes: Votes::default(),
            leaves: BTreeMap::new(),
            leading: None,
            quiet_until: Timestamp::ZERO,
            heard_floor: now,
            heartbeats: OwnChain::new(0),
            next_heartbeat: now,
            next_probe: None,
            answered: BTreeMap::new(),
            last_opened: now,
            resumed_unconfirmed: false,
            pokes: BTreeMap::new(),
            behind_until: Timestamp::ZERO,
            next_repoke: Timestamp::ZERO,
            floods: Reassembler::new(ReassemblyLimits {
                max_messages: config.max_partial_floods,
                max_message_bytes: MAX_FLOODED_BYTES,
                timeout: config.rollout_timeout * 3,
                remember_completed: 4096,
            }),
            caught_up: BTreeMap::new(),
            contacts: BTreeMap::new(),
            chat: Chat::new(now),
            anon: AnonLayer::new(now, config),
        };
        membership.heard_floor = membership.heard_from_all().map_or(now, |t| t.min(now));
        membership
    }

    /// What the anonymous layer sees of the membership.
    pub(crate) fn anon_view(&self) -> AnonView<'_> {
        AnonView {
            cluster: self.cluster,
            me: self.me,
            current: &self.current,
            previous: self.previous.as_ref().map(|p| &p.state),
        }
    }

    /// Splits the membership into its votes and the view they work with.
    pub(crate) fn vote_parts(&mut self) -> (&mut Votes, VoteView<'_>) {
        let view = VoteView {
            cluster: self.cluster,
            me: self.me,
            current: &self.current,
        };
        (&mut self.votes, view)
    }

    /// Floods what the votes want flooded.
    pub(crate) fn flood_votes(&mut self, ctx: &mut Ctx<'_>) {
        for flooded in self.votes.take_floods() {
            self.flood_own(&flooded, ctx);
        }
    }

    /// Splits the membership into its anonymous layer and the view it works with.
    pub(crate) fn anon_parts(&mut self) -> (&mut AnonLayer, AnonView<'_>) {
        let view = AnonView {
            cluster: self.cluster,
            me: self.me,
            current: &self.current,
            previous: self.previous.as_ref().map(|p| &p.state),
        };
        (&mut self.anon, view)
    }

    /// Splits the membership into its chat and the view the chat works with.
    pub(crate) fn chat_parts(&mut self) -> (&mut Chat, ChatView<'_>) {
        let view = ChatView {
            cluster: self.cluster,
            me: self.me,
            joined: self.joined,
            current: &self.current,
        };
        (&mut self.chat, view)
    }

    /// The most members this cluster may have: its limit, within the configured bound.
    pub(crate) fn size_limit(&self, config: &crate::Config) -> usize {
        self.limit
            .map_or(config.max_cluster_size, usize::from)
            .min(config.max_cluster_size)
    }

    /// The members known to be leaving: those that sent a leave, and those whose expulsion
    /// this member holds the outcome of. They lead no rollout (an expelled member leading the
    /// one that drops it would drop out before sending it).
    pub(crate) fn leaving(&self) -> BTreeSet<MemberId> {
        self.leaves
            .keys()
            .copied()
            .chain(self.votes.expelled())
            .collect()
    }

    /// The state of the epoch a frame was opened with.
    fn state(&self, used: KeyUsed) -> &EpochState {
        match (used, &self.previous) {
            (KeyUsed::Previous, Some(previous)) => &previous.state,
            _ => &self.current,
        }
    }

    /// Opens a cluster frame with the current key, else the previous one.
    fn open(&self, frame: &SealedFrame) -> Option<(KeyUsed, ClusterFrame)> {
        let attempt = |state: &EpochState| {
            let payload = frame::open_frame(&state.key, frame).ok()?;
            let opened: ClusterFrame = wire::decode_payload(&payload).ok()?;
            (opened.cluster == self.cluster && opened.epoch == state.epoch).then_some(opened)
        };
        if let Some(opened) = attempt(&self.current) {
            return Some((KeyUsed::Current, opened));
        }
        let previous = self.previous.as_ref()?;
        attempt(&previous.state).map(|opened| (KeyUsed::Previous, opened))
    }

    /// Handles a sealed cluster frame.
    pub(crate) fn on_frame(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        frame: &SealedFrame,
        ctx: &mut Ctx<'_>,
    ) -> Continue {
        let Some((used, opened)) = self.open(frame) else {
            ctx.stats.dropped.undecryptable += 1;
            if self.poke(now, from, ctx) {
                // Keep asking for a while even if no more such frames come (an idle cluster
                // sends few): an answer may be lost.
                self.behind_until = now + ctx.config.rollout_timeout;
            }
            return Continue::Stay;
        };
        if used == KeyUsed::Current {
            self.last_opened = now;
        }
        let outcome = self.on_opened(now, from, used, opened.body, ctx);
        // After it, not before: a rollout that brings a restored member up to date is checked
        // as a restored member checks one (see `Membership::check`).
        if used == KeyUsed::Current {
            self.resumed_unconfirmed = false;
        }
        outcome
    }

    /// Handles the body of a frame opened with the `used` key.
    fn on_opened(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        used: KeyUsed,
        body: FrameBody,
        ctx: &mut Ctx<'_>,
    ) -> Continue {
        match body {
            FrameBody::Heartbeat(heartbeat) => self.on_heartbeat(now, used, heartbeat, ctx),
            FrameBody::Fragment(fragment) => {
                let message = fragment.message;
                match self.floods.insert(now, fragment) {
                    Ok(Some(bytes)) => return self.on_flooded(now, used, message, bytes, ctx),
                    Ok(None) => {}
                    Err(crate::wire::fragment::FragmentError::Duplicate) => {
                        ctx.stats.dropped.duplicate += 1;
                    }
                    Err(_) => ctx.stats.dropped.malformed += 1,
                }
            }
            FrameBody::KeyRequest(request) if used == KeyUsed::Current => {
                self.on_key_request(now, request, ctx);
            }
            FrameBody::KeyOffer(offer) if used == KeyUsed::Current => {
                self.on_key_offer(now, offer, ctx);
            }
            FrameBody::PostSync(sync) if used == KeyUsed::Current => {
                let (chat, view) = self.chat_parts();
                chat.on_sync(now, sync, &view, ctx);
            }
            // Anonymous packets in flight during a rollout are still relayed.
            FrameBody::Anon(relay) => {
                let (anon, view) = self.anon_parts();
                anon.on_relay(now, from, relay, &view, ctx);
            }
            // Cover traffic carries nothing: it only has to arrive.
            FrameBody::Cover(_) => ctx.stats.cover_received += 1,
            FrameBody::AnonSync(sync) if used == KeyUsed::Current => {
                let (anon, view) = self.anon_parts();
                anon.on_sync(now, sync, &view, ctx);
            }
            FrameBody::Ballot(packet) if used == KeyUsed::Current => {
                let (votes, view) = self.vote_parts();
                votes.on_ballot_frame(now, &packet, &view, ctx);
                self.flood_votes(ctx);
            }
            // Only heartbeats and floods are taken from the previous epoch.
            _ => ctx.stats.dropped.stale += 1,
        }
        Continue::Stay
    }

    fn on_heartbeat(
        &mut self,
        now: Timestamp,
        used: KeyUsed,
        heartbeat: Heartbeat,
        ctx: &mut Ctx<'_>,
    ) {
        let member = heartbeat.chain.body.member;
        if member == self.me {
            ctx.stats.dropped.unexpected += 1;
            return;
        }
        // The sender must be a member of the epoch whose key opened the frame.
        let Some(identity) = self.state(used).table.get(&member).map(|e| e.identity) else {
            ctx.stats.dropped.not_member += 1;
            return;
        };
        // Its chain is followed across epochs, in the newest table that holds it.
        let cluster = self.cluster;
        let entry = (self.current.table.get_mut(&member))
            .or_else(|| self.previous.as_mut()?.state.table.get_mut(&member));
        let Some(entry) = entry else {
            return;
        };
        let known = entry.heartbeat.as_ref();
        let addr = entry.addr;
        match heartbeat::check(&heartbeat, cluster, member, &identity, known, ctx.verifier) {
            Ok(view) => {
                entry.heartbeat = Some(view);
                entry.last_heard = entry.last_heard.max(now);
                if heartbeat.answer && used == KeyUsed::Current {
                    self.answer_probe(now, member, addr, ctx);
                }
            }
            Err(Refused::Stale) => {
                ctx.stats.dropped.stale += 1;
                return;
            }
            Err(Refused::Replay) => {
                ctx.stats.dropped.duplicate += 1;
                return;
            }
            Err(Refused::Forged) => {
                ctx.stats.dropped.bad_signature += 1;
                return;
            }
        }
        if used == KeyUsed::Previous {
            // The sender has not installed the current epoch: it missed the rollout.
            self.catch_up(now, member, ctx);
        }
    }

    /// Checks a message that `signer` signed in (`cluster`, `epoch`) against the epoch whose
    /// key opened it: the signer is a member of that epoch, cluster and epoch are that epoch's,
    /// and the signature holds. Counts the reason when not.
    fn check_signed<T: SignedBody>(
        &self,
        used: KeyUsed,
        signer: &MemberId,
        cluster: ClusterId,
        epoch: Epoch,
        signed: &Signed<T>,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let state = self.state(used);
        let Some(entry) = state.table.get(signer) else {
            ctx.stats.dropped.not_member += 1;
            return false;
        };
        if cluster != self.cluster || epoch != state.epoch {
            ctx.stats.dropped.stale += 1;
            return false;
        }
        if signed.verify_with(&entry.identity, ctx.verifier).is_err() {
            ctx.stats.dropped.bad_signature += 1;
            return false;
        }
        true
    }

    /// Sends the rollout that opened the current epoch to `member`, which is still in the
    /// previous one, at most once per [`CATCH_UP_PACE`]. The pace does not follow the
    /// heartbeat interval: the member behind has only the previous epoch's grace period to
    /// catch up, and on a lossy link it may take several copies (their fragments add up).
    fn catch_up(&mut self, now: Timestamp, member: MemberId, ctx: &mut Ctx<'_>) {
        let (Some(previous), Some(opening)) = (&self.previous, &self.current.opening) else {
            return;
        };
        let Some(entry) = previous.state.table.get(&member) else {
            return;
        };
        if self
            .caught_up
            .get(&member)
            .is_some_and(|&at| now < at + CATCH_UP_PACE)
        {
            return;
        }
        debug!(%member, epoch = %self.current.epoch, "sending the rollout to a member behind");
        self.caught_up.insert(member, now);
        opening.send(ctx, self.cluster, &previous.state, &[entry.addr]);
    }

    /// Handles a completely received flooded object.
    fn on_flooded(
        &mut self,
        now: Timestamp,
        used: KeyUsed,
        message: MessageId,
        bytes: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) -> Continue {
        let flooded: Flooded = match wire::decode_payload(&bytes) {
            Ok(flooded) => flooded,
            Err(_) => {
                ctx.stats.dropped.malformed += 1;
                return Continue::Stay;
            }
        };
        match flooded {
            Flooded::Post(post) => self.on_post(now, used, post, message, bytes, ctx),
            Flooded::Rollout(rollout) => {
                return self.on_rollout(now, used, rollout, message, bytes, ctx);
            }
            Flooded::Proposal(proposal) => {
                let (votes, view) = self.vote_parts();
                if votes.on_proposal(now, proposal, &view, ctx) {
                    self.relay(message, &bytes, ctx, |_| true);
                }
                self.flood_votes(ctx);
            }
            Flooded::Tally(tally) if used == KeyUsed::Current => {
                let fresh = !self.votes.has_tally(&tally);
                let (votes, view) = self.vote_parts();
                votes.on_tally(now, *tally, &view, ctx);
                if fresh {
                    self.relay(message, &bytes, ctx, |_| true);
                }
                self.flood_votes(ctx);
            }
            Flooded::Tally(_) => ctx.stats.dropped.stale += 1,
            Flooded::Leave(leave) => self.on_leave(now, used, leave, message, bytes, ctx),
        }
        Continue::Stay
    }

    fn on_post(
        &mut self,
        now: Timestamp,
        used: KeyUsed,
        post: Signed<crate::wire::cluster::Post>,
        message: MessageId,
        bytes: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) {
        let author = post.body.author;
        let identity = self
            .current
            .table
            .get(&author)
            .or_else(|| self.state(used).table.get(&author))
            .map(|e| e.identity);
        let Some(identity) = identity else {
            ctx.stats.dropped.not_member += 1;
            return;
        };
        if post.body.cluster != self.cluster || post.body.position.epoch > self.current.epoch {
            ctx.stats.dropped.stale += 1;
            return;
        }
        if post.verify_with(&identity, ctx.verifier).is_err() {
            ctx.stats.dropped.bad_signature += 1;
            return;
        }
        if let Some(entry) = self.current.table.get_mut(&author) {
            entry.last_heard = entry.last_heard.max(now);
        }
        let epoch = post.body.position.epoch;
        let (chat, view) = self.chat_parts();
        if chat.on_post(now, post, message, bytes.clone(), &view, ctx) {
            self.relay(message, &bytes, ctx, |e| e.joined <= epoch);
        }
    }

    /// Relays a new flooded object to `cluster_fanout` random members of the current epoch
    /// that pass `eligible`.
    pub(crate) fn relay(
        &self,
        message: MessageId,
        bytes: &[u8],
        ctx: &mut Ctx<'_>,
        eligible: impl Fn(&MemberEntry) -> bool,
    ) {
        let fanout = ctx.config.cluster_fanout;
        let targets = self
            .current
            .random_members(&self.me, fanout, ctx.rng, eligible);
        let current = &self.current;
        transport::send_flooded(
            ctx,
            &current.key,
            self.cluster,
            current.epoch,
            message,
            bytes,
            &targets,
        );
    }

    /// Floods an object this member made: to `cluster_fanout` random members and to the first
    /// members of the leader order, who act on admissions and leaves.
    pub(crate) fn flood_own(&mut self, flooded: &Flooded, ctx: &mut Ctx<'_>) {
        let bytes = wire::encode_payload(flooded).unwrap_or_default();
        // Our own copy coming back is recognised by its content (our admit or leave).
        let message = transport::new_message_id(ctx);
        let mut targets =
            self.current
                .random_members(&self.me, ctx.config.cluster_fanout, ctx.rng, |_| true);
        for leader in self
            .current
            .leader_order(&self.leaving())
            .into_iter()
            .take(2)
        {
            if let Some(entry) = self.current.table.get(&leader)
                && leader != self.me
                && !targets.contains(&entry.addr)
            {
                targets.push(entry.addr);
            }
        }
        let current = &self.current;
        transport::send_flooded(
            ctx,
            &current.key,
            self.cluster,
            current.epoch,
            message,
            &bytes,
            &targets,
        );
    }

    fn on_leave(
        &mut self,
        now: Timestamp,
        used: KeyUsed,
        leave: Signed<Leave>,
        message: MessageId,
        bytes: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) {
        let body = &leave.body;
        if !self.check_signed(used, &body.member, body.cluster, body.epoch, &leave, ctx) {
            return;
        }
        let member = body.member;
        if self.leaves.contains_key(&member) || !self.current.table.contains_key(&member) {
            ctx.stats.dropped.duplicate += 1;
            return;
        }
        debug!(%member, "member leaves, rollout due");
        self.leaves.insert(member, now);
        self.relay(message, &bytes, ctx, |_| true);
    }

    /// Answers a rollout leader with a fresh epoch key for the epoch it opens.
    fn on_key_request(&mut self, now: Timestamp, request: KeyRequest, ctx: &mut Ctx<'_>) {
        let Some(leader) = self.current.table.get(&request.leader) else {
            ctx.stats.dropped.not_member += 1;
            return;
        };
        if request.target != self.current.epoch.next() || request.leader == self.me {
            ctx.stats.dropped.stale += 1;
            return;
        }
        let addr = leader.addr;
        let order = self.current.leader_order(&self.leaving());
        let position = |id: &MemberId| order.iter().position(|m| m == id);
        if position(&request.leader) < position(&self.me) {
            // A leader before us is at work: give it its full time before taking over, and
            // stop leading ourselves.
            self.quiet_until = self.quiet_until.max(now + ctx.config.rollout_timeout);
            if self.leading.is_some() {
                debug!(leader = %request.leader, "a better-ranked leader is at work, yielding");
                self.leading = None;
            }
        }
        let existing = self
            .offered
            .iter()
            .find(|o| o.leader == request.leader && o.target == request.target);
        let key = match existing {
            Some(offer) => offer.secret.public(),
            None => {
                let secret = EpochSecret::generate(ctx.rng);
                let key = secret.public();
                if self.offered.len() >= MAX_OFFERED {
                    self.offered.pop_front();
                }
                self.offered.push_back(Offer {
                    leader: request.leader,
                    target: request.target,
                    secret,
                });
                key
            }
        };
        let offer = Signed::sign(
            ctx.identity,
            KeyOffer {
                cluster: self.cluster,
                target: request.target,
                leader: request.leader,
                member: self.me,
                key,
            },
        );
        let current = &self.current;
        transport::send_frame(
            ctx,
            &current.key,
            self.cluster,
            current.epoch,
            addr,
            FrameBody::KeyOffer(offer),
        );
    }

    fn on_key_offer(&mut self, now: Timestamp, offer: Signed<KeyOffer>, ctx: &mut Ctx<'_>) {
        let body = &offer.body;
        let Some(entry) = self.current.table.get(&body.member) else {
            ctx.stats.dropped.not_member += 1;
            return;
        };
        let Some(leading) = &mut self.leading else {
            ctx.stats.dropped.unexpected += 1;
            return;
        };
        if body.cluster != self.cluster || body.target != leading.target || body.leader != self.me {
            ctx.stats.dropped.stale += 1;
            return;
        }
        if offer.verify_with(&entry.identity, ctx.verifier).is_err() {
            ctx.stats.dropped.bad_signature += 1;
            return;
        }
        trace!(member = %body.member, "epoch key offered");
        leading.offers.insert(body.member, body.key);
        let me = self.me;
        let everyone =
            self.current.table.keys().all(|id| {
                *id == me || leading.offers.contains_key(id) || self.leaves.contains_key(id)
            });
        if everyone {
            // Nothing more to wait for: publish at once.
            leading.finalize_at = now;
        }
        if let Some(entry) = self.current.table.get_mut(&offer.body.member) {
            entry.last_heard = entry.last_heard.max(now);
        }
    }

    /// A member sent a frame this member cannot open: one of the two missed a rollout, or the
    /// two installed competing rollouts of the same epoch. A heartbeat under our key tells it;
    /// if it is ahead, it answers with the rollout we missed (it keeps our key for the grace
    /// period). A heartbeat of the previous epoch under the previous key reaches it if it
    /// installed a competing rollout (both sides keep the key they rolled out of): it answers
    /// with its rollout, and the better-ranked of the two wins on both sides (see
    /// `Membership::on_rollout`). Without it, two sides of a fork could never open each
    /// other's frames again. Each member is poked at most once per
    /// [`POKE_PACE`], and at most [`POKES_PER_PACE`] members per pace in all, so that a member
    /// behind asks several others at once (any one answer may be lost) without flooding.
    /// Returns whether `from` is another member of the current table.
    fn poke(&mut self, now: Timestamp, from: SocketAddr, ctx: &mut Ctx<'_>) -> bool {
        let known = self
            .current
            .table
            .iter()
            .any(|(id, e)| e.addr == from && *id != self.me);
        self.pokes.retain(|_, &mut at| now < at + POKE_PACE);
        if !known || self.pokes.contains_key(&from) || self.pokes.len() >= POKES_PER_PACE {
            return known;
        }
        self.pokes.insert(from, now);
        // Under our key, then under the previous one (see above).
        let epochs = [
            Some(self.current.epoch),
            self.previous.as_ref().map(|p| p.state.epoch),
        ];
        for epoch in epochs.into_iter().flatten() {
            let heartbeat = self.next_heartbeat(ctx);
            let state = match &self.previous {
                Some(previous) if previous.state.epoch == epoch => &previous.state,
                _ => &self.current,
            };
            let body = FrameBody::Heartbeat(heartbeat);
            transport::send_frame(ctx, &state.key, self.cluster, epoch, from, body);
        }
        true
    }

    /// While this member may be behind (a member's frame did not open lately), pokes one
    /// random member every [`POKE_PACE`].
    pub(crate) fn keep_poking(&mut self, now: Timestamp, ctx: &mut Ctx<'_>) {
        if now >= self.behind_until || now < self.next_repoke {
            return;
        }
        self.next_repoke = now + POKE_PACE;
        let pick = self.current.random_members(&self.me, 1, ctx.rng, |_| true);
        if let Some(&to) = pick.first() {
            self.poke(now, to, ctx);
        }
    }

    /// When [`Membership::keep_poking`] next has something to do.
    pub(crate) fn repoke_at(&self) -> Option<Timestamp> {
        (self.next_repoke < self.behind_until).then_some(self.next_repoke)
    }

    /// This member's next heartbeat: the next link of its chain.
    fn next_heartbeat(&mut self, ctx: &mut Ctx<'_>) -> Heartbeat {
        self.heartbeats
            .next_heartbeat(self.cluster, self.me, ctx.identity, ctx.rng)
    }

    /// The pace of probes: a member not heard from gets [`PROBES_PER_HEARTBEAT`] per
    /// heartbeat interval.
    fn probe_interval(config: &crate::Config) -> core::time::Duration {
        config.heartbeat_interval / PROBES_PER_HEARTBEAT
    }

    /// The other members' addresses, split into those heard from within two heartbeat
    /// intervals and those not (to be probed).
    fn heartbeat_targets(
        &self,
        now: Timestamp,
        config: &crate::Config,
    ) -> (Vec<SocketAddr>, Vec<SocketAddr>) {
        let quiet = config.heartbeat_interval * 2;
        let (heard, suspects): (Vec<_>, Vec<_>) = (self.current.table.iter())
            .filter(|(id, _)| **id != self.me)
            .partition(|(_, e)| now < e.last_heard + quiet);
        let addrs = |entries: Vec<(&MemberId, &MemberEntry)>| {
            entries.into_iter().map(|(_, e)| e.addr).collect()
        };
        (addrs(heard), addrs(suspects))
    }

    /// Sends a heartbeat to every member when one is due, as a probe to those not heard from
    /// for two heartbeat intervals (see [`Membership::probe`]).
    pub(crate) fn heartbeat(&mut self, now: Timestamp, ctx: &mut Ctx<'_>) {
        if now < self.next_heartbeat {
            return;
        }
        // A little jitter, so members' heartbeats do not fall into step.
        let interval = ctx.config.heartbeat_interval;
        let fraction = f64::from(rand_core::Rng::next_u32(ctx.rng)) / f64::from(u32::MAX);
        self.next_heartbeat = now + interval.mul_f64(1.0 - 0.1 * fraction);
        let (heard, suspects) = self.heartbeat_targets(now, ctx.config);
        let heartbeat = self.next_heartbeat(ctx);
        self.send_heartbeat(heartbeat.clone(), &heard, ctx);
        self.send_probe(now, heartbeat, &suspects, ctx);
    }

    /// Probes the members not heard from for two heartbeat intervals, when a probe is due:
    /// a heartbeat to each of them that asks for a heartbeat back. A member is left out of
    /// the next rollout when its leader has not heard it for `member_timeout`; under loss,
    /// every heartbeat of a live member may be lost over that time, and probing it every
    /// probe interval for the rest of the timeout makes that as unlikely as losing every
    /// probe or its answer as well (SWIM probes a member before suspecting it; Das, Gupta
    /// and Motivala, DSN 2002). The probes are what lets heartbeats be as sparse as they are.
    pub(crate) fn probe(&mut self, now: Timestamp, ctx: &mut Ctx<'_>) {
        if self.next_probe.is_none_or(|at| now < at) {
            return;
        }
        let (_, suspects) = self.heartbeat_targets(now, ctx.config);
        if suspects.is_empty() {
            self.next_probe = None;
            return;
        }
        let heartbeat = self.next_heartbeat(ctx);
        self.send_probe(now, heartbeat, &suspects, ctx);
    }

    /// Sends `heartbeat` to `suspects` as a probe, and schedules the next probe while there
    /// are any.
    fn send_probe(
        &mut self,
        now: Timestamp,
        heartbeat: Heartbeat,
        suspects: &[SocketAddr],
        ctx: &mut Ctx<'_>,
    ) {
        self.next_probe = (!suspects.is_empty()).then(|| now + Self::probe_interval(ctx.config));
        let probe = Heartbeat {
            answer: true,
            ..heartbeat
        };
        self.send_heartbeat(probe, suspects, ctx);
    }

    /// Answers a probe from `member`, at `addr`, with a heartbeat: at most once per half
    /// probe interval, so that probes cannot make this member send more than the prober.
    fn answer_probe(
        &mut self,
        now: Timestamp,
        member: MemberId,
        addr: SocketAddr,
        ctx: &mut Ctx<'_>,
    ) {
        let pace = Self::probe_interval(ctx.config) / 2;
        self.answered.retain(|_, &mut at| now < at + pace);
        if self.answered.contains_key(&member) {
            return;
        }
        self.answered.insert(member, now);
        // The last link again: the prober missed it (it would not probe otherwise), and
        // answers to many probers cost no links.
        let heartbeat = match self.heartbeats.last_heartbeat() {
            Some(heartbeat) => heartbeat,
            None => self.next_heartbeat(ctx),
        };
        self.send_heartbeat(heartbeat, &[addr], ctx);
    }

    /// Sends `heartbeat` under the current key to each of `targets`.
    fn send_heartbeat(&self, heartbeat: Heartbeat, targets: &[SocketAddr], ctx: &mut Ctx<'_>) {
        if targets.is_empty() {
            return;
        }
        let current = &self.current;
        transport::send_frame_to_all(
            ctx,
            &current.key,
            self.cluster,
            current.epoch,
            targets,
            FrameBody::Heartbeat(heartbeat),
        );
    }

    /// Whether this member has lost its cluster: nothing from the others has opened for twice
    /// the member timeout, so the others have rolled the key without it (it missed the rollout
    /// and its grace period) or are all gone.
    pub(crate) fn lost(&self, now: Timestamp, config: &crate::Config) -> bool {
        self.current.table.len() > 1 && now >= self.lost_at(config)
    }

    /// When [`Membership::lost`] becomes true if nothing opens meanwhile: one member timeout
    /// after a restore that nothing confirmed (the others heartbeat every member they hold
    /// many times within it), else two.
    pub(crate) fn lost_at(&self, config: &crate::Config) -> Timestamp {
        let periods = if self.resumed_unconfirmed { 1 } else { 2 };
        self.last_opened + config.member_timeout * periods
    }

    /// Makes and floods this member's signed leave.
    pub(crate) fn leave(&mut self, ctx: &mut Ctx<'_>) {
        let leave = Signed::sign(
            ctx.identity,
            Leave {
                cluster: self.cluster,
                epoch: self.current.epoch,
                member: self.me,
            },
        );
        self.flood_own(&Flooded::Leave(leave), ctx);
    }
}
