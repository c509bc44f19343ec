//! How calls read as lines: their events, the recording written when one ends, and `/calls`.
//!
//! | what | line |
//! |---|---|
//! | [`Event::IncomingCall`] | `[call] <call> incoming from anonymous (answer with /answer <first 4 digits>)`, or `from <caller id>` if signed |
//! | [`Event::CallConnected`] | `[call] <call> connected` (also what `/answer` shows) |
//! | [`Event::CallEnded`] | `[call] <call> ended: <why>`, see [`ended_line`] |
//! | a recording written | `[call] <call> heard S s, written to <OUT.wav>` |
//! | `/call`, `/call-signed` | `[call] <call> calling <member id>`, then `, signed` if signed |
//! | `/calls` | one line per call: `[calls] <call> <ringing, incoming or active>, <caller or callee>, with <id or anonymous>, for S s, frames sent N, received M`; `[calls] no calls` if none |
//!
//! `<call>` is the first 8 hex digits of the call's id, the same at both ends; `/answer`,
//! `/decline` and `/hangup` take 4 or more of them. Voice frames have no line (50 a second):
//! `/calls` counts them.
//!
//! [`Event::IncomingCall`]: peerster_core::Event::IncomingCall
//! [`Event::CallConnected`]: peerster_core::Event::CallConnected
//! [`Event::CallEnded`]: peerster_core::Event::CallEnded

use std::path::Path;

use peerster_core::ids::MemberId;
use peerster_core::{CallEnd, CallId, CallInfo, CallOptions, CallRole, CallState, Timestamp};

use super::short;
use crate::parse::hex;

/// Why this node ended a call itself: what the [`CallEnd::Local`] of its end means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LocalEnd {
    /// `/decline`.
    Declined,
    /// `/hangup`.
    HungUp,
    /// The input file was used up a second before.
    InputEnded,
    /// The node is stopping.
    Stopping,
}

/// The line for a call coming in `from` the caller, if it signed.
pub(crate) fn incoming_line(call: &CallId, from: Option<MemberId>) -> String {
    let from = from.map_or_else(|| "anonymous".to_string(), |id| id.to_string());
    format!(
        "[call] {} incoming from {from} (answer with /answer {})",
        short(call),
        hex(&call[..2])
    )
}

/// The line for a call that connected: voice flows.
pub(crate) fn connected_line(call: &CallId) -> String {
    format!("[call] {} connected", short(call))
}

/// The line for a call that ended, and why: `the other end hung up`, `the callee declined`,
/// `no answer in time`, `lost: nothing heard from the other end`, `this node left the
/// cluster`, or, when this end ended it (`local` says how), `declined here`, `hung up here`,
/// `hung up here: the input file ended`, `hung up here: the node is stopping`.
pub(crate) fn ended_line(call: &CallId, reason: CallEnd, local: Option<LocalEnd>) -> String {
    let why = match reason {
        CallEnd::Local => match local {
            Some(LocalEnd::Declined) => "declined here".to_string(),
            Some(LocalEnd::HungUp) | None => "hung up here".to_string(),
            Some(LocalEnd::InputEnded) => "hung up here: the input file ended".to_string(),
            Some(LocalEnd::Stopping) => "hung up here: the node is stopping".to_string(),
        },
        CallEnd::HungUp => "the other end hung up".to_string(),
        CallEnd::Declined => "the callee declined".to_string(),
        CallEnd::Unanswered => "no answer in time".to_string(),
        CallEnd::Lost => "lost: nothing heard from the other end".to_string(),
        CallEnd::LeftCluster => "this node left the cluster".to_string(),
        other => format!("{other:?}"),
    };
    format!("[call] {} ended: {why}", short(call))
}

/// The line for what this end of `call` heard, `seconds` long, written to `path`.
pub(crate) fn recorded_line(call: &CallId, seconds: f64, path: &Path) -> String {
    format!(
        "[call] {} heard {seconds:.1} s, written to {}",
        short(call),
        path.display()
    )
}

/// The line for a call this node placed to `to`.
pub(crate) fn calling_line(call: &CallId, to: MemberId, options: CallOptions) -> String {
    let signed = if options.sign { ", signed" } else { "" };
    format!("[call] {} calling {to}{signed}", short(call))
}

/// The lines of `/calls`, with how long each call has lasted at `now`.
pub(crate) fn calls_lines(calls: &[CallInfo], now: Timestamp) -> Vec<String> {
    if calls.is_empty() {
        return vec!["[calls] no calls".to_string()];
    }
    calls.iter().map(|call| calls_line(call, now)).collect()
}

