//! Fuzz target: a sequence of arbitrary datagrams into a `Node` (see `harness::node_datagram`).
#![no_main]

#[path = "../harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::node_datagram(data));
