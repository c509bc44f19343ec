//! The JSON of the control protocol's replies and event lines (the names are in
//! `protocol.rs`'s doc, and scripts rely on them).

use std::fmt::Display;
use std::path::Path;

use peerster_core::ids::MemberId;
use peerster_core::wire::vote::ProposalKind;
use peerster_core::{
    CallEnd, CallInfo, CallRole, CallState, Event, Timestamp, VoteInfo, VoteOutcome, VoteState,
};
use serde_json::{Map, Value, json};

use crate::display::LocalEnd;
use crate::inbox::{Delivery, Direction, Entry, EntryKind};
use crate::outcome::{Members, Outcome, Status};
use crate::parse::hex;

/// The reply to a command that failed.
pub(crate) fn error(error: &dyn Display) -> Value {
    json!({"ok": false, "error": error.to_string()})
}

/// The reply to a command that did `outcome`.
pub(crate) fn outcome(outcome: &Outcome) -> Value {
    let fields = match outcome {
        Outcome::Status(status) => status_fields(status),
        Outcome::Peers(peers) => {
            let peers: Vec<Value> = (peers.iter())
                .map(|p| {
                    json!({
                        "fingerprint": hex(&p.id.0),
                        "name": p.name,
                        "addr": p.addr.to_string(),
                        "last_heard_s": p.last_heard_s,
                    })
                })
                .collect();
            json!({ "peers": peers })
        }
        Outcome::Posted(position) => json!({"epoch": position.epoch.0, "seq": position.seq}),
        Outcome::AnonSent { thread, to, signed } => {
            json!({"thread": hex(thread), "to": member(*to), "signed": signed})
        }
        Outcome::ReplySent { thread } => json!({"thread": hex(thread)}),
        Outcome::Members(members) => members_fields(members),
        Outcome::Votes { votes, now } => {
            let votes: Vec<Value> = votes.iter().map(|vote| vote_fields(vote, *now)).collect();
            json!({ "votes": votes })
        }
        Outcome::Voted { proposal, yes } => {
            json!({"proposal": hex(&proposal.0), "choice": if *yes { "yes" } else { "no" }})
        }
        Outcome::ExpelProposed {
            proposal,
            member: m,
        } => {
            json!({"proposal": hex(&proposal.0), "member": member(*m)})
        }
        Outcome::Calling { call, to, signed } => {
            json!({"call": hex(call), "to": member(*to), "signed": signed})
        }
        Outcome::Answered { call } | Outcome::Declined { call } | Outcome::HungUp { call } => {
            json!({"call": hex(call)})
        }
        Outcome::Calls { calls, now } => {
            let calls: Vec<Value> = (calls.iter()).map(|info| call_fields(info, *now)).collect();
            json!({ "calls": calls })
        }
        Outcome::Help => json!({"help": crate::parse::HELP}),
        Outcome::ClusterCreated { cluster, limit } => {
            json!({"cluster": cluster.to_string(), "limit": limit})
        }
        Outcome::JoinStarted { contact } => json!({"joining": contact.to_string()}),
        Outcome::Left { cluster } => json!({"cluster": cluster.to_string()}),
        Outcome::Inbox { entries, .. } => {
            let entries: Vec<Value> = entries.iter().map(inbox_entry).collect();
            json!({ "inbox": entries })
        }
        Outcome::SafetyNumber { member: m, number } => {
            json!({"fingerprint": member(*m), "safety_number": number.to_string()})
        }
    };
    ok(fields)
}

/// `{"ok":true}` and `fields`.
pub(crate) fn ok(fields: Value) -> Value {
    let mut object = Map::new();
    object.insert("ok".into(), Value::Bool(true));
    if let Value::Object(fields) = fields {
        object.extend(fields);
    }
    Value::Object(object)
}

fn member(id: MemberId) -> String {
    hex(&id.0)
}

