//! Key rollout: who leads it, how the leader collects fresh epoch keys and publishes the new
//! epoch, and how members check and install it.
//!
//! The members of epoch `e` are ordered by [`EpochState::rank`], a keyed hash only members
//! can compute. A rollout is due, in a member's view, when a membership change is pending,
//! when a member has been silent for `member_timeout`, or when the epoch is
//! `rollout_interval` old (and never before it is `rollout_settle` old). The member at position
//! `p` of the order leads once the rollout has been due for `k × rollout_timeout`, where `k` is
//! the number of members before it not silent by then, unless a leader before it is seen at
//! work. Members accept a rollout from a leader with `k > 1` live members before it (in their
//! view) only once the epoch is old enough for `k - 1` of them to have timed out (with half a
//! timeout of slack for skew between members' clocks of the epoch's start); an earlier one is
//! forged. The first two members of the order may always lead.
//!
//! Two rollouts of the same epoch converge: the one whose leader has the lower rank wins,
//! and a member that installed the other reinstalls from the previous epoch, which it keeps
//! for `rollout_grace`. A rollout of a higher epoch always wins.

use std::collections::BTreeMap;
use std::time::Duration;

use tracing::{debug, info};

use super::epoch::{EpochState, MemberEntry, OpeningRollout};
use super::member::{Continue, KeyUsed, Leading, Membership, Offer, Previous};
use super::transport;
use crate::crypto::{ClusterKey, EpochPublic, EpochSecret, seal_to};
use crate::ids::{ClusterId, Epoch, MemberId};
use crate::node::{Ctx, Event};
use crate::time::Timestamp;
use crate::vote;
use crate::wire::cluster::{
    FrameBody, KeyRequest, MAX_DECISIONS, MAX_FLOODED_BYTES, Rollout, RolloutEntry, Signed,
};
use crate::wire::fragment::MessageId;
use crate::wire::vote::{Outcome, ProposalId, ProposalKind};
use crate::wire::{self, BoundedBytes, BoundedVec};

/// A leader sends its rollout directly to this many members of the epoch it rolls out of (to
/// all of them in a smaller cluster); relays carry it to the rest. Every member needs every
/// fragment, so a direct copy spares most members a wait for relays under loss; beyond this
/// size the burst from the leader would outgrow what relaying costs.
const DIRECT_ROLLOUT_MEMBERS: usize = 64;

/// Room one member takes in an encoded rollout, at most: identity, epoch key, address,
/// joined epoch and the sealed cluster key.
const ROLLOUT_ENTRY_BYTES: usize = 32 + 32 + 19 + 10 + 2 + crate::wire::cluster::SEALED_KEY_LEN;

/// HPKE `info` of the cluster key sealed to each member in a rollout.
const ROLLOUT_KEY_INFO: &[u8] = b"peerster/rollout-key/v1";

/// Associated data of the cluster key sealed to `member`: it cannot be moved to another
/// member's entry, epoch or cluster.
fn sealed_key_aad(cluster: ClusterId, epoch: Epoch, member: &MemberId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(8 + 8 + MemberId::LEN);
    aad.extend_from_slice(&cluster.0.to_be_bytes());
    aad.extend_from_slice(&epoch.0.to_be_bytes());
    aad.extend_from_slice(&member.0);
    aad
}

/// Seals the cluster key of a new epoch to one member.
pub(crate) fn seal_cluster_key(
    ctx: &mut Ctx<'_>,
    key: &ClusterKey,
    cluster: ClusterId,
    epoch: Epoch,
    member: &MemberId,
    epoch_key: &EpochPublic,
) -> Option<BoundedBytes<{ crate::wire::cluster::SEALED_KEY_LEN }>> {
    let aad = sealed_key_aad(cluster, epoch, member);
    let sealed = seal_to(ctx.rng, epoch_key, ROLLOUT_KEY_INFO, &aad, key.as_bytes()).ok()?;
    BoundedBytes::new(sealed).ok()
}

