//! The scenario file: what a `peerster-sim run` simulates, as TOML, every key with a default.
//!
//! A scenario is read from TOML, then `--set key=value` overrides are applied to the parsed
//! document by dotted path (`anon.p_stem=0.8`), and only then is it checked and turned into a
//! [`Scenario`]: an unknown key, a value of the wrong type or out of range is an error that
//! names the key. The keys and their meaning are documented on the fields below and in
//! `sim/scenarios/README.md`.

use std::time::Duration;

use peerster_core::{Config, StemRouting};
use serde::{Deserialize, Serialize};

use crate::{GilbertElliott, LinkModel, Loss, Topology};

/// Why a scenario could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file is not TOML, or a key is unknown or of the wrong type.
    #[error("scenario: {0}")]
    Toml(#[from] toml::de::Error),
    /// A `--set` argument is not `key=value`.
    #[error("--set {0:?}: expected key=value, e.g. anon.p_stem=0.8")]
    BadOverride(String),
    /// A `--set` path goes through a key that holds a value, not a table.
    #[error("--set {0}: {1} is not a table")]
    NotATable(String, String),
    /// A value is out of its range.
    #[error("scenario key {key}: {problem}")]
    Invalid {
        /// The dotted key.
        key: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// One simulated scenario. Every key has a default: an empty file is the `lan-small` run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// A name for reports and plots.
    pub name: String,
    /// Seed of the whole run: the same scenario and seed give a byte-identical report.
    pub seed: u64,
    /// Simulated seconds of workload, after the clusters have formed.
    pub duration_s: f64,
    /// Simulated seconds after the workload for retries and stragglers.
    pub settle_s: f64,
    /// Number of clusters; cluster `c` is nodes `c * members .. (c + 1) * members`.
    pub clusters: usize,
    /// Each cluster.
    pub cluster: ClusterSpec,
    /// The overlay the nodes connect along.
    pub topology: TopologySpec,
    /// Every link, while the workload runs (clusters form on loss-free links).
    pub link: LinkSpec,
    /// Members that crash, come back, leave or join during the workload.
    pub churn: ChurnSpec,
    /// What the members do.
    pub workload: WorkloadSpec,
    /// How anonymous messages travel.
    pub anon: AnonSpec,
    /// Who watches and who misbehaves.
    pub adversary: AdversarySpec,
    /// Simulated seconds between two samples of the bytes each node sent.
    pub sample_every_s: f64,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "lan-small".into(),
            seed: 1,
            duration_s: 60.0,
            settle_s: 60.0,
            clusters: 1,
            cluster: ClusterSpec::default(),
            topology: TopologySpec::default(),
            link: LinkSpec::default(),
            churn: ChurnSpec::default(),
            workload: WorkloadSpec::default(),
            anon: AnonSpec::default(),
            adversary: AdversarySpec::default(),
            sample_every_s: 10.0,
        }
    }
}

/// One cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSpec {
    /// Members per cluster, the founder included.
    pub members: usize,
    /// How the clusters come to be before the run.
    pub formation: Formation,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            members: 10,
            formation: Formation::Votes,
        }
    }
}

/// How a scenario's clusters are formed before its workload starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Formation {
    /// Through the protocol: the founder founds, the others join one by one, each join
    /// decided by a vote of the members so far (the default).
    Votes,
    /// Already formed: every member starts in the founding epoch with the same key and
    /// table, as if the cluster had formed by votes and every node had then restarted (core's
    /// cluster-state restore). For runs whose subject is the steady state at a size where
    /// forming by votes would cost more than the run.
    Prearranged,
}

/// The overlay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopologySpec {
    /// Degree of the random connected graph the nodes first connect along.
    pub degree: usize,
    /// Explicit overlay edges, pairs of node indices, instead of the random graph (empty: the
    /// random graph of `degree`).
    pub edges: Vec<[usize; 2]>,
}

impl Default for TopologySpec {
    fn default() -> Self {
        TopologySpec {
            degree: 4,
            edges: Vec::new(),
        }
    }
}

/// Every link's latency, jitter and loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkSpec {
    /// One-way latency, in milliseconds.
    pub latency_ms: f64,
    /// Largest extra delay drawn per datagram, uniformly, in milliseconds.
    pub jitter_ms: f64,
    /// Share of datagrams lost, independently (0 to 1). Ignored when `burst` is set.
    pub loss: f64,
    /// Bursty loss (Gilbert–Elliott) instead of independent loss.
    pub burst: Option<BurstSpec>,
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            latency_ms: 5.0,
            jitter_ms: 0.0,
            loss: 0.0,
            burst: None,
        }
    }
}

