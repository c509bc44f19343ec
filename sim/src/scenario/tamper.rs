//! Tamperers: malicious members that alter the anonymous packets they relay, and how the
//! honest members' refusals are counted.
//!
//! A tamperer is a member, so it holds the cluster key. It alternates two attacks on the
//! frames it relays:
//!
//! - **frame**: one bit of the sealed frame flipped; the next hop's AEAD refuses the frame
//!   (counted as `undecryptable` there);
//! - **packet**: the frame opened, one bit of the anonymous packet's ciphertext flipped (its
//!   detection tag left alone) and the frame sealed again under the cluster key, so honest
//!   relays take it and carry it on; only its recipient can tell, and its seal (HPKE) refuses
//!   it: counted as `undecryptable` when it came under a reply key's tag, silently a failed
//!   trial decryption otherwise (a member cannot tell a packet for someone else from a broken
//!   one).

use peerster_core::DropStats;
use peerster_core::crypto::ClusterKey;
use peerster_core::wire::anon::{AnonPacket, DETECTION_TAG_LEN, PacketDigest};
use peerster_core::wire::cluster::{ClusterFrame, FrameBody};
use peerster_core::wire::{encode_payload, frame};
use rand_core::CryptoRng;
use serde::Serialize;

use crate::{NodeIndex, Observer, Simulation};

/// Which attack a tamperer makes on one relayed frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// Flip a bit of the sealed frame.
    Frame,
    /// Flip a bit of the packet inside and seal the frame again.
    Packet,
}

impl Attack {
    /// The attack on a tamperer's `n`-th relayed frame: they alternate.
    pub fn nth(n: usize) -> Attack {
        if n.is_multiple_of(2) {
            Attack::Frame
        } else {
            Attack::Packet
        }
    }
}

/// What the tamperers did and how the honest members took it (the `tampering` object of
/// `report.json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Tampering {
    /// Frames whose seal a tamperer broke.
    pub frames_altered: usize,
    /// Packets a tamperer altered inside a frame it sealed again.
    pub packets_altered: usize,
    /// Honest members' refusals during the workload and settling, summed: frames or packets
    /// no key of theirs opens (this counts other causes too, such as frames of an epoch a
    /// member has not installed yet; compare with a run without tamperers).
    pub undecryptable: u64,
    /// Honest members' refusals of inputs that did not decode.
    pub malformed: u64,
    /// Honest members' refusals of signatures that did not verify.
    pub bad_signature: u64,
}

/// Alters `datagram`, a frame sealed under `key` that carries `inner`, by `attack`. Returns
/// the digest of the altered packet for [`Attack::Packet`] (the packet honest relays now
/// carry), `None` for [`Attack::Frame`] or when the frame could not be sealed again.
pub fn alter<R: CryptoRng + ?Sized>(
    datagram: &mut Vec<u8>,
    key: &ClusterKey,
    inner: ClusterFrame,
    attack: Attack,
    rng: &mut R,
) -> Option<PacketDigest> {
    match attack {
        Attack::Frame => {
            // The middle of the datagram is inside the AEAD ciphertext: the length prefix is
            // at the front and padding keeps frames far larger than it.
            let middle = datagram.len() / 2;
            if let Some(byte) = datagram.get_mut(middle) {
                *byte ^= 0x01;
            }
            None
        }
        Attack::Packet => {
            let ClusterFrame {
                cluster,
                epoch,
                body: FrameBody::Anon(mut relay),
            } = inner
            else {
                return None;
            };
            let mut bytes = *relay.packet.as_bytes();
            // Past the detection tag and the HPKE encapsulated key: inside the ciphertext.
            bytes[DETECTION_TAG_LEN + 32 + 1] ^= 0x01;
            relay.packet = AnonPacket::from_bytes(&bytes)?;
            let digest = relay.packet.digest();
            let frame = ClusterFrame {
                cluster,
                epoch,
                body: FrameBody::Anon(relay),
            };
            let payload = encode_payload(&frame).ok()?;
            *datagram = frame::seal_frame(key, rng, datagram.len(), &payload).ok()?;
            Some(digest)
        }
    }
}

/// The drop counters of `nodes` that are up, summed.
pub fn drops_of<O: Observer>(sim: &Simulation<O>, nodes: &[NodeIndex]) -> DropStats {
    let mut sum = DropStats::default();
    for stats in nodes.iter().filter_map(|&n| sim.node(n)).map(|n| n.stats()) {
        let d = stats.dropped;
        sum.undecryptable += d.undecryptable;
        sum.malformed += d.malformed;
        sum.bad_signature += d.bad_signature;
    }
    sum
}

impl Tampering {
    /// Fills in the honest members' refusals between `before` and `after`.
    pub fn with_drops(mut self, before: &DropStats, after: &DropStats) -> Tampering {
        self.undecryptable = after.undecryptable.saturating_sub(before.undecryptable);
        self.malformed = after.malformed.saturating_sub(before.malformed);
        self.bad_signature = after.bad_signature.saturating_sub(before.bad_signature);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerster_core::ids::{ClusterId, Epoch};
    use peerster_core::wire::anon::{AnonRelay, RelayPhase, TrafficClass};
    use peerster_core::wire::{Packet, decode, decode_payload};
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    fn relay_frame(key: &ClusterKey, rng: &mut ChaCha8Rng) -> (Vec<u8>, ClusterFrame) {
        let frame = ClusterFrame {
            cluster: ClusterId(7),
            epoch: Epoch(3),
            body: FrameBody::Anon(AnonRelay {
                epoch: Epoch(3),
                phase: RelayPhase::Stem { copy: 0 },
                class: TrafficClass::Message,
                packet: AnonPacket::from_bytes(&[9; 512]).unwrap(),
            }),
        };
        let payload = encode_payload(&frame).unwrap();
        let datagram = frame::seal_frame(key, rng, 1200, &payload).unwrap();
        (datagram, frame)
    }

    fn open(key: &ClusterKey, datagram: &[u8]) -> Option<ClusterFrame> {
        let Ok(Packet::Sealed(sealed)) = decode(datagram) else {
            return None;
        };
        decode_payload(&frame::open_frame(key, &sealed).ok()?).ok()
    }

    #[test]
    fn a_broken_seal_no_longer_opens_and_a_resealed_packet_opens_altered() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let key = ClusterKey::generate(&mut rng);
        let (mut datagram, inner) = relay_frame(&key, &mut rng);
        assert!(open(&key, &datagram).is_some());
        let len = datagram.len();
        assert_eq!(
            alter(&mut datagram, &key, inner.clone(), Attack::Frame, &mut rng),
            None
        );
        assert_eq!(datagram.len(), len);
        assert!(open(&key, &datagram).is_none(), "the AEAD refuses it");

        let (mut datagram, inner) = relay_frame(&key, &mut rng);
        let digest = alter(&mut datagram, &key, inner.clone(), Attack::Packet, &mut rng);
        assert_eq!(datagram.len(), len, "the same size on the wire");
        let opened = open(&key, &datagram).expect("a member still opens the frame");
        let (FrameBody::Anon(before), FrameBody::Anon(after)) = (inner.body, opened.body) else {
            panic!("not an anonymous relay");
        };
        assert_ne!(before.packet, after.packet);
        assert_eq!(before.packet.tag(), after.packet.tag(), "the tag is kept");
        assert_eq!(digest, Some(after.packet.digest()));
    }
}
