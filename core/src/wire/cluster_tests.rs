//! Wire tests of what travels inside cluster and join frames: pinned bytes of every message
//! type, round trips, and hostile input.

use proptest::prelude::*;

use super::cluster::*;
use super::fragment::Fragment;
use super::{BoundedBytes, BoundedVec, DecodeError, decode_payload, encode_payload};
use crate::crypto::{EpochPublic, IdentityKey};
use crate::ids::{ClusterId, Epoch, MemberId};

fn identity(seed: u8) -> IdentityKey {
    IdentityKey::from_secret_bytes([seed; 32])
}

fn frame(body: FrameBody) -> ClusterFrame {
    ClusterFrame {
        cluster: ClusterId(0x0123_4567_89ab_cdef),
        epoch: Epoch(7),
        body,
    }
}

fn rollout(alice: &IdentityKey, members: u8) -> Signed<Rollout> {
    let entries = (1..=members)
        .map(|i| RolloutEntry {
            identity: identity(i).public(),
            epoch_key: EpochPublic([i; 32]),
            addr: std::net::SocketAddr::from(([10, 0, 0, i], 7000)).into(),
            joined: Epoch(u64::from(i)),
            sealed_key: BoundedBytes::new(vec![i; SEALED_KEY_LEN]).unwrap(),
        })
        .collect();
    Signed::sign(
        alice,
        Rollout {
            cluster: ClusterId(1),
            epoch: Epoch(8),
            leader: alice.public().member_id(),
            limit: Some(50),
            members: BoundedVec::new(entries).unwrap(),
            decisions: BoundedVec::default(),
        },
    )
}

/// One example of every frame body, flooded object and join message, by name.
fn examples() -> Vec<(&'static str, Vec<u8>)> {
    let alice = identity(1);
    let bob = identity(2);
    let a = alice.public().member_id();
    let fragment = Fragment {
        message: [5; 16],
        index: 1,
        count: 3,
        bytes: BoundedBytes::new(b"piece".to_vec()).unwrap(),
    };
    let frames = [
        (
            "frame_heartbeat",
            FrameBody::Heartbeat(Heartbeat {
                chain: Signed::sign(
                    &alice,
                    HeartbeatChain {
                        cluster: ClusterId(1),
                        member: a,
                        generation: 3,
                        head: [0x48; 32],
                    },
                ),
                index: 12,
                link: [0x4c; 32],
                answer: true,
            }),
        ),
        ("frame_fragment", FrameBody::Fragment(fragment.clone())),
        (
            "frame_key_request",
            FrameBody::KeyRequest(KeyRequest {
                leader: a,
                target: Epoch(8),
            }),
        ),
        (
            "frame_key_offer",
            FrameBody::KeyOffer(Signed::sign(
                &bob,
                KeyOffer {
                    cluster: ClusterId(1),
                    target: Epoch(8),
                    leader: a,
                    member: bob.public().member_id(),
                    key: EpochPublic([3; 32]),
                },
            )),
        ),
        (
            "frame_post_sync",
            FrameBody::PostSync(PostSync {
                member: a,
                first: 0,
                last: 2,
                heads: BoundedVec::new(vec![AuthorHead {
                    index: 2,
                    head: PostPosition {
                        epoch: Epoch(6),
                        seq: 4,
                    },
                }])
                .unwrap(),
                reply_wanted: true,
            }),
        ),
    ];
    let floods = [
        (
            "flooded_post",
            Flooded::Post(Signed::sign(
                &alice,
                Post {
                    cluster: ClusterId(1),
                    author: a,
                    position: PostPosition {
                        epoch: Epoch(7),
                        seq: 1,
                    },
                    prev: Some(PostPosition {
                        epoch: Epoch(7),
                        seq: 0,
                    }),
                    text: BoundedBytes::new("héllo".as_bytes().to_vec()).unwrap(),
                },
            )),
        ),
        ("flooded_rollout", Flooded::Rollout(rollout(&alice, 2))),
        (
            "flooded_proposal",
            Flooded::Proposal(Signed::sign(
                &alice,
                crate::wire::vote::Proposal {
                    cluster: ClusterId(1),
                    epoch: Epoch(7),
                    proposer: a,
                    kind: crate::wire::vote::ProposalKind::Admit {
                        joiner: bob.public(),
                        join_key: EpochPublic([4; 32]),
                        addr: std::net::SocketAddr::from(([192, 168, 1, 9], 9000)).into(),
                    },
                    verifiable: false,
                    electorate: 3,
                },
            )),
        ),
        (
            "flooded_tally",
            Flooded::Tally(Box::new(crate::wire::vote::PublishedTally {
                tally: Signed::sign(
                    &alice,
                    crate::wire::vote::Tally {
                        cluster: ClusterId(1),
                        epoch: Epoch(7),
                        proposal: crate::wire::vote::ProposalId([3; 16]),
                        round: 0,
                        authority: a,
                        count: crate::wire::vote::Count {
                            yes: 1,
                            no: 0,
                            authorities_yes: 1,
                            authorities_no: 0,
                            ballots: crate::wire::vote::digests_hash(&[[8; 16]]),
                        },
                    },
                ),
                digests: BoundedVec::new(vec![[8; 16]]).unwrap(),
                ballots: BoundedVec::default(),
            })),
        ),
        (
            "flooded_leave",
            Flooded::Leave(Signed::sign(
                &bob,
                Leave {
                    cluster: ClusterId(1),
                    epoch: Epoch(7),
                    member: bob.public().member_id(),
                },
            )),
        ),
    ];
    let joins = [
        (
            "join_request",
            JoinMessage::Request(Box::new(Signed::sign(
                &bob,
                JoinRequest {
                    joiner: bob.public(),
                    contact: a,
                    contact_addr: std::net::SocketAddr::from(([10, 0, 0, 1], 7000)).into(),
                    join_key: EpochPublic([4; 32]),
                },
            ))),
        ),
        (
            "join_refusal",
            JoinMessage::Refusal(Signed::sign(
                &alice,
                JoinRefusal {
                    contact: a,
                    join_key: EpochPublic([4; 32]),
                    reason: RefusalReason::Full,
                },
            )),
        ),
        (
            "join_welcome",
            JoinMessage::Welcome(Welcome { seq: 2, fragment }),
        ),
    ];
    let mut out = Vec::new();
    for (name, body) in frames {
        out.push((name, encode_payload(&frame(body)).unwrap()));
    }
    for (name, flooded) in floods {
        out.push((name, encode_payload(&flooded).unwrap()));
    }
    for (name, join) in joins {
        out.push((name, encode_payload(&join).unwrap()));
    }
    out
}

