//! [`KnownThreads`]: the anonymous conversations a runtime has seen, so that `/reply` can name
//! one by a prefix of its id.

use std::collections::VecDeque;

use peerster_core::wire::anon::ThreadId;

use crate::parse::{IdPrefix, Unresolved, resolve};

/// Threads remembered at most (the core's default `max_anon_threads`: it forgets the older
/// ones too).
pub(crate) const MAX_KNOWN_THREADS: usize = 256;

/// The threads of the latest anonymous messages sent, received, delivered or given up, the
/// most recently used last; the least recently used is forgotten beyond a bound.
#[derive(Debug)]
pub(crate) struct KnownThreads {
    threads: VecDeque<ThreadId>,
    max: usize,
}

impl KnownThreads {
    /// No threads, remembering at most `max` (at least one).
    pub(crate) fn new(max: usize) -> KnownThreads {
        KnownThreads {
            threads: VecDeque::new(),
            max: max.max(1),
        }
    }

    /// Remembers `thread` as the most recently used.
    pub(crate) fn note(&mut self, thread: ThreadId) {
        if let Some(at) = self.threads.iter().position(|t| *t == thread) {
            self.threads.remove(at);
        }
        self.threads.push_back(thread);
        while self.threads.len() > self.max {
            self.threads.pop_front();
        }
    }

    /// The one remembered thread whose id starts with `prefix`.
    pub(crate) fn resolve(&self, prefix: &IdPrefix) -> Result<ThreadId, Unresolved> {
        resolve(prefix, self.threads.iter().copied())
    }
}

impl Default for KnownThreads {
    fn default() -> KnownThreads {
        KnownThreads::new(MAX_KNOWN_THREADS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(first: u8) -> ThreadId {
        [first; 16]
    }

    fn prefix(text: &str) -> IdPrefix {
        text.parse().unwrap()
    }

    #[test]
    fn the_least_recently_used_thread_is_forgotten() {
        let mut threads = KnownThreads::new(2);
        threads.note(thread(0xaa));
        threads.note(thread(0xbb));
        threads.note(thread(0xaa)); // used again: 0xbb is now the oldest
        threads.note(thread(0xcc));
        assert_eq!(threads.resolve(&prefix("aaaa")), Ok(thread(0xaa)));
        assert_eq!(threads.resolve(&prefix("cccc")), Ok(thread(0xcc)));
        assert_eq!(threads.resolve(&prefix("bbbb")), Err(Unresolved::None));
    }

    #[test]
    fn a_thread_noted_twice_is_one_thread() {
        let mut threads = KnownThreads::default();
        let mut other = thread(0xab);
        other[15] = 0;
        threads.note(thread(0xab));
        threads.note(thread(0xab));
        assert_eq!(threads.resolve(&prefix("abab")), Ok(thread(0xab)));
        threads.note(other);
        assert_eq!(
            threads.resolve(&prefix("abab")),
            Err(Unresolved::Several(2))
        );
    }
}
