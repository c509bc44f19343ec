//! [`Node`]: the sans-IO state machine a host drives.

use std::net::SocketAddr;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use tracing::trace;

use crate::config::{Config, ConfigError};
use crate::crypto::{EpochPublic, IdentityKey, PublicIdentity};
use crate::ids::MemberId;
use crate::outbox::Outbox;
use crate::overlay::{Overlay, Peer};
use crate::stats::Stats;
use crate::time::Timestamp;
use crate::wire::{self, AnnouncementBody, BoundedBytes};

/// A datagram the node wants sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub destination: SocketAddr,
    /// The UDP payload, at most [`wire::MAX_DATAGRAM_SIZE`] bytes.
    pub payload: Vec<u8>,
}

/// Something the node wants its user (or the host) to know.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A handshake proved that `identity` answers at `addr`.
    PeerVerified {
        /// The peer's address.
        addr: SocketAddr,
        /// The peer's id.
        peer: MemberId,
        /// The peer's public identity.
        identity: PublicIdentity,
    },
    /// A handshake started with [`Node::connect`] got no answer.
    PeerUnreachable {
        /// The address that did not answer.
        addr: SocketAddr,
    },
    /// A verified peer stopped answering and was dropped from the peer table.
    PeerLost {
        /// The peer's last address.
        addr: SocketAddr,
        /// The peer's id.
        peer: MemberId,
    },
    /// Another node's announcement arrived, new or newer than the one held.
    Announcement {
        /// The announcing node's id.
        origin: MemberId,
        /// The announcing node's public identity (the signature was checked against it).
        identity: PublicIdentity,
        /// The origin's sequence number of this announcement.
        seq: u64,
        /// What was announced.
        body: AnnouncementBody,
    },
}

/// Why a user command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// A display name is longer than [`AnnouncementBody::MAX_NAME`] bytes.
    #[error("name of {len} bytes is longer than {max} bytes")]
    NameTooLong {
        /// The name's length in bytes.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
}

/// What a sub-protocol needs from the node to handle one input: configuration, identity,
/// randomness, and where to put its output.
pub(crate) struct Ctx<'a> {
    pub(crate) config: &'a Config,
    pub(crate) identity: &'a IdentityKey,
    pub(crate) rng: &'a mut ChaCha20Rng,
    pub(crate) out: &'a mut Outbox,
    pub(crate) stats: &'a mut Stats,
}

/// One Peerster node: a deterministic state machine with no I/O.
///
/// The host feeds it datagrams ([`Node::handle_datagram`]), expired deadlines
/// ([`Node::handle_timeout`]) and user commands, and drains what it produces
/// ([`Node::poll_transmit`], [`Node::poll_event`], [`Node::poll_timeout`]). The same
/// configuration, identity, seed and inputs always give the same outputs.
pub struct Node {
    config: Config,
    identity: IdentityKey,
    rng: ChaCha20Rng,
    outbox: Outbox,
    stats: Stats,
    overlay: Overlay,
    /// The public half of [`IdentityKey::node_key`], announced to the overlay.
    node_key: EpochPublic,
}

impl Node {
    /// Creates a node with its long-term `identity`, seeding its CSPRNG with `seed`.
    ///
    /// The host draws `seed` from the OS (the runtime) or from a scenario seed (the
    /// simulator); it is the node's only source of randomness. `now` is the current time.
    pub fn new(
        config: Config,
        identity: IdentityKey,
        seed: [u8; 32],
        now: Timestamp,
    ) -> Result<Node, ConfigError> {
        config.validate()?;
        trace!(%now, id = %identity.public().member_id(), "node created");
        let node_key = identity.node_key().public();
        Ok(Node {
            outbox: Outbox::new(config.max_queued_transmits, config.max_queued_events),
            config,
            identity,
            rng: ChaCha20Rng::from_seed(seed),
            stats: Stats::default(),
            overlay: Overlay::new(now),
            node_key,
        })
    }

