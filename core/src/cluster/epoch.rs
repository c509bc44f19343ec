//! One epoch of a cluster: its key, its member table, this member's epoch secret, and the
//! order in which members lead the rollout out of it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use hkdf::Hkdf;
use rand_core::Rng;
use sha2::Sha256;

use crate::crypto::{ClusterKey, EpochPublic, EpochSecret, PublicIdentity};
use crate::ids::{ClusterId, Epoch, MemberId};
use crate::time::Timestamp;
use crate::wire::cluster::{Flooded, Rollout, Signed};
use crate::wire::fragment::MessageId;

/// Domain label of a member's rank in the leader order.
const RANK_LABEL: &[u8] = b"peerster/rollout-rank/v1";

/// A member's rank in the leader order of one epoch: lower leads first.
pub(crate) type Rank = [u8; 32];

/// The best possible rank: that of the rollout that founded a cluster, which nothing replaces.
pub(crate) const FOUNDING_RANK: Rank = [0; 32];

/// What a member knows of another member.
#[derive(Clone, Debug)]
pub(crate) struct MemberEntry {
    /// Its long-term identity.
    pub(crate) identity: PublicIdentity,
    /// Its epoch key: what the cluster key and anonymous messages are sealed to.
    pub(crate) epoch_key: EpochPublic,
    /// Where it receives datagrams.
    pub(crate) addr: SocketAddr,
    /// The epoch it joined in.
    pub(crate) joined: Epoch,
    /// When a signed message from it last arrived (or when it entered the table).
    pub(crate) last_heard: Timestamp,
    /// Its heartbeat chain as far as accepted, to check the next link and refuse replays.
    pub(crate) heartbeat: Option<super::heartbeat::ChainView>,
}

/// The rollout that opened an epoch, kept to relay it to members that missed it and to
/// welcome joiners.
#[derive(Clone, Debug)]
pub(crate) struct OpeningRollout {
    /// The flood id it travelled under.
    pub(crate) message: MessageId,
    /// Its encoding as a [`Flooded::Rollout`].
    pub(crate) bytes: Vec<u8>,
    /// The rollout.
    pub(crate) rollout: Signed<Rollout>,
}

impl OpeningRollout {
    /// Sends it to `targets` in frames of `base`, the epoch it rolls out of (the only key its
    /// recipients hold).
    pub(crate) fn send(
        &self,
        ctx: &mut crate::node::Ctx<'_>,
        cluster: ClusterId,
        base: &EpochState,
        targets: &[SocketAddr],
    ) {
        super::transport::send_flooded(
            ctx,
            &base.key,
            cluster,
            base.epoch,
            self.message,
            &self.bytes,
            targets,
        );
    }

    pub(crate) fn new(message: MessageId, rollout: Signed<Rollout>) -> Self {
        let bytes =
            crate::wire::encode_payload(&Flooded::Rollout(rollout.clone())).unwrap_or_default();
        OpeningRollout {
            message,
            bytes,
            rollout,
        }
    }
}

/// One epoch of the cluster as this member holds it.
#[derive(Clone, Debug)]
pub(crate) struct EpochState {
    /// The epoch.
    pub(crate) epoch: Epoch,
    /// Its cluster key.
    pub(crate) key: ClusterKey,
    /// Its members, this one included.
    pub(crate) table: BTreeMap<MemberId, MemberEntry>,
    /// This member's secret for the epoch key it has in `table`.
    pub(crate) my_secret: EpochSecret,
    /// The rank, in the previous epoch, of the leader of the rollout that opened this one.
    pub(crate) leader_rank: Rank,
    /// That rollout, if this epoch was opened by one.
    pub(crate) opening: Option<OpeningRollout>,
    /// The cluster it belongs to.
    cluster: ClusterId,
    /// Every member's rank, lowest first: the leader order, computed once per epoch.
    ranked: Vec<(Rank, MemberId)>,
}

/// The rank of `member` in the leader order out of `epoch` under `key`:
/// HMAC-SHA256(cluster key, label ‖ cluster ‖ epoch ‖ member). Every member computes the same
/// ranks; nobody without the key can.
fn compute_rank(key: &ClusterKey, cluster: ClusterId, epoch: Epoch, member: &MemberId) -> Rank {
    let mut message = Vec::with_capacity(RANK_LABEL.len() + 8 + 8 + MemberId::LEN);
    message.extend_from_slice(RANK_LABEL);
    message.extend_from_slice(&cluster.0.to_be_bytes());
    message.extend_from_slice(&epoch.0.to_be_bytes());
    message.extend_from_slice(&member.0);
    // HKDF-Extract(salt = key, ikm = message) is HMAC(key, message).
    let (prk, _) = Hkdf::<Sha256>::extract(Some(key.as_bytes()), &message);
    prk.into()
}

