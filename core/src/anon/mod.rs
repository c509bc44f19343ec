//! Anonymous messages between members: stem and fluff relay, trial decryption, replies,
//! acknowledgements, and a store for members that were away.
//!
//! A message is encoded, split into fragments, and each fragment is HPKE-sealed to the
//! recipient's epoch key (or to a reply key it handed out) in one fixed-size packet
//! ([`crate::wire::anon`]). The sender hands every packet to its stem successor; each stem relay
//! passes it on with probability `Config::p_stem`, else starts the fluff, a flood among the
//! members with `Config::anon_fanout` and `Config::anon_hop_limit`. Every member tries to open
//! every packet it sees (within a budget); only the recipient can. Stems are routed as in
//! Dandelion++ ([`route`]), with a fail-safe embargo ([`relay`]). The recipient acknowledges
//! each message to its reply key; the sender sends again, freshly sealed, until acknowledged.
//! Members keep fluffed packets for a while and hand them to members that lacked them
//! ([`store`]). See `docs/design.md` § Anonymous messages.

mod conversation;
mod estimate;
mod relay;
mod route;
mod store;
mod trial;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use rand_core::Rng;
use tracing::{debug, trace};

use self::conversation::{Conversations, Outgoing, Target};
use self::relay::{Relay, Sighting};
use self::route::{Hop, Routes};
use self::store::Store;
use self::trial::{Secrets, Trials};
use crate::cluster::epoch::EpochState;
use crate::cluster::transport;
use crate::crypto::{EpochPublic, EpochSecret};
use crate::ids::{ClusterId, Epoch, MemberId};
use crate::node::{CommandError, Ctx, Event};
use crate::sample::sample;
use crate::time::Timestamp;
use crate::wire::anon::{
    ANON_FRAGMENT_BYTES, AnonAck, AnonBody, AnonMessage, AnonPacket, AnonPayload, AnonRelay,
    AnonSigner, AnonSync, MAX_ANON_MESSAGE_BYTES, MAX_ANON_TEXT, RelayPhase, ThreadId, open_anon,
    seal_anon, signed_bytes,
};
use crate::wire::cluster::FrameBody;
use crate::wire::fragment::{self, FragmentError, MessageId, Reassembler, ReassemblyLimits};
use crate::wire::{self, BoundedBytes};

pub use self::estimate::AnonymityEstimate;

/// The predecessor assigned to stem packets from an address that is not in the table, so
/// that they are routed like any relayed packet.
const UNKNOWN_PREDECESSOR: MemberId = MemberId([0xff; 16]);

/// How far back in epochs a packet handed over from a store may be.
const STORED_EPOCHS: u64 = 16;

/// How a user's anonymous message is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnonOptions {
    /// Sign the message inside the encryption, revealing the sender to the recipient (and to
    /// no one else). Off by default.
    pub sign: bool,
}

/// What [`crate::Node::send_anonymous`] started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnonSent {
    /// The new conversation.
    pub thread: ThreadId,
    /// The message.
    pub message: MessageId,
}

/// Why an anonymous message was given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnonFailure {
    /// No acknowledgement after `Config::anon_attempts` sends.
    NoAcknowledgement,
    /// The recipient is no longer a member.
    RecipientGone,
}

/// What the membership a packet arrives in looks like, for the anonymous layer.
pub(crate) struct AnonView<'a> {
    pub(crate) cluster: ClusterId,
    pub(crate) me: MemberId,
    pub(crate) current: &'a EpochState,
    /// The previous epoch, during its grace period.
    pub(crate) previous: Option<&'a EpochState>,
}

impl AnonView<'_> {
    /// Members other than this one heard from within three heartbeat intervals; all of them
    /// if none was (this member is the one that was away, and has not heard them again yet).
    fn live(&self, now: Timestamp, config: &crate::Config) -> Vec<MemberId> {
        let window = config.heartbeat_interval * 3;
        let others = self.current.table.iter().filter(|(id, _)| **id != self.me);
        let live: Vec<MemberId> = others
            .clone()
            .filter(|(_, e)| now.saturating_since(e.last_heard) <= window)
            .map(|(id, _)| *id)
            .collect();
        if live.is_empty() {
            others.map(|(id, _)| *id).collect()
        } else {
            live
        }
    }

    fn member_at(&self, addr: SocketAddr) -> Option<MemberId> {
        self.current
            .table
            .iter()
            .find(|(_, e)| e.addr == addr)
            .map(|(id, _)| *id)
    }

    fn addr_of(&self, member: &MemberId) -> Option<SocketAddr> {
        self.current.table.get(member).map(|e| e.addr)
    }
}

