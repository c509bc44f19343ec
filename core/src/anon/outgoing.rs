//! This member's own messages: starting them, sending them (again), and their acknowledgements.

use rand_core::Rng;
use tracing::debug;

use super::conversation::{AcknowledgedBody, Outgoing, Target};
use super::{AnonFailure, AnonLayer, AnonOptions, AnonSent, AnonView, OpenedWith};
use crate::cluster::transport;
use crate::crypto::{EpochPublic, EpochSecret};
use crate::ids::MemberId;
use crate::node::{CommandError, Ctx, Event};
use crate::time::Timestamp;
use crate::wire::anon::{
    ANON_FRAGMENT_BYTES, AnonAck, AnonBody, AnonMessage, AnonPayload, AnonSigner, MAX_ANON_TEXT,
    ThreadId, TrafficClass, seal_anon, signed_bytes,
};
use crate::wire::fragment::{self, MessageId};
use crate::wire::{self, BoundedBytes};

impl AnonLayer {
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
        let body = text_body(text)?;
        let message = self.start(now, thread, Target::Member(to), body, options, view, ctx)?;
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
        let body = text_body(text)?;
        self.send_in_thread(now, thread, body, options, view, ctx)
    }

    /// Sends `body` in `thread`, where it was started: to the newest reply key the other end
    /// handed out, else to the member the thread is with.
    pub(super) fn send_in_thread(
        &mut self,
        now: Timestamp,
        thread: ThreadId,
        body: AnonBody,
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
        self.start(now, thread, target, body, options, view, ctx)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn start(
        &mut self,
        now: Timestamp,
        thread: ThreadId,
        target: Target,
        body: AnonBody,
        options: AnonOptions,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<MessageId, CommandError> {
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
                body,
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
    pub(super) fn attempt(
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
            debug!(?reason, "anonymous message given up");
            ctx.stats.anon_failed += 1;
            if matches!(out.body, AnonBody::Call(_)) {
                // A call signal that got through to no one: the call's own timers end it.
                self.talk.outgoing.remove(&message);
                return;
            }
            self.talk.give_up(message, thread);
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
    pub(super) fn seal_and_send(
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
            Ok(packet) => {
                let class = TrafficClass::Message;
                self.send_own(now, view.current.epoch, packet, class, view, ctx);
            }
            Err(error) => debug!(%error, "could not seal an anonymous packet"),
        }
    }

    pub(super) fn on_ack(&mut self, ack: AnonAck, opened: OpenedWith, ctx: &mut Ctx<'_>) {
        let OpenedWith::ReplyKey(key) = opened else {
            ctx.stats.dropped.unexpected += 1;
            return;
        };
        if self.talk.own_keys.get(&key).map(|k| k.message) != Some(ack.message) {
            ctx.stats.dropped.unexpected += 1;
            return;
        }
        let Some((thread, body)) = self.talk.acknowledged(&ack.message) else {
            ctx.stats.dropped.duplicate += 1;
            return;
        };
        ctx.stats.anon_acknowledged += 1;
        if body == Some(AcknowledgedBody::Call) {
            // The call's own events tell the user how it goes.
            return;
        }
        ctx.out.emit(
            ctx.stats,
            Event::AnonDelivered {
                thread,
                message: ack.message,
            },
        );
    }
}

/// The body of a text message, refused if too long.
fn text_body(text: &str) -> Result<AnonBody, CommandError> {
    BoundedBytes::<MAX_ANON_TEXT>::new(text.as_bytes().to_vec())
        .map(AnonBody::Text)
        .map_err(|t| CommandError::MessageTooLong {
            len: t.len(),
            max: MAX_ANON_TEXT,
        })
}
