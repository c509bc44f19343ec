//! Every bound and timer of the protocol, with documented defaults.

use core::time::Duration;

use thiserror::Error;

use crate::wire::MAX_DATAGRAM_SIZE;
use crate::wire::cluster::MAX_MEMBERS;

/// The tunable bounds and timers of a [`Node`](crate::Node).
///
/// Every queue, cache and table in `core` is bounded by a field here, and every timer is set
/// from one. [`Config::default`] gives values suited to people on the internet; the simulator
/// overrides them per scenario. A `Config` is checked by [`Config::validate`] when a node is
/// created.
#[derive(Clone, Debug, PartialEq)]
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
    /// Interval between anti-entropy status exchanges once the announcement store has not
    /// changed, and no peer's status has differed from ours, for `gossip_idle_after`: peers
    /// that agree have nothing to repair, and a change or a new peer brings back the
    /// `gossip_interval` pace at once. Default 30 s.
    pub gossip_idle_interval: Duration,
    /// How long after the last change anti-entropy stays at `gossip_interval`. Default 60 s.
    pub gossip_idle_after: Duration,
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

    /// How this node answers votes unattended. Default [`AutoVote::Yes`]; a node people run
    /// asks its user.
    pub auto_vote: AutoVote,
    /// How long a round of a vote collects ballots before its authorities count them (they
    /// count at once when every member's ballot is in). Default 60 s.
    pub vote_deadline: Duration,
    /// How long after a round's deadline a member waits for all its tallies before it voids
    /// the round. Default 5 s.
    pub tally_wait: Duration,
    /// Rounds a vote may void (tallies that differ or do not all come) before it fails
    /// closed. Default 8: one lying member of 20 is drawn in a round with probability 0.55, so
    /// it blocks a vote with probability 0.55^8 < 1 %.
    pub vote_rounds: u8,
    /// A ballot is sent again to an authority whose tally has not come after this. Default 1 s.
    pub ballot_retry: Duration,
    /// Votes open at once at most. Default 16.
    pub max_open_votes: usize,
    /// Proposals this node opens ask authorities to publish the signed ballots with their
    /// tallies, so every member recounts them (ballots are then not secret among members).
    /// Default off.
    pub verifiable_votes: bool,
    /// Largest member limit a cluster may be created with, and the size no cluster grows past.
    /// Default and most [`MAX_MEMBERS`] (256).
    pub max_cluster_size: usize,
    /// Interval between a member's heartbeats to every other member. Default 60 s: five
    /// heartbeats per `member_timeout`, and a member not heard from for two intervals is
    /// probed six times per interval for the rest of it (see the design document).
    /// Heartbeats are most of an idle cluster's traffic: 49 datagrams per interval per
    /// member in a cluster of 50.
    pub heartbeat_interval: Duration,
    /// A member not heard from for this long is dropped at the next rollout, and its silence
    /// starts one. Default 5 min.
    pub member_timeout: Duration,
    /// The cluster key is rolled over at least this often. Default 10 min.
    pub rollout_interval: Duration,
    /// Shortest life of an epoch: a rollout waits this long after the previous one, so that
    /// concurrent rollouts settle first. Default 1 s.
    pub rollout_settle: Duration,
    /// How long each member in the leader order has to finish a rollout before the next one
    /// takes over. Default 10 s.
    pub rollout_timeout: Duration,
    /// How long a rollout leader collects fresh epoch keys (asking twice more meanwhile) before
    /// it publishes the rollout, unless every member answered sooner. Default 1.5 s.
    pub offer_window: Duration,
    /// How long the previous epoch's key is kept after a rollout, to read frames still in
    /// flight and to bring members that missed the rollout up to date. Default 60 s.
    pub rollout_grace: Duration,
    /// Interval between the attempts of a join request. Default 2 s.
    pub join_retry: Duration,
    /// How many times a join request is sent before the join fails. Default 15.
    pub join_attempts: u32,
    /// Largest number of join requests a contact keeps track of at once. Default 32.
    pub max_pending_joins: usize,
    /// How many random members each member relays a new flooded object (post, rollout,
    /// admission, leave) to. Default 5.
    pub cluster_fanout: usize,
    /// Interval of post anti-entropy (an exchange with a random member) right after a new
    /// post: the shortest interval of its Trickle timer (RFC 6206), which doubles while no
    /// post comes. Default 1 s.
    pub post_sync_min_interval: Duration,
    /// The longest interval of post anti-entropy, reached when no post came for a while.
    /// Default 15 s.
    pub post_sync_max_interval: Duration,
    /// Most posts sent in answer to one anti-entropy exchange. Default 16.
    pub post_sync_budget: usize,
    /// Posts kept for anti-entropy. Default 1024.
    pub max_post_history: usize,
    /// Posts held back waiting for an earlier post of their author. Default 256.
    pub max_held_posts: usize,
    /// A post held back this long is delivered without the missing earlier one. Default 30 s.
    pub post_gap_timeout: Duration,
    /// Partially received flooded objects held at once. Default 64.
    pub max_partial_floods: usize,
    /// Probability that a stem relay passes an anonymous packet on along the stem rather than
    /// starting the fluff; the stem is `1 / (1 - p_stem)` hops long on average. Default 0.75.
    pub p_stem: f64,
    /// How stem successors are chosen. Default [`StemRouting::Dandelion`].
    pub stem_routing: StemRouting,
    /// Copies of a packet sent on each stem hop, so that one lost datagram does not stall the
    /// stem until its embargo runs out; the successor drops the extra copies as duplicates.
    /// Default 3.
    pub anon_stem_copies: usize,
    /// Members each fluff relay passes an anonymous packet to. Default 6.
    pub anon_fanout: usize,
    /// Flood hops a fluffed packet makes at most; a packet claiming more is dropped. Default 8.
    pub anon_hop_limit: u8,
    /// Fail-safe embargo: a stem relay that does not see the packet it passed on come back in
    /// the fluff within this time plus a random part of it fluffs it itself. Default 1 s.
    pub anon_embargo: Duration,
    /// A message not acknowledged this long is sent again (the n-th retry waits n times
    /// this). Default 8 s.
    pub anon_ack_timeout: Duration,
    /// A recipient acknowledges a message after a random delay of up to this, so that the
    /// acknowledgement does not leave together with the relaying of the packet that completed
    /// the message. Default 1 s.
    pub anon_ack_delay: Duration,
    /// Sends of an anonymous message before it is reported failed. Default 6.
    pub anon_attempts: u32,
    /// How long members keep fluffed packets for members that were away. Default 10 min.
    pub anon_store_ttl: Duration,
    /// Bytes of packets kept for members that were away. Default 4 MiB.
    pub anon_store_bytes: usize,
    /// Interval of anti-entropy of stored packets right after a packet was stored: the
    /// shortest interval of its Trickle timer (RFC 6206), which doubles while none comes.
    /// Default 2 s.
    pub anon_sync_min_interval: Duration,
    /// The longest interval of anti-entropy of stored packets. Default 20 s.
    pub anon_sync_max_interval: Duration,
    /// Most stored packets sent in answer to one anti-entropy exchange. Default 16.
    pub anon_sync_budget: usize,
    /// Trial decryptions per second at most, so that a flood cannot pin a member's CPU;
    /// packets beyond it wait in a bounded queue. Default 2000.
    pub anon_trial_budget: u32,
    /// Packets waiting for trial decryption at most. Default 1024.
    pub max_pending_trials: usize,
    /// Own anonymous messages awaiting acknowledgement at most. Default 64.
    pub max_anon_outgoing: usize,
    /// Conversations (threads) and one-time reply keys kept at most. Default 256.
    pub max_anon_threads: usize,
    /// How long a conversation, and the reply keys it handed out, are kept after their last
    /// message. Default 1 h.
    pub anon_thread_ttl: Duration,
    /// Below this many members that could have sent a message, the node warns
    /// ([`Event::AnonymityLow`](crate::Event::AnonymityLow)). Default 5.
    pub min_anonymity_set: usize,
    /// Probability that a stem relay passes a voice packet on along the stem: lower than
    /// `p_stem`, since every stem hop adds delay to a call. Default 0.5 (two hops on average).
    pub call_p_stem: f64,
    /// Flood hops a fluffed voice packet makes at most. Default 5.
    pub call_hop_limit: u8,
    /// Members each fluff relay passes a voice packet to: the flood of every voice packet is
    /// most of what a call costs the cluster. Default 4: against 6, it cost 30 % less with no
    /// frame lost at 8 members and 30 % loss (at 50 members and 30 % loss, 1 % of frames
    /// against 0.25 %).
    pub call_fanout: usize,
    /// A call not answered within this is given up. Default 30 s.
    pub call_ring_timeout: Duration,
    /// An active call from whose other end nothing is heard for this long is ended. Default
    /// 15 s.
    pub call_silence_timeout: Duration,
    /// Earlier frames each voice packet repeats, so that that many lost packets in a row lose
    /// no frame (at most 2: a packet carries three frames). Default 2.
    pub call_frame_repeats: usize,
    /// Calls (ringing, incoming or active) at once at most; further offers are ignored.
    /// Default 4.
    pub max_calls: usize,
    /// Cover traffic, in packets per second (0: off, the default). A member sends this many
    /// realtime packets on its stem every second: voice when it is in a call, dummies when it
    /// is not, so that a tap on its links cannot tell when it talks (as long as it sends no
    /// more voice than that: a call sends 50 packets a second).
    pub cover_rate: u32,
}