/// One entry of `inbox`: `thread` for anonymous messages only, `from` only when known,
/// `state` only for this node's anonymous messages.
fn inbox_entry(entry: &Entry) -> Value {
    let mut object = Map::new();
    let kind = match entry.kind {
        EntryKind::Post => "post",
        EntryKind::Anon { thread } => {
            object.insert("thread".into(), hex(&thread).into());
            "anon"
        }
    };
    object.insert("kind".into(), kind.into());
    let direction = match entry.direction {
        Direction::In => "in",
        Direction::Out => "out",
    };
    object.insert("direction".into(), direction.into());
    object.insert("text".into(), entry.text.clone().into());
    if let Some(from) = entry.from {
        object.insert("from".into(), member(from).into());
    }
    if let Some(state) = entry.state {
        let state = match state {
            Delivery::Sent => "sent",
            Delivery::Delivered => "delivered",
            Delivery::Failed => "failed",
        };
        object.insert("state".into(), state.into());
    }
    let at_s = entry.at.saturating_since(Timestamp::ZERO).as_secs();
    object.insert("at_s".into(), at_s.into());
    Value::Object(object)
}

fn status_fields(status: &Status) -> Value {
    json!({
        "fingerprint": member(status.id),
        "name": status.name,
        "listen": status.listen.to_string(),
        "cluster": status.cluster.map(|(cluster, _)| cluster.to_string()),
        "epoch": status.cluster.map(|(_, epoch)| epoch.0),
        "peers": status.peers,
    })
}

fn members_fields(members: &Members) -> Value {
    let cluster = &members.cluster;
    let key_age = members.now.saturating_since(cluster.epoch_since).as_secs();
    let list: Vec<Value> = (cluster.members.iter().zip(&members.names))
        .map(|(m, name)| {
            let this_node = m.id == members.me;
            let heard = (!this_node).then(|| members.now.saturating_since(m.last_heard).as_secs());
            json!({
                "fingerprint": member(m.id),
                "name": name,
                "addr": m.addr.to_string(),
                "last_heard_s": heard,
                "joined_epoch": m.joined.0,
                "epoch_key_age_s": key_age,
                "this_node": this_node,
            })
        })
        .collect();
    let anonymity = members.estimate.map(|e| {
        json!({
            "anonymity_set": e.anonymity_set,
            "live_members": e.live_members,
            "first_spy_precision": e.first_spy_precision,
            "expected_stem_hops": e.expected_stem_hops,
            "low": e.low,
            "minimum": members.min_set,
        })
    });
    json!({
        "cluster": cluster.id.to_string(),
        "epoch": cluster.epoch.0,
        "limit": cluster.limit,
        "epoch_key_age_s": key_age,
        "members": list,
        "anonymity": anonymity,
    })
}

fn vote_fields(vote: &VoteInfo, now: peerster_core::Timestamp) -> Value {
    let state = match vote.state {
        VoteState::Open => "open",
        VoteState::Decided(outcome) => outcome_word(outcome),
    };
    let my_vote = vote.my_vote.map(|yes| if yes { "yes" } else { "no" });
    json!({
        "id": hex(&vote.id.0),
        "kind": kind_word(&vote.kind),
        "subject": member(vote.subject),
        "proposer": member(vote.proposer),
        "round": vote.round,
        "deadline": vote.deadline.saturating_since(now).as_secs(),
        "state": state,
        "my_vote": my_vote,
    })
}

fn call_fields(info: &CallInfo, now: peerster_core::Timestamp) -> Value {
    json!({
        "call": hex(&info.call),
        "state": match info.state {
            CallState::Ringing => "ringing",
            CallState::Incoming => "incoming",
            CallState::Active => "active",
        },
        "role": match info.role {
            CallRole::Caller => "caller",
            CallRole::Callee => "callee",
        },
        "peer": info.peer.map(member),
        "duration_s": now.saturating_since(info.since).as_secs(),
        "frames_sent": info.frames_sent,
        "frames_received": info.frames_received,
    })
}

/// The reply to a `call` with `wait`, once the call ended: why, its last counts (if they were
/// seen), and the recording.
pub(crate) fn call_report(
    call: &peerster_core::CallId,
    reason: CallEnd,
    local: Option<LocalEnd>,
    counts: Option<&CallInfo>,
    recording: Option<(f64, &Path)>,
) -> Value {
    ok(json!({
        "call": hex(call),
        "reason": end_word(reason, local),
        "frames_sent": counts.map_or(0, |c| c.frames_sent),
        "frames_received": counts.map_or(0, |c| c.frames_received),
        "heard_s": recording.map(|(seconds, _)| seconds),
        "output": recording.map(|(_, path)| path.display().to_string()),
    }))
}

