//! How the node's events read as lines for the user: one line each, stable enough for scripts
//! and tests to match on.
//!
//! | event | line |
//! |---|---|
//! | [`Event::Post`] | `[post] <author short id>: <text>` |
//! | [`Event::JoinedCluster`] | `[cluster] joined <cluster>, epoch N, M members` |
//! | [`Event::EpochChanged`] | `[cluster] epoch N, M members` then ` (+id, -id)` if some joined or left |
//! | [`Event::JoinRefused`] | `[cluster] join refused by <addr>: <reason>` |
//! | [`Event::JoinFailed`] | `[cluster] join failed: no answer from <addr>` |
//! | [`Event::VoteOpened`] | `[vote] <proposal>: admit <id>` or `expel <id>`, `proposed by <id>` |
//! | [`Event::VoteClosed`] | `[vote] <proposal>: accepted`, `rejected` or `failed` |
//! | [`Event::AuthorityMiscounted`] | `[vote] <proposal>: authority <id> miscounted` |
//! | [`Event::RemovedFromCluster`] | `[cluster] removed from <cluster>` |
//! | [`Event::LeftCluster`] | `[cluster] left <cluster>` |
//! | [`Event::AnonMessage`] | `[anon] thread <thread> from anonymous: <text>`, or `from <sender id>` if signed |
//! | [`Event::AnonDelivered`] | `[anon] thread <thread> delivered` |
//! | [`Event::AnonFailed`] | `[anon] thread <thread> failed: <reason>` |
//! | [`Event::AnonymityLow`] | `[anon] warning: only N members to hide among (below M)` |
//!
//! Call events (`[call] ...`) have lines too, made in the `call` submodule: their wording
//! depends on what the runtime did (why it hung up, which file it wrote).
//!
//! `<thread>` is the first 8 hex digits of the conversation's id, what `/reply` takes (the
//! same at both ends). Other events (peers, announcements, voice frames) have no line: they
//! are logged.
//! Text from other nodes is shown with its control characters escaped, so that a post can
//! neither span lines nor drive the terminal.
//!
//! Commands typed on standard input show lines too:
//!
//! | command | lines |
//! |---|---|
//! | `/anon`, `/anon-signed` | `[anon] thread <thread> sent to <member id>`, then `, signed` if signed |
//! | `/reply` | `[anon] thread <thread> reply sent` |
//! | `/members` | `[members] cluster <cluster>, epoch N, M members`, then one line per member: `[members] <full id> <addr> heard N s ago` (`this node` for itself), then `[members] anonymity: N members to hide among (L live), first-spy precision P, S stem hops expected` and `, below the minimum of M` if low |
//! | `/votes` | one line per open vote: `[votes] <proposal> admit <id>` or `expel <id>`, then `, proposed by <id>, round N, deadline in S s` (or `deadline passed`), `, open` or `, decided: accepted` (`rejected`, `failed`), `, my vote: yes` (`no`, `none`); `[votes] no open votes` if none |
//! | `/vote` | `[vote] <proposal>: voted yes` or `voted no` |
//! | `/expel` | `[vote] <proposal>: expel <member id> proposed` |
//! | `/call`, `/answer`, `/calls` ... | see the `call` submodule |
//! | `/status` | `[status] <full id> [<name>] listening on <addr>, cluster <cluster>, epoch N, P peers` (`no cluster`) |
//! | `/peers` | one line per peer: `[peers] <full id> <addr> heard N s ago`; `[peers] no peers` if none |
//! | `/help` | `[help] <command and what it does>`, one line each |

use std::borrow::Cow;
use std::fmt::Write;
use std::net::SocketAddr;
use std::time::Duration;

use peerster_core::ids::{ClusterId, MemberId};
use peerster_core::wire::anon::ThreadId;
use peerster_core::wire::vote::{ProposalId, ProposalKind};
use peerster_core::{
    AnonFailure, AnonOptions, AnonymityEstimate, ClusterInfo, Event, Timestamp, VoteInfo,
    VoteOutcome, VoteState,
};

