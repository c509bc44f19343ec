//! Anonymous messages under random small scenarios (members, loss, stem probability, routing,
//! message sizes, replies, spies): whatever the draw, every message reaches its recipient
//! exactly once and is acknowledged, no one else opens it, and nothing names a recipient.
//! `PROPTEST_CASES=N` runs more cases.

use std::time::Duration;

use peerster_core::StemRouting;
use peerster_sim::{AnonScenario, LinkModel, run_anon};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(12),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_message_arrives_once_and_only_at_its_recipient(
        seed in any::<u64>(),
        members in 3usize..12,
        loss_percent in 0u8..35,
        p_stem in 0.0f64..0.9,
        crowds in any::<bool>(),
        messages in 1usize..8,
        text_len in 0usize..2_000,
        replies in any::<bool>(),
        spies in 0usize..2,
    ) {
        let mut scenario = AnonScenario::new(members, seed);
        scenario.link = LinkModel::ideal(Duration::from_millis(5))
            .with_jitter(Duration::from_millis(3))
            .with_uniform_loss(f64::from(loss_percent) / 100.0);
        scenario.config.p_stem = p_stem;
        if crowds {
            scenario.config.stem_routing = StemRouting::Crowds;
        }
        scenario.messages = messages;
        scenario.text_len = text_len;
        scenario.replies = replies;
        scenario.spies = spies;
        scenario.settle = Duration::from_secs(200);
        let report = run_anon(&scenario).expect("valid scenario");
        prop_assert_eq!(report.duplicates, 0, "{:?}", report);
        prop_assert_eq!(report.misdelivered, 0);
        prop_assert_eq!(report.recipients_named, 0);
        prop_assert_eq!(report.delivered, report.sent, "seed {}: {:?}", seed, report);
        prop_assert_eq!(report.acknowledged, report.sent, "seed {}: {:?}", seed, report);
    }
}