/// Decodes `bytes` as the type its example name says, and re-encodes it.
fn round_trip(name: &str, bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    if name.starts_with("frame_") {
        decode_payload::<ClusterFrame>(bytes).map(|v| encode_payload(&v).unwrap())
    } else if name.starts_with("flooded_") {
        decode_payload::<Flooded>(bytes).map(|v| encode_payload(&v).unwrap())
    } else {
        decode_payload::<JoinMessage>(bytes).map(|v| encode_payload(&v).unwrap())
    }
}

#[test]
fn snapshot_of_every_cluster_message() {
    for (name, bytes) in examples() {
        insta::assert_snapshot!(format!("cluster_{name}"), hex::encode(&bytes));
    }
}

#[test]
fn every_example_round_trips_and_every_truncation_or_extension_is_refused() {
    for (name, bytes) in examples() {
        assert_eq!(round_trip(name, &bytes).unwrap(), bytes, "{name}");
        for cut in 0..bytes.len() {
            assert!(
                round_trip(name, &bytes[..cut]).is_err(),
                "{name} cut to {cut}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            round_trip(name, &longer),
            Err(DecodeError::TrailingBytes { extra: 1 }),
            "{name}"
        );
    }
}

#[test]
fn signatures_bind_the_signer_and_the_content() {
    let alice = identity(1);
    let bob = identity(2);
    let mut signed = rollout(&alice, 3);
    assert!(signed.verify(&alice.public()).is_ok());
    assert!(signed.verify(&bob.public()).is_err(), "another signer");
    signed.body.epoch = Epoch(9);
    assert!(signed.verify(&alice.public()).is_err(), "another epoch");
    // A leave signature is not a heartbeat chain's signature, whatever the fields' bytes.
    let leave = Signed::sign(
        &alice,
        Leave {
            cluster: ClusterId(1),
            epoch: Epoch(2),
            member: MemberId([1; 16]),
        },
    );
    let heartbeat = Signed {
        body: HeartbeatChain {
            cluster: ClusterId(1),
            member: MemberId([1; 16]),
            generation: 2,
            head: [0; 32],
        },
        signature: leave.signature,
    };
    assert!(heartbeat.verify(&alice.public()).is_err());
}

#[test]
fn a_rollout_of_the_largest_cluster_fits_the_flood_bound() {
    let alice = identity(1);
    let entries: Vec<_> = (0..MAX_MEMBERS)
        .map(|i| RolloutEntry {
            identity: alice.public(),
            epoch_key: EpochPublic([0xff; 32]),
            addr: std::net::SocketAddr::from(([0xffff, 0, 0, 0, 0, 0, 0, 1], 65535)).into(),
            joined: Epoch(u64::MAX),
            sealed_key: BoundedBytes::new(vec![i as u8; SEALED_KEY_LEN]).unwrap(),
        })
        .collect();
    let rollout = Flooded::Rollout(Signed::sign(
        &alice,
        Rollout {
            cluster: ClusterId(u64::MAX),
            epoch: Epoch(u64::MAX),
            leader: MemberId([0xff; 16]),
            limit: Some(u16::MAX),
            members: BoundedVec::new(entries).unwrap(),
            decisions: BoundedVec::default(),
        },
    ));
    let len = encode_payload(&rollout).unwrap().len();
    assert!(len <= MAX_FLOODED_BYTES, "{len} bytes");
}

proptest! {
    #[test]
    fn random_bytes_never_panic_and_what_decodes_is_canonical(
        kind in 0..3u8,
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let name = ["frame_", "flooded_", "join_"][usize::from(kind)];
        if let Ok(again) = round_trip(name, &bytes) {
            prop_assert_eq!(again, bytes);
        }
    }

    #[test]
    fn posts_round_trip(
        seed in any::<u8>(),
        epoch in any::<u64>(),
        seq in any::<u32>(),
        prev in any::<Option<(u64, u32)>>(),
        text in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        let author = identity(seed);
        let post = Flooded::Post(Signed::sign(&author, Post {
            cluster: ClusterId(epoch ^ 0x55),
            author: author.public().member_id(),
            position: PostPosition { epoch: Epoch(epoch), seq },
            prev: prev.map(|(e, s)| PostPosition { epoch: Epoch(e), seq: s }),
            text: BoundedBytes::new(text).unwrap(),
        }));
        let bytes = encode_payload(&post).unwrap();
        prop_assert_eq!(decode_payload::<Flooded>(&bytes).unwrap(), post);
    }

    #[test]
    fn rollouts_round_trip(seed in any::<u8>(), members in 0..40u8) {
        let rollout = Flooded::Rollout(rollout(&identity(seed), members));
        let bytes = encode_payload(&rollout).unwrap();
        prop_assert_eq!(decode_payload::<Flooded>(&bytes).unwrap(), rollout);
    }
}

/// A heartbeat with every field at its longest.
fn largest_heartbeat(signer: &IdentityKey) -> Heartbeat {
    Heartbeat {
        chain: Signed::sign(
            signer,
            HeartbeatChain {
                cluster: ClusterId(u64::MAX),
                member: signer.public().member_id(),
                generation: u64::MAX,
                head: [0xff; 32],
            },
        ),
        index: HeartbeatChain::MAX_LEN,
        link: [0xff; 32],
        answer: true,
    }
}

#[test]
fn a_heartbeat_fits_the_smallest_default_pad_bucket() {
    // Every member sends one to every other member each heartbeat interval: the most
    // frequent frame of all stays in the cheapest bucket.
    use crate::config::Config;
    use crate::wire::frame;
    let payload = encode_payload(&ClusterFrame {
        cluster: ClusterId(u64::MAX),
        epoch: Epoch(u64::MAX),
        body: FrameBody::Heartbeat(largest_heartbeat(&identity(1))),
    })
    .unwrap();
    let smallest = Config::default().pad_buckets[0];
    assert!(
        payload.len() <= frame::payload_capacity(smallest),
        "{} bytes in a bucket of {smallest}",
        payload.len()
    );
}

#[test]
fn every_single_frame_message_fits_the_smallest_allowed_largest_bucket() {
    use crate::config::Config;
    use crate::wire::{frame, join_frame};
    let alice = identity(1);
    let a = alice.public().member_id();
    let big = Epoch(u64::MAX);
    let far = ClusterId(u64::MAX);
    let ipv6 = std::net::SocketAddr::from(([0xffff, 0, 0, 0, 0, 0, 0, 1], 65535)).into();
    let bucket = Config::MIN_LARGEST_PAD_BUCKET;
    let frames = [
        FrameBody::Heartbeat(largest_heartbeat(&alice)),
        FrameBody::KeyRequest(KeyRequest {
            leader: a,
            target: big,
        }),
        FrameBody::KeyOffer(Signed::sign(
            &alice,
            KeyOffer {
                cluster: far,
                target: big,
                leader: a,
                member: a,
                key: EpochPublic([0xff; 32]),
            },
        )),
    ];
    for body in frames {
        let payload = encode_payload(&ClusterFrame {
            cluster: far,
            epoch: big,
            body,
        })
        .unwrap();
        assert!(
            payload.len() <= frame::payload_capacity(bucket),
            "{} bytes",
            payload.len()
        );
    }
    let request = JoinMessage::Request(Box::new(Signed::sign(
        &alice,
        JoinRequest {
            joiner: alice.public(),
            contact: a,
            contact_addr: ipv6,
            join_key: EpochPublic([0xff; 32]),
        },
    )));
    let refusal = JoinMessage::Refusal(Signed::sign(
        &alice,
        JoinRefusal {
            contact: a,
            join_key: EpochPublic([0xff; 32]),
            reason: RefusalReason::Declined,
        },
    ));
    for message in [request, refusal] {
        let payload = encode_payload(&message).unwrap();
        assert!(
            payload.len() <= join_frame::payload_capacity(bucket),
            "{} bytes",
            payload.len()
        );
    }
}
