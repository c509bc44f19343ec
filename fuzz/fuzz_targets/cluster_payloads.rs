//! Fuzz target: any bytes into the decoders of cluster payloads, and fragments into a
//! reassembler (see `harness::cluster_payloads`).
#![no_main]

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::cluster_payloads(data));
