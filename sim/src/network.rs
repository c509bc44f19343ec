//! The network model: what happens to a datagram between two nodes.
//!
//! Every directed link has a [`LinkModel`]: a one-way latency, a jitter added to it, and a
//! [`Loss`] process. A [`Network`] holds one default model for all links and overrides for
//! chosen ordered pairs of nodes. Jitter is drawn per datagram, so datagrams on one link can
//! overtake each other: reordering falls out of it.

use std::collections::BTreeMap;
use std::time::Duration;

use rand_core::Rng;

use crate::address::NodeIndex;
use crate::random::{below, chance};

/// How a link loses datagrams.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// Each datagram is lost independently with this probability (0 to 1).
    Uniform(f64),
    /// Losses come in bursts, following a two-state Markov chain per directed link.
    GilbertElliott(GilbertElliott),
}

/// The Gilbert–Elliott burst-loss model: a link is either good or bad, switches state before
/// each datagram with the given probabilities, and loses the datagram with its state's rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GilbertElliott {
    /// Probability that a good link turns bad before a datagram.
    pub good_to_bad: f64,
    /// Probability that a bad link turns good before a datagram; a burst lasts `1 / this`
    /// datagrams on average.
    pub bad_to_good: f64,
    /// Loss probability while good (often 0).
    pub loss_good: f64,
    /// Loss probability while bad (often 1).
    pub loss_bad: f64,
}

impl GilbertElliott {
    /// The long-run fraction of datagrams lost.
    pub fn mean_loss(&self) -> f64 {
        let switching = self.good_to_bad + self.bad_to_good;
        if switching <= 0.0 {
            return self.loss_good;
        }
        let bad = self.good_to_bad / switching;
        (1.0 - bad) * self.loss_good + bad * self.loss_bad
    }
}

/// What one directed link does to datagrams: delay them by `latency` plus a uniform draw in
/// `0..=jitter`, and lose some of them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkModel {
    /// The fixed part of the one-way delay.
    pub latency: Duration,
    /// The largest extra delay; each datagram draws its own, uniformly, with microsecond
    /// resolution.
    pub jitter: Duration,
    /// Which datagrams are lost.
    pub loss: Loss,
}

impl LinkModel {
    /// A link that delays every datagram by exactly `latency` and loses none.
    pub const fn ideal(latency: Duration) -> LinkModel {
        LinkModel {
            latency,
            jitter: Duration::ZERO,
            loss: Loss::Uniform(0.0),
        }
    }

    /// This link with `jitter`.
    pub const fn with_jitter(self, jitter: Duration) -> LinkModel {
        LinkModel { jitter, ..self }
    }

    /// This link losing each datagram independently with probability `p`.
    pub const fn with_uniform_loss(self, p: f64) -> LinkModel {
        LinkModel {
            loss: Loss::Uniform(p),
            ..self
        }
    }

    /// A link that loses everything: a partition.
    pub const fn cut() -> LinkModel {
        LinkModel::ideal(Duration::ZERO).with_uniform_loss(1.0)
    }
}

impl Default for LinkModel {
    /// 20 ms one way, no jitter, no loss.
    fn default() -> Self {
        LinkModel::ideal(Duration::from_millis(20))
    }
}

/// All links of a simulation: a default [`LinkModel`], overrides by ordered pair of nodes, and
/// the state of bursty links.
#[derive(Clone, Debug, Default)]
pub struct Network {
    default: LinkModel,
    overrides: BTreeMap<(NodeIndex, NodeIndex), LinkModel>,
    /// The Gilbert–Elliott links currently in their bad state.
    bad: BTreeMap<(NodeIndex, NodeIndex), bool>,
}

impl Network {
    /// A network whose every link follows `default`.
    pub fn new(default: LinkModel) -> Network {
        Network {
            default,
            ..Network::default()
        }
    }

    /// The model of links without an override.
    pub fn default_link(&self) -> &LinkModel {
        &self.default
    }

    /// Changes the model of links without an override.
    pub fn set_default_link(&mut self, model: LinkModel) {
        self.default = model;
    }

    /// Overrides the model of the directed link `from → to` (call it twice for both ways).
    pub fn set_link(&mut self, from: NodeIndex, to: NodeIndex, model: LinkModel) {
        self.overrides.insert((from, to), model);
    }

    /// Removes the override of `from → to`, which follows the default again.
    pub fn clear_link(&mut self, from: NodeIndex, to: NodeIndex) {
        self.overrides.remove(&(from, to));
    }

    /// The model of the directed link `from → to`.
    pub fn link(&self, from: NodeIndex, to: NodeIndex) -> &LinkModel {
        if self.overrides.is_empty() {
            return &self.default;
        }
        self.overrides.get(&(from, to)).unwrap_or(&self.default)
    }

