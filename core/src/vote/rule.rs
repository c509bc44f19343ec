//! The rules that turn a round's tallies into an outcome, and the check every member makes of
//! the certificate a rollout carries.

use std::collections::BTreeSet;

use crate::cluster::epoch::EpochState;
use crate::ids::{ClusterId, MemberId};
use crate::wire::cluster::Signed;
use crate::wire::vote::{Count, Decision, Outcome, ProposalKind, Tally};

/// The ballots a round needs to decide a proposal opened with `electorate` voters: a majority
/// of them, `floor(n/2)+1`.
pub(crate) fn quorum(electorate: usize) -> usize {
    electorate / 2 + 1
}

/// What a count decides of a proposal opened with `electorate` voters: `Some(true)` accepts,
/// `Some(false)` rejects, `None` decides nothing (the round is void).
///
/// Fewer ballots than the [`quorum`] decide nothing: two sides of a split cluster cannot
/// both hold a majority of the electorate, so at most one of them decides. Then more yes than
/// no accepts, more no than yes rejects; a tie goes to the authorities' own ballots (more yes
/// than no among them accepts), and a tie there rejects.
pub(crate) fn decides(count: &Count, electorate: usize) -> Option<bool> {
    let voted = usize::from(count.yes) + usize::from(count.no);
    if voted < quorum(electorate) {
        return None;
    }
    Some(match count.yes.cmp(&count.no) {
        core::cmp::Ordering::Greater => true,
        core::cmp::Ordering::Less => false,
        core::cmp::Ordering::Equal => count.authorities_yes > count.authorities_no,
    })
}

/// Why a decision in a rollout was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DecisionFault {
    /// The proposal is not signed by a member of the epoch, or not of this cluster.
    BadProposal,
    /// The tallies are not exactly one per authority of one round of the epoch, identical and
    /// signed, or their outcome is not the one claimed.
    BadCertificate,
}

/// Checks a decision against the epoch `base` it was made in (the epoch the rollout carrying
/// it rolls out of).
pub(crate) fn check_decision(
    decision: &Decision,
    cluster: ClusterId,
    base: &EpochState,
) -> Result<(), DecisionFault> {
    let proposal = &decision.proposal;
    let proposer = base
        .table
        .get(&proposal.body.proposer)
        .ok_or(DecisionFault::BadProposal)?;
    if proposal.body.cluster != cluster || proposal.verify(&proposer.identity).is_err() {
        return Err(DecisionFault::BadProposal);
    }
    let (tallies, accepted) = match &decision.outcome {
        Outcome::Failed => return Ok(()),
        Outcome::Accepted(t) => (t, true),
        Outcome::Rejected(t) => (t, false),
    };
    let voters = super::draw::electorate(&base.table, proposal.body.epoch, |e| e.joined);
    // An electorate only shrinks: a proposal claiming fewer voters than are left lowers its
    // quorum.
    let electorate = usize::from(proposal.body.electorate);
    if electorate < voters.len() {
        return Err(DecisionFault::BadProposal);
    }
    let count = certificate_count(tallies, proposal, cluster, base, &voters)?;
    if decides(&count, electorate) != Some(accepted) {
        return Err(DecisionFault::BadCertificate);
    }
    Ok(())
}

/// The count a certificate shows, if it is one tally from each authority of one round of
/// `base`, all identical and rightly signed.
fn certificate_count(
    tallies: &[Signed<Tally>],
    proposal: &Signed<crate::wire::vote::Proposal>,
    cluster: ClusterId,
    base: &EpochState,
    voters: &std::collections::BTreeMap<MemberId, crate::cluster::epoch::MemberEntry>,
) -> Result<Count, DecisionFault> {
    let bad = DecisionFault::BadCertificate;
    let first = tallies.first().ok_or(bad)?;
    let id = proposal.body.id();
    let round = first.body.round;
    let drawn: BTreeSet<MemberId> =
        super::draw::authorities(&base.key, cluster, base.epoch, id, round, voters)
            .into_iter()
            .collect();
    let mut signers = BTreeSet::new();
    for tally in tallies {
        let body = &tally.body;
        if body.cluster != cluster
            || body.epoch != base.epoch
            || body.proposal != id
            || body.round != round
            || body.count != first.body.count
            || !drawn.contains(&body.authority)
            || !signers.insert(body.authority)
        {
            return Err(bad);
        }
        let entry = base.table.get(&body.authority).ok_or(bad)?;
        tally.verify(&entry.identity).map_err(|_| bad)?;
    }
    if signers != drawn {
        return Err(bad);
    }
    Ok(first.body.count)
}

/// The member a decision adds to the table, with the key and address it comes in with.
pub(crate) fn admitted(decision: &Decision) -> Option<&ProposalKind> {
    match (&decision.outcome, &decision.proposal.body.kind) {
        (Outcome::Accepted(_), kind @ ProposalKind::Admit { .. }) => Some(kind),
        _ => None,
    }
}

/// The member a decision expels.
pub(crate) fn expelled(decision: &Decision) -> Option<MemberId> {
    match (&decision.outcome, &decision.proposal.body.kind) {
        (Outcome::Accepted(_), ProposalKind::Expel { member }) => Some(*member),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(yes: u16, no: u16, authorities_yes: u16, authorities_no: u16) -> Count {
        Count {
            yes,
            no,
            authorities_yes,
            authorities_no,
            ballots: [0; 32],
        }
    }

    #[test]
    fn the_majority_of_ballots_decides_with_a_quorum_and_the_authorities_break_ties() {
        assert_eq!(decides(&count(11, 0, 6, 0), 20), Some(true));
        assert_eq!(decides(&count(6, 5, 3, 3), 20), Some(true));
        assert_eq!(decides(&count(5, 6, 3, 3), 20), Some(false));
        // 10 of 20 voted: below the quorum of 11, nothing is decided either way.
        assert_eq!(decides(&count(10, 0, 6, 0), 20), None);
        assert_eq!(decides(&count(0, 10, 0, 6), 20), None);
        // A tie: the authorities' own ballots decide, and a tie there rejects.
        assert_eq!(decides(&count(6, 6, 4, 2), 20), Some(true));
        assert_eq!(decides(&count(6, 6, 2, 4), 20), Some(false));
        assert_eq!(decides(&count(6, 6, 3, 3), 20), Some(false));
        assert_eq!(decides(&count(1, 0, 1, 0), 1), Some(true));
        // One member left of an electorate of five decides nothing alone.
        assert_eq!(decides(&count(1, 0, 1, 0), 5), None);
    }
}
