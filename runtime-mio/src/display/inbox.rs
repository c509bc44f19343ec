//! How `/inbox`, `/safety-number` and the membership commands read as lines.
//!
//! | what | line |
//! |---|---|
//! | `/inbox` | one line per entry, oldest first: `[inbox] <at> s <in or out> post <author id>: <text>` or `[inbox] <at> s <in or out> anon <thread> from <id or anonymous>[, <sent, delivered or failed>]: <text>`; `[inbox] empty` if none |
//! | `/safety-number` | `[safety] <member id> <12 groups of 5 digits>` |
//! | `create-cluster` | `[cluster] created <cluster>[, limit N members]` |
//! | `join` | `[cluster] joining through <addr>` |

use std::net::SocketAddr;

use peerster_core::Timestamp;
use peerster_core::ids::MemberId;

use super::{escape, short};
use crate::inbox::{Delivery, Direction, Entry, EntryKind};
use crate::parse::hex;
use crate::safety_number::SafetyNumber;

/// The lines of `/inbox`.
pub(crate) fn inbox_lines(entries: &[Entry]) -> Vec<String> {
    if entries.is_empty() {
        return vec!["[inbox] empty".to_string()];
    }
    entries.iter().map(inbox_line).collect()
}

fn inbox_line(entry: &Entry) -> String {
    let at = entry.at.saturating_since(Timestamp::ZERO).as_secs();
    let direction = match entry.direction {
        Direction::In => "in",
        Direction::Out => "out",
    };
    let from = entry
        .from
        .map_or_else(|| "anonymous".to_string(), |id| hex(&id.0));
    let what = match entry.kind {
        EntryKind::Post => format!("post {from}"),
        EntryKind::Anon { thread } => {
            let state = match entry.state {
                None => "",
                Some(Delivery::Sent) => ", sent",
                Some(Delivery::Delivered) => ", delivered",
                Some(Delivery::Failed) => ", failed",
            };
            format!("anon {} from {from}{state}", short(&thread))
        }
    };
    format!("[inbox] {at} s {direction} {what}: {}", escape(&entry.text))
}

/// The line of `/safety-number`.
pub(crate) fn safety_number_line(member: MemberId, number: &SafetyNumber) -> String {
    format!("[safety] {} {number}", hex(&member.0))
}

/// The line of a join started.
pub(crate) fn joining_line(contact: SocketAddr) -> String {
    format!("[cluster] joining through {contact}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_entries_have_stable_lines() {
        let post = Entry {
            kind: EntryKind::Post,
            direction: Direction::In,
            text: "hi\nthere".into(),
            from: Some(MemberId([0x0a; 16])),
            state: None,
            message: None,
            at: Timestamp::from_secs(3),
        };
        let anon = Entry {
            kind: EntryKind::Anon { thread: [0x1b; 16] },
            direction: Direction::Out,
            text: "psst".into(),
            from: None,
            state: Some(Delivery::Delivered),
            message: Some([1; 16]),
            at: Timestamp::from_secs(4),
        };
        assert_eq!(
            inbox_lines(&[post, anon]),
            [
                format!("[inbox] 3 s in post {}: hi\\nthere", "0a".repeat(16)),
                "[inbox] 4 s out anon 1b1b1b1b from anonymous, delivered: psst".to_string(),
            ]
        );
        assert_eq!(inbox_lines(&[]), ["[inbox] empty"]);
    }
}
