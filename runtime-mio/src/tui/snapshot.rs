//! What the TUI knows of the node: the replies of the periodic requests (`status`, `members`,
//! `votes`, `calls`, `inbox`), read from their JSON (the names are those of
//! [`crate::control::protocol`]). Fields that are missing or of another type read as empty,
//! so that an unexpected reply shows as blanks, not as a crash.

use serde::Deserialize;
use serde_json::Value;

/// The reply to `status`: this node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Status {
    /// This node's whole id.
    pub fingerprint: String,
    /// Its announced name.
    pub name: Option<String>,
    /// Its UDP address.
    pub listen: String,
    /// Its cluster, if any.
    pub cluster: Option<String>,
    /// The cluster's epoch.
    pub epoch: Option<u64>,
    /// How many verified peers it has.
    pub peers: u64,
}

/// The reply to `members`: the cluster, its key epoch and its members.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct Members {
    /// The cluster's id.
    pub cluster: String,
    /// The current key epoch.
    pub epoch: u64,
    /// Seconds since the current epoch's key was rolled out.
    pub epoch_key_age_s: u64,
    /// The members, this node among them.
    pub members: Vec<Member>,
    /// How well an anonymous message hides, if estimated.
    pub anonymity: Option<Anonymity>,
}

/// One member of the cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Member {
    /// Its whole id.
    pub fingerprint: String,
    /// Its announced name, if known.
    pub name: Option<String>,
    /// Seconds since this node last heard from it (`None` for this node).
    pub last_heard_s: Option<u64>,
    /// Whether it is this node.
    pub this_node: bool,
}

/// The anonymity estimate of `members`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(crate) struct Anonymity {
    /// How many members a message hides among.
    pub anonymity_set: u64,
    /// Whether that is below the minimum.
    pub low: bool,
}

/// One vote of `votes`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Vote {
    /// The proposal's whole id.
    pub id: String,
    /// `admit` or `expel`.
    pub kind: String,
    /// Who would join or be expelled.
    pub subject: String,
    /// Seconds until the round counts its ballots.
    pub deadline: u64,
    /// `open`, `accepted`, `rejected` or `failed`.
    pub state: String,
    /// This node's ballot, if cast.
    pub my_vote: Option<String>,
}

impl Vote {
    /// Whether this node may still vote on it.
    pub(crate) fn awaits_my_vote(&self) -> bool {
        self.state == "open" && self.my_vote.is_none()
    }
}

/// One call of `calls`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Call {
    /// The call's whole id.
    pub call: String,
    /// `ringing`, `incoming` or `active`.
    pub state: String,
    /// `caller` or `callee`.
    pub role: String,
    /// The other end, if known (an unsigned caller is not).
    pub peer: Option<String>,
    /// Seconds since it started.
    pub duration_s: u64,
}

/// One entry of `inbox`: a post or an anonymous message, received or sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct Entry {
    /// `post` or `anon`.
    pub kind: String,
    /// `in` or `out`.
    pub direction: String,
    /// The text.
    pub text: String,
    /// The anonymous thread.
    pub thread: Option<String>,
    /// The author, when known.
    pub from: Option<String>,
    /// For this node's anonymous messages: `sent`, `delivered` or `failed`.
    pub state: Option<String>,
}

impl Entry {
    /// Whether it is a post (else an anonymous message).
    pub(crate) fn is_post(&self) -> bool {
        self.kind == "post"
    }

    /// Whether this node sent it.
    pub(crate) fn is_out(&self) -> bool {
        self.direction == "out"
    }
}

/// An anonymous conversation: its messages, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Thread {
    /// The thread's whole id.
    pub id: String,
    /// Its messages, oldest first.
    pub messages: Vec<Entry>,
}

impl Thread {
    /// The delivery state of this node's latest message in it, if it sent one.
    pub(crate) fn delivery(&self) -> Option<&str> {
        let mine = self.messages.iter().rev().find(|m| m.is_out());
        mine.and_then(|m| m.state.as_deref())
    }
}

