//! Every bound and timer of the protocol, with documented defaults.

use core::time::Duration;

use thiserror::Error;

use crate::wire::MAX_DATAGRAM_SIZE;

/// The tunable bounds and timers of a [`Node`](crate::Node).
///
/// Every queue, cache and table in `core` is bounded by a field here, and every timer is set
/// from one. [`Config::default`] gives values suited to people on the internet; the simulator
/// overrides them per scenario. A `Config` is checked by [`Config::validate`] when a node is
/// created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Largest number of peers a node keeps in its peer table. Default 64.
    pub max_peers: usize,
    /// Largest number of handshakes a node keeps open at once; a new one beyond this drops the
    /// oldest. Default 32.
    pub max_pending_handshakes: usize,
    /// How long a handshake may stay unanswered before it is retried. Default 1 s.
    pub handshake_retry: Duration,
    /// How many times a handshake is sent before the peer is given up. Default 4.
    pub handshake_attempts: u32,
    /// Interval between keep-alive pings to each verified peer. Default 15 s.
    pub keepalive_interval: Duration,
    /// A verified peer not heard from for this long is dropped from the peer table. Default 60 s.
    pub peer_timeout: Duration,
    /// How many peers a node tries to keep: below this, it connects to addresses learned by
    /// peer exchange. Default 8.
    pub target_peers: usize,
    /// Largest number of learned, not yet tried addresses a node remembers. Default 256.
    pub max_known_addrs: usize,
    /// Interval between peer-exchange lists sent to a random peer. Default 30 s.
    pub peer_exchange_interval: Duration,
    /// Interval between anti-entropy status exchanges with a random peer, and between checks
    /// that the node has `target_peers`. Default 2 s.
    pub gossip_interval: Duration,
    /// How many random peers a new announcement is pushed to by each node that learns it.
    /// Default 3.
    pub gossip_fanout: usize,
    /// Largest number of announcements (one per origin) a node keeps. Default 1024.
    pub max_announcements: usize,
    /// Largest number of datagrams waiting in [`Node::poll_transmit`](crate::Node::poll_transmit);
    /// further ones are dropped and counted. Default 4096.
    pub max_queued_transmits: usize,
    /// Largest number of events waiting in [`Node::poll_event`](crate::Node::poll_event);
    /// further ones are dropped and counted. Default 4096.
    pub max_queued_events: usize,
    /// The datagram sizes that packets travelling inside a cluster are padded to, smallest
    /// first. A packet takes the smallest bucket it fits, so that packets of different kinds
    /// in one bucket are indistinguishable. Default `[256, 640, 1200]`.
    pub pad_buckets: Vec<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_peers: 64,
            max_pending_handshakes: 32,
            handshake_retry: Duration::from_secs(1),
            handshake_attempts: 4,
            keepalive_interval: Duration::from_secs(15),
            peer_timeout: Duration::from_secs(60),
            target_peers: 8,
            max_known_addrs: 256,
            peer_exchange_interval: Duration::from_secs(30),
            gossip_interval: Duration::from_secs(2),
            gossip_fanout: 3,
            max_announcements: 1024,
            max_queued_transmits: 4096,
            max_queued_events: 4096,
            pad_buckets: vec![256, 640, MAX_DATAGRAM_SIZE],
        }
    }
}

/// Why a [`Config`] was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A bound that must be at least one is zero.
    #[error("`{field}` must be at least 1")]
    Zero {
        /// The name of the offending field.
        field: &'static str,
    },
    /// A timer that must be positive is zero.
    #[error("`{field}` must be a positive duration")]
    ZeroDuration {
        /// The name of the offending field.
        field: &'static str,
    },
    /// `peer_timeout` is not longer than `keepalive_interval`, so live peers would be dropped.
    #[error("`peer_timeout` ({timeout:?}) must be longer than `keepalive_interval` ({interval:?})")]
    TimeoutBelowKeepalive {
        /// The configured peer timeout.
        timeout: Duration,
        /// The configured keep-alive interval.
        interval: Duration,
    },
    /// The padding buckets are empty, unsorted, too small or larger than a datagram.
    #[error(
        "`pad_buckets` must be strictly increasing sizes between {min} and {max} bytes, got {got:?}"
    )]
    PadBuckets {
        /// The buckets as configured.
        got: Vec<usize>,
        /// The smallest allowed bucket.
        min: usize,
        /// The largest allowed bucket.
        max: usize,
    },
}

impl Config {
    /// The smallest padding bucket allowed: room for the frame's header, nonce, tag and a
    /// small payload.
    pub const MIN_PAD_BUCKET: usize = 160;

    /// Checks that the bounds and timers are usable together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("max_peers", self.max_peers),
            ("max_pending_handshakes", self.max_pending_handshakes),
            ("handshake_attempts", self.handshake_attempts as usize),
            ("max_known_addrs", self.max_known_addrs),
            ("gossip_fanout", self.gossip_fanout),
            ("max_announcements", self.max_announcements),
            ("max_queued_transmits", self.max_queued_transmits),
            ("max_queued_events", self.max_queued_events),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero { field });
            }
        }
        for (field, value) in [
            ("handshake_retry", self.handshake_retry),
            ("keepalive_interval", self.keepalive_interval),
            ("peer_timeout", self.peer_timeout),
            ("peer_exchange_interval", self.peer_exchange_interval),
            ("gossip_interval", self.gossip_interval),
        ] {
            if value.is_zero() {
                return Err(ConfigError::ZeroDuration { field });
            }
        }
        if self.peer_timeout <= self.keepalive_interval {
            return Err(ConfigError::TimeoutBelowKeepalive {
                timeout: self.peer_timeout,
                interval: self.keepalive_interval,
            });
        }
        let sorted = self.pad_buckets.windows(2).all(|w| w[0] < w[1]);
        let in_range = self
            .pad_buckets
            .iter()
            .all(|&b| (Self::MIN_PAD_BUCKET..=MAX_DATAGRAM_SIZE).contains(&b));
        if self.pad_buckets.is_empty() || !sorted || !in_range {
            return Err(ConfigError::PadBuckets {
                got: self.pad_buckets.clone(),
                min: Self::MIN_PAD_BUCKET,
                max: MAX_DATAGRAM_SIZE,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn zero_bounds_and_bad_buckets_are_refused() {
        let mut config = Config {
            max_peers: 0,
            ..Config::default()
        };
        assert_eq!(
            config.validate(),
            Err(ConfigError::Zero { field: "max_peers" })
        );
        config = Config {
            pad_buckets: vec![640, 256],
            ..Config::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::PadBuckets { .. })
        ));
        config = Config {
            pad_buckets: vec![256, 1500],
            ..Config::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::PadBuckets { .. })
        ));
        config = Config {
            peer_timeout: Duration::from_secs(1),
            ..Config::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::TimeoutBelowKeepalive { .. })
        ));
    }
}
