//! The two ends of anonymous conversations: threads, the one-time reply keys this member handed
//! out (and the detection tags of their answers), the reply keys others handed to it, messages
//! awaiting acknowledgement, and messages already delivered.
//!
//! Every message carries a fresh reply key. The recipient seals its acknowledgement, and any
//! reply, to the newest reply key of the thread; the `i`-th packet it seals to one key carries
//! `detection_tag(key, i)`. The key's owner keeps a window of the next expected tags of each
//! key it handed out, so it recognises its answers by a table lookup.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use crate::crypto::{EpochPublic, EpochSecret};
use crate::ids::MemberId;
use crate::time::Timestamp;
use crate::wire::anon::{AnonBody, DetectionTag, ThreadId, detection_tag};
use crate::wire::fragment::MessageId;

/// How many detection tags ahead of the last one seen are expected for each reply key.
const TAG_WINDOW: u32 = 16;

/// One conversation as this member holds it.
#[derive(Debug)]
pub(crate) struct Thread {
    /// The other end, when known: the member this one wrote to, or a sender that signed.
    pub(crate) peer: Option<MemberId>,
    /// The newest reply key the other end handed out in this thread.
    pub(crate) reply_to: Option<EpochPublic>,
    pub(crate) last_active: Timestamp,
}

/// A reply key this member handed out.
#[derive(Debug)]
pub(crate) struct OwnKey {
    pub(crate) secret: EpochSecret,
    pub(crate) thread: ThreadId,
    /// The message that carried it: acknowledgements to this key must name it.
    pub(crate) message: MessageId,
    last_active: Timestamp,
    /// Tags of indices below this are in the tag table (or were used).
    tags_until: u32,
}

/// Where a message is sealed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A member's current epoch key.
    Member(MemberId),
    /// A reply key the other end handed out.
    ReplyKey(EpochPublic),
}

/// A message of this member awaiting acknowledgement.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) thread: ThreadId,
    pub(crate) target: Target,
    pub(crate) body: AnonBody,
    /// The reply key it carries.
    pub(crate) reply_key: EpochPublic,
    pub(crate) sign: bool,
    /// Sends so far.
    pub(crate) attempts: u32,
    pub(crate) next_retry: Timestamp,
}

/// What an acknowledged message was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AcknowledgedBody {
    /// A text.
    Text,
    /// A call signal.
    Call,
}

/// A message delivered to this member.
#[derive(Debug)]
struct Delivered {
    reply_key: EpochPublic,
    last_ack: Timestamp,
}

/// Every conversation of one member.
#[derive(Debug)]
pub(crate) struct Conversations {
    pub(crate) threads: BTreeMap<ThreadId, Thread>,
    pub(crate) own_keys: BTreeMap<EpochPublic, OwnKey>,
    tags: BTreeMap<DetectionTag, (EpochPublic, u32)>,
    /// Next tag index and last use of each reply key others handed to this member.
    answers: BTreeMap<EpochPublic, (u32, Timestamp)>,
    pub(crate) outgoing: BTreeMap<MessageId, Outgoing>,
    /// Messages given up for want of an acknowledgement, by thread: an acknowledgement that
    /// still comes (the recipient was away and found it in a store) is reported late.
    gave_up: BTreeMap<MessageId, ThreadId>,
    gave_up_order: VecDeque<MessageId>,
    delivered: BTreeMap<MessageId, Delivered>,
    delivered_order: VecDeque<(Timestamp, MessageId)>,
    max_threads: usize,
}

impl Conversations {
    pub(crate) fn new(max_threads: usize) -> Self {
        Conversations {
            threads: BTreeMap::new(),
            own_keys: BTreeMap::new(),
            tags: BTreeMap::new(),
            answers: BTreeMap::new(),
            outgoing: BTreeMap::new(),
            gave_up: BTreeMap::new(),
            gave_up_order: VecDeque::new(),
            delivered: BTreeMap::new(),
            delivered_order: VecDeque::new(),
            max_threads,
        }
    }

