//! Cluster votes: who enters and who is expelled is decided by the members, and the count is
//! cross-checked by a drawn majority of authorities, so that no member decides alone.
//!
//! A member opens a [`Proposal`] (a contact, when a join request arrives; any member, to expel
//! another), flooded to all. In each round a majority of the members is drawn as authorities
//! ([`draw`]); every member seals its signed ballot to each of them, re-sending until it sees
//! that authority's tally. An authority tallies at the round's deadline, or as soon as it holds
//! a ballot from every member, and floods its signed [`Tally`]. A round whose authorities all
//! published identical tallies is decided ([`rule::accepts`]); a round with two different
//! tallies, or without all of them in time, is void, and the next round draws new authorities,
//! up to `Config::vote_rounds`, after which the vote fails closed. Outcomes take effect only
//! through the next key rollout, which records every decision with its certificate and which
//! every member checks ([`rule::check_decision`]): members agree on outcomes because they agree
//! on rollouts. See `docs/design.md` § Votes.

pub(crate) mod draw;
pub(crate) mod rule;

use std::collections::{BTreeMap, VecDeque};

use tracing::{debug, info};

use crate::cluster::epoch::EpochState;
use crate::cluster::transport;
use crate::config::AutoVote;
use crate::ids::{ClusterId, Epoch, MemberId};
use crate::node::{CommandError, Ctx, Event};
use crate::time::Timestamp;
use crate::wire::BoundedVec;
use crate::wire::anon::{AnonPacket, AnonPayload, open_anon, seal_anon};
use crate::wire::cluster::{Flooded, FrameBody, Signed};
use crate::wire::vote::{
    Ballot, Count, Decision, Outcome, Proposal, ProposalId, ProposalKind, PublishedTally, Tally,
    ballot_digest, digests_hash,
};

/// How long an authority waits for ballots before it sends the proposal to the members it has
/// none from (they may have missed it), and how often it does so again.
const REMIND_AFTER: core::time::Duration = core::time::Duration::from_secs(3);

/// Recently closed votes remembered, so a late copy of their proposal does not reopen them.
const REMEMBER_CLOSED: usize = 256;

/// Where a vote stands, for hosts and user interfaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteState {
    /// Ballots are being cast and counted.
    Open,
    /// This member holds an outcome; the next key rollout applies it.
    Decided(VoteOutcome),
}

/// How a vote ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteOutcome {
    /// The members said yes: the joiner is in, or the member is out.
    Accepted,
    /// A majority of the electorate voted, and more said no: nothing changes.
    Rejected,
    /// No round produced identical tallies from all its authorities, counting ballots from a
    /// majority of the electorate: nothing changes.
    Failed,
}

impl VoteOutcome {
    fn of(outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Accepted(_) => VoteOutcome::Accepted,
            Outcome::Rejected(_) => VoteOutcome::Rejected,
            Outcome::Failed => VoteOutcome::Failed,
        }
    }
}

/// An open vote, as a member knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteInfo {
    /// The proposal's id.
    pub id: ProposalId,
    /// What it proposes.
    pub kind: ProposalKind,
    /// The member it is about.
    pub subject: MemberId,
    /// The member that opened it.
    pub proposer: MemberId,
    /// When its first round's ballots are counted at the latest.
    pub deadline: Timestamp,
    /// Where it stands.
    pub state: VoteState,
    /// The current round, from 0.
    pub round: u8,
    /// This member's ballot, if it cast one.
    pub my_vote: Option<bool>,
    /// The authorities drawn for the current round.
    pub authorities: Vec<MemberId>,
}

/// What the membership looks like, for the votes.
pub(crate) struct VoteView<'a> {
    pub(crate) cluster: ClusterId,
    pub(crate) me: MemberId,
    pub(crate) current: &'a EpochState,
}

impl VoteView<'_> {
    /// Sends a flooded object to `targets` only (they do not relay what they already hold).
    fn send_to(&self, flooded: &Flooded, targets: &[std::net::SocketAddr], ctx: &mut Ctx<'_>) {
        let Ok(bytes) = crate::wire::encode_payload(flooded) else {
            return;
        };
        let message = transport::new_message_id(ctx);
        transport::send_flooded(
            ctx,
            &self.current.key,
            self.cluster,
            self.current.epoch,
            message,
            &bytes,
            targets,
        );
    }
}

/// How many rounds ahead of its own a member keeps the ballots and tallies it receives (see
/// [`Vote::early_tallies`]).
const EARLY_ROUNDS: u8 = 2;

