//! Fuzz target: any bytes into the decoders of anonymous relays, syncs, payloads, messages
//! and cluster frames, and packets into `open_anon` (see `harness::anon_payloads`).
#![no_main]

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::anon_payloads(data));