use crate::outcome::Outcome;
use crate::parse::{self, hex};

mod call;
mod inbox;

pub(crate) use call::{
    LocalEnd, calling_line, calls_lines, connected_line, ended_line, incoming_line, recorded_line,
};

/// The line that shows `event` to the user, if it has one.
pub(crate) fn event_line(event: &Event) -> Option<String> {
    let line = match event {
        Event::Post { author, text, .. } => format!("[post] {author}: {}", escape(text)),
        Event::JoinedCluster {
            cluster,
            epoch,
            members,
        } => format!("[cluster] joined {cluster}, epoch {epoch}, {members} members"),
        Event::EpochChanged {
            epoch,
            members,
            added,
            removed,
            ..
        } => {
            let mut line = format!("[cluster] epoch {epoch}, {members} members");
            let changes: Vec<String> = (added.iter().map(|id| format!("+{id}")))
                .chain(removed.iter().map(|id| format!("-{id}")))
                .collect();
            if !changes.is_empty() {
                let _ = write!(line, " ({})", changes.join(", "));
            }
            line
        }
        Event::JoinRefused { contact, reason } => {
            format!("[cluster] join refused by {contact}: {reason}")
        }
        Event::JoinFailed { contact } => format!("[cluster] join failed: no answer from {contact}"),
        Event::VoteOpened {
            proposal,
            kind,
            subject,
            proposer,
            ..
        } => {
            let what = kind_word(kind);
            format!("[vote] {proposal}: {what} {subject}, proposed by {proposer}")
        }
        Event::VoteClosed {
            proposal, outcome, ..
        } => format!("[vote] {proposal}: {}", outcome_word(*outcome)),
        Event::AuthorityMiscounted {
            proposal,
            authority,
        } => format!("[vote] {proposal}: authority {authority} miscounted"),
        Event::RemovedFromCluster { cluster } => format!("[cluster] removed from {cluster}"),
        Event::LeftCluster { cluster } => format!("[cluster] left {cluster}"),
        Event::AnonMessage {
            thread, text, from, ..
        } => {
            let from = from.map_or_else(|| "anonymous".to_string(), |id| id.to_string());
            format!(
                "[anon] thread {} from {from}: {}",
                short(thread),
                escape(text)
            )
        }
        Event::AnonDelivered { thread, .. } => format!("[anon] thread {} delivered", short(thread)),
        Event::AnonFailed { thread, reason, .. } => {
            format!(
                "[anon] thread {} failed: {}",
                short(thread),
                failure(*reason)
            )
        }
        Event::AnonymityLow {
            anonymity_set,
            threshold,
        } => format!(
            "[anon] warning: only {anonymity_set} members to hide among (below {threshold})"
        ),
        _ => return None,
    };
    Some(line)
}

