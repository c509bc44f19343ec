//! Hostile input to a cluster member: messages from non-members, of a wrong epoch, replayed,
//! wrongly signed, forged rollouts, oversized tables and unasked-for welcomes are dropped,
//! counted, and change nothing.
//!
//! The test builds a 4-member cluster and then plays a member gone bad (or an outsider): it
//! seals frames with the cluster key (the `test-hooks` feature exposes it) and signs with the
//! identities it knows.

mod common;

use std::time::Duration;

use common::Net;
use peerster_core::crypto::hash_chain::ChainSalt;
use peerster_core::crypto::{EpochPublic, HashChain, IdentityKey};
use peerster_core::ids::{ClusterId, Epoch};
use peerster_core::wire::cluster::{
    ClusterFrame, Flooded, FrameBody, Heartbeat, HeartbeatChain, JoinMessage, Rollout,
    RolloutEntry, SEALED_KEY_LEN, Signed, Welcome,
};
use peerster_core::wire::fragment::Fragment;
use peerster_core::wire::{BoundedBytes, BoundedVec, encode_payload, frame, join_frame};
use peerster_core::{ClusterInfo, Config, Stats};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// The identity `Net` gives node `i`.
fn identity(i: usize) -> IdentityKey {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&(i as u64).to_le_bytes());
    IdentityKey::from_secret_bytes(id)
}

/// A cluster of nodes 0..4 (node 0 founded it), settled.
fn cluster() -> Net {
    let mut net = Net::new(5, 11, Config::default());
    for i in 1..5 {
        let (now, to) = (net.now, net.addrs[0]);
        net.nodes[i].connect(now, to);
    }
    for i in 0..5 {
        let now = net.now;
        net.nodes[i].announce(now, "n").unwrap();
    }
    net.run_for(Duration::from_secs(3));
    let now = net.now;
    net.nodes[0].create_cluster(now, Some(10)).unwrap();
    for i in 1..4 {
        let (now, contact) = (net.now, net.addrs[0]);
        net.nodes[i].join(now, contact).unwrap();
        net.run_for(Duration::from_secs(5));
    }
    net.run_for(Duration::from_secs(5));
    net
}

/// Seals `body` as a frame of node `at`'s current cluster key and epoch (or `epoch`).
fn frame_for(net: &Net, at: usize, epoch: Option<Epoch>, body: FrameBody) -> Vec<u8> {
    let info = net.nodes[at].cluster().unwrap();
    let key = net.nodes[at].cluster_key().unwrap();
    let payload = encode_payload(&ClusterFrame {
        cluster: info.id,
        epoch: epoch.unwrap_or(info.epoch),
        body,
    })
    .unwrap();
    let mut rng = ChaCha20Rng::from_seed([42; 32]);
    let bucket = frame::smallest_bucket(&[256, 640, 1200], payload.len()).unwrap();
    frame::seal_frame(&key, &mut rng, bucket, &payload).unwrap()
}

/// A flooded object, in one fragment frame.
fn flooded_frame(net: &Net, at: usize, flooded: &Flooded, message: u8) -> Vec<Vec<u8>> {
    let bytes = encode_payload(flooded).unwrap();
    peerster_core::wire::fragment::split([message; 16], &bytes, 1000)
        .unwrap()
        .into_iter()
        .map(|f| frame_for(net, at, None, FrameBody::Fragment(f)))
        .collect()
}

/// Feeds `datagrams` to node `at` from node `from`'s address; returns the stats before and
/// after, and asserts the cluster state did not change.
fn feed(net: &mut Net, at: usize, from: usize, datagrams: &[Vec<u8>]) -> (Stats, Stats) {
    let before: ClusterInfo = net.nodes[at].cluster().unwrap();
    let stats = net.nodes[at].stats();
    for d in datagrams {
        let now = net.now;
        let addr = net.addrs[from];
        net.nodes[at].handle_datagram(now, addr, d);
    }
    let after = net.nodes[at].cluster().unwrap();
    let table = |c: &ClusterInfo| -> Vec<_> {
        c.members
            .iter()
            .map(|m| (m.id, m.epoch_key, m.addr, m.joined))
            .collect()
    };
    assert_eq!(
        (before.id, before.epoch, table(&before)),
        (after.id, after.epoch, table(&after)),
        "no state change"
    );
    (stats, net.nodes[at].stats())
}

/// A heartbeat naming `member`, its chain of `generation` signed by `signer`, revealing link
/// `index`.
fn heartbeat(
    net: &Net,
    at: usize,
    signer: &IdentityKey,
    member: usize,
    generation: u64,
    index: u32,
) -> Heartbeat {
    let info = net.nodes[at].cluster().unwrap();
    let body = HeartbeatChain {
        cluster: info.id,
        member: identity(member).public().member_id(),
        generation,
        head: [0; 32],
    };
    let chain = HashChain::from_seed(ChainSalt(&body.salt()), HeartbeatChain::MAX_LEN, [7; 32]);
    let head = chain.head();
    Heartbeat {
        chain: Signed::sign(signer, HeartbeatChain { head, ..body }),
        index,
        link: chain.link(index).unwrap_or_default(),
        answer: false,
    }
}