/// Opens this member's copy of a rollout's cluster key.
pub(crate) fn open_cluster_key(
    rollout: &Rollout,
    entry: &RolloutEntry,
    secret: &EpochSecret,
) -> Option<ClusterKey> {
    let member = entry.identity.member_id();
    let aad = sealed_key_aad(rollout.cluster, rollout.epoch, &member);
    let bytes = secret
        .open(ROLLOUT_KEY_INFO, &aad, &entry.sealed_key)
        .ok()?;
    let bytes: [u8; ClusterKey::LEN] = bytes.try_into().ok()?;
    Some(ClusterKey::from_bytes(bytes))
}

/// Checks what a rollout says about itself: members sorted by id without repeats, within the
/// size bound, none joined after the epoch it opens.
pub(crate) fn check_self_consistent(
    rollout: &Signed<Rollout>,
    max_members: usize,
) -> Result<(), RolloutFault> {
    let body = &rollout.body;
    let ids: Vec<MemberId> = body
        .members
        .iter()
        .map(|e| e.identity.member_id())
        .collect();
    if ids.is_empty() || !ids.windows(2).all(|w| w[0] < w[1]) {
        return Err(RolloutFault::Forged);
    }
    let limit = body.limit.map_or(max_members, usize::from).min(max_members);
    if ids.len() > limit || body.members.iter().any(|e| e.joined > body.epoch) {
        return Err(RolloutFault::Forged);
    }
    Ok(())
}

/// Checks the votes a rollout out of `base` closes: every decision is sound in `base`
/// ([`vote::rule::check_decision`]), every member it adds was admitted by one with the key it
/// comes in with, every accepted admission is in, and every accepted expulsion is out.
fn check_decisions(body: &Rollout, base: &EpochState) -> Result<(), RolloutFault> {
    for decision in body.decisions.iter() {
        vote::rule::check_decision(decision, body.cluster, base)
            .map_err(|_| RolloutFault::Forged)?;
    }
    let admitted: BTreeMap<MemberId, EpochPublic> = body
        .decisions
        .iter()
        .filter_map(vote::rule::admitted)
        .filter_map(|kind| match kind {
            ProposalKind::Admit {
                joiner, join_key, ..
            } => Some((joiner.member_id(), *join_key)),
            ProposalKind::Expel { .. } => None,
        })
        .collect();
    let members: BTreeMap<MemberId, EpochPublic> = body
        .members
        .iter()
        .map(|e| (e.identity.member_id(), e.epoch_key))
        .collect();
    for (id, key) in &members {
        if !base.table.contains_key(id) && admitted.get(id) != Some(key) {
            return Err(RolloutFault::Forged);
        }
    }
    for (id, key) in &admitted {
        if members.get(id) != Some(key) {
            return Err(RolloutFault::Forged);
        }
    }
    for expelled in body.decisions.iter().filter_map(vote::rule::expelled) {
        if members.contains_key(&expelled) {
            return Err(RolloutFault::Forged);
        }
    }
    Ok(())
}

/// Why a rollout was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RolloutFault {
    /// Inconsistent, out of turn, from a member that is leaving, or led by no member of the
    /// epoch it rolls out of.
    Forged,
    /// Not signed by the member it names as leader.
    BadSignature,
    /// Not for this cluster or not the next epoch.
    Stale,
}

impl RolloutFault {
    pub(crate) fn count(self, stats: &mut crate::Stats) {
        match self {
            RolloutFault::Forged => stats.dropped.forged_rollout += 1,
            RolloutFault::BadSignature => stats.dropped.bad_signature += 1,
            RolloutFault::Stale => stats.dropped.stale += 1,
        }
    }
}

impl Membership {
    /// When the rollout out of the current epoch is due, in this member's view.
    pub(crate) fn rollout_due(&self, config: &crate::Config) -> Timestamp {
        self.rollout_due_given(config, self.heard_from_all())
    }

