//! Joining a cluster: the joiner's request and retries, the contact's proposal, and the
//! welcome.
//!
//! The joiner seals a signed request with a fresh join key to the contact's node key. The
//! contact refuses it when the cluster is full (signed, sealed to the join key), else opens a
//! vote on admitting it ([`crate::vote`]); the rollout that applies an accepted vote includes
//! the joiner with the join key as its first epoch key, and the contact sends the joiner that
//! rollout as its welcome, sealed to the join key. A rejected or failed vote is answered with a
//! refusal. The joiner retries its request until welcomed; a retry from a joiner already in
//! the table brings the welcome again, so a lost welcome costs one retry.

use std::net::SocketAddr;

use tracing::debug;

use super::member::Membership;
use super::transport;
use crate::bounded_map::evict_oldest_if_full;
use crate::crypto::{EpochPublic, EpochSecret, PublicIdentity};
use crate::ids::MemberId;
use crate::node::Ctx;
use crate::time::Timestamp;
use crate::wire::PeerAddr;
use crate::wire::cluster::{
    Flooded, JoinMessage, JoinRefusal, JoinRequest, RefusalReason, Signed, Welcome,
};
use crate::wire::vote::{ProposalId, ProposalKind};

/// A join request this node is the contact for.
#[derive(Debug)]
pub(crate) struct ContactDuty {
    pub(crate) join_key: EpochPublic,
    pub(crate) addr: SocketAddr,
    /// The vote on admitting it.
    pub(crate) proposal: ProposalId,
    pub(crate) since: Timestamp,
    /// When the last admit or welcome went out for it.
    pub(crate) last_answer: Timestamp,
    /// The number of the last welcome sent ([`Welcome::seq`]), and the rollout it carried.
    pub(crate) welcomed: Option<(u32, crate::wire::fragment::MessageId)>,
}

/// This node's join in progress.
#[derive(Debug)]
pub(crate) struct PendingJoin {
    pub(crate) contact: SocketAddr,
    pub(crate) contact_identity: PublicIdentity,
    pub(crate) contact_key: EpochPublic,
    pub(crate) secret: EpochSecret,
    pub(crate) attempts: u32,
    pub(crate) next_retry: Timestamp,
}

impl PendingJoin {
    /// Sends (or sends again) the join request.
    pub(crate) fn send_request(&mut self, now: Timestamp, ctx: &mut Ctx<'_>) {
        self.attempts += 1;
        self.next_retry = now + ctx.config.join_retry;
        let request = Signed::sign(
            ctx.identity,
            JoinRequest {
                joiner: ctx.identity.public(),
                contact: self.contact_identity.member_id(),
                contact_addr: self.contact.into(),
                join_key: self.secret.public(),
            },
        );
        transport::send_join(
            ctx,
            &self.contact_key,
            self.contact,
            &JoinMessage::Request(Box::new(request)),
        );
    }
}

/// Copies of each welcome fragment sent at a time: the joiner needs every fragment, and
/// losses compound over a fragmented message.
const WELCOME_COPIES: usize = 2;

/// Sends a joiner the rollout that admitted it, sealed to its join key.
pub(crate) fn send_welcome(
    ctx: &mut Ctx<'_>,
    join_key: &EpochPublic,
    to: SocketAddr,
    seq: u32,
    opening: &super::epoch::OpeningRollout,
) {
    let fragments = transport::fragments(ctx, opening.message, &opening.bytes);
    for _ in 0..WELCOME_COPIES {
        for fragment in &fragments {
            let welcome = JoinMessage::Welcome(Welcome {
                seq,
                fragment: fragment.clone(),
            });
            transport::send_join(ctx, join_key, to, &welcome);
        }
    }
}

/// Sends a signed refusal of a join request.
pub(crate) fn refuse(
    ctx: &mut Ctx<'_>,
    join_key: &EpochPublic,
    to: SocketAddr,
    reason: RefusalReason,
) {
    debug!(%to, %reason, "join refused");
    let refusal = Signed::sign(
        ctx.identity,
        JoinRefusal {
            contact: ctx.identity.public().member_id(),
            join_key: *join_key,
            reason,
        },
    );
    transport::send_join(ctx, join_key, to, &JoinMessage::Refusal(refusal));
}

