//! The node overlay: mutually authenticated peers and their liveness.
//!
//! A node learns a peer's identity through a three-message handshake that proves both sides
//! hold their identity keys and that each one receives at the address it claims:
//!
//! ```text
//! A → B  Hello        { A's identity, nonce_a, padding }
//! B → A  HelloAck     { B's identity, nonce_b, nonce_a, sig_B(ACK_LABEL ‖ transcript) }
//! A → B  HelloConfirm { nonce_b, sig_A(CONFIRM_LABEL ‖ transcript) }
//! transcript = nonce_a ‖ nonce_b ‖ A's identity ‖ B's identity
//! ```
//!
//! Each link is kept alive from one end: the peer with the smaller member id pings every
//! `keepalive_interval` (every `handshake_retry` while a ping is unanswered). Its pong proves the
//! answerer alive; the pinger's next ping echoes the pong's nonce, which proves the pinger alive
//! to the answerer, so the answerer need not ping back. The answerer pings only when the
//! pinger's authenticated pings stop for half an interval more than they should. A peer silent
//! for `peer_timeout` is dropped. The initiator resends its
//! `HelloConfirm` with each ping until the first pong, so a lost confirmation cannot leave one
//! side knowing the other and not the reverse. Every table is bounded by
//! [`Config`](crate::Config).
//!
//! On this table run peer exchange ([`exchange`]: learning more peers) and gossip ([`gossip`]:
//! node-level announcements by rumor mongering and anti-entropy). Only verified peers are
//! answered; anything else from an unverified address is dropped.

mod exchange;
mod gossip;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use rand_core::Rng;
use tracing::debug;

use crate::Event;
use crate::bounded_map::evict_oldest_if_full;
use crate::crypto::PublicIdentity;
use crate::ids::MemberId;
use crate::node::Ctx;
use crate::time::Timestamp;
use crate::wire::{
    Announcement, AnnouncementBody, BoundedBytes, HandshakeNonce, Hello, HelloAck, HelloConfirm,
    Packet, Probe,
};
use exchange::Exchange;
use gossip::Gossip;

const ACK_LABEL: &[u8] = b"peerster/hello-ack/v1";
const CONFIRM_LABEL: &[u8] = b"peerster/hello-confirm/v1";

/// Encoded size of a `HelloAck`: version, tag, identity, two nonces, signature. A `Hello`
/// must be at least this large.
const HELLO_ACK_LEN: usize = 1 + 1 + 32 + 16 + 16 + 64;
/// Encoded size of a `Hello` without padding: version, tag, identity, nonce, padding length.
const HELLO_UNPADDED_LEN: usize = 1 + 1 + 32 + 16 + 1;

/// A peer whose identity was proven by a handshake.
#[derive(Clone, Debug)]
pub struct Peer {
    /// The peer's long-term public identity.
    pub identity: PublicIdentity,
    /// The fingerprint of `identity`.
    pub id: MemberId,
    /// When the peer last proved it is alive.
    pub last_heard: Timestamp,
    next_ping: Timestamp,
    /// Whether this end keeps the link alive (its member id is the smaller): the other end
    /// pings only when this one's pings stop.
    keeps_alive: bool,
    /// The nonce of our unanswered ping, which the pong must echo.
    outstanding_ping: Option<[u8; 8]>,
    /// The nonce of our last pong to the peer, which its next ping must echo to count as a
    /// sign of life.
    challenge: Option<[u8; 8]>,
    /// The nonce of the peer's last pong to us, echoed in our pings.
    answer: [u8; 8],
    /// Our `HelloConfirm`, until the peer shows it received it by answering a ping; resent
    /// with every unanswered ping, so a lost confirmation does not leave the peer without us.
    unconfirmed: Option<HelloConfirm>,
}

/// A handshake this node started and is waiting to hear back on.
#[derive(Debug)]
struct Outgoing {
    nonce: HandshakeNonce,
    started: Timestamp,
    attempts: u32,
    next_retry: Timestamp,
}

/// A handshake a peer started with this node, answered and waiting for its confirmation.
#[derive(Debug)]
struct Incoming {
    identity: PublicIdentity,
    their_nonce: HandshakeNonce,
    our_nonce: HandshakeNonce,
    started: Timestamp,
    expires: Timestamp,
}