    /// When the rollout is due if every other member was last heard from at `heard` (`None`:
    /// there is no other member). An earlier `heard` gives an earlier (or the same) time.
    fn rollout_due_given(&self, config: &crate::Config, heard: Option<Timestamp>) -> Timestamp {
        let mut due = self.installed_at + config.rollout_interval;
        if let Some(decided) = self.votes.decided_since() {
            due = due.min(decided);
        }
        for &since in self.leaves.values() {
            due = due.min(since);
        }
        if let Some(heard) = heard {
            due = due.min(heard + config.member_timeout);
        }
        due.max(self.installed_at + config.rollout_settle)
    }

    /// The last time every other member of the current table was heard from: the earliest of
    /// their `last_heard`. One pass over the table.
    pub(crate) fn heard_from_all(&self) -> Option<Timestamp> {
        (self.current.table.iter())
            .filter(|(id, _)| **id != self.me)
            .map(|(_, entry)| entry.last_heard)
            .min()
    }

    /// Brings [`Membership::heard_floor`] up to date once it is half a member timeout old, so
    /// that polling the deadline seldom needs a pass over the table.
    pub(crate) fn refresh_heard_floor(&mut self, now: Timestamp, config: &crate::Config) {
        if now >= self.heard_floor + config.member_timeout / 2 {
            self.heard_floor = self.heard_from_all().map_or(now, |t| t.min(now));
        }
    }

    /// When this member takes the lead of the rollout, if that is before `bound`: `None` if
    /// it already leads it, never will in this epoch, or will not before `bound`.
    ///
    /// Every poll of the node's deadline asks this, and the exact time costs a sort of the
    /// leaders before us; it is never earlier than the time the rollout is due, which costs
    /// one pass, so a `bound` already earlier than that (the next heartbeat, say) settles it.
    pub(crate) fn lead_before(
        &self,
        config: &crate::Config,
        bound: Timestamp,
    ) -> Option<Timestamp> {
        if self.leading.is_some() || self.resumed_unconfirmed {
            return None;
        }
        // `heard_floor` is never later than the exact time, so neither is this due time: when
        // it is already past `bound`, the pass over the table is not needed.
        debug_assert!(self.heard_from_all().is_none_or(|t| self.heard_floor <= t));
        let soonest = self.rollout_due_given(config, Some(self.heard_floor));
        if soonest.max(self.quiet_until) >= bound {
            return None;
        }
        let due = self.rollout_due(config);
        if due.max(self.quiet_until) >= bound {
            return None;
        }
        let order = self.current.leader_order(&self.leaving());
        let position = order.iter().position(|id| *id == self.me)?;
        // Our turn comes once every leader before us that is still alive has had one: at the
        // first time `t` with `t >= due + live(t) × rollout_timeout`, where `live(t)` counts
        // the members before us not yet silent at `t`. After a mass crash the survivors do not
        // wait for each of the dead in order.
        let mut silent_at: Vec<Timestamp> = order[..position]
            .iter()
            .filter_map(|id| self.current.table.get(id))
            .map(|e| e.last_heard + config.member_timeout)
            .collect();
        silent_at.sort_unstable();
        let live = |t: Timestamp| silent_at.len() - silent_at.partition_point(|&s| s <= t);
        let mut candidates: Vec<Timestamp> = (0..=position)
            .map(|k| due + config.rollout_timeout * k as u32)
            .chain(silent_at.iter().copied().filter(|&s| s >= due))
            .collect();
        candidates.sort_unstable();
        let at = candidates
            .into_iter()
            .find(|&t| due + config.rollout_timeout * live(t) as u32 <= t)
            .unwrap_or(due);
        Some(at.max(self.quiet_until)).filter(|&at| at < bound)
    }

    /// How many of `members` this member will not have found silent by `at`.
    fn live_before(&self, members: &[MemberId], at: Timestamp, config: &crate::Config) -> usize {
        members
            .iter()
            .filter(|id| {
                self.current
                    .table
                    .get(id)
                    .is_none_or(|e| at < e.last_heard + config.member_timeout)
            })
            .count()
    }

