//! Fuzz target: any bytes into the saved cluster state's decoder (see `harness::cluster_state`).
#![no_main]

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::cluster_state(data));