/// Gilbert–Elliott loss: each directed link is good or bad, switching before each datagram.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BurstSpec {
    /// Probability that a good link turns bad before a datagram.
    pub good_to_bad: f64,
    /// Probability that a bad link turns good (a burst lasts 1 / this datagrams on average).
    pub bad_to_good: f64,
    /// Loss while good.
    pub loss_good: f64,
    /// Loss while bad.
    pub loss_bad: f64,
}

impl Default for BurstSpec {
    fn default() -> Self {
        BurstSpec {
            good_to_bad: 0.05,
            bad_to_good: 0.25,
            loss_good: 0.0,
            loss_bad: 1.0,
        }
    }
}

/// Churn during the workload, at uniformly random times.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChurnSpec {
    /// Members (of any cluster) that crash.
    pub crashes: usize,
    /// Seconds after which a crashed member restarts (with its identity, not its state);
    /// `none` (absent) keeps it down.
    pub restart_after_s: Option<f64>,
    /// Members that leave their cluster.
    pub leaves: usize,
    /// New nodes that each join a random cluster at a random time, through a member and a
    /// vote of the cluster.
    pub joins: usize,
}

/// What the members do during the workload, at uniformly random times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Posts over the run, each by a random live honest member of a random cluster.
    pub posts: usize,
    /// Anonymous messages over the run, each from a random honest member to another member of
    /// its cluster.
    pub anon_messages: usize,
    /// Every recipient answers each anonymous message it receives, in its thread.
    pub replies: bool,
    /// Bytes of each post's and message's text.
    pub text_bytes: usize,
    /// Expulsion votes over the run: a random honest member proposes to expel a random other
    /// member of its cluster.
    pub expulsions: usize,
    /// Voice calls over the run, each from a random live honest member to another member of
    /// its cluster (see [`super::calls`]).
    pub calls: usize,
    /// Seconds each call talks (both ends send a frame every 20 ms).
    pub call_s: f64,
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            posts: 100,
            anon_messages: 50,
            replies: true,
            text_bytes: 100,
            expulsions: 0,
            calls: 0,
            call_s: 10.0,
        }
    }
}

impl WorkloadSpec {
    /// Checks the call keys' ranges.
    fn check_calls(&self) -> Result<(), ScenarioError> {
        if self.calls > 100_000 {
            return Err(ScenarioError::Invalid {
                key: "workload.calls",
                problem: "must be at most 100000".into(),
            });
        }
        if !(self.call_s.is_finite() && (0.02..=3600.0).contains(&self.call_s)) {
            return Err(ScenarioError::Invalid {
                key: "workload.call_s",
                problem: "must be 0.02 to 3600 seconds".into(),
            });
        }
        Ok(())
    }
}

/// How stems route anonymous messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Routing {
    /// Dandelion++: two successors per epoch, one per predecessor (the default).
    Dandelion,
    /// Crowds: every stem hop picks uniformly among all members, itself included.
    Crowds,
}

/// The anonymous-message protocol's parameters (absent: the node configuration's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnonSpec {
    /// Probability that a stem relay passes a packet on along the stem.
    pub p_stem: Option<f64>,
    /// Stem routing.
    pub routing: Routing,
    /// Members each fluff relay passes a packet to.
    pub fanout: Option<usize>,
}

impl Default for AnonSpec {
    fn default() -> Self {
        AnonSpec {
            p_stem: None,
            routing: Routing::Dandelion,
            fanout: None,
        }
    }
}

/// The adversaries. Malicious members are drawn at random among all members but the
/// founders.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdversarySpec {
    /// Malicious members per cluster that relay honestly and log what they relay (a
    /// coalition: they pool what they see).
    pub spies: usize,
    /// Honest nodes whose every link is tapped: the eavesdropper sees the sizes and times of
    /// their datagrams, nothing inside.
    pub taps: usize,
    /// Malicious members per cluster that drop every anonymous packet they should relay.
    pub droppers: usize,
    /// Malicious members per cluster that send nothing at all (but stay members until the
    /// others notice).
    pub silent: usize,
    /// Malicious members per cluster that lie as vote authorities (yes and no swapped).
    pub liars: usize,
    /// Malicious members per cluster that alter every anonymous packet they relay (a bit of
    /// the sealed frame, or of the packet inside a frame sealed again; see
    /// [`super::tamper`]).
    pub tamperers: usize,
    /// A global passive observer: sees the size and time of every datagram on every link
    /// and names creators with the taps' estimator (see [`super::eavesdrop`]).
    pub global_observer: bool,
}

impl Scenario {
    /// Reads a scenario from TOML `text` with `overrides` (`key=value`, values in TOML
    /// syntax; a value that does not parse as TOML is taken as a string) applied on top.
    pub fn from_toml(text: &str, overrides: &[String]) -> Result<Scenario, ScenarioError> {
        let mut document: toml::Table = toml::from_str(text)?;
        for item in overrides {
            apply_override(&mut document, item)?;
        }
        let scenario: Scenario = document.try_into()?;
        scenario.check()?;
        Ok(scenario)
    }

