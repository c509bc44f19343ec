//! Confidential posts to the whole cluster: numbering, delivery once and in each author's
//! order, and anti-entropy so that members that lost packets or were away catch up.
//!
//! A post is signed by its author inside the cluster encryption and flooded like every
//! [`Flooded`] object. Each author numbers its posts per epoch ([`PostPosition`]) and names its
//! previous post, so a member delivers an author's posts in order: a post whose predecessor has
//! not been delivered is held back until it is, or until `Config::post_gap_timeout` passes.
//! Every member keeps the last `Config::max_post_history` posts, and now and then tells a
//! random member the last post it delivered from each author ([`PostSync`]); the other answers
//! with what it has beyond that. A member is never sent a post older than the epoch it joined
//! in. The exchanges follow a [`Trickle`] timer: every `Config::post_sync_min_interval` after a
//! new post, twice as long after each exchange until `Config::post_sync_max_interval`.

use std::collections::{BTreeMap, VecDeque};

use tracing::trace;

use crate::bounded_map::evict_oldest_if_full;
use crate::cluster::epoch::EpochState;
use crate::cluster::transport;
use crate::ids::{ClusterId, Epoch, MemberId};
use crate::node::{Ctx, Event};
use crate::time::Timestamp;
use crate::trickle::Trickle;
use crate::wire::cluster::{AuthorHead, Flooded, FrameBody, Post, PostPosition, PostSync, Signed};
use crate::wire::fragment::MessageId;
use crate::wire::{self, BoundedBytes, BoundedVec};

/// A post as kept for anti-entropy.
#[derive(Debug)]
struct StoredPost {
    message: MessageId,
    /// Its encoding as a [`Flooded::Post`].
    bytes: Vec<u8>,
}

/// A post waiting for its author's previous one.
#[derive(Debug)]
struct HeldPost {
    post: Signed<Post>,
    since: Timestamp,
}

/// What the membership a post arrives in looks like, for the chat.
pub(crate) struct ChatView<'a> {
    pub(crate) cluster: ClusterId,
    pub(crate) me: MemberId,
    /// The epoch this member joined in: earlier posts are not for it.
    pub(crate) joined: Epoch,
    pub(crate) current: &'a EpochState,
}

/// One member's posts state.
#[derive(Debug)]
pub(crate) struct Chat {
    /// Where this member's last post stands.
    last_posted: Option<PostPosition>,
    history: BTreeMap<(MemberId, PostPosition), StoredPost>,
    /// History keys in arrival order, to evict the oldest.
    arrival: VecDeque<(MemberId, PostPosition)>,
    /// The last post delivered from each author.
    heads: BTreeMap<MemberId, PostPosition>,
    /// Posts held back, keyed by author and the position of the post they wait for.
    held: BTreeMap<(MemberId, PostPosition), HeldPost>,
    /// When the next anti-entropy exchange is due: soon after a new post, then less and less
    /// often.
    sync: Trickle,
    /// First table index of the next sync, when the table is larger than one sync covers.
    sync_start: usize,
}

impl Chat {
    pub(crate) fn new(now: Timestamp) -> Self {
        Chat {
            last_posted: None,
            history: BTreeMap::new(),
            arrival: VecDeque::new(),
            heads: BTreeMap::new(),
            held: BTreeMap::new(),
            sync: Trickle::new(now),
            sync_start: 0,
        }
    }

    /// A chat resumed after a restart: this member's last post, and the last post delivered
    /// from each author (see [`Chat::resume_point`]). Syncs start at once, to fetch what was
    /// posted meanwhile.
    pub(crate) fn resumed(
        now: Timestamp,
        last_posted: Option<PostPosition>,
        heads: BTreeMap<MemberId, PostPosition>,
    ) -> Self {
        Chat {
            last_posted,
            heads,
            ..Chat::new(now)
        }
    }

    /// Where the chat stands, to resume it after a restart: this member's last post and the
    /// last post delivered from each author.
    pub(crate) fn resume_point(&self) -> (Option<PostPosition>, Vec<(MemberId, PostPosition)>) {
        let heads = self.heads.iter().map(|(a, p)| (*a, *p)).collect();
        (self.last_posted, heads)
    }

