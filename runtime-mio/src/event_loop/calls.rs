//! The calls of a [`Runtime`]: placing, answering, declining and ending them, what their
//! events show, and the 20 ms voice tick that moves their audio
//! ([`CallAudio`](crate::call_audio::CallAudio)).

use peerster_core::ids::MemberId;
use peerster_core::{CallId, CallInfo, CallOptions, CallState, CommandError, Event};
use tracing::{debug, info};

use super::Runtime;
use crate::call_audio::Plan;
use crate::commands::CallFiles;
use crate::display::{self, LocalEnd};
use crate::error::CommandFailure;
use crate::outcome::Outcome;
use crate::parse::{IdPrefix, Unresolved, resolve};

impl Runtime {
    /// Calls the member `to` of this node's cluster. With `files`, the input file is read now
    /// and said from the moment the call connects, and what this end hears is written to the
    /// output file when the call ends (it is created empty now); without, silence in and
    /// nothing out (with the feature `device`, the microphone and the speaker). The outcome
    /// is an event: [`Event::CallConnected`] or [`Event::CallEnded`].
    pub fn call(
        &mut self,
        to: MemberId,
        options: CallOptions,
        files: Option<&CallFiles>,
    ) -> Result<CallId, CommandFailure> {
        let plan = Plan::for_files(files)?;
        let call = self
            .node
            .call(self.clock.now(), to, options)
            .map_err(CommandFailure::Call)?;
        info!(call = %display::short(&call), %to, "calling");
        self.audio.plan(call, plan);
        Ok(call)
    }

    /// Answers the incoming call `call` ([`Event::IncomingCall`]), with its audio as for
    /// [`Runtime::call`]; [`Event::CallConnected`] follows.
    pub fn answer_call(
        &mut self,
        call: CallId,
        files: Option<&CallFiles>,
    ) -> Result<(), CommandFailure> {
        let plan = Plan::for_files(files)?;
        self.node
            .answer_call(self.clock.now(), call)
            .map_err(CommandFailure::Answer)?;
        self.audio.plan(call, plan);
        Ok(())
    }

    /// Declines the incoming call `call`; [`Event::CallEnded`] follows.
    pub fn decline_call(&mut self, call: CallId) -> Result<(), CommandError> {
        self.end_here(call, LocalEnd::Declined)
    }

    /// Ends the call `call`, whatever its state; [`Event::CallEnded`] follows.
    pub fn hang_up(&mut self, call: CallId) -> Result<(), CommandError> {
        self.end_here(call, LocalEnd::HungUp)
    }

    /// This node's calls: ringing, incoming and connected.
    pub fn calls(&self) -> Vec<CallInfo> {
        self.node.calls()
    }
}

impl Runtime {
    /// `/call`, `/call-signed`: calls the one member whose id starts with `to`.
    pub(super) fn call_command(
        &mut self,
        to: &IdPrefix,
        files: Option<&CallFiles>,
        options: CallOptions,
    ) -> Result<Outcome, CommandFailure> {
        let member = MemberId(self.resolve_member(to, CommandFailure::Call)?);
        let call = self.call(member, options, files)?;
        // A warning about the anonymity set, if the node has one, before the call's line.
        self.dispatch_events();
        Ok(Outcome::Calling {
            call,
            to: member,
            signed: options.sign,
        })
    }

    /// `/answer`: answers the one call whose id starts with `call` (without, the only
    /// incoming call).
    pub(super) fn answer_command(
        &mut self,
        call: Option<&IdPrefix>,
        files: Option<&CallFiles>,
    ) -> Result<Outcome, CommandFailure> {
        let call = self.pick_call(call, Some(CallState::Incoming))?;
        self.answer_call(call, files)?;
        // The `connected` line says it.
        self.dispatch_events();
        Ok(Outcome::Answered { call })
    }

    /// `/decline`: declines the one call whose id starts with `call` (without, the only
    /// incoming call).
    pub(super) fn decline_command(
        &mut self,
        call: Option<&IdPrefix>,
    ) -> Result<Outcome, CommandFailure> {
        let call = self.pick_call(call, Some(CallState::Incoming))?;
        self.decline_call(call).map_err(CommandFailure::Decline)?;
        self.dispatch_events();
        Ok(Outcome::Declined { call })
    }

    /// `/hangup`: ends the one call whose id starts with `call` (without, the only call).
    pub(super) fn hang_up_command(
        &mut self,
        call: Option<&IdPrefix>,
    ) -> Result<Outcome, CommandFailure> {
        let call = self.pick_call(call, None)?;
        self.hang_up(call).map_err(CommandFailure::HangUp)?;
        self.dispatch_events();
        Ok(Outcome::HungUp { call })
    }

