//! Packets for this member: trial decryption within the budget, reassembly, delivery once,
//! and the delayed acknowledgement.

use std::time::Duration;

use rand_core::Rng;

use super::conversation::Target;
use super::{AnonLayer, AnonView, OpenedWith};
use crate::crypto::EpochPublic;
use crate::ids::Epoch;
use crate::node::{Ctx, Event};
use crate::time::Timestamp;
use crate::wire;
use crate::wire::anon::{
    AnonAck, AnonBody, AnonMessage, AnonPacket, AnonPayload, TrafficClass, open_anon, signed_bytes,
};
use crate::wire::fragment::{self, FragmentError, MessageId};

/// Delivered message ids remembered at most, to deliver each message once.
const MAX_DELIVERED: usize = 4096;

/// Acknowledgements waiting for their delay at most.
const MAX_PENDING_ACKS: usize = 1024;

impl AnonLayer {
    /// Opens a packet at once if its detection tag is one of ours (an answer to a reply key,
    /// or voice of one of our calls), else queues it for a trial decryption with this
    /// member's epoch key. Realtime packets are only ever voice, which is never sealed to an
    /// epoch key: they are not tried.
    pub(super) fn try_open(
        &mut self,
        now: Timestamp,
        epoch: Epoch,
        packet: &AnonPacket,
        class: TrafficClass,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        if class == TrafficClass::Realtime {
            self.try_open_voice(now, packet, ctx);
            return;
        }
        if let Some(key) = self.talk.tag_owner(&packet.tag()) {
            let opened = self
                .talk
                .own_keys
                .get(&key)
                .and_then(|own| open_anon(&own.secret, view.cluster, packet).ok());
            match opened {
                Some(payload) => {
                    self.talk.match_tag(now, &packet.tag());
                    self.on_payload(now, payload, OpenedWith::ReplyKey(key), ctx);
                }
                // Altered on the way: the tag stays for the genuine packet.
                None => ctx.stats.dropped.undecryptable += 1,
            }
            return;
        }
        if self.trials.push(epoch, packet.clone()) {
            ctx.stats.dropped.trial_budget += 1;
        }
    }

    /// Trial-decrypts queued packets while the budget allows.
    pub(super) fn run_trials(&mut self, now: Timestamp, view: &AnonView<'_>, ctx: &mut Ctx<'_>) {
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
    pub(super) fn on_payload(
        &mut self,
        now: Timestamp,
        payload: AnonPayload,
        opened: OpenedWith,
        ctx: &mut Ctx<'_>,
    ) {
        match payload {
            AnonPayload::Fragment(piece) => self.on_fragment(now, piece, opened, ctx),
            AnonPayload::Ack(ack) => self.on_ack(ack, opened, ctx),
            // Ballots travel to their authority directly, never along the anonymous path.
            AnonPayload::Ballot(_) => ctx.stats.dropped.unexpected += 1,
        }
    }

    pub(super) fn on_fragment(
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
                if ctx
                    .verifier
                    .verify(&s.identity, &bytes, &s.signature)
                    .is_err()
                {
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
        self.acknowledge(now, message, reply_key, ctx);
        match body {
            AnonBody::Text(text) => {
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
            }
            AnonBody::Call(signal) => self.on_call_signal(now, thread, signal, from, ctx),
        }
    }

    /// Schedules the acknowledgement of `message` after a random delay of up to
    /// `Config::anon_ack_delay`: sent at once, it would leave together with the relaying of the
    /// packet that completed the message, and a tap on the recipient's links would see one
    /// more datagram burst than any other member sends at that moment.
    pub(super) fn acknowledge(
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
    pub(super) fn send_acks(&mut self, now: Timestamp, view: &AnonView<'_>, ctx: &mut Ctx<'_>) {
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
}