/// How a packet was opened.
#[derive(Clone, Copy, Debug)]
enum OpenedWith {
    /// This member's epoch key (its public half).
    EpochKey(EpochPublic),
    /// A reply key this member handed out.
    ReplyKey(EpochPublic),
}

impl OpenedWith {
    fn key(self) -> EpochPublic {
        match self {
            OpenedWith::EpochKey(k) | OpenedWith::ReplyKey(k) => k,
        }
    }
}

/// The anonymous-message sub-protocol of one member.
#[derive(Debug)]
pub(crate) struct AnonLayer {
    routes: Routes,
    relay: Relay,
    store: Store,
    trials: Trials,
    secrets: Secrets,
    talk: Conversations,
    reassembly: Reassembler,
    next_sync: Timestamp,
    /// Acknowledgements waiting for their random delay, by due time.
    acks: BTreeMap<(Timestamp, MessageId), EpochPublic>,
}

impl AnonLayer {
    pub(crate) fn new(now: Timestamp, config: &crate::Config) -> Self {
        let stored_packets = config.anon_store_bytes / wire::anon::ANON_PACKET_LEN;
        AnonLayer {
            routes: Routes::default(),
            relay: Relay::new((stored_packets * 2).max(1024)),
            store: Store::new(config.anon_store_bytes, now),
            trials: Trials::new(config.anon_trial_budget, config.max_pending_trials, now),
            secrets: Secrets::default(),
            talk: Conversations::new(config.max_anon_threads),
            reassembly: Reassembler::new(ReassemblyLimits {
                max_messages: 32,
                max_message_bytes: MAX_ANON_MESSAGE_BYTES,
                timeout: config.anon_ack_timeout * config.anon_attempts,
                remember_completed: 0,
            }),
            next_sync: now + config.anon_sync_interval,
            acks: BTreeMap::new(),
        }
    }

    /// Keeps the epoch secrets in step with the membership.
    fn refresh(&mut self, now: Timestamp, view: &AnonView<'_>) {
        if let Some(previous) = view.previous {
            self.secrets
                .install(now, previous.epoch, &previous.my_secret);
        }
        self.secrets
            .install(now, view.current.epoch, &view.current.my_secret);
    }

    /// The anonymity estimate for the next message.
    pub(crate) fn estimate(
        &self,
        now: Timestamp,
        view: &AnonView<'_>,
        config: &crate::Config,
    ) -> AnonymityEstimate {
        AnonymityEstimate::new(
            view.live(now, config).len() + 1,
            config.p_stem,
            config.min_anonymity_set,
        )
    }

