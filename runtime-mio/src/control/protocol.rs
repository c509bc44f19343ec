//! The control protocol: one JSON object per line each way, over the Unix socket
//! `DATA_DIR/control.sock` (mode 0600) of a running `peerster run`.
//!
//! # Requests
//!
//! A request is one line holding one JSON object with a `cmd` field; unknown fields are
//! refused. `MEMBER`, `THREAD`, `PROPOSAL` and `CALL` are 4 to 32 hex digits of an id (a whole
//! id is 32); paths must be absolute (the node may run in another directory).
//!
//! ```text
//! {"cmd":"status"}
//! {"cmd":"peers"}
//! {"cmd":"members"}
//! {"cmd":"post","text":"hello"}
//! {"cmd":"send-anon","member":"0a0b","text":"hi","sign":false}          (sign optional)
//! {"cmd":"reply","thread":"1a2b","text":"hi again"}
//! {"cmd":"votes"}
//! {"cmd":"vote","proposal":"5e6f","choice":"yes"}                          (or "no")
//! {"cmd":"expel","member":"0a0b"}
//! {"cmd":"calls"}
//! {"cmd":"call","member":"0a0b","input":"/abs/in.wav","output":"/abs/out.wav","sign":false,"wait":false}
//! {"cmd":"answer","call":"1a2b","input":"/abs/in.wav","output":"/abs/out.wav"}
//! {"cmd":"decline","call":"1a2b"}
//! {"cmd":"hangup","call":"1a2b"}
//! {"cmd":"watch"}
//! {"cmd":"create-cluster","limit":8}                                       (limit optional)
//! {"cmd":"join","addr":"127.0.0.1:7000"}
//! {"cmd":"leave"}
//! {"cmd":"inbox","limit":20}                                               (limit optional)
//! {"cmd":"safety-number","member":"0a0b"}
//! ```
//!
//! `input` and `output` come together or not at all (without: silence in, nothing out);
//! `sign`, `wait`, and the `call` of `answer`, `decline` and `hangup` may be left out. Without
//! a `call`, `answer` and `decline` act on the only incoming call and `hangup` on the only
//! call, and fail if there are none or several.
//!
//! # Replies
//!
//! Each request gets one line: `{"ok":true, ...}` with the fields below, or
//! `{"ok":false,"error":"<what went wrong>"}`. Ids are lowercase hex: members, threads,
//! proposals and calls 32 digits, clusters 16. Durations are whole seconds (`_s`) unless said.
//!
//! | request | fields of a successful reply |
//! |---|---|
//! | `status` | `fingerprint`, `name` (or null), `listen`, `cluster` (or null), `epoch` (or null), `peers` (a count) |
//! | `peers` | `peers`: a list of `{fingerprint, name, addr, last_heard_s}` |
//! | `members` | `cluster`, `epoch`, `epoch_key_age_s`, `members`: a list of `{fingerprint, name, addr, last_heard_s (null for this node), joined_epoch, epoch_key_age_s, this_node}`, `anonymity` (`{anonymity_set, live_members, first_spy_precision, expected_stem_hops, low}` or null) |
//! | `post` | `epoch`, `seq`: where the post stands in this node's posts |
//! | `send-anon` | `thread`, `to`, `signed` |
//! | `reply` | `thread` |
//! | `votes` | `votes`: a list of `{id, kind ("admit" or "expel"), subject, proposer, round, deadline (seconds until the round counts its ballots), state ("open", "accepted", "rejected", "failed"), my_vote ("yes", "no" or null)}` |
//! | `vote` | `proposal`, `choice` |
//! | `expel` | `proposal`, `member` |
//! | `calls` | `calls`: a list of `{call, state ("ringing", "incoming", "active"), role ("caller", "callee"), peer (or null), duration_s, frames_sent, frames_received}` |
//! | `call` | `call`, `to`, `signed`; with `"wait":true`, once the call ends: `call`, `reason`, `frames_sent`, `frames_received`, `heard_s` and `output` (null without files) |
//! | `answer`, `decline`, `hangup` | `call` |
//! | `watch` | `watching: true`, then one line per event, see below |
//! | `create-cluster` | `cluster`, `limit` (or null) |
//! | `join` | `joining` (the contact's address): the join was started; `joined_cluster`, `join_refused` or `join_failed` follows in `watch`, and `status` shows the cluster |
//! | `leave` | `cluster`: the cluster left |
//! | `inbox` | `inbox`: a list, oldest first, of `{kind ("post" or "anon"), direction ("in" or "out"), text, thread (anon only), from, state, at_s}`, see below |
//! | `safety-number` | `fingerprint` (the other member's whole id), `safety_number` (12 groups of 5 digits separated by spaces) |
//!
//! The node keeps the latest 1000 posts and anonymous messages it delivered or sent since it
//! started. In an `inbox` entry, `from` is the author's fingerprint: always for posts (this
//! node's own for its posts), for anonymous messages only if the sender signed (absent
//! otherwise); `state` is there only for this node's anonymous messages: `sent` (not
//! acknowledged yet), `delivered` or `failed`; `at_s` is when the node saw it, in seconds
//! since the node started.
//!
//! The safety number is the same on both sides: `peerster ctl safety-number B` on A and
//! `peerster ctl safety-number A` on B print the same digits, to compare in person. It is
//! derived from the two identity keys (see [`crate::safety_number`]); the member is looked for
//! among the cluster's other members and the verified peers.
//!
//! A `call` with `wait` answers when the call ends, whatever the reason (`reason`: `hung_up`,
//! `declined`, `unanswered`, `lost`, `left_cluster`, or, ended by this node, `hung_up_here`,
//! `declined_here`, `input_ended`, `stopping`); `frames_sent` and `frames_received` are the
//! call's counts as of the node's last turn before it ended, `heard_s` how long the recording
//! written to `output` is.
//!
//! After `watch` the connection streams one line per node event, a JSON object with a `kind`
//! (`peer_verified`, `peer_unreachable`, `peer_lost`, `announcement`, `joined_cluster`,
//! `join_refused`, `join_failed`, `vote_opened`, `vote_closed`, `authority_miscounted`,
//! `epoch_changed`, `removed_from_cluster`, `left_cluster`, `anon_message`, `anon_delivered`,
//! `anon_failed`, `anonymity_low`, `incoming_call`, `call_connected`, `call_ended`, `post`)
//! and the event's fields, ids in hex; voice frames are not streamed. A watcher that does not
//! read is disconnected once 1 MiB waits for it.
//!
//! After `watch`, or a `call` with `wait`, the connection takes no more requests; otherwise a
//! client may send several, one after the other. A line longer than 64 KiB gets an error and
//! the connection is closed; a line that is not JSON, an unknown `cmd` or wrong fields get an
//! error and the connection stays open. At most 16 clients are connected at once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use peerster_core::{AnonOptions, CallOptions};
use serde::{Deserialize, Serialize};