    /// Checks every value's range.
    pub fn check(&self) -> Result<(), ScenarioError> {
        let invalid = |key, problem: &str| {
            Err(ScenarioError::Invalid {
                key,
                problem: problem.to_string(),
            })
        };
        let probability = |p: f64| (0.0..=1.0).contains(&p);
        let members = self.cluster.members;
        if self.clusters == 0 {
            return invalid("clusters", "must be at least 1");
        }
        if !(1..=256).contains(&members) {
            return invalid("cluster.members", "must be 1 to 256");
        }
        if self.nodes() + self.churn.joins > 200_000 {
            return invalid(
                "clusters",
                "clusters * cluster.members must be at most 200000",
            );
        }
        for (key, value) in [
            ("duration_s", self.duration_s),
            ("settle_s", self.settle_s),
            ("link.latency_ms", self.link.latency_ms),
            ("link.jitter_ms", self.link.jitter_ms),
        ] {
            if !(value.is_finite() && (0.0..=86_400_000.0).contains(&value)) {
                return invalid(key, "must be a non-negative number");
            }
        }
        if !(self.sample_every_s.is_finite() && self.sample_every_s >= 0.1) {
            return invalid("sample_every_s", "must be at least 0.1");
        }
        if !probability(self.link.loss) {
            return invalid("link.loss", "must be between 0 and 1");
        }
        if let Some(burst) = &self.link.burst
            && ![
                burst.good_to_bad,
                burst.bad_to_good,
                burst.loss_good,
                burst.loss_bad,
            ]
            .into_iter()
            .all(probability)
        {
            return invalid("link.burst", "every probability must be between 0 and 1");
        }
        if let Some(after) = self.churn.restart_after_s
            && !(after.is_finite() && after >= 0.0)
        {
            return invalid("churn.restart_after_s", "must be a non-negative number");
        }
        if let Some([a, b]) = (self.topology.edges.iter())
            .find(|[a, b]| a == b || *a >= self.nodes() || *b >= self.nodes())
        {
            return Err(ScenarioError::Invalid {
                key: "topology.edges",
                problem: format!(
                    "edge [{a}, {b}]: node indices must differ and be below {} (clusters * cluster.members)",
                    self.nodes()
                ),
            });
        }
        if self.churn.crashes + self.churn.leaves > self.nodes() {
            return invalid("churn", "more crashes and leaves than nodes");
        }
        if let Some(p) = self.anon.p_stem
            && !(probability(p) && p < 1.0)
        {
            return invalid("anon.p_stem", "must be at least 0 and below 1");
        }
        let a = &self.adversary;
        if a.spies + a.droppers + a.silent + a.liars + a.tamperers >= members.max(1) {
            return invalid(
                "adversary",
                "spies, droppers, silent, liars and tamperers must leave at least one honest member per cluster besides the founder",
            );
        }
        if a.taps > self.nodes() {
            return invalid("adversary.taps", "more taps than nodes");
        }
        self.workload.check_calls()?;
        if self.workload.text_bytes > 16_384 {
            return invalid("workload.text_bytes", "must be at most 16384");
        }
        Ok(())
    }

    /// All nodes of the run.
    pub fn nodes(&self) -> usize {
        self.clusters * self.cluster.members
    }

    /// Simulated workload time.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.duration_s)
    }

    /// Simulated settling time.
    pub fn settle(&self) -> Duration {
        Duration::from_secs_f64(self.settle_s)
    }

    /// The overlay the nodes first connect along: the explicit `topology.edges`, or a random
    /// connected graph of `topology.degree` drawn from `rng`.
    pub fn overlay<R: rand_core::Rng + ?Sized>(&self, rng: &mut R) -> Topology {
        let nodes = self.nodes();
        if !self.topology.edges.is_empty() {
            return Topology::from_edges(nodes, &self.topology.edges);
        }
        if nodes < 2 {
            return Topology::empty(nodes);
        }
        Topology::random_connected(nodes, self.topology.degree.min(nodes - 1), rng)
    }

    /// The model of every link while the workload runs.
    pub fn link_model(&self) -> LinkModel {
        let link = &self.link;
        let loss = match &link.burst {
            Some(b) => Loss::GilbertElliott(GilbertElliott {
                good_to_bad: b.good_to_bad,
                bad_to_good: b.bad_to_good,
                loss_good: b.loss_good,
                loss_bad: b.loss_bad,
            }),
            None => Loss::Uniform(link.loss),
        };
        LinkModel {
            latency: Duration::from_secs_f64(link.latency_ms / 1000.0),
            jitter: Duration::from_secs_f64(link.jitter_ms / 1000.0),
            loss,
        }
    }

    /// The configuration every node runs with.
    pub fn config(&self) -> Config {
        let mut config = Config::default();
        if let Some(p) = self.anon.p_stem {
            config.p_stem = p;
        }
        if let Some(fanout) = self.anon.fanout {
            config.anon_fanout = fanout;
        }
        config.stem_routing = match self.anon.routing {
            Routing::Dandelion => StemRouting::Dandelion,
            Routing::Crowds => StemRouting::Crowds,
        };
        config
    }
}

