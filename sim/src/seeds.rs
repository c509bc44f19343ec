//! Running a test over many seeds so that a failure names the seed that reproduces it.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// The environment variable that, when set to a number, makes [`for_each_seed`] run that
/// seed alone.
pub const SEED_VAR: &str = "PEERSTER_SEED";

/// Runs `test` once per seed. If it panics, prints `failed with seed N` and how to rerun that
/// seed alone, then lets the panic go on. With `PEERSTER_SEED=N` in the environment, runs
/// seed `N` only.
///
/// # Panics
///
/// If `test` panics, or `PEERSTER_SEED` is set but is not a number.
pub fn for_each_seed(seeds: impl IntoIterator<Item = u64>, mut test: impl FnMut(u64)) {
    let only = std::env::var(SEED_VAR).ok().map(|s| {
        s.trim()
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("{SEED_VAR}={s:?} is not a number"))
    });
    let seeds: Vec<u64> = match only {
        Some(seed) => vec![seed],
        None => seeds.into_iter().collect(),
    };
    for seed in seeds {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| test(seed))) {
            eprintln!("failed with seed {seed} (rerun it alone with {SEED_VAR}={seed})");
            resume_unwind(panic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_runs_in_order() {
        if std::env::var_os(SEED_VAR).is_some() {
            return;
        }
        let mut seen = Vec::new();
        for_each_seed(1..=4, |seed| seen.push(seed));
        assert_eq!(seen, [1, 2, 3, 4]);
    }

    #[test]
    fn a_failing_seed_stops_the_run_and_passes_the_panic_on() {
        if std::env::var_os(SEED_VAR).is_some() {
            return;
        }
        let mut seen = Vec::new();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            for_each_seed(1..=4, |seed| {
                seen.push(seed);
                assert_ne!(seed, 2, "seed two is cursed");
            });
        }));
        assert!(outcome.is_err());
        assert_eq!(seen, [1, 2]);
    }
}
