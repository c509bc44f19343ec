//! Fuzz target: well-formed overlay packets from a verified peer into a `Node` (see
//! `harness::overlay_packets`).
#![no_main]

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::overlay_packets(data));