/// The overlay state machine: the peer table, the handshakes in flight, peer exchange and
/// gossip.
#[derive(Debug)]
pub(crate) struct Overlay {
    peers: BTreeMap<SocketAddr, Peer>,
    outgoing: BTreeMap<SocketAddr, Outgoing>,
    incoming: BTreeMap<SocketAddr, Incoming>,
    exchange: Exchange,
    gossip: Gossip,
    /// The earliest moment `handle_timeout` has work to do, brought up to date by every
    /// method that changes the state (the node polls it after every input, most of which are
    /// not the overlay's).
    deadline: Timestamp,
}

impl Overlay {
    pub(crate) fn new(now: Timestamp) -> Self {
        Overlay {
            peers: BTreeMap::new(),
            outgoing: BTreeMap::new(),
            incoming: BTreeMap::new(),
            exchange: Exchange::new(now),
            gossip: Gossip::new(now),
            deadline: now,
        }
    }

    /// The newest announcement held from each origin.
    pub(crate) fn announcements(&self) -> impl Iterator<Item = &Announcement> {
        self.gossip.announcements()
    }

    /// Announces `body` as this node's newest announcement.
    pub(crate) fn announce(
        &mut self,
        now: Timestamp,
        body: AnnouncementBody,
        ctx: &mut Ctx<'_>,
    ) -> u64 {
        let seq = self.gossip.announce(now, body, &self.peers, ctx);
        self.deadline = self.next_deadline(ctx.config);
        seq
    }

    /// The verified peers, by address.
    pub(crate) fn peers(&self) -> &BTreeMap<SocketAddr, Peer> {
        &self.peers
    }

    /// Starts a handshake with `addr`, unless one is already in flight.
    pub(crate) fn connect(&mut self, now: Timestamp, addr: SocketAddr, ctx: &mut Ctx<'_>) {
        self.exchange.bootstrap(addr);
        self.dial(now, addr, ctx);
        self.deadline = self.next_deadline(ctx.config);
    }

    /// Starts a handshake with `addr` unless one is in flight or `addr` is our own.
    fn dial(&mut self, now: Timestamp, addr: SocketAddr, ctx: &mut Ctx<'_>) {
        if self.outgoing.contains_key(&addr) || self.exchange.is_self(&addr) {
            return;
        }
        evict_oldest_if_full(&mut self.outgoing, ctx.config.max_pending_handshakes, |o| {
            o.started
        });
        let mut nonce = [0; 16];
        ctx.rng.fill_bytes(&mut nonce);
        let outgoing = Outgoing {
            nonce,
            started: now,
            attempts: 1,
            next_retry: now + ctx.config.handshake_retry,
        };
        send_hello(addr, &outgoing, ctx);
        self.outgoing.insert(addr, outgoing);
    }

    /// Handles an overlay packet from `from`. `len` is the datagram's size.
    pub(crate) fn handle(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        len: usize,
        packet: Packet,
        ctx: &mut Ctx<'_>,
    ) {
        match packet {
            Packet::Hello(hello) => self.on_hello(now, from, len, hello, ctx),
            Packet::HelloAck(ack) => self.on_hello_ack(now, from, ack, ctx),
            Packet::HelloConfirm(confirm) => self.on_hello_confirm(now, from, confirm, ctx),
            Packet::Ping(probe) => self.on_ping(now, from, probe, ctx),
            Packet::Pong(probe) => self.on_pong(now, from, probe, ctx),
            // Cluster and join frames are the cluster layer's; the node routes them there.
            Packet::Sealed(_) | Packet::Join(_) => ctx.stats.dropped.unexpected += 1,
            _ if !self.peers.contains_key(&from) => ctx.stats.dropped.unexpected += 1,
            Packet::PeerList(list) => self.exchange.on_list(now, from, list, &self.peers, ctx),
            Packet::Rumor(rumor) => self.gossip.on_rumor(now, from, rumor, &self.peers, ctx),
            Packet::Status(status) => self.gossip.on_status(now, from, status, ctx),
            Packet::StatusRange(range) => self.gossip.on_status_range(now, from, range, ctx),
        }
        self.deadline = self.next_deadline(ctx.config);
    }