use crate::commands::{CallFiles, Command};
use crate::parse::{IdPrefix, ParseError};

/// One control request, as it travels on the socket (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Request {
    /// This node: id, name, address, cluster, epoch, peer count.
    Status {},
    /// The verified peers.
    Peers {},
    /// The cluster's members and the anonymity estimate.
    Members {},
    /// Post `text` to the cluster.
    Post {
        /// The post.
        text: String,
    },
    /// Send `text` anonymously to `member`.
    SendAnon {
        /// The recipient's id or its first hex digits.
        member: String,
        /// The message.
        text: String,
        /// Whether to sign it.
        #[serde(default)]
        sign: bool,
    },
    /// Send `text` in the anonymous conversation `thread`.
    Reply {
        /// The conversation's id or its first hex digits.
        thread: String,
        /// The message.
        text: String,
    },
    /// The open votes.
    Votes {},
    /// Vote on `proposal`.
    Vote {
        /// The vote's id or its first hex digits.
        proposal: String,
        /// The ballot.
        choice: Choice,
    },
    /// Propose to expel `member`.
    Expel {
        /// The member's id or its first hex digits.
        member: String,
    },
    /// This node's calls.
    Calls {},
    /// Call `member`.
    Call {
        /// The callee's id or its first hex digits.
        member: String,
        /// What this end says: an absolute path to a 48 kHz mono 16-bit WAV file.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<PathBuf>,
        /// Where what this end hears is written: an absolute path.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<PathBuf>,
        /// Whether to reveal the caller to the callee.
        #[serde(default)]
        sign: bool,
        /// Whether to reply only once the call ended, with its report.
        #[serde(default)]
        wait: bool,
    },
    /// Answer an incoming call.
    Answer {
        /// The call's id or its first hex digits; without, the only incoming call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call: Option<String>,
        /// What this end says, as for [`Request::Call`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input: Option<PathBuf>,
        /// Where what this end hears is written, as for [`Request::Call`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<PathBuf>,
    },
    /// Decline an incoming call.
    Decline {
        /// The call's id or its first hex digits; without, the only incoming call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call: Option<String>,
    },
    /// End a call, whatever its state.
    Hangup {
        /// The call's id or its first hex digits; without, the only call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call: Option<String>,
    },
    /// Stream the node's events.
    Watch {},
    /// Found a cluster with this node as its only member.
    CreateCluster {
        /// Most members the cluster may have.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u16>,
    },
    /// Join the cluster of the node at `addr` (the outcome shows in `watch` and `status`).
    Join {
        /// The contact's UDP address, e.g. `127.0.0.1:7000`.
        addr: SocketAddr,
    },
    /// Leave this node's cluster.
    Leave {},
    /// The latest posts and anonymous messages, delivered or sent.
    Inbox {
        /// How many of the latest; all the node keeps (up to 1000) without.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
    /// The safety number this node shares with `member`.
    SafetyNumber {
        /// The member's (or verified peer's) id or its first hex digits.
        member: String,
    },
}