    /// Decides the fate of one datagram on `from → to`: its delay, or `None` if it is lost.
    /// Draws from `rng` only what the link's model needs.
    pub fn transit<R: Rng + ?Sized>(
        &mut self,
        from: NodeIndex,
        to: NodeIndex,
        rng: &mut R,
    ) -> Option<Duration> {
        let model = *self.link(from, to);
        let lost = match model.loss {
            Loss::Uniform(p) => chance(rng, p),
            Loss::GilbertElliott(ge) => {
                let bad = self.bad.entry((from, to)).or_insert(false);
                let switch = if *bad { ge.bad_to_good } else { ge.good_to_bad };
                if chance(rng, switch) {
                    *bad = !*bad;
                }
                chance(rng, if *bad { ge.loss_bad } else { ge.loss_good })
            }
        };
        if lost {
            return None;
        }
        let jitter = u64::try_from(model.jitter.as_micros()).unwrap_or(u64::MAX);
        let extra = if jitter == 0 {
            0
        } else {
            below(rng, jitter.saturating_add(1))
        };
        Some(model.latency + Duration::from_micros(extra))
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    use super::*;

    const DRAWS: usize = 100_000;

    fn losses(network: &mut Network, rng: &mut ChaCha8Rng) -> Vec<bool> {
        (0..DRAWS)
            .map(|_| network.transit(0, 1, rng).is_none())
            .collect()
    }

    #[test]
    fn uniform_loss_rate_is_close_to_the_configured_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for p in [0.0, 0.01, 0.1, 0.5, 1.0] {
            let mut network = Network::new(LinkModel::default().with_uniform_loss(p));
            let lost = losses(&mut network, &mut rng)
                .iter()
                .filter(|&&l| l)
                .count();
            let rate = lost as f64 / DRAWS as f64;
            // Five standard deviations of a binomial proportion.
            let tolerance = 5.0 * (p * (1.0 - p) / DRAWS as f64).sqrt();
            assert!((rate - p).abs() <= tolerance, "p {p}: measured {rate}");
        }
    }

    #[test]
    fn jitter_stays_within_bounds_and_spreads_over_them() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let latency = Duration::from_millis(30);
        let jitter = Duration::from_millis(10);
        let mut network = Network::new(LinkModel::ideal(latency).with_jitter(jitter));
        let delays: Vec<Duration> = (0..DRAWS)
            .map(|_| network.transit(3, 4, &mut rng).expect("lossless"))
            .collect();
        let (min, max) = (delays.iter().min().unwrap(), delays.iter().max().unwrap());
        assert!(
            *min >= latency && *max <= latency + jitter,
            "{min:?}..{max:?}"
        );
        assert!(
            *min < latency + Duration::from_micros(200),
            "low end reached: {min:?}"
        );
        assert!(
            *max > latency + jitter - Duration::from_micros(200),
            "high end: {max:?}"
        );
        let mean = delays.iter().sum::<Duration>() / DRAWS as u32;
        let centre = latency + jitter / 2;
        assert!(
            mean.abs_diff(centre) < Duration::from_micros(100),
            "mean {mean:?}"
        );
    }

    #[test]
    fn overrides_apply_to_one_direction_only() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut network = Network::new(LinkModel::ideal(Duration::from_millis(5)));
        network.set_link(1, 2, LinkModel::cut());
        assert_eq!(network.transit(1, 2, &mut rng), None);
        assert_eq!(
            network.transit(2, 1, &mut rng),
            Some(Duration::from_millis(5))
        );
        network.clear_link(1, 2);
        assert_eq!(
            network.transit(1, 2, &mut rng),
            Some(Duration::from_millis(5))
        );
    }

    #[test]
    fn gilbert_elliott_loses_in_bursts_at_its_mean_rate() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let ge = GilbertElliott {
            good_to_bad: 0.01,
            bad_to_good: 0.25,
            loss_good: 0.0,
            loss_bad: 1.0,
        };
        let mut network = Network::new(LinkModel {
            loss: Loss::GilbertElliott(ge),
            ..LinkModel::default()
        });
        let lost = losses(&mut network, &mut rng);
        let rate = lost.iter().filter(|&&l| l).count() as f64 / DRAWS as f64;
        assert!((rate - ge.mean_loss()).abs() < 0.01, "rate {rate}");
        // Bursts average 1 / bad_to_good = 4 datagrams; uniform loss at this rate would give
        // bursts of about 1.04.
        let bursts = lost.windows(2).filter(|w| !w[0] && w[1]).count();
        let mean_burst = lost.iter().filter(|&&l| l).count() as f64 / bursts as f64;
        assert!((3.5..4.5).contains(&mean_burst), "mean burst {mean_burst}");
    }
}
