//! Putting cluster and join messages on the wire: encode, pad to a bucket, seal, queue.

use std::net::SocketAddr;

use tracing::warn;

use crate::crypto::{ClusterKey, EpochPublic};
use crate::ids::{ClusterId, Epoch};
use crate::node::Ctx;
use crate::wire::cluster::{ClusterFrame, FrameBody, JoinMessage, PostSync};
use crate::wire::fragment::{self, FRAGMENT_OVERHEAD, Fragment, MessageId};
use crate::wire::{self, frame, join_frame};

/// Room a [`ClusterFrame`] header takes around its body: cluster id and epoch (varints of up to
/// ten bytes each) and the body's tag.
const CLUSTER_FRAME_HEADER: usize = 10 + 10 + 1;

/// Room a [`JoinMessage`] header takes: its tag.
const JOIN_MESSAGE_HEADER: usize = 1;

/// Bytes of a flooded object or welcome carried by one fragment: a fragment with its headers
/// fills the largest padding bucket of either frame kind.
pub(crate) fn fragment_payload(buckets: &[usize]) -> usize {
    let largest = buckets.last().copied().unwrap_or(wire::MAX_DATAGRAM_SIZE);
    let cluster = frame::payload_capacity(largest).saturating_sub(CLUSTER_FRAME_HEADER);
    let join = join_frame::payload_capacity(largest).saturating_sub(JOIN_MESSAGE_HEADER);
    cluster
        .min(join)
        .saturating_sub(FRAGMENT_OVERHEAD)
        .clamp(1, fragment::MAX_FRAGMENT_BYTES)
}

/// Whether a [`PostSync`] fits one frame of the largest of `buckets`.
pub(crate) fn fits_one_frame(
    buckets: &[usize],
    cluster: ClusterId,
    epoch: Epoch,
    sync: &PostSync,
) -> bool {
    let frame = ClusterFrame {
        cluster,
        epoch,
        body: FrameBody::PostSync(sync.clone()),
    };
    let largest = buckets.last().copied().unwrap_or(wire::MAX_DATAGRAM_SIZE);
    wire::encode_payload(&frame).is_ok_and(|p| p.len() <= frame::payload_capacity(largest))
}

/// Seals `body` under `key` as a frame of (`cluster`, `epoch`) and queues it for `to`.
pub(crate) fn send_frame(
    ctx: &mut Ctx<'_>,
    key: &ClusterKey,
    cluster: ClusterId,
    epoch: Epoch,
    to: SocketAddr,
    body: FrameBody,
) {
    send_frame_to_all(ctx, key, cluster, epoch, &[to], body);
}

/// Like [`send_frame`] for each of `targets`: encoded once, sealed for each (every copy has
/// its own nonce, so no two are alike on the wire).
pub(crate) fn send_frame_to_all(
    ctx: &mut Ctx<'_>,
    key: &ClusterKey,
    cluster: ClusterId,
    epoch: Epoch,
    targets: &[SocketAddr],
    body: FrameBody,
) {
    let frame = ClusterFrame {
        cluster,
        epoch,
        body,
    };
    // Our own frames are built within their bounds: failing here is a bug.
    let payload = match wire::encode_payload(&frame) {
        Ok(payload) => payload,
        Err(error) => {
            warn!(%error, "could not encode own cluster frame");
            return;
        }
    };
    for &to in targets {
        let datagram = frame::smallest_bucket(&ctx.config.pad_buckets, payload.len())
            .and_then(|bucket| frame::seal_frame(key, ctx.rng, bucket, &payload));
        match datagram {
            Ok(datagram) => ctx.out.send_datagram(ctx.stats, to, datagram),
            Err(error) => warn!(%error, "could not seal own cluster frame"),
        }
    }
}

/// Splits a flooded object into fragments.
pub(crate) fn fragments(ctx: &Ctx<'_>, message: MessageId, bytes: &[u8]) -> Vec<Fragment> {
    fragment::split(message, bytes, fragment_payload(&ctx.config.pad_buckets)).unwrap_or_default()
}

/// Sends every fragment of a flooded object to each of `targets`, in frames under `key`.
pub(crate) fn send_flooded(
    ctx: &mut Ctx<'_>,
    key: &ClusterKey,
    cluster: ClusterId,
    epoch: Epoch,
    message: MessageId,
    bytes: &[u8],
    targets: &[SocketAddr],
) {
    // Piece by piece: each piece is encoded once for all targets, then sealed per target.
    for piece in fragments(ctx, message, bytes) {
        send_frame_to_all(
            ctx,
            key,
            cluster,
            epoch,
            targets,
            FrameBody::Fragment(piece),
        );
    }
}

/// Seals a join message to `recipient` and queues it for `to`.
pub(crate) fn send_join(
    ctx: &mut Ctx<'_>,
    recipient: &EpochPublic,
    to: SocketAddr,
    message: &JoinMessage,
) {
    let datagram = wire::encode_payload(message).and_then(|payload| {
        let bucket = ctx
            .config
            .pad_buckets
            .iter()
            .copied()
            .find(|&b| join_frame::payload_capacity(b) >= payload.len())
            .ok_or(wire::EncodeError::PayloadTooLarge {
                len: payload.len(),
                max: join_frame::payload_capacity(wire::MAX_DATAGRAM_SIZE),
            })?;
        join_frame::seal_join(recipient, ctx.rng, bucket, &payload)
    });
    match datagram {
        Ok(datagram) => ctx.out.send_datagram(ctx.stats, to, datagram),
        Err(error) => warn!(%error, "could not seal own join message"),
    }
}

/// A fresh random flood id.
pub(crate) fn new_message_id(ctx: &mut Ctx<'_>) -> MessageId {
    let mut id = [0u8; 16];
    rand_core::Rng::fill_bytes(ctx.rng, &mut id);
    id
}
