//! Choosing where an anonymous packet goes next: stem successors (Dandelion++ or Crowds) and
//! fluff targets.
//!
//! Dandelion++ (Fanti et al., 2018; BIP 156): at the start of every epoch a member draws two
//! successors among the live members. Everything that comes from one predecessor goes on to
//! the same one of the two for the whole epoch, and the member's own packets to a fixed one,
//! so an adversary that sends many packets through a relay learns one edge of its graph, not
//! a fresh sample per packet. A successor that goes silent is replaced.
//!
//! Crowds (Reiter and Rubin, 1998): every hop picks uniformly among all members, the picker
//! included; picking itself means handling the packet again as a relay.

use std::collections::BTreeMap;

use rand_core::Rng;

use crate::config::StemRouting;
use crate::ids::{Epoch, MemberId};
use crate::sample::sample;

/// How many stem successors a member draws per epoch under Dandelion++.
const SUCCESSORS: usize = 2;

/// Where a stem packet goes next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Hop {
    /// Pass it on along the stem to this member.
    Stem(MemberId),
    /// Start the fluff here.
    Fluff,
}

/// A member's stem routes for one epoch.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    epoch: Option<Epoch>,
    successors: Vec<MemberId>,
    /// Which successor each predecessor's packets go to.
    by_predecessor: BTreeMap<MemberId, usize>,
    /// Which successor this member's own packets go to.
    own: usize,
}

/// True with probability `p`.
pub(crate) fn coin(rng: &mut impl Rng, p: f64) -> bool {
    // 53 random bits make a uniform float in [0, 1).
    let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    unit < p
}

impl Routes {
    /// The next hop of a packet that this member sends (`predecessor` is `None`) or that
    /// arrived on the stem from `predecessor`. `live` are the live members other than this
    /// one; `p_stem` is the probability that a relay passes a packet on.
    pub(crate) fn next_hop(
        &mut self,
        routing: StemRouting,
        epoch: Epoch,
        predecessor: Option<MemberId>,
        live: &[MemberId],
        p_stem: f64,
        rng: &mut impl Rng,
    ) -> Option<Hop> {
        if predecessor.is_some() && !coin(rng, p_stem) {
            return Some(Hop::Fluff);
        }
        match routing {
            StemRouting::Dandelion => self.dandelion(epoch, predecessor, live, rng).map(Hop::Stem),
            StemRouting::Crowds => Some(crowds(live, p_stem, rng)),
        }
    }

    fn dandelion(
        &mut self,
        epoch: Epoch,
        predecessor: Option<MemberId>,
        live: &[MemberId],
        rng: &mut impl Rng,
    ) -> Option<MemberId> {
        if self.epoch != Some(epoch) {
            self.epoch = Some(epoch);
            self.successors = sample(live.to_vec(), SUCCESSORS, rng);
            self.by_predecessor.clear();
            self.own = if self.successors.is_empty() {
                0
            } else {
                (rng.next_u64() % self.successors.len() as u64) as usize
            };
        }
        self.replace_silent(live, rng);
        if self.successors.is_empty() {
            return None;
        }
        let count = self.successors.len() as u64;
        let index = match predecessor {
            None => self.own,
            Some(p) => *self
                .by_predecessor
                .entry(p)
                .or_insert_with(|| (rng.next_u64() % count) as usize),
        };
        self.successors.get(index % self.successors.len()).copied()
    }

    /// Replaces successors that are no longer live by live members not yet chosen, and draws
    /// missing ones when more members became live.
    fn replace_silent(&mut self, live: &[MemberId], rng: &mut impl Rng) {
        let candidates = |chosen: &[MemberId]| -> Vec<MemberId> {
            live.iter()
                .copied()
                .filter(|m| !chosen.contains(m))
                .collect()
        };
        for slot in 0..self.successors.len() {
            if !live.contains(&self.successors[slot])
                && let Some(&fresh) = sample(candidates(&self.successors), 1, rng).first()
            {
                self.successors[slot] = fresh;
            }
        }
        self.successors.retain(|m| live.contains(m));
        while self.successors.len() < SUCCESSORS {
            let Some(&fresh) = sample(candidates(&self.successors), 1, rng).first() else {
                break;
            };
            self.successors.push(fresh);
        }
    }
}