    /// Sends `text` to `to` in a new thread.
    pub(crate) fn send(
        &mut self,
        now: Timestamp,
        to: MemberId,
        text: &str,
        options: AnonOptions,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<AnonSent, CommandError> {
        if to == view.me {
            return Err(CommandError::MessageToSelf);
        }
        if !view.current.table.contains_key(&to) {
            return Err(CommandError::NotAMember { member: to });
        }
        // A thread id is as random as a message id.
        let thread = transport::new_message_id(ctx);
        let message = self.start(now, thread, Target::Member(to), text, options, view, ctx)?;
        self.talk.touch_thread(now, thread).peer = Some(to);
        Ok(AnonSent { thread, message })
    }

    /// Sends `text` in `thread`: to the newest reply key the other end handed out, else to the
    /// member the thread is with.
    pub(crate) fn reply(
        &mut self,
        now: Timestamp,
        thread: ThreadId,
        text: &str,
        options: AnonOptions,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<MessageId, CommandError> {
        let known = self
            .talk
            .threads
            .get(&thread)
            .ok_or(CommandError::UnknownThread)?;
        let target = match (known.reply_to, known.peer) {
            (Some(key), _) => Target::ReplyKey(key),
            (None, Some(peer)) => Target::Member(peer),
            (None, None) => return Err(CommandError::UnknownThread),
        };
        self.talk.touch_thread(now, thread);
        self.start(now, thread, target, text, options, view, ctx)
    }

    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        now: Timestamp,
        thread: ThreadId,
        target: Target,
        text: &str,
        options: AnonOptions,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<MessageId, CommandError> {
        let text = BoundedBytes::<MAX_ANON_TEXT>::new(text.as_bytes().to_vec()).map_err(|t| {
            CommandError::MessageTooLong {
                len: t.len(),
                max: MAX_ANON_TEXT,
            }
        })?;
        if self.talk.outgoing.len() >= ctx.config.max_anon_outgoing {
            return Err(CommandError::TooManyPending {
                max: ctx.config.max_anon_outgoing,
            });
        }
        self.refresh(now, view);
        let estimate = self.estimate(now, view, ctx.config);
        if estimate.low {
            ctx.out.emit(
                ctx.stats,
                Event::AnonymityLow {
                    anonymity_set: estimate.anonymity_set,
                    threshold: ctx.config.min_anonymity_set,
                },
            );
        }
        let message = transport::new_message_id(ctx);
        let reply_key =
            self.talk
                .new_reply_key(now, thread, message, EpochSecret::generate(ctx.rng));
        self.talk.outgoing.insert(
            message,
            Outgoing {
                thread,
                target,
                body: AnonBody::Text(text),
                reply_key,
                sign: options.sign,
                attempts: 0,
                next_retry: now,
            },
        );
        ctx.stats.anon_sent += 1;
        self.attempt(now, message, view, ctx);
        Ok(message)
    }

    /// Sends (again) every fragment of an outgoing message, freshly sealed; gives it up when
    /// its attempts are spent or its recipient is gone.
    fn attempt(
        &mut self,
        now: Timestamp,
        message: MessageId,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(out) = self.talk.outgoing.get_mut(&message) else {
            return;
        };
        let (thread, target) = (out.thread, out.target);
        let failure = if out.attempts >= ctx.config.anon_attempts {
            Some(AnonFailure::NoAcknowledgement)
        } else {
            match target {
                Target::Member(m) => match view.current.table.get(&m) {
                    Some(_) => None,
                    None => Some(AnonFailure::RecipientGone),
                },
                Target::ReplyKey(_) => None,
            }
        };
        if let Some(reason) = failure {
            self.talk.give_up(message, thread);
            debug!(?reason, "anonymous message given up");
            ctx.stats.anon_failed += 1;
            ctx.out.emit(
                ctx.stats,
                Event::AnonFailed {
                    thread,
                    message,
                    reason,
                },
            );
            return;
        }
        if out.attempts > 0 {
            ctx.stats.anon_retries += 1;
        }
        out.attempts += 1;
        out.next_retry = now + ctx.config.anon_ack_timeout * out.attempts;
        let key = match target {
            Target::Member(m) => view.current.table.get(&m).map(|e| e.epoch_key),
            Target::ReplyKey(k) => Some(k),
        };
        let Some(key) = key else { return };
        let signer = out.sign.then(|| {
            let bytes = signed_bytes(&key, &message, &thread, &out.reply_key, &out.body);
            AnonSigner {
                identity: ctx.identity.public(),
                signature: ctx.identity.sign(&bytes),
            }
        });
        let encoded = wire::encode_payload(&AnonMessage {
            thread,
            reply_key: out.reply_key,
            body: out.body.clone(),
            signer,
        });
        let pieces = encoded
            .ok()
            .and_then(|bytes| fragment::split(message, &bytes, ANON_FRAGMENT_BYTES))
            .unwrap_or_default();
        for piece in pieces {
            self.seal_and_send(now, key, target, AnonPayload::Fragment(piece), view, ctx);
        }
    }

    /// Seals a payload to `key` and sends it on this member's stem.
    fn seal_and_send(
        &mut self,
        now: Timestamp,
        key: EpochPublic,
        target: Target,
        payload: AnonPayload,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let tag = match target {
            Target::Member(_) => {
                let mut tag = [0u8; 16];
                ctx.rng.fill_bytes(&mut tag);
                tag
            }
            Target::ReplyKey(k) => self.talk.next_answer_tag(now, &k),
        };
        match seal_anon(ctx.rng, &key, view.cluster, tag, &payload) {
            Ok(packet) => self.send_own(now, view.current.epoch, packet, view, ctx),
            Err(error) => debug!(%error, "could not seal an anonymous packet"),
        }
    }

    /// Puts one of this member's packets on its stem.
    fn send_own(
        &mut self,
        now: Timestamp,
        epoch: Epoch,
        packet: AnonPacket,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let live = view.live(now, ctx.config);
        let hop = self.routes.next_hop(
            ctx.config.stem_routing,
            view.current.epoch,
            None,
            &live,
            ctx.config.p_stem,
            ctx.rng,
        );
        self.forward(now, epoch, packet, None, hop, view, ctx);
    }

    /// Sends a packet to its next hop: along the stem (with an embargo) or into the fluff.
    #[allow(clippy::too_many_arguments)]
    fn forward(
        &mut self,
        now: Timestamp,
        epoch: Epoch,
        packet: AnonPacket,
        predecessor: Option<MemberId>,
        hop: Option<Hop>,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let forget_at = now + ctx.config.anon_store_ttl + ctx.config.rollout_grace;
        match hop.and_then(|h| match h {
            Hop::Stem(next) => view.addr_of(&next).map(|a| (next, a)),
            Hop::Fluff => None,
        }) {
            Some((_, addr)) => {
                let jitter = ctx.rng.next_u64() % (ctx.config.anon_embargo.as_micros() as u64 + 1);
                let deadline = now + ctx.config.anon_embargo + Duration::from_micros(jitter);
                self.relay
                    .stemmed(epoch, packet.clone(), deadline, forget_at);
                if predecessor.is_some() {
                    ctx.stats.anon_stem_relayed += 1;
                }
                for copy in 0..ctx.config.anon_stem_copies {
                    let phase = RelayPhase::Stem {
                        copy: u8::try_from(copy).unwrap_or(u8::MAX),
                    };
                    self.send_relay(addr, epoch, phase, packet.clone(), view, ctx);
                }
            }
            None => {
                self.relay.sight(packet.digest(), None, forget_at);
                ctx.stats.anon_fluffs_started += 1;
                self.store
                    .insert(now, epoch, packet.clone(), ctx.config.anon_store_ttl);
                self.fluff(now, epoch, packet, 0, predecessor, view, ctx);
            }
        }
    }

    /// Sends a fluffed packet with `hops` made so far to `anon_fanout` random live members
    /// other than `except`.
    #[allow(clippy::too_many_arguments)]
    fn fluff(
        &mut self,
        now: Timestamp,
        epoch: Epoch,
        packet: AnonPacket,
        hops: u8,
        except: Option<MemberId>,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let mut live = view.live(now, ctx.config);
        live.retain(|m| Some(*m) != except);
        for member in sample(live, ctx.config.anon_fanout, ctx.rng) {
            if let Some(addr) = view.addr_of(&member) {
                let phase = RelayPhase::Fluff { hops };
                self.send_relay(addr, epoch, phase, packet.clone(), view, ctx);
            }
        }
    }

    fn send_relay(
        &self,
        to: SocketAddr,
        epoch: Epoch,
        phase: RelayPhase,
        packet: AnonPacket,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let relay = AnonRelay {
            epoch,
            phase,
            packet,
        };
        transport::send_frame(
            ctx,
            &view.current.key,
            view.cluster,
            view.current.epoch,
            to,
            FrameBody::Anon(relay),
        );
    }

    /// Whether a packet of `epoch` in `phase` is still relayed or kept.
    fn epoch_usable(&self, epoch: Epoch, phase: RelayPhase, view: &AnonView<'_>) -> bool {
        let current = view.current.epoch;
        match phase {
            RelayPhase::Stem { .. } | RelayPhase::Fluff { .. } => {
                epoch == current || view.previous.is_some_and(|p| p.epoch == epoch)
            }
            RelayPhase::Stored { .. } => {
                epoch <= current.next() && epoch.0 + STORED_EPOCHS >= current.0
            }
        }
    }

    /// Handles an anonymous packet handed over by another member.
    pub(crate) fn on_relay(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        relay: AnonRelay,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        self.refresh(now, view);
        let AnonRelay {
            epoch,
            phase,
            packet,
        } = relay;
        if !self.epoch_usable(epoch, phase, view) {
            ctx.stats.dropped.stale += 1;
            return;
        }
        if let RelayPhase::Fluff { hops } = phase
            && hops > ctx.config.anon_hop_limit
        {
            ctx.stats.dropped.hop_limit += 1;
            return;
        }
        let predecessor = Some(view.member_at(from).unwrap_or(UNKNOWN_PREDECESSOR));
        let forget_at = now + ctx.config.anon_store_ttl + ctx.config.rollout_grace;
        let stem_copy = match phase {
            RelayPhase::Stem { copy } => Some(copy),
            _ => None,
        };
        let sighting = self.relay.sight(packet.digest(), stem_copy, forget_at);
        trace!(?phase, ?sighting, "anonymous packet");
        match (sighting, phase) {
            // A later copy of a stem hop, or a packet handled already.
            (Sighting::Duplicate, _) => {
                ctx.stats.dropped.duplicate += 1;
                return;
            }
            (Sighting::Returned, RelayPhase::Stem { .. }) => {
                // The stem looped back here: end it.
                ctx.stats.anon_fluffs_started += 1;
                self.store
                    .insert(now, epoch, packet.clone(), ctx.config.anon_store_ttl);
                self.fluff(now, epoch, packet, 0, predecessor, view, ctx);
            }
            (Sighting::New, RelayPhase::Stem { .. }) => {
                self.try_open(now, epoch, &packet, view, ctx);
                let live = view.live(now, ctx.config);
                let hop = self.routes.next_hop(
                    ctx.config.stem_routing,
                    view.current.epoch,
                    predecessor,
                    &live,
                    ctx.config.p_stem,
                    ctx.rng,
                );
                self.forward(now, epoch, packet, predecessor, hop, view, ctx);
            }
            (sighting, RelayPhase::Fluff { hops }) => {
                if sighting == Sighting::New {
                    self.try_open(now, epoch, &packet, view, ctx);
                }
                self.store
                    .insert(now, epoch, packet.clone(), ctx.config.anon_store_ttl);
                if hops < ctx.config.anon_hop_limit {
                    self.fluff(now, epoch, packet, hops + 1, predecessor, view, ctx);
                }
            }
            (sighting, RelayPhase::Stored { ttl_s }) => {
                if sighting == Sighting::New {
                    self.try_open(now, epoch, &packet, view, ctx);
                    // More may be waiting: ask again soon.
                    self.next_sync = self.next_sync.min(now + ctx.config.anon_sync_interval / 8);
                }
                let ttl = Duration::from_secs(ttl_s.into()).min(ctx.config.anon_store_ttl);
                self.store.insert(now, epoch, packet, ttl);
            }
        }
        self.run_trials(now, view, ctx);
    }

    /// Opens a packet at once if its detection tag is one of ours, else queues it for a trial
    /// decryption with this member's epoch key.
    fn try_open(
        &mut self,
        now: Timestamp,
        epoch: Epoch,
        packet: &AnonPacket,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        if let Some(key) = self.talk.match_tag(now, &packet.tag()) {
            let opened = self
                .talk
                .own_keys
                .get(&key)
                .and_then(|own| open_anon(&own.secret, view.cluster, packet).ok());
            match opened {
                Some(payload) => {
                    self.on_payload(now, payload, OpenedWith::ReplyKey(key), ctx);
                }
                None => ctx.stats.dropped.undecryptable += 1,
            }
            return;
        }
        if self.trials.push(epoch, packet.clone()) {
            ctx.stats.dropped.trial_budget += 1;
        }
    }

    /// Trial-decrypts queued packets while the budget allows.
    fn run_trials(&mut self, now: Timestamp, view: &AnonView<'_>, ctx: &mut Ctx<'_>) {
        while let Some((epoch, packet)) = self.trials.next(now) {
            let Some(secret) = self.secrets.for_epoch(epoch) else {
                continue;
            };
            ctx.stats.anon_trial_decryptions += 1;
            let public = secret.public();
            if let Ok(payload) = open_anon(secret, view.cluster, &packet) {
                self.on_payload(now, payload, OpenedWith::EpochKey(public), ctx);
            }
        }
    }

    /// Handles what a packet addressed to this member carried.
    fn on_payload(
        &mut self,
        now: Timestamp,
        payload: AnonPayload,
        opened: OpenedWith,
        ctx: &mut Ctx<'_>,
    ) {
        match payload {
            AnonPayload::Fragment(piece) => self.on_fragment(now, piece, opened, ctx),
            AnonPayload::Ack(ack) => self.on_ack(ack, opened, ctx),
        }
    }

    fn on_fragment(
        &mut self,
        now: Timestamp,
        piece: fragment::Fragment,
        opened: OpenedWith,
        ctx: &mut Ctx<'_>,
    ) {
        let message = piece.message;
        let pace = ctx.config.anon_ack_timeout / 2;
        if let Some(again) = self.talk.already_delivered(now, &message, pace) {
            // A retry of a delivered message: its acknowledgement was lost.
            if let Some(reply_key) = again {
                self.acknowledge(now, message, reply_key, ctx);
            }
            ctx.stats.dropped.duplicate += 1;
            return;
        }
        let bytes = match self.reassembly.insert(now, piece) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return,
            Err(FragmentError::Duplicate) => {
                ctx.stats.dropped.duplicate += 1;
                return;
            }
            Err(_) => {
                ctx.stats.dropped.malformed += 1;
                return;
            }
        };
        let Ok(decoded) = wire::decode_payload::<AnonMessage>(&bytes) else {
            ctx.stats.dropped.malformed += 1;
            return;
        };
        let AnonMessage {
            thread,
            reply_key,
            body,
            signer,
        } = decoded;
        if let OpenedWith::ReplyKey(key) = opened
            && self.talk.own_keys.get(&key).map(|k| k.thread) != Some(thread)
        {
            // An answer to one of our keys must stay in that key's thread.
            ctx.stats.dropped.unexpected += 1;
            return;
        }
        let from = match &signer {
            None => None,
            Some(s) => {
                let bytes = signed_bytes(&opened.key(), &message, &thread, &reply_key, &body);
                if s.identity.verify(&bytes, &s.signature).is_err() {
                    ctx.stats.dropped.bad_signature += 1;
                    return;
                }
                Some(s.identity.member_id())
            }
        };
        let forget_at = now + ctx.config.anon_store_ttl + ctx.config.anon_ack_timeout * 4;
        self.talk
            .delivered(now, message, reply_key, forget_at, MAX_DELIVERED);
        let entry = self.talk.touch_thread(now, thread);
        entry.reply_to = Some(reply_key);
        if from.is_some() {
            entry.peer = from;
        }
        let AnonBody::Text(text) = body;
        ctx.stats.anon_received += 1;
        ctx.out.emit(
            ctx.stats,
            Event::AnonMessage {
                thread,
                message,
                text: String::from_utf8_lossy(&text).into_owned(),
                from,
            },
        );
        self.acknowledge(now, message, reply_key, ctx);
    }

    /// Schedules the acknowledgement of `message` after a random delay of up to
    /// `Config::anon_ack_delay`: sent at once, it would leave together with the relaying of the
    /// packet that completed the message, and a tap on the recipient's links would see one
    /// more datagram burst than any other member sends at that moment.
    fn acknowledge(
        &mut self,
        now: Timestamp,
        message: MessageId,
        reply_key: EpochPublic,
        ctx: &mut Ctx<'_>,
    ) {
        let span = ctx.config.anon_ack_delay.as_micros() as u64;
        let delay = Duration::from_micros(ctx.rng.next_u64() % (span + 1));
        if self.acks.len() >= MAX_PENDING_ACKS {
            self.acks.pop_first();
        }
        self.acks.insert((now + delay, message), reply_key);
    }

    /// Sends the acknowledgements that are due.
    fn send_acks(&mut self, now: Timestamp, view: &AnonView<'_>, ctx: &mut Ctx<'_>) {
        while let Some(entry) = self.acks.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((_, message), reply_key) = entry.remove_entry();
            let payload = AnonPayload::Ack(AnonAck { message });
            let target = Target::ReplyKey(reply_key);
            self.seal_and_send(now, reply_key, target, payload, view, ctx);
        }
    }