    /// The call `prefix` names or, without a prefix, the only call of this node in `state`
    /// (in any state if `None`).
    fn pick_call(
        &self,
        prefix: Option<&IdPrefix>,
        state: Option<CallState>,
    ) -> Result<CallId, CommandFailure> {
        if let Some(prefix) = prefix {
            return self.resolve_call(prefix);
        }
        let which = if state.is_some() {
            "incoming"
        } else {
            "ongoing"
        };
        let calls: Vec<CallId> = (self.calls().into_iter())
            .filter(|info| state.is_none_or(|state| info.state == state))
            .map(|info| info.call)
            .collect();
        match calls[..] {
            [call] => Ok(call),
            [] => Err(CommandFailure::NoCall { which }),
            _ => Err(CommandFailure::SeveralCalls {
                which,
                count: calls.len(),
            }),
        }
    }

    /// The one call of this node whose id starts with `prefix`.
    fn resolve_call(&self, prefix: &IdPrefix) -> Result<CallId, CommandFailure> {
        let calls = self.calls().into_iter().map(|info| info.call);
        resolve(prefix, calls).map_err(|unresolved| match unresolved {
            Unresolved::None => CommandFailure::NoSuchCall {
                prefix: prefix.clone(),
            },
            Unresolved::Several(count) => CommandFailure::AmbiguousCall {
                prefix: prefix.clone(),
                count,
            },
        })
    }

    /// Ends `call` from this end, remembering why for its `ended` line.
    fn end_here(&mut self, call: CallId, why: LocalEnd) -> Result<(), CommandError> {
        self.local_ends.insert(call, why);
        let now = self.clock.now();
        let done = match why {
            LocalEnd::Declined => self.node.decline_call(now, call),
            LocalEnd::HungUp | LocalEnd::InputEnded | LocalEnd::Stopping => {
                self.node.hang_up(now, call)
            }
        };
        if done.is_err() {
            self.local_ends.remove(&call);
        }
        done
    }

    /// Hangs up every call: the node is stopping.
    pub(super) fn hang_up_all(&mut self) {
        for info in self.calls() {
            if let Err(error) = self.end_here(info.call, LocalEnd::Stopping) {
                debug!(%error, "call not hung up");
            }
        }
    }

    /// Shows a call event and moves the call's audio: starts it when the call connects,
    /// feeds it voice frames, stops it (writing what was heard) when the call ends.
    pub(super) fn on_call_event(&mut self, event: &Event) {
        let now = self.clock.now();
        match event {
            Event::IncomingCall { call, from } => {
                self.show(&display::incoming_line(call, *from));
            }
            Event::CallConnected { call } => {
                self.show(&display::connected_line(call));
                if let Err(error) = self.audio.connect(*call, now) {
                    self.failed(&error.into());
                }
            }
            Event::CallEnded { call, reason } => {
                let local = self.local_ends.remove(call);
                self.show(&display::ended_line(call, *reason, local));
                let recording = self.audio.end(*call);
                let mut written = None;
                if let Some(recording) = &recording {
                    match recording.write() {
                        Ok(()) => {
                            self.show(&display::recorded_line(
                                call,
                                recording.seconds(),
                                &recording.path,
                            ));
                            written = Some((recording.seconds(), recording.path.as_path()));
                        }
                        Err(error) => self.failed(&error.into()),
                    }
                }
                self.report_call_end(*call, *reason, local, written);
            }
            Event::VoiceFrame {
                call,
                seq,
                timestamp,
                data,
            } => self.audio.push(now, *call, *seq, *timestamp, data),
            _ => {}
        }
    }

    /// Runs the voice ticks that are due: sends each connected call's next frame, plays 20 ms
    /// of what it received, and hangs up the calls whose input file ended a second ago.
    pub(super) fn voice_tick(&mut self) {
        let now = self.clock.now();
        if self.audio.next_tick().is_none_or(|due| due > now) {
            return;
        }
        // The frames that arrived this turn reach their jitter buffers before the tick plays.
        self.dispatch_events();
        let tick = self.audio.tick(now);
        for (call, frame) in tick.frames {
            if let Err(error) = self
                .node
                .send_voice(now, call, frame.timestamp, &frame.bytes)
            {
                debug!(%error, seq = frame.seq, "voice frame not sent");
            }
        }
        for call in tick.used_up {
            info!(call = %display::short(&call), "input file ended: hanging up");
            if let Err(error) = self.end_here(call, LocalEnd::InputEnded) {
                debug!(%error, "call not hung up");
            }
        }
    }
}