#[test]
fn heartbeats_from_non_members_other_clusters_replays_and_forged_chains_are_dropped() {
    let mut net = cluster();
    let fed = |net: &mut Net, from: usize, heartbeat: Heartbeat| {
        let d = frame_for(net, 0, None, FrameBody::Heartbeat(heartbeat));
        feed(net, 0, from, &[d])
    };
    // From a non-member (node 4 is in the overlay but not the cluster).
    let outsider = heartbeat(&net, 0, &identity(4), 4, 1 << 40, 1);
    let (a, b) = fed(&mut net, 4, outsider);
    assert_eq!(b.dropped.not_member, a.dropped.not_member + 1);

    // A chain of another cluster.
    let mut stale = heartbeat(&net, 0, &identity(1), 1, 1 << 40, 1);
    stale.chain.body.cluster = ClusterId(stale.chain.body.cluster.0 ^ 1);
    stale.chain = Signed::sign(&identity(1), stale.chain.body);
    let (a, b) = fed(&mut net, 1, stale);
    assert_eq!(b.dropped.stale, a.dropped.stale + 1);

    // A chain signed by another member than the one it names.
    let forged = heartbeat(&net, 0, &identity(2), 1, 1 << 40, 1);
    let (a, b) = fed(&mut net, 2, forged);
    assert_eq!(b.dropped.bad_signature, a.dropped.bad_signature + 1);

    // A link that is not the chain's, and one past the longest chain.
    let mut bad_link = heartbeat(&net, 0, &identity(1), 1, 1 << 40, 2);
    bad_link.link[0] ^= 1;
    let (a, b) = fed(&mut net, 2, bad_link);
    assert_eq!(b.dropped.bad_signature, a.dropped.bad_signature + 1);
    let mut too_far = heartbeat(&net, 0, &identity(1), 1, 1 << 40, 1);
    too_far.index = HeartbeatChain::MAX_LEN + 1;
    let (a, b) = fed(&mut net, 2, too_far);
    assert_eq!(b.dropped.bad_signature, a.dropped.bad_signature + 1);

    // A valid heartbeat, then the same again: the replay is recognised.
    let valid = heartbeat(&net, 0, &identity(1), 1, 1 << 41, 3);
    let d = frame_for(&net, 0, None, FrameBody::Heartbeat(valid));
    let (a, b) = feed(&mut net, 0, 1, &[d.clone(), d]);
    assert_eq!(b.dropped.duplicate, a.dropped.duplicate + 1);
    // An earlier link of that chain, and a valid link of an older chain, are replays too.
    let earlier = heartbeat(&net, 0, &identity(1), 1, 1 << 41, 2);
    let (a, b) = fed(&mut net, 1, earlier);
    assert_eq!(b.dropped.duplicate, a.dropped.duplicate + 1);
    let older = heartbeat(&net, 0, &identity(1), 1, 1 << 40, 9);
    let (a, b) = fed(&mut net, 1, older);
    assert_eq!(b.dropped.duplicate, a.dropped.duplicate + 1);
    // The next link of the accepted chain is taken.
    let next = heartbeat(&net, 0, &identity(1), 1, 1 << 41, 4);
    let (a, b) = fed(&mut net, 1, next);
    assert_eq!(b.dropped, a.dropped);

    // A frame of another cluster's key, or noise: nothing opens.
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let other = peerster_core::crypto::ClusterKey::generate(&mut rng);
    let noise = frame::seal_frame(&other, &mut rng, 256, b"other cluster").unwrap();
    let (a, b) = feed(&mut net, 0, 1, &[noise]);
    assert_eq!(b.dropped.undecryptable, a.dropped.undecryptable + 1);
}

/// A rollout out of node 0's current epoch, signed by `signer`, naming `leader`, with
/// `members` entries (sealed keys that open for nobody: it is refused before that matters).
fn rollout(net: &Net, signer: usize, members: usize, limit: Option<u16>) -> Flooded {
    let info = net.nodes[0].cluster().unwrap();
    let mut entries: Vec<RolloutEntry> = (0..members)
        .map(|i| RolloutEntry {
            identity: identity(100 + i).public(),
            epoch_key: EpochPublic([9; 32]),
            addr: net.addrs[0].into(),
            joined: Epoch(0),
            sealed_key: BoundedBytes::new(vec![0; SEALED_KEY_LEN]).unwrap(),
        })
        .collect();
    entries.sort_by_key(|e| e.identity.member_id());
    Flooded::Rollout(Signed::sign(
        &identity(signer),
        Rollout {
            cluster: info.id,
            epoch: info.epoch.next(),
            leader: identity(signer).public().member_id(),
            limit,
            members: BoundedVec::new(entries).unwrap(),
            decisions: BoundedVec::default(),
        },
    ))
}