    /// The next deadline of the rollout machinery, if it is before `bound` (the node's
    /// earliest other deadline).
    pub(crate) fn rollout_timeout(
        &self,
        config: &crate::Config,
        bound: Timestamp,
    ) -> Option<Timestamp> {
        match &self.leading {
            Some(leading) => Some(leading.next_request.min(leading.finalize_at)),
            None => self.lead_before(config, bound),
        }
    }

    /// Starts, drives and finishes the rollout this member leads.
    pub(crate) fn handle_rollout_timers(&mut self, now: Timestamp, ctx: &mut Ctx<'_>) -> Continue {
        if self
            .lead_before(ctx.config, now + Duration::from_micros(1))
            .is_some()
        {
            let target = self.current.epoch.next();
            info!(cluster = %self.cluster, %target, "leading a key rollout");
            self.leading = Some(Leading {
                target,
                offers: BTreeMap::new(),
                next_request: now + ctx.config.offer_window / 3,
                finalize_at: now + ctx.config.offer_window,
            });
            self.request_keys(ctx);
        }
        let Some(leading) = &mut self.leading else {
            return Continue::Stay;
        };
        if now >= leading.finalize_at {
            return self.publish(now, ctx);
        }
        if now >= leading.next_request {
            leading.next_request = now + ctx.config.offer_window / 3;
            self.request_keys(ctx);
        }
        Continue::Stay
    }

    /// Asks every member that has not offered a key yet for one.
    fn request_keys(&self, ctx: &mut Ctx<'_>) {
        let Some(leading) = &self.leading else {
            return;
        };
        let request = KeyRequest {
            leader: self.me,
            target: leading.target,
        };
        let current = &self.current;
        for (id, entry) in &current.table {
            if *id == self.me || leading.offers.contains_key(id) || self.leaves.contains_key(id) {
                continue;
            }
            transport::send_frame(
                ctx,
                &current.key,
                self.cluster,
                current.epoch,
                entry.addr,
                FrameBody::KeyRequest(request.clone()),
            );
        }
    }

