//! The `overlay_packets` target: well-formed overlay packets (peer lists, rumors, statuses)
//! from an already verified peer into a `Node`.

use std::net::SocketAddr;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use peerster_core::crypto::IdentityKey;
use peerster_core::wire::{self, MAX_DATAGRAM_SIZE};
use peerster_core::{Config, Node, Timestamp};

use super::util::addr;

/// One overlay packet (or a clock tick) from an already verified peer.
#[derive(Debug, Arbitrary)]
pub enum OverlayStep {
    /// A peer list with arbitrary addresses.
    PeerList {
        /// (IPv4 address, port) pairs.
        addrs: Vec<([u8; 4], u16)>,
        /// Whether the peer asks for our list.
        reply_wanted: bool,
    },
    /// A rumor validly signed by one of a few origins (the peer itself included).
    SignedRumor {
        /// Which of four origin keys signs.
        origin: u8,
        /// The sequence number.
        seq: u64,
        /// The display name.
        name: Vec<u8>,
    },
    /// A rumor with arbitrary fields (its signature will almost never verify).
    RawRumor {
        /// Origin key bytes (may not be a valid point).
        origin: [u8; 32],
        /// The sequence number.
        seq: u64,
        /// Signature bytes.
        signature: Vec<u8>,
    },
    /// A status with arbitrary digests.
    Status {
        /// Bucket digests (possibly the wrong count).
        digests: Vec<[u8; 8]>,
    },
    /// A status range with arbitrary entries.
    StatusRange {
        /// The bucket.
        bucket: u8,
        /// Range start.
        start: Option<[u8; 16]>,
        /// Range end.
        end: Option<[u8; 16]>,
        /// Entries.
        entries: Vec<([u8; 16], u64)>,
    },
    /// The clock moves on and timers fire.
    Tick {
        /// Milliseconds.
        advance_ms: u16,
    },
}

/// Well-formed overlay packets from a verified peer into a `Node`: never a panic, every output
/// within the datagram limit, and the announcement store and peer table within their bounds.
pub fn overlay_packets(data: &[u8]) {
    use peerster_core::ids::MemberId;
    use peerster_core::wire::{
        Announcement, AnnouncementBody, BoundedBytes, BoundedVec, Packet, PeerAddr, PeerList,
        Status, StatusRange,
    };

    let mut input = Unstructured::new(data);
    let Ok(steps) = Vec::<OverlayStep>::arbitrary(&mut input) else {
        return;
    };
    let config = Config {
        max_announcements: 16,
        max_known_addrs: 16,
        ..Config::default()
    };
    let (a_addr, b_addr) = (addr(1), addr(2));
    let mut now = Timestamp::ZERO;
    let mut a = Node::new(
        config.clone(),
        IdentityKey::from_secret_bytes([1; 32]),
        [1; 32],
        now,
    )
    .expect("valid config");
    let mut b = Node::new(
        config.clone(),
        IdentityKey::from_secret_bytes([2; 32]),
        [2; 32],
        now,
    )
    .expect("valid config");
    // Let b verify itself to a, moving datagrams by hand.
    b.connect(now, a_addr);
    for _ in 0..4 {
        while let Some(t) = b.poll_transmit() {
            a.handle_datagram(now, b_addr, &t.payload);
        }
        while let Some(t) = a.poll_transmit() {
            b.handle_datagram(now, a_addr, &t.payload);
        }
    }
    assert!(a.peer(&b_addr).is_some(), "the handshake completes");
    let origins: Vec<IdentityKey> = (2..6u8)
        .map(|i| IdentityKey::from_secret_bytes([i; 32]))
        .collect();

    for step in steps.into_iter().take(128) {
        let packet = match step {
            OverlayStep::PeerList {
                addrs,
                reply_wanted,
            } => Packet::PeerList(PeerList {
                addrs: BoundedVec::truncating(
                    addrs
                        .into_iter()
                        .map(|(ip, port)| PeerAddr::from(SocketAddr::from((ip, port))))
                        .collect(),
                ),
                reply_wanted,
            }),
            OverlayStep::SignedRumor { origin, seq, name } => {
                let key = &origins[usize::from(origin) % origins.len()];
                let body = AnnouncementBody::Node {
                    name: BoundedBytes::new(name).unwrap_or_default(),
                    node_key: key.node_key().public(),
                };
                Packet::Rumor(Announcement::new_signed(key, seq, body))
            }
            OverlayStep::RawRumor {
                origin,
                seq,
                signature,
            } => {
                let Ok(origin) = peerster_core::crypto::PublicIdentity::from_bytes(origin) else {
                    continue;
                };
                let mut sig = [0u8; 64];
                let n = signature.len().min(64);
                sig[..n].copy_from_slice(&signature[..n]);
                Packet::Rumor(Announcement {
                    origin,
                    seq,
                    body: AnnouncementBody::Node {
                        name: BoundedBytes::default(),
                        node_key: peerster_core::crypto::EpochPublic(origin.as_bytes().to_owned()),
                    },
                    signature: peerster_core::crypto::Signature::from_bytes(sig),
                })
            }
            OverlayStep::Status { digests } => Packet::Status(Status {
                digests: BoundedVec::truncating(digests),
            }),
            OverlayStep::StatusRange {
                bucket,
                start,
                end,
                entries,
            } => Packet::StatusRange(StatusRange {
                bucket,
                start: start.map(MemberId),
                end: end.map(MemberId),
                entries: BoundedVec::truncating(
                    entries
                        .into_iter()
                        .map(|(id, seq)| (MemberId(id), seq))
                        .collect(),
                ),
            }),
            OverlayStep::Tick { advance_ms } => {
                now += Duration::from_millis(advance_ms.into());
                a.handle_timeout(now);
                continue;
            }
        };
        if let Ok(bytes) = wire::encode(&packet) {
            a.handle_datagram(now, b_addr, &bytes);
        }
        while let Some(t) = a.poll_transmit() {
            assert!(t.payload.len() <= MAX_DATAGRAM_SIZE);
        }
        while a.poll_event().is_some() {}
        assert!(a.announcements().count() <= config.max_announcements);
        assert!(a.peers().count() <= config.max_peers);
    }
}
