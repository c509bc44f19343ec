//! What the choices in a `cluster_member` input name, resolved against the fuzzed node's
//! state and the fixtures: cluster ids, epochs, members, identities, keys, addresses,
//! signatures, the threads and messages of anonymous conversations, and votes.

use std::net::SocketAddr;

use super::MemberWorld;
use super::fixture::{fixtures, real_addr};
use super::spec::{
    AddrChoice, AnonKeyChoice, AnonMessageChoice, ClusterChoice, EpochChoice, IdentityChoice,
    KeyChoice, MemberChoice, PublicKeyChoice, RelayEpochChoice, RoundChoice, Signer, TagChoice,
    ThreadChoice, VoteChoice,
};

impl MemberWorld {
    /// What the fuzzed node says of its cluster, if it is in one.
    pub(super) fn info(&self) -> Option<peerster_core::ClusterInfo> {
        self.node.cluster()
    }

    /// The cluster id `choice` names.
    pub(super) fn cluster_id(&self, choice: &ClusterChoice) -> peerster_core::ids::ClusterId {
        use peerster_core::ids::ClusterId;
        match choice {
            ClusterChoice::Real => self.info().map_or(ClusterId(0), |i| i.id),
            ClusterChoice::Other(id) => ClusterId(*id),
        }
    }

    /// The epoch `choice` names, relative to the node's current one (0 out of a cluster).
    pub(super) fn epoch(&self, choice: &EpochChoice) -> peerster_core::ids::Epoch {
        use peerster_core::ids::Epoch;
        let current = self.info().map_or(0, |i| i.epoch.0);
        Epoch(match choice {
            EpochChoice::Current => current,
            EpochChoice::Next => current.saturating_add(1),
            EpochChoice::Previous => current.saturating_sub(1),
            EpochChoice::Other(e) => *e,
        })
    }

    /// The member id `choice` names.
    pub(super) fn member(&self, choice: &MemberChoice) -> peerster_core::ids::MemberId {
        use peerster_core::ids::MemberId;
        let fx = fixtures();
        match choice {
            MemberChoice::Me => self.node.id(),
            MemberChoice::Peer => fx.identities[1 - self.me].public().member_id(),
            MemberChoice::Table(i) => {
                let members = self.info().map(|i| i.members).unwrap_or_default();
                members
                    .get(usize::from(*i) % members.len().max(1))
                    .map_or(self.node.id(), |m| m.id)
            }
            MemberChoice::Pool(i) => fx.identities[usize::from(*i) % fx.identities.len()]
                .public()
                .member_id(),
            MemberChoice::Raw(bytes) => MemberId(*bytes),
        }
    }

    /// The identity `choice` names (an outsider's for bytes that are not a valid key).
    pub(super) fn identity(
        &self,
        choice: &IdentityChoice,
    ) -> peerster_core::crypto::PublicIdentity {
        use peerster_core::crypto::PublicIdentity;
        let fx = fixtures();
        match choice {
            IdentityChoice::Pool(i) => {
                fx.identities[usize::from(*i) % fx.identities.len()].public()
            }
            IdentityChoice::Raw(bytes) => {
                PublicIdentity::from_bytes(*bytes).unwrap_or_else(|_| fx.identities[2].public())
            }
        }
    }

    /// The X25519 public key `choice` names.
    pub(super) fn public_key(
        &self,
        choice: &PublicKeyChoice,
    ) -> peerster_core::crypto::EpochPublic {
        use peerster_core::crypto::EpochPublic;
        let fx = fixtures();
        let members = self.info().map(|i| i.members).unwrap_or_default();
        match choice {
            PublicKeyChoice::MyNodeKey => fx.node_keys[self.me],
            PublicKeyChoice::MyEpochKey => members
                .iter()
                .find(|m| m.id == self.node.id())
                .map_or(fx.node_keys[self.me], |m| m.epoch_key),
            PublicKeyChoice::Member(i) => members
                .get(usize::from(*i) % members.len().max(1))
                .map_or(fx.node_keys[1 - self.me], |m| m.epoch_key),
            PublicKeyChoice::NodeKey(i) => fx.node_keys[usize::from(*i) % fx.node_keys.len()],
            PublicKeyChoice::Pool(i) => fx.secrets[usize::from(*i) % fx.secrets.len()].public(),
            PublicKeyChoice::Raw(bytes) => EpochPublic(*bytes),
        }
    }

    /// The address `choice` names.
    pub(super) fn addr(&self, choice: &AddrChoice) -> SocketAddr {
        match choice {
            AddrChoice::Peer => real_addr(1 - self.me),
            AddrChoice::Member(i) => {
                let members = self.info().map(|i| i.members).unwrap_or_default();
                members
                    .get(usize::from(*i) % members.len().max(1))
                    .map_or(real_addr(1 - self.me), |m| m.addr)
            }
            AddrChoice::Stranger(i) => SocketAddr::from(([10, 0, 1, *i], 7000)),
        }
    }

    /// The cluster key `choice` names (a fresh one if the node holds no such key).
    pub(super) fn cluster_key(&mut self, choice: &KeyChoice) -> peerster_core::crypto::ClusterKey {
        use peerster_core::crypto::ClusterKey;
        match choice {
            KeyChoice::Current => self
                .node
                .cluster_key()
                .unwrap_or_else(|| ClusterKey::generate(&mut self.rng)),
            KeyChoice::Previous(i) => {
                let n = self.keys.len();
                // 0 is the one before the newest.
                let back = 2 + usize::from(*i) % n.max(1);
                self.keys
                    .get(n.saturating_sub(back))
                    .cloned()
                    .unwrap_or_else(|| ClusterKey::generate(&mut self.rng))
            }
            KeyChoice::Random(bytes) => ClusterKey::from_bytes(*bytes),
        }
    }

