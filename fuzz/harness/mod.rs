//! What each fuzz target checks, shared by the `cargo fuzz` targets and by
//! `core/tests/fuzz_regressions.rs`, which replays the inputs in `fuzz/regressions/`.

// Each fuzz target uses one of these checks; the regression test uses both.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use peerster_core::crypto::IdentityKey;
use peerster_core::wire::{self, MAX_DATAGRAM_SIZE};
use peerster_core::{Config, Node, Timestamp};

/// Any bytes into the datagram and padding decoders: never a panic, and whatever decodes
/// re-encodes to the same bytes (one encoding per packet).
pub fn decode(data: &[u8]) {
    if let Ok(packet) = wire::decode(data) {
        let again = wire::encode(&packet).expect("a decoded packet re-encodes");
        assert_eq!(again, data, "two encodings of one {} packet", packet.kind());
    }
    let _ = wire::padding::unpad(data);
}

/// One input to a node.
#[derive(Debug, Arbitrary)]
pub enum Step {
    /// A datagram from one of 256 addresses, some time after the previous step.
    Datagram {
        /// Last byte of the sender's address.
        from: u8,
        /// Milliseconds since the previous step.
        advance_ms: u16,
        /// The datagram.
        bytes: Vec<u8>,
    },
    /// The clock moves on and the node's timer fires.
    Timeout {
        /// Milliseconds since the previous step.
        advance_ms: u32,
    },
    /// The user connects to one of 256 addresses.
    Connect {
        /// Last byte of the address.
        to: u8,
    },
}

fn addr(i: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, i], 7000))
}

/// A sequence of arbitrary datagrams, timer firings and connects into one `Node`: never a
/// panic, every output within the datagram limit, and every input counted.
pub fn node_datagram(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let Ok(steps) = Vec::<Step>::arbitrary(&mut input) else {
        return;
    };
    let mut now = Timestamp::ZERO;
    let identity = IdentityKey::from_secret_bytes([7; 32]);
    let mut node = Node::new(Config::default(), identity, [9; 32], now).expect("valid config");
    let mut received = 0u64;
    for step in steps.into_iter().take(256) {
        match step {
            Step::Datagram {
                from,
                advance_ms,
                bytes,
            } => {
                now += Duration::from_millis(advance_ms.into());
                node.handle_datagram(now, addr(from), &bytes);
                received += 1;
            }
            Step::Timeout { advance_ms } => {
                now += Duration::from_millis(advance_ms.into());
                node.handle_timeout(now);
            }
            Step::Connect { to } => node.connect(now, addr(to)),
        }
        while let Some(t) = node.poll_transmit() {
            assert!(t.payload.len() <= MAX_DATAGRAM_SIZE);
        }
        while node.poll_event().is_some() {}
    }
    assert_eq!(node.stats().datagrams_received, received);
}
