//! Peer exchange: a node started with one address learns the others.
//!
//! Right after a handshake, and every `peer_exchange_interval` to one random peer, a node sends
//! a [`PeerList`] of the addresses of its other verified peers. A node short of peers with an
//! empty address book asks a random peer for its list every `gossip_interval`. Addresses learned this way go
//! into a bounded address book; while the node has fewer than `target_peers` peers (handshakes
//! in flight included), it connects to random addresses from the book. Addresses the user
//! gave are kept connected: redialled after a failure or a loss, with a growing pause. An
//! address that turns out to be the node itself is remembered and never tried again.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use rand_core::Rng;

use super::{Peer, random_peer, random_peers};
use crate::bounded_map::evict_oldest_if_full;
use crate::node::Ctx;
use crate::time::Timestamp;
use crate::wire::{BoundedVec, Packet, PeerAddr, PeerList};

/// How many of our own addresses we remember (a node has few).
const MAX_SELF_ADDRS: usize = 8;
/// How many user-given addresses are kept connected.
const MAX_BOOTSTRAP: usize = 16;
/// The pause before redialling a bootstrap address doubles at most this many times.
const MAX_REDIAL_DOUBLINGS: u32 = 7;

/// When to dial a bootstrap address again.
#[derive(Debug, Default)]
struct Redial {
    /// Failures in a row.
    failures: u32,
    /// When it is due, if it is.
    at: Option<Timestamp>,
}

/// The address book and the peer-exchange schedule.
#[derive(Debug)]
pub(crate) struct Exchange {
    /// Learned addresses not yet tried, with when they were learned.
    known: BTreeMap<SocketAddr, Timestamp>,
    /// Addresses at which a `Hello` of ours came back to us.
    self_addrs: BTreeSet<SocketAddr>,
    /// Addresses the user asked to connect to. They are kept connected: when a handshake to
    /// one fails or the peer is lost, it is dialled again, with a growing pause.
    bootstrap: BTreeMap<SocketAddr, Redial>,
    next_list: Timestamp,
    /// When we may next ask a peer for its list.
    next_request: Timestamp,
}

impl Exchange {
    pub(crate) fn new(now: Timestamp) -> Self {
        Exchange {
            known: BTreeMap::new(),
            self_addrs: BTreeSet::new(),
            bootstrap: BTreeMap::new(),
            next_list: now,
            next_request: now,
        }
    }

    /// Remembers that `addr` reaches this node itself.
    pub(crate) fn learned_self(&mut self, addr: SocketAddr) {
        self.known.remove(&addr);
        if self.self_addrs.len() < MAX_SELF_ADDRS {
            self.self_addrs.insert(addr);
        }
    }

    /// Remembers `addr` as given by the user, to be kept connected.
    pub(crate) fn bootstrap(&mut self, addr: SocketAddr) {
        if self.bootstrap.len() < MAX_BOOTSTRAP || self.bootstrap.contains_key(&addr) {
            self.bootstrap.entry(addr).or_default();
        }
    }

    /// A handshake to `addr` gave up, or the peer there was lost: a bootstrap address is
    /// dialled again after a pause that doubles with each failure in a row (from
    /// `gossip_interval` up to [`MAX_REDIAL_DOUBLINGS`] doublings).
    pub(crate) fn gave_up(&mut self, now: Timestamp, addr: SocketAddr, pause: Duration) {
        if let Some(redial) = self.bootstrap.get_mut(&addr) {
            let doublings = redial.failures.min(MAX_REDIAL_DOUBLINGS);
            redial.failures += 1;
            redial.at = Some(now + pause * (1 << doublings));
        }
    }

    /// A handshake with `addr` succeeded: its bootstrap pause starts over.
    pub(crate) fn connected(&mut self, addr: SocketAddr) {
        if let Some(redial) = self.bootstrap.get_mut(&addr) {
            *redial = Redial::default();
        }
    }

    /// Whether `addr` is known to reach this node itself.
    pub(crate) fn is_self(&self, addr: &SocketAddr) -> bool {
        self.self_addrs.contains(addr)
    }

    /// Sends `to` the addresses of up to [`PeerList::MAX`] of our other peers, asking for its
    /// list in return if `reply_wanted`.
    pub(crate) fn send_list(
        &self,
        to: SocketAddr,
        peers: &BTreeMap<SocketAddr, Peer>,
        reply_wanted: bool,
        ctx: &mut Ctx<'_>,
    ) {
        let addrs: Vec<PeerAddr> = random_peers(peers, Some(to), PeerList::MAX, ctx.rng)
            .into_iter()
            .map(PeerAddr::from)
            .collect();
        if addrs.is_empty() && !reply_wanted {
            return;
        }
        let list = PeerList {
            addrs: BoundedVec::truncating(addrs),
            reply_wanted,
        };
        ctx.out.send(ctx.stats, to, &Packet::PeerList(list));
    }

    /// Adds the addresses of the list of the peer at `from` to the address book, and answers
    /// with our list if it asked.
    pub(crate) fn on_list(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        list: PeerList,
        peers: &BTreeMap<SocketAddr, Peer>,
        ctx: &mut Ctx<'_>,
    ) {
        if list.reply_wanted {
            self.send_list(from, peers, false, ctx);
        }
        let max_known = ctx.config.max_known_addrs;
        for addr in list.addrs.iter().map(|&a| SocketAddr::from(a)) {
            if peers.contains_key(&addr) || self.is_self(&addr) || self.known.contains_key(&addr) {
                continue;
            }
            evict_oldest_if_full(&mut self.known, max_known, |learned| *learned);
            self.known.insert(addr, now);
        }
    }

    /// Sends a list when one is due, and returns the addresses to connect to so that the
    /// node reaches `target_peers` (counting `pending` handshakes).
    pub(crate) fn handle_timeout(
        &mut self,
        now: Timestamp,
        peers: &BTreeMap<SocketAddr, Peer>,
        pending: usize,
        ctx: &mut Ctx<'_>,
    ) -> Vec<SocketAddr> {
        if now >= self.next_list {
            self.next_list = now + ctx.config.peer_exchange_interval;
            if let Some(to) = random_peer(peers, ctx.rng) {
                self.send_list(to, peers, false, ctx);
            }
        }
        let mut wanted = ctx
            .config
            .target_peers
            .saturating_sub(peers.len() + pending);
        if wanted > 0 && self.known.is_empty() && now >= self.next_request {
            self.next_request = now + ctx.config.gossip_interval;
            if let Some(to) = random_peer(peers, ctx.rng) {
                self.send_list(to, peers, true, ctx);
            }
        }
        let mut connect = Vec::new();
        for (addr, redial) in &mut self.bootstrap {
            if redial.at.is_some_and(|at| now >= at) {
                redial.at = None;
                if !peers.contains_key(addr) {
                    connect.push(*addr);
                }
            }
        }
        while wanted > 0 && !self.known.is_empty() {
            let pick = (ctx.rng.next_u64() % self.known.len() as u64) as usize;
            let Some(addr) = self.known.keys().nth(pick).copied() else {
                break;
            };
            self.known.remove(&addr);
            if !peers.contains_key(&addr) {
                connect.push(addr);
                wanted -= 1;
            }
        }
        connect
    }

    /// When the next list or redial is due.
    pub(crate) fn poll_timeout(&self) -> Timestamp {
        let redials = self.bootstrap.values().filter_map(|r| r.at);
        redials.fold(self.next_list, Timestamp::min)
    }
}