    /// `body` signed as `signer` chooses ([`Signer::Named`]: by the fixture identity of
    /// `author`, else by the other real node).
    pub(super) fn sign<T: peerster_core::wire::cluster::SignedBody>(
        &self,
        signer: &Signer,
        author: peerster_core::ids::MemberId,
        body: T,
    ) -> peerster_core::wire::cluster::Signed<T> {
        use peerster_core::crypto::Signature;
        use peerster_core::wire::cluster::Signed;
        let fx = fixtures();
        let key = match signer {
            Signer::Named => fx
                .identities
                .iter()
                .find(|k| k.public().member_id() == author)
                .unwrap_or(&fx.identities[1 - self.me]),
            Signer::Pool(i) => &fx.identities[usize::from(*i) % fx.identities.len()],
            Signer::Raw(bytes) => {
                return Signed {
                    body,
                    signature: Signature::from_bytes(*bytes),
                };
            }
        };
        Signed::sign(key, body)
    }

    /// The epoch `choice` has an anonymous relay name.
    pub(super) fn relay_epoch(&self, choice: &RelayEpochChoice) -> peerster_core::ids::Epoch {
        use peerster_core::ids::Epoch;
        match choice {
            RelayEpochChoice::Near(offset) => {
                let current = self.epoch(&EpochChoice::Current);
                Epoch(current.0.saturating_add_signed((*offset).into()))
            }
            RelayEpochChoice::Other(epoch) => Epoch(*epoch),
        }
    }

    /// The key `choice` has an anonymous packet sealed to.
    pub(super) fn anon_key(&self, choice: &AnonKeyChoice) -> peerster_core::crypto::EpochPublic {
        match choice {
            AnonKeyChoice::Key(key) => self.public_key(key),
            AnonKeyChoice::Heard(i) => {
                let heard = &self.anon.heard;
                match heard.get(usize::from(*i) % heard.len().max(1)) {
                    Some(h) => h.reply_key,
                    None => self.public_key(&PublicKeyChoice::MyEpochKey),
                }
            }
        }
    }

    /// The detection tag of the `index`-th packet of a message sealed to `recipient`.
    pub(super) fn anon_tag(
        &self,
        choice: &TagChoice,
        recipient: &peerster_core::crypto::EpochPublic,
        index: usize,
    ) -> peerster_core::wire::anon::DetectionTag {
        use peerster_core::wire::anon::detection_tag;
        match choice {
            TagChoice::Raw(tag) => *tag,
            TagChoice::Answer(i) => detection_tag(recipient, u32::from(*i) + index as u32),
        }
    }

    /// The message `choice` has an anonymous fragment or acknowledgement name.
    pub(super) fn anon_message_id(
        &self,
        choice: &AnonMessageChoice,
    ) -> peerster_core::wire::fragment::MessageId {
        let pick = |i: u8, n: usize| usize::from(i) % n.max(1);
        match choice {
            AnonMessageChoice::Heard(i) => self
                .anon
                .heard
                .get(pick(*i, self.anon.heard.len()))
                .map_or([0; 16], |h| h.message),
            AnonMessageChoice::Sent(i) => self
                .anon
                .sent
                .get(pick(*i, self.anon.sent.len()))
                .map_or([0; 16], |s| s.0),
            AnonMessageChoice::Raw(id) => [*id; 16],
        }
    }

    /// The conversation `choice` names (the default id if the node knows none).
    pub(super) fn thread(&self, choice: &ThreadChoice) -> peerster_core::wire::anon::ThreadId {
        match choice {
            ThreadChoice::Known(i) => {
                let threads = &self.anon.threads;
                threads
                    .get(usize::from(*i) % threads.len().max(1))
                    .copied()
                    .unwrap_or_default()
            }
            ThreadChoice::Raw(thread) => *thread,
        }
    }

    /// The vote `choice` names.
    pub(super) fn proposal_id(&self, choice: &VoteChoice) -> peerster_core::wire::vote::ProposalId {
        match choice {
            VoteChoice::Open(i) => self.open_or_known(*i),
            VoteChoice::Known(i) => {
                let known = &self.votes.known;
                known
                    .get(usize::from(*i) % known.len().max(1))
                    .copied()
                    .unwrap_or_default()
            }
            VoteChoice::Raw(id) => peerster_core::wire::vote::ProposalId(*id),
            VoteChoice::Decision => self.open_or_known(0),
        }
    }

    /// The id of the node's `i`-th open vote, else of the `i`-th vote the harness knows of.
    fn open_or_known(&self, i: u8) -> peerster_core::wire::vote::ProposalId {
        let open = self.node.votes();
        match open.get(usize::from(i) % open.len().max(1)) {
            Some(vote) => vote.id,
            None => {
                let known = &self.votes.known;
                known
                    .get(usize::from(i) % known.len().max(1))
                    .copied()
                    .unwrap_or_default()
            }
        }
    }

    /// The round of vote `proposal` that `choice` names.
    pub(super) fn round(
        &self,
        choice: &RoundChoice,
        proposal: peerster_core::wire::vote::ProposalId,
    ) -> u8 {
        match choice {
            RoundChoice::Current => self
                .node
                .votes()
                .iter()
                .find(|v| v.id == proposal)
                .map_or(0, |v| v.round),
            RoundChoice::Other(round) => *round,
        }
    }
}