/// One open vote.
#[derive(Clone, Debug)]
struct Vote {
    proposal: Signed<Proposal>,
    opened_at: Timestamp,
    choice: Option<bool>,
    /// The current round and its epoch, authorities and start.
    round: u8,
    round_epoch: Epoch,
    authorities: Vec<MemberId>,
    round_started: Timestamp,
    /// The size of the round's electorate.
    voters: usize,
    /// Rounds voided so far.
    voided: u8,
    next_ballot: Timestamp,
    /// Ballots received as an authority of the current round.
    ballots: BTreeMap<MemberId, Signed<Ballot>>,
    tallied: bool,
    /// The tally this member published as an authority of the current round.
    my_tally: Option<PublishedTally>,
    /// This member lies in its tallies ([`Votes::lying`]).
    lying: bool,
    /// When this member, as an authority still missing ballots, next sends the proposal to
    /// the members they are missing from.
    next_reminder: Timestamp,
    /// Tallies of the current round, by authority.
    tallies: BTreeMap<MemberId, PublishedTally>,
    /// Tallies of the next [`EARLY_ROUNDS`] rounds of the round's epoch, by round and
    /// authority, counted (and checked) once this member reaches their round. A member that
    /// missed what voided its round (the flood of a differing tally) learns of it only from
    /// its round's timer, while the others are a round further; without these, it would
    /// drop the others' tallies and ballots of that round as stale, tally its own ballot
    /// alone there, void the round for everyone, and stay one round behind to the last.
    early_tallies: BTreeMap<(u8, MemberId), PublishedTally>,
    /// Ballots of the next [`EARLY_ROUNDS`] rounds sent to this member as their authority,
    /// by round and voter, likewise.
    early_ballots: BTreeMap<(u8, MemberId), Signed<Ballot>>,
    /// The outcome this member holds, and since when: the next rollout applies it.
    result: Option<(Timestamp, Outcome)>,
}

/// The votes of one member.
#[derive(Debug, Default)]
pub(crate) struct Votes {
    open: BTreeMap<ProposalId, Vote>,
    closed: VecDeque<ProposalId>,
    /// Votes the rollout that opened the current epoch closed, kept while a concurrent
    /// rollout of the same epoch may still replace it (and reopen them).
    closed_by_current: BTreeMap<ProposalId, (Vote, VoteOutcome)>,
    /// What to flood: the membership takes it after every call ([`Votes::take_floods`]).
    to_flood: Vec<Flooded>,
    /// Swap yes and no in this member's tallies: a lying authority, for the simulator (set
    /// only through the `test-hooks` feature).
    pub(crate) lying: bool,
}

impl Votes {
    /// The open votes.
    pub(crate) fn info(&self, config: &crate::Config) -> Vec<VoteInfo> {
        self.open
            .iter()
            .map(|(id, v)| VoteInfo {
                id: *id,
                kind: v.proposal.body.kind.clone(),
                subject: v.proposal.body.kind.subject(),
                proposer: v.proposal.body.proposer,
                deadline: v.opened_at + config.vote_deadline,
                state: v.result.as_ref().map_or(VoteState::Open, |(_, o)| {
                    VoteState::Decided(VoteOutcome::of(o))
                }),
                round: v.round,
                my_vote: v.choice,
                authorities: v.authorities.clone(),
            })
            .collect()
    }

    /// Open votes whose proposal admits a joiner, other than `joiner`.
    pub(crate) fn admissions_pending(&self, joiner: &MemberId) -> usize {
        self.open
            .values()
            .filter(|v| {
                matches!(v.proposal.body.kind, ProposalKind::Admit { .. })
                    && v.proposal.body.kind.subject() != *joiner
            })
            .count()
    }

    /// Makes this member lie in its tallies from now on (test hooks only).
    #[cfg(feature = "test-hooks")]
    pub(crate) fn set_lying(&mut self, lying: bool) {
        self.lying = lying;
        for vote in self.open.values_mut() {
            vote.lying = lying;
        }
    }

    /// What the votes want flooded since the last call.
    pub(crate) fn take_floods(&mut self) -> Vec<Flooded> {
        std::mem::take(&mut self.to_flood)
    }

    /// Whether this member has counted `published` (or another tally of its authority and
    /// round) already.
    pub(crate) fn has_tally(&self, published: &PublishedTally) -> bool {
        let body = &published.tally.body;
        self.open
            .get(&body.proposal)
            .is_none_or(|v| v.round != body.round || v.tallies.contains_key(&body.authority))
    }

    /// The proposal of an open vote.
    pub(crate) fn proposal(&self, id: &ProposalId) -> Option<&Signed<Proposal>> {
        self.open.get(id).map(|v| &v.proposal)
    }