impl EpochState {
    /// An epoch of `cluster` with its key and table; `leader_rank` and `opening` describe the
    /// rollout that opened it.
    pub(crate) fn new(
        cluster: ClusterId,
        epoch: Epoch,
        key: ClusterKey,
        table: BTreeMap<MemberId, MemberEntry>,
        my_secret: EpochSecret,
        leader_rank: Rank,
        opening: Option<OpeningRollout>,
    ) -> Self {
        let mut ranked: Vec<(Rank, MemberId)> = table
            .keys()
            .map(|id| (compute_rank(&key, cluster, epoch, id), *id))
            .collect();
        ranked.sort_unstable();
        EpochState {
            epoch,
            key,
            table,
            my_secret,
            leader_rank,
            opening,
            cluster,
            ranked,
        }
    }

    /// The rank of `member` in the leader order out of this epoch.
    pub(crate) fn rank(&self, member: &MemberId) -> Rank {
        self.ranked.iter().find(|(_, id)| id == member).map_or_else(
            || compute_rank(&self.key, self.cluster, self.epoch, member),
            |(rank, _)| *rank,
        )
    }

    /// The members in the order they lead the rollout out of this epoch, `excluded` (members
    /// known to be leaving) left out.
    pub(crate) fn leader_order(&self, excluded: &BTreeSet<MemberId>) -> Vec<MemberId> {
        self.ranked
            .iter()
            .map(|(_, id)| *id)
            .filter(|id| !excluded.contains(id))
            .collect()
    }

    /// Up to `k` distinct random members other than `me` that pass `eligible`, by address.
    pub(crate) fn random_members(
        &self,
        me: &MemberId,
        k: usize,
        rng: &mut impl Rng,
        eligible: impl Fn(&MemberEntry) -> bool,
    ) -> Vec<SocketAddr> {
        // References, not addresses: only the `k` drawn entries are read past their keys.
        let candidates: Vec<&MemberEntry> = self
            .table
            .iter()
            .filter(|(id, entry)| *id != me && eligible(entry))
            .map(|(_, entry)| entry)
            .collect();
        (crate::sample::sample(candidates, k, rng).into_iter())
            .map(|entry| entry.addr)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::IdentityKey;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn state(key: u8, members: u8) -> EpochState {
        let mut rng = ChaCha20Rng::from_seed([key; 32]);
        let table = (1..=members)
            .map(|i| {
                let identity = IdentityKey::from_secret_bytes([i; 32]).public();
                let entry = MemberEntry {
                    identity,
                    epoch_key: EpochSecret::generate(&mut rng).public(),
                    addr: SocketAddr::from(([10, 0, 0, i], 7000)),
                    joined: Epoch(0),
                    last_heard: Timestamp::ZERO,
                    heartbeat: None,
                };
                (identity.member_id(), entry)
            })
            .collect();
        EpochState::new(
            ClusterId(9),
            Epoch(3),
            ClusterKey::from_bytes([key; 32]),
            table,
            EpochSecret::generate(&mut rng),
            FOUNDING_RANK,
            None,
        )
    }

    #[test]
    fn the_leader_order_is_a_permutation_that_depends_on_the_key() {
        let a = state(1, 12);
        let b = state(2, 12);
        let order_a = a.leader_order(&BTreeSet::new());
        let order_b = b.leader_order(&BTreeSet::new());
        let mut sorted = order_a.clone();
        sorted.sort();
        assert_eq!(sorted, a.table.keys().copied().collect::<Vec<_>>());
        assert_ne!(order_a, order_b, "another key gives another order");
        // Deterministic, and excluding a member only removes it.
        assert_eq!(order_a, a.leader_order(&BTreeSet::new()));
        let first = order_a[0];
        let without = a.leader_order(&BTreeSet::from([first]));
        assert_eq!(without, order_a[1..]);
    }

    #[test]
    fn random_members_are_distinct_and_never_me() {
        let s = state(3, 8);
        let me = *s.table.keys().next().unwrap();
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        for k in 0..10 {
            let picked = s.random_members(&me, k, &mut rng, |_| true);
            assert_eq!(picked.len(), k.min(7));
            let distinct: BTreeSet<_> = picked.iter().collect();
            assert_eq!(distinct.len(), picked.len());
            assert!(!picked.contains(&s.table[&me].addr));
        }
    }
}
