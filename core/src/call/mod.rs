//! Anonymous voice calls: the state of this member's calls.
//!
//! A call is an anonymous conversation (its id is the thread's): the caller sends
//! [`CallSignal::Offer`](crate::wire::call::CallSignal) to the callee's epoch key; the callee
//! answers with `Accept` or `Decline` to the offer's reply key; either end ends it with
//! `Hangup`. Signals are anonymous messages, sent again until acknowledged. Once accepted, each
//! end sends 20 ms voice frames, numbered, in fixed-size packets sealed under the call's keys
//! ([`keys`]) and carried over the stem and fluff with the call's own stem probability and hop
//! limit. Each packet repeats the frames before it, so one lost packet loses no frame. The
//! receiving end finds its packets by detection tag ([`Voice::match_tag`]) and delivers each
//! frame once; the host plays them through a jitter buffer (`peerster-audio`).
//!
//! This module holds the state; `anon::calling` drives it through the anonymous layer.

pub(crate) mod keys;
mod voice;

use std::collections::{BTreeMap, VecDeque};

use crate::crypto::{EpochPublic, EpochSecret};
use crate::ids::MemberId;
use crate::time::Timestamp;
use crate::wire::anon::DetectionTag;

pub use self::keys::CallRole;
pub(crate) use self::voice::Voice;

/// A call's id: the id of its anonymous thread, known only to its two ends.
pub type CallId = crate::wire::anon::ThreadId;

/// How a call is placed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Sign the offer inside the encryption, revealing the caller to the callee (and to no one
    /// else). Off by default: the callee learns nothing of who calls.
    pub sign: bool,
}

/// Where a call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    /// Placed by this member, not answered yet.
    Ringing,
    /// Placed by another member, waiting for this member's answer.
    Incoming,
    /// Answered: voice flows both ways.
    Active,
}

/// Why a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallEnd {
    /// This member hung up, declined or called off.
    Local,
    /// The other end hung up (or called off before an answer).
    HungUp,
    /// The callee declined.
    Declined,
    /// No answer within `Config::call_ring_timeout`.
    Unanswered,
    /// Nothing heard from the other end for `Config::call_silence_timeout`.
    Lost,
    /// This member left the cluster.
    LeftCluster,
}

/// One call, for hosts and user interfaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallInfo {
    /// Its id.
    pub call: CallId,
    /// This member's end.
    pub role: CallRole,
    /// Where it stands.
    pub state: CallState,
    /// The other end, when known: the callee, or a caller that signed its offer.
    pub peer: Option<MemberId>,
    /// When it was placed or came in.
    pub since: Timestamp,
    /// Voice frames this member sent in it.
    pub frames_sent: u32,
    /// Voice frames this member received in it, each counted once.
    pub frames_received: u32,
}

/// One call as this member holds it.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) role: CallRole,
    pub(crate) state: CallState,
    pub(crate) peer: Option<MemberId>,
    pub(crate) since: Timestamp,
    /// Ringing: when it is given up; active: when it is lost if nothing is heard before.
    pub(crate) deadline: Timestamp,
    /// This end's ephemeral secret, until the keys are derived.
    pub(crate) own_secret: Option<EpochSecret>,
    /// The caller's ephemeral key, while an incoming call waits for an answer.
    pub(crate) offer_key: Option<EpochPublic>,
    /// The voice of an active call.
    pub(crate) voice: Option<Voice>,
}

impl Call {
    fn info(&self, call: CallId) -> CallInfo {
        let (frames_sent, frames_received) = self
            .voice
            .as_ref()
            .map_or((0, 0), |v| (v.frames_sent(), v.frames_received()));
        CallInfo {
            call,
            role: self.role,
            state: self.state,
            peer: self.peer,
            since: self.since,
            frames_sent,
            frames_received,
        }
    }
}

/// Ended calls remembered, so that a late signal does not ring again.
const MAX_ENDED: usize = 64;

/// Every call of one member.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    pub(crate) calls: BTreeMap<CallId, Call>,
    /// The detection tags of the voice packets of every active call, with its packet index.
    tags: BTreeMap<DetectionTag, (CallId, u32)>,
    ended: VecDeque<CallId>,
}

impl Calls {
    /// The calls, by id.
    pub(crate) fn list(&self) -> Vec<CallInfo> {
        self.calls.iter().map(|(id, c)| c.info(*id)).collect()
    }

    /// Whether `call` is or was one of this member's calls (ended ones are remembered a
    /// while).
    pub(crate) fn knows(&self, call: &CallId) -> bool {
        self.calls.contains_key(call) || self.ended.contains(call)
    }

    pub(crate) fn insert(&mut self, id: CallId, call: Call) {
        self.calls.insert(id, call);
    }

    /// Makes `call` active with `voice`, whose expected tags join the table.
    pub(crate) fn activate(&mut self, id: CallId, mut voice: Voice, deadline: Timestamp) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        for (tag, index) in voice.advance(None).added {
            self.tags.insert(tag, (id, index));
        }
        call.state = CallState::Active;
        call.own_secret = None;
        call.offer_key = None;
        call.deadline = deadline;
        call.voice = Some(voice);
    }

    /// Removes `call`, and its tags, remembering that it ended.
    pub(crate) fn end(&mut self, id: &CallId) -> Option<Call> {
        let call = self.calls.remove(id)?;
        if let Some(voice) = &call.voice {
            for tag in voice.all_tags() {
                self.tags.remove(&tag);
            }
        }
        self.ended.push_back(*id);
        if self.ended.len() > MAX_ENDED {
            self.ended.pop_front();
        }
        Some(call)
    }

    /// The call and packet index a detection tag belongs to, if it is one of ours: the tag is
    /// used up, the window of expected tags moves on.
    pub(crate) fn match_tag(&mut self, tag: &DetectionTag) -> Option<(CallId, u32)> {
        let (id, index) = self.tags.remove(tag)?;
        if let Some(voice) = self.calls.get_mut(&id).and_then(|c| c.voice.as_mut()) {
            let changes = voice.advance(Some(index));
            for tag in changes.dropped {
                self.tags.remove(&tag);
            }
            for (tag, index) in changes.added {
                self.tags.insert(tag, (id, index));
            }
        }
        Some((id, index))
    }

    /// Moves the tag windows of the active calls along with the clock.
    pub(crate) fn advance_time(&mut self, now: Timestamp) {
        for (id, call) in &mut self.calls {
            let Some(voice) = call.voice.as_mut() else {
                continue;
            };
            let changes = voice.advance_time(now);
            for tag in changes.dropped {
                self.tags.remove(&tag);
            }
            for (tag, index) in changes.added {
                self.tags.insert(tag, (*id, index));
            }
        }
    }

    /// The calls whose deadline passed by `now`.
    pub(crate) fn due(&self, now: Timestamp) -> Vec<CallId> {
        self.calls
            .iter()
            .filter(|(_, c)| c.deadline <= now)
            .map(|(id, _)| *id)
            .collect()
    }

    /// The earliest call deadline.
    pub(crate) fn next_deadline(&self) -> Option<Timestamp> {
        self.calls.values().map(|c| c.deadline).min()
    }
}