#[test]
fn forged_rollouts_are_dropped() {
    let mut net = cluster();
    let info = net.nodes[0].cluster().unwrap();
    let index_of = |id| {
        (0..5)
            .find(|&i| identity(i).public().member_id() == id)
            .unwrap()
    };

    // Out of turn: the last member of the leader order, right after an epoch began.
    let last = index_of(*info.leader_order.last().unwrap());
    assert!(info.leader_order.len() >= 3);
    let r = rollout(&net, last, 3, info.limit);
    let ds = flooded_frame(&net, 0, &r, 1);
    let (a, b) = feed(&mut net, 0, last, &ds);
    assert_eq!(
        b.dropped.forged_rollout,
        a.dropped.forged_rollout + 1,
        "out of turn"
    );

    // Signed by a node that is not (or no longer) a member.
    let r = rollout(&net, 4, 3, info.limit);
    let ds = flooded_frame(&net, 0, &r, 2);
    let (a, b) = feed(&mut net, 0, 4, &ds);
    assert_eq!(
        b.dropped.forged_rollout,
        a.dropped.forged_rollout + 1,
        "not a member"
    );

    // A table over the cluster's limit (10), from the rightful first leader.
    let first = index_of(info.leader_order[0]);
    let r = rollout(&net, first, 11, info.limit);
    let ds = flooded_frame(&net, 0, &r, 3);
    let (a, b) = feed(&mut net, 0, first, &ds);
    assert_eq!(
        b.dropped.forged_rollout,
        a.dropped.forged_rollout + 1,
        "oversized"
    );

    // The first leader's name, another member's signature.
    let Flooded::Rollout(mut signed) = rollout(&net, first, 3, info.limit) else {
        unreachable!()
    };
    let other = (1..4).find(|&i| i != first).unwrap();
    signed.signature = Signed::sign(&identity(other), signed.body.clone()).signature;
    let ds = flooded_frame(&net, 0, &Flooded::Rollout(signed), 4);
    let (a, b) = feed(&mut net, 0, other, &ds);
    assert_eq!(
        b.dropped.bad_signature,
        a.dropped.bad_signature + 1,
        "bad signature"
    );

    // The rightful first leader, rightly signed, adding members no vote admitted.
    let r = rollout(&net, first, 3, info.limit);
    let ds = flooded_frame(&net, 0, &r, 7);
    let (a, b) = feed(&mut net, 0, first, &ds);
    assert_eq!(
        b.dropped.forged_rollout,
        a.dropped.forged_rollout + 1,
        "members added without a vote"
    );

    // A rollout two epochs ahead, or of another cluster.
    let Flooded::Rollout(signed) = rollout(&net, first, 3, info.limit) else {
        unreachable!()
    };
    let mut ahead = signed.body.clone();
    ahead.epoch = ahead.epoch.next();
    let mut foreign = signed.body;
    foreign.cluster = ClusterId(foreign.cluster.0 ^ 1);
    for (k, body) in [(5u8, ahead), (6, foreign)] {
        let r = Flooded::Rollout(Signed::sign(&identity(first), body));
        let ds = flooded_frame(&net, 0, &r, k);
        let (a, b) = feed(&mut net, 0, first, &ds);
        assert_eq!(b.dropped.stale, a.dropped.stale + 1);
    }
}

#[test]
fn a_welcome_nobody_asked_for_is_dropped() {
    let mut net = cluster();
    let r = rollout(&net, 0, 3, None);
    let bytes = encode_payload(&r).unwrap();
    let fragment = Fragment {
        message: [7; 16],
        index: 0,
        count: 1,
        bytes: BoundedBytes::new(bytes).unwrap_or_default(),
    };
    let welcome = encode_payload(&JoinMessage::Welcome(Welcome { seq: 9, fragment })).unwrap();
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    // Sealed to node 1's node key (it can open it, but asked for nothing)...
    let to_node =
        join_frame::seal_join(&identity(1).node_key().public(), &mut rng, 1200, &welcome).unwrap();
    // ... or to a join key it never made.
    let stranger = peerster_core::crypto::EpochSecret::generate(&mut rng).public();
    let to_stranger = join_frame::seal_join(&stranger, &mut rng, 1200, &welcome).unwrap();
    let (a, b) = feed(&mut net, 1, 0, &[to_node, to_stranger]);
    assert_eq!(b.dropped.unexpected, a.dropped.unexpected + 1);
    assert_eq!(b.dropped.undecryptable, a.dropped.undecryptable + 1);
}
