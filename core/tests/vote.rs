//! Votes on a handful of hand-wired members: forged, foreign and second ballots are not
//! counted, and in verifiable mode a lying authority is named.

mod common;

use std::time::Duration;

use common::{Net, settled_cluster};
use peerster_core::crypto::IdentityKey;
use peerster_core::wire::anon::{AnonPayload, seal_anon};
use peerster_core::wire::cluster::{ClusterFrame, FrameBody, Signed};
use peerster_core::wire::vote::{Ballot, ProposalId};
use peerster_core::wire::{encode_payload, frame};
use peerster_core::{AutoVote, Config, Event, Stats, VoteOutcome};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// The identity `Net` gives node `i`.
fn identity(i: usize) -> IdentityKey {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&(i as u64).to_le_bytes());
    IdentityKey::from_secret_bytes(id)
}

/// A ballot frame from `from` to `to`, carrying `ballot` sealed to `to`'s epoch key.
fn ballot_frame(net: &Net, to: usize, ballot: &Signed<Ballot>) -> Vec<u8> {
    let info = net.nodes[to].cluster().unwrap();
    let key = net.nodes[to].cluster_key().unwrap();
    let recipient = info
        .members
        .iter()
        .find(|m| m.id == net.nodes[to].id())
        .unwrap()
        .epoch_key;
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let packet = seal_anon(
        &mut rng,
        &recipient,
        info.id,
        [0; 16],
        &AnonPayload::Ballot(ballot.clone()),
    )
    .unwrap();
    let payload = encode_payload(&ClusterFrame {
        cluster: info.id,
        epoch: info.epoch,
        body: FrameBody::Ballot(packet),
    })
    .unwrap();
    let bucket = frame::smallest_bucket(&[256, 640, 1200], payload.len()).unwrap();
    frame::seal_frame(&key, &mut rng, bucket, &payload).unwrap()
}

fn deliver(net: &mut Net, to: usize, from: usize, datagram: &[u8]) -> (Stats, Stats) {
    let before = net.nodes[to].stats();
    let (now, addr) = (net.now, net.addrs[from]);
    net.nodes[to].handle_datagram(now, addr, datagram);
    (before, net.nodes[to].stats())
}

#[test]
fn forged_foreign_and_second_ballots_are_not_counted() {
    let config = Config {
        auto_vote: AutoVote::Ask,
        ..Config::default()
    };
    let mut net = settled_cluster(5, 1, config);
    let subject = net.nodes[4].id();
    let now = net.now;
    let proposal = net.nodes[0].expel(now, subject).unwrap();
    net.run_for(Duration::from_millis(200));
    let vote = net.nodes[1].votes().pop().expect("node 1 sees the vote");
    assert_eq!((vote.id, vote.round), (proposal, 0));
    // An authority other than the voters the test plays.
    let authority = (0..5)
        .find(|&i| i != 1 && i != 2 && vote.authorities.contains(&net.nodes[i].id()))
        .expect("three of five are drawn");
    let info = net.nodes[authority].cluster().unwrap();
    let ballot = |voter: usize, signer: usize, proposal: ProposalId, round: u8, yes: bool| {
        Signed::sign(
            &identity(signer),
            Ballot {
                cluster: info.id,
                epoch: info.epoch,
                proposal,
                round,
                voter: identity(voter).public().member_id(),
                yes,
            },
        )
    };

    let forged = ballot_frame(&net, authority, &ballot(1, 2, proposal, 0, false));
    let (a, b) = deliver(&mut net, authority, 2, &forged);
    assert_eq!(
        b.dropped.bad_signature,
        a.dropped.bad_signature + 1,
        "signed by another"
    );

    let stranger = ballot_frame(&net, authority, &ballot(9, 9, proposal, 0, false));
    let (a, b) = deliver(&mut net, authority, 2, &stranger);
    assert_eq!(
        b.dropped.not_member,
        a.dropped.not_member + 1,
        "not a member"
    );

    // Another vote, or a round more than two ahead: stale.
    for (other, round) in [(ProposalId([7; 16]), 0), (proposal, 3)] {
        let foreign = ballot_frame(&net, authority, &ballot(2, 2, other, round, false));
        let (a, b) = deliver(&mut net, authority, 2, &foreign);
        assert_eq!(
            b.dropped.stale,
            a.dropped.stale + 1,
            "another vote or round"
        );
    }
    // A ballot of the next round is kept until the authority gets there: neither counted
    // now nor dropped.
    let early = ballot_frame(&net, authority, &ballot(2, 2, proposal, 1, false));
    let (a, b) = deliver(&mut net, authority, 2, &early);
    assert_eq!(b.dropped, a.dropped, "kept for its round");
    let vote = net.nodes[authority].votes().pop().expect("still open");
    assert_eq!(vote.round, 0);

    // Node 1 votes yes; a second, different ballot of its own is not counted.
    let now = net.now;
    net.nodes[1].vote(now, proposal, true).unwrap();
    net.run_for(Duration::from_millis(200));
    let second = ballot_frame(&net, authority, &ballot(1, 1, proposal, 0, false));
    let (a, b) = deliver(&mut net, authority, 1, &second);
    assert_eq!(
        b.dropped.second_ballot,
        a.dropped.second_ballot + 1,
        "second ballot"
    );

    // Everyone else votes yes: the expulsion passes, counted from the genuine ballots only.
    for voter in [0, 2, 3, 4] {
        let now = net.now;
        net.nodes[voter].vote(now, proposal, true).unwrap();
    }
    net.run_for(Duration::from_secs(5));
    for member in 0..4 {
        assert!(
            net.events.iter().any(|(n, e)| *n == member
                && matches!(
                    e,
                    Event::VoteClosed {
                        proposal: p,
                        outcome: VoteOutcome::Accepted,
                        ..
                    } if *p == proposal
                )),
            "member {member} applied the expulsion"
        );
        assert!(
            net.nodes[member]
                .cluster()
                .unwrap()
                .members
                .iter()
                .all(|m| m.id != subject)
        );
    }
}

