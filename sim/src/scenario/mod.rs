//! Scenarios: a TOML file says what to simulate (clusters, links, churn, workload,
//! adversaries), [`run_scenario`] runs it on real nodes and returns a [`Report`] (written as
//! `report.json`, with plots), and [`sweep`] runs a grid of them over seeds.
//!
//! | module | what it does |
//! |---|---|
//! | [`spec`] | [`Scenario`]: the file's keys, their defaults and `--set` overrides |
//! | [`eavesdrop`] | the taps' and the global passive observer's estimator from sizes and times |
//! | [`formation`] | every cluster formed side by side, joins decided by votes |
//! | [`joins`] | new nodes joining a cluster during the run, each by a vote |
//! | [`calls`] | voice calls of the workload: placed, answered, framed, hung up, scored |
//! | [`observe`] | the run's observer: deliveries, votes, rollouts, spies, taps, drops |
//! | [`anonymity`] | the first-spy and posterior-entropy estimators, scored |
//! | [`run`] | [`run_scenario`]: formation, adversaries, workload, churn, scoring |
//! | [`report`] | [`Report`]: `report.json` and the summary |
//! | [`sweep`] | [`sweep()`]: a grid of runs over seeds, in parallel, with confidence intervals |
//! | [`tamper`] | tamperers' attacks on the frames they relay, and the honest refusals counted |

pub mod anonymity;
pub mod calls;
pub mod eavesdrop;
pub mod formation;
pub mod joins;
pub mod observe;
pub mod report;
pub mod run;
pub mod spec;
pub mod sweep;
pub mod tamper;

pub use report::Report;
pub use run::{Progress, run_scenario};
pub use spec::{Scenario, ScenarioError};
pub use sweep::{Sweep, Vary, sweep};