    fn on_hello(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        len: usize,
        hello: Hello,
        ctx: &mut Ctx<'_>,
    ) {
        if len < HELLO_ACK_LEN {
            ctx.stats.dropped.unpadded_hello += 1;
            return;
        }
        if hello.identity == ctx.identity.public() {
            // Our own Hello came back: `from` is one of our addresses. Stop trying it.
            self.exchange.learned_self(from);
            self.outgoing.remove(&from);
            ctx.stats.dropped.unexpected += 1;
            return;
        }
        if !self.incoming.contains_key(&from) {
            evict_oldest_if_full(&mut self.incoming, ctx.config.max_pending_handshakes, |i| {
                i.started
            });
        }
        let mut our_nonce = [0; 16];
        ctx.rng.fill_bytes(&mut our_nonce);
        let us = ctx.identity.public();
        let transcript = transcript(ACK_LABEL, &hello.nonce, &our_nonce, &hello.identity, &us);
        let ack = HelloAck {
            identity: us,
            nonce: our_nonce,
            echo: hello.nonce,
            signature: ctx.identity.sign(&transcript),
        };
        ctx.out.send(ctx.stats, from, &Packet::HelloAck(ack));
        let window = handshake_window(ctx.config);
        self.incoming.insert(
            from,
            Incoming {
                identity: hello.identity,
                their_nonce: hello.nonce,
                our_nonce,
                started: now,
                expires: now + window,
            },
        );
    }

    fn on_hello_ack(&mut self, now: Timestamp, from: SocketAddr, ack: HelloAck, ctx: &mut Ctx<'_>) {
        let Some(outgoing) = self.outgoing.get(&from) else {
            ctx.stats.dropped.unexpected += 1;
            return;
        };
        let us = ctx.identity.public();
        if ack.echo != outgoing.nonce || ack.identity == us {
            ctx.stats.dropped.unexpected += 1;
            return;
        }
        let signed = transcript(ACK_LABEL, &outgoing.nonce, &ack.nonce, &us, &ack.identity);
        if ctx
            .verifier
            .verify(&ack.identity, &signed, &ack.signature)
            .is_err()
        {
            ctx.stats.dropped.bad_signature += 1;
            return;
        }
        let ours = transcript(
            CONFIRM_LABEL,
            &outgoing.nonce,
            &ack.nonce,
            &us,
            &ack.identity,
        );
        let confirm = HelloConfirm {
            echo: ack.nonce,
            signature: ctx.identity.sign(&ours),
        };
        ctx.out
            .send(ctx.stats, from, &Packet::HelloConfirm(confirm.clone()));
        self.outgoing.remove(&from);
        if let Some(peer) = self.verified(now, from, ack.identity, ctx) {
            // The answerer knows us once our confirmation arrives; its first pong says so.
            peer.unconfirmed = Some(confirm);
            ping(from, peer, now, ctx);
        }
    }

    fn on_hello_confirm(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        confirm: HelloConfirm,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(incoming) = self.incoming.get(&from) else {
            ctx.stats.dropped.unexpected += 1;
            return;
        };
        if confirm.echo != incoming.our_nonce {
            ctx.stats.dropped.unexpected += 1;
            return;
        }
        let signed = transcript(
            CONFIRM_LABEL,
            &incoming.their_nonce,
            &incoming.our_nonce,
            &incoming.identity,
            &ctx.identity.public(),
        );
        if incoming
            .identity
            .verify(&signed, &confirm.signature)
            .is_err()
        {
            ctx.stats.dropped.bad_signature += 1;
            return;
        }
        let identity = incoming.identity;
        self.incoming.remove(&from);
        self.verified(now, from, identity, ctx);
    }

    /// Records `identity` as the verified peer at `addr` and returns its entry, or `None` if
    /// the peer table is full.
    fn verified(
        &mut self,
        now: Timestamp,
        addr: SocketAddr,
        identity: PublicIdentity,
        ctx: &mut Ctx<'_>,
    ) -> Option<&mut Peer> {
        ctx.stats.handshakes_completed += 1;
        let known = self
            .peers
            .get(&addr)
            .is_some_and(|p| p.identity == identity);
        if !known && !self.peers.contains_key(&addr) && self.peers.len() >= ctx.config.max_peers {
            // The table is full of live peers: keep them, forget the newcomer.
            debug!(%addr, "peer table full");
            return None;
        }
        let id = identity.member_id();
        let peer = Peer {
            identity,
            id,
            last_heard: now,
            next_ping: now + ctx.config.keepalive_interval,
            keeps_alive: ctx.identity.public().member_id() < id,
            outstanding_ping: None,
            challenge: None,
            answer: [0; 8],
            unconfirmed: None,
        };
        self.peers.insert(addr, peer);
        self.exchange.connected(addr);
        if !known {
            self.exchange.send_list(addr, &self.peers, false, ctx);
            self.gossip.greet(now, addr, ctx);
            debug!(%addr, peer = %id, "peer verified");
            ctx.out.emit(
                ctx.stats,
                Event::PeerVerified {
                    addr,
                    peer: id,
                    identity,
                },
            );
        }
        self.peers.get_mut(&addr)
    }

