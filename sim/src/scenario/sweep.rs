//! Sweeps: one scenario run over a grid of `--vary key=v1,v2,...` values and several seeds,
//! in parallel over the machine's cores, summed up per grid point as mean and 95 %
//! confidence interval over seeds of every metric.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;
use serde_json::Value;

use super::report::Report;
use super::run::run_scenario;
use super::spec::{Scenario, ScenarioError};

/// The metrics a sweep sums up, as JSON pointers into `report.json`.
pub const METRICS: &[&str] = &[
    "/chat/delivery_ratio",
    "/chat/latency_ms/p50",
    "/chat/latency_ms/p99",
    "/anon/delivery_ratio",
    "/anon/latency_ms/p50",
    "/anon/latency_ms/p99",
    "/bytes_per_node/mean",
    "/rollout/convergence_ms/p99",
    "/votes/wrong_outcomes",
    "/anonymity/first_spy_precision",
    "/anonymity/first_spy_precision_given_stem_observed",
    "/anonymity/sender_entropy_bits",
    "/anonymity/max_entropy_bits",
    "/anonymity/crowds_bound",
    "/anonymity/recall",
    "/anonymity/dandelion_precision",
    "/calls/frames_lost_ratio",
    "/calls/latency_ms/p99",
    "/events_per_s",
];

/// One varied key and its values, from `key=v1,v2,...`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Vary {
    /// The dotted scenario key.
    pub key: String,
    /// Its values, as written.
    pub values: Vec<String>,
}

impl Vary {
    /// Parses `key=v1,v2,...`.
    pub fn parse(text: &str) -> Result<Vary, ScenarioError> {
        let (key, values) = text
            .split_once('=')
            .ok_or_else(|| ScenarioError::BadOverride(text.to_string()))?;
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        if key.trim().is_empty() || values.iter().any(String::is_empty) {
            return Err(ScenarioError::BadOverride(text.to_string()));
        }
        Ok(Vary {
            key: key.trim().to_string(),
            values,
        })
    }
}

/// A metric over the seeds of one grid point.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Estimate {
    /// Mean over the seeds that have the metric.
    pub mean: f64,
    /// Half-width of the 95 % confidence interval of the mean (Student's t); 0 with one seed.
    pub ci95: f64,
    /// Seeds that have the metric.
    pub n: usize,
}

impl Estimate {
    /// The estimate of `values` (`None` without values).
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let ci95 = if n < 2 {
            0.0
        } else {
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            student_t95(n - 1) * (var / n as f64).sqrt()
        };
        Some(Estimate { mean, ci95, n })
    }
}

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom.
fn student_t95(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    TABLE.get(df.saturating_sub(1)).copied().unwrap_or(1.96)
}

/// One grid point: its settings and the metrics over seeds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Point {
    /// The varied keys' values at this point.
    pub settings: BTreeMap<String, String>,
    /// The directory its reports are in, relative to the sweep's.
    pub dir: String,
    /// Each metric (JSON pointer into report.json) over the seeds.
    pub metrics: BTreeMap<String, Estimate>,
}

/// A sweep's result (`sweep.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sweep {
    /// The scenario's name.
    pub scenario: String,
    /// The varied keys.
    pub vary: Vec<Vary>,
    /// Seeds per point: the scenario's seed and the ones after it.
    pub seeds: u64,
    /// Every grid point, in grid order.
    pub points: Vec<Point>,
}

/// Every combination of the varied values, the first key varying slowest.
pub fn grid(vary: &[Vary]) -> Vec<Vec<(String, String)>> {
    let mut grid = vec![Vec::new()];
    for v in vary {
        grid = grid
            .into_iter()
            .flat_map(|point: Vec<(String, String)>| {
                v.values.iter().map(move |value| {
                    let mut next = point.clone();
                    next.push((v.key.clone(), value.clone()));
                    next
                })
            })
            .collect();
    }
    grid
}

/// The directory name of a grid point.
pub fn point_dir(settings: &[(String, String)]) -> String {
    let parts: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let name = parts.join(",");
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "=.,_-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs the grid of `vary` over `seeds` seeds of the scenario in `text` (with `overrides`),
/// on `threads` threads; `done` is told each finished run's point directory, seed and
/// report. Returns the sweep.
pub fn sweep(
    text: &str,
    overrides: &[String],
    vary: &[Vary],
    seeds: u64,
    threads: usize,
    done: impl Fn(&str, u64, &Report) + Sync,
) -> Result<Sweep, ScenarioError> {
    let base = Scenario::from_toml(text, overrides)?;
    let points = grid(vary);
    // Check every point's scenario before running any.
    let mut jobs = Vec::new();
    for (p, settings) in points.iter().enumerate() {
        let mut all = overrides.to_vec();
        all.extend(settings.iter().map(|(k, v)| format!("{k}={v}")));
        for s in 0..seeds {
            let mut with_seed = all.clone();
            with_seed.push(format!("seed={}", base.seed + s));
            jobs.push((p, s, Scenario::from_toml(text, &with_seed)?));
        }
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<(usize, u64), Value>> = Mutex::new(BTreeMap::new());
    let failure: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((p, s, scenario)) = jobs.get(i) else {
                        break;
                    };
                    match run_scenario(scenario, |_| {}) {
                        Ok(report) => {
                            done(&point_dir(&points[*p]), scenario.seed, &report);
                            let value = serde_json::to_value(&report).unwrap_or(Value::Null);
                            if let Ok(mut r) = results.lock() {
                                r.insert((*p, *s), value);
                            }
                        }
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(e.to_string());
                            }
                        }
                    }
                }
            });
        }
    });
    if let Some(problem) = failure.into_inner().ok().flatten() {
        return Err(ScenarioError::Invalid {
            key: "config",
            problem,
        });
    }
    let results = results.into_inner().unwrap_or_default();
    let points = (points.iter().enumerate())
        .map(|(p, settings)| {
            let reports: Vec<&Value> = (0..seeds).filter_map(|s| results.get(&(p, s))).collect();
            let metrics = METRICS
                .iter()
                .filter_map(|pointer| {
                    let values: Vec<f64> = reports
                        .iter()
                        .filter_map(|r| r.pointer(pointer)?.as_f64())
                        .collect();
                    Some((pointer.to_string(), Estimate::of(&values)?))
                })
                .collect();
            Point {
                settings: settings.iter().cloned().collect(),
                dir: point_dir(settings),
                metrics,
            }
        })
        .collect();
    Ok(Sweep {
        scenario: base.name,
        vary: vary.to_vec(),
        seeds,
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_every_combination() {
        let vary = [
            Vary::parse("anon.p_stem=0.5,0.9").unwrap(),
            Vary::parse("anon.routing=dandelion,crowds").unwrap(),
        ];
        let g = grid(&vary);
        assert_eq!(g.len(), 4);
        assert_eq!(point_dir(&g[1]), "anon.p_stem=0.5,anon.routing=crowds");
        assert!(Vary::parse("nokey").is_err());
        assert!(Vary::parse("a=1,,2").is_err());
    }

    #[test]
    fn estimates_use_student_t() {
        let e = Estimate::of(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(e.mean, 2.0);
        // sd 1, n 3: 4.303 / sqrt(3).
        assert!((e.ci95 - 4.303 / 3f64.sqrt()).abs() < 1e-9, "{e:?}");
        assert_eq!(Estimate::of(&[5.0]).unwrap().ci95, 0.0);
        assert_eq!(Estimate::of(&[]), None);
    }
}
