//! Replays every input in `fuzz/regressions/<target>/` through its fuzz target's checks, so a
//! bug the fuzzer once found stays fixed.

#[path = "../../fuzz/harness/mod.rs"]
mod harness;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("regressions folder exists") {
        let path = entry.expect("readable entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') || name.ends_with(".md") {
            continue;
        }
        let data = std::fs::read(&path).expect("readable input");
        eprintln!("replaying {}", path.display());
        check(&data);
        replayed += 1;
    }
    replayed
}

#[test]
fn decode_regressions_stay_fixed() {
    replay("decode", harness::decode);
}

#[test]
fn node_datagram_regressions_stay_fixed() {
    replay("node_datagram", harness::node_datagram);
}

#[test]
fn overlay_packets_regressions_stay_fixed() {
    replay("overlay_packets", harness::overlay_packets);
}

#[test]
fn cluster_payloads_regressions_stay_fixed() {
    replay("cluster_payloads", harness::cluster_payloads);
}

#[test]
fn cluster_member_regressions_stay_fixed() {
    replay("cluster_member", harness::cluster_member);
}

#[test]
fn anon_payloads_regressions_stay_fixed() {
    replay("anon_payloads", harness::anon_payloads);
}

#[test]
fn call_payloads_regressions_stay_fixed() {
    replay("call_payloads", harness::call_payloads);
}

/// Valid call signals and voice payloads, sealed voice packets, and garbage.
fn call_payloads_on_handmade_inputs() {
    use peerster_core::crypto::EpochPublic;
    use peerster_core::wire::anon::ANON_PACKET_LEN;
    use peerster_core::wire::call::{CallSignal, VoiceFrame, VoicePayload};
    use peerster_core::wire::{BoundedBytes, BoundedVec, encode_payload};

    let offer = CallSignal::Offer {
        key: EpochPublic([3; 32]),
    };
    for selector in [0u8, 0x10] {
        harness::call_payloads(&[&[selector][..], &encode_payload(&offer).unwrap()].concat());
    }
    let voice = VoicePayload {
        frames: BoundedVec::new(vec![VoiceFrame {
            seq: 7,
            timestamp: 7 * 960,
            data: BoundedBytes::new(vec![1; 60]).unwrap(),
        }])
        .unwrap(),
    };
    let index = 9u32.to_be_bytes();
    harness::call_payloads(&[&[1][..], &index, &encode_payload(&voice).unwrap()].concat());
    harness::call_payloads(&[&[1][..], &index, &[0]].concat());
    harness::call_payloads(&[2; ANON_PACKET_LEN + 1]);
    harness::call_payloads(&(0..=255).collect::<Vec<u8>>());
}

#[test]
fn harness_runs_on_handmade_inputs() {
    // The harness itself must work on ordinary inputs, or the replays above prove nothing.
    harness::decode(&[1, 3, 5]);
    harness::decode(&[]);
    harness::node_datagram(&[0; 64]);
    harness::node_datagram(&(0..=255).collect::<Vec<u8>>());
    harness::overlay_packets(&[0; 64]);
    harness::overlay_packets(&(0..=255).rev().collect::<Vec<u8>>());
    cluster_payloads_on_handmade_inputs();
    cluster_member_on_handmade_inputs();
    voting_member_on_handmade_inputs();
    anon_payloads_on_handmade_inputs();
    anonymous_member_on_handmade_inputs();
    call_payloads_on_handmade_inputs();
    calling_member_on_handmade_inputs();
}

