//! The frame bodies, flooded objects (rollouts with their sealed keys and the votes they
//! close among them) and join messages that the specs of a `cluster_member` input describe,
//! and how a flooded object is cut into the fragments delivered.

use peerster_core::wire;

use super::MemberWorld;
use super::spec::{
    BodySpec, ClusterChoice, Cutting, DecisionSpec, EntrySpec, EpochChoice, FloodSpec, JoinSpec,
    LimitChoice, MemberChoice, Signer,
};

impl MemberWorld {
    /// The frame body `spec` builds; `None` if it names an anonymous packet that cannot be
    /// sealed.
    pub(super) fn body(
        &mut self,
        spec: BodySpec,
    ) -> Option<peerster_core::wire::cluster::FrameBody> {
        use peerster_core::wire::anon::{AnonRelay, AnonSync, TrafficClass};
        use peerster_core::wire::cluster::{
            AuthorHead, FrameBody, Heartbeat, HeartbeatChain, KeyOffer, KeyRequest, PostPosition,
            PostSync,
        };
        use peerster_core::wire::fragment::{Fragment, MAX_FRAGMENT_BYTES};
        use peerster_core::wire::{BoundedBytes, BoundedVec};
        Some(match spec {
            BodySpec::Heartbeat {
                signer,
                cluster,
                member,
                generation,
                index,
                corrupt,
                answer,
            } => {
                use peerster_core::crypto::HashChain;
                use peerster_core::crypto::hash_chain::ChainSalt;
                let member = self.member(&member);
                let body = HeartbeatChain {
                    cluster: self.cluster_id(&cluster),
                    member,
                    generation,
                    head: [0; 32],
                };
                let seed = [generation as u8; 32];
                let chain =
                    HashChain::from_seed(ChainSalt(&body.salt()), HeartbeatChain::MAX_LEN, seed);
                let mut link = chain.link(index).unwrap_or_default();
                link[0] ^= u8::from(corrupt);
                let head = chain.head();
                FrameBody::Heartbeat(Heartbeat {
                    chain: self.sign(&signer, member, HeartbeatChain { head, ..body }),
                    index,
                    link,
                    answer,
                })
            }
            BodySpec::Fragment {
                message,
                index,
                count,
                mut bytes,
            } => {
                bytes.truncate(MAX_FRAGMENT_BYTES);
                FrameBody::Fragment(Fragment {
                    message: [message; 16],
                    index,
                    count,
                    bytes: BoundedBytes::new(bytes).expect("truncated to the bound"),
                })
            }
            BodySpec::KeyRequest { leader, target } => FrameBody::KeyRequest(KeyRequest {
                leader: self.member(&leader),
                target: self.epoch(&target),
            }),
            BodySpec::KeyOffer {
                signer,
                cluster,
                target,
                leader,
                member,
                key,
            } => {
                let member = self.member(&member);
                let offer = KeyOffer {
                    cluster: self.cluster_id(&cluster),
                    target: self.epoch(&target),
                    leader: self.member(&leader),
                    member,
                    key: self.public_key(&key),
                };
                FrameBody::KeyOffer(self.sign(&signer, member, offer))
            }
            BodySpec::PostSync {
                member,
                first,
                last,
                heads,
                reply_wanted,
            } => FrameBody::PostSync(PostSync {
                member: self.member(&member),
                first,
                last,
                heads: BoundedVec::truncating(
                    heads
                        .iter()
                        .map(|(index, epoch, seq)| AuthorHead {
                            index: *index,
                            head: PostPosition {
                                epoch: self.epoch(epoch),
                                seq: *seq,
                            },
                        })
                        .collect(),
                ),
                reply_wanted,
            }),
            BodySpec::Anon {
                epoch,
                phase,
                realtime,
                packet,
            } => {
                let epoch = self.relay_epoch(&epoch);
                let packet = self.anon_packet(packet)?;
                self.anon.packet(epoch, &packet);
                FrameBody::Anon(AnonRelay {
                    epoch,
                    phase: phase.phase(),
                    class: if realtime {
                        TrafficClass::Realtime
                    } else {
                        TrafficClass::Message
                    },
                    packet,
                })
            }
            BodySpec::Cover { packet } => FrameBody::Cover(self.anon_packet(packet)?),
            BodySpec::AnonSync {
                member,
                total,
                fingerprint,
                from,
                mut ids,
                known,
                sorted,
                to_end,
                reply_wanted,
            } => {
                let packets = &self.anon.packets;
                ids.extend(
                    packets
                        .iter()
                        .rev()
                        .take(8)
                        .enumerate()
                        .filter(|(i, _)| known & (1 << i) != 0)
                        .map(|(_, (_, packet))| packet.digest().short()),
                );
                if sorted {
                    ids.sort_unstable();
                    ids.dedup();
                }
                ids.truncate(AnonSync::MAX);
                FrameBody::AnonSync(AnonSync {
                    member: self.member(&member),
                    total: total.unwrap_or(ids.len() as u32),
                    fingerprint: fingerprint.unwrap_or(ids.iter().fold(0, |x, id| x ^ id)),
                    from,
                    ids: BoundedVec::truncating(ids),
                    to_end,
                    reply_wanted,
                })
            }
            BodySpec::Ballot { packet } => {
                let packet = self.anon_packet(packet)?;
                let epoch = self.epoch(&EpochChoice::Current);
                self.anon.packet(epoch, &packet);
                FrameBody::Ballot(packet)
            }
        })
    }