fn calls_line(call: &CallInfo, now: Timestamp) -> String {
    let state = match call.state {
        CallState::Ringing => "ringing",
        CallState::Incoming => "incoming",
        CallState::Active => "active",
    };
    let role = match call.role {
        CallRole::Caller => "caller",
        CallRole::Callee => "callee",
    };
    let peer = call
        .peer
        .map_or_else(|| "anonymous".to_string(), |id| id.to_string());
    format!(
        "[calls] {} {state}, {role}, with {peer}, for {} s, frames sent {}, received {}",
        short(&call.call),
        now.saturating_since(call.since).as_secs(),
        call.frames_sent,
        call.frames_received
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> CallId {
        let mut call = [0x77; 16];
        call[..4].copy_from_slice(&[0x1a, 0x2b, 0x3c, 0x4d]);
        call
    }

    #[test]
    fn call_events_have_stable_lines() {
        let member = MemberId([0x12; 16]);
        assert_eq!(
            incoming_line(&call(), None),
            "[call] 1a2b3c4d incoming from anonymous (answer with /answer 1a2b)"
        );
        assert_eq!(
            incoming_line(&call(), Some(member)),
            "[call] 1a2b3c4d incoming from 12121212 (answer with /answer 1a2b)"
        );
        assert_eq!(connected_line(&call()), "[call] 1a2b3c4d connected");
        let cases = [
            (CallEnd::HungUp, None, "the other end hung up"),
            (CallEnd::Declined, None, "the callee declined"),
            (CallEnd::Unanswered, None, "no answer in time"),
            (
                CallEnd::Lost,
                None,
                "lost: nothing heard from the other end",
            ),
            (CallEnd::LeftCluster, None, "this node left the cluster"),
            (CallEnd::Local, None, "hung up here"),
            (CallEnd::Local, Some(LocalEnd::HungUp), "hung up here"),
            (CallEnd::Local, Some(LocalEnd::Declined), "declined here"),
            (
                CallEnd::Local,
                Some(LocalEnd::InputEnded),
                "hung up here: the input file ended",
            ),
            (
                CallEnd::Local,
                Some(LocalEnd::Stopping),
                "hung up here: the node is stopping",
            ),
        ];
        for (reason, local, why) in cases {
            assert_eq!(
                ended_line(&call(), reason, local),
                format!("[call] 1a2b3c4d ended: {why}")
            );
        }
        assert_eq!(
            recorded_line(&call(), 3.04, Path::new("/tmp/heard.wav")),
            "[call] 1a2b3c4d heard 3.0 s, written to /tmp/heard.wav"
        );
        assert_eq!(
            calling_line(&call(), member, CallOptions::default()),
            "[call] 1a2b3c4d calling 12121212"
        );
        assert_eq!(
            calling_line(&call(), member, CallOptions { sign: true }),
            "[call] 1a2b3c4d calling 12121212, signed"
        );
    }

    #[test]
    fn the_call_table_shows_state_role_peer_and_frames() {
        let now = Timestamp::from_secs(100);
        let active = CallInfo {
            call: call(),
            role: CallRole::Callee,
            state: CallState::Active,
            peer: None,
            since: Timestamp::from_millis(87_500),
            frames_sent: 600,
            frames_received: 598,
        };
        let ringing = CallInfo {
            call: [0xfe; 16],
            role: CallRole::Caller,
            state: CallState::Ringing,
            peer: Some(MemberId([0x0b; 16])),
            since: Timestamp::from_secs(98),
            frames_sent: 0,
            frames_received: 0,
        };
        let incoming = CallInfo {
            state: CallState::Incoming,
            frames_sent: 0,
            frames_received: 0,
            ..active
        };
        assert_eq!(
            calls_lines(&[active, ringing, incoming], now),
            [
                "[calls] 1a2b3c4d active, callee, with anonymous, for 12 s, frames sent 600, \
                 received 598",
                "[calls] fefefefe ringing, caller, with 0b0b0b0b, for 2 s, frames sent 0, \
                 received 0",
                "[calls] 1a2b3c4d incoming, callee, with anonymous, for 12 s, frames sent 0, \
                 received 0",
            ]
        );
        assert_eq!(calls_lines(&[], now), ["[calls] no calls"]);
    }
}
