//! Node-level announcements: rumor mongering, with anti-entropy to repair what it missed.
//!
//! Each node keeps the newest signed announcement of each origin (bounded by
//! `Config::max_announcements`). A new one is pushed to `gossip_fanout` random peers by every
//! node that accepts it; duplicates and older ones are dropped before their signature is even
//! checked. Every `gossip_interval` (every `gossip_idle_interval` once nothing has changed for
//! `gossip_idle_after`) a node sends one random peer a [`Status`]: an XOR digest of
//! the `(origin, seq)` pairs in each of [`STATUS_BUCKETS`] buckets. For each bucket whose
//! digest differs, the peer answers with its entries ([`StatusRange`]s), and the node pushes
//! what the peer lacks; if the peer holds something the node lacks, the node answers with its
//! own entries for that range, and the peer pushes. Every message is bounded by a datagram.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use sha2::{Digest, Sha256};
use tracing::debug;

use super::{Peer, random_peer, random_peers};
use crate::Event;
use crate::bounded_map::oldest_key;
use crate::ids::MemberId;
use crate::node::Ctx;
use crate::time::Timestamp;
use crate::wire::{
    Announcement, AnnouncementBody, BoundedVec, Packet, STATUS_BUCKETS, Status, StatusRange,
};

const STATUS_ENTRY_LABEL: &[u8] = b"peerster/status-entry/v1";

/// An announcement held, with when it arrived (the oldest is evicted first).
#[derive(Debug)]
struct Held {
    announcement: Announcement,
    received: Timestamp,
}

/// The announcement store and the anti-entropy schedule.
#[derive(Debug)]
pub(crate) struct Gossip {
    store: BTreeMap<MemberId, Held>,
    digests: [u64; STATUS_BUCKETS],
    own_seq: u64,
    own_body: Option<AnnouncementBody>,
    next_status: Timestamp,
    /// When the store last changed or a peer's status last differed from ours: the status
    /// pace is fast for `gossip_idle_after` from then.
    last_change: Timestamp,
}

impl Gossip {
    pub(crate) fn new(now: Timestamp) -> Self {
        Gossip {
            store: BTreeMap::new(),
            digests: [0; STATUS_BUCKETS],
            own_seq: 0,
            own_body: None,
            next_status: now,
            last_change: now,
        }
    }

    /// The newest announcement held from each origin.
    pub(crate) fn announcements(&self) -> impl Iterator<Item = &Announcement> {
        self.store.values().map(|h| &h.announcement)
    }

    /// Signs `body` as this node's next announcement, stores it and pushes it to peers.
    pub(crate) fn announce(
        &mut self,
        now: Timestamp,
        body: AnnouncementBody,
        peers: &BTreeMap<SocketAddr, Peer>,
        ctx: &mut Ctx<'_>,
    ) -> u64 {
        self.own_seq += 1;
        self.own_body = Some(body.clone());
        let announcement = Announcement::new_signed(ctx.identity, self.own_seq, body);
        self.insert(now, announcement.clone(), ctx.config);
        push(&announcement, peers, None, ctx);
        self.own_seq
    }

    /// Handles a rumor from the verified peer at `from`.
    pub(crate) fn on_rumor(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        announcement: Announcement,
        peers: &BTreeMap<SocketAddr, Peer>,
        ctx: &mut Ctx<'_>,
    ) {
        let origin = announcement.origin.member_id();
        let held_seq = self.store.get(&origin).map(|h| h.announcement.seq);
        if held_seq.is_some_and(|seq| seq >= announcement.seq) {
            ctx.stats.dropped.duplicate += 1;
            return;
        }
        if announcement.verify_with(ctx.verifier).is_err() {
            ctx.stats.dropped.bad_signature += 1;
            return;
        }
        if announcement.origin == ctx.identity.public() {
            // Our own announcement from before a restart, numbered past ours: continue after
            // it, so peers take what we announce now as the newest.
            self.own_seq = self.own_seq.max(announcement.seq);
            match self.own_body.clone() {
                Some(body) => {
                    self.announce(now, body, peers, ctx);
                }
                None => self.insert(now, announcement, ctx.config),
            }
            return;
        }
        debug!(origin = %origin, seq = announcement.seq, "announcement accepted");
        ctx.stats.announcements_accepted += 1;
        push(&announcement, peers, Some(from), ctx);
        ctx.out.emit(
            ctx.stats,
            Event::Announcement {
                origin,
                identity: announcement.origin,
                seq: announcement.seq,
                body: announcement.body.clone(),
            },
        );
        self.insert(now, announcement, ctx.config);
    }

