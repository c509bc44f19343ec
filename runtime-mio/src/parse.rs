//! What a line of standard input asks for: a post, or a `/command`.
//!
//! A line that starts with `/` is a command; any other line is posted, and `//` posts the rest
//! of the line with one `/` less (so that a post may start with `/`):
//!
//! | line | command |
//! |---|---|
//! | `/anon MEMBER TEXT` | [`Command::Anon`]: `TEXT` anonymously to the member whose id starts with `MEMBER` |
//! | `/anon-signed MEMBER TEXT` | the same, signed: the recipient sees who sent it |
//! | `/reply THREAD TEXT` | [`Command::Reply`]: `TEXT` in the known thread whose id starts with `THREAD` |
//! | `/members` | [`Command::Members`]: the member table and the anonymity estimate |
//! | `/votes` | [`Command::Votes`]: the open votes |
//! | `/vote PROPOSAL yes` or `no` | [`Command::Vote`]: a ballot on the open vote whose id starts with `PROPOSAL` |
//! | `/expel MEMBER` | [`Command::Expel`]: proposes to expel the member whose id starts with `MEMBER` |
//! | `/call MEMBER [IN.wav OUT.wav]` | [`Command::Call`]: calls the member whose id starts with `MEMBER`, saying `IN.wav` and recording into `OUT.wav` |
//! | `/call-signed MEMBER [IN.wav OUT.wav]` | the same, signed: the callee sees who calls |
//! | `/answer CALL [IN.wav OUT.wav]` | [`Command::Answer`]: answers the incoming call whose id starts with `CALL` |
//! | `/decline CALL` | [`Command::Decline`]: declines it |
//! | `/hangup CALL` | [`Command::HangUp`]: ends the call whose id starts with `CALL` |
//! | `/calls` | [`Command::Calls`]: the calls in progress |
//! | `/status` | [`Command::Status`]: this node's id, name, address, cluster and peer count |
//! | `/peers` | [`Command::Peers`]: the verified peers |
//! | `/inbox [N]` | [`Command::Inbox`]: the latest `N` posts and anonymous messages, received and sent |
//! | `/safety-number MEMBER` | [`Command::SafetyNumber`]: the code shared with the member (or verified peer) whose id starts with `MEMBER` |
//! | `/help` | [`Command::Help`]: these commands |
//!
//! `MEMBER`, `THREAD`, `PROPOSAL` and `CALL` are [`IdPrefix`]es: the first 4 to 32 hex digits
//! of the id (ids are printed as their first 8). Which id a prefix names is decided by the
//! runtime, among the members of the cluster, the threads it has seen, the open votes or the
//! node's calls ([`resolve`]). The two files of `/call` and `/answer` come together or not at
//! all; a path is one word (no spaces).

use std::fmt;
use std::path::PathBuf;

use peerster_core::{AnonOptions, CallOptions};
use thiserror::Error;

use crate::commands::{CallFiles, Command};

/// The lines `/help` shows.
pub(crate) const HELP: &[&str] = &[
    "/anon MEMBER TEXT         send TEXT anonymously to the member whose id starts with MEMBER",
    "/anon-signed MEMBER TEXT  the same, signed: the recipient sees who sent it",
    "/reply THREAD TEXT        send TEXT in the anonymous thread whose id starts with THREAD",
    "/members                  the cluster's members and how well a message would hide",
    "/votes                    the open votes: who asks to join, who is proposed for expulsion",
    "/vote PROPOSAL yes|no     vote on the open vote whose id starts with PROPOSAL",
    "/expel MEMBER             propose to expel the member whose id starts with MEMBER",
    "/call MEMBER [IN.wav OUT.wav]  call the member whose id starts with MEMBER: say IN.wav (48 kHz mono 16-bit; hangs up 1 s after its end), record what is heard into OUT.wav",
    "/call-signed MEMBER [IN.wav OUT.wav]  the same, signed: the callee sees who calls",
    "/answer CALL [IN.wav OUT.wav]  answer the incoming call whose id starts with CALL",
    "/decline CALL             decline the incoming call whose id starts with CALL",
    "/hangup CALL              end the call whose id starts with CALL",
    "/calls                    the calls in progress: state, role, peer, frames sent and received",
    "/status                   this node: id, name, address, cluster, epoch, peer count",
    "/peers                    the verified peers",
    "/inbox [N]                the latest N (default all kept) posts and anonymous messages, received and sent",
    "/safety-number MEMBER     the code to compare in person with the member whose id starts with MEMBER",
    "/help                     these commands",
    "MEMBER, THREAD, PROPOSAL, CALL: the first 4 or more hex digits of an id (see /members, /votes, /calls, [anon] and [call] lines)",
    "other lines are posted to the cluster; // posts a line that starts with /",
];

