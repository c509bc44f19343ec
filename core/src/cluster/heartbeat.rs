//! Heartbeats on hash chains: a member signs the head of a chain once and proves itself alive
//! with each heartbeat by revealing the chain's next link (see [`crate::crypto::hash_chain`]).
//!
//! A signed heartbeat cost its sender a signature and each of its receivers a verification,
//! 49 of them for a member of a cluster of 50 every heartbeat interval; a link costs a hash.
//! What a link proves is what a signed heartbeat proved: its member released it, at the
//! earliest when it sent it to everyone, and no other member can make one up. A member that
//! saw a link can show it to another before its owner's copy arrives, exactly as it could a
//! signed heartbeat; it cannot show a link the owner has not sent.

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::crypto::hash_chain::{self, ChainSalt, Link};
use crate::crypto::memo::Verifier;
use crate::crypto::{HashChain, IdentityKey, PublicIdentity};
use crate::ids::{ClusterId, MemberId};
use crate::wire::cluster::{Heartbeat, HeartbeatChain, Signed};

/// This member's heartbeat chain: the links it has yet to reveal.
#[derive(Debug)]
pub(crate) struct OwnChain {
    /// The generation the next chain will have.
    next_generation: u64,
    /// The current chain, its signed head and the index of the last link revealed; `None`
    /// before the first heartbeat.
    current: Option<(HashChain, Signed<HeartbeatChain>, u32)>,
}

impl OwnChain {
    /// No chain yet; the first will be of `generation`.
    pub(crate) fn new(generation: u64) -> Self {
        OwnChain {
            next_generation: generation,
            current: None,
        }
    }

    /// The generation of the chain in use (or of the first chain to come): what a saved
    /// state keeps, so that a restored member starts above it.
    pub(crate) fn generation(&self) -> u64 {
        match &self.current {
            Some((_, signed, _)) => signed.body.generation,
            None => self.next_generation,
        }
    }

    /// The next heartbeat: the next link of the current chain, or the first of a fresh chain
    /// (signed here) when there is none or it is used up.
    pub(crate) fn next_heartbeat(
        &mut self,
        cluster: ClusterId,
        me: MemberId,
        identity: &IdentityKey,
        rng: &mut impl CryptoRng,
    ) -> Heartbeat {
        let current = match self.current.take() {
            Some(current) if current.2 < current.0.len() => current,
            _ => self.fresh_chain(cluster, me, identity, rng),
        };
        let (chain, signed, revealed) = self.current.insert(current);
        *revealed += 1;
        heartbeat_at(chain, signed, *revealed)
    }

    /// The last heartbeat sent again, `None` before the first: an answer to a probe, which
    /// the prober lacks because it missed it, at no link of the chain.
    pub(crate) fn last_heartbeat(&self) -> Option<Heartbeat> {
        let (chain, signed, revealed) = self.current.as_ref()?;
        (*revealed > 0).then(|| heartbeat_at(chain, signed, *revealed))
    }

    /// A fresh chain of the next generation, its head signed, no link revealed yet.
    fn fresh_chain(
        &mut self,
        cluster: ClusterId,
        me: MemberId,
        identity: &IdentityKey,
        rng: &mut impl CryptoRng,
    ) -> (HashChain, Signed<HeartbeatChain>, u32) {
        let body = HeartbeatChain {
            cluster,
            member: me,
            generation: self.next_generation,
            head: [0; 32],
        };
        let mut seed = [0; 32];
        rng.fill_bytes(&mut seed);
        let chain = HashChain::from_seed(ChainSalt(&body.salt()), HeartbeatChain::MAX_LEN, seed);
        let signed = Signed::sign(
            identity,
            HeartbeatChain {
                head: chain.head(),
                ..body
            },
        );
        self.next_generation = self.next_generation.saturating_add(1);
        (chain, signed, 0)
    }
}

/// The heartbeat that reveals link `index` of `chain`, whose head `signed` signs.
fn heartbeat_at(chain: &HashChain, signed: &Signed<HeartbeatChain>, index: u32) -> Heartbeat {
    Heartbeat {
        chain: signed.clone(),
        index,
        link: chain.link(index).unwrap_or_default(),
        answer: false,
    }
}

