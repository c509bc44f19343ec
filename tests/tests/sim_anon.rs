//! Anonymous messages in the simulator: delivery under loss, replies and acknowledgements,
//! spies and a tap, members that were away. Every test names its seed on failure
//! (`PEERSTER_SEED=N` reruns one seed alone).

use std::time::Duration;

use peerster_sim::{AnonScenario, LinkModel, for_each_seed, run_anon};

fn lossy(members: usize, seed: u64, loss: f64) -> AnonScenario {
    let mut scenario = AnonScenario::new(members, seed);
    scenario.link = LinkModel::ideal(Duration::from_millis(5)).with_uniform_loss(loss);
    scenario.messages = 100;
    scenario.settle = Duration::from_secs(60);
    scenario
}

/// Tests 1 and 2 of the anonymous-message issue: 50 members, 30 % loss; at least 99 % of
/// messages (replies included) reach their recipient, each exactly once; no other member opens
/// one; replies reach the anonymous senders; acknowledgements reach the senders.
#[test]
fn fifty_members_at_thirty_percent_loss_deliver_messages_and_replies_once() {
    for_each_seed([1, 2], |seed| {
        let report = run_anon(&lossy(50, seed, 0.30)).expect("valid scenario");
        assert_eq!(report.members, 50);
        assert_eq!(
            report.replies,
            report.sent - 100,
            "every delivered message answered"
        );
        assert!(report.delivery() >= 0.99, "seed {seed}: {report:?}");
        assert!(
            report.replies_delivered as f64 >= 0.99 * report.replies as f64,
            "seed {seed}: replies {} of {}",
            report.replies_delivered,
            report.replies
        );
        assert!(
            report.acknowledged as f64 >= 0.99 * report.sent as f64,
            "seed {seed}: acknowledged {} of {}",
            report.acknowledged,
            report.sent
        );
        assert_eq!(report.duplicates, 0, "seed {seed}: delivered twice");
        assert_eq!(
            report.misdelivered, 0,
            "seed {seed}: opened by another member"
        );
    });
}

/// Test 3: a coalition of 5 spies among 50 members and a tap on every link of one member.
/// The spies' first-spy precision is reported and below 1; no recipient is ever named (no
/// identifier in clear, nothing opened by a spy that was not for it).
#[test]
fn spies_and_a_tap_do_not_name_every_sender_and_never_a_recipient() {
    for_each_seed([3, 4], |seed| {
        let mut scenario = lossy(50, seed, 0.0);
        scenario.spies = 5;
        scenario.tap = true;
        scenario.replies = false;
        let report = run_anon(&scenario).expect("valid scenario");
        assert_eq!(report.delivery(), 1.0, "seed {seed}: {report:?}");
        let precision = report.first_spy.precision().expect("spies saw packets");
        println!(
            "seed {seed}: first-spy precision {precision:.3} over {} packets \
             (sender's estimate {:.3}); tap precision {:?}, recall {:?}",
            report.first_spy.guesses,
            report.estimated_precision,
            report.tap.precision(),
            report.tap.recall()
        );
        assert!(
            report.first_spy.guesses >= 100,
            "seed {seed}: {:?}",
            report.first_spy
        );
        assert!(precision < 1.0, "seed {seed}: precision {precision}");
        assert_eq!(report.recipients_named, 0, "seed {seed}");
        assert_eq!(report.misdelivered, 0);
    });
}

/// Offline recipients: a member cut off for longer than its senders retry is handed what was
/// sent to it meanwhile by the store anti-entropy when it is back, once, and its senders learn
/// of the delivery late.
#[test]
fn a_member_that_was_away_receives_what_was_sent_to_it_meanwhile() {
    for_each_seed([5, 6], |seed| {
        let mut scenario = lossy(20, seed, 0.0);
        scenario.messages = 40;
        scenario.replies = false;
        scenario.away = Some(Duration::from_secs(200));
        scenario.settle = Duration::from_secs(320);
        let report = run_anon(&scenario).expect("valid scenario");
        assert_eq!(report.delivery(), 1.0, "seed {seed}: {report:?}");
        assert_eq!(report.duplicates, 0);
        assert!(
            report.failed > 0,
            "seed {seed}: the senders gave up meanwhile"
        );
        assert_eq!(
            report.acknowledged, report.sent,
            "seed {seed}: every sender learned of the delivery"
        );
        assert!(report.latency(1.0) > Some(Duration::from_secs(180)));
    });
}

/// The same scenario and seed give the same run, byte for byte.
#[test]
fn an_anonymous_run_is_deterministic() {
    let mut scenario = lossy(12, 7, 0.2);
    scenario.messages = 20;
    scenario.spies = 2;
    scenario.tap = true;
    scenario.settle = Duration::from_secs(20);
    let a = run_anon(&scenario).expect("valid scenario");
    let b = run_anon(&scenario).expect("valid scenario");
    assert_eq!(a, b);
    scenario.seed = 8;
    assert_ne!(
        run_anon(&scenario).expect("valid scenario").digest,
        a.digest
    );
}