/// The lines that show what a command did (none for a post, an answer, a decline or a
/// hang-up: their events say it).
pub(crate) fn outcome_lines(outcome: &Outcome) -> Vec<String> {
    match outcome {
        Outcome::Status(status) => {
            let name = status
                .name
                .as_deref()
                .map_or_else(String::new, |n| format!(" {}", escape(n)));
            let cluster = match status.cluster {
                Some((cluster, epoch)) => format!("cluster {cluster}, epoch {epoch}"),
                None => "no cluster".to_string(),
            };
            vec![format!(
                "[status] {}{name} listening on {}, {cluster}, {} peers",
                hex(&status.id.0),
                status.listen,
                status.peers
            )]
        }
        Outcome::Peers(peers) if peers.is_empty() => vec!["[peers] no peers".to_string()],
        Outcome::Peers(peers) => peers
            .iter()
            .map(|peer| {
                format!(
                    "[peers] {} {} heard {} s ago",
                    hex(&peer.id.0),
                    peer.addr,
                    peer.last_heard_s
                )
            })
            .collect(),
        Outcome::Posted(_)
        | Outcome::Answered { .. }
        | Outcome::Declined { .. }
        | Outcome::HungUp { .. } => Vec::new(),
        Outcome::AnonSent { thread, to, signed } => {
            vec![anon_sent_line(thread, *to, AnonOptions { sign: *signed })]
        }
        Outcome::ReplySent { thread } => vec![reply_sent_line(thread)],
        Outcome::Members(members) => members_lines(
            &members.cluster,
            members.me,
            members.now,
            members.estimate.as_ref(),
            members.min_set,
        ),
        Outcome::Votes { votes, now } => votes_lines(votes, *now),
        Outcome::Voted { proposal, yes } => vec![voted_line(proposal, *yes)],
        Outcome::ExpelProposed { proposal, member } => {
            vec![expel_proposed_line(proposal, *member)]
        }
        Outcome::Calling { call, to, signed } => vec![calling_line(
            call,
            *to,
            peerster_core::CallOptions { sign: *signed },
        )],
        Outcome::Calls { calls, now } => calls_lines(calls, *now),
        Outcome::Help => help_lines().collect(),
        Outcome::ClusterCreated { cluster, limit } => vec![created_line(*cluster, *limit)],
        Outcome::JoinStarted { contact } => vec![inbox::joining_line(*contact)],
        // The `left` event's line says it.
        Outcome::Left { .. } => Vec::new(),
        Outcome::Inbox { entries, .. } => inbox::inbox_lines(entries),
        Outcome::SafetyNumber { member, number } => {
            vec![inbox::safety_number_line(*member, number)]
        }
    }
}

/// The line for an anonymous message this node sent to `to`, opening `thread`.
pub(crate) fn anon_sent_line(thread: &ThreadId, to: MemberId, options: AnonOptions) -> String {
    let signed = if options.sign { ", signed" } else { "" };
    format!("[anon] thread {} sent to {to}{signed}", short(thread))
}

/// The line for a reply this node sent in `thread`.
pub(crate) fn reply_sent_line(thread: &ThreadId) -> String {
    format!("[anon] thread {} reply sent", short(thread))
}

/// The lines of `/members`: the cluster, its members (`me` is this node) with how long ago
/// (before `now`) each was heard from, and the anonymity `estimate` against the minimum
/// anonymity set `min_set`.
pub(crate) fn members_lines(
    cluster: &ClusterInfo,
    me: MemberId,
    now: Timestamp,
    estimate: Option<&AnonymityEstimate>,
    min_set: usize,
) -> Vec<String> {
    let mut lines = vec![format!(
        "[members] cluster {}, epoch {}, {} members",
        cluster.id,
        cluster.epoch,
        cluster.members.len()
    )];
    for member in &cluster.members {
        let heard = (member.id != me).then(|| now.saturating_since(member.last_heard));
        lines.push(member_line(member.id, member.addr, heard));
    }
    if let Some(estimate) = estimate {
        lines.push(anonymity_line(estimate, min_set));
    }
    lines
}

/// One member of the table: its whole id (any 4 or more of its first digits name it), its
/// address, and how long ago it was heard from (`None` for this node).
fn member_line(id: MemberId, addr: SocketAddr, heard: Option<Duration>) -> String {
    match heard {
        Some(ago) => format!(
            "[members] {} {addr} heard {} s ago",
            hex(&id.0),
            ago.as_secs()
        ),
        None => format!("[members] {} {addr} this node", hex(&id.0)),
    }
}

fn anonymity_line(estimate: &AnonymityEstimate, min_set: usize) -> String {
    let mut line = format!(
        "[members] anonymity: {} members to hide among ({} live), first-spy precision {:.2}, \
         {:.1} stem hops expected",
        estimate.anonymity_set,
        estimate.live_members,
        estimate.first_spy_precision,
        estimate.expected_stem_hops
    );
    if estimate.low {
        let _ = write!(line, ", below the minimum of {min_set}");
    }
    line
}