    /// The flooded object `spec` builds; `None` if it names an overheard one and the harness
    /// overheard none.
    pub(super) fn flooded(
        &mut self,
        spec: FloodSpec,
    ) -> Option<peerster_core::wire::cluster::Flooded> {
        use peerster_core::wire::BoundedBytes;
        use peerster_core::wire::cluster::{Flooded, Leave, MAX_POST_BYTES, Post, PostPosition};
        Some(match spec {
            FloodSpec::Post {
                signer,
                cluster,
                author,
                epoch,
                seq,
                prev,
                mut text,
            } => {
                let author = self.member(&author);
                text.truncate(MAX_POST_BYTES);
                let post = Post {
                    cluster: self.cluster_id(&cluster),
                    author,
                    position: PostPosition {
                        epoch: self.epoch(&epoch),
                        seq,
                    },
                    prev: prev.map(|(epoch, seq)| PostPosition {
                        epoch: self.epoch(&epoch),
                        seq,
                    }),
                    text: BoundedBytes::new(text).expect("truncated to the bound"),
                };
                Flooded::Post(self.sign(&signer, author, post))
            }
            FloodSpec::Rollout {
                signer,
                cluster,
                epoch,
                leader,
                limit,
                drop,
                extra,
                unsorted,
                decisions,
                follow,
            } => Flooded::Rollout(self.rollout(
                signer, cluster, epoch, leader, limit, drop, extra, unsorted, decisions, follow,
            )),
            FloodSpec::Proposal(spec) => Flooded::Proposal(self.proposal(spec)),
            FloodSpec::Tally(spec) => Flooded::Tally(Box::new(self.tally(spec, None))),
            FloodSpec::Heard(i) => return self.heard_flood(i),
            FloodSpec::Leave {
                signer,
                cluster,
                epoch,
                member,
            } => {
                let member = self.member(&member);
                let leave = Leave {
                    cluster: self.cluster_id(&cluster),
                    epoch: self.epoch(&epoch),
                    member,
                };
                Flooded::Leave(self.sign(&signer, member, leave))
            }
        })
    }

    /// A rollout with a fresh cluster key sealed, as the protocol does, to each member's epoch
    /// key: the members of the node's table (but those `drop` leaves out) and the `extra` ones,
    /// left `unsorted` or not; closing the votes `decisions` describes and, if `follow`, with the
    /// joiners they admit and without the members they expel.
    #[allow(clippy::too_many_arguments)]
    fn rollout(
        &mut self,
        signer: Signer,
        cluster: ClusterChoice,
        epoch: EpochChoice,
        leader: MemberChoice,
        limit: LimitChoice,
        drop: u8,
        extra: Vec<EntrySpec>,
        unsorted: bool,
        decisions: Vec<DecisionSpec>,
        follow: bool,
    ) -> peerster_core::wire::cluster::Signed<peerster_core::wire::cluster::Rollout> {
        use peerster_core::crypto::{ClusterKey, EpochPublic, PublicIdentity, seal_to};
        use peerster_core::ids::Epoch;
        use peerster_core::wire::cluster::{Rollout, RolloutEntry};
        use peerster_core::wire::vote::{Outcome, ProposalKind};
        use peerster_core::wire::{BoundedBytes, BoundedVec, PeerAddr};

        let info = self.info();
        let cluster = self.cluster_id(&cluster);
        let epoch = self.epoch(&epoch);
        let leader = self.member(&leader);
        let limit = match limit {
            LimitChoice::Same => info.as_ref().and_then(|i| i.limit),
            LimitChoice::Other(l) => l,
        };
        let mut members: Vec<(PublicIdentity, EpochPublic, PeerAddr, Epoch, bool)> = info
            .iter()
            .flat_map(|i| i.members.iter())
            .enumerate()
            .filter(|(i, _)| *i >= 8 || drop & (1 << i) == 0)
            .map(|(_, m)| (m.identity, m.epoch_key, m.addr.into(), m.joined, false))
            .collect();
        for entry in extra.iter().take(4) {
            members.push((
                self.identity(&entry.identity),
                self.public_key(&entry.epoch_key),
                self.addr(&entry.addr).into(),
                self.epoch(&entry.joined),
                entry.garbage_key,
            ));
        }
        let decisions: Vec<_> = decisions
            .into_iter()
            .take(3)
            .map(|d| self.decision(d))
            .collect();
        for decision in decisions.iter().filter(|_| follow) {
            if !matches!(decision.outcome, Outcome::Accepted(_)) {
                continue;
            }
            match &decision.proposal.body.kind {
                ProposalKind::Admit {
                    joiner,
                    join_key,
                    addr,
                } => members.push((*joiner, *join_key, *addr, epoch, false)),
                ProposalKind::Expel { member } => members.retain(|m| m.0.member_id() != *member),
            }
        }
        if !unsorted {
            members.sort_by_key(|m| m.0.member_id());
            members.dedup_by_key(|m| m.0.member_id());
        }
        let key = ClusterKey::generate(&mut self.rng);
        let entries = members
            .into_iter()
            .map(|(identity, epoch_key, addr, joined, garbage)| {
                let mut aad = Vec::with_capacity(32);
                aad.extend_from_slice(&cluster.0.to_be_bytes());
                aad.extend_from_slice(&epoch.0.to_be_bytes());
                aad.extend_from_slice(&identity.member_id().0);
                let sealed = if garbage {
                    vec![0x5a; 80]
                } else {
                    seal_to(
                        &mut self.rng,
                        &epoch_key,
                        b"peerster/rollout-key/v1",
                        &aad,
                        key.as_bytes(),
                    )
                    .unwrap_or_default()
                };
                RolloutEntry {
                    identity,
                    epoch_key,
                    addr,
                    joined,
                    sealed_key: BoundedBytes::new(sealed).unwrap_or_default(),
                }
            })
            .collect();
        let rollout = Rollout {
            cluster,
            epoch,
            leader,
            limit,
            members: BoundedVec::truncating(entries),
            decisions: BoundedVec::truncating(decisions),
        };
        self.sign(&signer, leader, rollout)
    }