    /// Answers a status: our entries of every bucket whose digest differs from the peer's.
    pub(crate) fn on_status(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        status: Status,
        ctx: &mut Ctx<'_>,
    ) {
        if status.digests.len() != STATUS_BUCKETS {
            ctx.stats.dropped.malformed += 1;
            return;
        }
        for (bucket, theirs) in status.digests.iter().enumerate() {
            if u64::from_le_bytes(*theirs) == self.digests[bucket] {
                continue;
            }
            self.changed(now, ctx.config);
            for range in self.ranges(bucket) {
                ctx.out.send(ctx.stats, from, &Packet::StatusRange(range));
            }
        }
    }

    /// Pushes the peer what it lacks in a range, and asks for what we lack by sending our own
    /// entries of the range back.
    pub(crate) fn on_status_range(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        range: StatusRange,
        ctx: &mut Ctx<'_>,
    ) {
        let bucket = usize::from(range.bucket);
        let sorted = range.entries.windows(2).all(|w| w[0].0 < w[1].0);
        let in_range = |id: &MemberId| {
            bucket_of(id) == bucket
                && range.start.is_none_or(|s| *id >= s)
                && range.end.is_none_or(|e| *id < e)
        };
        if bucket >= STATUS_BUCKETS || !sorted || !range.entries.iter().all(|(id, _)| in_range(id))
        {
            ctx.stats.dropped.malformed += 1;
            return;
        }
        // A range comes only where digests differ: there is something to repair.
        self.changed(now, ctx.config);
        let theirs: BTreeMap<MemberId, u64> = range.entries.iter().copied().collect();
        for (id, held) in self.store.iter().filter(|(id, _)| in_range(id)) {
            if theirs
                .get(id)
                .is_none_or(|&seq| seq < held.announcement.seq)
            {
                ctx.out
                    .send(ctx.stats, from, &Packet::Rumor(held.announcement.clone()));
            }
        }
        let we_lack = theirs.iter().any(|(id, &seq)| {
            self.store
                .get(id)
                .is_none_or(|held| held.announcement.seq < seq)
        });
        if we_lack {
            let ours = self
                .store
                .iter()
                .filter(|(id, _)| in_range(id))
                .map(|(id, held)| (*id, held.announcement.seq))
                .collect::<Vec<_>>();
            for chunk in ours.chunks(StatusRange::MAX) {
                ctx.out.send(
                    ctx.stats,
                    from,
                    &Packet::StatusRange(StatusRange {
                        bucket: range.bucket,
                        start: range.start,
                        end: range.end,
                        entries: BoundedVec::truncating(chunk.to_vec()),
                    }),
                );
            }
            if ours.is_empty() {
                ctx.out.send(
                    ctx.stats,
                    from,
                    &Packet::StatusRange(StatusRange {
                        entries: BoundedVec::default(),
                        ..range
                    }),
                );
            }
        }
    }

    /// Greets a new peer: our status at once, and the fast pace for a while, since a new peer
    /// may hold what we lack (or lack what we hold) and the first status may be lost.
    pub(crate) fn greet(&mut self, now: Timestamp, to: SocketAddr, ctx: &mut Ctx<'_>) {
        self.changed(now, ctx.config);
        self.send_status(to, ctx);
    }

    /// Sends `to` our status.
    fn send_status(&self, to: SocketAddr, ctx: &mut Ctx<'_>) {
        let digests = self.digests.iter().map(|d| d.to_le_bytes()).collect();
        let status = Status {
            digests: BoundedVec::truncating(digests),
        };
        ctx.out.send(ctx.stats, to, &Packet::Status(status));
    }

