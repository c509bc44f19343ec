//! Test 6 of the vote issue: a randomized model check of vote agreement, with proptest and
//! shrinking. Each case is a small cluster (3 to 5 members) that votes a newcomer in and then
//! out, with at most one lying authority and at most one member crashing as the expulsion
//! opens, over links whose latency, jitter and loss are drawn: the seed, the jitter and the
//! losses decide the order in which every message arrives. The property: no two honest members
//! ever apply different outcomes, and none applies a wrong one. (A sampled exploration of
//! message orders, not an exhaustive one: `PROPTEST_CASES=N` explores more.)

use std::time::Duration;

use peerster_core::VoteOutcome;
use peerster_sim::{LinkModel, VoteRun, VoteScenario, run_vote};
use proptest::prelude::*;

/// One case of the model check below, as it draws them.
fn run_case(
    seed: u64,
    members: usize,
    liar: bool,
    crash: bool,
    link: (u64, u64, u8),
) -> peerster_sim::VoteReport {
    let (latency_ms, jitter_ms, loss_percent) = link;
    let mut scenario = VoteScenario::new(members, seed);
    scenario.link = LinkModel::ideal(Duration::from_millis(latency_ms))
        .with_jitter(Duration::from_millis(jitter_ms))
        .with_uniform_loss(f64::from(loss_percent) / 100.0);
    scenario.liars = usize::from(liar);
    scenario.crashes = usize::from(crash);
    run_vote(&scenario).expect("valid scenario")
}

fn check(run: &VoteRun) -> Result<(), TestCaseError> {
    let applied: Vec<VoteOutcome> = run.applied.iter().flatten().copied().collect();
    prop_assert!(
        applied.windows(2).all(|w| w[0] == w[1]),
        "honest members applied different outcomes: {:?}",
        run.applied
    );
    prop_assert_eq!(run.wrong_outcomes, 0, "{:?}", run.applied);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(16),
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_two_honest_members_apply_different_outcomes(
        seed in any::<u64>(),
        members in 3usize..=5,
        liar in any::<bool>(),
        crash in any::<bool>(),
        latency_ms in 1u64..30,
        jitter_ms in 0u64..40,
        loss_percent in 0u8..40,
    ) {
        let report = run_case(seed, members, liar, crash, (latency_ms, jitter_ms, loss_percent));
        check(&report.join)?;
        if let Some(expel) = &report.expel {
            check(expel)?;
        }
    }
}

/// A case the model check found, built directly: under 34 % loss the key rollouts forked and
/// the cluster split in two sides that dropped each other from their tables. The proposer,
/// left alone in its table, drew itself as the only authority of the expulsion and accepted it
/// with its own ballot, while the other side failed the vote. A round now needs ballots from a
/// majority of the electorate the proposal was opened with, and a side holding fewer than that
/// never fails the vote either: neither side applies an outcome, so they cannot differ.
///
/// The split comes from a partition into sides none of which holds a majority of the five
/// members (the newcomer alone on a third side), from the moment the expulsion opens, for
/// longer than the member timeout: each side ends up dropping the others from its table. (The
/// seed the model check found no longer splits once traffic changed; a partition does not
/// depend on the traffic.)
#[test]
fn a_split_cluster_applies_no_outcome_its_other_side_could_contradict() {
    for seed in [1, 2, 3] {
        let mut scenario = VoteScenario::new(4, seed);
        scenario.link = LinkModel::ideal(Duration::from_millis(5))
            .with_jitter(Duration::from_millis(17))
            .with_uniform_loss(0.1);
        scenario.partition = vec![vec![0, 1], vec![2, 3], vec![4]];
        let report = run_vote(&scenario).expect("valid scenario");
        check(&report.join).expect("the join vote agrees");
        let expel = report.expel.as_ref().expect("the newcomer was admitted");
        check(expel).expect("the expulsion vote agrees");
        // No side holds a quorum, so none decides.
        assert!(
            expel.applied.iter().all(Option::is_none),
            "seed {seed}: {:?}",
            expel.applied
        );
    }
}