    /// Builds, installs and floods the rollout this member leads.
    fn publish(&mut self, now: Timestamp, ctx: &mut Ctx<'_>) -> Continue {
        let Some(leading) = self.leading.take() else {
            return Continue::Stay;
        };
        let target = leading.target;
        let my_secret = EpochSecret::generate(ctx.rng);
        let my_key = my_secret.public();
        self.offered.push_back(Offer {
            leader: self.me,
            target,
            secret: my_secret,
        });
        let limit = self.size_limit(ctx.config);
        // Members that stay: not leaving, and heard from recently or offering a key now.
        let mut members: BTreeMap<MemberId, (MemberEntry, EpochPublic)> = BTreeMap::new();
        for (id, entry) in &self.current.table {
            let silent = now >= entry.last_heard + ctx.config.member_timeout;
            let offered = leading.offers.get(id);
            if self.leaves.contains_key(id) || (*id != self.me && silent && offered.is_none()) {
                continue;
            }
            let key = if *id == self.me {
                my_key
            } else {
                offered.copied().unwrap_or(entry.epoch_key)
            };
            members.insert(*id, (entry.clone(), key));
        }
        // The votes decided: joiners in while there is room (a joiner already a member with
        // another key, a node that restarted, comes back as new), expelled members out.
        let mut decisions = Vec::new();
        let mut budget = MAX_FLOODED_BYTES
            .saturating_sub(8 * 1024)
            .saturating_sub(members.len() * ROLLOUT_ENTRY_BYTES);
        for mut decision in self.votes.decisions().into_iter().take(MAX_DECISIONS) {
            let size = wire::encode_payload(&decision).map_or(usize::MAX, |b| b.len());
            if size > budget {
                break;
            }
            budget -= size;
            if let Some(ProposalKind::Admit {
                joiner,
                join_key,
                addr,
            }) = vote::rule::admitted(&decision)
            {
                let id = joiner.member_id();
                if !members.contains_key(&id) && members.len() >= limit {
                    debug!(joiner = %id, "no room for an admitted joiner: its vote fails");
                    decision.outcome = Outcome::Failed;
                } else {
                    let entry = MemberEntry {
                        identity: *joiner,
                        epoch_key: *join_key,
                        addr: (*addr).into(),
                        joined: target,
                        last_heard: now,
                        heartbeat: None,
                    };
                    members.insert(id, (entry, *join_key));
                }
            }
            if let Some(expelled) = vote::rule::expelled(&decision) {
                members.remove(&expelled);
            }
            decisions.push(decision);
        }
        let key = ClusterKey::generate(ctx.rng);
        let mut entries = Vec::with_capacity(members.len());
        for (id, (entry, epoch_key)) in &members {
            let Some(sealed_key) = seal_cluster_key(ctx, &key, self.cluster, target, id, epoch_key)
            else {
                debug!(member = %id, "cannot seal to a member's epoch key, leaving it out");
                continue;
            };
            entries.push(RolloutEntry {
                identity: entry.identity,
                epoch_key: *epoch_key,
                addr: entry.addr.into(),
                joined: entry.joined,
                sealed_key,
            });
        }
        let rollout = Signed::sign(
            ctx.identity,
            Rollout {
                cluster: self.cluster,
                epoch: target,
                leader: self.me,
                limit: self.limit,
                members: BoundedVec::truncating(entries),
                decisions: BoundedVec::truncating(decisions),
            },
        );
        ctx.stats.rollouts_led += 1;
        let message = transport::new_message_id(ctx);
        let base = self.current.clone();
        let outcome = self.install(now, base, false, rollout, message, ctx);
        // Members of the epoch rolled out of get it from the leader (every one of them in a
        // cluster of up to `DIRECT_ROLLOUT_MEMBERS`), and relay it.
        if let Some(previous) = &self.previous
            && let Some(opening) = &self.current.opening
        {
            let state = &previous.state;
            let direct = ctx.config.cluster_fanout.max(DIRECT_ROLLOUT_MEMBERS);
            let targets = state.random_members(&self.me, direct, ctx.rng, |_| true);
            opening.send(ctx, self.cluster, state, &targets);
            // Newcomers get their welcome from the leader too, not only from their contact.
            for entry in self.current.table.values() {
                if entry.joined == target && !state.table.contains_key(&entry.identity.member_id())
                {
                    super::join::send_welcome(ctx, &entry.epoch_key, entry.addr, 0, opening);
                }
            }
        }
        outcome
    }

    /// Handles a rollout received in a frame opened with the `used` key.
    pub(crate) fn on_rollout(
        &mut self,
        now: Timestamp,
        used: KeyUsed,
        rollout: Signed<Rollout>,
        message: MessageId,
        bytes: Vec<u8>,
        ctx: &mut Ctx<'_>,
    ) -> Continue {
        let epoch = rollout.body.epoch;
        let (base, base_installed, concurrent) = match (used, &self.previous) {
            (KeyUsed::Current, _) if epoch == self.current.epoch.next() => {
                (&self.current, self.installed_at, false)
            }
            (KeyUsed::Previous, Some(previous)) if epoch == self.current.epoch => {
                (&previous.state, previous.installed_at, true)
            }
            _ => {
                debug!(%epoch, current = %self.current.epoch, ?used, "stale rollout refused");
                ctx.stats.dropped.stale += 1;
                // It may be the next one by the time a copy comes again (a catch-up sends the
                // same flood): look at it then.
                self.floods.forget(message);
                return Continue::Stay;
            }
        };
        if let Err(fault) = self.check(now, base, base_installed, &rollout, ctx) {
            debug!(%epoch, leader = %rollout.body.leader, ?fault, "rollout refused");
            fault.count(ctx.stats);
            // Out of turn in this member's view may be in turn later, when a catch-up brings
            // the same flood again.
            self.floods.forget(message);
            return Continue::Stay;
        }
        if concurrent {
            let rank = base.rank(&rollout.body.leader);
            let same = self
                .current
                .opening
                .as_ref()
                .is_some_and(|o| o.rollout == rollout);
            if same || rank >= self.current.leader_rank {
                // Ours, or one that loses to ours. Its leader's side must learn of ours: send
                // ours to that leader, which switches and relays it.
                ctx.stats.dropped.duplicate += 1;
                if !same
                    && let (Some(opening), Some(leader)) =
                        (&self.current.opening, base.table.get(&rollout.body.leader))
                {
                    opening.send(ctx, self.cluster, base, &[leader.addr]);
                }
                return Continue::Stay;
            }
            debug!(epoch = %epoch, leader = %rollout.body.leader, "a better-ranked rollout wins");
        }
        let base = base.clone();
        let targets = base.random_members(&self.me, ctx.config.cluster_fanout, ctx.rng, |_| true);
        let outcome = self.install(now, base.clone(), concurrent, rollout, message, ctx);
        // Relay under the key it came in, to members of the epoch it rolls out of.
        transport::send_flooded(
            ctx,
            &base.key,
            self.cluster,
            base.epoch,
            message,
            &bytes,
            &targets,
        );
        outcome
    }

