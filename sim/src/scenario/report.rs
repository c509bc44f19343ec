//! `report.json`: what a scenario run measured, with stable field names (documented in
//! `sim/scenarios/README.md`), and the short summary printed for people.
//!
//! Everything in a report but `wall_s` and `events_per_s` is a function of the scenario and
//! its seed: [`Report::deterministic_json`] leaves those two out.

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::anonymity::Anonymity;
use super::calls::Calls;
use super::joins::JoinReport;
use super::spec::Scenario;
use super::tamper::Tampering;

/// Latency percentiles, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    /// The percentiles of `samples` (from an hdrhistogram at microsecond resolution up to a
    /// day, three significant digits), or `None` without samples.
    pub fn of(samples: &[Duration]) -> Option<Percentiles> {
        let mut histogram = Histogram::<u64>::new_with_bounds(1, 86_400_000_000, 3).ok()?;
        for sample in samples {
            histogram.saturating_record(sample.as_micros().try_into().unwrap_or(u64::MAX));
        }
        if histogram.is_empty() {
            return None;
        }
        let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
        Some(Percentiles {
            p50: ms(0.5),
            p90: ms(0.9),
            p99: ms(0.99),
            max: histogram.max() as f64 / 1000.0,
        })
    }
}

/// Mean and 99th percentile of a per-node quantity.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    /// Mean over nodes.
    pub mean: f64,
    /// 99th percentile over nodes (nearest rank).
    pub p99: f64,
}

impl Spread {
    /// The spread of `values` (zero without values).
    pub fn of(values: &[u64]) -> Spread {
        if values.is_empty() {
            return Spread {
                mean: 0.0,
                p99: 0.0,
            };
        }
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let rank = ((0.99 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        Spread {
            mean: sorted.iter().sum::<u64>() as f64 / sorted.len() as f64,
            p99: sorted[rank - 1] as f64,
        }
    }
}

/// Delivery of one kind of message.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Delivery {
    /// Messages sent.
    pub sent: usize,
    /// Share of the deliveries wanted that happened (for posts: of (post, other live member)
    /// pairs; for anonymous messages: of messages to their recipient).
    pub delivery_ratio: f64,
    /// Time from sending to delivery, over every delivery.
    pub latency_ms: Option<Percentiles>,
    /// Deliveries of a message twice, or to a member it was not for (must be zero).
    pub wrong_deliveries: usize,
}

/// Key rollouts during the workload.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rollouts {
    /// New epochs installed, over all clusters.
    pub count: usize,
    /// From the first member installing an epoch to the last.
    pub convergence_ms: Option<Percentiles>,
    /// Members some rollout dropped from their cluster's table (silent, crashed, left or
    /// expelled).
    pub ejected: usize,
}

/// Votes during the workload.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Votes {
    /// Votes opened.
    pub opened: usize,
    /// Votes some honest member applied as accepted.
    pub passed: usize,
    /// Votes some honest member applied as failed (no round agreed).
    pub failed: usize,
    /// Votes some honest member applied as rejected.
    pub rejected: usize,
    /// Expulsions the workload asked for that the proposer refused to open, by reason.
    pub refused: std::collections::BTreeMap<String, usize>,
    /// Rounds redrawn, summed over honest members.
    pub redraws: u64,
    /// Outcomes applied by an honest member that differ from the honest majority's ballots
    /// (honest members vote yes: a rejection is wrong).
    pub wrong_outcomes: usize,
}

/// Bytes sent per node, sampled over the workload.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sample {
    /// Simulated seconds since the workload started.
    pub t_s: f64,
    /// Mean bytes sent per node since the workload started.
    pub bytes_per_node: f64,
}

/// A scenario run's report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// The seed.
    pub seed: u64,
    /// Nodes simulated.
    pub nodes: usize,
    /// Clusters.
    pub clusters: usize,
    /// Members that joined their cluster during formation.
    pub members_joined: usize,
    /// Engine events (deliveries, timers, commands).
    pub events: u64,
    /// Events per second of wall time (depends on the machine).
    pub events_per_s: f64,
    /// Wall seconds the run took (depends on the machine).
    pub wall_s: f64,
    /// Simulated seconds, formation included.
    pub sim_s: f64,
    /// Simulated seconds the clusters took to form.
    pub formation_s: f64,
    /// Bytes each node sent during the workload and settling.
    pub bytes_per_node: Spread,
    /// Posts.
    pub chat: Delivery,
    /// Anonymous messages (replies included).
    pub anon: Delivery,
    /// Key rollouts.
    pub rollout: Rollouts,
    /// Votes (absent when the workload opens none and none opened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub votes: Option<Votes>,
    /// What the adversaries could tell (absent without spies, taps or a global observer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymity: Option<Anonymity>,
    /// New nodes that joined during the run (absent without `churn.joins`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joins: Option<JoinReport>,
    /// What tamperers altered and how honest members refused it (absent without tamperers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tampering: Option<Tampering>,
    /// Voice calls (absent when the workload places none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calls: Option<Calls>,
    /// Bytes per node over time.
    pub timeline: Vec<Sample>,
    /// Every post and anonymous-message latency, in milliseconds, for the CDF plots.
    #[serde(skip)]
    pub latencies: Latencies,
    /// The scenario as run, every key with its value.
    pub config: Scenario,
    /// The run's digest: the same scenario and seed give the same digest.
    pub digest: String,
}