const ANON_USAGE: &str = "/anon MEMBER TEXT";
const ANON_SIGNED_USAGE: &str = "/anon-signed MEMBER TEXT";
const REPLY_USAGE: &str = "/reply THREAD TEXT";
const VOTE_USAGE: &str = "/vote PROPOSAL yes|no";
const EXPEL_USAGE: &str = "/expel MEMBER";
const CALL_USAGE: &str = "/call MEMBER [IN.wav OUT.wav]";
const CALL_SIGNED_USAGE: &str = "/call-signed MEMBER [IN.wav OUT.wav]";
const ANSWER_USAGE: &str = "/answer CALL [IN.wav OUT.wav]";
const DECLINE_USAGE: &str = "/decline CALL";
const HANGUP_USAGE: &str = "/hangup CALL";
const INBOX_USAGE: &str = "/inbox [N]";
const SAFETY_NUMBER_USAGE: &str = "/safety-number MEMBER";

/// The command a line of standard input asks for (a post unless it starts with `/`).
pub(crate) fn line(line: &str) -> Result<Command, ParseError> {
    let Some(command) = line.strip_prefix('/') else {
        return Ok(Command::Post(line.to_string()));
    };
    if command.starts_with('/') {
        return Ok(Command::Post(command.to_string()));
    }
    let (name, args) = split_word(command);
    match name {
        "anon" | "anon-signed" => {
            let sign = name == "anon-signed";
            let usage = if sign { ANON_SIGNED_USAGE } else { ANON_USAGE };
            let (to, text) = prefix_and_text(args, usage)?;
            Ok(Command::Anon {
                to,
                text,
                options: AnonOptions { sign },
            })
        }
        "reply" => {
            let (thread, text) = prefix_and_text(args, REPLY_USAGE)?;
            Ok(Command::Reply { thread, text })
        }
        "members" => no_args(args, "/members").map(|()| Command::Members),
        "votes" => no_args(args, "/votes").map(|()| Command::Votes),
        "vote" => {
            let (proposal, choice) = split_word(args);
            let yes = match choice.trim_end() {
                "yes" => true,
                "no" => false,
                _ => return Err(ParseError::Usage(VOTE_USAGE)),
            };
            Ok(Command::Vote {
                proposal: proposal.parse()?,
                yes,
            })
        }
        "expel" => Ok(Command::Expel {
            member: one_prefix(args, EXPEL_USAGE)?,
        }),
        "call" | "call-signed" => {
            let sign = name == "call-signed";
            let usage = if sign { CALL_SIGNED_USAGE } else { CALL_USAGE };
            let (to, files) = prefix_and_files(args, usage)?;
            Ok(Command::Call {
                to,
                files,
                options: CallOptions { sign },
            })
        }
        "answer" => {
            let (call, files) = prefix_and_files(args, ANSWER_USAGE)?;
            Ok(Command::Answer {
                call: Some(call),
                files,
            })
        }
        "decline" => Ok(Command::Decline {
            call: Some(one_prefix(args, DECLINE_USAGE)?),
        }),
        "hangup" => Ok(Command::HangUp {
            call: Some(one_prefix(args, HANGUP_USAGE)?),
        }),
        "calls" => no_args(args, "/calls").map(|()| Command::Calls),
        "status" => no_args(args, "/status").map(|()| Command::Status),
        "peers" => no_args(args, "/peers").map(|()| Command::Peers),
        "help" => no_args(args, "/help").map(|()| Command::Help),
        "inbox" => match args.trim() {
            "" => Ok(Command::Inbox { limit: None }),
            n => n
                .parse()
                .map(|limit| Command::Inbox { limit: Some(limit) })
                .map_err(|_| ParseError::Usage(INBOX_USAGE)),
        },
        "safety-number" => Ok(Command::SafetyNumber {
            member: one_prefix(args, SAFETY_NUMBER_USAGE)?,
        }),
        _ => Err(ParseError::Unknown(name.to_string())),
    }
}

/// The first word of `text` and the rest, with the whitespace between them removed.
fn split_word(text: &str) -> (&str, &str) {
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim_start()),
        None => (text, ""),
    }
}

