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
//!
//! | module | what it does |
//! |---|---|
//! | [`outgoing`] | this member's messages: start, (re)send, acknowledgement |
//! | [`relaying`] | packets from other members; passing packets on along the stem or the fluff |
//! | [`incoming`] | trial decryption within the budget, reassembly, delivery, delayed acks |
//! | [`anti_entropy`] | listing the store, answering listings |
//! | [`calling`] | calls: signals in the call's thread, voice as realtime packets, cover traffic |
//! | [`route`], [`relay`], [`store`], [`trial`], [`conversation`], [`cover`] | the state each of those keeps |

mod anti_entropy;
mod calling;
mod conversation;
mod cover;
mod estimate;
mod incoming;
mod outgoing;
mod relay;
mod relaying;
mod route;
mod store;
mod trial;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use tracing::debug;

use self::conversation::Conversations;
use self::cover::Cover;
use self::relay::Relay;
use self::route::Routes;
use self::store::Store;
use self::trial::{Secrets, Trials};
use crate::call::Calls;
use crate::cluster::epoch::EpochState;
use crate::crypto::EpochPublic;
use crate::ids::{ClusterId, MemberId};
use crate::node::Ctx;
use crate::time::Timestamp;
use crate::trickle::Trickle;
use crate::wire;
use crate::wire::anon::{MAX_ANON_MESSAGE_BYTES, ThreadId, TrafficClass};
use crate::wire::fragment::{MessageId, Reassembler, ReassemblyLimits};

pub use self::estimate::AnonymityEstimate;

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
    /// What this member relayed of voice: kept apart, and briefly.
    voice_relay: Relay,
    store: Store,
    trials: Trials,
    secrets: Secrets,
    talk: Conversations,
    reassembly: Reassembler,
    /// When the next anti-entropy exchange of the store is due: soon after a packet was
    /// stored, then less and less often.
    sync: Trickle,
    /// Acknowledgements waiting for their random delay, by due time.
    acks: BTreeMap<(Timestamp, MessageId), EpochPublic>,
    calls: Calls,
    cover: Cover,
}

/// Voice packet digests a relay remembers at most: ten seconds of eight calls.
const MAX_VOICE_DIGESTS: usize = 8192;

impl AnonLayer {
    pub(crate) fn new(now: Timestamp, config: &crate::Config) -> Self {
        let stored_packets = config.anon_store_bytes / wire::anon::ANON_PACKET_LEN;
        AnonLayer {
            routes: Routes::default(),
            relay: Relay::new((stored_packets * 2).max(1024)),
            voice_relay: Relay::new(MAX_VOICE_DIGESTS),
            store: Store::new(config.anon_store_bytes),
            trials: Trials::new(config.anon_trial_budget, config.max_pending_trials, now),
            secrets: Secrets::default(),
            talk: Conversations::new(config.max_anon_threads),
            reassembly: Reassembler::new(ReassemblyLimits {
                max_messages: 32,
                max_message_bytes: MAX_ANON_MESSAGE_BYTES,
                timeout: config.anon_ack_timeout * config.anon_attempts,
                remember_completed: 0,
            }),
            sync: Trickle::new(now),
            acks: BTreeMap::new(),
            calls: Calls::default(),
            cover: Cover::default(),
        }
    }

    /// This member's calls.
    pub(crate) fn calls(&self) -> Vec<crate::call::CallInfo> {
        self.calls.list()
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
        self.voice_relay.expire(now);
        self.store.expire(now);
        self.reassembly.expire(now);
        self.talk.expire(now, ctx.config.anon_thread_ttl);
        self.send_acks(now, view, ctx);
        for due in self.relay.due_embargoes(now) {
            debug!("embargo ran out: fluffing a packet the stem lost");
            ctx.stats.anon_embargo_fluffs += 1;
            self.store_packet(
                now,
                due.epoch,
                due.packet.clone(),
                ctx.config.anon_store_ttl,
                ctx,
            );
            let class = TrafficClass::Message;
            self.fluff(now, due.epoch, due.packet, 0, None, class, view, ctx);
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
        if self.sync.fire(now, ctx.config.anon_sync_bounds(), ctx.rng) {
            self.sync(now, view, ctx);
        }
        self.call_timeouts(now, view, ctx);
        self.send_cover(now, view, ctx);
        self.run_trials(now, view, ctx);
    }

    /// The layer's next deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Timestamp> {
        [
            Some(self.sync.deadline()),
            self.relay.next_embargo(),
            self.relay.next_expiry(),
            self.voice_relay.next_expiry(),
            self.store.next_expiry(),
            self.calls.next_deadline(),
            self.cover.next_deadline(),
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
