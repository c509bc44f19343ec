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
//! | [`Event::JoinRequested`] | `[cluster] join request from <id> at <addr>` |
//! | [`Event::RemovedFromCluster`] | `[cluster] removed from <cluster>` |
//! | [`Event::LeftCluster`] | `[cluster] left <cluster>` |
//!
//! Other events (peers, announcements) have no line: they are logged. Text from other nodes is
//! shown with its control characters escaped, so that a post can neither span lines nor drive
//! the terminal.

use std::borrow::Cow;
use std::fmt::Write;
use std::net::SocketAddr;

use peerster_core::Event;
use peerster_core::ids::{ClusterId, MemberId};

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
        Event::JoinRequested { joiner, addr, .. } => {
            format!("[cluster] join request from {joiner} at {addr}")
        }
        Event::RemovedFromCluster { cluster } => format!("[cluster] removed from {cluster}"),
        Event::LeftCluster { cluster } => format!("[cluster] left {cluster}"),
        _ => return None,
    };
    Some(line)
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
fn escape(text: &str) -> Cow<'_, str> {
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
