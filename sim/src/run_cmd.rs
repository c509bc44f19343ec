//! `peerster-sim run` and `peerster-sim sweep`: scenario files in, reports and plots out.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use peerster_sim::plot::{self, Curve, Interval};
use peerster_sim::scenario::sweep::{Sweep, Vary, sweep};
use peerster_sim::scenario::{Progress, Report, Scenario, run_scenario};

/// One scenario run.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (see sim/scenarios/README.md for its keys).
    scenario: PathBuf,
    /// Seed of the run (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Directory for report.json and the plots (default: sim-out/NAME-SEED).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Overrides a scenario key, e.g. --set anon.p_stem=0.8 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// A grid of runs.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// A key and its values, e.g. --vary anon.p_stem=0.5,0.8 (repeatable: the grid is every
    /// combination; plots put the first key on the x axis).
    #[arg(long, value_name = "KEY=V1,V2,...", required = true)]
    vary: Vec<String>,
    /// Seeds per grid point: the scenario's seed and the ones after it.
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Directory for sweep.json, the plots and one report per run (default:
    /// sim-out/NAME-sweep).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Overrides a scenario key for every run (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Runs at once (default: the machine's cores).
    #[arg(long)]
    threads: Option<usize>,
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn create_dir(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `peerster-sim run`.
pub fn run(args: &RunArgs) -> Result<(), String> {
    let text = read(&args.scenario)?;
    let mut sets = args.sets.clone();
    if let Some(seed) = args.seed {
        sets.push(format!("seed={seed}"));
    }
    let scenario = Scenario::from_toml(&text, &sets).map_err(|e| e.to_string())?;
    let out = (args.out.clone())
        .unwrap_or_else(|| PathBuf::from(format!("sim-out/{}-{}", scenario.name, scenario.seed)));
    create_dir(&out)?;
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(1)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} simulated s, {msg}, ETA {eta}",
        )
        .map_err(|e| e.to_string())?,
    );
    let started = std::time::Instant::now();
    let report = run_scenario(&scenario, |p: Progress| {
        bar.set_length(p.total.as_secs());
        bar.set_position(p.sim.as_secs());
        let rate = p.events as f64 / started.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!("{:.0} events/s", rate));
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    write(&out.join("report.json"), &report.to_json())?;
    let plots = plot::plot_run(&report, &out).map_err(|e| e.to_string())?;
    print!("{}", report.summary());
    println!(
        "  wrote {} and {}",
        out.join("report.json").display(),
        plots.join(", ")
    );
    Ok(())
}

/// Runs `peerster-sim sweep`.
pub fn run_sweep(args: &SweepArgs) -> Result<(), String> {
    let text = read(&args.scenario)?;
    let vary: Vec<Vary> = (args.vary.iter())
        .map(|v| Vary::parse(v))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let base = Scenario::from_toml(&text, &args.sets).map_err(|e| e.to_string())?;
    let out =
        (args.out.clone()).unwrap_or_else(|| PathBuf::from(format!("sim-out/{}-sweep", base.name)));
    create_dir(&out)?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let runs = peerster_sim::scenario::sweep::grid(&vary).len() as u64 * args.seeds;
    let bar = ProgressBar::new(runs);
    bar.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] {bar:30} {pos}/{len} runs, ETA {eta}")
            .map_err(|e| e.to_string())?,
    );
    bar.enable_steady_tick(Duration::from_millis(500));
    let write_errors = std::sync::Mutex::new(Vec::new());
    let result = sweep(
        &text,
        &args.sets,
        &vary,
        args.seeds,
        threads,
        |dir, seed, report: &Report| {
            let run_dir = out.join(dir).join(format!("seed-{seed}"));
            let written = create_dir(&run_dir)
                .and_then(|()| write(&run_dir.join("report.json"), &report.to_json()));
            if let Err(e) = written
                && let Ok(mut errors) = write_errors.lock()
            {
                errors.push(e);
            }
            bar.inc(1);
        },
    )
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    if let Some(e) = write_errors
        .into_inner()
        .ok()
        .and_then(|e| e.into_iter().next())
    {
        return Err(e);
    }
    write(
        &out.join("sweep.json"),
        &serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?,
    )?;
    let plots = plot_sweep(&result, &out).map_err(|e| e.to_string())?;
    print_table(&result);
    println!(
        "  wrote {} and {}",
        out.join("sweep.json").display(),
        plots.join(", ")
    );
    Ok(())
}