/// What a member knows of another member's heartbeat chain: the newest chain it checked and
/// the last link it accepted. (Not the head: a link of the same generation is checked
/// against the last link accepted, which hashes down to the signed head.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ChainView {
    /// The chain's generation.
    pub(crate) generation: u64,
    /// The index of the last link accepted (0 when none yet: `link` is the signed head).
    pub(crate) index: u32,
    /// The last link accepted.
    pub(crate) link: Link,
}

/// Why a heartbeat was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Of another cluster or member than the frame and table say.
    Stale,
    /// Of an older chain, or a link not after the last accepted: a replay or a late copy.
    Replay,
    /// The chain's signature or the link does not hold, or the index is out of range.
    Forged,
}

/// Checks `heartbeat`, claimed by `member` (of `identity`) in `cluster`, against `known`, what
/// this member knew of its chain: on success, what it knows now. A chain newer than the one
/// known costs a signature check (through the host's memo, if any); a link costs at most
/// [`HeartbeatChain::MAX_LEN`] hashes.
pub(crate) fn check(
    heartbeat: &Heartbeat,
    cluster: ClusterId,
    member: MemberId,
    identity: &PublicIdentity,
    known: Option<&ChainView>,
    verifier: Verifier<'_>,
) -> Result<ChainView, Refused> {
    let chain = &heartbeat.chain.body;
    if chain.cluster != cluster || chain.member != member {
        return Err(Refused::Stale);
    }
    if heartbeat.index == 0 || heartbeat.index > HeartbeatChain::MAX_LEN {
        return Err(Refused::Forged);
    }
    let from = match known {
        Some(view) if chain.generation < view.generation => return Err(Refused::Replay),
        Some(view) if chain.generation == view.generation => {
            // The link is checked against the last one accepted, not against the head the
            // heartbeat carries: a head changed within a generation makes no link pass.
            if heartbeat.index <= view.index {
                return Err(Refused::Replay);
            }
            *view
        }
        _ => {
            if heartbeat.chain.verify_with(identity, verifier).is_err() {
                return Err(Refused::Forged);
            }
            ChainView {
                generation: chain.generation,
                index: 0,
                link: chain.head,
            }
        }
    };
    let salt = chain.salt();
    if !hash_chain::verifies(
        ChainSalt(&salt),
        from.index,
        &from.link,
        heartbeat.index,
        &heartbeat.link,
    ) {
        return Err(Refused::Forged);
    }
    Ok(ChainView {
        index: heartbeat.index,
        link: heartbeat.link,
        ..from
    })
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;

    const CLUSTER: ClusterId = ClusterId(5);

    struct Sender {
        key: IdentityKey,
        me: MemberId,
        own: OwnChain,
        rng: ChaCha20Rng,
    }

    impl Sender {
        fn new(generation: u64) -> Self {
            let key = IdentityKey::from_secret_bytes([3; 32]);
            Sender {
                me: key.public().member_id(),
                key,
                own: OwnChain::new(generation),
                rng: ChaCha20Rng::from_seed([9; 32]),
            }
        }

        fn next(&mut self) -> Heartbeat {
            self.own
                .next_heartbeat(CLUSTER, self.me, &self.key, &mut self.rng)
        }

        fn check(
            &self,
            heartbeat: &Heartbeat,
            known: Option<&ChainView>,
        ) -> Result<ChainView, Refused> {
            check(
                heartbeat,
                CLUSTER,
                self.me,
                &self.key.public(),
                known,
                Verifier::default(),
            )
        }
    }

    #[test]
    fn each_heartbeat_is_accepted_once_and_in_order() {
        let mut sender = Sender::new(1);
        let first = sender.next();
        let view = sender.check(&first, None).unwrap();
        assert_eq!((view.generation, view.index), (1, 1));
        assert_eq!(sender.check(&first, Some(&view)), Err(Refused::Replay));
        let second = sender.next();
        let third = sender.next();
        // A lost heartbeat is skipped over; an older one is then a replay.
        let later = sender.check(&third, Some(&view)).unwrap();
        assert_eq!(later.index, 3);
        assert_eq!(sender.check(&second, Some(&later)), Err(Refused::Replay));
    }

    #[test]
    fn the_last_heartbeat_sent_again_is_new_to_whoever_missed_it_and_a_replay_to_the_rest() {
        let mut sender = Sender::new(1);
        // Before any heartbeat there is none to send again (the answer is then the first).
        assert_eq!(sender.own.last_heartbeat(), None);
        let first = sender.next();
        assert_eq!(first.index, 1);
        let heard = sender.check(&first, None).unwrap();
        let second = sender.next();
        let again = sender.own.last_heartbeat().expect("two were sent");
        assert_eq!(again, second);
        // A receiver that missed the second accepts it; one that had it refuses it.
        let caught_up = sender.check(&again, Some(&heard)).unwrap();
        assert_eq!(caught_up.index, 2);
        assert_eq!(sender.check(&again, Some(&caught_up)), Err(Refused::Replay));
        // It used no link: the next heartbeat is the third.
        assert_eq!(sender.next().index, 3);
    }

    #[test]
    fn a_receiver_that_missed_the_start_of_a_chain_checks_a_later_link_from_the_head() {
        let mut sender = Sender::new(1);
        for _ in 0..10 {
            sender.next();
        }
        let eleventh = sender.next();
        let view = sender.check(&eleventh, None).unwrap();
        assert_eq!(view.index, 11);
    }

    #[test]
    fn a_used_up_chain_is_followed_by_a_newer_one_and_the_old_one_is_refused_after() {
        let mut sender = Sender::new(7);
        let first = sender.next();
        let mut view = sender.check(&first, None).unwrap();
        for _ in 1..HeartbeatChain::MAX_LEN {
            let next = sender.next();
            view = sender.check(&next, Some(&view)).unwrap();
        }
        assert_eq!(sender.own.generation(), 7);
        let fresh = sender.next();
        assert_eq!(fresh.chain.body.generation, 8);
        assert_eq!(fresh.index, 1);
        let newer = sender.check(&fresh, Some(&view)).unwrap();
        assert_eq!(sender.check(&first, Some(&newer)), Err(Refused::Replay));
    }

    #[test]
    fn a_forged_link_a_forged_head_or_another_members_chain_is_refused() {
        let mut sender = Sender::new(1);
        let good = sender.next();
        let view = sender.check(&good, None).unwrap();

        let mut next = sender.next();
        next.link[0] ^= 1;
        assert_eq!(sender.check(&next, Some(&view)), Err(Refused::Forged));

        // A chain of the same generation with another head, and a link of it.
        let mut other = sender.next();
        let forger = HashChain::from_seed(ChainSalt(&other.chain.body.salt()), 8, [1; 32]);
        other.chain.body.head = forger.head();
        other.link = forger.link(other.index).unwrap();
        assert_eq!(sender.check(&other, Some(&view)), Err(Refused::Forged));
        // A newer generation that the member did not sign.
        let mut unsigned = good.clone();
        unsigned.chain.body.generation = 2;
        assert_eq!(sender.check(&unsigned, Some(&view)), Err(Refused::Forged));

        // Out of range.
        let mut far = good.clone();
        far.index = HeartbeatChain::MAX_LEN + 1;
        assert_eq!(sender.check(&far, Some(&view)), Err(Refused::Forged));

        // Claimed by another member, or of another cluster.
        let stranger = MemberId([1; 16]);
        let refused = check(
            &good,
            CLUSTER,
            stranger,
            &sender.key.public(),
            None,
            Verifier::default(),
        );
        assert_eq!(refused, Err(Refused::Stale));
        let refused = check(
            &good,
            ClusterId(6),
            sender.me,
            &sender.key.public(),
            None,
            Verifier::default(),
        );
        assert_eq!(refused, Err(Refused::Stale));
    }

    #[test]
    fn a_chain_is_signed_under_the_members_own_key_only() {
        let mut sender = Sender::new(1);
        let heartbeat = sender.next();
        let impostor = IdentityKey::from_secret_bytes([4; 32]).public();
        let refused = check(
            &heartbeat,
            CLUSTER,
            sender.me,
            &impostor,
            None,
            Verifier::default(),
        );
        assert_eq!(refused, Err(Refused::Forged));
    }
}