/// How a stem relay picks the member it passes an anonymous packet to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StemRouting {
    /// Dandelion++: per epoch, each member draws two successors; everything from one
    /// predecessor goes to the same one of them, and the member's own packets to a fixed one.
    #[default]
    Dandelion,
    /// Crowds (Reiter and Rubin, 1998): every hop, the sender's first included, picks uniformly
    /// among all members, itself included. For comparing the anonymity estimator with the
    /// analytic bound.
    Crowds,
}

/// How a node answers a vote without its user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AutoVote {
    /// Vote yes at once.
    #[default]
    Yes,
    /// Vote no at once.
    No,
    /// Wait for the user: [`Event::VoteOpened`](crate::Event::VoteOpened), answered with
    /// [`Node::vote`](crate::Node::vote).
    Ask,
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
            gossip_idle_interval: Duration::from_secs(30),
            gossip_idle_after: Duration::from_secs(60),
            gossip_fanout: 3,
            max_announcements: 1024,
            max_queued_transmits: 4096,
            max_queued_events: 4096,
            pad_buckets: vec![256, 640, MAX_DATAGRAM_SIZE],
            auto_vote: AutoVote::Yes,
            vote_deadline: Duration::from_secs(60),
            tally_wait: Duration::from_secs(5),
            vote_rounds: 8,
            ballot_retry: Duration::from_secs(1),
            max_open_votes: 16,
            verifiable_votes: false,
            max_cluster_size: MAX_MEMBERS,
            heartbeat_interval: Duration::from_secs(60),
            member_timeout: Duration::from_secs(300),
            rollout_interval: Duration::from_secs(600),
            rollout_settle: Duration::from_secs(1),
            rollout_timeout: Duration::from_secs(10),
            offer_window: Duration::from_millis(1500),
            rollout_grace: Duration::from_secs(60),
            join_retry: Duration::from_secs(2),
            join_attempts: 15,
            max_pending_joins: 32,
            cluster_fanout: 5,
            post_sync_min_interval: Duration::from_secs(1),
            post_sync_max_interval: Duration::from_secs(15),
            post_sync_budget: 16,
            max_post_history: 1024,
            max_held_posts: 256,
            post_gap_timeout: Duration::from_secs(30),
            max_partial_floods: 64,
            p_stem: 0.75,
            stem_routing: StemRouting::Dandelion,
            anon_stem_copies: 3,
            anon_fanout: 6,
            anon_hop_limit: 8,
            anon_embargo: Duration::from_secs(1),
            anon_ack_timeout: Duration::from_secs(8),
            anon_ack_delay: Duration::from_secs(1),
            anon_attempts: 6,
            anon_store_ttl: Duration::from_secs(600),
            anon_store_bytes: 4 << 20,
            anon_sync_min_interval: Duration::from_secs(2),
            anon_sync_max_interval: Duration::from_secs(20),
            anon_sync_budget: 16,
            anon_trial_budget: 2000,
            max_pending_trials: 1024,
            max_anon_outgoing: 64,
            max_anon_threads: 256,
            anon_thread_ttl: Duration::from_secs(3600),
            min_anonymity_set: 5,
            call_p_stem: 0.5,
            call_hop_limit: 5,
            call_fanout: 4,
            call_ring_timeout: Duration::from_secs(30),
            call_silence_timeout: Duration::from_secs(15),
            call_frame_repeats: 2,
            max_calls: 4,
            cover_rate: 0,
        }
    }
}