fn prefix_and_text(args: &str, usage: &'static str) -> Result<(IdPrefix, String), ParseError> {
    let (prefix, text) = split_word(args);
    if prefix.is_empty() || text.trim().is_empty() {
        return Err(ParseError::Usage(usage));
    }
    Ok((prefix.parse()?, text.to_string()))
}

/// Exactly one id prefix.
fn one_prefix(args: &str, usage: &'static str) -> Result<IdPrefix, ParseError> {
    let (prefix, rest) = split_word(args);
    if prefix.is_empty() || !rest.trim().is_empty() {
        return Err(ParseError::Usage(usage));
    }
    prefix.parse()
}

/// An id prefix, then either nothing or an input and an output file.
fn prefix_and_files(
    args: &str,
    usage: &'static str,
) -> Result<(IdPrefix, Option<CallFiles>), ParseError> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let (prefix, files) = match words[..] {
        [prefix] => (prefix, None),
        [prefix, input, output] => (
            prefix,
            Some(CallFiles {
                input: PathBuf::from(input),
                output: PathBuf::from(output),
            }),
        ),
        _ => return Err(ParseError::Usage(usage)),
    };
    Ok((prefix.parse()?, files))
}

fn no_args(args: &str, usage: &'static str) -> Result<(), ParseError> {
    if args.trim().is_empty() {
        Ok(())
    } else {
        Err(ParseError::Usage(usage))
    }
}

/// Why a `/command` line was not carried out.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The command is not one of those `/help` lists.
    #[error("unknown command /{0}: /help lists the commands")]
    Unknown(String),
    /// The command lacks an argument or has one too many.
    #[error("usage: {0}")]
    Usage(&'static str),
    /// An id prefix has a character that is not a hex digit.
    #[error("{0:?} is not an id: ids are hex digits (0-9, a-f)")]
    NotHex(String),
    /// An id prefix is shorter than [`IdPrefix::MIN`].
    #[error("id prefix {0:?} is too short: type at least 4 hex digits")]
    PrefixTooShort(String),
    /// An id prefix is longer than an id.
    #[error("id prefix {0:?} is longer than an id (32 hex digits)")]
    PrefixTooLong(String),
}

/// The first hex digits of a member or thread id, as a user types it: [`IdPrefix::MIN`] to
/// [`IdPrefix::MAX`] hex digits, in either case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdPrefix(String);

impl IdPrefix {
    /// The fewest hex digits a prefix has (16 bits: ambiguity stays rare).
    pub const MIN: usize = 4;
    /// The most hex digits a prefix has: a whole 16-byte id.
    pub const MAX: usize = 32;

    /// The prefix, in lowercase hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `id` starts with this prefix.
    pub fn matches(&self, id: &[u8; 16]) -> bool {
        hex(id).starts_with(&self.0)
    }
}

impl std::str::FromStr for IdPrefix {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<IdPrefix, ParseError> {
        if !text.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(ParseError::NotHex(text.to_string()));
        }
        match text.len() {
            n if n < IdPrefix::MIN => Err(ParseError::PrefixTooShort(text.to_string())),
            n if n > IdPrefix::MAX => Err(ParseError::PrefixTooLong(text.to_string())),
            _ => Ok(IdPrefix(text.to_ascii_lowercase())),
        }
    }
}

impl fmt::Display for IdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an [`IdPrefix`] names no id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unresolved {
    /// No id starts with it.
    None,
    /// This many ids start with it.
    Several(usize),
}

