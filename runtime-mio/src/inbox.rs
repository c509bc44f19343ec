//! [`Inbox`]: the latest posts and anonymous messages a runtime delivered or sent, with the
//! delivery state of its own anonymous messages, for `inbox`. Bounded: beyond
//! [`MAX_INBOX`] entries the oldest is forgotten.

use std::collections::VecDeque;

use peerster_core::Timestamp;
use peerster_core::ids::MemberId;
use peerster_core::wire::anon::ThreadId;
use peerster_core::wire::fragment::MessageId;

/// Entries kept at most.
pub(crate) const MAX_INBOX: usize = 1000;

/// What an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A post to the cluster.
    Post,
    /// An anonymous message, in `thread`.
    Anon {
        /// Its conversation.
        thread: ThreadId,
    },
}

/// Which way an entry went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Delivered to this node.
    In,
    /// Sent by this node.
    Out,
}

/// How far one of this node's anonymous messages got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Sent, not acknowledged yet.
    Sent,
    /// The recipient acknowledged it.
    Delivered,
    /// Given up (it may still turn to delivered if the recipient finds it later).
    Failed,
}

/// One post or anonymous message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Post or anonymous message.
    pub(crate) kind: EntryKind,
    /// Which way it went.
    pub(crate) direction: Direction,
    /// The text.
    pub(crate) text: String,
    /// Its author: always for posts, for anonymous messages only if signed.
    pub(crate) from: Option<MemberId>,
    /// For this node's anonymous messages, how far they got.
    pub(crate) state: Option<Delivery>,
    /// The anonymous message's id, to match its acknowledgement.
    pub(crate) message: Option<MessageId>,
    /// When the runtime saw it.
    pub(crate) at: Timestamp,
}

/// The latest entries, oldest first.
#[derive(Debug)]
pub(crate) struct Inbox {
    entries: VecDeque<Entry>,
    max: usize,
}

impl Default for Inbox {
    fn default() -> Inbox {
        Inbox::new(MAX_INBOX)
    }
}

impl Inbox {
    /// No entries, keeping at most `max` (at least one).
    pub(crate) fn new(max: usize) -> Inbox {
        Inbox {
            entries: VecDeque::new(),
            max: max.max(1),
        }
    }

    /// Keeps `entry` as the newest, forgetting the oldest beyond the bound.
    pub(crate) fn push(&mut self, entry: Entry) {
        self.entries.push_back(entry);
        while self.entries.len() > self.max {
            self.entries.pop_front();
        }
    }

    /// A post delivered to, or sent by, this node.
    pub(crate) fn post(
        &mut self,
        direction: Direction,
        author: MemberId,
        text: &str,
        at: Timestamp,
    ) {
        self.push(Entry {
            kind: EntryKind::Post,
            direction,
            text: text.to_string(),
            from: Some(author),
            state: None,
            message: None,
            at,
        });
    }

    /// An anonymous message delivered to this node.
    pub(crate) fn anon_in(
        &mut self,
        thread: ThreadId,
        text: &str,
        from: Option<MemberId>,
        at: Timestamp,
    ) {
        self.push(Entry {
            kind: EntryKind::Anon { thread },
            direction: Direction::In,
            text: text.to_string(),
            from,
            state: None,
            message: None,
            at,
        });
    }

    /// An anonymous message this node sent (`from`: itself if signed), waiting for its
    /// acknowledgement.
    pub(crate) fn anon_out(
        &mut self,
        thread: ThreadId,
        message: MessageId,
        text: &str,
        from: Option<MemberId>,
        at: Timestamp,
    ) {
        self.push(Entry {
            kind: EntryKind::Anon { thread },
            direction: Direction::Out,
            text: text.to_string(),
            from,
            state: Some(Delivery::Sent),
            message: Some(message),
            at,
        });
    }

    /// Notes how far this node's anonymous message `message` got; a message forgotten
    /// already is ignored. A delivered message stays delivered.
    pub(crate) fn delivery(&mut self, message: &MessageId, state: Delivery) {
        let entry = (self.entries.iter_mut().rev())
            .find(|e| e.direction == Direction::Out && e.message.as_ref() == Some(message));
        if let Some(entry) = entry
            && entry.state != Some(Delivery::Delivered)
        {
            entry.state = Some(state);
        }
    }

    /// The latest `limit` entries (all without a limit), oldest first.
    pub(crate) fn latest(&self, limit: Option<usize>) -> Vec<Entry> {
        let skip = limit.map_or(0, |limit| self.entries.len().saturating_sub(limit));
        self.entries.iter().skip(skip).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> Timestamp {
        Timestamp::from_secs(secs)
    }

    #[test]
    fn the_inbox_keeps_only_the_latest_entries() {
        let mut inbox = Inbox::new(3);
        for i in 0..5u64 {
            inbox.post(
                Direction::In,
                MemberId([1; 16]),
                &format!("post {i}"),
                at(i),
            );
        }
        let texts: Vec<String> = inbox.latest(None).into_iter().map(|e| e.text).collect();
        assert_eq!(texts, ["post 2", "post 3", "post 4"]);
        let last: Vec<String> = inbox.latest(Some(2)).into_iter().map(|e| e.text).collect();
        assert_eq!(last, ["post 3", "post 4"]);
        assert_eq!(inbox.latest(Some(10)).len(), 3);
        assert!(inbox.latest(Some(0)).is_empty());
        assert_eq!(Inbox::default().max, MAX_INBOX);
    }

    #[test]
    fn an_outgoing_message_goes_from_sent_to_delivered_and_stays_there() {
        let mut inbox = Inbox::default();
        inbox.anon_out([7; 16], [9; 16], "hi", None, at(1));
        inbox.anon_in([8; 16], "hello", Some(MemberId([2; 16])), at(2));
        assert_eq!(inbox.latest(None)[0].state, Some(Delivery::Sent));
        inbox.delivery(&[9; 16], Delivery::Failed);
        assert_eq!(inbox.latest(None)[0].state, Some(Delivery::Failed));
        inbox.delivery(&[9; 16], Delivery::Delivered);
        inbox.delivery(&[9; 16], Delivery::Failed);
        inbox.delivery(&[5; 16], Delivery::Failed);
        let entries = inbox.latest(None);
        assert_eq!(entries[0].state, Some(Delivery::Delivered));
        assert_eq!(entries[1].state, None);
        assert_eq!(entries[1].from, Some(MemberId([2; 16])));
    }
}