    /// The join messages `spec` builds (a welcome: one per fragment delivered).
    pub(super) fn join_message(
        &mut self,
        spec: JoinSpec,
    ) -> Vec<peerster_core::wire::cluster::JoinMessage> {
        use peerster_core::wire::BoundedBytes;
        use peerster_core::wire::cluster::{
            JoinMessage, JoinRefusal, JoinRequest, RefusalReason, Welcome,
        };
        use peerster_core::wire::fragment::{Fragment, MAX_FRAGMENT_BYTES};
        match spec {
            JoinSpec::Request {
                signer,
                joiner,
                contact,
                contact_addr,
                join_key,
            } => {
                let joiner = self.identity(&joiner);
                let request = JoinRequest {
                    joiner,
                    contact: self.member(&contact),
                    contact_addr: self.addr(&contact_addr).into(),
                    join_key: self.public_key(&join_key),
                };
                let signed = self.sign(&signer, joiner.member_id(), request);
                vec![JoinMessage::Request(Box::new(signed))]
            }
            JoinSpec::Refusal {
                signer,
                contact,
                join_key,
                reason,
            } => {
                let contact = self.member(&contact);
                let refusal = JoinRefusal {
                    contact,
                    join_key: self.public_key(&join_key),
                    reason: [
                        RefusalReason::NotInCluster,
                        RefusalReason::Full,
                        RefusalReason::Declined,
                    ][usize::from(reason) % 3],
                };
                vec![JoinMessage::Refusal(self.sign(&signer, contact, refusal))]
            }
            JoinSpec::Welcome {
                seq,
                object,
                cutting,
            } => {
                let Some(flooded) = self.flooded(object) else {
                    return Vec::new();
                };
                cut(&flooded, &cutting)
                    .into_iter()
                    .map(|fragment| JoinMessage::Welcome(Welcome { seq, fragment }))
                    .collect()
            }
            JoinSpec::RawWelcome {
                seq,
                message,
                index,
                count,
                mut bytes,
            } => {
                bytes.truncate(MAX_FRAGMENT_BYTES);
                let fragment = Fragment {
                    message: [message; 16],
                    index,
                    count,
                    bytes: BoundedBytes::new(bytes).expect("truncated to the bound"),
                };
                vec![JoinMessage::Welcome(Welcome { seq, fragment })]
            }
        }
    }
}

/// Bytes of a flooded object per fragment, so that a fragment in a cluster frame (or a join
/// frame) fits the largest bucket.
const FRAGMENT_ROOM: usize = 1107;

/// Encodes a flooded object and cuts it into the fragments `cutting` delivers.
pub(super) fn cut(
    flooded: &peerster_core::wire::cluster::Flooded,
    cutting: &Cutting,
) -> Vec<peerster_core::wire::fragment::Fragment> {
    let bytes = wire::encode_payload(flooded).expect("a flooded object encodes");
    cut_bytes(&bytes, cutting, FRAGMENT_ROOM)
}

/// Cuts `bytes` into the fragments of at most `room` bytes that `cutting` delivers.
pub(super) fn cut_bytes(
    bytes: &[u8],
    cutting: &Cutting,
    room: usize,
) -> Vec<peerster_core::wire::fragment::Fragment> {
    let per = match usize::from(cutting.per_fragment) {
        0 => room,
        n => n.min(room),
    };
    let Some(mut pieces) = wire::fragment::split([cutting.message; 16], bytes, per) else {
        return Vec::new();
    };
    let mut i = 0;
    pieces.retain(|_| {
        let skip = i < 8 && cutting.skip & (1 << i) != 0;
        i += 1;
        !skip
    });
    if cutting.reverse {
        pieces.reverse();
    }
    // A flood of more fragments than this is slow and no more interesting.
    pieces.truncate(64);
    pieces
}
