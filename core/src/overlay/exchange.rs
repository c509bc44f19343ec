//! Peer exchange: a node started with one address learns the others.
//!
//! Right after a handshake, and every `peer_exchange_interval` to one random peer, a node sends
//! a [`PeerList`] of the addresses of its other verified peers. A node short of peers with an
//! empty address book asks a random peer for its list every `gossip_interval`. Addresses learned this way go
//! into a bounded address book; while the node has fewer than `target_peers` peers (handshakes
//! in flight included), it connects to random addresses from the book. An address that turns
//! out to be the node itself is remembered and never tried again.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use rand_core::Rng;

use super::{Peer, random_peers};
use crate::node::Ctx;
use crate::time::Timestamp;
use crate::wire::{BoundedVec, Packet, PeerAddr, PeerList};

/// How many of our own addresses we remember (a node has few).
const MAX_SELF_ADDRS: usize = 8;
/// How many user-given addresses are retried for ever.
const MAX_BOOTSTRAP: usize = 16;

/// The address book and the peer-exchange schedule.
#[derive(Debug)]
pub(crate) struct Exchange {
    /// Learned addresses not yet tried, with when they were learned.
    known: BTreeMap<SocketAddr, Timestamp>,
    /// Addresses at which a `Hello` of ours came back to us.
    self_addrs: BTreeSet<SocketAddr>,
    /// Addresses the user asked to connect to: a failed handshake to one of them puts it back
    /// in the address book, so a node whose only contact was briefly unreachable retries it.
    bootstrap: BTreeSet<SocketAddr>,
    next_list: Timestamp,
    /// When we may next ask a peer for its list.
    next_request: Timestamp,
}

impl Exchange {
    pub(crate) fn new(now: Timestamp) -> Self {
        Exchange {
            known: BTreeMap::new(),
            self_addrs: BTreeSet::new(),
            bootstrap: BTreeSet::new(),
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

    /// Remembers `addr` as given by the user, to be retried whenever it fails.
    pub(crate) fn bootstrap(&mut self, addr: SocketAddr) {
        if self.bootstrap.len() < MAX_BOOTSTRAP {
            self.bootstrap.insert(addr);
        }
    }

    /// A handshake to `addr` gave up: a bootstrap address goes back into the address book.
    pub(crate) fn gave_up(&mut self, now: Timestamp, addr: SocketAddr, max_known: usize) {
        if self.bootstrap.contains(&addr) && self.known.len() < max_known {
            self.known.insert(addr, now);
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
            if self.known.len() >= max_known {
                let oldest = self.known.iter().min_by_key(|(_, t)| **t).map(|(a, _)| *a);
                if let Some(oldest) = oldest {
                    self.known.remove(&oldest);
                }
            }
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
            if let Some(&to) = random_peers(peers, None, 1, ctx.rng).first() {
                self.send_list(to, peers, false, ctx);
            }
        }
        let mut wanted = ctx
            .config
            .target_peers
            .saturating_sub(peers.len() + pending);
        if wanted > 0 && self.known.is_empty() && now >= self.next_request {
            self.next_request = now + ctx.config.gossip_interval;
            if let Some(&to) = random_peers(peers, None, 1, ctx.rng).first() {
                self.send_list(to, peers, true, ctx);
            }
        }
        let mut connect = Vec::new();
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

    /// When the next list is due.
    pub(crate) fn poll_timeout(&self) -> Timestamp {
        self.next_list
    }
}