/// The lines of `/votes`: one per open vote, with its deadline counted from `now`.
pub(crate) fn votes_lines(votes: &[VoteInfo], now: Timestamp) -> Vec<String> {
    if votes.is_empty() {
        return vec!["[votes] no open votes".to_string()];
    }
    votes.iter().map(|vote| vote_line(vote, now)).collect()
}

fn vote_line(vote: &VoteInfo, now: Timestamp) -> String {
    let deadline = if vote.deadline > now {
        // Rounded up: a vote due in 0.4 s is not due "in 0 s".
        let left = vote.deadline.saturating_since(now);
        format!("deadline in {} s", left.as_millis().div_ceil(1000))
    } else {
        "deadline passed".to_string()
    };
    let state = match vote.state {
        VoteState::Open => "open".to_string(),
        VoteState::Decided(outcome) => format!("decided: {}", outcome_word(outcome)),
    };
    let mine = match vote.my_vote {
        Some(true) => "yes",
        Some(false) => "no",
        None => "none",
    };
    format!(
        "[votes] {} {} {}, proposed by {}, round {}, {deadline}, {state}, my vote: {mine}",
        vote.id,
        kind_word(&vote.kind),
        vote.subject,
        vote.proposer,
        vote.round
    )
}

/// The line for this node's ballot on `proposal`.
pub(crate) fn voted_line(proposal: &ProposalId, yes: bool) -> String {
    let choice = if yes { "yes" } else { "no" };
    format!("[vote] {proposal}: voted {choice}")
}

/// The line for the vote this node opened to expel `member`.
pub(crate) fn expel_proposed_line(proposal: &ProposalId, member: MemberId) -> String {
    format!("[vote] {proposal}: expel {member} proposed")
}

/// What a proposal proposes, in a word.
fn kind_word(kind: &ProposalKind) -> &'static str {
    match kind {
        ProposalKind::Admit { .. } => "admit",
        ProposalKind::Expel { .. } => "expel",
    }
}

/// How a vote ended, in a word.
fn outcome_word(outcome: VoteOutcome) -> &'static str {
    match outcome {
        VoteOutcome::Accepted => "accepted",
        VoteOutcome::Rejected => "rejected",
        VoteOutcome::Failed => "failed",
    }
}

/// The lines of `/help`.
pub(crate) fn help_lines() -> impl Iterator<Item = String> {
    parse::HELP.iter().map(|line| format!("[help] {line}"))
}

/// A thread (or a call) as it is shown: the first 8 hex digits of its id, like a member id.
pub(crate) fn short(thread: &ThreadId) -> String {
    hex(&thread[..4])
}

/// Why an anonymous message was given up, in words.
fn failure(reason: AnonFailure) -> Cow<'static, str> {
    match reason {
        AnonFailure::NoAcknowledgement => "no acknowledgement".into(),
        AnonFailure::RecipientGone => "the recipient left the cluster".into(),
        other => format!("{other:?}").into(),
    }
}

/// The first line of a run: who this node is and where it listens.
pub(crate) fn node_line(id: MemberId, addr: SocketAddr) -> String {
    format!("[node] {id} listening on {addr}")
}

/// The line for a cluster this node founded.
pub(crate) fn created_line(cluster: ClusterId, limit: Option<u16>) -> String {
    match limit {
        Some(limit) => format!("[cluster] created {cluster}, limit {limit} members"),
        None => format!("[cluster] created {cluster}"),
    }
}

