//! Anonymous traffic in a `cluster_member` run: the packets and whole messages the harness
//! seals to the fuzzed node, and the node's own messages the harness overhears and answers.

use peerster_core::wire;

use super::super::anon_seal::seal_raw_anon;
use super::super::util::fitted;
use super::MemberWorld;
use super::build::cut_bytes;
use super::checks::Heard;
use super::fixture::fixtures;
use super::spec::{
    AnonMessageSpec, AnonPayloadSpec, ClusterChoice, Cutting, PacketSpec, PublicKeyChoice, Signer,
    TagChoice,
};

impl MemberWorld {
    /// The anonymous packet `spec` builds, sealed for the node's cluster; `None` if its key has
    /// low order or its payload does not fit.
    pub(super) fn anon_packet(
        &mut self,
        spec: PacketSpec,
    ) -> Option<peerster_core::wire::anon::AnonPacket> {
        use peerster_core::wire::BoundedBytes;
        use peerster_core::wire::anon::{
            ANON_FRAGMENT_BYTES, ANON_PACKET_LEN, ANON_PLAINTEXT_LEN, AnonAck, AnonPacket,
            AnonPayload, seal_anon,
        };
        use peerster_core::wire::fragment::Fragment;
        use peerster_core::wire::padding;
        match spec {
            PacketSpec::Raw(bytes) => AnonPacket::from_bytes(&fitted(&bytes, ANON_PACKET_LEN)),
            PacketSpec::Known(i) => {
                let packets = &self.anon.packets;
                let n = packets.len();
                (n > 0).then(|| packets[n - 1 - usize::from(i) % n].1.clone())
            }
            PacketSpec::Sealed { to, tag, payload } => {
                let recipient = self.anon_key(&to);
                let tag = self.anon_tag(&tag, &recipient, 0);
                let cluster = self.cluster_id(&ClusterChoice::Real);
                let payload = match payload {
                    AnonPayloadSpec::Fragment {
                        message,
                        index,
                        count,
                        mut bytes,
                    } => {
                        bytes.truncate(ANON_FRAGMENT_BYTES);
                        AnonPayload::Fragment(Fragment {
                            message: self.anon_message_id(&message),
                            index,
                            count,
                            bytes: BoundedBytes::new(bytes).expect("truncated to the bound"),
                        })
                    }
                    AnonPayloadSpec::Ack { message } => AnonPayload::Ack(AnonAck {
                        message: self.anon_message_id(&message),
                    }),
                    AnonPayloadSpec::Ballot(ballot) => AnonPayload::Ballot(self.ballot(ballot)),
                    AnonPayloadSpec::Plaintext { bytes, pad } => {
                        let plaintext = if pad {
                            padding::pad(&bytes, ANON_PLAINTEXT_LEN)?
                        } else {
                            fitted(&bytes, ANON_PLAINTEXT_LEN)
                        };
                        return seal_raw_anon(&mut self.rng, &recipient, cluster, tag, &plaintext);
                    }
                };
                seal_anon(&mut self.rng, &recipient, cluster, tag, &payload).ok()
            }
        }
    }

    /// The fragments of an anonymous message, each sealed to `recipient`.
    pub(super) fn anon_message(
        &mut self,
        recipient: &peerster_core::crypto::EpochPublic,
        tag: &TagChoice,
        spec: AnonMessageSpec,
        cutting: &Cutting,
    ) -> Vec<peerster_core::wire::anon::AnonPacket> {
        use peerster_core::crypto::Signature;
        use peerster_core::wire::BoundedBytes;
        use peerster_core::wire::anon::{
            ANON_FRAGMENT_BYTES, AnonBody, AnonMessage, AnonPayload, AnonSigner, MAX_ANON_TEXT,
            seal_anon, signed_bytes,
        };

        let fx = fixtures();
        if let PublicKeyChoice::Pool(i) = spec.reply_key {
            self.anon.reply_keys |= 1 << (usize::from(i) % fx.secrets.len());
        }
        let message = [cutting.message; 16];
        let thread = self.thread(&spec.thread);
        let reply_key = self.public_key(&spec.reply_key);
        let mut text = spec.text.repeat(1 + usize::from(spec.repeat % 64));
        text.truncate(MAX_ANON_TEXT);
        let body = AnonBody::Text(BoundedBytes::new(text).expect("truncated to the bound"));
        let signer = spec.signer.map(|signer| {
            let key = match signer {
                Signer::Named => &fx.identities[1 - self.me],
                Signer::Pool(i) => &fx.identities[usize::from(i) % fx.identities.len()],
                Signer::Raw(bytes) => {
                    return AnonSigner {
                        identity: fx.identities[1 - self.me].public(),
                        signature: Signature::from_bytes(bytes),
                    };
                }
            };
            let signed = signed_bytes(recipient, &message, &thread, &reply_key, &body);
            AnonSigner {
                identity: key.public(),
                signature: key.sign(&signed),
            }
        });
        let bytes = wire::encode_payload(&AnonMessage {
            thread,
            reply_key,
            body,
            signer,
        })
        .expect("a message encodes");
        let cluster = self.cluster_id(&ClusterChoice::Real);
        let mut packets = Vec::new();
        for (i, piece) in cut_bytes(&bytes, cutting, ANON_FRAGMENT_BYTES)
            .into_iter()
            .enumerate()
        {
            let tag = self.anon_tag(tag, recipient, i);
            let payload = AnonPayload::Fragment(piece);
            match seal_anon(&mut self.rng, recipient, cluster, tag, &payload) {
                Ok(packet) => packets.push(packet),
                // A low-order key.
                Err(_) => break,
            }
        }
        packets
    }

    /// Opens what the node sends in anonymous relays (in a cluster frame the harness opened)
    /// with the fixture secrets in play (handed out as reply keys, or epoch keys of members of
    /// its table), and remembers the messages of the node it finds: their reply keys let the
    /// harness answer.
    pub(super) fn overhear(&mut self, opened: &peerster_core::wire::cluster::ClusterFrame) {
        use peerster_core::wire::anon::{AnonMessage, AnonPayload, open_anon};
        use peerster_core::wire::cluster::FrameBody;

        let FrameBody::Anon(relay) = &opened.body else {
            return;
        };
        if !self.anon.packet(relay.epoch, &relay.packet) {
            return;
        }
        let fx = fixtures();
        let members = self.info().map(|i| i.members).unwrap_or_default();
        let secret = fx
            .secrets
            .iter()
            .zip(&fx.secret_publics)
            .enumerate()
            .filter(|(i, (_, public))| {
                self.anon.reply_keys & (1 << i) != 0
                    || members.iter().any(|m| m.epoch_key == **public)
            })
            .find_map(|(_, (secret, _))| open_anon(secret, opened.cluster, &relay.packet).ok());
        let Some(AnonPayload::Fragment(piece)) = secret else {
            return;
        };
        let message = piece.message;
        self.anon.overheard.expire(self.now);
        let Ok(Some(bytes)) = self.anon.overheard.insert(self.now, piece) else {
            return;
        };
        let decoded = wire::decode_payload::<AnonMessage>(&bytes)
            .expect("the node sends well-formed anonymous messages");
        if self.anon.heard.len() >= 16 {
            self.anon.heard.pop_front();
        }
        self.anon.heard.push_back(Heard {
            message,
            reply_key: decoded.reply_key,
        });
    }
}