    /// Marks `thread` active, creating it if new; evicts the least recently active thread
    /// beyond the bound.
    pub(crate) fn touch_thread(&mut self, now: Timestamp, thread: ThreadId) -> &mut Thread {
        if !self.threads.contains_key(&thread) && self.threads.len() >= self.max_threads {
            let oldest = self
                .threads
                .iter()
                .min_by_key(|(_, t)| t.last_active)
                .map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                self.threads.remove(&oldest);
            }
        }
        let entry = self.threads.entry(thread).or_insert(Thread {
            peer: None,
            reply_to: None,
            last_active: now,
        });
        entry.last_active = now;
        entry
    }

    /// A fresh reply key for `message` of `thread`, whose answers this member will recognise.
    pub(crate) fn new_reply_key(
        &mut self,
        now: Timestamp,
        thread: ThreadId,
        message: MessageId,
        secret: EpochSecret,
    ) -> EpochPublic {
        let public = secret.public();
        let max_keys = self.max_threads * 2;
        if self.own_keys.len() >= max_keys {
            let oldest = self
                .own_keys
                .iter()
                .min_by_key(|(_, k)| k.last_active)
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                self.drop_own_key(&oldest);
            }
        }
        self.own_keys.insert(
            public,
            OwnKey {
                secret,
                thread,
                message,
                last_active: now,
                tags_until: 0,
            },
        );
        self.extend_tags(&public, TAG_WINDOW);
        public
    }

    fn extend_tags(&mut self, key: &EpochPublic, until: u32) {
        let Some(own) = self.own_keys.get_mut(key) else {
            return;
        };
        while own.tags_until < until {
            self.tags
                .insert(detection_tag(key, own.tags_until), (*key, own.tags_until));
            own.tags_until += 1;
        }
    }

    fn drop_own_key(&mut self, key: &EpochPublic) {
        if let Some(own) = self.own_keys.remove(key) {
            for index in 0..own.tags_until {
                self.tags.remove(&detection_tag(key, index));
            }
        }
    }

    /// The reply key a packet's detection tag says it answers, if it is one of ours, without
    /// using the tag up: a packet whose seal then fails (altered on the way by a malicious
    /// relay) must not burn the tag of the genuine one.
    pub(crate) fn tag_owner(&self, tag: &DetectionTag) -> Option<EpochPublic> {
        self.tags.get(tag).map(|(key, _)| *key)
    }

    /// The reply key a packet's detection tag says it answers, if it is one of ours; the tag
    /// is used up and the window moves on.
    pub(crate) fn match_tag(&mut self, now: Timestamp, tag: &DetectionTag) -> Option<EpochPublic> {
        let (key, index) = self.tags.remove(tag)?;
        if let Some(own) = self.own_keys.get_mut(&key) {
            own.last_active = now;
        }
        self.extend_tags(&key, index.saturating_add(TAG_WINDOW + 1));
        Some(key)
    }

    /// The detection tag of the next packet this member seals to another's reply key.
    pub(crate) fn next_answer_tag(&mut self, now: Timestamp, key: &EpochPublic) -> DetectionTag {
        if !self.answers.contains_key(key) && self.answers.len() >= self.max_threads * 2 {
            let oldest = self
                .answers
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                self.answers.remove(&oldest);
            }
        }
        let (next, at) = self.answers.entry(*key).or_insert((0, now));
        let tag = detection_tag(key, *next);
        *next = next.saturating_add(1);
        *at = now;
        tag
    }

    /// Records that `message` of `thread` was given up.
    pub(crate) fn give_up(&mut self, message: MessageId, thread: ThreadId) {
        self.outgoing.remove(&message);
        self.gave_up.insert(message, thread);
        self.gave_up_order.push_back(message);
        while self.gave_up_order.len() > self.max_threads {
            if let Some(oldest) = self.gave_up_order.pop_front() {
                self.gave_up.remove(&oldest);
            }
        }
    }

    /// The thread of an acknowledged message that was awaited or given up, once, with what
    /// the message was (if it was still awaited).
    pub(crate) fn acknowledged(
        &mut self,
        message: &MessageId,
    ) -> Option<(ThreadId, Option<AcknowledgedBody>)> {
        if let Some(out) = self.outgoing.remove(message) {
            let body = match out.body {
                AnonBody::Text(_) => AcknowledgedBody::Text,
                AnonBody::Call(_) => AcknowledgedBody::Call,
            };
            return Some((out.thread, Some(body)));
        }
        self.gave_up.remove(message).map(|thread| (thread, None))
    }

    /// Whether `message` was delivered already; if so, and its acknowledgement was last sent
    /// more than `ack_pace` ago, the reply key to acknowledge it to again.
    pub(crate) fn already_delivered(
        &mut self,
        now: Timestamp,
        message: &MessageId,
        ack_pace: Duration,
    ) -> Option<Option<EpochPublic>> {
        let delivered = self.delivered.get_mut(message)?;
        if now < delivered.last_ack + ack_pace {
            return Some(None);
        }
        delivered.last_ack = now;
        Some(Some(delivered.reply_key))
    }

    /// Records a delivered message, forgotten at `forget_at` (or when the bound is reached).
    pub(crate) fn delivered(
        &mut self,
        now: Timestamp,
        message: MessageId,
        reply_key: EpochPublic,
        forget_at: Timestamp,
        max: usize,
    ) {
        self.delivered.insert(
            message,
            Delivered {
                reply_key,
                last_ack: now,
            },
        );
        self.delivered_order.push_back((forget_at, message));
        while self.delivered_order.len() > max {
            if let Some((_, oldest)) = self.delivered_order.pop_front() {
                self.delivered.remove(&oldest);
            }
        }
    }

    /// Forgets what has been idle longer than `ttl`.
    pub(crate) fn expire(&mut self, now: Timestamp, ttl: Duration) {
        while let Some(&(at, message)) = self.delivered_order.front() {
            if at > now {
                break;
            }
            self.delivered_order.pop_front();
            self.delivered.remove(&message);
        }
        self.threads.retain(|_, t| now < t.last_active + ttl);
        let stale: Vec<EpochPublic> = self
            .own_keys
            .iter()
            .filter(|(_, k)| now >= k.last_active + ttl)
            .map(|(key, _)| *key)
            .collect();
        for key in stale {
            self.drop_own_key(&key);
        }
        self.answers.retain(|_, (_, at)| now < *at + ttl);
    }

    /// The earliest time anything may be forgotten or sent again.
    pub(crate) fn next_deadline(&self) -> Option<Timestamp> {
        let retry = self.outgoing.values().map(|o| o.next_retry).min();
        let forget = self.delivered_order.front().map(|(at, _)| *at);
        [retry, forget].into_iter().flatten().min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_recognised_by_their_tags_in_any_order_within_the_window() {
        let mut talk = Conversations::new(8);
        let now = Timestamp::ZERO;
        let key = talk.new_reply_key(now, [1; 16], [2; 16], EpochSecret::from_bytes([3; 32]));
        // The other end seals 40 packets to the key; they arrive out of order.
        let mut other = Conversations::new(8);
        let tags: Vec<_> = (0..40).map(|_| other.next_answer_tag(now, &key)).collect();
        for chunk in tags.chunks(8) {
            for tag in chunk.iter().rev() {
                assert_eq!(talk.match_tag(now, tag), Some(key));
            }
        }
        assert_eq!(talk.tag_owner(&tags[3]), None);
        assert_eq!(talk.match_tag(now, &tags[3]), None, "a tag is used once");
        let fresh = other.next_answer_tag(now, &key);
        assert_eq!(talk.tag_owner(&fresh), Some(key));
        assert_eq!(
            talk.tag_owner(&fresh),
            Some(key),
            "looking does not use it up"
        );
        assert_eq!(talk.match_tag(now, &fresh), Some(key));
        assert_eq!(talk.match_tag(now, &[0; 16]), None);
    }

    #[test]
    fn keys_threads_and_deliveries_are_bounded_and_expire() {
        let mut talk = Conversations::new(2);
        let t = Timestamp::from_secs;
        for i in 0..10u8 {
            talk.touch_thread(t(u64::from(i)), [i; 16]);
            talk.new_reply_key(
                t(u64::from(i)),
                [i; 16],
                [i; 16],
                EpochSecret::from_bytes([i; 32]),
            );
            talk.delivered(t(0), [i; 16], EpochPublic([i; 32]), t(100), 3);
        }
        assert_eq!(talk.threads.len(), 2);
        assert_eq!(talk.own_keys.len(), 4);
        assert_eq!(talk.tags.len(), 4 * TAG_WINDOW as usize);
        assert!(
            talk.already_delivered(t(1), &[9; 16], Duration::ZERO)
                .is_some()
        );
        assert!(
            talk.already_delivered(t(1), &[0; 16], Duration::ZERO)
                .is_none()
        );
        talk.expire(t(200), Duration::from_secs(50));
        assert!(talk.threads.is_empty() && talk.own_keys.is_empty() && talk.tags.is_empty());
        assert!(
            talk.already_delivered(t(1), &[9; 16], Duration::ZERO)
                .is_none()
        );
    }

    #[test]
    fn an_acknowledgement_is_resent_at_most_once_per_pace() {
        let mut talk = Conversations::new(2);
        let t = Timestamp::from_secs;
        talk.delivered(t(0), [1; 16], EpochPublic([1; 32]), t(100), 10);
        let pace = Duration::from_secs(4);
        assert_eq!(talk.already_delivered(t(1), &[1; 16], pace), Some(None));
        assert_eq!(
            talk.already_delivered(t(5), &[1; 16], pace),
            Some(Some(EpochPublic([1; 32])))
        );
        assert_eq!(talk.already_delivered(t(6), &[1; 16], pace), Some(None));
    }
}