/// Sets `key=value` in `document`, creating tables along the dotted path.
fn apply_override(document: &mut toml::Table, item: &str) -> Result<(), ScenarioError> {
    let (key, raw) = item
        .split_once('=')
        .ok_or_else(|| ScenarioError::BadOverride(item.to_string()))?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(ScenarioError::BadOverride(item.to_string()));
    }
    let raw = raw.trim();
    let value = parse_value(raw).unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or(key);
    let mut table = document;
    let mut path = String::new();
    for part in parts {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(part);
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry
            .as_table_mut()
            .ok_or_else(|| ScenarioError::NotATable(item.to_string(), path.clone()))?;
    }
    table.insert(last.to_string(), value);
    Ok(())
}

/// `raw` as a TOML value, if it is one.
fn parse_value(raw: &str) -> Option<toml::Value> {
    let table: toml::Table = toml::from_str(&format!("v = {raw}")).ok()?;
    table.get("v").cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn an_empty_file_is_the_default_scenario() {
        assert_eq!(Scenario::from_toml("", &[]).unwrap(), Scenario::default());
    }

    #[test]
    fn overrides_set_nested_keys_with_typed_values() {
        let text = "seed = 3\n[anon]\nrouting = \"dandelion\"\n";
        let overrides = [
            "anon.p_stem=0.8".to_string(),
            "anon.routing=crowds".to_string(),
            "adversary.spies = 2".to_string(),
            "seed=9".to_string(),
        ];
        let s = Scenario::from_toml(text, &overrides).unwrap();
        assert_eq!(s.anon.p_stem, Some(0.8));
        assert_eq!(s.anon.routing, Routing::Crowds);
        assert_eq!(s.adversary.spies, 2);
        assert_eq!(s.seed, 9);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let error = Scenario::from_toml("[anon]\np_stme = 0.5\n", &[]).unwrap_err();
        assert!(error.to_string().contains("p_stme"), "{error}");
        let error = Scenario::from_toml("", &["link.loss=2".into()]).unwrap_err();
        assert!(error.to_string().contains("link.loss"), "{error}");
        let error = Scenario::from_toml("", &["anon.routing=onion".into()]).unwrap_err();
        assert!(error.to_string().contains("onion"), "{error}");
        let error = Scenario::from_toml("seed = 3", &["seed.x=1".into()]).unwrap_err();
        assert!(matches!(error, ScenarioError::NotATable(..)), "{error}");
        let error = Scenario::from_toml("", &["nokey".into()]).unwrap_err();
        assert!(matches!(error, ScenarioError::BadOverride(..)), "{error}");
    }

    #[test]
    fn explicit_edges_are_the_overlay_and_bad_indices_are_named() {
        let text = "[cluster]\nmembers = 4\n[topology]\nedges = [[0, 1], [2, 1], [3, 0]]\n";
        let s = Scenario::from_toml(text, &[]).unwrap();
        let overlay = s.overlay(&mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
        assert_eq!(overlay.edges(), &[(1, 0), (2, 1), (3, 0)]);
        assert!(!overlay.has_edge(2, 3));
        for bad in ["[[0, 4]]", "[[2, 2]]"] {
            let error = Scenario::from_toml(text, &[format!("topology.edges={bad}")]).unwrap_err();
            assert!(error.to_string().contains("topology.edges"), "{error}");
        }
        let random = Scenario::from_toml("[cluster]\nmembers = 6\n", &[]).unwrap();
        let overlay = random.overlay(&mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
        assert!(
            overlay.is_connected() && overlay.edges().len() == 12,
            "degree 4 over 6"
        );
    }

    #[test]
    fn the_link_model_follows_the_keys() {
        let s = Scenario::from_toml("[link]\nlatency_ms = 20\njitter_ms = 5\nloss = 0.3\n", &[])
            .unwrap();
        let model = s.link_model();
        assert_eq!(model.latency, Duration::from_millis(20));
        assert_eq!(model.jitter, Duration::from_millis(5));
        assert_eq!(model.loss, Loss::Uniform(0.3));
        let s = Scenario::from_toml("[link.burst]\n", &[]).unwrap();
        assert!(matches!(s.link_model().loss, Loss::GilbertElliott(_)));
    }
}