    /// Makes this member's next post of `text`: signed, stored, and returned as a flood id
    /// and encoding for the caller to send.
    pub(crate) fn post(
        &mut self,
        now: Timestamp,
        text: BoundedBytes<{ crate::wire::cluster::MAX_POST_BYTES }>,
        view: &ChatView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> (PostPosition, MessageId, Vec<u8>) {
        let epoch = view.current.epoch;
        let position = match self.last_posted {
            Some(last) if last.epoch == epoch => PostPosition {
                epoch,
                seq: last.seq.saturating_add(1),
            },
            _ => PostPosition { epoch, seq: 0 },
        };
        let post = Signed::sign(
            ctx.identity,
            Post {
                cluster: view.cluster,
                author: view.me,
                position,
                prev: self.last_posted,
                text,
            },
        );
        let message = transport::new_message_id(ctx);
        let bytes = wire::encode_payload(&Flooded::Post(post)).unwrap_or_default();
        self.sync.reset(now, ctx.config.post_sync_bounds(), ctx.rng);
        self.store(ctx, view.me, position, message, bytes.clone());
        self.heads.insert(view.me, position);
        self.last_posted = Some(position);
        (position, message, bytes)
    }

    /// Takes a post whose signature and author the caller checked. Returns whether it is new
    /// (and so to be relayed).
    pub(crate) fn on_post(
        &mut self,
        now: Timestamp,
        post: Signed<Post>,
        message: MessageId,
        bytes: Vec<u8>,
        view: &ChatView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let (author, position) = (post.body.author, post.body.position);
        let delivered = self.heads.get(&author).is_some_and(|h| *h >= position);
        if delivered || self.history.contains_key(&(author, position)) {
            ctx.stats.dropped.duplicate += 1;
            return false;
        }
        self.store(ctx, author, position, message, bytes);
        // Something new: others may lack it too, or lack what came with it.
        self.sync.reset(now, ctx.config.post_sync_bounds(), ctx.rng);
        let ready = match (post.body.prev, self.heads.get(&author)) {
            (None, _) => true,
            (Some(prev), Some(head)) => prev == *head,
            (Some(prev), None) => prev.epoch < view.joined,
        };
        if ready {
            self.deliver(post, view, ctx);
        } else if let Some(prev) = post.body.prev {
            trace!(%author, ?position, "post held for its predecessor");
            evict_oldest_if_full(&mut self.held, ctx.config.max_held_posts, |h| h.since);
            self.held
                .insert((author, prev), HeldPost { post, since: now });
        }
        true
    }

    /// Delivers `post` and then every held post that was waiting for it.
    fn deliver(&mut self, post: Signed<Post>, view: &ChatView<'_>, ctx: &mut Ctx<'_>) {
        let mut next = Some(post);
        while let Some(post) = next {
            let Post {
                author,
                position,
                text,
                ..
            } = post.body;
            self.heads.insert(author, position);
            ctx.stats.posts_delivered += 1;
            match String::from_utf8(text.into_inner()) {
                Ok(text) => ctx.out.emit(
                    ctx.stats,
                    Event::Post {
                        cluster: view.cluster,
                        author,
                        position,
                        text,
                    },
                ),
                Err(_) => ctx.stats.dropped.malformed += 1,
            }
            next = self.held.remove(&(author, position)).map(|h| h.post);
        }
    }

    fn store(
        &mut self,
        ctx: &Ctx<'_>,
        author: MemberId,
        position: PostPosition,
        message: MessageId,
        bytes: Vec<u8>,
    ) {
        while self.history.len() >= ctx.config.max_post_history {
            let Some(oldest) = self.arrival.pop_front() else {
                break;
            };
            self.history.remove(&oldest);
        }
        self.history
            .insert((author, position), StoredPost { message, bytes });
        self.arrival.push_back((author, position));
    }

    /// Delivers posts held past the gap timeout (their predecessors are given up), and sends
    /// an anti-entropy sync to a random member when one is due.
    pub(crate) fn handle_timeout(
        &mut self,
        now: Timestamp,
        view: &ChatView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let timeout = ctx.config.post_gap_timeout;
        while let Some(key) = self
            .held
            .iter()
            .filter(|(_, h)| h.since + timeout <= now)
            .map(|(key, _)| *key)
            .next()
        {
            // Of the author's expired posts, the earliest goes first.
            let author = key.0;
            let earliest = self
                .held
                .iter()
                .filter(|((a, _), h)| *a == author && h.since + timeout <= now)
                .min_by_key(|(_, h)| h.post.body.position)
                .map(|(key, _)| *key)
                .unwrap_or(key);
            if let Some(held) = self.held.remove(&earliest) {
                ctx.stats.post_gaps_skipped += 1;
                self.deliver(held.post, view, ctx);
            }
        }
        if self.sync.fire(now, ctx.config.post_sync_bounds(), ctx.rng) {
            let targets = view.current.random_members(&view.me, 1, ctx.rng, |_| true);
            if let Some(&to) = targets.first() {
                let sync = self.sync_message(view, &ctx.config.pad_buckets, true);
                send_sync(ctx, view, to, sync);
            }
        }
    }

    /// The next deadline of the chat.
    pub(crate) fn poll_timeout(&self, config: &crate::Config) -> Timestamp {
        let gap = self
            .held
            .values()
            .map(|h| h.since + config.post_gap_timeout)
            .min();
        let sync = self.sync.deadline();
        gap.map_or(sync, |g| g.min(sync))
    }

    /// This member's heads for the next window of the table.
    fn sync_message(
        &mut self,
        view: &ChatView<'_>,
        buckets: &[usize],
        reply_wanted: bool,
    ) -> PostSync {
        let len = view.current.table.len();
        let first = if self.sync_start >= len {
            0
        } else {
            self.sync_start
        };
        let last = (first + PostSync::MAX).min(len).saturating_sub(1);
        let sync = self.window(view, buckets, first, last, reply_wanted);
        self.sync_start = usize::from(sync.last) + 1;
        sync
    }

    fn window(
        &self,
        view: &ChatView<'_>,
        buckets: &[usize],
        first: usize,
        last: usize,
        reply: bool,
    ) -> PostSync {
        // Heads of large epoch numbers take more room: narrow the window until the sync fits
        // the largest padding bucket (`last` only moves down, so the window stays valid).
        let mut last = last;
        loop {
            let sync = self.window_unchecked(view, first, last, reply);
            let (cluster, epoch) = (view.cluster, view.current.epoch);
            if last == first || transport::fits_one_frame(buckets, cluster, epoch, &sync) {
                return sync;
            }
            last = first + (last - first) / 2;
        }
    }

    fn window_unchecked(
        &self,
        view: &ChatView<'_>,
        first: usize,
        last: usize,
        reply: bool,
    ) -> PostSync {
        let heads = view
            .current
            .table
            .keys()
            .enumerate()
            .skip(first)
            .take(last + 1 - first)
            .filter_map(|(index, id)| {
                Some(AuthorHead {
                    index: u16::try_from(index).ok()?,
                    head: *self.heads.get(id)?,
                })
            })
            .collect();
        PostSync {
            member: view.me,
            first: u16::try_from(first).unwrap_or(u16::MAX),
            last: u16::try_from(last).unwrap_or(u16::MAX),
            heads: BoundedVec::truncating(heads),
            reply_wanted: reply,
        }
    }

    /// Answers another member's sync: the posts it lacks (none older than its joining), and
    /// this member's own sync if it is behind and was asked for one. A sync that shows either
    /// side behind brings anti-entropy back to its quick pace: others may be behind too.
    pub(crate) fn on_sync(
        &mut self,
        now: Timestamp,
        sync: PostSync,
        view: &ChatView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let current = view.current;
        let (first, last) = (usize::from(sync.first), usize::from(sync.last));
        let Some(requester) = current.table.get(&sync.member) else {
            ctx.stats.dropped.not_member += 1;
            return;
        };
        let ascending = sync.heads.windows(2).all(|w| w[0].index < w[1].index);
        let in_window = sync
            .heads
            .iter()
            .all(|h| (first..=last).contains(&usize::from(h.index)));
        if sync.member == view.me
            || first > last
            || last >= current.table.len()
            || !ascending
            || !in_window
        {
            ctx.stats.dropped.unexpected += 1;
            return;
        }
        let theirs: BTreeMap<usize, PostPosition> = sync
            .heads
            .iter()
            .map(|h| (usize::from(h.index), h.head))
            .collect();
        let mut to_send: Vec<(MessageId, &[u8])> = Vec::new();
        let mut behind = false;
        for (index, author) in current.table.keys().enumerate().take(last + 1).skip(first) {
            let their_head = theirs.get(&index).copied();
            if let Some(head) = their_head {
                let mine = self.heads.get(author);
                if mine.is_none_or(|m| *m < head) && head.epoch >= view.joined {
                    behind = true;
                }
            }
            let after = their_head.map_or(PostPosition::default(), |h| PostPosition {
                epoch: h.epoch,
                seq: h.seq.saturating_add(1),
            });
            let lacking = self
                .history
                .range((*author, after)..)
                .take_while(|((a, _), _)| a == author)
                .filter(|((_, p), _)| p.epoch >= requester.joined)
                .filter(|((_, p), _)| their_head.is_none_or(|h| *p > h));
            for (_, stored) in lacking {
                if to_send.len() >= ctx.config.post_sync_budget {
                    break;
                }
                to_send.push((stored.message, &stored.bytes));
            }
        }
        if behind || !to_send.is_empty() {
            self.sync.reset(now, ctx.config.post_sync_bounds(), ctx.rng);
        }
        let to = requester.addr;
        for (message, bytes) in to_send {
            transport::send_flooded(
                ctx,
                &current.key,
                view.cluster,
                current.epoch,
                message,
                bytes,
                &[to],
            );
        }
        if behind && sync.reply_wanted {
            let reply = self.window(view, &ctx.config.pad_buckets, first, last, false);
            send_sync(ctx, view, to, reply);
        }
    }
}

/// Sends `sync` to `to` in a frame of the current epoch.
fn send_sync(ctx: &mut Ctx<'_>, view: &ChatView<'_>, to: std::net::SocketAddr, sync: PostSync) {
    let current = view.current;
    let body = FrameBody::PostSync(sync);
    transport::send_frame(ctx, &current.key, view.cluster, current.epoch, to, body);
}
