//! The `cluster_payloads` target: any bytes into the decoders of what travels inside
//! cluster and join frames, and fragments into a reassembler.

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use peerster_core::Timestamp;

use super::round_trip::payload_round_trip;

/// Any bytes into the decoders of what travels inside cluster and join frames: never a panic,
/// and whatever decodes re-encodes to the same bytes (one encoding per payload). The first byte
/// picks the type (`% 4`: [`ClusterFrame`], [`Flooded`], [`JoinMessage`], or a sequence of
/// fragments into a reassembler); with bit `0x10` set, a payload that decodes also goes through
/// a sealed frame of the smallest bucket that holds it and back.
///
/// [`ClusterFrame`]: peerster_core::wire::cluster::ClusterFrame
/// [`Flooded`]: peerster_core::wire::cluster::Flooded
/// [`JoinMessage`]: peerster_core::wire::cluster::JoinMessage
pub fn cluster_payloads(data: &[u8]) {
    use peerster_core::wire::cluster::{ClusterFrame, Flooded, JoinMessage};

    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let seal = selector & 0x10 != 0;
    match selector % 4 {
        0 => payload_round_trip::<ClusterFrame>(bytes, seal, false),
        1 => payload_round_trip::<Flooded>(bytes, seal, false),
        2 => payload_round_trip::<JoinMessage>(bytes, seal, true),
        _ => fragments(bytes),
    }
}

/// One input to a [`Reassembler`](peerster_core::wire::fragment::Reassembler).
#[derive(Debug, Arbitrary)]
enum FragmentStep {
    /// An arbitrary fragment.
    Piece {
        message: u8,
        index: u16,
        count: u16,
        len: u16,
        fill: u8,
        advance_ms: u16,
    },
    /// A message split and fed back, rotated.
    Split {
        message: u8,
        payload: Vec<u8>,
        per_fragment: u16,
        rotate: u16,
    },
    /// The clock moves on and old partial messages expire.
    Expire { advance_ms: u16 },
}

/// Fragments into a reassembler with small bounds: never a panic, no message over the byte
/// bound, no more partial messages than allowed; `split` then reassembly in any rotation gives
/// the payload back exactly once.
fn fragments(bytes: &[u8]) {
    use peerster_core::wire::BoundedBytes;
    use peerster_core::wire::fragment::{
        Fragment, MAX_FRAGMENT_BYTES, Reassembler, ReassemblyLimits, split,
    };

    let limits = ReassemblyLimits {
        max_messages: 4,
        max_message_bytes: 4096,
        timeout: Duration::from_secs(1),
        remember_completed: 8,
    };
    let mut input = Unstructured::new(bytes);
    let Ok(steps) = Vec::<FragmentStep>::arbitrary(&mut input) else {
        return;
    };
    let mut now = Timestamp::ZERO;
    let mut reassembler = Reassembler::new(limits);
    for step in steps.into_iter().take(256) {
        match step {
            FragmentStep::Piece {
                message,
                index,
                count,
                len,
                fill,
                advance_ms,
            } => {
                now += Duration::from_millis(advance_ms.into());
                let len = usize::from(len) % (MAX_FRAGMENT_BYTES + 1);
                let fragment = Fragment {
                    message: [message; 16],
                    index,
                    count,
                    bytes: BoundedBytes::new(vec![fill; len]).expect("within the bound"),
                };
                if let Ok(Some(whole)) = reassembler.insert(now, fragment) {
                    assert!(whole.len() <= limits.max_message_bytes);
                }
            }
            FragmentStep::Split {
                message,
                payload,
                per_fragment,
                rotate,
            } => {
                let per = usize::from(per_fragment);
                let Some(mut pieces) = split([message; 16], &payload, per) else {
                    assert!(per == 0 || per > MAX_FRAGMENT_BYTES || payload.len() / per >= 65535);
                    continue;
                };
                let count = pieces.len();
                assert!(count >= 1);
                let joined: Vec<u8> = pieces.iter().flat_map(|p| p.bytes.to_vec()).collect();
                assert_eq!(joined, payload, "split loses or reorders bytes");
                for (i, piece) in pieces.iter().enumerate() {
                    assert_eq!(usize::from(piece.index), i);
                    assert_eq!(usize::from(piece.count), count);
                    assert!(piece.bytes.len() <= per);
                }
                pieces.rotate_left(usize::from(rotate) % count);
                // A fresh reassembler: the message is new to it.
                let mut fresh = Reassembler::new(ReassemblyLimits {
                    max_message_bytes: usize::MAX,
                    ..limits
                });
                let mut whole = None;
                for piece in pieces {
                    if let Some(done) = fresh.insert(now, piece).expect("a piece of a split") {
                        assert!(whole.is_none(), "a message delivered twice");
                        whole = Some(done);
                    }
                }
                assert_eq!(whole.as_deref(), Some(&payload[..]));
                assert_eq!(fresh.pending(), 0);
            }
            FragmentStep::Expire { advance_ms } => {
                now += Duration::from_millis(advance_ms.into());
                reassembler.expire(now);
                assert!(reassembler.next_expiry().is_none_or(|t| t > now));
            }
        }
        assert!(reassembler.pending() <= limits.max_messages);
    }
}
