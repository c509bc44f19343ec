//! Scenario files end to end: the same scenario and seed give the same report, the report
//! carries what the scenario exercises (and leaves out what it does not), and the shipped
//! scenarios parse.

use peerster_sim::scenario::{Scenario, run_scenario};

fn small(extra: &[&str]) -> Scenario {
    let mut sets: Vec<String> = [
        "cluster.members=8",
        "duration_s=20",
        "settle_s=20",
        "workload.posts=20",
        "workload.anon_messages=10",
        "link.jitter_ms=2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    sets.extend(extra.iter().map(|s| s.to_string()));
    Scenario::from_toml("name = \"test\"", &sets).unwrap()
}

#[test]
fn the_same_seed_gives_a_byte_identical_report() {
    let scenario = small(&[
        "adversary.spies=2",
        "link.loss=0.05",
        "workload.calls=1",
        "workload.call_s=2",
    ]);
    let a = run_scenario(&scenario, |_| {}).unwrap();
    let b = run_scenario(&scenario, |_| {}).unwrap();
    assert_eq!(a.deterministic_json(), b.deterministic_json());
    let other = run_scenario(
        &small(&["adversary.spies=2", "link.loss=0.05", "seed=2"]),
        |_| {},
    )
    .unwrap();
    assert_ne!(a.digest, other.digest);
}

#[test]
fn a_run_delivers_and_reports_what_it_exercised() {
    let report = run_scenario(&small(&[]), |_| {}).unwrap();
    assert_eq!(report.members_joined, 8, "{}", report.summary());
    assert_eq!(report.chat.sent, 20);
    assert_eq!(report.chat.delivery_ratio, 1.0, "{}", report.summary());
    assert!(report.anon.sent >= 10, "replies are sent too");
    assert_eq!(report.anon.delivery_ratio, 1.0, "{}", report.summary());
    assert_eq!(
        report.chat.wrong_deliveries + report.anon.wrong_deliveries,
        0
    );
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert!(json.pointer("/chat/latency_ms/p99").is_some());
    assert!(
        json.get("anonymity").is_none(),
        "no adversary, no anonymity figures"
    );
    assert!(json.get("votes").is_none(), "no vote, no vote figures");
    assert!(json.get("calls").is_none(), "no call, no call figures");
}

#[test]
fn prearranged_clusters_run_like_clusters_formed_by_votes() {
    let report = run_scenario(
        &small(&["clusters=3", "cluster.formation=\"prearranged\""]),
        |_| {},
    )
    .unwrap();
    assert_eq!(report.members_joined, 24, "{}", report.summary());
    assert_eq!(report.chat.delivery_ratio, 1.0, "{}", report.summary());
    assert_eq!(report.anon.delivery_ratio, 1.0, "{}", report.summary());
    assert_eq!(
        report.chat.wrong_deliveries + report.anon.wrong_deliveries,
        0
    );
    assert_eq!(report.rollout.ejected, 0, "{}", report.summary());
}

#[test]
fn spies_and_taps_are_scored_and_silent_members_are_ejected() {
    let report = run_scenario(
        &small(&[
            "adversary.spies=2",
            "adversary.taps=1",
            "adversary.silent=1",
            "duration_s=400",
        ]),
        |_| {},
    )
    .unwrap();
    let a = report.anonymity.as_ref().expect("anonymity figures");
    assert!(a.messages_total > 0 && a.messages_observed > 0, "{a:?}");
    let precision = a.first_spy_precision.unwrap();
    assert!((0.0..=1.0).contains(&precision), "{a:?}");
    assert!(
        a.sender_entropy_bits.unwrap() <= a.max_entropy_bits + 1e-9,
        "{a:?}"
    );
    assert!(a.tap_precision.is_some() || a.tap_recall.is_some(), "{a:?}");
    assert!(report.rollout.ejected >= 1, "{}", report.summary());
}

#[test]
fn the_shipped_scenarios_parse() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../sim/scenarios");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            Scenario::from_toml(&text, &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            count += 1;
        }
    }
    assert!(count >= 2, "{count} scenarios in {dir}");
}

#[test]
fn calls_are_answered_and_their_frames_arrive() {
    let calls = ["workload.calls=2", "workload.call_s=3"];
    let report = run_scenario(&small(&calls), |_| {}).unwrap();
    let c = report.calls.as_ref().expect("call figures");
    assert_eq!((c.count, c.answered), (2, 2), "{}", report.summary());
    // Both ends of both calls send 3 s of 20 ms frames.
    assert_eq!(c.frames_sent, 2 * 2 * 150, "{c:?}");
    assert!(c.frames_lost_ratio < 0.01, "{c:?}");
    let latency = c.latency_ms.expect("frame latencies");
    // At least one 5 ms hop, and no reason to wait on a clean LAN.
    assert!(latency.p50 >= 5.0 && latency.max < 1000.0, "{latency:?}");
    assert!(report.summary().contains("calls: 2 placed"));
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert!(json.pointer("/calls/latency_ms/p99").is_some());

    // Fluff fan-out and repeated frames ride out 10 % loss per link entirely; at half the
    // datagrams lost some frames go, but most still arrive.
    let lossy = [&calls[..], &["link.loss=0.5"]].concat();
    let report = run_scenario(&small(&lossy), |_| {}).unwrap();
    let l = report.calls.as_ref().expect("call figures");
    assert_eq!(l.answered, 2, "{}", report.summary());
    assert_eq!(l.frames_sent, c.frames_sent, "{l:?}");
    assert!(
        l.frames_lost_ratio > c.frames_lost_ratio && l.frames_lost_ratio < 0.5,
        "{l:?}"
    );
    assert_eq!(
        l.frames_lost_ratio,
        1.0 - l.frames_received as f64 / l.frames_sent as f64
    );
}

#[test]
fn call_keys_are_checked() {
    let error = Scenario::from_toml("", &["workload.call_s=0".into()]).unwrap_err();
    assert!(error.to_string().contains("workload.call_s"), "{error}");
    let error = Scenario::from_toml("", &["workload.calls=1000000".into()]).unwrap_err();
    assert!(error.to_string().contains("workload.calls"), "{error}");
    let s = Scenario::from_toml("", &[]).unwrap();
    assert_eq!((s.workload.calls, s.workload.call_s), (0, 10.0));
}