    fn on_ping(&mut self, now: Timestamp, from: SocketAddr, probe: Probe, ctx: &mut Ctx<'_>) {
        // Only verified peers get an answer, so a spoofed ping cannot aim pongs at a stranger.
        let Some(peer) = self.peers.get_mut(&from) else {
            ctx.stats.dropped.unexpected += 1;
            return;
        };
        if peer.challenge == Some(probe.echo) {
            // The peer received our last pong: it is alive at its address, and it has us
            // verified (it pings only its peers), so our confirmation reached it.
            peer.last_heard = now;
            peer.unconfirmed = None;
            peer.outstanding_ping = None;
            if !peer.keeps_alive {
                peer.next_ping = now + ctx.config.keepalive_interval * 3 / 2;
            }
        }
        let mut nonce = [0; 8];
        ctx.rng.fill_bytes(&mut nonce);
        peer.challenge = Some(nonce);
        let pong = Probe {
            nonce,
            echo: probe.nonce,
        };
        ctx.out.send(ctx.stats, from, &Packet::Pong(pong));
    }

    fn on_pong(&mut self, now: Timestamp, from: SocketAddr, probe: Probe, ctx: &mut Ctx<'_>) {
        match self.peers.get_mut(&from) {
            Some(peer) if peer.outstanding_ping == Some(probe.echo) => {
                peer.outstanding_ping = None;
                peer.answer = probe.nonce;
                peer.unconfirmed = None;
                peer.last_heard = now;
                peer.next_ping = now + ctx.config.keepalive_interval;
            }
            _ => ctx.stats.dropped.unexpected += 1,
        }
    }

    /// Retries or gives up handshakes, pings peers and drops the silent ones.
    pub(crate) fn handle_timeout(&mut self, now: Timestamp, ctx: &mut Ctx<'_>) {
        let mut unreachable = Vec::new();
        for (&addr, outgoing) in self.outgoing.iter_mut() {
            if now < outgoing.next_retry {
                continue;
            }
            if outgoing.attempts >= ctx.config.handshake_attempts {
                unreachable.push(addr);
                continue;
            }
            outgoing.attempts += 1;
            let backoff = ctx.config.handshake_retry * (1 << (outgoing.attempts - 1).min(16));
            outgoing.next_retry = now + backoff;
            send_hello(addr, outgoing, ctx);
        }
        for addr in unreachable {
            self.outgoing.remove(&addr);
            self.exchange.gave_up(now, addr, ctx.config.gossip_interval);
            debug!(%addr, "handshake gave up");
            ctx.out.emit(ctx.stats, Event::PeerUnreachable { addr });
        }

        self.incoming.retain(|_, incoming| now < incoming.expires);

        let timeout = ctx.config.peer_timeout;
        // An answerer that has not acknowledged our confirmation within its handshake window
        // has forgotten the handshake: give up on it sooner than on a silent peer, and dial
        // again. Until then every retry is a chance, under loss, to hear its first pong.
        let unconfirmed_timeout = handshake_window(ctx.config);
        let mut lost = Vec::new();
        for (&addr, peer) in self.peers.iter_mut() {
            let silent_for = now - peer.last_heard;
            let given_up = if peer.unconfirmed.is_some() {
                silent_for >= unconfirmed_timeout
            } else {
                silent_for >= timeout
            };
            if given_up {
                lost.push((addr, peer.id));
                continue;
            }
            if now >= peer.next_ping {
                if let Some(confirm) = &peer.unconfirmed {
                    ctx.out
                        .send(ctx.stats, addr, &Packet::HelloConfirm(confirm.clone()));
                }
                ping(addr, peer, now, ctx);
            }
        }
        for (addr, peer) in lost {
            self.peers.remove(&addr);
            self.exchange.gave_up(now, addr, ctx.config.gossip_interval);
            debug!(%addr, %peer, "peer lost");
            ctx.out.emit(ctx.stats, Event::PeerLost { addr, peer });
        }

        self.gossip.handle_timeout(now, &self.peers, ctx);
        let pending = self.outgoing.len();
        for addr in self.exchange.handle_timeout(now, &self.peers, pending, ctx) {
            self.dial(now, addr, ctx);
        }
        self.deadline = self.next_deadline(ctx.config);
    }

