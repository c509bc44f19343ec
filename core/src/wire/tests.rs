//! Wire tests: pinned bytes of every packet type, round trips, and hostile input.

use std::net::SocketAddr;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::crypto::{ClusterKey, EpochPublic, IdentityKey};
use crate::ids::MemberId;

fn identity(seed: u8) -> IdentityKey {
    IdentityKey::from_secret_bytes([seed; 32])
}

/// One fixed example of every packet type, in tag order.
fn examples() -> Vec<Packet> {
    let alice = identity(1);
    let bob = identity(2);
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let key = ClusterKey::generate(&mut rng);
    let datagram = frame::seal_frame(&key, &mut rng, 256, b"example payload").unwrap();
    let Ok(Packet::Sealed(sealed)) = decode(&datagram) else {
        panic!("seal_frame must produce a sealed packet");
    };
    let join_key = crate::crypto::EpochSecret::from_bytes([9; 32]).public();
    let datagram = join_frame::seal_join(&join_key, &mut rng, 256, b"example request").unwrap();
    let Ok(Packet::Join(join)) = decode(&datagram) else {
        panic!("seal_join must produce a join packet");
    };
    vec![
        Packet::Hello(Hello {
            identity: alice.public(),
            nonce: [0x11; 16],
            padding: BoundedBytes::new(vec![0; 8]).unwrap(),
        }),
        Packet::HelloAck(HelloAck {
            identity: bob.public(),
            nonce: [0x22; 16],
            echo: [0x11; 16],
            signature: bob.sign(b"transcript"),
        }),
        Packet::HelloConfirm(HelloConfirm {
            echo: [0x22; 16],
            signature: alice.sign(b"transcript"),
        }),
        Packet::Ping(Probe {
            nonce: [1, 2, 3, 4, 5, 6, 7, 8],
            echo: [9; 8],
        }),
        Packet::Pong(Probe {
            nonce: [42; 8],
            echo: [1, 2, 3, 4, 5, 6, 7, 8],
        }),
        Packet::Sealed(sealed),
        Packet::PeerList(PeerList {
            addrs: BoundedVec::new(vec![
                "10.0.0.1:7000".parse::<SocketAddr>().unwrap().into(),
                "[2001:db8::1]:7001".parse::<SocketAddr>().unwrap().into(),
            ])
            .unwrap(),
            reply_wanted: true,
        }),
        Packet::Rumor(Announcement {
            origin: alice.public(),
            seq: 300,
            body: AnnouncementBody::Node {
                name: BoundedBytes::new(b"alice".to_vec()).unwrap(),
                node_key: alice.node_key().public(),
            },
            signature: alice.sign(b"announcement"),
        }),
        Packet::Status(Status {
            digests: BoundedVec::new((0..STATUS_BUCKETS as u8).map(|i| [i; 8]).collect()).unwrap(),
        }),
        Packet::StatusRange(StatusRange {
            bucket: 3,
            start: Some(MemberId([3; 16])),
            end: None,
            entries: BoundedVec::new(vec![(MemberId([3; 16]), 1), (MemberId([35; 16]), 129)])
                .unwrap(),
        }),
        Packet::Join(join),
    ]
}

#[test]
fn examples_cover_every_packet_type() {
    assert_eq!(examples().len(), usize::from(Packet::TYPE_COUNT));
}

#[test]
fn snapshot_of_every_packet_type() {
    for packet in examples() {
        let bytes = encode(&packet).unwrap();
        assert_eq!(bytes[0], WIRE_VERSION);
        insta::assert_snapshot!(format!("packet_{}", packet.kind()), hex::encode(&bytes));
    }
}

