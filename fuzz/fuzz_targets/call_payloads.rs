//! Fuzz target: any bytes into the decoders of call signals and voice payloads, and packets
//! into `open_voice` (see `harness::call_payloads`).
#![no_main]

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::call_payloads(data));
