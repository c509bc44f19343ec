//! Fuzz target: frames, floods, join packets, timers and commands into a member of a real
//! two-node cluster (see `harness::cluster_member`).
#![no_main]

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::cluster_member(data));