    /// This node's public identity.
    pub fn identity(&self) -> PublicIdentity {
        self.identity.public()
    }

    /// This node's id: the fingerprint of its identity.
    pub fn id(&self) -> MemberId {
        self.identity.public().member_id()
    }

    /// The configuration the node runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Handles a UDP payload received from `from` at `now`.
    ///
    /// Anything malformed, unexpected or wrongly signed is dropped and counted in
    /// [`Node::stats`]; nothing a peer sends can make this panic.
    pub fn handle_datagram(&mut self, now: Timestamp, from: SocketAddr, datagram: &[u8]) {
        self.stats.datagrams_received += 1;
        self.stats.bytes_received += datagram.len() as u64;
        let packet = match wire::decode(datagram) {
            Ok(packet) => packet,
            Err(error) => {
                trace!(%from, %error, "dropped malformed datagram");
                self.stats.dropped.malformed += 1;
                return;
            }
        };
        trace!(%from, kind = packet.kind(), "received");
        let (overlay, mut ctx) = self.split();
        overlay.handle(now, from, datagram.len(), packet, &mut ctx);
    }

    /// Handles the passing of the deadline given by [`Node::poll_timeout`].
    ///
    /// Calling it early or late is harmless: work that is not due yet waits.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let (overlay, mut ctx) = self.split();
        overlay.handle_timeout(now, &mut ctx);
    }

    /// Starts an authenticated handshake with the node at `addr`.
    ///
    /// Completes with [`Event::PeerVerified`], or [`Event::PeerUnreachable`] after
    /// `Config::handshake_attempts` tries.
    pub fn connect(&mut self, now: Timestamp, addr: SocketAddr) {
        let (overlay, mut ctx) = self.split();
        overlay.connect(now, addr, &mut ctx);
    }

    /// Announces this node to the whole overlay under a display `name`, replacing its earlier
    /// announcement. Returns the announcement's sequence number.
    pub fn announce(&mut self, now: Timestamp, name: &str) -> Result<u64, CommandError> {
        let name =
            BoundedBytes::new(name.as_bytes().to_vec()).map_err(|n| CommandError::NameTooLong {
                len: n.len(),
                max: AnnouncementBody::MAX_NAME,
            })?;
        let node_key = self.node_key;
        let (overlay, mut ctx) = self.split();
        Ok(overlay.announce(now, AnnouncementBody::Node { name, node_key }, &mut ctx))
    }

    /// The latest announcement held from each node, this node's own included.
    pub fn announcements(&self) -> impl Iterator<Item = &wire::Announcement> {
        self.overlay.announcements()
    }

    /// The next datagram to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.outbox.pop_transmit()
    }

    /// The next event for the user, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.outbox.pop_event()
    }

    /// When [`Node::handle_timeout`] should next be called, if the node has a deadline.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        Some(self.overlay.poll_timeout(&self.config))
    }

    /// Counters of what the node received, sent and dropped.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The verified peers, by address.
    pub fn peers(&self) -> impl Iterator<Item = (SocketAddr, &Peer)> {
        self.overlay.peers().iter().map(|(&a, p)| (a, p))
    }

    /// The verified peer at `addr`, if any.
    pub fn peer(&self, addr: &SocketAddr) -> Option<&Peer> {
        self.overlay.peers().get(addr)
    }

    /// Splits the node into its overlay and the context the overlay works in.
    fn split(&mut self) -> (&mut Overlay, Ctx<'_>) {
        (
            &mut self.overlay,
            Ctx {
                config: &self.config,
                identity: &self.identity,
                rng: &mut self.rng,
                out: &mut self.outbox,
                stats: &mut self.stats,
            },
        )
    }
}

impl core::fmt::Debug for Node {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Node")
            .field("id", &self.id())
            .field("peers", &self.overlay.peers().len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