/// `text` with control characters (line breaks, escape sequences) and bidirectional overrides
/// written as Rust escapes (`\n`, `\u{1b}`), so that it stays on one line and cannot restyle
/// the terminal.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use peerster_core::MemberInfo;
    use peerster_core::crypto::IdentityKey;
    use peerster_core::ids::Epoch;
    use peerster_core::wire::cluster::{PostPosition, RefusalReason};

    use super::*;

    const CLUSTER: ClusterId = ClusterId(0xab);

    fn id(byte: u8) -> MemberId {
        MemberId([byte; 16])
    }

    #[test]
    fn posts_show_author_and_text_on_one_line() {
        let post = |text: &str| Event::Post {
            cluster: CLUSTER,
            author: id(0x12),
            position: PostPosition {
                epoch: Epoch(1),
                seq: 0,
            },
            text: text.to_string(),
        };
        assert_eq!(
            event_line(&post("hello, world")).unwrap(),
            "[post] 12121212: hello, world"
        );
        assert_eq!(
            event_line(&post("two\nlines\r\u{1b}[31mred\u{202e}")).unwrap(),
            r"[post] 12121212: two\nlines\r\u{1b}[31mred\u{202e}"
        );
        assert_eq!(
            event_line(&post("naïve \\n ✓")).unwrap(),
            "[post] 12121212: naïve \\n ✓"
        );
    }

    #[test]
    fn cluster_events_have_stable_lines() {
        let contact: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let cases = [
            (
                Event::JoinedCluster {
                    cluster: CLUSTER,
                    epoch: Epoch(1),
                    members: 2,
                },
                "[cluster] joined 00000000000000ab, epoch 1, 2 members",
            ),
            (
                Event::EpochChanged {
                    cluster: CLUSTER,
                    epoch: Epoch(3),
                    members: 2,
                    added: vec![],
                    removed: vec![],
                },
                "[cluster] epoch 3, 2 members",
            ),
            (
                Event::EpochChanged {
                    cluster: CLUSTER,
                    epoch: Epoch(4),
                    members: 2,
                    added: vec![id(1)],
                    removed: vec![id(2), id(3)],
                },
                "[cluster] epoch 4, 2 members (+01010101, -02020202, -03030303)",
            ),
            (
                Event::JoinRefused {
                    contact,
                    reason: RefusalReason::Full,
                },
                "[cluster] join refused by 127.0.0.1:7000: the cluster is full",
            ),
            (
                Event::JoinFailed { contact },
                "[cluster] join failed: no answer from 127.0.0.1:7000",
            ),
            (
                Event::RemovedFromCluster { cluster: CLUSTER },
                "[cluster] removed from 00000000000000ab",
            ),
            (
                Event::LeftCluster { cluster: CLUSTER },
                "[cluster] left 00000000000000ab",
            ),
        ];
        for (event, line) in cases {
            assert_eq!(event_line(&event).unwrap(), line);
        }
        assert_eq!(event_line(&Event::PeerUnreachable { addr: contact }), None);
    }

    #[test]
    fn anonymous_events_have_stable_lines() {
        let mut thread = [0x77; 16];
        thread[..4].copy_from_slice(&[0x1a, 0x2b, 0x3c, 0x4d]);
        let message = |text: &str, from| Event::AnonMessage {
            thread,
            message: [0; 16],
            text: text.to_string(),
            from,
        };
        let cases = [
            (
                message("hello", None),
                "[anon] thread 1a2b3c4d from anonymous: hello",
            ),
            (
                message("it's me\n", Some(id(0x12))),
                r"[anon] thread 1a2b3c4d from 12121212: it's me\n",
            ),
            (
                Event::AnonDelivered {
                    thread,
                    message: [0; 16],
                },
                "[anon] thread 1a2b3c4d delivered",
            ),
            (
                Event::AnonFailed {
                    thread,
                    message: [0; 16],
                    reason: AnonFailure::NoAcknowledgement,
                },
                "[anon] thread 1a2b3c4d failed: no acknowledgement",
            ),
            (
                Event::AnonFailed {
                    thread,
                    message: [0; 16],
                    reason: AnonFailure::RecipientGone,
                },
                "[anon] thread 1a2b3c4d failed: the recipient left the cluster",
            ),
            (
                Event::AnonymityLow {
                    anonymity_set: 2,
                    threshold: 5,
                },
                "[anon] warning: only 2 members to hide among (below 5)",
            ),
        ];
        for (event, line) in cases {
            assert_eq!(event_line(&event).unwrap(), line);
        }
        assert_eq!(
            anon_sent_line(&thread, id(0x12), AnonOptions::default()),
            "[anon] thread 1a2b3c4d sent to 12121212"
        );
        assert_eq!(
            anon_sent_line(&thread, id(0x12), AnonOptions { sign: true }),
            "[anon] thread 1a2b3c4d sent to 12121212, signed"
        );
        assert_eq!(
            reply_sent_line(&thread),
            "[anon] thread 1a2b3c4d reply sent"
        );
    }

    #[test]
    fn the_member_table_shows_whole_ids_and_the_estimate() {
        let member = |byte: u8, port: u16, heard_s: u64| {
            let key = IdentityKey::from_secret_bytes([byte; 32]);
            MemberInfo {
                id: id(byte),
                identity: key.public(),
                epoch_key: key.node_key().public(),
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                joined: Epoch(0),
                last_heard: Timestamp::from_secs(heard_s),
            }
        };
        let cluster = ClusterInfo {
            id: CLUSTER,
            epoch: Epoch(2),
            limit: None,
            epoch_since: Timestamp::from_secs(5),
            leading: None,
            leader_order: vec![],
            members: vec![member(0x0a, 7000, 5), member(0x0b, 7001, 97)],
        };
        let estimate = AnonymityEstimate {
            live_members: 2,
            anonymity_set: 1,
            p_stem: 0.75,
            expected_stem_hops: 4.0,
            first_spy_precision: 1.0,
            low: true,
        };
        let now = Timestamp::from_secs(100);
        assert_eq!(
            members_lines(&cluster, id(0x0a), now, Some(&estimate), 5),
            [
                "[members] cluster 00000000000000ab, epoch 2, 2 members",
                "[members] 0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a 127.0.0.1:7000 this node",
                "[members] 0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b 127.0.0.1:7001 heard 3 s ago",
                "[members] anonymity: 1 members to hide among (2 live), first-spy precision 1.00, \
                 4.0 stem hops expected, below the minimum of 5",
            ]
        );
        let fine = AnonymityEstimate {
            live_members: 50,
            anonymity_set: 49,
            first_spy_precision: 0.28,
            low: false,
            ..estimate
        };
        assert_eq!(
            members_lines(&cluster, id(0x0a), now, Some(&fine), 5)[3],
            "[members] anonymity: 49 members to hide among (50 live), first-spy precision 0.28, \
             4.0 stem hops expected"
        );
        assert_eq!(members_lines(&cluster, id(0x0a), now, None, 5).len(), 3);
    }

    #[test]
    fn the_vote_table_and_vote_commands_have_stable_lines() {
        let mut first = [0x77; 16];
        first[..4].copy_from_slice(&[0x1a, 0x2b, 0x3c, 0x4d]);
        let joiner = IdentityKey::from_secret_bytes([0x0c; 32]).public();
        let joiner_id = joiner.member_id();
        let admit = VoteInfo {
            id: ProposalId(first),
            kind: ProposalKind::Admit {
                joiner,
                join_key: peerster_core::crypto::EpochPublic([0x0d; 32]),
                addr: "127.0.0.1:7002".parse::<SocketAddr>().unwrap().into(),
            },
            subject: joiner_id,
            proposer: id(0x0a),
            deadline: Timestamp::from_millis(157_400),
            state: VoteState::Open,
            round: 0,
            my_vote: None,
            authorities: Vec::new(),
        };
        let expel = VoteInfo {
            id: ProposalId([0xfe; 16]),
            kind: ProposalKind::Expel { member: id(0x0b) },
            subject: id(0x0b),
            proposer: id(0x0c),
            deadline: Timestamp::from_secs(90),
            state: VoteState::Decided(VoteOutcome::Rejected),
            round: 2,
            my_vote: Some(false),
            authorities: Vec::new(),
        };
        let now = Timestamp::from_secs(100);
        assert_eq!(
            votes_lines(&[admit.clone(), expel], now),
            [
                format!(
                    "[votes] 1a2b3c4d admit {joiner_id}, proposed by 0a0a0a0a, round 0, \
                     deadline in 58 s, open, my vote: none"
                ),
                "[votes] fefefefe expel 0b0b0b0b, proposed by 0c0c0c0c, round 2, \
                 deadline passed, decided: rejected, my vote: no"
                    .to_string(),
            ]
        );
        let voted = VoteInfo {
            my_vote: Some(true),
            state: VoteState::Decided(VoteOutcome::Accepted),
            ..admit
        };
        let line = &votes_lines(&[voted], now)[0];
        assert!(
            line.ends_with(", decided: accepted, my vote: yes"),
            "{line}"
        );
        assert_eq!(votes_lines(&[], now), ["[votes] no open votes"]);
        assert_eq!(
            voted_line(&ProposalId(first), true),
            "[vote] 1a2b3c4d: voted yes"
        );
        assert_eq!(
            voted_line(&ProposalId(first), false),
            "[vote] 1a2b3c4d: voted no"
        );
        assert_eq!(
            expel_proposed_line(&ProposalId(first), id(0x0b)),
            "[vote] 1a2b3c4d: expel 0b0b0b0b proposed"
        );
    }

    #[test]
    fn help_lists_every_command() {
        let help: Vec<String> = help_lines().collect();
        for command in [
            "/anon ",
            "/anon-signed ",
            "/reply ",
            "/members",
            "/votes",
            "/vote ",
            "/expel ",
            "/call ",
            "/call-signed ",
            "/answer ",
            "/decline ",
            "/hangup ",
            "/calls",
            "/status",
            "/peers",
            "/inbox",
            "/safety-number ",
            "/help",
        ] {
            assert!(
                help.iter()
                    .any(|l| l.starts_with(&format!("[help] {command}"))),
                "{command} missing from {help:?}"
            );
        }
    }

    #[test]
    fn status_and_peers_have_lines() {
        use crate::outcome::{PeerView, Status};
        let addr: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let status = Status {
            id: id(0xcd),
            name: Some("alice\n".into()),
            listen: addr,
            cluster: Some((CLUSTER, Epoch(2))),
            peers: 1,
        };
        assert_eq!(
            outcome_lines(&Outcome::Status(status)),
            [format!(
                "[status] {} alice\\n listening on 127.0.0.1:7000, cluster 00000000000000ab, \
                 epoch 2, 1 peers",
                "cd".repeat(16)
            )]
        );
        let peer = PeerView {
            addr,
            id: id(0x0b),
            name: None,
            last_heard_s: 3,
        };
        assert_eq!(
            outcome_lines(&Outcome::Peers(vec![peer])),
            [format!(
                "[peers] {} 127.0.0.1:7000 heard 3 s ago",
                "0b".repeat(16)
            )]
        );
        assert_eq!(outcome_lines(&Outcome::Peers(vec![])), ["[peers] no peers"]);
    }

    #[test]
    fn node_and_created_lines() {
        let addr: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        assert_eq!(
            node_line(id(0xcd), addr),
            "[node] cdcdcdcd listening on 127.0.0.1:7000"
        );
        assert_eq!(
            created_line(CLUSTER, Some(3)),
            "[cluster] created 00000000000000ab, limit 3 members"
        );
        assert_eq!(
            created_line(CLUSTER, None),
            "[cluster] created 00000000000000ab"
        );
    }
}
