//! Trial decryption under a budget: every member tries to open every new packet with its own
//! epoch key, at most `Config::anon_trial_budget` times per second. Packets beyond the budget
//! wait in a bounded queue, so a flood of packets costs a member bounded CPU, not unbounded.

use std::collections::VecDeque;
use std::time::Duration;

use crate::crypto::EpochSecret;
use crate::ids::Epoch;
use crate::time::Timestamp;
use crate::wire::anon::AnonPacket;

/// This member's epoch secrets, newest last, kept while packets sealed to them may still
/// arrive from the store.
#[derive(Debug, Default)]
pub(crate) struct Secrets {
    /// (first epoch the secret served, the secret, when a newer one replaced it).
    held: VecDeque<(Epoch, EpochSecret, Option<Timestamp>)>,
}

impl Secrets {
    /// Records that `secret` serves `epoch` (from `now`), if it is not the newest already.
    pub(crate) fn install(&mut self, now: Timestamp, epoch: Epoch, secret: &EpochSecret) {
        match self.held.back_mut() {
            Some((first, newest, _)) if newest.public() == secret.public() => {
                *first = (*first).min(epoch);
            }
            Some((first, _, _)) if *first >= epoch => {}
            _ => {
                if let Some((_, _, replaced)) = self.held.back_mut() {
                    *replaced = Some(now);
                }
                self.held.push_back((epoch, secret.clone(), None));
            }
        }
    }

    /// Forgets secrets replaced more than `keep` ago.
    pub(crate) fn expire(&mut self, now: Timestamp, keep: Duration) {
        self.held
            .retain(|(_, _, replaced)| replaced.is_none_or(|at| now < at + keep));
    }

    /// The secret that served `epoch`: the newest one that started at or before it (a packet
    /// of an epoch this member has not installed yet is tried with the newest).
    pub(crate) fn for_epoch(&self, epoch: Epoch) -> Option<&EpochSecret> {
        self.held
            .iter()
            .rev()
            .find(|(first, _, _)| *first <= epoch)
            .map(|(_, secret, _)| secret)
    }
}

/// The token bucket and the queue of packets waiting for it.
#[derive(Debug)]
pub(crate) struct Trials {
    per_second: u32,
    tokens: u32,
    refilled_at: Timestamp,
    queue: VecDeque<(Epoch, AnonPacket)>,
    max_queue: usize,
}

impl Trials {
    pub(crate) fn new(per_second: u32, max_queue: usize, now: Timestamp) -> Self {
        Trials {
            per_second,
            tokens: per_second,
            refilled_at: now,
            queue: VecDeque::new(),
            max_queue,
        }
    }

    /// Queues a packet; returns true if the queue was full and the oldest was dropped.
    pub(crate) fn push(&mut self, epoch: Epoch, packet: AnonPacket) -> bool {
        self.queue.push_back((epoch, packet));
        if self.queue.len() > self.max_queue {
            self.queue.pop_front();
            return true;
        }
        false
    }

    /// The next packet that may be tried now, spending a token.
    pub(crate) fn next(&mut self, now: Timestamp) -> Option<(Epoch, AnonPacket)> {
        if self.queue.is_empty() {
            return None;
        }
        self.refill(now);
        if self.tokens == 0 {
            return None;
        }
        self.tokens -= 1;
        self.queue.pop_front()
    }

    /// When the queue can make progress again, if it waits for tokens.
    pub(crate) fn next_ready(&self) -> Option<Timestamp> {
        if self.queue.is_empty() || self.tokens > 0 {
            return None;
        }
        Some(self.refilled_at + self.token_time())
    }

    fn token_time(&self) -> Duration {
        Duration::from_nanos(1_000_000_000 / u64::from(self.per_second.max(1)))
    }

    fn refill(&mut self, now: Timestamp) {
        let per_token = self.token_time();
        let elapsed = now.saturating_since(self.refilled_at);
        let new = elapsed.as_nanos() / per_token.as_nanos().max(1);
        if new == 0 {
            return;
        }
        let new = u32::try_from(new).unwrap_or(u32::MAX);
        self.tokens = self.tokens.saturating_add(new).min(self.per_second);
        self.refilled_at = if self.tokens == self.per_second {
            now
        } else {
            self.refilled_at + per_token * new
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::anon::ANON_PACKET_LEN;

    fn packet() -> AnonPacket {
        AnonPacket::from_bytes(&[0; ANON_PACKET_LEN]).unwrap()
    }

    #[test]
    fn the_budget_bounds_trials_per_second() {
        let start = Timestamp::from_secs(10);
        let mut trials = Trials::new(100, 10_000, start);
        for _ in 0..1000 {
            trials.push(Epoch(1), packet());
        }
        let mut tried = 0;
        let mut now = start;
        while now < start + Duration::from_secs(3) {
            while trials.next(now).is_some() {
                tried += 1;
            }
            now = trials
                .next_ready()
                .unwrap_or(now + Duration::from_millis(1));
        }
        // A full bucket to start with, then 100 per second.
        assert!((395..=405).contains(&tried), "{tried}");
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut trials = Trials::new(1, 3, Timestamp::ZERO);
        let dropped = (0..5).filter(|_| trials.push(Epoch(1), packet())).count();
        assert_eq!(dropped, 2);
    }

    #[test]
    fn secrets_serve_their_epochs_and_expire() {
        let mut secrets = Secrets::default();
        let a = EpochSecret::from_bytes([1; 32]);
        let b = EpochSecret::from_bytes([2; 32]);
        let t = Timestamp::from_secs;
        secrets.install(t(0), Epoch(3), &a);
        secrets.install(t(5), Epoch(4), &a);
        secrets.install(t(10), Epoch(6), &b);
        assert_eq!(secrets.for_epoch(Epoch(4)).unwrap().public(), a.public());
        assert_eq!(secrets.for_epoch(Epoch(6)).unwrap().public(), b.public());
        assert_eq!(secrets.for_epoch(Epoch(9)).unwrap().public(), b.public());
        assert!(secrets.for_epoch(Epoch(2)).is_none());
        secrets.expire(t(20), Duration::from_secs(5));
        assert!(secrets.for_epoch(Epoch(4)).is_none());
        assert_eq!(secrets.held.len(), 1);
    }
}