/// A Crowds hop: pick uniformly among the live members and this one; picking itself, flip the
/// relay's coin again.
fn crowds(live: &[MemberId], p_stem: f64, rng: &mut impl Rng) -> Hop {
    loop {
        let pick = (rng.next_u64() % (live.len() as u64 + 1)) as usize;
        if let Some(&member) = live.get(pick) {
            return Hop::Stem(member);
        }
        if !coin(rng, p_stem) {
            return Hop::Fluff;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn members(n: u8) -> Vec<MemberId> {
        (1..=n).map(|i| MemberId([i; 16])).collect()
    }

    #[test]
    fn dandelion_sends_each_predecessor_to_one_successor_per_epoch() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let live = members(20);
        let mut routes = Routes::default();
        let mut seen = BTreeMap::new();
        let mut successors = std::collections::BTreeSet::new();
        for round in 0..400 {
            let predecessor = live[round % 20];
            let hop = routes.next_hop(
                StemRouting::Dandelion,
                Epoch(1),
                Some(predecessor),
                &live,
                1.0,
                &mut rng,
            );
            let Some(Hop::Stem(next)) = hop else {
                panic!("p_stem 1 always passes on, got {hop:?}");
            };
            assert_eq!(*seen.entry(predecessor).or_insert(next), next);
            successors.insert(next);
        }
        assert!(successors.len() <= SUCCESSORS, "{successors:?}");
        let own: std::collections::BTreeSet<_> = (0..50)
            .map(|_| routes.next_hop(StemRouting::Dandelion, Epoch(1), None, &live, 1.0, &mut rng))
            .collect();
        assert_eq!(own.len(), 1, "own packets take one fixed successor");
    }

    #[test]
    fn a_silent_successor_is_replaced() {
        let mut rng = ChaCha20Rng::from_seed([2; 32]);
        let live = members(10);
        let mut routes = Routes::default();
        let Some(Hop::Stem(first)) =
            routes.next_hop(StemRouting::Dandelion, Epoch(1), None, &live, 1.0, &mut rng)
        else {
            panic!("a live member exists");
        };
        let rest: Vec<_> = live.iter().copied().filter(|m| *m != first).collect();
        let next = routes.next_hop(StemRouting::Dandelion, Epoch(1), None, &rest, 1.0, &mut rng);
        assert!(matches!(next, Some(Hop::Stem(m)) if m != first));
        assert_eq!(
            routes.next_hop(StemRouting::Dandelion, Epoch(1), None, &[], 1.0, &mut rng),
            None
        );
    }

    #[test]
    fn relays_fluff_with_probability_one_minus_p_stem() {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let live = members(30);
        let mut routes = Routes::default();
        for routing in [StemRouting::Dandelion, StemRouting::Crowds] {
            let fluffs = (0..20_000)
                .filter(|i| {
                    routes.next_hop(routing, Epoch(2), Some(live[i % 30]), &live, 0.75, &mut rng)
                        == Some(Hop::Fluff)
                })
                .count();
            // Crowds also fluffs when it picks itself (1 in 31) and then loses the coin.
            let expected = match routing {
                StemRouting::Dandelion => 0.25,
                StemRouting::Crowds => 0.25 + 0.75 * 0.25 / 31.0 / (1.0 - 0.75 / 31.0),
            };
            let got = fluffs as f64 / 20_000.0;
            assert!(
                (got - expected).abs() < 0.015,
                "{routing:?}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn crowds_picks_every_member_uniformly() {
        let mut rng = ChaCha20Rng::from_seed([4; 32]);
        let live = members(5);
        let mut counts = BTreeMap::new();
        for _ in 0..10_000 {
            if let Hop::Stem(m) = crowds(&live, 0.9, &mut rng) {
                *counts.entry(m).or_insert(0) += 1;
            }
        }
        assert_eq!(counts.len(), 5);
        assert!(
            counts.values().all(|&c| (1800..2200).contains(&c)),
            "{counts:?}"
        );
    }
}