#[test]
fn unknown_version_and_type_are_typed_errors() {
    let mut bytes = encode(&Packet::Ping(Probe {
        nonce: [1; 8],
        echo: [0; 8],
    }))
    .unwrap();
    bytes[0] = 2;
    assert_eq!(
        decode(&bytes),
        Err(DecodeError::UnknownVersion {
            got: 2,
            expected: WIRE_VERSION
        })
    );
    assert_eq!(
        decode(&[WIRE_VERSION, Packet::TYPE_COUNT]),
        Err(DecodeError::UnknownPacketType {
            tag: Packet::TYPE_COUNT.into()
        })
    );
    assert_eq!(
        decode(&[WIRE_VERSION, 0x80, 0x01]),
        Err(DecodeError::UnknownPacketType { tag: 0x80 })
    );
    assert_eq!(decode(&[]), Err(DecodeError::Empty));
    assert_eq!(decode(&[WIRE_VERSION]), Err(DecodeError::Truncated));
}

#[test]
fn every_truncation_of_every_packet_is_refused() {
    for packet in examples() {
        let bytes = encode(&packet).unwrap();
        for cut in 0..bytes.len() {
            assert!(
                decode(&bytes[..cut]).is_err(),
                "{} cut to {cut} bytes decoded",
                packet.kind()
            );
        }
    }
}

#[test]
fn overlong_varints_are_refused() {
    // A sealed frame of two bytes, its length written canonically and then over-long.
    assert!(decode(&[WIRE_VERSION, 5, 2, 0xff, 0xff]).is_ok());
    assert_eq!(
        decode(&[WIRE_VERSION, 5, 0x82, 0x00, 0xff, 0xff]),
        Err(DecodeError::NonCanonical)
    );
}

#[test]
fn trailing_bytes_are_refused() {
    for packet in examples() {
        let mut bytes = encode(&packet).unwrap();
        if bytes.len() == MAX_DATAGRAM_SIZE {
            continue;
        }
        bytes.push(0);
        assert_eq!(
            decode(&bytes),
            Err(DecodeError::TrailingBytes { extra: 1 }),
            "{}",
            packet.kind()
        );
    }
}

#[test]
fn oversize_datagram_and_field_are_refused() {
    let big = vec![WIRE_VERSION; MAX_DATAGRAM_SIZE + 1];
    assert_eq!(
        decode(&big),
        Err(DecodeError::Oversize {
            len: MAX_DATAGRAM_SIZE + 1,
            max: MAX_DATAGRAM_SIZE
        })
    );
    // A Hello whose padding claims more than its bound: tag 0, identity, nonce, then length.
    let mut bytes = vec![WIRE_VERSION, 0];
    bytes.extend_from_slice(identity(1).public().as_bytes());
    bytes.extend_from_slice(&[0; 16]);
    let too_long = Hello::MAX_PADDING + 1;
    bytes.extend_from_slice(&[(too_long as u8) | 0x80, (too_long >> 7) as u8]);
    bytes.resize(bytes.len() + too_long, 0);
    assert_eq!(decode(&bytes), Err(DecodeError::FieldTooLong));
    // Encoding refuses to build a datagram over the limit.
    let sealed = BoundedBytes::new(vec![0; MAX_DATAGRAM_SIZE]).unwrap();
    assert!(matches!(
        encode(&Packet::Sealed(SealedFrame { sealed })),
        Err(EncodeError::Oversize { .. })
    ));
}

fn arb_identity() -> impl Strategy<Value = IdentityKey> {
    any::<[u8; 32]>().prop_map(IdentityKey::from_secret_bytes)
}