    /// Opens a vote on `kind`: returns its id and the proposal to flood.
    pub(crate) fn propose(
        &mut self,
        now: Timestamp,
        kind: ProposalKind,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(ProposalId, Signed<Proposal>), CommandError> {
        let proposal = Signed::sign(
            ctx.identity,
            Proposal {
                cluster: view.cluster,
                epoch: view.current.epoch,
                proposer: view.me,
                kind,
                verifiable: ctx.config.verifiable_votes,
                // Every member of the current table joined no later than the current epoch.
                electorate: u16::try_from(view.current.table.len()).unwrap_or(u16::MAX),
            },
        );
        let id = proposal.body.id();
        if let Some(open) = self.open.get(&id) {
            return Ok((id, open.proposal.clone()));
        }
        if self.closed.contains(&id) || self.closed_by_current.contains_key(&id) {
            // Every member remembers it closed and would drop it: say so rather than report
            // a vote that never opens.
            return Err(CommandError::VotedRecently);
        }
        if self.open.len() >= ctx.config.max_open_votes {
            return Err(CommandError::TooManyVotes {
                max: ctx.config.max_open_votes,
            });
        }
        self.on_proposal(now, proposal.clone(), view, ctx);
        Ok((id, proposal))
    }

    /// Handles a proposal (flooded, or this member's own): opens its vote. Returns whether it
    /// is new (and so to be relayed).
    pub(crate) fn on_proposal(
        &mut self,
        now: Timestamp,
        proposal: Signed<Proposal>,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let body = &proposal.body;
        let id = body.id();
        if self.open.contains_key(&id) || self.closed.contains(&id) {
            ctx.stats.dropped.duplicate += 1;
            return false;
        }
        let Some(proposer) = view.current.table.get(&body.proposer) else {
            ctx.stats.dropped.not_member += 1;
            return false;
        };
        if body.cluster != view.cluster {
            ctx.stats.dropped.stale += 1;
            return false;
        }
        if proposal
            .verify_with(&proposer.identity, ctx.verifier)
            .is_err()
        {
            ctx.stats.dropped.bad_signature += 1;
            return false;
        }
        if view
            .current
            .table
            .get(&view.me)
            .is_some_and(|e| e.joined > body.epoch)
        {
            // Proposed before this member joined: it is not of the electorate.
            ctx.stats.dropped.stale += 1;
            return false;
        }
        let subject = body.kind.subject();
        let moot = match body.kind {
            ProposalKind::Expel { member } => !view.current.table.contains_key(&member),
            ProposalKind::Admit { .. } => false,
        };
        if moot || self.open.len() >= ctx.config.max_open_votes {
            ctx.stats.dropped.unexpected += 1;
            return false;
        }
        if !electorate_plausible(body, view) {
            // A proposer understating its electorate would lower the quorum.
            ctx.stats.dropped.unexpected += 1;
            return false;
        }
        info!(proposal = %id, %subject, "vote opened");
        ctx.out.emit(
            ctx.stats,
            Event::VoteOpened {
                proposal: id,
                kind: body.kind.clone(),
                subject,
                proposer: body.proposer,
                deadline: now + ctx.config.vote_deadline,
            },
        );
        let mut vote = Vote {
            proposal,
            opened_at: now,
            choice: None,
            round: 0,
            round_epoch: view.current.epoch,
            authorities: Vec::new(),
            round_started: now,
            voters: 0,
            voided: 0,
            next_ballot: Timestamp::MAX,
            ballots: BTreeMap::new(),
            tallied: false,
            my_tally: None,
            lying: self.lying,
            next_reminder: Timestamp::MAX,
            tallies: BTreeMap::new(),
            early_tallies: BTreeMap::new(),
            early_ballots: BTreeMap::new(),
            result: None,
        };
        vote.start_round(now, 0, view);
        self.open.insert(id, vote);
        let auto = match ctx.config.auto_vote {
            AutoVote::Yes => Some(true),
            AutoVote::No => Some(false),
            AutoVote::Ask => None,
        };
        if let Some(yes) = auto {
            let _ = self.cast(now, id, yes, view, ctx);
        }
        true
    }

    /// Casts this member's ballot on an open vote.
    pub(crate) fn cast(
        &mut self,
        now: Timestamp,
        id: ProposalId,
        yes: bool,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), CommandError> {
        let vote = self.open.get_mut(&id).ok_or(CommandError::NoSuchVote)?;
        if vote.choice.is_some() {
            return Err(CommandError::AlreadyVoted);
        }
        if vote.result.is_some() {
            // Decided without this member's ballot: the rollout that applies it is due.
            return Err(CommandError::NoSuchVote);
        }
        vote.choice = Some(yes);
        let own = vote.send_ballots(now, view, ctx);
        self.publish_own(now, own, view, ctx);
        Ok(())
    }

    /// Handles a ballot frame: a packet sealed to this member as an authority.
    pub(crate) fn on_ballot_frame(
        &mut self,
        now: Timestamp,
        packet: &AnonPacket,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        // Opening costs a Diffie-Hellman: only an authority of an open round pays it, so a
        // member flooding ballot frames costs the others nothing between votes.
        if !self.open.values().any(|v| v.authorities.contains(&view.me)) {
            ctx.stats.dropped.stale += 1;
            return;
        }
        let Ok(payload) = open_anon(&view.current.my_secret, view.cluster, packet) else {
            ctx.stats.dropped.undecryptable += 1;
            return;
        };
        let AnonPayload::Ballot(ballot) = payload else {
            ctx.stats.dropped.unexpected += 1;
            return;
        };
        let own = self.receive_ballot(ballot, view, ctx);
        self.publish_own(now, own.into_iter().collect(), view, ctx);
    }

    /// Counts a ballot sent to this member as an authority; returns its tally if the ballot
    /// completed it.
    fn receive_ballot(
        &mut self,
        ballot: Signed<Ballot>,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Option<PublishedTally> {
        let body = &ballot.body;
        let Some(vote) = self.open.get_mut(&body.proposal) else {
            ctx.stats.dropped.stale += 1;
            return None;
        };
        let Some(voter) = view
            .current
            .table
            .get(&body.voter)
            .filter(|e| e.joined <= vote.proposal.body.epoch)
        else {
            ctx.stats.dropped.not_member += 1;
            return None;
        };
        if ballot.verify_with(&voter.identity, ctx.verifier).is_err() {
            ctx.stats.dropped.bad_signature += 1;
            return None;
        }
        if vote.is_early(body.cluster, body.epoch, body.round, view) {
            // For a round this member has not reached: kept until it does.
            vote.early_ballots
                .entry((body.round, body.voter))
                .or_insert(ballot);
            return None;
        }
        if body.cluster != view.cluster
            || body.epoch != vote.round_epoch
            || body.round != vote.round
            || !vote.authorities.contains(&view.me)
        {
            ctx.stats.dropped.stale += 1;
            return None;
        }
        if let Some(published) = &vote.my_tally {
            // Counted already: the voter sends again because it has not seen our tally.
            ctx.stats.dropped.duplicate += 1;
            if let Some(entry) = view.current.table.get(&body.voter) {
                let tally = Flooded::Tally(Box::new(published.clone()));
                view.send_to(&tally, &[entry.addr], ctx);
            }
            return None;
        }
        if vote.result.is_some() {
            ctx.stats.dropped.stale += 1;
            return None;
        }
        match vote.ballots.get(&body.voter) {
            Some(held) if *held == ballot => {
                ctx.stats.dropped.duplicate += 1;
                return None;
            }
            Some(_) => {
                // One ballot per member per round: a second, different one is not counted.
                ctx.stats.dropped.second_ballot += 1;
                return None;
            }
            None => {}
        }
        vote.ballots.insert(body.voter, ballot);
        if vote.ballots.len() >= vote.voters {
            return Some(vote.tally(view, ctx));
        }
        None
    }

    /// Handles a flooded tally.
    pub(crate) fn on_tally(
        &mut self,
        now: Timestamp,
        published: PublishedTally,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let own = self.count_tally(now, published, view, ctx);
        self.publish_own(now, own, view, ctx);
    }

    /// Takes a tally into account; returns this member's own tallies that a new round
    /// completed at once.
    fn count_tally(
        &mut self,
        now: Timestamp,
        published: PublishedTally,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Vec<PublishedTally> {
        let body = &published.tally.body;
        let Some(vote) = self.open.get_mut(&body.proposal) else {
            ctx.stats.dropped.stale += 1;
            return Vec::new();
        };
        if vote.is_early(body.cluster, body.epoch, body.round, view)
            && view.current.table.get(&body.authority).is_some_and(|a| {
                published
                    .tally
                    .verify_with(&a.identity, ctx.verifier)
                    .is_ok()
            })
        {
            // Of a round this member has not reached, signed by a member (so that no forgery
            // takes the place of the real tally): kept until it does, and checked in full then.
            let key = (body.round, body.authority);
            vote.early_tallies.entry(key).or_insert(published);
            return Vec::new();
        }
        if body.cluster != view.cluster
            || body.epoch != vote.round_epoch
            || body.round != vote.round
            || vote.result.is_some()
        {
            ctx.stats.dropped.stale += 1;
            return Vec::new();
        }
        let Some(authority) = view
            .current
            .table
            .get(&body.authority)
            .filter(|_| vote.authorities.contains(&body.authority))
        else {
            ctx.stats.dropped.not_member += 1;
            return Vec::new();
        };
        if published
            .tally
            .verify_with(&authority.identity, ctx.verifier)
            .is_err()
        {
            ctx.stats.dropped.bad_signature += 1;
            return Vec::new();
        }
        if vote.tallies.contains_key(&body.authority) {
            ctx.stats.dropped.duplicate += 1;
            return Vec::new();
        }
        let consistent = digests_hash(&published.digests) == body.count.ballots
            && published.digests.len() == usize::from(body.count.yes) + usize::from(body.count.no)
            && (!vote.proposal.body.verifiable || vote.recount_matches(&published, view));
        if !consistent {
            info!(proposal = %body.proposal, authority = %body.authority, "an authority's tally does not match what it counted");
            ctx.out.emit(
                ctx.stats,
                Event::AuthorityMiscounted {
                    proposal: body.proposal,
                    authority: body.authority,
                },
            );
        }
        let differs = !consistent
            || vote
                .tallies
                .values()
                .any(|t| t.tally.body.count != body.count);
        let (authority, proposal) = (body.authority, body.proposal);
        vote.tallies.insert(authority, published);
        if differs {
            return vote.void(now, view, ctx);
        }
        if vote.tallies.len() == vote.authorities.len() {
            let certificate: Vec<Signed<Tally>> =
                vote.tallies.values().map(|t| t.tally.clone()).collect();
            let count = certificate[0].body.count;
            // At most MAX_AUTHORITIES tallies: one per authority of a table of MAX_MEMBERS.
            let certificate = BoundedVec::truncating(certificate);
            let outcome = match rule::decides(&count, usize::from(vote.proposal.body.electorate)) {
                Some(true) => Outcome::Accepted(certificate),
                Some(false) => Outcome::Rejected(certificate),
                None => {
                    // Too few of the electorate voted to decide (a partition's minority, or
                    // members that do not answer): the round decides nothing, and its timer
                    // voids it (not at once: a round of one member would redraw in a loop).
                    debug!(%proposal, round = vote.round, ?count, "round below the quorum");
                    return Vec::new();
                }
            };
            debug!(%proposal, round = vote.round, ?count, "vote decided");
            vote.result = Some((now, outcome));
        }
        Vec::new()
    }

    /// Floods this member's own tallies and counts them, and whatever they complete.
    fn publish_own(
        &mut self,
        now: Timestamp,
        mut tallies: Vec<PublishedTally>,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        loop {
            while let Some(tally) = tallies.pop() {
                self.to_flood.push(Flooded::Tally(Box::new(tally.clone())));
                tallies.extend(self.count_tally(now, tally, view, ctx));
            }
            // What came early for the rounds the votes are in now: counting it may void them
            // in turn, so until nothing is left.
            let (early_ballots, early_tallies) = self.take_early();
            if early_ballots.is_empty() && early_tallies.is_empty() {
                return;
            }
            for ballot in early_ballots {
                tallies.extend(self.receive_ballot(ballot, view, ctx));
            }
            for tally in early_tallies {
                tallies.extend(self.count_tally(now, tally, view, ctx));
            }
        }
    }

    /// Takes, from every open vote, the early ballots and tallies of the round it is in now,
    /// and forgets those of rounds already past.
    fn take_early(&mut self) -> (Vec<Signed<Ballot>>, Vec<PublishedTally>) {
        let (mut ballots, mut tallies) = (Vec::new(), Vec::new());
        for vote in self.open.values_mut() {
            ballots.extend(take_round(&mut vote.early_ballots, vote.round));
            tallies.extend(take_round(&mut vote.early_tallies, vote.round));
        }
        (ballots, tallies)
    }

    /// Runs the votes' timers.
    pub(crate) fn handle_timeout(
        &mut self,
        now: Timestamp,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let mut tallies = Vec::new();
        for vote in self.open.values_mut() {
            if vote.result.is_some() {
                continue;
            }
            let deadline = vote.round_started + ctx.config.vote_deadline;
            if !vote.tallied && vote.authorities.contains(&view.me) && now >= deadline {
                tallies.push(vote.tally(view, ctx));
            }
            if now >= deadline + ctx.config.tally_wait {
                tallies.extend(vote.void(now, view, ctx));
                continue;
            }
            if now >= vote.next_ballot {
                tallies.extend(vote.send_ballots(now, view, ctx));
            }
            if now >= vote.next_reminder {
                vote.remind(now, view, ctx);
            }
        }
        self.publish_own(now, tallies, view, ctx);
    }

    /// The next deadline of the votes.
    pub(crate) fn poll_timeout(&self, me: MemberId, config: &crate::Config) -> Option<Timestamp> {
        self.open
            .values()
            .filter(|v| v.result.is_none())
            .map(|v| {
                let deadline = v.round_started + config.vote_deadline;
                let tally = if v.tallied || !v.authorities.contains(&me) {
                    deadline + config.tally_wait
                } else {
                    deadline
                };
                let reminder = if v.authorities.contains(&me) && !v.tallied {
                    v.next_reminder
                } else {
                    Timestamp::MAX
                };
                tally.min(v.next_ballot).min(reminder)
            })
            .min()
    }

    /// When the earliest outcome awaiting a rollout was reached.
    pub(crate) fn decided_since(&self) -> Option<Timestamp> {
        self.open
            .values()
            .filter_map(|v| v.result.as_ref().map(|(at, _)| *at))
            .min()
    }

    /// The members whose expulsion this member holds an accepted outcome of.
    pub(crate) fn expelled(&self) -> impl Iterator<Item = MemberId> + '_ {
        self.open
            .values()
            .filter_map(|v| match (&v.result, &v.proposal.body.kind) {
                (Some((_, Outcome::Accepted(_))), ProposalKind::Expel { member }) => Some(*member),
                _ => None,
            })
    }

    /// The outcomes awaiting a rollout, oldest first.
    pub(crate) fn decisions(&self) -> Vec<Decision> {
        let mut decided: Vec<(Timestamp, Decision)> = self
            .open
            .values()
            .filter_map(|v| {
                let (at, outcome) = v.result.as_ref()?;
                Some((
                    *at,
                    Decision {
                        proposal: v.proposal.clone(),
                        outcome: outcome.clone(),
                    },
                ))
            })
            .collect();
        decided.sort_by_key(|(at, d)| (*at, d.proposal.body.id()));
        decided.into_iter().map(|(_, d)| d).collect()
    }

    /// A new epoch was installed, closing the votes `decisions` records: reports them, and
    /// starts a new round in the new epoch for every vote still open. When `concurrent`, the
    /// rollout replaced another of the same epoch: the votes that one closed and this one does
    /// not are open again.
    pub(crate) fn epoch_installed(
        &mut self,
        now: Timestamp,
        decisions: &[Decision],
        concurrent: bool,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let closing: BTreeMap<ProposalId, VoteOutcome> = decisions
            .iter()
            .map(|d| (d.proposal.body.id(), VoteOutcome::of(&d.outcome)))
            .collect();
        let before = std::mem::take(&mut self.closed_by_current);
        if concurrent {
            for (id, (vote, _)) in &before {
                if !closing.contains_key(id) {
                    self.closed.retain(|c| c != id);
                    self.open.insert(*id, vote.clone());
                }
            }
        }
        for decision in decisions {
            let id = decision.proposal.body.id();
            let outcome = VoteOutcome::of(&decision.outcome);
            let earlier = before.get(&id).filter(|_| concurrent).map(|(_, o)| *o);
            let vote = self
                .open
                .remove(&id)
                .or_else(|| before.get(&id).map(|(v, _)| v.clone()));
            if let Some(vote) = vote {
                self.closed_by_current.insert(id, (vote, outcome));
            }
            if !self.closed.contains(&id) {
                self.closed.push_back(id);
                if self.closed.len() > REMEMBER_CLOSED {
                    self.closed.pop_front();
                }
            }
            if earlier == Some(outcome) {
                continue;
            }
            info!(proposal = %id, ?outcome, "vote closed");
            ctx.out.emit(
                ctx.stats,
                Event::VoteClosed {
                    proposal: id,
                    kind: decision.proposal.body.kind.clone(),
                    outcome,
                },
            );
        }
        let mut tallies = Vec::new();
        for vote in self.open.values_mut() {
            if matches!(vote.result, Some((_, Outcome::Failed))) {
                continue;
            }
            // A certificate belongs to the epoch it was made in: count again in this one.
            vote.result = None;
            let round = vote.round.wrapping_add(1);
            if vote.start_round(now, round, view) {
                tallies.extend(vote.send_ballots(now, view, ctx));
            }
        }
        self.publish_own(now, tallies, view, ctx);
    }
}

/// Whether the electorate a proposal claims can be right, as far as this member's table tells:
/// exactly the table when made in the current epoch, no smaller than what is left of it when
/// made before (an electorate only shrinks). A proposal from an epoch this member has not
/// reached yet cannot be checked.
fn electorate_plausible(proposal: &Proposal, view: &VoteView<'_>) -> bool {
    let left = draw::electorate(&view.current.table, proposal.epoch, |e| e.joined).len();
    let claimed = usize::from(proposal.electorate);
    match proposal.epoch.cmp(&view.current.epoch) {
        core::cmp::Ordering::Equal => claimed == left,
        core::cmp::Ordering::Less => claimed >= left,
        core::cmp::Ordering::Greater => true,
    }
}

/// Takes the entries of `round` out of `early` (keyed by round, then sender), and forgets
/// those of earlier rounds; later rounds stay.
fn take_round<V>(early: &mut BTreeMap<(u8, MemberId), V>, round: u8) -> Vec<V> {
    let first = |round| (round, MemberId([0; MemberId::LEN]));
    let mut from_round = early.split_off(&first(round));
    *early = match round.checked_add(1) {
        Some(next) => from_round.split_off(&first(next)),
        None => BTreeMap::new(),
    };
    from_round.into_values().collect()
}

impl Vote {
    /// Whether a ballot or tally of (`cluster`, `epoch`, `round`) is of one of the next
    /// [`EARLY_ROUNDS`] rounds of this undecided vote, in the epoch of its round: one this
    /// member has not reached yet.
    fn is_early(&self, cluster: ClusterId, epoch: Epoch, round: u8, view: &VoteView<'_>) -> bool {
        cluster == view.cluster
            && epoch == self.round_epoch
            && round > self.round
            && round - self.round <= EARLY_ROUNDS
            && self.result.is_none()
    }

    /// Starts `round` in the view's epoch; returns whether this member has a ballot to send.
    fn start_round(&mut self, now: Timestamp, round: u8, view: &VoteView<'_>) -> bool {
        self.round = round;
        self.round_epoch = view.current.epoch;
        let voters = draw::electorate(&view.current.table, self.proposal.body.epoch, |e| e.joined);
        self.authorities = draw::authorities(
            &view.current.key,
            view.cluster,
            view.current.epoch,
            self.proposal.body.id(),
            round,
            &voters,
        );
        self.voters = voters.len();
        self.round_started = now;
        self.ballots.clear();
        self.tallies.clear();
        self.tallied = false;
        self.my_tally = None;
        self.next_reminder = now + REMIND_AFTER;
        self.next_ballot = if self.choice.is_some() {
            now
        } else {
            Timestamp::MAX
        };
        self.choice.is_some()
    }

    /// Seals this member's ballot to every authority of the round whose tally has not come,
    /// and schedules the next re-send. A ballot to itself is counted at once; returns the
    /// tally that completes, if any.
    fn send_ballots(
        &mut self,
        now: Timestamp,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Vec<PublishedTally> {
        let Some(yes) = self.choice else {
            return Vec::new();
        };
        self.next_ballot = now + ctx.config.ballot_retry;
        let ballot = Signed::sign(
            ctx.identity,
            Ballot {
                cluster: view.cluster,
                epoch: self.round_epoch,
                proposal: self.proposal.body.id(),
                round: self.round,
                voter: view.me,
                yes,
            },
        );
        let mut completed = Vec::new();
        for authority in self.authorities.clone() {
            if self.tallies.contains_key(&authority) {
                continue;
            }
            if authority == view.me {
                if !self.tallied && !self.ballots.contains_key(&view.me) {
                    self.ballots.insert(view.me, ballot.clone());
                    if self.ballots.len() >= self.voters {
                        completed.push(self.tally(view, ctx));
                    }
                }
                continue;
            }
            let Some(entry) = view.current.table.get(&authority) else {
                continue;
            };
            let mut tag = [0u8; 16];
            rand_core::Rng::fill_bytes(ctx.rng, &mut tag);
            let payload = AnonPayload::Ballot(ballot.clone());
            if let Ok(packet) = seal_anon(ctx.rng, &entry.epoch_key, view.cluster, tag, &payload) {
                transport::send_frame(
                    ctx,
                    &view.current.key,
                    view.cluster,
                    view.current.epoch,
                    entry.addr,
                    FrameBody::Ballot(packet),
                );
            }
        }
        completed
    }

    /// As an authority missing ballots, sends the proposal to the members of the electorate it
    /// has no ballot from: they may have missed it.
    fn remind(&mut self, now: Timestamp, view: &VoteView<'_>, ctx: &mut Ctx<'_>) {
        self.next_reminder = now + REMIND_AFTER;
        if !self.authorities.contains(&view.me) || self.tallied {
            self.next_reminder = Timestamp::MAX;
            return;
        }
        let missing: Vec<std::net::SocketAddr> = view
            .current
            .table
            .iter()
            .filter(|(id, e)| {
                **id != view.me
                    && e.joined <= self.proposal.body.epoch
                    && !self.ballots.contains_key(id)
            })
            .map(|(_, e)| e.addr)
            .collect();
        if missing.is_empty() {
            return;
        }
        debug!(proposal = %self.proposal.body.id(), missing = missing.len(), "reminding members of a vote");
        view.send_to(&Flooded::Proposal(self.proposal.clone()), &missing, ctx);
    }

    /// Counts the ballots this member holds as an authority and signs the tally.
    fn tally(&mut self, view: &VoteView<'_>, ctx: &mut Ctx<'_>) -> PublishedTally {
        self.tallied = true;
        let mut count = Count {
            yes: 0,
            no: 0,
            authorities_yes: 0,
            authorities_no: 0,
            ballots: [0; 32],
        };
        let mut digests = Vec::with_capacity(self.ballots.len());
        for (voter, ballot) in &self.ballots {
            let authority = self.authorities.contains(voter);
            match (ballot.body.yes, authority) {
                (true, true) => count.authorities_yes += 1,
                (false, true) => count.authorities_no += 1,
                _ => {}
            }
            if ballot.body.yes {
                count.yes += 1;
            } else {
                count.no += 1;
            }
            digests.push(ballot_digest(ballot));
        }
        digests.sort_unstable();
        count.ballots = digests_hash(&digests);
        if self.lying {
            core::mem::swap(&mut count.yes, &mut count.no);
            core::mem::swap(&mut count.authorities_yes, &mut count.authorities_no);
        }
        debug!(proposal = %self.proposal.body.id(), round = self.round, ?count, "tallied");
        let tally = Signed::sign(
            ctx.identity,
            Tally {
                cluster: view.cluster,
                epoch: self.round_epoch,
                proposal: self.proposal.body.id(),
                round: self.round,
                authority: view.me,
                count,
            },
        );
        let ballots = if self.proposal.body.verifiable {
            self.ballots.values().cloned().collect()
        } else {
            Vec::new()
        };
        let published = PublishedTally {
            tally,
            // At most one digest and ballot per member.
            digests: BoundedVec::truncating(digests),
            ballots: BoundedVec::truncating(ballots),
        };
        self.my_tally = Some(published.clone());
        published
    }

    /// In verifiable mode, whether the ballots a tally publishes are rightly signed, one per
    /// member of the round's table, for this round, and add up to its count.
    fn recount_matches(&self, published: &PublishedTally, view: &VoteView<'_>) -> bool {
        let mut voters = std::collections::BTreeSet::new();
        let mut digests = Vec::new();
        let (mut yes, mut no) = (0u16, 0u16);
        for ballot in published.ballots.iter() {
            let body = &ballot.body;
            let signed = view
                .current
                .table
                .get(&body.voter)
                .is_some_and(|e| ballot.verify(&e.identity).is_ok());
            if !signed
                || body.proposal != self.proposal.body.id()
                || body.round != self.round
                || body.epoch != self.round_epoch
                || !voters.insert(body.voter)
            {
                return false;
            }
            if body.yes {
                yes += 1;
            } else {
                no += 1;
            }
            digests.push(ballot_digest(ballot));
        }
        digests.sort_unstable();
        let count = &published.tally.body.count;
        digests_hash(&digests) == count.ballots && yes == count.yes && no == count.no
    }

    /// Voids the current round: the next one draws new authorities, unless the rounds are
    /// spent, and then the vote fails closed.
    fn void(
        &mut self,
        now: Timestamp,
        view: &VoteView<'_>,
        ctx: &mut Ctx<'_>,
    ) -> Vec<PublishedTally> {
        self.voided = self.voided.saturating_add(1);
        ctx.stats.vote_redraws += 1;
        let quorum = rule::quorum(usize::from(self.proposal.body.electorate));
        if self.voided >= ctx.config.vote_rounds {
            if self.voters >= quorum {
                info!(proposal = %self.proposal.body.id(), "vote failed: no round agreed");
                self.result = Some((now, Outcome::Failed));
                return Vec::new();
            }
            // Fewer members than a quorum of the electorate are left in this member's table:
            // the others may be a majority elsewhere (the cluster split) and decide there, so
            // failing here could apply another outcome than theirs. The vote stays open and
            // keeps drawing rounds, which decide nothing while the quorum is missing.
            debug!(proposal = %self.proposal.body.id(), voters = self.voters, quorum, "rounds spent below the quorum: the vote stays open");
        }
        debug!(proposal = %self.proposal.body.id(), round = self.round + 1, "round void, new authorities drawn");
        let round = self.round.wrapping_add(1);
        if self.start_round(now, round, view) {
            return self.send_ballots(now, view, ctx);
        }
        Vec::new()
    }
}