/// The one id among `ids` (distinct ids) that starts with `prefix`.
pub(crate) fn resolve(
    prefix: &IdPrefix,
    ids: impl IntoIterator<Item = [u8; 16]>,
) -> Result<[u8; 16], Unresolved> {
    let mut matching = ids.into_iter().filter(|id| prefix.matches(id));
    let first = matching.next().ok_or(Unresolved::None)?;
    match matching.count() {
        0 => Ok(first),
        others => Err(Unresolved::Several(others + 1)),
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(text: &str) -> IdPrefix {
        text.parse().unwrap()
    }

    fn id(first: &[u8]) -> [u8; 16] {
        let mut id = [0x77; 16];
        id[..first.len()].copy_from_slice(first);
        id
    }

    #[test]
    fn lines_without_a_slash_are_posts() {
        for text in ["hello", " /anon abcd hi", "anon abcd hi", "a/b"] {
            assert_eq!(line(text), Ok(Command::Post(text.to_string())));
        }
        assert_eq!(line("//etc/hosts"), Ok(Command::Post("/etc/hosts".into())));
    }

    #[test]
    fn commands_parse_into_typed_commands() {
        assert_eq!(
            line("/anon 1A2b hello,  world "),
            Ok(Command::Anon {
                to: prefix("1a2b"),
                text: "hello,  world ".into(),
                options: AnonOptions { sign: false },
            })
        );
        assert_eq!(
            line("/anon-signed\t1a2b3c4d   it is me"),
            Ok(Command::Anon {
                to: prefix("1a2b3c4d"),
                text: "it is me".into(),
                options: AnonOptions { sign: true },
            })
        );
        assert_eq!(
            line("/reply 0123456789abcdef0123456789ABCDEF hi"),
            Ok(Command::Reply {
                thread: prefix("0123456789abcdef0123456789abcdef"),
                text: "hi".into(),
            })
        );
        assert_eq!(line("/members"), Ok(Command::Members));
        assert_eq!(line("/members  "), Ok(Command::Members));
        assert_eq!(line("/help"), Ok(Command::Help));
    }

    #[test]
    fn inbox_and_safety_number_parse_into_typed_commands() {
        assert_eq!(line("/inbox"), Ok(Command::Inbox { limit: None }));
        assert_eq!(line("/inbox 5 "), Ok(Command::Inbox { limit: Some(5) }));
        assert_eq!(line("/inbox five"), Err(ParseError::Usage("/inbox [N]")));
        assert_eq!(
            line("/safety-number 0A0b"),
            Ok(Command::SafetyNumber {
                member: prefix("0a0b")
            })
        );
        assert_eq!(
            line("/safety-number"),
            Err(ParseError::Usage("/safety-number MEMBER"))
        );
    }

    #[test]
    fn vote_commands_parse_into_typed_commands() {
        assert_eq!(line("/votes"), Ok(Command::Votes));
        assert_eq!(line("/votes "), Ok(Command::Votes));
        assert_eq!(
            line("/vote 1A2b yes"),
            Ok(Command::Vote {
                proposal: prefix("1a2b"),
                yes: true,
            })
        );
        assert_eq!(
            line("/vote\t1a2b3c4d   no "),
            Ok(Command::Vote {
                proposal: prefix("1a2b3c4d"),
                yes: false,
            })
        );
        assert_eq!(
            line("/expel 0A0B0C"),
            Ok(Command::Expel {
                member: prefix("0a0b0c"),
            })
        );
        assert_eq!(
            line("/expel 0a0b "),
            Ok(Command::Expel {
                member: prefix("0a0b"),
            })
        );
    }

    #[test]
    fn call_commands_parse_into_typed_commands() {
        let files = |input: &str, output: &str| {
            Some(CallFiles {
                input: input.into(),
                output: output.into(),
            })
        };
        assert_eq!(
            line("/call 1A2b"),
            Ok(Command::Call {
                to: prefix("1a2b"),
                files: None,
                options: CallOptions { sign: false },
            })
        );
        assert_eq!(
            line("/call-signed\t1a2b3c  me.wav  /tmp/heard.wav "),
            Ok(Command::Call {
                to: prefix("1a2b3c"),
                files: files("me.wav", "/tmp/heard.wav"),
                options: CallOptions { sign: true },
            })
        );
        assert_eq!(
            line("/answer 9F8e in.wav out.wav"),
            Ok(Command::Answer {
                call: Some(prefix("9f8e")),
                files: files("in.wav", "out.wav"),
            })
        );
        assert_eq!(
            line("/answer 9f8e"),
            Ok(Command::Answer {
                call: Some(prefix("9f8e")),
                files: None,
            })
        );
        assert_eq!(
            line("/decline 9f8e "),
            Ok(Command::Decline {
                call: Some(prefix("9f8e")),
            })
        );
        assert_eq!(
            line("/hangup 9f8e7d"),
            Ok(Command::HangUp {
                call: Some(prefix("9f8e7d")),
            })
        );
        assert_eq!(line("/calls"), Ok(Command::Calls));
    }

    #[test]
    fn bad_commands_say_what_is_wrong() {
        let cases = [
            ("/", "unknown command /: /help lists the commands"),
            (
                "/anonymous abcd hi",
                "unknown command /anonymous: /help lists the commands",
            ),
            ("/Help", "unknown command /Help: /help lists the commands"),
            ("/anon", "usage: /anon MEMBER TEXT"),
            ("/anon abcd", "usage: /anon MEMBER TEXT"),
            ("/anon abcd   ", "usage: /anon MEMBER TEXT"),
            ("/anon-signed abcd", "usage: /anon-signed MEMBER TEXT"),
            ("/reply", "usage: /reply THREAD TEXT"),
            ("/members all", "usage: /members"),
            ("/help me", "usage: /help"),
            ("/votes all", "usage: /votes"),
            ("/vote", "usage: /vote PROPOSAL yes|no"),
            ("/vote 1a2b", "usage: /vote PROPOSAL yes|no"),
            ("/vote yes", "usage: /vote PROPOSAL yes|no"),
            ("/vote 1a2b maybe", "usage: /vote PROPOSAL yes|no"),
            ("/vote 1a2b YES", "usage: /vote PROPOSAL yes|no"),
            ("/vote 1a2b yes no", "usage: /vote PROPOSAL yes|no"),
            ("/expel", "usage: /expel MEMBER"),
            ("/expel 0a0b now", "usage: /expel MEMBER"),
            ("/call", "usage: /call MEMBER [IN.wav OUT.wav]"),
            ("/call 1a2b in.wav", "usage: /call MEMBER [IN.wav OUT.wav]"),
            (
                "/call 1a2b in.wav out.wav more.wav",
                "usage: /call MEMBER [IN.wav OUT.wav]",
            ),
            (
                "/call-signed 1a2b in.wav",
                "usage: /call-signed MEMBER [IN.wav OUT.wav]",
            ),
            ("/answer", "usage: /answer CALL [IN.wav OUT.wav]"),
            (
                "/answer 1a2b in.wav",
                "usage: /answer CALL [IN.wav OUT.wav]",
            ),
            ("/decline", "usage: /decline CALL"),
            ("/decline 1a2b now", "usage: /decline CALL"),
            ("/hangup", "usage: /hangup CALL"),
            ("/calls all", "usage: /calls"),
            (
                "/call bob in.wav out.wav",
                r#""bob" is not an id: ids are hex digits (0-9, a-f)"#,
            ),
            (
                "/answer 1a2 in.wav out.wav",
                r#"id prefix "1a2" is too short: type at least 4 hex digits"#,
            ),
            (
                "/vote 1a2x yes",
                r#""1a2x" is not an id: ids are hex digits (0-9, a-f)"#,
            ),
            (
                "/vote 1a2 no",
                r#"id prefix "1a2" is too short: type at least 4 hex digits"#,
            ),
            (
                "/expel carol",
                r#""carol" is not an id: ids are hex digits (0-9, a-f)"#,
            ),
            (
                "/anon bob hi",
                r#""bob" is not an id: ids are hex digits (0-9, a-f)"#,
            ),
            (
                "/reply 12g4 hi",
                r#""12g4" is not an id: ids are hex digits (0-9, a-f)"#,
            ),
            (
                "/anon abc hi",
                r#"id prefix "abc" is too short: type at least 4 hex digits"#,
            ),
            (
                &format!("/reply {} hi", "a".repeat(33)),
                &format!(
                    "id prefix {:?} is longer than an id (32 hex digits)",
                    "a".repeat(33)
                ),
            ),
        ];
        for (text, error) in cases {
            assert_eq!(line(text).unwrap_err().to_string(), error, "{text}");
        }
    }

    #[test]
    fn a_prefix_names_exactly_one_id() {
        let ids = [
            id(&[0x1a, 0x2b, 0x3c]),
            id(&[0x1a, 0x2b, 0x4d]),
            id(&[0xff]),
        ];
        assert_eq!(resolve(&prefix("1a2b3"), ids), Ok(ids[0]));
        assert_eq!(resolve(&prefix("1A2B4D"), ids), Ok(ids[1]));
        assert_eq!(resolve(&prefix("ff77"), ids), Ok(ids[2]));
        assert_eq!(resolve(&prefix(&hex(&ids[0])), ids), Ok(ids[0]));
        assert_eq!(resolve(&prefix("1a2b"), ids), Err(Unresolved::Several(2)));
        assert_eq!(resolve(&prefix("2b3c"), ids), Err(Unresolved::None));
        assert_eq!(resolve(&prefix("abcd"), []), Err(Unresolved::None));
    }

    #[test]
    fn ids_are_lowercase_hex() {
        assert_eq!(hex(&[0x01, 0xab, 0xff]), "01abff");
        assert!(prefix("01AB").matches(&id(&[0x01, 0xab])));
        assert!(!prefix("01ac").matches(&id(&[0x01, 0xab])));
    }
}