/// Raw latencies kept for plots.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Latencies {
    /// Post latencies.
    pub chat: Vec<Duration>,
    /// Anonymous-message latencies.
    pub anon: Vec<Duration>,
    /// Voice-frame latencies.
    pub calls: Vec<Duration>,
}

impl Report {
    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as JSON without the two wall-clock fields: byte-identical for the same
    /// scenario and seed.
    pub fn deterministic_json(&self) -> String {
        let mut copy = self.clone();
        copy.wall_s = 0.0;
        copy.events_per_s = 0.0;
        copy.to_json()
    }

    /// A few lines for people.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let pct = |x: f64| 100.0 * x;
        let lat = |p: &Option<Percentiles>| {
            p.map_or("-".to_string(), |p| {
                format!(
                    "p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
                    p.p50, p.p99, p.max
                )
            })
        };
        let _ = writeln!(
            s,
            "{}: {} nodes in {} clusters ({} members joined, formed in {:.0} s), seed {}",
            self.scenario,
            self.nodes,
            self.clusters,
            self.members_joined,
            self.formation_s,
            self.seed
        );
        let _ = writeln!(
            s,
            "  posts: {} sent, {:.2} % delivered, latency {}",
            self.chat.sent,
            pct(self.chat.delivery_ratio),
            lat(&self.chat.latency_ms)
        );
        let _ = writeln!(
            s,
            "  anonymous: {} sent, {:.2} % delivered, latency {}",
            self.anon.sent,
            pct(self.anon.delivery_ratio),
            lat(&self.anon.latency_ms)
        );
        let _ = writeln!(
            s,
            "  rollouts: {}, converged in {}, {} members ejected",
            self.rollout.count,
            lat(&self.rollout.convergence_ms),
            self.rollout.ejected
        );
        if let Some(v) = &self.votes {
            let _ = writeln!(
                s,
                "  votes: {} opened, {} refused, {} passed, {} rejected, {} failed, {} redraws, {} wrong outcomes",
                v.opened,
                v.refused.values().sum::<usize>(),
                v.passed,
                v.rejected,
                v.failed,
                v.redraws,
                v.wrong_outcomes
            );
        }
        // The first-spy figures are the spies'; taps and a global observer have their own line.
        if let Some(a) = &self.anonymity
            && self.config.adversary.spies > 0
        {
            let opt = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.3}"));
            let _ = writeln!(
                s,
                "  anonymity: first-spy precision {} ({} on the stem; Crowds bound {:.3}), recall {}, entropy {} of {:.2} bits, {} of {} packets seen",
                opt(a.first_spy_precision),
                opt(a.first_spy_precision_given_stem_observed),
                a.crowds_bound,
                opt(a.recall),
                opt(a.sender_entropy_bits),
                a.max_entropy_bits,
                a.messages_observed,
                a.messages_total
            );
        }
        s.push_str(&self.adversary_summary());
        if let Some(c) = &self.calls {
            let _ = writeln!(
                s,
                "  calls: {} placed, {} answered, {} of {} voice frames received ({:.2} % lost), latency {}",
                c.count,
                c.answered,
                c.frames_received,
                c.frames_sent,
                pct(c.frames_lost_ratio),
                lat(&c.latency_ms)
            );
        }
        let _ = writeln!(
            s,
            "  cost: {:.0} B per node (p99 {:.0}); {} events, {:.0} events/s, {:.1} s wall for {:.0} s simulated",
            self.bytes_per_node.mean,
            self.bytes_per_node.p99,
            self.events,
            self.events_per_s,
            self.wall_s,
            self.sim_s
        );
        s
    }
}

impl Report {
    /// The summary lines of joins, tampering and the eavesdroppers, where the run had them.
    fn adversary_summary(&self) -> String {
        let mut s = String::new();
        let opt = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.3}"));
        if let Some(j) = &self.joins {
            let _ = writeln!(
                s,
                "  joins: {} of {} joined, {}",
                j.joined,
                j.requested,
                j.latency_ms.map_or("-".into(), |l| format!(
                    "p50 {:.0} ms, max {:.0} ms",
                    l.p50, l.max
                ))
            );
        }
        if let Some(t) = &self.tampering {
            let _ = writeln!(
                s,
                "  tampering: {} seals broken, {} packets altered; honest refusals: {} undecryptable, {} malformed, {} bad signatures",
                t.frames_altered, t.packets_altered, t.undecryptable, t.malformed, t.bad_signature
            );
        }
        if let Some(a) = &self.anonymity
            && (a.tap_precision.is_some() || a.global_observer_precision.is_some())
        {
            let _ = writeln!(
                s,
                "  eavesdroppers: taps precision {}, recall {}; global observer precision {}, recall {}",
                opt(a.tap_precision),
                opt(a.tap_recall),
                opt(a.global_observer_precision),
                opt(a.global_observer_recall)
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_histogram() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let p = Percentiles::of(&samples).unwrap();
        assert!((p.p50 - 50.0).abs() < 0.1, "{p:?}");
        assert!((p.p99 - 99.0).abs() < 0.1, "{p:?}");
        assert!((p.max - 100.0).abs() < 0.1, "{p:?}");
        assert_eq!(Percentiles::of(&[]), None);
    }

    #[test]
    fn spreads_take_mean_and_nearest_rank() {
        let s = Spread::of(&[1, 2, 3, 100]);
        assert_eq!(s.mean, 26.5);
        assert_eq!(s.p99, 100.0);
        assert_eq!(Spread::of(&[]).mean, 0.0);
    }
}
