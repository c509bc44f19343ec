//! Wire tests of votes: pinned bytes, ids, digests, round trips.

use proptest::prelude::*;

use super::*;
use crate::crypto::IdentityKey;
use crate::wire::{BoundedVec, decode_payload, encode_payload};

fn identity(seed: u8) -> IdentityKey {
    IdentityKey::from_secret_bytes([seed; 32])
}

fn admit(joiner: u8) -> ProposalKind {
    ProposalKind::Admit {
        joiner: identity(joiner).public(),
        join_key: EpochPublic([joiner; 32]),
        addr: std::net::SocketAddr::from(([10, 0, 0, joiner], 7000)).into(),
    }
}

fn proposal(kind: ProposalKind) -> Signed<Proposal> {
    let alice = identity(1);
    Signed::sign(
        &alice,
        Proposal {
            cluster: ClusterId(9),
            epoch: Epoch(3),
            proposer: alice.public().member_id(),
            kind,
            verifiable: false,
            electorate: 4,
        },
    )
}

fn tally(authority: u8, yes: u16) -> Signed<Tally> {
    let key = identity(authority);
    Signed::sign(
        &key,
        Tally {
            cluster: ClusterId(9),
            epoch: Epoch(3),
            proposal: ProposalId([5; 16]),
            round: 1,
            authority: key.public().member_id(),
            count: Count {
                yes,
                no: 1,
                authorities_yes: 2,
                authorities_no: 0,
                ballots: digests_hash(&[[1; 16], [2; 16]]),
            },
        },
    )
}

#[test]
fn vote_messages_are_pinned() {
    let ballot = Signed::sign(
        &identity(2),
        Ballot {
            cluster: ClusterId(9),
            epoch: Epoch(3),
            proposal: ProposalId([5; 16]),
            round: 0,
            voter: identity(2).public().member_id(),
            yes: true,
        },
    );
    let examples: Vec<(&str, Vec<u8>)> = vec![
        (
            "proposal_admit",
            encode_payload(&proposal(admit(4))).unwrap(),
        ),
        (
            "proposal_expel",
            encode_payload(&proposal(ProposalKind::Expel {
                member: MemberId([6; 16]),
            }))
            .unwrap(),
        ),
        ("ballot", encode_payload(&ballot).unwrap()),
        (
            "published_tally",
            encode_payload(&PublishedTally {
                tally: tally(3, 2),
                digests: BoundedVec::new(vec![[1; 16], [2; 16]]).unwrap(),
                ballots: BoundedVec::new(vec![ballot]).unwrap(),
            })
            .unwrap(),
        ),
        (
            "decision_accepted",
            encode_payload(&Decision {
                proposal: proposal(admit(4)),
                outcome: Outcome::Accepted(BoundedVec::new(vec![tally(3, 2)]).unwrap()),
            })
            .unwrap(),
        ),
        (
            "decision_failed",
            encode_payload(&Decision {
                proposal: proposal(admit(4)),
                outcome: Outcome::Failed,
            })
            .unwrap(),
        ),
    ];
    for (name, bytes) in examples {
        insta::assert_snapshot!(format!("vote_{name}"), hex::encode(bytes));
    }
}

#[test]
fn a_proposal_id_depends_on_what_it_proposes_only() {
    let a = proposal(admit(4));
    let mut later = a.body.clone();
    later.epoch = Epoch(8);
    later.proposer = MemberId([7; 16]);
    later.verifiable = true;
    assert_eq!(a.body.id(), later.id());
    assert_ne!(a.body.id(), proposal(admit(5)).body.id());
    let mut other_cluster = a.body.clone();
    other_cluster.cluster = ClusterId(10);
    assert_ne!(a.body.id(), other_cluster.id());
    assert_eq!(a.body.kind.subject(), identity(4).public().member_id());
}

#[test]
fn the_ballot_hash_depends_on_every_digest_and_their_order() {
    let a = digests_hash(&[[1; 16], [2; 16]]);
    assert_ne!(a, digests_hash(&[[2; 16], [1; 16]]));
    assert_ne!(a, digests_hash(&[[1; 16]]));
    assert_ne!(a, digests_hash(&[[1; 16], [3; 16]]));
}

proptest! {
    #[test]
    fn tallies_and_decisions_round_trip(yes in any::<u16>(), authorities in 1usize..8, accepted in any::<bool>()) {
        let tallies: Vec<_> = (0..authorities).map(|a| tally(a as u8 + 1, yes)).collect();
        let certificate = BoundedVec::new(tallies).unwrap();
        let decision = Decision {
            proposal: proposal(admit(4)),
            outcome: if accepted { Outcome::Accepted(certificate) } else { Outcome::Rejected(certificate) },
        };
        let bytes = encode_payload(&decision).unwrap();
        prop_assert_eq!(decode_payload::<Decision>(&bytes).unwrap(), decision);
    }
}
