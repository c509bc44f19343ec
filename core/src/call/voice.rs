//! The voice of one active call: numbering and repeating this end's frames, the window of
//! detection tags the other end's packets will carry, and delivering each received frame once.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::keys::CallKeys;
use crate::time::Timestamp;
use crate::wire::BoundedVec;
use crate::wire::anon::DetectionTag;
use crate::wire::call::{MAX_FRAMES_PER_PACKET, VoiceFrame, VoiceKeys, VoicePayload};

/// Packet indices expected ahead of the newest one seen: five seconds of voice may be lost in
/// a row before the call loses track of its packets.
const TAGS_AHEAD: u32 = 256;

/// Packet indices still expected behind the newest one seen: how late a packet may be.
const TAGS_BEHIND: u32 = 64;

/// Received frame numbers remembered behind the newest one, to deliver each once.
const SEQ_MEMORY: u32 = 128;

/// Tags a call expects at most: past it, the lowest go. The window spans from a little
/// behind the newest packet seen to a little ahead of the packet the clock says is being
/// sent, so after a long outage it is as wide as the outage; the silence timeout ends a call
/// long before this bound is reached with the default configuration.
const MAX_WINDOW: usize = 4096;

/// Duration of one voice frame: a sending end sends one packet per frame.
const FRAME: Duration = Duration::from_millis(20);

/// Which frames of the other end were delivered: the newest, and a bitmap of the ones
/// before it.
#[derive(Debug, Default)]
struct SeqWindow {
    newest: Option<u32>,
    /// Bit `d` set: frame `newest - d` was delivered.
    seen: u128,
}

impl SeqWindow {
    /// Records `seq`; false if it was delivered already or is too old to tell.
    fn accept(&mut self, seq: u32) -> bool {
        match self.newest {
            None => {
                self.newest = Some(seq);
                self.seen = 1;
                true
            }
            Some(newest) if seq > newest => {
                let shift = seq - newest;
                self.seen = if shift >= SEQ_MEMORY {
                    0
                } else {
                    self.seen << shift
                };
                self.seen |= 1;
                self.newest = Some(seq);
                true
            }
            Some(newest) => {
                let age = newest - seq;
                if age >= SEQ_MEMORY || self.seen & (1 << age) != 0 {
                    return false;
                }
                self.seen |= 1 << age;
                true
            }
        }
    }
}

/// Tags added to and dropped from the window of one call.
pub(crate) struct TagChanges {
    /// New expected tags, with their packet index.
    pub(crate) added: Vec<(DetectionTag, u32)>,
    /// Tags no longer expected.
    pub(crate) dropped: Vec<DetectionTag>,
}

/// The voice of one active call.
#[derive(Debug)]
pub(crate) struct Voice {
    keys: CallKeys,
    /// When the call connected here: the other end sends a packet every 20 ms from about
    /// then.
    started: Timestamp,
    next_index: u32,
    next_seq: u32,
    /// This end's latest frames, newest first, repeated in the next packets.
    recent: VecDeque<VoiceFrame>,
    /// The other end's packet indices expected, with their tags.
    window: BTreeMap<u32, DetectionTag>,
    /// Indices below this were put in the window once.
    window_end: u32,
    received: SeqWindow,
    frames_sent: u32,
    frames_received: u32,
}

impl Voice {
    pub(crate) fn new(keys: CallKeys, started: Timestamp) -> Self {
        Voice {
            keys,
            started,
            next_index: 0,
            next_seq: 0,
            recent: VecDeque::new(),
            window: BTreeMap::new(),
            window_end: 0,
            received: SeqWindow::default(),
            frames_sent: 0,
            frames_received: 0,
        }
    }

    pub(crate) fn frames_sent(&self) -> u32 {
        self.frames_sent
    }

    pub(crate) fn frames_received(&self) -> u32 {
        self.frames_received
    }

    /// The keys this end seals with.
    pub(crate) fn send_keys(&self) -> &VoiceKeys {
        &self.keys.send
    }