/// One plot per metric present, against the first varied key, one series per combination of
/// the others.
fn plot_sweep(result: &Sweep, out: &Path) -> Result<Vec<String>, plot::PlotError> {
    let Some(first) = result.vary.first() else {
        return Ok(Vec::new());
    };
    let x_of = |p: &peerster_sim::scenario::sweep::Point| -> Option<f64> {
        p.settings.get(&first.key)?.parse().ok()
    };
    let mut written = Vec::new();
    for metric in peerster_sim::scenario::sweep::METRICS {
        if metric.ends_with("crowds_bound") || metric.ends_with("max_entropy_bits") {
            continue;
        }
        let mut series: std::collections::BTreeMap<String, Interval> = Default::default();
        let mut bound: Vec<(f64, f64)> = Vec::new();
        for p in &result.points {
            let (Some(x), Some(e)) = (x_of(p), p.metrics.get(*metric)) else {
                continue;
            };
            let label: Vec<String> = (p.settings.iter())
                .filter(|(k, _)| **k != first.key)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let label = if label.is_empty() {
                "measured".to_string()
            } else {
                label.join(", ")
            };
            series
                .entry(label.clone())
                .or_insert(Interval {
                    label,
                    points: Vec::new(),
                })
                .points
                .push((x, e.mean, e.ci95));
            if metric.ends_with("first_spy_precision_given_stem_observed")
                && let Some(b) = p.metrics.get("/anonymity/crowds_bound")
                && !bound.iter().any(|(bx, _)| *bx == x)
            {
                bound.push((x, b.mean));
            }
        }
        if series.is_empty() {
            continue;
        }
        bound.sort_by(|a, b| a.0.total_cmp(&b.0));
        let reference: Vec<Curve> = (!bound.is_empty())
            .then(|| Curve {
                label: "Crowds bound 1 - p(n-c-1)/n".into(),
                points: bound,
            })
            .into_iter()
            .collect();
        let name = format!("{}.svg", metric.trim_start_matches('/').replace('/', "."));
        let series: Vec<Interval> = series.into_values().collect();
        plot::intervals(
            &out.join(&name),
            &format!(
                "{}: {} (mean, 95 % CI over {} seeds)",
                result.scenario, metric, result.seeds
            ),
            &first.key,
            metric,
            &series,
            &reference,
        )?;
        written.push(name);
    }
    Ok(written)
}

/// The sweep's main figures as a table on stdout.
fn print_table(result: &Sweep) {
    let columns = [
        ("/anon/delivery_ratio", "anon deliv"),
        ("/chat/delivery_ratio", "post deliv"),
        ("/anonymity/first_spy_precision", "precision"),
        (
            "/anonymity/first_spy_precision_given_stem_observed",
            "prec|stem",
        ),
        ("/anonymity/crowds_bound", "crowds"),
        ("/anonymity/recall", "recall"),
        ("/anonymity/dandelion_precision", "D++ prec"),
        ("/anonymity/sender_entropy_bits", "entropy"),
    ];
    let mut header = format!("{:<48}", "point");
    for (_, name) in columns {
        header.push_str(&format!(" {name:>15}"));
    }
    println!("{header}");
    for p in &result.points {
        let mut line = format!("{:<48}", p.dir);
        for (metric, _) in columns {
            let cell = p
                .metrics
                .get(metric)
                .map_or("-".to_string(), |e| format!("{:.3}±{:.3}", e.mean, e.ci95));
            line.push_str(&format!(" {cell:>15}"));
        }
        println!("{line}");
    }
}
