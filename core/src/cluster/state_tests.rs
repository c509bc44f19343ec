//! Tests of the cluster state's encoding: pinned bytes, round trips, and refused input.

use proptest::prelude::*;

use super::*;
use crate::crypto::IdentityKey;

fn identity(seed: u8) -> IdentityKey {
    IdentityKey::from_secret_bytes([seed; 32])
}

/// A state of `members` members (at least 1) in which this member is the first by id, with
/// its epoch secret of `secret` bytes.
fn state(members: u8, secret: u8, offers: u8, epoch: u64) -> ClusterState {
    let mine = EpochSecret::from_bytes([secret; 32]).public();
    let mut saved: Vec<SavedMember> = (1..=members.max(1))
        .map(|i| SavedMember {
            identity: identity(i).public(),
            epoch_key: EpochPublic([i; 32]),
            addr: SocketAddr::from(([10, 0, 0, i], 7000)).into(),
            joined: Epoch(u64::from(i) % (epoch + 1)),
            heartbeat: (i % 2 == 0).then_some(ChainView {
                generation: u64::from(i) * 3,
                index: u32::from(i),
                link: [i ^ 0x55; 32],
            }),
        })
        .collect();
    saved.sort_by_key(|m| m.identity.member_id());
    saved[0].epoch_key = mine;
    let heads = saved
        .iter()
        .take(2)
        .map(|m| SavedHead {
            author: m.identity.member_id(),
            position: PostPosition {
                epoch: Epoch(epoch),
                seq: 4,
            },
        })
        .collect();
    let offered = (0..offers.min(4))
        .map(|i| SavedOffer {
            leader: saved[0].identity.member_id(),
            target: Epoch(epoch + 1),
            secret: Secret32([0x40 + i; 32]),
        })
        .collect();
    ClusterState {
        cluster: ClusterId(0x0123_4567_89ab_cdef),
        limit: Some(50),
        epoch: Epoch(epoch),
        joined: Epoch(0),
        key: Secret32([0x11; 32]),
        my_secret: Secret32([secret; 32]),
        leader_rank: [0x22; 32],
        members: BoundedVec::new(saved).unwrap(),
        offered: BoundedVec::truncating(offered),
        heartbeat_generation: 77,
        last_posted: Some(PostPosition {
            epoch: Epoch(epoch),
            seq: 2,
        }),
        heads: BoundedVec::new(heads).unwrap(),
    }
}

#[test]
fn the_encoding_is_pinned() {
    let bytes = state(3, 9, 1, 7).encode();
    assert_eq!(bytes[0], CLUSTER_STATE_VERSION);
    insta::assert_snapshot!("cluster_state_v2", hex::encode(bytes.as_slice()));
}

#[test]
fn a_state_decodes_to_itself() {
    let original = state(5, 9, 2, 3);
    let bytes = original.encode();
    let decoded = ClusterState::decode(&bytes).unwrap();
    assert_eq!(decoded.encode(), bytes);
    assert_eq!(decoded.cluster(), original.cluster());
    assert_eq!(decoded.epoch(), Epoch(3));
    assert_eq!(decoded.members(), original.members());
    assert_eq!(decoded.members().len(), 5);
}

#[test]
fn debug_shows_no_secret() {
    let shown = format!("{:?}", state(2, 0x5a, 1, 1));
    assert!(shown.contains("ClusterState"), "{shown}");
    assert!(!shown.contains("90") && !shown.contains("5a"), "{shown}");
    assert!(!shown.contains("17, 17"), "{shown}");
}

#[test]
fn each_kind_of_bad_input_has_its_error() {
    let good = state(3, 9, 1, 7).encode().to_vec();
    assert_eq!(
        ClusterState::decode(&[]).err(),
        Some(ClusterStateError::Empty)
    );
    let mut other_version = good.clone();
    // Version 1 kept heartbeat counters where version 2 keeps chains.
    other_version[0] = 1;
    assert_eq!(
        ClusterState::decode(&other_version).err(),
        Some(ClusterStateError::UnknownVersion {
            got: 1,
            expected: CLUSTER_STATE_VERSION
        })
    );
    assert_eq!(
        ClusterState::decode(&good[..good.len() - 3]).err(),
        Some(ClusterStateError::Malformed(DecodeError::Truncated))
    );
    assert_eq!(
        ClusterState::decode(&[&good[..], &[0]].concat()).err(),
        Some(ClusterStateError::Malformed(DecodeError::TrailingBytes {
            extra: 1
        }))
    );
}

