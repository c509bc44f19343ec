//! Calls over the anonymous path: placing, answering and ending them (signals are anonymous
//! messages in the call's thread), sending and receiving voice (realtime packets on the stem
//! and fluff), the call timers, and cover traffic.

use rand_core::Rng;
use tracing::debug;

use super::conversation::Target;
use super::route::Hop;
use super::{AnonLayer, AnonOptions, AnonView};
use crate::call::keys::{self, CallRole};
use crate::call::{Call, CallEnd, CallId, CallOptions, CallState, Voice};
use crate::cluster::transport;
use crate::crypto::{EpochPublic, EpochSecret};
use crate::ids::MemberId;
use crate::node::{CommandError, Ctx, Event};
use crate::time::Timestamp;
use crate::wire::BoundedBytes;
use crate::wire::anon::{ANON_PACKET_LEN, AnonBody, AnonPacket, TrafficClass};
use crate::wire::call::{CallSignal, MAX_VOICE_FRAME, open_voice, seal_voice};
use crate::wire::cluster::FrameBody;

impl AnonLayer {
    /// Places a call to `to`: an offer in a new thread, which is the call.
    pub(crate) fn call(
        &mut self,
        now: Timestamp,
        to: MemberId,
        options: CallOptions,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<CallId, CommandError> {
        if to == view.me {
            return Err(CommandError::CallToSelf);
        }
        if !view.current.table.contains_key(&to) {
            return Err(CommandError::NotAMember { member: to });
        }
        self.room_for_a_call(ctx)?;
        let call = transport::new_message_id(ctx);
        let secret = EpochSecret::generate(ctx.rng);
        let offer = AnonBody::Call(CallSignal::Offer {
            key: secret.public(),
        });
        let sign = AnonOptions { sign: options.sign };
        self.start(now, call, Target::Member(to), offer, sign, view, ctx)?;
        self.talk.touch_thread(now, call).peer = Some(to);
        self.calls.insert(
            call,
            Call {
                role: CallRole::Caller,
                state: CallState::Ringing,
                peer: Some(to),
                since: now,
                deadline: now + ctx.config.call_ring_timeout,
                own_secret: Some(secret),
                offer_key: None,
                voice: None,
            },
        );
        ctx.stats.calls_placed += 1;
        Ok(call)
    }

    fn room_for_a_call(&self, ctx: &Ctx<'_>) -> Result<(), CommandError> {
        if self.calls.calls.len() >= ctx.config.max_calls {
            return Err(CommandError::TooManyCalls {
                max: ctx.config.max_calls,
            });
        }
        Ok(())
    }

    /// Answers an incoming call: this end's key goes back in the call's thread, and voice
    /// may flow at once.
    pub(crate) fn answer_call(
        &mut self,
        now: Timestamp,
        call: CallId,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), CommandError> {
        let offer = self.incoming_offer(&call)?;
        let secret = EpochSecret::generate(ctx.rng);
        let Ok(keys) = keys::derive(&call, CallRole::Callee, &secret, &offer) else {
            // Only a broken or hostile caller sends a low-order key.
            debug!("call offer with a low-order key");
            ctx.stats.dropped.malformed += 1;
            self.end_call(call, CallEnd::HungUp, ctx);
            return Err(CommandError::NoSuchCall);
        };
        let accept = AnonBody::Call(CallSignal::Accept {
            key: secret.public(),
        });
        self.send_in_thread(now, call, accept, AnonOptions::default(), view, ctx)?;
        self.connect(now, call, Voice::new(keys, now), ctx);
        Ok(())
    }

    fn incoming_offer(&self, call: &CallId) -> Result<EpochPublic, CommandError> {
        let entry = self.calls.calls.get(call).ok_or(CommandError::NoSuchCall)?;
        match (entry.state, entry.offer_key) {
            (CallState::Incoming, Some(key)) => Ok(key),
            _ => Err(CommandError::CallNotIncoming),
        }
    }

    /// Declines an incoming call.
    pub(crate) fn decline_call(
        &mut self,
        now: Timestamp,
        call: CallId,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), CommandError> {
        self.incoming_offer(&call)?;
        self.signal_and_end(now, call, CallSignal::Decline, CallEnd::Local, view, ctx);
        Ok(())
    }

    /// Ends a call in any state: hangs up an active one, calls off a ringing one, declines an
    /// incoming one.
    pub(crate) fn hang_up(
        &mut self,
        now: Timestamp,
        call: CallId,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), CommandError> {
        let state = self
            .calls
            .calls
            .get(&call)
            .ok_or(CommandError::NoSuchCall)?
            .state;
        let signal = match state {
            CallState::Incoming => CallSignal::Decline,
            CallState::Ringing | CallState::Active => CallSignal::Hangup,
        };
        self.signal_and_end(now, call, signal, CallEnd::Local, view, ctx);
        Ok(())
    }

    /// Tells the other end `signal` (best effort: the call ends here whatever happens to it).
    fn signal_and_end(
        &mut self,
        now: Timestamp,
        call: CallId,
        signal: CallSignal,
        reason: CallEnd,
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let body = AnonBody::Call(signal);
        if let Err(error) = self.send_in_thread(now, call, body, AnonOptions::default(), view, ctx)
        {
            debug!(%error, "call signal not sent");
        }
        self.end_call(call, reason, ctx);
    }

    /// Sends one encoded frame of an active call, with the frames before it repeated.
    /// Returns the frame's number.
    pub(crate) fn send_voice(
        &mut self,
        now: Timestamp,
        call: CallId,
        timestamp: u32,
        frame: &[u8],
        view: &AnonView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<u32, CommandError> {
        let data = BoundedBytes::<MAX_VOICE_FRAME>::new(frame.to_vec()).map_err(|f| {
            CommandError::VoiceFrameTooLong {
                len: f.len(),
                max: MAX_VOICE_FRAME,
            }
        })?;
        let entry = self
            .calls
            .calls
            .get_mut(&call)
            .ok_or(CommandError::NoSuchCall)?;
        let voice = entry.voice.as_mut().ok_or(CommandError::CallNotActive)?;
        let repeats = ctx.config.call_frame_repeats;
        let (index, payload, seq) = voice.next_packet(timestamp, data, repeats);
        let packet = seal_voice(ctx.rng, voice.send_keys(), index, &payload);
        ctx.stats.voice_frames_sent += 1;
        match packet {
            Ok(packet) => {
                let epoch = view.current.epoch;
                self.send_own(now, epoch, packet, TrafficClass::Realtime, view, ctx);
            }
            Err(error) => debug!(%error, "could not seal a voice packet"),
        }
        Ok(seq)
    }

    /// Handles a call signal that arrived in `thread` (from `from`, if the sender signed).
    pub(super) fn on_call_signal(
        &mut self,
        now: Timestamp,
        thread: CallId,
        signal: CallSignal,
        from: Option<MemberId>,
        ctx: &mut Ctx<'_>,
    ) {
        let known = self.calls.calls.get(&thread).map(|c| (c.role, c.state));
        match (signal, known) {
            (CallSignal::Offer { key }, None) if !self.calls.knows(&thread) => {
                if self.room_for_a_call(ctx).is_err() {
                    debug!("call offer ignored: too many calls");
                    ctx.stats.dropped.unexpected += 1;
                    return;
                }
                self.calls.insert(
                    thread,
                    Call {
                        role: CallRole::Callee,
                        state: CallState::Incoming,
                        peer: from,
                        since: now,
                        deadline: now + ctx.config.call_ring_timeout,
                        own_secret: None,
                        offer_key: Some(key),
                        voice: None,
                    },
                );
                ctx.out
                    .emit(ctx.stats, Event::IncomingCall { call: thread, from });
            }
            (CallSignal::Accept { key }, Some((CallRole::Caller, CallState::Ringing))) => {
                let secret = self
                    .calls
                    .calls
                    .get_mut(&thread)
                    .and_then(|c| c.own_secret.take());
                let keys = secret.map(|s| keys::derive(&thread, CallRole::Caller, &s, &key));
                match keys {
                    Some(Ok(keys)) => self.connect(now, thread, Voice::new(keys, now), ctx),
                    _ => {
                        ctx.stats.dropped.malformed += 1;
                        self.end_call(thread, CallEnd::HungUp, ctx);
                    }
                }
            }
            (CallSignal::Decline, Some((CallRole::Caller, CallState::Ringing))) => {
                self.end_call(thread, CallEnd::Declined, ctx);
            }
            (CallSignal::Hangup, Some(_)) => self.end_call(thread, CallEnd::HungUp, ctx),
            // A signal for a call that ended here, or out of turn.
            _ => ctx.stats.dropped.unexpected += 1,
        }
    }

    fn connect(&mut self, now: Timestamp, call: CallId, voice: Voice, ctx: &mut Ctx<'_>) {
        self.calls
            .activate(call, voice, now + ctx.config.call_silence_timeout);
        ctx.stats.calls_connected += 1;
        ctx.out.emit(ctx.stats, Event::CallConnected { call });
    }

    /// Opens a realtime packet if it is voice of one of this member's calls, and delivers the
    /// frames it carries that are new.
    pub(super) fn try_open_voice(
        &mut self,
        now: Timestamp,
        packet: &AnonPacket,
        ctx: &mut Ctx<'_>,
    ) {
        self.calls.advance_time(now);
        let Some((call, index)) = self.calls.match_tag(&packet.tag()) else {
            return;
        };
        let Some(entry) = self.calls.calls.get_mut(&call) else {
            return;
        };
        let Some(voice) = entry.voice.as_mut() else {
            return;
        };
        let Ok(payload) = open_voice(voice.recv_keys(), index, packet) else {
            ctx.stats.dropped.undecryptable += 1;
            return;
        };
        entry.deadline = now + ctx.config.call_silence_timeout;
        for frame in voice.new_frames(payload) {
            ctx.stats.voice_frames_received += 1;
            ctx.out.emit(
                ctx.stats,
                Event::VoiceFrame {
                    call,
                    seq: frame.seq,
                    timestamp: frame.timestamp,
                    data: frame.data.into_inner(),
                },
            );
        }
    }

    /// Ends the calls whose time ran out: unanswered ones (calling them off at the other end)
    /// and silent ones.
    pub(super) fn call_timeouts(&mut self, now: Timestamp, view: &AnonView<'_>, ctx: &mut Ctx<'_>) {
        for call in self.calls.due(now) {
            let Some(state) = self.calls.calls.get(&call).map(|c| c.state) else {
                continue;
            };
            match state {
                CallState::Ringing => {
                    let signal = CallSignal::Hangup;
                    self.signal_and_end(now, call, signal, CallEnd::Unanswered, view, ctx);
                }
                CallState::Incoming => self.end_call(call, CallEnd::Unanswered, ctx),
                CallState::Active => {
                    let signal = CallSignal::Hangup;
                    self.signal_and_end(now, call, signal, CallEnd::Lost, view, ctx);
                }
            }
        }
    }

    /// Ends every call: this member is leaving the cluster.
    pub(crate) fn end_all_calls(&mut self, ctx: &mut Ctx<'_>) {
        let calls: Vec<CallId> = self.calls.calls.keys().copied().collect();
        for call in calls {
            self.end_call(call, CallEnd::LeftCluster, ctx);
        }
    }

    fn end_call(&mut self, call: CallId, reason: CallEnd, ctx: &mut Ctx<'_>) {
        if self.calls.end(&call).is_some() {
            debug!(?reason, "call ended");
            ctx.out.emit(ctx.stats, Event::CallEnded { call, reason });
        }
    }

    /// Sends the cover packets that are due: one per tick of `Config::cover_rate` in which this
    /// member sent no voice, to where its own voice would go, in as many copies.
    pub(super) fn send_cover(&mut self, now: Timestamp, view: &AnonView<'_>, ctx: &mut Ctx<'_>) {
        let dummies = self.cover.due(now, ctx.config.cover_rate);
        for _ in 0..dummies {
            let Some(Hop::Stem(next)) = self.next_hop(now, None, TrafficClass::Realtime, view, ctx)
            else {
                continue;
            };
            let Some(addr) = view.addr_of(&next) else {
                continue;
            };
            let mut bytes = [0u8; ANON_PACKET_LEN];
            ctx.rng.fill_bytes(&mut bytes);
            let Some(packet) = AnonPacket::from_bytes(&bytes) else {
                continue;
            };
            ctx.stats.cover_sent += 1;
            for _ in 0..ctx.config.anon_stem_copies {
                transport::send_frame(
                    ctx,
                    &view.current.key,
                    view.cluster,
                    view.current.epoch,
                    addr,
                    FrameBody::Cover(packet.clone()),
                );
            }
        }
    }
}