/// Why a call ended, in a word.
fn end_word(reason: CallEnd, local: Option<LocalEnd>) -> &'static str {
    match reason {
        CallEnd::Local => match local {
            Some(LocalEnd::Declined) => "declined_here",
            Some(LocalEnd::HungUp) | None => "hung_up_here",
            Some(LocalEnd::InputEnded) => "input_ended",
            Some(LocalEnd::Stopping) => "stopping",
        },
        CallEnd::HungUp => "hung_up",
        CallEnd::Declined => "declined",
        CallEnd::Unanswered => "unanswered",
        CallEnd::Lost => "lost",
        CallEnd::LeftCluster => "left_cluster",
        _ => "other",
    }
}

fn kind_word(kind: &ProposalKind) -> &'static str {
    match kind {
        ProposalKind::Admit { .. } => "admit",
        ProposalKind::Expel { .. } => "expel",
    }
}

fn outcome_word(outcome: VoteOutcome) -> &'static str {
    match outcome {
        VoteOutcome::Accepted => "accepted",
        VoteOutcome::Rejected => "rejected",
        VoteOutcome::Failed => "failed",
    }
}

/// The line `watch` streams for `event`; none for voice frames.
pub(crate) fn event(event: &Event) -> Option<Value> {
    let (kind, fields) = match event {
        Event::PeerVerified { addr, peer, .. } => (
            "peer_verified",
            json!({"addr": addr.to_string(), "peer": member(*peer)}),
        ),
        Event::PeerUnreachable { addr } => ("peer_unreachable", json!({"addr": addr.to_string()})),
        Event::PeerLost { addr, peer } => (
            "peer_lost",
            json!({"addr": addr.to_string(), "peer": member(*peer)}),
        ),
        Event::Announcement {
            origin, seq, body, ..
        } => {
            let peerster_core::wire::AnnouncementBody::Node { name, .. } = body;
            (
                "announcement",
                json!({
                    "origin": member(*origin),
                    "seq": seq,
                    "name": String::from_utf8_lossy(name),
                }),
            )
        }
        Event::JoinedCluster {
            cluster,
            epoch,
            members,
        } => (
            "joined_cluster",
            json!({"cluster": cluster.to_string(), "epoch": epoch.0, "members": members}),
        ),
        Event::JoinRefused { contact, reason } => (
            "join_refused",
            json!({"contact": contact.to_string(), "reason": reason.to_string()}),
        ),
        Event::JoinFailed { contact } => ("join_failed", json!({"contact": contact.to_string()})),
        Event::VoteOpened {
            proposal,
            kind,
            subject,
            proposer,
            ..
        } => (
            "vote_opened",
            json!({
                "proposal": hex(&proposal.0),
                "proposal_kind": kind_word(kind),
                "subject": member(*subject),
                "proposer": member(*proposer),
            }),
        ),
        Event::VoteClosed {
            proposal,
            kind,
            outcome,
        } => (
            "vote_closed",
            json!({
                "proposal": hex(&proposal.0),
                "proposal_kind": kind_word(kind),
                "outcome": outcome_word(*outcome),
            }),
        ),
        Event::AuthorityMiscounted {
            proposal,
            authority,
        } => (
            "authority_miscounted",
            json!({"proposal": hex(&proposal.0), "authority": member(*authority)}),
        ),
        Event::EpochChanged {
            cluster,
            epoch,
            members,
            added,
            removed,
        } => (
            "epoch_changed",
            json!({
                "cluster": cluster.to_string(),
                "epoch": epoch.0,
                "members": members,
                "added": added.iter().copied().map(member).collect::<Vec<_>>(),
                "removed": removed.iter().copied().map(member).collect::<Vec<_>>(),
            }),
        ),
        Event::RemovedFromCluster { cluster } => (
            "removed_from_cluster",
            json!({"cluster": cluster.to_string()}),
        ),
        Event::LeftCluster { cluster } => ("left_cluster", json!({"cluster": cluster.to_string()})),
        Event::AnonMessage {
            thread,
            message,
            text,
            from,
        } => (
            "anon_message",
            json!({
                "thread": hex(thread),
                "message": hex(message),
                "text": text,
                "from": from.map(member),
            }),
        ),
        Event::AnonDelivered { thread, message } => (
            "anon_delivered",
            json!({"thread": hex(thread), "message": hex(message)}),
        ),
        Event::AnonFailed {
            thread,
            message,
            reason,
        } => (
            "anon_failed",
            json!({
                "thread": hex(thread),
                "message": hex(message),
                "reason": format!("{reason:?}"),
            }),
        ),
        Event::AnonymityLow {
            anonymity_set,
            threshold,
        } => (
            "anonymity_low",
            json!({"anonymity_set": anonymity_set, "threshold": threshold}),
        ),
        Event::IncomingCall { call, from } => (
            "incoming_call",
            json!({"call": hex(call), "from": from.map(member)}),
        ),
        Event::CallConnected { call } => ("call_connected", json!({"call": hex(call)})),
        Event::CallEnded { call, reason } => (
            "call_ended",
            json!({"call": hex(call), "reason": end_word(*reason, None)}),
        ),
        Event::VoiceFrame { .. } => return None,
        Event::Post {
            cluster,
            author,
            position,
            text,
        } => (
            "post",
            json!({
                "cluster": cluster.to_string(),
                "author": member(*author),
                "epoch": position.epoch.0,
                "seq": position.seq,
                "text": text,
            }),
        ),
        other => ("other", json!({"debug": format!("{other:?}")})),
    };
    let mut object = Map::new();
    object.insert("kind".into(), Value::String(kind.into()));
    if let Value::Object(fields) = fields {
        object.extend(fields);
    }
    Some(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use peerster_core::ids::{ClusterId, Epoch};
    use peerster_core::wire::cluster::PostPosition;

    use super::*;

    #[test]
    fn status_has_the_names_scripts_rely_on() {
        let listen: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let status = Status {
            id: MemberId([0xab; 16]),
            name: Some("alice".into()),
            listen,
            cluster: Some((ClusterId(0x12), Epoch(3))),
            peers: 2,
        };
        assert_eq!(
            outcome(&Outcome::Status(status.clone())),
            json!({
                "ok": true,
                "fingerprint": "ab".repeat(16),
                "name": "alice",
                "listen": "127.0.0.1:7000",
                "cluster": "0000000000000012",
                "epoch": 3,
                "peers": 2,
            })
        );
        let alone = Status {
            cluster: None,
            name: None,
            ..status
        };
        let reply = outcome(&Outcome::Status(alone));
        assert_eq!(reply["cluster"], Value::Null);
        assert_eq!(reply["epoch"], Value::Null);
    }

    #[test]
    fn events_have_a_kind_and_hex_ids_and_voice_is_not_streamed() {
        let post = Event::Post {
            cluster: ClusterId(1),
            author: MemberId([0x0a; 16]),
            position: PostPosition {
                epoch: Epoch(2),
                seq: 5,
            },
            text: "hi\n".into(),
        };
        assert_eq!(
            event(&post).unwrap(),
            json!({
                "kind": "post",
                "cluster": "0000000000000001",
                "author": "0a".repeat(16),
                "epoch": 2,
                "seq": 5,
                "text": "hi\n",
            })
        );
        let voice = Event::VoiceFrame {
            call: [1; 16],
            seq: 0,
            timestamp: 0,
            data: vec![1, 2],
        };
        assert_eq!(event(&voice), None);
        let ended = Event::CallEnded {
            call: [0xcd; 16],
            reason: CallEnd::Lost,
        };
        assert_eq!(event(&ended).unwrap()["reason"], "lost");
    }

    #[test]
    fn inbox_entries_have_the_names_scripts_rely_on() {
        let anonymous = Entry {
            kind: EntryKind::Anon { thread: [0x1b; 16] },
            direction: Direction::In,
            text: "psst".into(),
            from: None,
            state: None,
            message: Some([2; 16]),
            at: peerster_core::Timestamp::from_secs(7),
        };
        let mine = Entry {
            direction: Direction::Out,
            from: Some(MemberId([0x0a; 16])),
            state: Some(Delivery::Delivered),
            ..anonymous.clone()
        };
        assert_eq!(
            outcome(&Outcome::Inbox {
                entries: vec![anonymous, mine]
            }),
            json!({"ok": true, "inbox": [
                {"kind": "anon", "direction": "in", "text": "psst", "thread": "1b".repeat(16), "at_s": 7},
                {"kind": "anon", "direction": "out", "text": "psst", "thread": "1b".repeat(16),
                 "from": "0a".repeat(16), "state": "delivered", "at_s": 7},
            ]})
        );
    }

    #[test]
    fn errors_are_ok_false_with_a_message() {
        assert_eq!(
            error(&"post refused: not in a cluster"),
            json!({"ok": false, "error": "post refused: not in a cluster"})
        );
    }
}