/// Valid anonymous payloads of each kind, a packet, and a sealed plaintext.
fn anon_payloads_on_handmade_inputs() {
    use peerster_core::crypto::{EpochPublic, IdentityKey};
    use peerster_core::ids::{ClusterId, Epoch, MemberId};
    use peerster_core::wire::anon::{
        AnonAck, AnonBody, AnonMessage, AnonPacket, AnonPayload, AnonRelay, AnonSigner, AnonSync,
        RelayPhase, TrafficClass,
    };
    use peerster_core::wire::cluster::{ClusterFrame, FrameBody};
    use peerster_core::wire::{BoundedBytes, BoundedVec, encode_payload};

    let relay = AnonRelay {
        epoch: Epoch(6),
        phase: RelayPhase::Fluff { hops: 3 },
        class: TrafficClass::Message,
        packet: AnonPacket::from_bytes(&[0x42; 512]).unwrap(),
    };
    let sync = AnonSync {
        member: MemberId([8; 16]),
        total: 2,
        fingerprint: 1 ^ 5,
        from: 0,
        ids: BoundedVec::new(vec![1, 5]).unwrap(),
        to_end: true,
        reply_wanted: true,
    };
    let ack = AnonPayload::Ack(AnonAck { message: [4; 16] });
    let identity = IdentityKey::from_secret_bytes([3; 32]);
    let message = AnonMessage {
        thread: [7; 16],
        reply_key: EpochPublic([9; 32]),
        body: AnonBody::Text(BoundedBytes::new(vec![b'x'; 1000]).unwrap()),
        signer: Some(AnonSigner {
            identity: identity.public(),
            signature: identity.sign(b"not what it should sign"),
        }),
    };
    let frame = ClusterFrame {
        cluster: ClusterId(7),
        epoch: Epoch(6),
        body: FrameBody::Anon(relay.clone()),
    };
    let payloads = [
        encode_payload(&relay).unwrap(),
        encode_payload(&sync).unwrap(),
        encode_payload(&ack).unwrap(),
        encode_payload(&message).unwrap(),
        encode_payload(&frame).unwrap(),
        vec![0x42; 512],
    ];
    for (kind, payload) in (0u8..).zip(&payloads) {
        // `kind` (below 6) picks the type; 18 + `kind` picks it too, with bit 0x10 set.
        for selector in [kind, 18 + kind] {
            harness::anon_payloads(&[&[selector][..], payload].concat());
        }
    }
    // A ballot, as a member seals it to an authority.
    let ballot = AnonPayload::Ballot(peerster_core::wire::cluster::Signed::sign(
        &identity,
        peerster_core::wire::vote::Ballot {
            cluster: ClusterId(7),
            epoch: Epoch(6),
            proposal: peerster_core::wire::vote::ProposalId([2; 16]),
            round: 0,
            voter: identity.public().member_id(),
            yes: true,
        },
    ));
    harness::anon_payloads(&[&[2][..], &encode_payload(&ballot).unwrap()].concat());
    // A sealed plaintext holding a padded ack, and one holding garbage.
    let ack = encode_payload(&ack).unwrap();
    let len = (ack.len() as u16).to_le_bytes();
    harness::anon_payloads(&[&[0x17][..], &[1; 16], &len, &ack].concat());
    harness::anon_payloads(&(0x17..=255).collect::<Vec<u8>>());
}