impl Membership {
    /// Handles a join request (already checked: signed by the joiner, addressed to us).
    pub(crate) fn on_join_request(
        &mut self,
        now: Timestamp,
        from: SocketAddr,
        request: JoinRequest,
        ctx: &mut Ctx<'_>,
    ) {
        let joiner = request.joiner.member_id();
        let join_key = request.join_key;
        self.learn_own_addr(request.contact_addr);
        let pace = ctx.config.join_retry / 2;
        let kind = ProposalKind::Admit {
            joiner: request.joiner,
            join_key,
            addr: from.into(),
        };
        if self
            .current
            .table
            .get(&joiner)
            .is_some_and(|e| e.epoch_key == join_key)
        {
            // Admitted already: the welcome was lost. (Another member may have been its
            // contact before; this one answers now.)
            let proposal = crate::wire::vote::Proposal {
                cluster: self.cluster,
                epoch: self.current.epoch,
                proposer: self.me,
                kind,
                verifiable: false,
                electorate: 0,
            }
            .id();
            let duty = self.contacts.entry(joiner).or_insert(ContactDuty {
                join_key,
                addr: from,
                proposal,
                since: now,
                last_answer: Timestamp::ZERO,
                welcomed: None,
            });
            if now >= duty.last_answer + pace {
                duty.last_answer = now;
                self.welcome(joiner, ctx);
            }
            return;
        }
        if let Some(duty) = self.contacts.get_mut(&joiner)
            && duty.join_key == join_key
        {
            // A retry while the vote runs: members that missed the proposal get it again.
            if now >= duty.last_answer + pace {
                duty.last_answer = now;
                let proposal = duty.proposal;
                if let Some(signed) = self.votes.proposal(&proposal).cloned() {
                    self.flood_own(&Flooded::Proposal(signed), ctx);
                }
            }
            return;
        }
        let limit = self.size_limit(ctx.config);
        if self.current.table.len() + self.votes.admissions_pending(&joiner) >= limit {
            refuse(ctx, &join_key, from, RefusalReason::Full);
            return;
        }
        let (votes, view) = self.vote_parts();
        let proposal = match votes.propose(now, kind, &view, ctx) {
            Ok((id, proposal)) => {
                self.flood_own(&Flooded::Proposal(proposal), ctx);
                self.flood_votes(ctx);
                id
            }
            Err(error) => {
                debug!(%joiner, %error, "cannot open a vote on a joiner");
                refuse(ctx, &join_key, from, RefusalReason::Declined);
                return;
            }
        };
        evict_oldest_if_full(&mut self.contacts, ctx.config.max_pending_joins, |d| {
            d.since
        });
        self.contacts.insert(
            joiner,
            ContactDuty {
                join_key,
                addr: from,
                proposal,
                since: now,
                last_answer: now,
                welcomed: None,
            },
        );
    }

    /// Answers the joiners whose admission a rollout refused (rejected, or failed) with a
    /// refusal.
    pub(crate) fn refuse_declined(&mut self, declined: &[ProposalId], ctx: &mut Ctx<'_>) {
        let refused: Vec<MemberId> = self
            .contacts
            .iter()
            .filter(|(_, d)| declined.contains(&d.proposal))
            .map(|(id, _)| *id)
            .collect();
        for joiner in refused {
            if let Some(duty) = self.contacts.remove(&joiner) {
                refuse(ctx, &duty.join_key, duty.addr, RefusalReason::Declined);
            }
        }
    }

    /// Sends the welcome to every joiner this member is the contact for that the current
    /// epoch admitted.
    pub(crate) fn welcome_admitted(&mut self, ctx: &mut Ctx<'_>) {
        let admitted: Vec<MemberId> = self
            .contacts
            .iter()
            .filter(|(id, d)| {
                self.current
                    .table
                    .get(id)
                    .is_some_and(|e| e.epoch_key == d.join_key)
            })
            .map(|(id, _)| *id)
            .collect();
        for joiner in admitted {
            self.welcome(joiner, ctx);
        }
    }

    /// Sends `joiner` the rollout that opened the current epoch, sealed to its join key.
    fn welcome(&mut self, joiner: MemberId, ctx: &mut Ctx<'_>) {
        let (Some(duty), Some(opening)) = (self.contacts.get_mut(&joiner), &self.current.opening)
        else {
            return;
        };
        // The same rollout keeps its number; another one (we switched) gets the next.
        let seq = match duty.welcomed {
            Some((seq, message)) if message == opening.message => seq,
            Some((seq, _)) => seq.saturating_add(1),
            None => 1,
        };
        duty.welcomed = Some((seq, opening.message));
        debug!(%joiner, epoch = %self.current.epoch, seq, "welcoming a joiner");
        send_welcome(ctx, &duty.join_key, duty.addr, seq, opening);
    }

    /// Forgets contact duties older than the member timeout.
    pub(crate) fn expire_contacts(&mut self, now: Timestamp, ctx: &Ctx<'_>) {
        let timeout = ctx.config.member_timeout;
        self.contacts.retain(|_, d| now < d.since + timeout);
    }

    /// Records the address others reach this member at, learned from a joiner.
    fn learn_own_addr(&mut self, addr: PeerAddr) {
        let addr = SocketAddr::from(addr);
        if let Some(entry) = self.current.table.get_mut(&self.me)
            && entry.addr.ip().is_unspecified()
        {
            entry.addr = addr;
        }
    }
}
