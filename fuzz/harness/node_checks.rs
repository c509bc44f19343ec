//! Checks on any node, shared by the targets that drive one: what it sends
//! ([`check_transmit`]) and what it says of its cluster ([`check_cluster`]).

use peerster_core::wire::{self, MAX_DATAGRAM_SIZE};
use peerster_core::{Node, Timestamp};

/// Checks one datagram a node sent: within the datagram limit, a well-formed packet, and a
/// sealed cluster frame or join frame exactly one of the padding buckets long.
pub(super) fn check_transmit(payload: &[u8], buckets: &[usize]) {
    use peerster_core::wire::Packet;

    assert!(
        payload.len() <= MAX_DATAGRAM_SIZE,
        "a datagram of {} bytes",
        payload.len()
    );
    let packet = wire::decode(payload).expect("a node sends only well-formed packets");
    if matches!(packet, Packet::Sealed(_) | Packet::Join(_)) {
        assert!(
            buckets.contains(&payload.len()),
            "a {} packet of {} bytes, not one of the buckets {buckets:?}",
            packet.kind(),
            payload.len()
        );
    }
}

/// What a node says of its cluster holds together: it is in its own member table, the table
/// is sorted by id without repeats and within the limits, nobody joined after the current
/// epoch, and a rollout it leads opens the next epoch.
pub(super) fn check_cluster(node: &Node, now: Timestamp) {
    let Some(info) = node.cluster() else {
        return;
    };
    let me = node.id();
    assert!(
        info.members.iter().any(|m| m.id == me),
        "the node is not in its own member table: {info:?}"
    );
    assert!(
        info.members.windows(2).all(|w| w[0].id < w[1].id),
        "member table not sorted by id, or with repeats: {info:?}"
    );
    if let Some(limit) = info.limit {
        assert!(
            info.members.len() <= usize::from(limit),
            "{} members over the limit {limit}",
            info.members.len()
        );
    }
    assert!(info.members.len() <= node.config().max_cluster_size);
    for member in &info.members {
        assert_eq!(member.id, member.identity.member_id());
        assert!(
            member.joined <= info.epoch,
            "a member joined in epoch {} after the current {}",
            member.joined,
            info.epoch
        );
    }
    if let Some(leading) = info.leading {
        assert_eq!(
            leading,
            info.epoch.next(),
            "leading a rollout to another epoch"
        );
    }
    assert!(info.epoch_since <= now, "an epoch installed in the future");
}