/// A member of a two-node cluster written to anonymously (signed, with a reply key the
/// harness holds), answering, acknowledged by the harness, and writing to the other node.
fn anonymous_member_on_handmade_inputs() {
    use harness::{
        Action, AddrChoice, AnonKeyChoice, AnonMessageChoice, AnonMessageSpec, AnonPayloadSpec,
        BodySpec, ClusterChoice, Command, Cutting, EpochChoice, KeyChoice, MemberChoice,
        MemberSetup, PacketSpec, PhaseSpec, PublicKeyChoice, RelayEpochChoice, Signer, TagChoice,
        ThreadChoice,
    };

    let step = member_step;
    let frame = peer_frame;
    let heartbeat = |index| {
        frame(BodySpec::Heartbeat {
            signer: Signer::Named,
            cluster: ClusterChoice::Real,
            member: MemberChoice::Peer,
            generation: 1000,
            index,
            corrupt: false,
            answer: false,
        })
    };
    let scenario = || {
        vec![
            heartbeat(1),
            step(Action::AnonMessage {
                key: KeyChoice::Current,
                from: AddrChoice::Peer,
                cluster: ClusterChoice::Real,
                epoch: EpochChoice::Current,
                relay_epoch: RelayEpochChoice::Near(0),
                phase: PhaseSpec::Fluff { hops: 1 },
                to: AnonKeyChoice::Key(PublicKeyChoice::MyEpochKey),
                tag: TagChoice::Raw([3; 16]),
                message: AnonMessageSpec {
                    thread: ThreadChoice::Raw([5; 16]),
                    reply_key: PublicKeyChoice::Pool(0),
                    text: b"hello there ".to_vec(),
                    repeat: 40,
                    signer: Some(Signer::Named),
                },
                cutting: Cutting {
                    message: 9,
                    per_fragment: 0,
                    skip: 0,
                    reverse: false,
                },
            }),
            step(Action::Timeout { advance_ms: 1_000 }),
            step(Action::Command(Command::ReplyAnonymous {
                thread: ThreadChoice::Known(0),
                text: "and hello to you".into(),
                repeat: 0,
                sign: false,
            })),
            heartbeat(2),
            step(Action::Timeout { advance_ms: 1_000 }),
            step(Action::Timeout { advance_ms: 1_000 }),
            // The harness overheard the answer: it acknowledges it to the answer's reply key.
            frame(BodySpec::Anon {
                epoch: RelayEpochChoice::Near(0),
                phase: PhaseSpec::Stem { copy: 0 },
                realtime: false,
                packet: PacketSpec::Sealed {
                    to: AnonKeyChoice::Heard(0),
                    tag: TagChoice::Answer(0),
                    payload: AnonPayloadSpec::Ack {
                        message: AnonMessageChoice::Heard(0),
                    },
                },
            }),
            step(Action::Command(Command::SendAnonymous {
                to: MemberChoice::Peer,
                text: "to the peer".into(),
                repeat: 3,
                sign: true,
            })),
            step(Action::Exchange { rounds: 3 }),
            step(Action::Timeout { advance_ms: 1_000 }),
            step(Action::Exchange { rounds: 3 }),
            step(Action::Timeout { advance_ms: 1_000 }),
            step(Action::Exchange { rounds: 3 }),
            frame(BodySpec::AnonSync {
                member: MemberChoice::Peer,
                total: None,
                fingerprint: None,
                from: 0,
                ids: Vec::new(),
                known: 0,
                sorted: true,
                to_end: true,
                reply_wanted: true,
            }),
            frame(BodySpec::Anon {
                epoch: RelayEpochChoice::Near(0),
                phase: PhaseSpec::Fluff { hops: 0 },
                realtime: false,
                packet: PacketSpec::Sealed {
                    to: AnonKeyChoice::Key(PublicKeyChoice::MyEpochKey),
                    tag: TagChoice::Raw([1; 16]),
                    payload: AnonPayloadSpec::Plaintext {
                        bytes: vec![7; 30],
                        pad: true,
                    },
                },
            }),
            step(Action::Timeout { advance_ms: 60_000 }),
        ]
    };
    for founder in [false, true] {
        let setup = MemberSetup {
            founder,
            limit: 0,
            auto_vote: 0,
        };
        let stats = harness::run_cluster_member(&setup, scenario()).stats;
        assert_eq!(stats.anon_received, 1, "the harness's message is delivered");
        assert_eq!(stats.anon_sent, 2);
        assert_eq!(
            stats.anon_acknowledged, 2,
            "the harness acknowledges the answer, the other node the message to it"
        );
        assert!(
            stats.anon_store_handovers > 0,
            "a sync lacking all gets the store"
        );
    }
}

/// A step of the member harness, 10 ms after the one before.
fn member_step(action: harness::Action) -> harness::MemberStep {
    harness::MemberStep {
        advance_ms: 10,
        action,
    }
}

/// A step handing the member a frame from its peer, sealed under the current key of the real
/// cluster.
fn peer_frame(body: harness::BodySpec) -> harness::MemberStep {
    use harness::{Action, AddrChoice, ClusterChoice, EpochChoice, KeyChoice};
    member_step(Action::Frame {
        key: KeyChoice::Current,
        from: AddrChoice::Peer,
        cluster: ClusterChoice::Real,
        epoch: EpochChoice::Current,
        body,
    })
}

