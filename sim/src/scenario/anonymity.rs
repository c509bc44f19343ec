//! The adversary's estimators and how well they did.
//!
//! Everything the estimators use is what the spy coalition saw ([`Sighting::first_stem_from`],
//! [`Sighting::first_from`]) and the public protocol parameters; the true creator
//! ([`Sighting::origin`]) only scores them.
//!
//! - **First spy**: the coalition names, as a packet's creator, the node it first received
//!   the packet from on the stem, or failing that the node it first received it from at all.
//! - **Posterior entropy**: the coalition's posterior over the `h` honest members for a
//!   packet. Seen on the stem from `u`: `u` with the Crowds probability
//!   `q = 1 - p (n - c - 1) / n`, the rest spread evenly over the other `h - 1`; seen only in
//!   the fluff: even over all `h`. The mean Shannon entropy of that posterior, in bits.
//!
//! Each anonymous packet (a fragment or an acknowledgement) counts as one message.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::observe::Sighting;
use crate::NodeIndex;

/// The anonymity figures of a run (the `anonymity` object of `report.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Anonymity {
    /// Share of first-spy guesses that named the true creator.
    pub first_spy_precision: Option<f64>,
    /// The same, over packets a spy saw on the stem (the case the Crowds bound describes).
    pub first_spy_precision_given_stem_observed: Option<f64>,
    /// Mean Shannon entropy of the coalition's posterior over senders, in bits.
    pub sender_entropy_bits: Option<f64>,
    /// log2 of the honest candidates: the entropy of no knowledge at all.
    pub max_entropy_bits: f64,
    /// The analytic Crowds value 1 − p (n − c − 1) / n for the run's n, c and p.
    pub crowds_bound: f64,
    /// Expected recall of the first-spy estimator (Dandelion++): the mean over honest members
    /// of the share of their packets named rightly.
    pub recall: Option<f64>,
    /// Expected precision of the first-spy estimator (Dandelion++): the mean over honest
    /// members of (their packets named rightly) / (packets named as theirs).
    pub dandelion_precision: Option<f64>,
    /// Packets made by honest members that a spy saw.
    pub messages_observed: usize,
    /// Packets made by honest members.
    pub messages_total: usize,
    /// Share of the taps' guesses (a tapped node sending an anonymous datagram it did not just
    /// receive one for) that were right; absent without taps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tap_precision: Option<f64>,
    /// Share of the tapped nodes' own packets the taps named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tap_recall: Option<f64>,
    /// Share of the global passive observer's guesses (the taps' estimator on every node)
    /// that were right; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_observer_precision: Option<f64>,
    /// Share of all packets the global passive observer rightly named the creator of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_observer_recall: Option<f64>,
}

/// The public parameters the adversary knows: members, spies, stem probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Crowd {
    /// Members of the cluster (`n`).
    pub members: usize,
    /// Spies among them (`c`).
    pub spies: usize,
    /// Probability of passing a packet on along the stem (`p_f`).
    pub p_forward: f64,
}

impl Crowd {
    /// `1 - p (n - c - 1) / n`: the probability that the predecessor of the first spy on a
    /// Crowds path is the initiator.
    pub fn bound(&self) -> f64 {
        let n = self.members as f64;
        let honest_others = self.members.saturating_sub(self.spies + 1) as f64;
        if n == 0.0 {
            return 1.0;
        }
        1.0 - self.p_forward * honest_others / n
    }

    fn honest(&self) -> usize {
        self.members.saturating_sub(self.spies)
    }

    /// Entropy of the posterior after seeing a packet on the stem from one node.
    fn stem_entropy(&self) -> f64 {
        let h = self.honest() as f64;
        let q = self.bound().clamp(0.0, 1.0);
        let mut entropy = 0.0;
        if q > 0.0 {
            entropy -= q * q.log2();
        }
        if h > 1.0 && q < 1.0 {
            let rest = (1.0 - q) / (h - 1.0);
            entropy -= (1.0 - q) * rest.log2();
        }
        entropy
    }
}