    /// Checks a rollout out of `base` (installed here at `base_installed`).
    fn check(
        &self,
        now: Timestamp,
        base: &EpochState,
        base_installed: Timestamp,
        rollout: &Signed<Rollout>,
        ctx: &Ctx<'_>,
    ) -> Result<(), RolloutFault> {
        let config = ctx.config;
        let body = &rollout.body;
        if body.cluster != self.cluster {
            return Err(RolloutFault::Stale);
        }
        // Signed by no member of the epoch: a stranger, or a member removed before it.
        let leader = base.table.get(&body.leader).ok_or(RolloutFault::Forged)?;
        if self.leaves.contains_key(&body.leader) || body.limit != self.limit {
            return Err(RolloutFault::Forged);
        }
        check_self_consistent(rollout, config.max_cluster_size)?;
        let order = base.leader_order(&self.leaving());
        let position = order
            .iter()
            .position(|id| *id == body.leader)
            .ok_or(RolloutFault::Forged)?;
        // The leaders before it that are alive in our view must have had their turns. One of
        // them is forgiven (our view of who is silent may differ from the leader's), and half
        // a turn of skew between members' clocks of the epoch's start.
        let live = self.live_before(&order[..position], now, config);
        // A member just restored knows neither when the epoch began nor who fell silent (it
        // counts everyone as heard at the restore): it takes a rollout the others sent it
        // whatever the turn, rather than refuse, for good, the one that brings it up to date.
        if live > 1 && !self.resumed_unconfirmed {
            let turns = config.rollout_timeout * (live - 1) as u32 - config.rollout_timeout / 2;
            let earliest = base_installed + config.rollout_settle + turns;
            if now < earliest {
                return Err(RolloutFault::Forged);
            }
        }
        rollout
            .verify_with(&leader.identity, ctx.verifier)
            .map_err(|_| RolloutFault::BadSignature)?;
        // Every change of the table is backed by a vote (or is a departure).
        check_decisions(body, base)
    }