/// A member that calls, sends voice into a call not answered yet, is handed realtime and cover
/// frames, and hangs up.
fn calling_member_on_handmade_inputs() {
    use harness::{
        Action, BodySpec, Command, MemberChoice, MemberSetup, PacketSpec, PhaseSpec,
        RelayEpochChoice, ThreadChoice,
    };

    let step = member_step;
    let frame = peer_frame;
    let scenario = vec![
        step(Action::Command(Command::Call {
            to: MemberChoice::Peer,
            sign: true,
        })),
        step(Action::Exchange { rounds: 3 }),
        step(Action::Command(Command::SendVoice {
            call: ThreadChoice::Known(0),
            frames: 3,
            len: 200,
        })),
        frame(BodySpec::Anon {
            epoch: RelayEpochChoice::Near(0),
            phase: PhaseSpec::Fluff { hops: 1 },
            realtime: true,
            packet: PacketSpec::Raw(vec![9; 512]),
        }),
        frame(BodySpec::Cover {
            packet: PacketSpec::Raw(vec![1; 512]),
        }),
        step(Action::Command(Command::EndOrAnswer {
            call: ThreadChoice::Known(0),
            how: 2,
        })),
        step(Action::Exchange { rounds: 3 }),
        step(Action::Timeout { advance_ms: 1_000 }),
    ];
    let setup = MemberSetup {
        founder: true,
        limit: 0,
        auto_vote: 0,
    };
    let stats = harness::run_cluster_member(&setup, scenario).stats;
    assert_eq!(stats.calls_placed, 1);
    assert_eq!(stats.voice_frames_sent, 0, "the call was never answered");
    assert_eq!(stats.cover_received, 1);
}