    /// The keys the other end seals with.
    pub(crate) fn recv_keys(&self) -> &VoiceKeys {
        &self.keys.recv
    }

    /// Every tag in the window.
    pub(crate) fn all_tags(&self) -> impl Iterator<Item = DetectionTag> + '_ {
        self.window.values().copied()
    }

    /// Moves the window of expected tags after packet `seen` arrived (or fills it at the start
    /// of the call, with `None`).
    pub(crate) fn advance(&mut self, seen: Option<u32>) -> TagChanges {
        let mut changes = TagChanges {
            added: Vec::new(),
            dropped: Vec::new(),
        };
        if let Some(index) = seen {
            self.window.remove(&index);
            let keep_from = index.saturating_sub(TAGS_BEHIND);
            let kept = self.window.split_off(&keep_from);
            changes.dropped = std::mem::replace(&mut self.window, kept)
                .into_values()
                .collect();
        }
        let until = seen
            .map_or(0, |i| i.saturating_add(1))
            .saturating_add(TAGS_AHEAD);
        self.extend(until, &mut changes);
        changes
    }

    /// Moves the window of expected tags along with the clock: by `now` the other end has
    /// sent about one packet per 20 ms since the call connected, so packets after an outage
    /// longer than the window are still recognised.
    pub(crate) fn advance_time(&mut self, now: Timestamp) -> TagChanges {
        let mut changes = TagChanges {
            added: Vec::new(),
            dropped: Vec::new(),
        };
        let elapsed = now.saturating_since(self.started);
        let sending = u32::try_from(elapsed.as_micros() / FRAME.as_micros()).unwrap_or(u32::MAX);
        self.extend(sending.saturating_add(TAGS_AHEAD), &mut changes);
        changes
    }

    /// Expects every packet index below `until`, dropping the lowest beyond the bound.
    fn extend(&mut self, until: u32, changes: &mut TagChanges) {
        // Tags below the last `MAX_WINDOW` would be dropped at once: do not derive them.
        let lowest_kept = until.saturating_sub(MAX_WINDOW as u32);
        self.window_end = self.window_end.max(lowest_kept);
        while self.window_end < until {
            let tag = self.keys.recv.tag(self.window_end);
            self.window.insert(self.window_end, tag);
            changes.added.push((tag, self.window_end));
            self.window_end += 1;
        }
        while self.window.len() > MAX_WINDOW {
            if let Some((_, tag)) = self.window.pop_first() {
                changes.dropped.push(tag);
            }
        }
    }

    /// The next packet of this end: a new frame, followed by up to `repeat` earlier ones.
    /// Returns its packet index, what it carries, and the new frame's number.
    pub(crate) fn next_packet(
        &mut self,
        timestamp: u32,
        data: crate::wire::BoundedBytes<{ crate::wire::call::MAX_VOICE_FRAME }>,
        repeat: usize,
    ) -> (u32, VoicePayload, u32) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        let frame = VoiceFrame {
            seq,
            timestamp,
            data,
        };
        let repeat = repeat.min(MAX_FRAMES_PER_PACKET - 1);
        let mut frames = Vec::with_capacity(repeat + 1);
        frames.push(frame.clone());
        frames.extend(self.recent.iter().take(repeat).cloned());
        self.recent.push_front(frame);
        self.recent.truncate(repeat);
        let index = self.next_index;
        self.next_index = self.next_index.saturating_add(1);
        self.frames_sent = self.frames_sent.saturating_add(1);
        let payload = VoicePayload {
            frames: BoundedVec::truncating(frames),
        };
        (index, payload, seq)
    }

    /// The frames of a received payload not delivered yet, oldest first.
    pub(crate) fn new_frames(&mut self, payload: VoicePayload) -> Vec<VoiceFrame> {
        let mut frames: Vec<VoiceFrame> = payload
            .frames
            .into_inner()
            .into_iter()
            .filter(|f| self.received.accept(f.seq))
            .collect();
        frames.sort_by_key(|f| f.seq);
        self.frames_received = self
            .frames_received
            .saturating_add(u32::try_from(frames.len()).unwrap_or(u32::MAX));
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::keys::{CallRole, derive};
    use crate::crypto::EpochSecret;
    use crate::wire::BoundedBytes;

    fn pair() -> (Voice, Voice) {
        let a = EpochSecret::from_bytes([1; 32]);
        let b = EpochSecret::from_bytes([2; 32]);
        let call = [9; 16];
        let start = Timestamp::ZERO;
        (
            Voice::new(
                derive(&call, CallRole::Caller, &a, &b.public()).unwrap(),
                start,
            ),
            Voice::new(
                derive(&call, CallRole::Callee, &b, &a.public()).unwrap(),
                start,
            ),
        )
    }

    fn data(byte: u8) -> BoundedBytes<{ crate::wire::call::MAX_VOICE_FRAME }> {
        BoundedBytes::new(vec![byte; 60]).unwrap()
    }

    #[test]
    fn each_packet_repeats_the_frames_before_it_and_each_frame_is_delivered_once() {
        let (mut caller, mut callee) = pair();
        let mut delivered = Vec::new();
        for i in 0..10u8 {
            let (index, payload, seq) = caller.next_packet(u32::from(i) * 960, data(i), 2);
            assert_eq!((index, seq), (u32::from(i), u32::from(i)));
            assert_eq!(payload.frames.len(), usize::from(i.min(2)) + 1);
            // Every third packet is lost: its frames come with the next one.
            if i % 3 != 1 {
                delivered.extend(callee.new_frames(payload).into_iter().map(|f| f.seq));
            }
        }
        assert_eq!(delivered, (0..10).collect::<Vec<u32>>());
        assert_eq!(callee.frames_received(), 10);
    }

    #[test]
    fn the_tag_window_follows_the_packets_and_stays_bounded() {
        let (mut caller, mut callee) = pair();
        let start = callee.advance(None);
        assert_eq!(start.added.len(), TAGS_AHEAD as usize);
        let mut held: BTreeMap<DetectionTag, u32> = start.added.into_iter().collect();
        for _ in 0..2000 {
            let (index, _, _) = caller.next_packet(0, data(0), 2);
            let tag = caller.send_keys().tag(index);
            if index % 7 == 3 {
                continue; // lost
            }
            assert_eq!(held.remove(&tag), Some(index), "packet {index} recognised");
            let changes = callee.advance(Some(index));
            for tag in changes.dropped {
                held.remove(&tag);
            }
            held.extend(changes.added);
            assert!(held.len() <= (TAGS_AHEAD + TAGS_BEHIND) as usize + 1);
        }
        assert_eq!(held.len(), callee.window.len());
    }

    #[test]
    fn after_a_long_outage_the_window_follows_the_clock() {
        let (mut caller, mut callee) = pair();
        callee.advance(None);
        // Ten seconds of packets are lost: far past the 256 expected ahead.
        for _ in 0..500 {
            caller.next_packet(0, data(0), 2);
        }
        let (index, _, _) = caller.next_packet(0, data(0), 2);
        let tag = caller.send_keys().tag(index);
        assert!(
            !callee.all_tags().any(|t| t == tag),
            "out of the packet window"
        );
        let changes = callee.advance_time(Timestamp::from_millis(20 * 501));
        assert!(changes.added.iter().any(|(t, i)| *t == tag && *i == index));
        assert!(callee.window.len() <= MAX_WINDOW);
        // An hour of silence cannot grow the window past its bound, nor cost more than it.
        let changes = callee.advance_time(Timestamp::from_secs(3600));
        assert_eq!(callee.window.len(), MAX_WINDOW);
        assert!(changes.added.len() <= MAX_WINDOW);
    }

    #[test]
    fn old_and_repeated_frame_numbers_are_refused() {
        let mut window = SeqWindow::default();
        assert!(window.accept(500));
        assert!(!window.accept(500));
        assert!(window.accept(499));
        assert!(window.accept(1000));
        assert!(!window.accept(500), "too old to tell");
        assert!(window.accept(999));
        assert!(!window.accept(999));
        assert!(window.accept(u32::MAX));
    }
}