    fn on_ack(&mut self, ack: AnonAck, opened: OpenedWith, ctx: &mut Ctx<'_>) {
        let OpenedWith::ReplyKey(key) = opened else {
            ctx.stats.dropped.unexpected += 1;
            return;
        };
        if self.talk.own_keys.get(&key).map(|k| k.message) != Some(ack.message) {
            ctx.stats.dropped.unexpected += 1;
            return;
        }
        let Some(thread) = self.talk.acknowledged(&ack.message) else {
            ctx.stats.dropped.duplicate += 1;
            return;
        };
        ctx.stats.anon_acknowledged += 1;
        ctx.out.emit(
            ctx.stats,
            Event::AnonDelivered {
                thread,
                message: ack.message,
            },
        );
    }

    /// Handles another member's listing of its store.
    pub(crate) fn on_sync(
        &mut self,
        now: Timestamp,
        sync: AnonSync,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(addr) = view
            .addr_of(&sync.member)
            .filter(|_| sync.member != view.me)
        else {
            ctx.stats.dropped.not_member += 1;
            return;
        };
        self.store.expire(now);
        let (handover, lacking) = self.store.compare(now, &sync, ctx.config.anon_sync_budget);
        if !handover.is_empty() {
            ctx.stats.anon_store_handovers += handover.len() as u64;
        }
        for (epoch, packet, ttl_s) in handover {
            self.send_relay(addr, epoch, RelayPhase::Stored { ttl_s }, packet, view, ctx);
        }
        if lacking && sync.reply_wanted {
            let mine = self.store.listing_from(view.me, sync.from, false);
            transport::send_frame(
                ctx,
                &view.current.key,
                view.cluster,
                view.current.epoch,
                addr,
                FrameBody::AnonSync(mine),
            );
        }
    }

