//! The draw of a round's authorities: a majority of the members, ranked by a keyed hash of the
//! proposal and the round, so every member computes the same set and nobody outside the epoch
//! can, and a proposer has nothing to vary that would steer it.

use std::collections::BTreeMap;

use hkdf::Hkdf;
use sha2::Sha256;

use crate::crypto::ClusterKey;
use crate::ids::{ClusterId, Epoch, MemberId};
use crate::wire::vote::ProposalId;

/// Domain label of an authority rank.
const DRAW_LABEL: &[u8] = b"peerster/authority-rank/v1";

/// The members that vote on a proposal made in `proposal_epoch`: those of `table` that were
/// members then (joined no later). A member that joined since neither votes nor counts.
pub(crate) fn electorate<V: Clone>(
    table: &BTreeMap<MemberId, V>,
    proposal_epoch: Epoch,
    joined: impl Fn(&V) -> Epoch,
) -> BTreeMap<MemberId, V> {
    table
        .iter()
        .filter(|(_, v)| joined(v) <= proposal_epoch)
        .map(|(id, v)| (*id, v.clone()))
        .collect()
}

/// How many authorities a round of a cluster of `members` draws: `floor(members / 2) + 1`.
pub(crate) fn authority_count(members: usize) -> usize {
    members / 2 + 1
}

/// The authorities of `round` of `proposal` in `epoch`: the `floor(n/2)+1` members of `table`
/// with the lowest HMAC-SHA256(cluster key, label ‖ cluster ‖ epoch ‖ proposal ‖ round ‖ member),
/// in rank order.
pub(crate) fn authorities<V>(
    key: &ClusterKey,
    cluster: ClusterId,
    epoch: Epoch,
    proposal: ProposalId,
    round: u8,
    table: &BTreeMap<MemberId, V>,
) -> Vec<MemberId> {
    let mut ranked: Vec<([u8; 32], MemberId)> = table
        .keys()
        .map(|member| {
            let mut message = Vec::with_capacity(DRAW_LABEL.len() + 8 + 8 + 16 + 1 + 16);
            message.extend_from_slice(DRAW_LABEL);
            message.extend_from_slice(&cluster.0.to_be_bytes());
            message.extend_from_slice(&epoch.0.to_be_bytes());
            message.extend_from_slice(&proposal.0);
            message.push(round);
            message.extend_from_slice(&member.0);
            // HKDF-Extract(salt = key, ikm = message) is HMAC(key, message).
            let (rank, _) = Hkdf::<Sha256>::extract(Some(key.as_bytes()), &message);
            (rank.into(), *member)
        })
        .collect();
    ranked.sort_unstable();
    ranked
        .into_iter()
        .take(authority_count(table.len()))
        .map(|(_, member)| member)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(n: u8) -> BTreeMap<MemberId, ()> {
        (0..n).map(|i| (MemberId([i; 16]), ())).collect()
    }

    #[test]
    fn a_majority_is_drawn_the_same_by_everyone_and_anew_each_round() {
        let key = ClusterKey::from_bytes([7; 32]);
        let members = table(20);
        let draw = |round| {
            authorities(
                &key,
                ClusterId(1),
                Epoch(2),
                ProposalId([3; 16]),
                round,
                &members,
            )
        };
        let first = draw(0);
        assert_eq!(first.len(), 11);
        assert_eq!(first, draw(0));
        let mut unique = first.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 11);
        assert_ne!(first, draw(1));
        let other_key = ClusterKey::from_bytes([8; 32]);
        assert_ne!(
            first,
            authorities(
                &other_key,
                ClusterId(1),
                Epoch(2),
                ProposalId([3; 16]),
                0,
                &members
            )
        );
        assert_eq!(authority_count(1), 1);
        assert_eq!(authority_count(4), 3);
    }

    #[test]
    fn every_member_is_drawn_about_as_often() {
        let key = ClusterKey::from_bytes([9; 32]);
        let members = table(10);
        let mut counts = BTreeMap::new();
        for p in 0..=255u8 {
            for round in 0..8 {
                for m in authorities(
                    &key,
                    ClusterId(1),
                    Epoch(1),
                    ProposalId([p; 16]),
                    round,
                    &members,
                ) {
                    *counts.entry(m).or_insert(0) += 1;
                }
            }
        }
        // 2048 draws of 6 of 10: 1229 each on average.
        assert!(
            counts.values().all(|&c| (1100..1360).contains(&c)),
            "{counts:?}"
        );
    }
}