    /// Installs a checked rollout out of `base`. `concurrent` says it replaces a rollout of
    /// the same epoch (and `base` is the previous epoch, kept as it is).
    pub(crate) fn install(
        &mut self,
        now: Timestamp,
        base: EpochState,
        concurrent: bool,
        rollout: Signed<Rollout>,
        message: MessageId,
        ctx: &mut Ctx<'_>,
    ) -> Continue {
        let body = &rollout.body;
        let Some(mine) = body
            .members
            .iter()
            .find(|e| e.identity.member_id() == self.me)
        else {
            info!(cluster = %self.cluster, epoch = %body.epoch, "removed from the cluster");
            ctx.out.emit(
                ctx.stats,
                Event::RemovedFromCluster {
                    cluster: self.cluster,
                },
            );
            return Continue::Removed;
        };
        let candidates = std::iter::once(&base.my_secret)
            .chain(self.offered.iter().map(|o| &o.secret))
            .chain(self.join_secret.iter());
        let Some(secret) = candidates
            .into_iter()
            .find(|s| s.public() == mine.epoch_key)
            .cloned()
        else {
            ctx.stats.dropped.forged_rollout += 1;
            return Continue::Stay;
        };
        let Some(key) = open_cluster_key(body, mine, &secret) else {
            ctx.stats.dropped.forged_rollout += 1;
            return Continue::Stay;
        };
        let epoch = body.epoch;
        let decisions = body.decisions.to_vec();
        let table: BTreeMap<MemberId, MemberEntry> = body
            .members
            .iter()
            .map(|e| {
                let id = e.identity.member_id();
                let known = self.current.table.get(&id).filter(|k| k.joined == e.joined);
                let entry = MemberEntry {
                    identity: e.identity,
                    epoch_key: e.epoch_key,
                    addr: e.addr.into(),
                    joined: e.joined,
                    last_heard: known.map_or(now, |k| k.last_heard),
                    heartbeat: known.and_then(|k| k.heartbeat),
                };
                (id, entry)
            })
            .collect();
        let added: Vec<MemberId> = table
            .keys()
            .filter(|id| !self.current.table.contains_key(id))
            .copied()
            .collect();
        let removed: Vec<MemberId> = self
            .current
            .table
            .keys()
            .filter(|id| !table.contains_key(id))
            .copied()
            .collect();
        let leader_rank = base.rank(&body.leader);
        let state = EpochState::new(
            self.cluster,
            epoch,
            key,
            table,
            secret,
            leader_rank,
            Some(OpeningRollout::new(message, rollout)),
        );
        if !concurrent {
            self.previous = Some(Previous {
                state: base,
                installed_at: self.installed_at,
                until: now + ctx.config.rollout_grace,
            });
            self.installed_at = now;
        }
        self.last_opened = now;
        self.resumed_unconfirmed = false;
        self.current = state;
        if self
            .join_secret
            .as_ref()
            .is_some_and(|s| s.public() != self.current.my_secret.public())
        {
            self.join_secret = None;
            self.welcome_seq = None;
        }
        self.offered.retain(|o| o.target >= epoch);
        self.behind_until = Timestamp::ZERO;
        // A heartbeat of the new epoch soon, in place of the one scheduled: a member that
        // missed the rollout cannot open it, pokes us, and gets the rollout.
        let soon = ctx
            .config
            .heartbeat_interval
            .min(core::time::Duration::from_secs(2));
        let fraction = f64::from(rand_core::Rng::next_u32(ctx.rng)) / f64::from(u32::MAX);
        self.next_heartbeat = self.next_heartbeat.min(now + soon.mul_f64(fraction));
        self.leading = None;
        self.quiet_until = Timestamp::ZERO;
        self.caught_up.clear();
        let table = &self.current.table;
        self.leaves.retain(|member, _| table.contains_key(member));
        ctx.stats.rollouts_installed += 1;
        info!(cluster = %self.cluster, %epoch, members = table.len(), "epoch installed");
        ctx.out.emit(
            ctx.stats,
            Event::EpochChanged {
                cluster: self.cluster,
                epoch,
                members: table.len(),
                added,
                removed,
            },
        );
        self.welcome_admitted(ctx);
        let (votes, view) = self.vote_parts();
        votes.epoch_installed(now, &decisions, concurrent, &view, ctx);
        self.flood_votes(ctx);
        let declined: Vec<ProposalId> = decisions
            .iter()
            .filter(|d| {
                matches!(d.proposal.body.kind, ProposalKind::Admit { .. })
                    && !matches!(d.outcome, Outcome::Accepted(_))
            })
            .map(|d| d.proposal.body.id())
            .collect();
        self.refuse_declined(&declined, ctx);
        Continue::Stay
    }
}
