//! [`JoinRetry`]: a join asked for before the node can send it.
//!
//! [`Node::join`] seals the request to the contact's node key, which the node learns from the
//! contact's announcement once the contact is a verified peer; until then it refuses with
//! [`CommandError::UnknownContact`]. The runtime therefore retries the command after every
//! input and at least every [`RETRY_INTERVAL`], for at most [`GIVE_UP_AFTER`].

use std::net::SocketAddr;
use std::time::Duration;

use peerster_core::{CommandError, Node, Timestamp};

use crate::error::CommandFailure;

/// Longest wait between two attempts while nothing arrives.
pub(crate) const RETRY_INTERVAL: Duration = Duration::from_millis(250);
/// How long the contact has to become a verified peer with a known announcement.
pub(crate) const GIVE_UP_AFTER: Duration = Duration::from_secs(30);

/// What one attempt gave.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// The node sent the join request; the outcome comes as an event.
    Sent,
    /// The contact is not known well enough yet: try again by [`JoinRetry::next_try`].
    Later,
    /// The join is abandoned.
    Failed(CommandFailure),
}

/// A join through `contact` the node has not been able to send yet.
#[derive(Debug)]
pub(crate) struct JoinRetry {
    contact: SocketAddr,
    started: Timestamp,
    next_try: Timestamp,
}

impl JoinRetry {
    /// A join through `contact`, first tried at once.
    pub(crate) fn new(contact: SocketAddr, now: Timestamp) -> JoinRetry {
        JoinRetry {
            contact,
            started: now,
            next_try: now,
        }
    }

    /// The contact asked to let this node in.
    pub(crate) fn contact(&self) -> SocketAddr {
        self.contact
    }

    /// When the next attempt is due even if nothing arrives.
    pub(crate) fn next_try(&self) -> Timestamp {
        self.next_try
    }

    /// Asks `node` to join through the contact.
    pub(crate) fn attempt(&mut self, node: &mut Node, now: Timestamp) -> Attempt {
        let contact = self.contact;
        match node.join(now, contact) {
            Ok(()) => Attempt::Sent,
            Err(source @ CommandError::UnknownContact { .. }) => {
                let waited = now.saturating_since(self.started);
                if waited >= GIVE_UP_AFTER {
                    Attempt::Failed(CommandFailure::JoinGaveUp {
                        contact,
                        waited,
                        source,
                    })
                } else {
                    self.next_try = now + RETRY_INTERVAL;
                    Attempt::Later
                }
            }
            Err(source) => Attempt::Failed(CommandFailure::Join { contact, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use peerster_core::Config;
    use peerster_core::crypto::IdentityKey;

    use super::*;

    #[test]
    fn an_unknown_contact_is_retried_then_given_up() {
        let mut node = Node::new(
            Config::default(),
            IdentityKey::from_secret_bytes([7; 32]),
            [7; 32],
            Timestamp::ZERO,
        )
        .unwrap();
        let contact: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let mut join = JoinRetry::new(contact, Timestamp::ZERO);
        assert_eq!(join.next_try(), Timestamp::ZERO);

        let now = Timestamp::ZERO + Duration::from_secs(1);
        assert_eq!(join.attempt(&mut node, now), Attempt::Later);
        assert_eq!(join.next_try(), now + RETRY_INTERVAL);

        let now = Timestamp::ZERO + GIVE_UP_AFTER;
        let Attempt::Failed(failure) = join.attempt(&mut node, now) else {
            panic!("still retrying after {GIVE_UP_AFTER:?}");
        };
        assert_eq!(
            failure.to_string(),
            "gave up joining through 127.0.0.1:7000 after 30 s: \
             127.0.0.1:7000 is not a verified peer with a known announcement"
        );
    }
}