/// A ballot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    /// For.
    Yes,
    /// Against.
    No,
}

/// What a [`Request`] asks the event loop to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Carry out this command and reply with what it did.
    Command(Command),
    /// Carry out this call and reply once it ends.
    CallAndWait(Command),
    /// Stream events.
    Watch,
}

/// Why a request line was refused before reaching the node.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RequestError {
    /// The line is not a request.
    #[error("bad request: {0}")]
    Json(#[from] serde_json::Error),
    /// An id prefix is not one.
    #[error(transparent)]
    Prefix(#[from] ParseError),
    /// One of `input` and `output` without the other.
    #[error("input and output come together: give both or neither")]
    OneFile,
    /// A relative path.
    #[error("{} is not an absolute path", .0.display())]
    RelativePath(PathBuf),
}

/// Parses one request line.
pub(crate) fn parse(line: &[u8]) -> Result<Action, RequestError> {
    let request: Request = serde_json::from_slice(line)?;
    request.into_action()
}

impl Request {
    /// What this request asks the event loop to do, with its ids and paths checked.
    pub(crate) fn into_action(self) -> Result<Action, RequestError> {
        let command = match self {
            Request::Status {} => Command::Status,
            Request::Peers {} => Command::Peers,
            Request::Members {} => Command::Members,
            Request::Post { text } => Command::Post(text),
            Request::SendAnon { member, text, sign } => Command::Anon {
                to: member.parse()?,
                text,
                options: AnonOptions { sign },
            },
            Request::Reply { thread, text } => Command::Reply {
                thread: thread.parse()?,
                text,
            },
            Request::Votes {} => Command::Votes,
            Request::Vote { proposal, choice } => Command::Vote {
                proposal: proposal.parse()?,
                yes: choice == Choice::Yes,
            },
            Request::Expel { member } => Command::Expel {
                member: member.parse()?,
            },
            Request::Calls {} => Command::Calls,
            Request::Call {
                member,
                input,
                output,
                sign,
                wait,
            } => {
                let command = Command::Call {
                    to: member.parse()?,
                    files: files(input, output)?,
                    options: CallOptions { sign },
                };
                return Ok(if wait {
                    Action::CallAndWait(command)
                } else {
                    Action::Command(command)
                });
            }
            Request::Answer {
                call,
                input,
                output,
            } => Command::Answer {
                call: prefix(call)?,
                files: files(input, output)?,
            },
            Request::Decline { call } => Command::Decline {
                call: prefix(call)?,
            },
            Request::Hangup { call } => Command::HangUp {
                call: prefix(call)?,
            },
            Request::Watch {} => return Ok(Action::Watch),
            Request::CreateCluster { limit } => Command::CreateCluster { limit },
            Request::Join { addr } => Command::Join(addr),
            Request::Leave {} => Command::Leave,
            Request::Inbox { limit } => Command::Inbox { limit },
            Request::SafetyNumber { member } => Command::SafetyNumber {
                member: member.parse()?,
            },
        };
        Ok(Action::Command(command))
    }
}

impl Request {
    /// The request that carries out `command` (a line of the node's standard input, as
    /// `peerster tui` takes it) over the control socket; `None` for [`Command::Help`], which
    /// only shows text. Relative call files are made absolute against the current directory.
    pub(crate) fn from_command(command: Command) -> Option<Request> {
        let id = |prefix: IdPrefix| prefix.as_str().to_string();
        Some(match command {
            Command::Status => Request::Status {},
            Command::Peers => Request::Peers {},
            Command::Post(text) => Request::Post { text },
            Command::Anon { to, text, options } => Request::SendAnon {
                member: id(to),
                text,
                sign: options.sign,
            },
            Command::Reply { thread, text } => Request::Reply {
                thread: id(thread),
                text,
            },
            Command::Members => Request::Members {},
            Command::Votes => Request::Votes {},
            Command::Vote { proposal, yes } => Request::Vote {
                proposal: id(proposal),
                choice: if yes { Choice::Yes } else { Choice::No },
            },
            Command::Expel { member } => Request::Expel { member: id(member) },
            Command::Call { to, files, options } => {
                let (input, output) = split_files(files);
                Request::Call {
                    member: id(to),
                    input,
                    output,
                    sign: options.sign,
                    wait: false,
                }
            }
            Command::Answer { call, files } => {
                let (input, output) = split_files(files);
                Request::Answer {
                    call: call.map(id),
                    input,
                    output,
                }
            }
            Command::Decline { call } => Request::Decline { call: call.map(id) },
            Command::HangUp { call } => Request::Hangup { call: call.map(id) },
            Command::Calls => Request::Calls {},
            Command::Help => return None,
            Command::CreateCluster { limit } => Request::CreateCluster { limit },
            Command::Join(addr) => Request::Join { addr },
            Command::Leave => Request::Leave {},
            Command::Inbox { limit } => Request::Inbox { limit },
            Command::SafetyNumber { member } => Request::SafetyNumber { member: id(member) },
        })
    }
}

/// The `input` and `output` of a request for `files`, made absolute.
fn split_files(files: Option<CallFiles>) -> (Option<PathBuf>, Option<PathBuf>) {
    match files {
        Some(CallFiles { input, output }) => {
            (Some(absolute_path(input)), Some(absolute_path(output)))
        }
        None => (None, None),
    }
}

/// `path` made absolute against the current directory (as it is if that fails: the node
/// then refuses it with its reason).
fn absolute_path(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

fn prefix(text: Option<String>) -> Result<Option<IdPrefix>, ParseError> {
    text.map(|text| text.parse()).transpose()
}

fn files(
    input: Option<PathBuf>,
    output: Option<PathBuf>,
) -> Result<Option<CallFiles>, RequestError> {
    match (input, output) {
        (None, None) => Ok(None),
        (Some(input), Some(output)) => {
            absolute(&input)?;
            absolute(&output)?;
            Ok(Some(CallFiles { input, output }))
        }
        _ => Err(RequestError::OneFile),
    }
}

fn absolute(path: &Path) -> Result<(), RequestError> {
    if path.is_absolute() {
        Ok(())
    } else {
        Err(RequestError::RelativePath(path.to_path_buf()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(line: &str) -> Result<Action, String> {
        parse(line.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn requests_become_commands() {
        assert_eq!(
            action(r#"{"cmd":"status"}"#),
            Ok(Action::Command(Command::Status))
        );
        assert_eq!(
            action(r#"{"cmd":"post","text":"hi"}"#),
            Ok(Action::Command(Command::Post("hi".into())))
        );
        assert_eq!(
            action(r#"{"cmd":"vote","proposal":"ABCD","choice":"no"}"#),
            Ok(Action::Command(Command::Vote {
                proposal: "abcd".parse().unwrap(),
                yes: false
            }))
        );
        assert_eq!(
            action(
                r#"{"cmd":"call","member":"0a0b","input":"/i.wav","output":"/o.wav","wait":true}"#
            ),
            Ok(Action::CallAndWait(Command::Call {
                to: "0a0b".parse().unwrap(),
                files: Some(CallFiles {
                    input: "/i.wav".into(),
                    output: "/o.wav".into()
                }),
                options: CallOptions { sign: false },
            }))
        );
        assert_eq!(
            action(r#"{"cmd":"hangup"}"#),
            Ok(Action::Command(Command::HangUp { call: None }))
        );
        assert_eq!(action(r#"{"cmd":"watch"}"#), Ok(Action::Watch));
        assert_eq!(
            action(r#"{"cmd":"join","addr":"127.0.0.1:7000"}"#),
            Ok(Action::Command(Command::Join(
                "127.0.0.1:7000".parse().unwrap()
            )))
        );
        assert_eq!(
            action(r#"{"cmd":"create-cluster"}"#),
            Ok(Action::Command(Command::CreateCluster { limit: None }))
        );
        assert_eq!(
            action(r#"{"cmd":"inbox","limit":3}"#),
            Ok(Action::Command(Command::Inbox { limit: Some(3) }))
        );
        assert_eq!(
            action(r#"{"cmd":"safety-number","member":"0A0B"}"#),
            Ok(Action::Command(Command::SafetyNumber {
                member: "0a0b".parse().unwrap()
            }))
        );
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        for (line, error) in [
            ("garbage", "bad request: "),
            (r#"{"cmd":"frobnicate"}"#, "unknown variant `frobnicate`"),
            (r#"{"text":"hi"}"#, "missing field `cmd`"),
            (r#"{"cmd":"post"}"#, "missing field `text`"),
            (r#"{"cmd":"status","extra":1}"#, "unknown field `extra`"),
            (r#"{"cmd":"expel","member":"12"}"#, "too short"),
            (r#"{"cmd":"expel","member":"zzzz"}"#, "is not an id"),
            (
                r#"{"cmd":"vote","proposal":"abcd","choice":"maybe"}"#,
                "unknown variant `maybe`",
            ),
            (
                r#"{"cmd":"answer","input":"/i.wav"}"#,
                "give both or neither",
            ),
            (
                r#"{"cmd":"call","member":"abcd","input":"i.wav","output":"/o.wav"}"#,
                "i.wav is not an absolute path",
            ),
            ("[1,2]", "bad request"),
            (r#"{"cmd":"join","addr":"nowhere"}"#, "bad request"),
            (r#"{"cmd":"create-cluster","limit":70000}"#, "bad request"),
            (r#"{"cmd":"inbox","limit":-1}"#, "bad request"),
            (r#"{"cmd":"safety-number","member":"xyz1"}"#, "is not an id"),
        ] {
            let got = action(line).unwrap_err();
            assert!(got.contains(error), "{line}: {got}");
        }
    }

    #[test]
    fn commands_of_standard_input_become_the_requests_that_carry_them_out() {
        for line in [
            "hello",
            "/anon 0A0B hi there",
            "/anon-signed 0a0b hi",
            "/reply 1a2b again",
            "/members",
            "/votes",
            "/vote 5e6f yes",
            "/vote 5e6f no",
            "/expel 0a0b",
            "/call 0a0b",
            "/call-signed 0a0b /in.wav /out.wav",
            "/answer 1a2b",
            "/decline 1a2b",
            "/hangup 1a2b",
            "/calls",
            "/status",
            "/peers",
            "/inbox 3",
            "/safety-number 0a0b",
        ] {
            let command = crate::parse::line(line).unwrap();
            let request = Request::from_command(command.clone())
                .unwrap_or_else(|| panic!("{line}: no request"));
            // The node carries the request out as the same command.
            let json = serde_json::to_string(&request).unwrap();
            assert_eq!(action(&json), Ok(Action::Command(command)), "{line}");
        }
        assert_eq!(Request::from_command(Command::Help), None);
        let Some(Request::Call { input, output, .. }) =
            Request::from_command(crate::parse::line("/call 0a0b in.wav out.wav").unwrap())
        else {
            panic!("not a call");
        };
        assert!(input.unwrap().is_absolute());
        assert!(output.unwrap().is_absolute());
    }

    #[test]
    fn requests_round_trip_through_json() {
        let request = Request::Answer {
            call: None,
            input: Some("/i.wav".into()),
            output: Some("/o.wav".into()),
        };
        let line = serde_json::to_string(&request).unwrap();
        assert_eq!(
            line,
            r#"{"cmd":"answer","input":"/i.wav","output":"/o.wav"}"#
        );
        assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), request);
    }
}