#[test]
fn in_verifiable_mode_a_lying_authority_is_named() {
    let config = Config {
        auto_vote: AutoVote::Ask,
        verifiable_votes: true,
        ..Config::default()
    };
    let mut net = settled_cluster(5, 2, config);
    let subject = net.nodes[4].id();
    let now = net.now;
    let proposal = net.nodes[0].expel(now, subject).unwrap();
    net.run_for(Duration::from_millis(200));
    let vote = net.nodes[0].votes().pop().expect("open");
    let liar = (1..4)
        .find(|&i| vote.authorities.contains(&net.nodes[i].id()))
        .expect("an authority among nodes 1 to 3");
    net.nodes[liar].set_lying(true);
    for voter in 0..5 {
        let now = net.now;
        net.nodes[voter].vote(now, proposal, true).unwrap();
    }
    net.run_for(Duration::from_secs(3));
    let liar_id = net.nodes[liar].id();
    let named: Vec<usize> = net
        .events
        .iter()
        .filter(|(_, e)| {
            matches!(e, Event::AuthorityMiscounted { authority, .. } if *authority == liar_id)
        })
        .map(|(n, _)| *n)
        .collect();
    assert!(
        (0..5).filter(|n| *n != liar).all(|n| named.contains(&n)),
        "every honest member named the liar: {named:?}"
    );
    assert!(net.nodes[0].stats().vote_redraws >= 1);
}

/// Proposing again what was just voted on is refused with its reason, not reported as a vote
/// that never opens (every member would drop the same proposal as a replay).
#[test]
fn a_proposal_just_voted_on_is_refused_not_silently_dropped() {
    let config = Config {
        auto_vote: AutoVote::Ask,
        ..Config::default()
    };
    let mut net = settled_cluster(3, 4, config);
    let subject = net.nodes[2].id();
    let now = net.now;
    let proposal = net.nodes[0].expel(now, subject).expect("a member");
    net.run_for(Duration::from_millis(200));
    for voter in 0..3 {
        let now = net.now;
        net.nodes[voter].vote(now, proposal, false).expect("open");
    }
    net.run_for(Duration::from_secs(10));
    assert!(
        net.events.iter().any(|(n, e)| *n == 0
            && matches!(e, Event::VoteClosed { proposal: p, outcome: VoteOutcome::Rejected, .. } if *p == proposal)),
        "the members said no"
    );
    let now = net.now;
    assert_eq!(
        net.nodes[0].expel(now, subject),
        Err(peerster_core::CommandError::VotedRecently)
    );
}