/// Valid payloads of each kind (votes' among them), plain and sealed, and a few fragment
/// sequences.
fn cluster_payloads_on_handmade_inputs() {
    use peerster_core::crypto::{EpochSecret, IdentityKey};
    use peerster_core::ids::{ClusterId, Epoch};
    use peerster_core::wire::anon::AnonPacket;
    use peerster_core::wire::cluster::{
        ClusterFrame, Flooded, FrameBody, Heartbeat, HeartbeatChain, JoinMessage, JoinRefusal,
        Leave, RefusalReason, Signed,
    };
    use peerster_core::wire::vote::{
        Count, Proposal, ProposalKind, PublishedTally, Tally, digests_hash,
    };
    use peerster_core::wire::{BoundedVec, encode_payload};

    let identity = IdentityKey::from_secret_bytes([3; 32]);
    let member = identity.public().member_id();
    let (cluster, epoch) = (ClusterId(7), Epoch(2));
    let frame = ClusterFrame {
        cluster,
        epoch,
        body: FrameBody::Heartbeat(Heartbeat {
            chain: Signed::sign(
                &identity,
                HeartbeatChain {
                    cluster,
                    member,
                    generation: 9,
                    head: [9; 32],
                },
            ),
            index: 1,
            link: [1; 32],
            answer: false,
        }),
    };
    let flooded = Flooded::Leave(Signed::sign(
        &identity,
        Leave {
            cluster,
            epoch,
            member,
        },
    ));
    let join = JoinMessage::Refusal(Signed::sign(
        &identity,
        JoinRefusal {
            contact: member,
            join_key: EpochSecret::from_bytes([4; 32]).public(),
            reason: RefusalReason::Full,
        },
    ));
    let payloads = [
        encode_payload(&frame).unwrap(),
        encode_payload(&flooded).unwrap(),
        encode_payload(&join).unwrap(),
    ];
    for (selector, payload) in (0u8..).zip(&payloads) {
        for seal in [0, 0x10] {
            harness::cluster_payloads(&[&[selector | seal][..], payload].concat());
        }
    }
    let proposal = Flooded::Proposal(Signed::sign(
        &identity,
        Proposal {
            cluster,
            epoch,
            proposer: member,
            kind: ProposalKind::Expel {
                member: peerster_core::ids::MemberId([5; 16]),
            },
            verifiable: true,
            electorate: 2,
        },
    ));
    let digests = vec![[1; 16], [2; 16]];
    let tally = Flooded::Tally(Box::new(PublishedTally {
        tally: Signed::sign(
            &identity,
            Tally {
                cluster,
                epoch,
                proposal: peerster_core::wire::vote::ProposalId([6; 16]),
                round: 1,
                authority: member,
                count: Count {
                    yes: 1,
                    no: 1,
                    authorities_yes: 1,
                    authorities_no: 0,
                    ballots: digests_hash(&digests),
                },
            },
        ),
        digests: BoundedVec::new(digests).unwrap(),
        ballots: BoundedVec::new(Vec::new()).unwrap(),
    }));
    let ballot = ClusterFrame {
        cluster,
        epoch,
        body: FrameBody::Ballot(AnonPacket::from_bytes(&[0x42; 512]).unwrap()),
    };
    for (selector, payload) in [
        (1, encode_payload(&proposal).unwrap()),
        (1, encode_payload(&tally).unwrap()),
        (0, encode_payload(&ballot).unwrap()),
    ] {
        for seal in [0, 0x10] {
            harness::cluster_payloads(&[&[selector | seal][..], &payload].concat());
        }
    }
    harness::cluster_payloads(&[3]);
    harness::cluster_payloads(&[3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    harness::cluster_payloads(&(3..=255).collect::<Vec<u8>>());
}

/// A member of a two-node cluster told what a live cluster tells it: a heartbeat, a post, a
/// rollout, a join request, timers, commands and exchanges with the other node.
fn cluster_member_on_handmade_inputs() {
    use harness::{
        Action, AddrChoice, BodySpec, ClusterChoice, Command, Cutting, EpochChoice, FloodSpec,
        IdentityChoice, JoinSpec, KeyChoice, LimitChoice, MemberChoice, MemberSetup, MemberStep,
        PublicKeyChoice, Signer, VoteChoice,
    };

    harness::cluster_member(&[]);
    harness::cluster_member(&[0; 64]);
    harness::cluster_member(&(0..=255).collect::<Vec<u8>>());

    let step = |action| MemberStep {
        advance_ms: 10,
        action,
    };
    let cutting = || Cutting {
        message: 1,
        per_fragment: 0,
        skip: 0,
        reverse: false,
    };
    let flood = |object, message| {
        step(Action::Flood {
            key: KeyChoice::Current,
            from: AddrChoice::Peer,
            cluster: ClusterChoice::Real,
            epoch: EpochChoice::Current,
            object,
            cutting: Cutting {
                message,
                ..cutting()
            },
        })
    };
    let scenario = || {
        vec![
            step(Action::Frame {
                key: KeyChoice::Current,
                from: AddrChoice::Peer,
                cluster: ClusterChoice::Real,
                epoch: EpochChoice::Current,
                body: BodySpec::Heartbeat {
                    signer: Signer::Named,
                    cluster: ClusterChoice::Real,
                    member: MemberChoice::Peer,
                    generation: 1000,
                    index: 1,
                    corrupt: false,
                    answer: false,
                },
            }),
            flood(
                FloodSpec::Post {
                    signer: Signer::Named,
                    cluster: ClusterChoice::Real,
                    author: MemberChoice::Peer,
                    epoch: EpochChoice::Current,
                    seq: 0,
                    prev: None,
                    text: b"hello".to_vec(),
                },
                1,
            ),
            flood(
                FloodSpec::Rollout {
                    signer: Signer::Named,
                    cluster: ClusterChoice::Real,
                    epoch: EpochChoice::Next,
                    leader: MemberChoice::Peer,
                    limit: LimitChoice::Same,
                    drop: 0,
                    extra: Vec::new(),
                    unsorted: false,
                    decisions: Vec::new(),
                    follow: false,
                },
                2,
            ),
            // A heartbeat under the key of the epoch just left: the sender is behind.
            step(Action::Frame {
                key: KeyChoice::Previous(0),
                from: AddrChoice::Peer,
                cluster: ClusterChoice::Real,
                epoch: EpochChoice::Previous,
                body: BodySpec::Heartbeat {
                    signer: Signer::Named,
                    cluster: ClusterChoice::Real,
                    member: MemberChoice::Peer,
                    generation: 1000,
                    index: 2,
                    corrupt: false,
                    answer: false,
                },
            }),
            step(Action::Join {
                to: PublicKeyChoice::MyNodeKey,
                from: AddrChoice::Stranger(9),
                message: JoinSpec::Request {
                    signer: Signer::Named,
                    joiner: IdentityChoice::Pool(2),
                    contact: MemberChoice::Me,
                    contact_addr: AddrChoice::Member(0),
                    join_key: PublicKeyChoice::Pool(0),
                },
            }),
            // Refused (the node voted already) unless it asks.
            step(Action::Command(Command::Vote {
                vote: VoteChoice::Open(0),
                yes: true,
            })),
            step(Action::Exchange { rounds: 3 }),
            step(Action::Timeout { advance_ms: 20_000 }),
            step(Action::Exchange { rounds: 3 }),
            step(Action::Timeout { advance_ms: 2_000 }),
            step(Action::Exchange { rounds: 3 }),
            step(Action::Command(Command::Post {
                text: "hi".into(),
                repeat: 0,
            })),
            step(Action::Frame {
                key: KeyChoice::Current,
                from: AddrChoice::Peer,
                cluster: ClusterChoice::Real,
                epoch: EpochChoice::Current,
                body: BodySpec::PostSync {
                    member: MemberChoice::Peer,
                    first: 0,
                    last: 1,
                    heads: Vec::new(),
                    reply_wanted: true,
                },
            }),
            step(Action::Replay {
                index: 0,
                from: AddrChoice::Peer,
                flip: None,
            }),
            step(Action::Command(Command::Leave)),
            step(Action::Command(Command::Create { limit: Some(3) })),
            step(Action::Command(Command::Join {
                contact: AddrChoice::Peer,
            })),
            step(Action::Exchange { rounds: 3 }),
            step(Action::Timeout { advance_ms: 5_000 }),
            step(Action::Exchange { rounds: 3 }),
        ]
    };
    // The joiner votes yes unattended, the founder asks.
    for (founder, auto_vote) in [(false, 0), (true, 1)] {
        let setup = MemberSetup {
            founder,
            limit: 0,
            auto_vote,
        };
        let stats = harness::run_cluster_member(&setup, scenario()).stats;
        assert_eq!(stats.posts_delivered, 1, "the peer's post is delivered");
        assert!(stats.rollouts_installed >= 1, "the peer's rollout installs");
    }
}

/// A member of a two-node cluster voting: on a joiner with the other node (unattended yes,
/// asked, or unattended no), on a joiner with a ballot and a tally the harness signs for the
/// other node, on expelling the other node; and given a rollout whose decision the harness
/// certified (a joiner in) and one that adds a member without a decision (refused).
fn voting_member_on_handmade_inputs() {
    use harness::{
        Action, AddrChoice, AnonKeyChoice, AnonPayloadSpec, BallotSpec, BodySpec, ClusterChoice,
        Command, CountSpec, Cutting, DecisionSpec, EntrySpec, EpochChoice, FloodSpec,
        IdentityChoice, JoinSpec, KeyChoice, LimitChoice, MemberChoice, MemberSetup, MemberStep,
        OutcomeSpec, PacketSpec, ProposalKindSpec, ProposalSource, ProposalSpec, PublicKeyChoice,
        RoundChoice, Signer, TagChoice, TallyBallotSpec, TallySpec, VoteChoice,
    };
    use peerster_core::VoteOutcome;
    use peerster_core::crypto::IdentityKey;
    use peerster_core::wire::vote::ProposalKind;

    // The harness's fixture identities: 0 and 1 the real nodes, 2 and 3 outsiders.
    let fixture = |i: u8| {
        IdentityKey::from_secret_bytes([0xa0 + i; 32])
            .public()
            .member_id()
    };
    let step = |action| MemberStep {
        advance_ms: 10,
        action,
    };
    let flood = |object, message| {
        step(Action::Flood {
            key: KeyChoice::Current,
            from: AddrChoice::Peer,
            cluster: ClusterChoice::Real,
            epoch: EpochChoice::Current,
            object,
            cutting: Cutting {
                message,
                per_fragment: 0,
                skip: 0,
                reverse: false,
            },
        })
    };
    let join_request = |joiner| {
        step(Action::Join {
            to: PublicKeyChoice::MyNodeKey,
            from: AddrChoice::Stranger(9),
            message: JoinSpec::Request {
                signer: Signer::Named,
                joiner: IdentityChoice::Pool(joiner),
                contact: MemberChoice::Me,
                contact_addr: AddrChoice::Member(0),
                join_key: PublicKeyChoice::Pool(0),
            },
        })
    };
    let vote = |yes| {
        step(Action::Command(Command::Vote {
            vote: VoteChoice::Open(0),
            yes,
        }))
    };
    // Rounds of exchanges with the other node and of timers (ballots are sent again each
    // second, a rollout leader waits for the keys it asked for).
    let settle = |steps: &mut Vec<MemberStep>| {
        for advance_ms in [1_000, 2_000, 2_000, 12_000, 12_000, 12_000] {
            steps.push(step(Action::Exchange { rounds: 3 }));
            steps.push(step(Action::Timeout { advance_ms }));
        }
        steps.push(step(Action::Exchange { rounds: 3 }));
    };
    let admitted = |closed: &[(ProposalKind, VoteOutcome)], joiner, outcome| {
        closed.iter().any(|(kind, o)| {
            matches!(kind, ProposalKind::Admit { .. }) && kind.subject() == joiner && *o == outcome
        })
    };
    let member_ids = |run: &harness::MemberRun| -> Vec<_> {
        run.cluster
            .iter()
            .flat_map(|c| c.members.iter().map(|m| m.id))
            .collect()
    };

    // A joiner asks the fuzzed node; the two real nodes vote.
    for (founder, auto_vote, outcome) in [
        (true, 0, VoteOutcome::Accepted),
        (false, 0, VoteOutcome::Accepted),
        (true, 1, VoteOutcome::Accepted),
        (false, 2, VoteOutcome::Rejected),
    ] {
        let mut steps = vec![join_request(2)];
        if auto_vote == 1 {
            steps.push(step(Action::Timeout { advance_ms: 500 }));
            steps.push(vote(true));
        }
        // A second ballot is refused.
        steps.push(vote(false));
        settle(&mut steps);
        let setup = MemberSetup {
            founder,
            limit: 0,
            auto_vote,
        };
        let run = harness::run_cluster_member(&setup, steps);
        assert!(
            admitted(&run.closed, fixture(2), outcome),
            "the vote on the joiner closes {outcome:?}: {run:?}"
        );
        let admitted = outcome == VoteOutcome::Accepted;
        assert_eq!(member_ids(&run).contains(&fixture(2)), admitted, "{run:?}");
    }

    // The harness seals the other node's ballot to the fuzzed node and, once the node has
    // counted, floods the other node's tally mirroring the node's: the round agrees.
    for founder in [true, false] {
        let mut steps = vec![
            join_request(3),
            step(Action::Frame {
                key: KeyChoice::Current,
                from: AddrChoice::Peer,
                cluster: ClusterChoice::Real,
                epoch: EpochChoice::Current,
                body: BodySpec::Ballot {
                    packet: PacketSpec::Sealed {
                        to: AnonKeyChoice::Key(PublicKeyChoice::MyEpochKey),
                        tag: TagChoice::Raw([7; 16]),
                        payload: AnonPayloadSpec::Ballot(BallotSpec {
                            signer: Signer::Named,
                            cluster: ClusterChoice::Real,
                            epoch: EpochChoice::Current,
                            proposal: VoteChoice::Open(0),
                            round: RoundChoice::Current,
                            voter: MemberChoice::Peer,
                            yes: Some(true),
                        }),
                    },
                },
            }),
            flood(
                FloodSpec::Tally(TallySpec {
                    signer: Signer::Named,
                    cluster: ClusterChoice::Real,
                    epoch: EpochChoice::Current,
                    proposal: VoteChoice::Open(0),
                    round: RoundChoice::Current,
                    authority: MemberChoice::Peer,
                    ballots: Vec::new(),
                    count: CountSpec::Heard(0),
                    publish: false,
                }),
                3,
            ),
        ];
        for _ in 0..4 {
            steps.push(step(Action::Timeout { advance_ms: 12_000 }));
        }
        let setup = MemberSetup {
            founder,
            limit: 0,
            auto_vote: 0,
        };
        let run = harness::run_cluster_member(&setup, steps);
        assert!(
            admitted(&run.closed, fixture(3), VoteOutcome::Accepted),
            "{run:?}"
        );
        assert!(member_ids(&run).contains(&fixture(3)), "{run:?}");
    }

    // The fuzzed node proposes to expel the other one, and both vote yes.
    let mut steps = vec![
        step(Action::Command(Command::Expel {
            member: MemberChoice::Me,
        })),
        step(Action::Command(Command::Expel {
            member: MemberChoice::Peer,
        })),
    ];
    settle(&mut steps);
    let setup = MemberSetup {
        founder: true,
        limit: 0,
        auto_vote: 0,
    };
    let run = harness::run_cluster_member(&setup, steps);
    assert!(
        run.closed.iter().any(|(kind, outcome)| {
            *kind == ProposalKind::Expel { member: fixture(1) } && *outcome == VoteOutcome::Accepted
        }),
        "{run:?}"
    );
    assert_eq!(member_ids(&run), vec![fixture(0)]);

    // Rollouts signed by the other node: one closing a vote on a joiner with a certificate
    // the harness signed for both authorities (the joiner is in), then one that adds a member
    // no vote admitted (refused as forged).
    let tally = |authority| TallySpec {
        signer: Signer::Named,
        cluster: ClusterChoice::Real,
        epoch: EpochChoice::Current,
        proposal: VoteChoice::Decision,
        round: RoundChoice::Other(0),
        authority,
        ballots: [MemberChoice::Me, MemberChoice::Peer]
            .into_iter()
            .map(|voter| TallyBallotSpec {
                signer: Signer::Named,
                voter,
                yes: Some(true),
            })
            .collect(),
        count: CountSpec::Ballots { authorities: 0 },
        publish: false,
    };
    let rollout = |decisions, extra| FloodSpec::Rollout {
        signer: Signer::Named,
        cluster: ClusterChoice::Real,
        epoch: EpochChoice::Next,
        leader: MemberChoice::Peer,
        limit: LimitChoice::Same,
        drop: 0,
        extra,
        unsorted: false,
        decisions,
        follow: true,
    };
    let certified = || DecisionSpec {
        proposal: ProposalSource::Built(ProposalSpec {
            signer: Signer::Named,
            cluster: ClusterChoice::Real,
            epoch: EpochChoice::Current,
            proposer: MemberChoice::Peer,
            kind: ProposalKindSpec::Admit {
                joiner: IdentityChoice::Pool(3),
                join_key: PublicKeyChoice::Pool(1),
                addr: AddrChoice::Stranger(3),
            },
            verifiable: false,
        }),
        outcome: OutcomeSpec::Accepted(vec![tally(MemberChoice::Me), tally(MemberChoice::Peer)]),
    };
    let unvoted = || EntrySpec {
        identity: IdentityChoice::Pool(2),
        epoch_key: PublicKeyChoice::Pool(2),
        addr: AddrChoice::Stranger(2),
        joined: EpochChoice::Next,
        garbage_key: false,
    };
    for founder in [true, false] {
        let steps = vec![
            flood(rollout(vec![certified()], Vec::new()), 4),
            step(Action::Timeout { advance_ms: 2_000 }),
            flood(rollout(Vec::new(), vec![unvoted()]), 5),
        ];
        let setup = MemberSetup {
            founder,
            limit: 0,
            auto_vote: 0,
        };
        let run = harness::run_cluster_member(&setup, steps);
        assert!(
            admitted(&run.closed, fixture(3), VoteOutcome::Accepted),
            "{run:?}"
        );
        let members = member_ids(&run);
        assert!(members.contains(&fixture(3)), "{run:?}");
        assert!(!members.contains(&fixture(2)), "{run:?}");
        assert_eq!(run.stats.dropped.forged_rollout, 1, "{run:?}");
    }
}

#[test]
fn cluster_state_regressions_stay_fixed() {
    // The folder holds at least the pinned version-2 state (the snapshot of `cluster_state_v2`), which must decode.
    assert!(replay("cluster_state", harness::cluster_state) >= 1);
    let pinned = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/regressions/cluster_state/pinned-v2-state"),
    )
    .expect("readable input");
    assert!(peerster_core::ClusterState::decode(&pinned).is_ok());
}