#[test]
fn a_state_that_contradicts_itself_is_refused() {
    let refused = |s: ClusterState| ClusterState::decode(&s.encode());
    let inconsistent = |r: Result<ClusterState, ClusterStateError>| {
        matches!(r, Err(ClusterStateError::Inconsistent(_)))
    };

    let mut unsorted = state(3, 9, 0, 7);
    let mut members = unsorted.members.to_vec();
    members.swap(0, 2);
    unsorted.members = BoundedVec::new(members).unwrap();
    assert!(inconsistent(refused(unsorted)));

    let mut over_limit = state(3, 9, 0, 7);
    over_limit.limit = Some(2);
    assert!(inconsistent(refused(over_limit)));

    let mut not_mine = state(3, 9, 0, 7);
    not_mine.my_secret = Secret32([8; 32]);
    assert!(inconsistent(refused(not_mine)));

    let mut from_the_future = state(3, 9, 0, 7);
    from_the_future.joined = Epoch(8);
    assert!(inconsistent(refused(from_the_future)));

    let mut stale_offer = state(3, 9, 1, 7);
    let mut offers = stale_offer.offered.clone().into_inner();
    offers[0].target = Epoch(6);
    stale_offer.offered = BoundedVec::truncating(offers);
    assert!(inconsistent(refused(stale_offer)));

    let mut no_members = state(1, 9, 0, 7);
    no_members.members = BoundedVec::default();
    no_members.heads = BoundedVec::default();
    assert!(inconsistent(refused(no_members)));
}

#[test]
fn an_over_long_varint_is_not_canonical() {
    let good = state(1, 9, 0, 7).encode().to_vec();
    // Where the heartbeat generation (77, a one-byte varint) sits: the one byte another
    // generation changes.
    let mut other = state(1, 9, 0, 7);
    other.heartbeat_generation = 78;
    let other = other.encode().to_vec();
    let at = (0..good.len()).find(|&i| good[i] != other[i]).unwrap();
    assert_eq!(good[at], 77);
    // The same value as a two-byte varint.
    let mut over_long = good.clone();
    over_long[at] = 77 | 0x80;
    over_long.insert(at + 1, 0);
    assert_eq!(
        ClusterState::decode(&over_long).err(),
        Some(ClusterStateError::Malformed(DecodeError::NonCanonical))
    );
}

#[test]
fn the_largest_state_encodes_and_decodes() {
    // Every field at its longest: the encoding's room estimate must hold it all.
    let mut members: Vec<SavedMember> = (0..MAX_MEMBERS)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            SavedMember {
                identity: IdentityKey::from_secret_bytes(seed).public(),
                epoch_key: EpochPublic([0xff; 32]),
                addr: SocketAddr::from(([0xffff; 8], u16::MAX)).into(),
                joined: Epoch(u64::MAX),
                heartbeat: Some(ChainView {
                    generation: u64::MAX,
                    index: u32::MAX,
                    link: [0xff; 32],
                }),
            }
        })
        .collect();
    members.sort_by_key(|m| m.identity.member_id());
    members[0].epoch_key = EpochSecret::from_bytes([9; 32]).public();
    let max = PostPosition {
        epoch: Epoch(u64::MAX),
        seq: u32::MAX,
    };
    let heads = members
        .iter()
        .map(|m| SavedHead {
            author: m.identity.member_id(),
            position: max,
        })
        .collect();
    let offered = (0..MAX_OFFERED as u8)
        .map(|i| SavedOffer {
            leader: MemberId([0xff; 16]),
            target: Epoch(u64::MAX),
            secret: Secret32([i; 32]),
        })
        .collect();
    let largest = ClusterState {
        cluster: ClusterId(u64::MAX),
        limit: Some(u16::MAX),
        epoch: Epoch(u64::MAX),
        joined: Epoch(u64::MAX),
        key: Secret32([0xff; 32]),
        my_secret: Secret32([9; 32]),
        leader_rank: [0xff; 32],
        members: BoundedVec::new(members).unwrap(),
        offered: BoundedVec::truncating(offered),
        heartbeat_generation: u64::MAX,
        last_posted: Some(max),
        heads: BoundedVec::new(heads).unwrap(),
    };
    let bytes = largest.encode();
    assert!(bytes.len() > 30_000, "{} bytes", bytes.len());
    let decoded = ClusterState::decode(&bytes).unwrap();
    assert_eq!(decoded.encode(), bytes);
    assert_eq!(decoded.members().len(), MAX_MEMBERS);
}

proptest! {
    #[test]
    fn any_state_round_trips(members in 1u8..40, secret in any::<u8>(), offers in 0u8..5, epoch in 0u64..1_000_000) {
        let bytes = state(members, secret, offers, epoch).encode();
        let decoded = ClusterState::decode(&bytes).unwrap();
        prop_assert_eq!(decoded.encode(), bytes);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = ClusterState::decode(&bytes);
        let mut versioned = bytes.clone();
        versioned.insert(0, CLUSTER_STATE_VERSION);
        if let Ok(state) = ClusterState::decode(&versioned) {
            let again = state.encode();
            prop_assert_eq!(again.as_slice(), versioned.as_slice());
        }
    }

    #[test]
    fn a_flipped_byte_never_panics(at in any::<usize>(), bit in 0u8..8) {
        let mut bytes = state(4, 9, 2, 11).encode().to_vec();
        let at = at % bytes.len();
        bytes[at] ^= 1 << bit;
        if let Ok(state) = ClusterState::decode(&bytes) {
            let again = state.encode();
            prop_assert_eq!(again.as_slice(), bytes.as_slice());
        }
    }
}