    /// Runs the layer's timers: embargoes, retries, anti-entropy, trials and expiry.
    pub(crate) fn handle_timeout(
        &mut self,
        now: Timestamp,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        self.refresh(now, view);
        self.secrets.expire(now, ctx.config.anon_store_ttl);
        self.relay.expire(now);
        self.store.expire(now);
        self.reassembly.expire(now);
        self.talk.expire(now, ctx.config.anon_thread_ttl);
        self.send_acks(now, view, ctx);
        for due in self.relay.due_embargoes(now) {
            debug!("embargo ran out: fluffing a packet the stem lost");
            ctx.stats.anon_embargo_fluffs += 1;
            self.store.insert(
                now,
                due.epoch,
                due.packet.clone(),
                ctx.config.anon_store_ttl,
            );
            self.fluff(now, due.epoch, due.packet, 0, None, view, ctx);
        }
        let due: Vec<MessageId> = self
            .talk
            .outgoing
            .iter()
            .filter(|(_, o)| o.next_retry <= now)
            .map(|(id, _)| *id)
            .collect();
        for message in due {
            self.attempt(now, message, view, ctx);
        }
        if now >= self.next_sync {
            self.sync(now, view, ctx);
        }
        self.run_trials(now, view, ctx);
    }

    /// Lists this member's store to a random live member.
    fn sync(&mut self, now: Timestamp, view: &AnonView<'_>, ctx: &mut Ctx<'_>) {
        let active =
            now.saturating_since(self.store.last_change) < ctx.config.anon_sync_idle_interval * 3;
        self.next_sync = now
            + if active {
                ctx.config.anon_sync_interval
            } else {
                ctx.config.anon_sync_idle_interval
            };
        let live = view.live(now, ctx.config);
        let Some(&peer) = sample(live, 1, ctx.rng).first() else {
            return;
        };
        let Some(addr) = view.addr_of(&peer) else {
            return;
        };
        let listing = self.store.listing(view.me, true);
        transport::send_frame(
            ctx,
            &view.current.key,
            view.cluster,
            view.current.epoch,
            addr,
            FrameBody::AnonSync(listing),
        );
    }

    /// The layer's next deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Timestamp> {
        [
            Some(self.next_sync),
            self.relay.next_embargo(),
            self.relay.next_expiry(),
            self.store.next_expiry(),
            self.trials.next_ready(),
            self.talk.next_deadline(),
            self.reassembly.next_expiry(),
            self.acks.keys().next().map(|(at, _)| *at),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Delivered message ids remembered at most, to deliver each message once.
const MAX_DELIVERED: usize = 4096;

/// Acknowledgements waiting for their delay at most.
const MAX_PENDING_ACKS: usize = 1024;
