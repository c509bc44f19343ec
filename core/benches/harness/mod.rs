//! The small timing harness every benchmark of `peerster-core` shares (no criterion): each
//! operation is warmed up, then timed in several batches, and the median ns/op is reported
//! next to a baseline measured in the same run.

// Each benchmark uses what it needs.
#![allow(dead_code)]

pub mod cluster;
pub mod frame_aead;

use std::time::{Duration, Instant};

/// How long and how often operations are timed.
pub struct Harness {
    batch_target: Duration,
    warmup: Duration,
    batches: usize,
    /// A short smoke run (`cargo test --benches`, or `PEERSTER_BENCH_QUICK=1`).
    pub quick: bool,
}

impl Harness {
    /// The full harness under `cargo bench` (which passes `--bench`), a quick smoke run
    /// otherwise or with `PEERSTER_BENCH_QUICK=1`.
    pub fn from_args() -> Harness {
        let quick = std::env::var_os("PEERSTER_BENCH_QUICK").is_some()
            || !std::env::args().any(|a| a == "--bench");
        if quick {
            Harness {
                batch_target: Duration::from_millis(2),
                warmup: Duration::from_millis(2),
                batches: 3,
                quick,
            }
        } else {
            Harness {
                batch_target: Duration::from_millis(20),
                warmup: Duration::from_millis(200),
                batches: 15,
                quick,
            }
        }
    }

    /// Median ns/op of `f` over `self.batches` batches.
    pub fn measure(&self, mut f: impl FnMut()) -> f64 {
        // Warm up and estimate the cost of one call.
        let start = Instant::now();
        let mut calls = 0u64;
        while start.elapsed() < self.warmup || calls < 3 {
            f();
            calls += 1;
        }
        let per_call = start.elapsed().as_secs_f64() / calls as f64;
        let iters = ((self.batch_target.as_secs_f64() / per_call) as u64).max(1);
        let mut samples: Vec<f64> = (0..self.batches)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..iters {
                    f();
                }
                t.elapsed().as_nanos() as f64 / iters as f64
            })
            .collect();
        samples.sort_by(|a, b| a.total_cmp(b));
        samples[samples.len() / 2]
    }
}

/// One line of the report: our operation, and the bare baseline it is compared with.
pub struct Row {
    /// What was measured.
    pub name: &'static str,
    /// Its median ns/op.
    pub ours: f64,
    /// The baseline's median ns/op and what the baseline is.
    pub bare: Option<(f64, &'static str)>,
}

/// Prints `rows` as a table with the ratio ours / bare.
pub fn print_table(title: &str, rows: &[Row], quick: bool) {
    println!();
    println!(
        "peerster-core {title} benchmark{} (median ns/op)",
        if quick { " [quick smoke run]" } else { "" }
    );
    println!(
        "{:<46} {:>11} {:>11} {:>7}  bare call",
        "operation", "ours", "bare", "ratio"
    );
    println!("{}", "-".repeat(110));
    for row in rows {
        match row.bare {
            Some((bare, what)) => println!(
                "{:<46} {:>11.0} {:>11.0} {:>6.2}x  {}",
                row.name,
                row.ours,
                bare,
                row.ours / bare,
                what
            ),
            None => println!("{:<46} {:>11.0} {:>11} {:>7}", row.name, row.ours, "-", "-"),
        }
    }
}