fn arb_packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        (
            arb_identity(),
            any::<[u8; 16]>(),
            proptest::collection::vec(any::<u8>(), 0..=Hello::MAX_PADDING)
        )
            .prop_map(|(id, nonce, padding)| Packet::Hello(Hello {
                identity: id.public(),
                nonce,
                padding: BoundedBytes::new(padding).unwrap(),
            })),
        (
            arb_identity(),
            any::<[u8; 16]>(),
            any::<[u8; 16]>(),
            any::<Vec<u8>>()
        )
            .prop_map(|(id, nonce, echo, msg)| Packet::HelloAck(HelloAck {
                identity: id.public(),
                nonce,
                echo,
                signature: id.sign(&msg),
            })),
        (arb_identity(), any::<[u8; 16]>(), any::<Vec<u8>>()).prop_map(|(id, echo, msg)| {
            Packet::HelloConfirm(HelloConfirm {
                echo,
                signature: id.sign(&msg),
            })
        }),
        any::<([u8; 8], [u8; 8])>().prop_map(|(nonce, echo)| Packet::Ping(Probe { nonce, echo })),
        any::<([u8; 8], [u8; 8])>().prop_map(|(nonce, echo)| Packet::Pong(Probe { nonce, echo })),
        proptest::collection::vec(any::<u8>(), 0..=MAX_DATAGRAM_SIZE - 4).prop_map(|sealed| {
            Packet::Sealed(SealedFrame {
                sealed: BoundedBytes::new(sealed).unwrap(),
            })
        }),
        (
            proptest::collection::vec(any::<(std::net::IpAddr, u16)>(), 0..=PeerList::MAX),
            any::<bool>()
        )
            .prop_map(|(addrs, reply_wanted)| {
                let addrs = addrs
                    .into_iter()
                    .map(|(ip, port)| PeerAddr { ip, port })
                    .collect();
                Packet::PeerList(PeerList {
                    addrs: BoundedVec::new(addrs).unwrap(),
                    reply_wanted,
                })
            }),
        (
            arb_identity(),
            any::<u64>(),
            proptest::collection::vec(any::<u8>(), 0..=AnnouncementBody::MAX_NAME),
            any::<[u8; 32]>()
        )
            .prop_map(|(id, seq, name, key)| Packet::Rumor(Announcement {
                origin: id.public(),
                seq,
                body: AnnouncementBody::Node {
                    name: BoundedBytes::new(name).unwrap(),
                    node_key: EpochPublic(key),
                },
                signature: id.sign(&seq.to_be_bytes()),
            })),
        proptest::collection::vec(any::<[u8; 8]>(), 0..=STATUS_BUCKETS).prop_map(|digests| {
            Packet::Status(Status {
                digests: BoundedVec::new(digests).unwrap(),
            })
        }),
        (
            any::<u8>(),
            any::<Option<[u8; 16]>>(),
            any::<Option<[u8; 16]>>(),
            proptest::collection::vec(any::<([u8; 16], u64)>(), 0..=StatusRange::MAX)
        )
            .prop_map(
                |(bucket, start, end, entries)| Packet::StatusRange(StatusRange {
                    bucket,
                    start: start.map(MemberId),
                    end: end.map(MemberId),
                    entries: BoundedVec::new(
                        entries
                            .into_iter()
                            .map(|(id, seq)| (MemberId(id), seq))
                            .collect()
                    )
                    .unwrap(),
                })
            ),
        proptest::collection::vec(any::<u8>(), 0..=MAX_DATAGRAM_SIZE - 4).prop_map(|sealed| {
            Packet::Join(SealedJoin {
                sealed: BoundedBytes::new(sealed).unwrap(),
            })
        }),
    ]
}

proptest! {
    #[test]
    fn every_packet_round_trips(packet in arb_packet()) {
        let bytes = encode(&packet).unwrap();
        prop_assert!(bytes.len() <= MAX_DATAGRAM_SIZE);
        prop_assert_eq!(decode(&bytes).unwrap(), packet);
    }

    #[test]
    fn random_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..1400)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn random_bytes_after_a_valid_header_never_panic(tag in 0..Packet::TYPE_COUNT, body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = vec![WIRE_VERSION, tag];
        bytes.extend_from_slice(&body);
        if let Ok(packet) = decode(&bytes) {
            // Whatever decodes must re-encode to the same bytes: one encoding per packet.
            prop_assert_eq!(encode(&packet).unwrap(), bytes);
        }
    }
}