    /// The earliest moment [`Overlay::handle_timeout`] has work to do.
    pub(crate) fn poll_timeout(&self, config: &crate::Config) -> Timestamp {
        debug_assert_eq!(self.deadline, self.next_deadline(config));
        self.deadline
    }

    fn next_deadline(&self, config: &crate::Config) -> Timestamp {
        let retries = self.outgoing.values().map(|o| o.next_retry);
        let expiries = self.incoming.values().map(|i| i.expires);
        let peers = self
            .peers
            .values()
            .map(|p| p.next_ping.min(p.last_heard + config.peer_timeout));
        let gossip = self.gossip.poll_timeout().min(self.exchange.poll_timeout());
        retries
            .chain(expiries)
            .chain(peers)
            .fold(gossip, Timestamp::min)
    }
}

/// How long an answerer keeps a handshake open for its confirmation: long enough for the
/// initiator to resend it `handshake_attempts` times, twice over.
fn handshake_window(config: &crate::Config) -> core::time::Duration {
    config.handshake_retry * config.handshake_attempts * 2
}

/// One peer drawn uniformly, if there is any.
pub(crate) fn random_peer(
    peers: &BTreeMap<SocketAddr, Peer>,
    rng: &mut impl Rng,
) -> Option<SocketAddr> {
    if peers.is_empty() {
        return None;
    }
    let pick = (rng.next_u64() % peers.len() as u64) as usize;
    peers.keys().nth(pick).copied()
}

/// Up to `k` distinct random peers other than `except`.
pub(crate) fn random_peers(
    peers: &BTreeMap<SocketAddr, Peer>,
    except: Option<SocketAddr>,
    k: usize,
    rng: &mut impl Rng,
) -> Vec<SocketAddr> {
    let candidates: Vec<SocketAddr> = peers
        .keys()
        .copied()
        .filter(|a| Some(*a) != except)
        .collect();
    crate::sample::sample(candidates, k, rng)
}

/// Pings `peer`, reusing the outstanding nonce if the last ping is unanswered (so a late pong
/// still counts), and schedules a retry in case this one is lost too.
fn ping(addr: SocketAddr, peer: &mut Peer, now: Timestamp, ctx: &mut Ctx<'_>) {
    let nonce = *peer.outstanding_ping.get_or_insert_with(|| {
        let mut nonce = [0; 8];
        ctx.rng.fill_bytes(&mut nonce);
        nonce
    });
    peer.next_ping = now + ctx.config.handshake_retry;
    let probe = Probe {
        nonce,
        echo: peer.answer,
    };
    ctx.out.send(ctx.stats, addr, &Packet::Ping(probe));
}

fn send_hello(addr: SocketAddr, outgoing: &Outgoing, ctx: &mut Ctx<'_>) {
    let padding = vec![0; HELLO_ACK_LEN.saturating_sub(HELLO_UNPADDED_LEN)];
    let hello = Hello {
        identity: ctx.identity.public(),
        nonce: outgoing.nonce,
        // The padding is a small constant below the bound.
        padding: BoundedBytes::new(padding).unwrap_or_default(),
    };
    ctx.out.send(ctx.stats, addr, &Packet::Hello(hello));
}

/// The bytes a handshake signature covers: a label, both nonces and both identities.
fn transcript(
    label: &[u8],
    initiator_nonce: &HandshakeNonce,
    answerer_nonce: &HandshakeNonce,
    initiator: &PublicIdentity,
    answerer: &PublicIdentity,
) -> Vec<u8> {
    let mut t = Vec::with_capacity(label.len() + 2 * 16 + 2 * 32);
    t.extend_from_slice(label);
    t.extend_from_slice(initiator_nonce);
    t.extend_from_slice(answerer_nonce);
    t.extend_from_slice(initiator.as_bytes());
    t.extend_from_slice(answerer.as_bytes());
    t
}
