//! Replays every input in `fuzz/regressions/<target>/` through its fuzz target's checks, so a
//! bug the fuzzer once found stays fixed.

#[path = "../../fuzz/harness/mod.rs"]
mod harness;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions folder exists") {
        let path = entry.expect("readable entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') || name.ends_with(".md") {
            continue;
        }
        let data = std::fs::read(&path).expect("readable input");
        eprintln!("replaying {}", path.display());
        check(&data);
        replayed += 1;
    }
    replayed
}

#[test]
fn decode_regressions_stay_fixed() {
    replay("decode", harness::decode);
}

#[test]
fn node_datagram_regressions_stay_fixed() {
    replay("node_datagram", harness::node_datagram);
}

#[test]
fn overlay_packets_regressions_stay_fixed() {
    replay("overlay_packets", harness::overlay_packets);
}

#[test]
fn harness_runs_on_handmade_inputs() {
    // The harness itself must work on ordinary inputs, or the replays above prove nothing.
    harness::decode(&[1, 3, 5]);
    harness::decode(&[]);
    harness::node_datagram(&[0; 64]);
    harness::node_datagram(&(0..=255).collect::<Vec<u8>>());
    harness::overlay_packets(&[0; 64]);
    harness::overlay_packets(&(0..=255).rev().collect::<Vec<u8>>());
}