/// Scores the estimators on `sightings`, keyed by any packet id, for packets made by honest
/// members (packets of `spies` are left out).
pub fn score<K>(
    sightings: &BTreeMap<K, Sighting>,
    spies: &BTreeSet<NodeIndex>,
    crowd_of: impl Fn(NodeIndex) -> Crowd,
) -> Anonymity {
    let mut guesses = 0usize;
    let mut correct = 0usize;
    let mut stem_guesses = 0usize;
    let mut stem_correct = 0usize;
    let mut entropy = 0.0;
    let mut total = 0usize;
    // Per honest creator: packets made, named rightly; per named node: packets named.
    let mut made: BTreeMap<NodeIndex, usize> = BTreeMap::new();
    let mut right: BTreeMap<NodeIndex, usize> = BTreeMap::new();
    let mut named: BTreeMap<NodeIndex, usize> = BTreeMap::new();
    let mut bound_sum = 0.0;
    let mut max_entropy_sum = 0.0;
    for sighting in sightings.values() {
        let Some(origin) = sighting.origin else {
            continue;
        };
        if spies.contains(&origin) {
            continue;
        }
        let crowd = crowd_of(origin);
        total += 1;
        bound_sum += crowd.bound();
        max_entropy_sum += (crowd.honest().max(1) as f64).log2();
        *made.entry(origin).or_default() += 1;
        let guess = sighting
            .first_stem_from
            .or(sighting.first_from.map(|(_, from)| from));
        if let Some(guess) = guess {
            guesses += 1;
            *named.entry(guess).or_default() += 1;
            if guess == origin {
                correct += 1;
                *right.entry(origin).or_default() += 1;
            }
            entropy += if sighting.first_stem_from.is_some() {
                crowd.stem_entropy()
            } else {
                (crowd.honest().max(1) as f64).log2()
            };
        }
        if let Some(from) = sighting.first_stem_from {
            stem_guesses += 1;
            stem_correct += usize::from(from == origin);
        }
    }
    let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
    let recall = (!made.is_empty()).then(|| {
        made.iter()
            .map(|(v, &n)| right.get(v).copied().unwrap_or(0) as f64 / n as f64)
            .sum::<f64>()
            / made.len() as f64
    });
    let dandelion_precision = (!made.is_empty()).then(|| {
        made.keys()
            .map(|v| match (right.get(v), named.get(v)) {
                (Some(&r), Some(&n)) => r as f64 / n as f64,
                _ => 0.0,
            })
            .sum::<f64>()
            / made.len() as f64
    });
    let mean = |sum: f64| if total > 0 { sum / total as f64 } else { 0.0 };
    Anonymity {
        first_spy_precision: ratio(correct, guesses),
        first_spy_precision_given_stem_observed: ratio(stem_correct, stem_guesses),
        sender_entropy_bits: (guesses > 0).then(|| entropy / guesses as f64),
        max_entropy_bits: mean(max_entropy_sum),
        crowds_bound: mean(bound_sum),
        recall,
        dandelion_precision,
        messages_observed: guesses,
        messages_total: total,
        tap_precision: None,
        tap_recall: None,
        global_observer_precision: None,
        global_observer_recall: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerster_core::Timestamp;

    fn seen(origin: NodeIndex, stem: Option<NodeIndex>, first: Option<NodeIndex>) -> Sighting {
        Sighting {
            origin: Some(origin),
            first_stem_from: stem,
            first_from: first.map(|f| (Timestamp::ZERO, f)),
        }
    }

    /// Five members, node 4 a spy, p = 0.5. By hand:
    /// - packet a: made by 0, seen on the stem from 0 → named 0, right;
    /// - packet b: made by 1, seen on the stem from 2 → named 2, wrong;
    /// - packet c: made by 2, seen only in the fluff from 2 → named 2, right;
    /// - packet d: made by 3, never seen;
    /// - packet e: made by the spy 4 → left out.
    ///
    /// Guesses 3, right 2: precision 2/3; on the stem 1 of 2. Recall: node 0 1/1, node 1 0/1,
    /// node 2 1/1, node 3 0/1 → 1/2. Precision per Dandelion++: node 0 1/1, node 1 0 (none
    /// named), node 2 1/2 (b and c named 2, c right), node 3 0 → 1.5/4. Crowds bound
    /// 1 - 0.5 * 3 / 5 = 0.7; stem posterior (0.7, 0.1, 0.1, 0.1) over 4 honest: entropy
    /// -0.7 log2 0.7 - 3 * 0.1 log2 0.1 = 0.3602 + 0.9966 = 1.3568; fluff: log2 4 = 2.
    /// Mean over 3 guesses: (2 * 1.3568 + 2) / 3.
    #[test]
    fn a_case_worked_by_hand() {
        let sightings: BTreeMap<char, Sighting> = [
            ('a', seen(0, Some(0), Some(0))),
            ('b', seen(1, Some(2), Some(2))),
            ('c', seen(2, None, Some(2))),
            ('d', seen(3, None, None)),
            ('e', seen(4, None, Some(1))),
        ]
        .into();
        let spies = BTreeSet::from([4]);
        let crowd = Crowd {
            members: 5,
            spies: 1,
            p_forward: 0.5,
        };
        let a = score(&sightings, &spies, |_| crowd);
        let close = |x: Option<f64>, y: f64| x.is_some_and(|x| (x - y).abs() < 1e-3);
        assert!(close(a.first_spy_precision, 2.0 / 3.0), "{a:?}");
        assert!(
            close(a.first_spy_precision_given_stem_observed, 0.5),
            "{a:?}"
        );
        assert!(close(a.recall, 0.5), "{a:?}");
        assert!(close(a.dandelion_precision, 1.5 / 4.0), "{a:?}");
        assert!((a.crowds_bound - 0.7).abs() < 1e-9, "{a:?}");
        assert!((a.max_entropy_bits - 2.0).abs() < 1e-9, "{a:?}");
        let stem = -0.7 * 0.7f64.log2() - 3.0 * 0.1 * 0.1f64.log2();
        assert!(
            close(a.sender_entropy_bits, (2.0 * stem + 2.0) / 3.0),
            "{a:?}"
        );
        assert_eq!((a.messages_observed, a.messages_total), (3, 4));
    }

    #[test]
    fn no_spy_sees_nothing_and_names_no_one() {
        let sightings: BTreeMap<u8, Sighting> = [(1, seen(0, None, None))].into();
        let crowd = Crowd {
            members: 3,
            spies: 0,
            p_forward: 0.75,
        };
        let a = score(&sightings, &BTreeSet::new(), |_| crowd);
        assert_eq!(a.first_spy_precision, None);
        assert_eq!(a.sender_entropy_bits, None);
        assert_eq!(a.recall, Some(0.0));
        assert_eq!(a.messages_observed, 0);
    }
}