    /// Sends a status to a random peer when one is due.
    pub(crate) fn handle_timeout(
        &mut self,
        now: Timestamp,
        peers: &BTreeMap<SocketAddr, Peer>,
        ctx: &mut Ctx<'_>,
    ) {
        if now < self.next_status {
            return;
        }
        let idle = now >= self.last_change + ctx.config.gossip_idle_after;
        self.next_status = now
            + if idle {
                ctx.config.gossip_idle_interval
            } else {
                ctx.config.gossip_interval
            };
        if let Some(peer) = random_peer(peers, ctx.rng) {
            self.send_status(peer, ctx);
        }
    }

    /// Notes that there is something to repair or spread: statuses go at the fast pace again.
    fn changed(&mut self, now: Timestamp, config: &crate::Config) {
        self.last_change = now;
        self.next_status = self.next_status.min(now + config.gossip_interval);
    }

    /// When the next status is due.
    pub(crate) fn poll_timeout(&self) -> Timestamp {
        self.next_status
    }

    /// Our entries of `bucket`, in ranges that each fit a datagram and together cover the
    /// whole bucket.
    fn ranges(&self, bucket: usize) -> Vec<StatusRange> {
        let entries: Vec<(MemberId, u64)> = self
            .store
            .iter()
            .filter(|(id, _)| bucket_of(id) == bucket)
            .map(|(id, held)| (*id, held.announcement.seq))
            .collect();
        let chunks: Vec<&[(MemberId, u64)]> = entries.chunks(StatusRange::MAX).collect();
        if chunks.is_empty() {
            return vec![StatusRange {
                bucket: bucket as u8,
                start: None,
                end: None,
                entries: BoundedVec::default(),
            }];
        }
        chunks
            .iter()
            .enumerate()
            .map(|(i, chunk)| StatusRange {
                bucket: bucket as u8,
                start: (i > 0).then(|| chunk[0].0),
                end: chunks.get(i + 1).map(|next| next[0].0),
                entries: BoundedVec::truncating(chunk.to_vec()),
            })
            .collect()
    }

    /// Stores `announcement` as its origin's newest, evicting the oldest other entry if full.
    fn insert(&mut self, now: Timestamp, announcement: Announcement, config: &crate::Config) {
        self.changed(now, config);
        let id = announcement.origin.member_id();
        if !self.store.contains_key(&id)
            && self.store.len() >= config.max_announcements
            && let Some(oldest) = oldest_key(&self.store, |held| held.received)
        {
            self.remove(&oldest);
        }
        self.remove(&id);
        self.digests[bucket_of(&id)] ^= entry_hash(&id, announcement.seq);
        self.store.insert(
            id,
            Held {
                announcement,
                received: now,
            },
        );
    }

    fn remove(&mut self, id: &MemberId) {
        if let Some(held) = self.store.remove(id) {
            self.digests[bucket_of(id)] ^= entry_hash(id, held.announcement.seq);
        }
    }
}

/// Pushes `announcement` to `gossip_fanout` random peers other than `except`.
fn push(
    announcement: &Announcement,
    peers: &BTreeMap<SocketAddr, Peer>,
    except: Option<SocketAddr>,
    ctx: &mut Ctx<'_>,
) {
    for peer in random_peers(peers, except, ctx.config.gossip_fanout, ctx.rng) {
        ctx.out
            .send(ctx.stats, peer, &Packet::Rumor(announcement.clone()));
    }
}

/// The anti-entropy bucket of an origin.
fn bucket_of(id: &MemberId) -> usize {
    usize::from(id.0[0]) % STATUS_BUCKETS
}

/// The 8-byte hash of one `(origin, seq)` entry; a bucket's digest is the XOR of its entries'.
fn entry_hash(id: &MemberId, seq: u64) -> u64 {
    let digest = Sha256::new()
        .chain_update(STATUS_ENTRY_LABEL)
        .chain_update(id.0)
        .chain_update(seq.to_be_bytes())
        .finalize();
    let mut first = [0; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}