/// Why a [`Config`] was refused.
#[derive(Clone, Debug, PartialEq, Error)]
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
    /// `max_cluster_size` is above the protocol's [`MAX_MEMBERS`].
    #[error("`max_cluster_size` {got} is above the protocol's {max} members")]
    ClusterTooLarge {
        /// The configured size.
        got: usize,
        /// The protocol bound.
        max: usize,
    },
    /// `member_timeout` is not longer than `heartbeat_interval`, so live members would be
    /// dropped.
    #[error(
        "`member_timeout` ({timeout:?}) must be longer than `heartbeat_interval` ({interval:?})"
    )]
    TimeoutBelowHeartbeat {
        /// The configured member timeout.
        timeout: Duration,
        /// The configured heartbeat interval.
        interval: Duration,
    },
    /// `offer_window` is not shorter than `rollout_timeout`, so every leader would be replaced
    /// before it could publish.
    #[error("`offer_window` ({window:?}) must be shorter than `rollout_timeout` ({timeout:?})")]
    OfferWindowTooLong {
        /// The configured offer window.
        window: Duration,
        /// The configured rollout timeout.
        timeout: Duration,
    },
    /// The shortest interval of an anti-entropy timer is longer than its longest.
    #[error("`{min_field}` ({min:?}) must not be longer than `{max_field}` ({max:?})")]
    IntervalBounds {
        /// The name of the shortest interval's field.
        min_field: &'static str,
        /// The configured shortest interval.
        min: Duration,
        /// The name of the longest interval's field.
        max_field: &'static str,
        /// The configured longest interval.
        max: Duration,
    },
    /// `cover_rate` is above [`Config::MAX_COVER_RATE`].
    #[error("`cover_rate` must be at most {max} packets per second, got {got}")]
    CoverRateTooHigh {
        /// The configured rate.
        got: u32,
        /// The largest allowed.
        max: u32,
    },
    /// `call_frame_repeats` is more than a voice packet holds.
    #[error("`call_frame_repeats` must be at most {max}, got {got}")]
    TooManyFrameRepeats {
        /// The configured repeats.
        got: usize,
        /// The most a packet holds.
        max: usize,
    },
    /// `p_stem` or `call_p_stem` is not a probability below 1 (a stem that never ends).
    #[error("`p_stem` and `call_p_stem` must be at least 0 and below 1, got {got}")]
    StemProbability {
        /// The configured probability.
        got: f64,
    },
    /// `anon_store_ttl` does not fit the wire's 16-bit seconds.
    #[error("`anon_store_ttl` ({got:?}) must be at most 65535 s")]
    StoreTtlTooLong {
        /// The configured time.
        got: Duration,
    },
    /// The padding buckets are empty, unsorted, too small or larger than a datagram, or the
    /// largest is below [`Config::MIN_LARGEST_PAD_BUCKET`].
    #[error(
        "`pad_buckets` must be strictly increasing sizes between {min} and {max} bytes, the \
         largest at least 600, got {got:?}"
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

    /// The smallest the largest padding bucket may be: it must hold every message that travels
    /// in a single frame (a join request, a key offer, a heartbeat, an anonymous packet).
    pub const MIN_LARGEST_PAD_BUCKET: usize = 600;

    /// The bounds of the post anti-entropy timer.
    pub(crate) fn post_sync_bounds(&self) -> crate::trickle::TrickleBounds {
        crate::trickle::TrickleBounds {
            min: self.post_sync_min_interval,
            max: self.post_sync_max_interval,
        }
    }

    /// The bounds of the stored-packet anti-entropy timer.
    pub(crate) fn anon_sync_bounds(&self) -> crate::trickle::TrickleBounds {
        crate::trickle::TrickleBounds {
            min: self.anon_sync_min_interval,
            max: self.anon_sync_max_interval,
        }
    }

    /// The highest cover rate: one packet per millisecond.
    pub const MAX_COVER_RATE: u32 = 1000;

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
            ("max_cluster_size", self.max_cluster_size),
            ("join_attempts", self.join_attempts as usize),
            ("max_pending_joins", self.max_pending_joins),
            ("cluster_fanout", self.cluster_fanout),
            ("post_sync_budget", self.post_sync_budget),
            ("max_post_history", self.max_post_history),
            ("max_held_posts", self.max_held_posts),
            ("max_partial_floods", self.max_partial_floods),
            ("anon_fanout", self.anon_fanout),
            ("vote_rounds", usize::from(self.vote_rounds)),
            ("max_open_votes", self.max_open_votes),
            ("anon_stem_copies", self.anon_stem_copies),
            ("anon_hop_limit", usize::from(self.anon_hop_limit)),
            ("anon_attempts", self.anon_attempts as usize),
            ("anon_store_bytes", self.anon_store_bytes),
            ("anon_sync_budget", self.anon_sync_budget),
            ("anon_trial_budget", self.anon_trial_budget as usize),
            ("max_pending_trials", self.max_pending_trials),
            ("max_anon_outgoing", self.max_anon_outgoing),
            ("max_anon_threads", self.max_anon_threads),
            ("call_hop_limit", usize::from(self.call_hop_limit)),
            ("call_fanout", self.call_fanout),
            ("max_calls", self.max_calls),
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
            ("gossip_idle_interval", self.gossip_idle_interval),
            ("heartbeat_interval", self.heartbeat_interval),
            ("member_timeout", self.member_timeout),
            ("rollout_interval", self.rollout_interval),
            ("rollout_timeout", self.rollout_timeout),
            ("offer_window", self.offer_window),
            ("join_retry", self.join_retry),
            ("post_sync_min_interval", self.post_sync_min_interval),
            ("post_sync_max_interval", self.post_sync_max_interval),
            ("post_gap_timeout", self.post_gap_timeout),
            ("anon_embargo", self.anon_embargo),
            ("vote_deadline", self.vote_deadline),
            ("tally_wait", self.tally_wait),
            ("ballot_retry", self.ballot_retry),
            ("anon_ack_timeout", self.anon_ack_timeout),
            ("anon_store_ttl", self.anon_store_ttl),
            ("anon_sync_min_interval", self.anon_sync_min_interval),
            ("anon_sync_max_interval", self.anon_sync_max_interval),
            ("anon_thread_ttl", self.anon_thread_ttl),
            ("call_ring_timeout", self.call_ring_timeout),
            ("call_silence_timeout", self.call_silence_timeout),
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
        if self.max_cluster_size > MAX_MEMBERS {
            return Err(ConfigError::ClusterTooLarge {
                got: self.max_cluster_size,
                max: MAX_MEMBERS,
            });
        }
        if self.member_timeout <= self.heartbeat_interval {
            return Err(ConfigError::TimeoutBelowHeartbeat {
                timeout: self.member_timeout,
                interval: self.heartbeat_interval,
            });
        }
        for (min_field, min, max_field, max) in [
            (
                "post_sync_min_interval",
                self.post_sync_min_interval,
                "post_sync_max_interval",
                self.post_sync_max_interval,
            ),
            (
                "anon_sync_min_interval",
                self.anon_sync_min_interval,
                "anon_sync_max_interval",
                self.anon_sync_max_interval,
            ),
        ] {
            if min > max {
                return Err(ConfigError::IntervalBounds {
                    min_field,
                    min,
                    max_field,
                    max,
                });
            }
        }
        if self.offer_window >= self.rollout_timeout {
            return Err(ConfigError::OfferWindowTooLong {
                window: self.offer_window,
                timeout: self.rollout_timeout,
            });
        }
        for p in [self.p_stem, self.call_p_stem] {
            if !(0.0..1.0).contains(&p) {
                return Err(ConfigError::StemProbability { got: p });
            }
        }
        if self.cover_rate > Self::MAX_COVER_RATE {
            return Err(ConfigError::CoverRateTooHigh {
                got: self.cover_rate,
                max: Self::MAX_COVER_RATE,
            });
        }
        if self.call_frame_repeats >= crate::wire::call::MAX_FRAMES_PER_PACKET {
            return Err(ConfigError::TooManyFrameRepeats {
                got: self.call_frame_repeats,
                max: crate::wire::call::MAX_FRAMES_PER_PACKET - 1,
            });
        }
        if self.anon_store_ttl.as_secs() > u64::from(u16::MAX) {
            return Err(ConfigError::StoreTtlTooLong {
                got: self.anon_store_ttl,
            });
        }
        let sorted = self.pad_buckets.windows(2).all(|w| w[0] < w[1]);
        let in_range = self
            .pad_buckets
            .iter()
            .all(|&b| (Self::MIN_PAD_BUCKET..=MAX_DATAGRAM_SIZE).contains(&b));
        let large_enough = self
            .pad_buckets
            .last()
            .is_some_and(|&b| b >= Self::MIN_LARGEST_PAD_BUCKET);
        if !large_enough || !sorted || !in_range {
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
        for buckets in [vec![256, 1500], vec![160, 256], vec![]] {
            config = Config {
                pad_buckets: buckets,
                ..Config::default()
            };
            assert!(matches!(
                config.validate(),
                Err(ConfigError::PadBuckets { .. })
            ));
        }
        config = Config {
            pad_buckets: vec![Config::MIN_PAD_BUCKET, Config::MIN_LARGEST_PAD_BUCKET],
            ..Config::default()
        };
        assert_eq!(config.validate(), Ok(()));
        for (field, config) in [
            (
                "member_timeout",
                Config {
                    member_timeout: Duration::from_secs(30),
                    ..Config::default()
                },
            ),
            (
                "offer_window",
                Config {
                    offer_window: Duration::from_secs(10),
                    ..Config::default()
                },
            ),
            (
                "max_cluster_size",
                Config {
                    max_cluster_size: 257,
                    ..Config::default()
                },
            ),
        ] {
            assert!(config.validate().is_err(), "{field}");
        }
        config = Config {
            peer_timeout: Duration::from_secs(1),
            ..Config::default()
        };
        assert!(matches!(
            config.validate(),
            Err(ConfigError::TimeoutBelowKeepalive { .. })
        ));
    }

    #[test]
    fn an_anti_entropy_timer_whose_shortest_interval_is_its_longest_is_accepted_and_no_more() {
        let equal = Config {
            post_sync_min_interval: Duration::from_secs(15),
            ..Config::default()
        };
        assert_eq!(equal.validate(), Ok(()));
        let inverted = Config {
            anon_sync_min_interval: Duration::from_secs(21),
            ..Config::default()
        };
        assert_eq!(
            inverted.validate(),
            Err(ConfigError::IntervalBounds {
                min_field: "anon_sync_min_interval",
                min: Duration::from_secs(21),
                max_field: "anon_sync_max_interval",
                max: Duration::from_secs(20),
            })
        );
    }

    #[test]
    fn call_settings_out_of_range_are_refused() {
        let refused = |config: Config| config.validate().unwrap_err();
        assert_eq!(
            refused(Config {
                cover_rate: 1001,
                ..Config::default()
            }),
            ConfigError::CoverRateTooHigh {
                got: 1001,
                max: 1000
            }
        );
        assert_eq!(
            refused(Config {
                call_frame_repeats: 3,
                ..Config::default()
            }),
            ConfigError::TooManyFrameRepeats { got: 3, max: 2 }
        );
        assert_eq!(
            refused(Config {
                call_p_stem: 1.0,
                ..Config::default()
            }),
            ConfigError::StemProbability { got: 1.0 }
        );
        for field in ["call_fanout", "max_calls", "call_hop_limit"] {
            let config = match field {
                "call_fanout" => Config {
                    call_fanout: 0,
                    ..Config::default()
                },
                "max_calls" => Config {
                    max_calls: 0,
                    ..Config::default()
                },
                _ => Config {
                    call_hop_limit: 0,
                    ..Config::default()
                },
            };
            assert_eq!(refused(config), ConfigError::Zero { field });
        }
        let fastest = Config {
            cover_rate: Config::MAX_COVER_RATE,
            ..Config::default()
        };
        assert_eq!(fastest.validate(), Ok(()));
    }
}