/// The anonymous threads of `entries`, the one with the latest message first.
pub(crate) fn threads(entries: &[Entry]) -> Vec<Thread> {
    let mut threads: Vec<Thread> = Vec::new();
    for entry in entries.iter().filter(|e| !e.is_post()) {
        let id = entry.thread.clone().unwrap_or_default();
        match threads.iter_mut().find(|t| t.id == id) {
            Some(thread) => thread.messages.push(entry.clone()),
            None => threads.push(Thread {
                id,
                messages: vec![entry.clone()],
            }),
        }
    }
    // Entries are oldest first: the thread whose last message is latest goes first.
    let last = |t: &Thread| {
        let last = t.messages.last();
        last.and_then(|m| entries.iter().rposition(|e| e == m))
    };
    threads.sort_by_key(|t| std::cmp::Reverse(last(t)));
    threads
}

/// `value`'s field `key` read as `T` (a default `T` if it is missing or of another shape).
pub(crate) fn read<T: for<'de> Deserialize<'de> + Default>(value: &Value, key: &str) -> T {
    value
        .get(key)
        .and_then(|field| T::deserialize(field).ok())
        .unwrap_or_default()
}

/// `value` read as `T` (a default `T` if it is of another shape).
pub(crate) fn read_all<T: for<'de> Deserialize<'de> + Default>(value: &Value) -> T {
    T::deserialize(value).unwrap_or_default()
}

/// The first 8 hex digits of an id, as the node prints ids.
pub(crate) fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn anon(thread: &str, direction: &str, text: &str, state: Option<&str>) -> Entry {
        Entry {
            kind: "anon".into(),
            direction: direction.into(),
            text: text.into(),
            thread: Some(thread.into()),
            from: None,
            state: state.map(str::to_string),
        }
    }

    #[test]
    fn replies_are_read_leniently() {
        let reply = json!({"ok": true, "fingerprint": "0a0b", "name": null, "peers": "many"});
        let status: Status = read_all(&reply);
        // `peers` has the wrong type: the whole reply reads as empty rather than failing.
        assert_eq!(status, Status::default());
        let reply = json!({"ok": true, "fingerprint": "0a0b", "listen": "127.0.0.1:1", "peers": 2});
        let status: Status = read_all(&reply);
        assert_eq!(status.fingerprint, "0a0b");
        assert_eq!(status.peers, 2);
        let votes: Vec<Vote> = read(
            &json!({"votes": [{"id": "5e6f", "state": "open"}]}),
            "votes",
        );
        assert_eq!(votes.len(), 1);
        assert!(votes[0].awaits_my_vote());
        let none: Vec<Vote> = read(&json!({"votes": 3}), "votes");
        assert!(none.is_empty());
    }

    #[test]
    fn anonymous_messages_group_into_threads_latest_first() {
        let entries = vec![
            anon("aaaa", "out", "hi", Some("delivered")),
            Entry {
                kind: "post".into(),
                text: "a post".into(),
                ..Entry::default()
            },
            anon("bbbb", "in", "psst", None),
            anon("aaaa", "in", "hello back", None),
            anon("aaaa", "out", "again", Some("sent")),
        ];
        let threads = threads(&entries);
        assert_eq!(threads.len(), 2);
        assert_eq!(threads[0].id, "aaaa");
        assert_eq!(threads[0].messages.len(), 3);
        assert_eq!(threads[0].delivery(), Some("sent"));
        assert_eq!(threads[1].id, "bbbb");
        assert_eq!(threads[1].delivery(), None);
    }

    #[test]
    fn short_ids_are_their_first_eight_digits() {
        assert_eq!(short("0123456789abcdef"), "01234567");
        assert_eq!(short("0a0b"), "0a0b");
        // Not cut inside a character.
        assert_eq!(short("aaaaaaaé"), "aaaaaaaé");
    }
}
