//! Votes in a `cluster_member` run: the proposals, ballots, tallies and rollout decisions the
//! specs describe, and the floods of the real nodes the harness overhears (their proposals
//! and tallies let it answer in kind: a tally that mirrors the node's completes a round).

use peerster_core::wire;
use peerster_core::wire::cluster::{Flooded, Signed};
use peerster_core::wire::vote::{
    Ballot, Count, Decision, Outcome, Proposal, ProposalId, ProposalKind, PublishedTally, Tally,
};

use super::MemberWorld;
use super::spec::{
    BallotSpec, ClusterChoice, CountSpec, DecisionSpec, EpochChoice, MemberChoice, OutcomeSpec,
    ProposalKindSpec, ProposalSource, ProposalSpec, Signer, TallySpec, VoteChoice,
};

impl MemberWorld {
    /// The signed proposal `spec` builds.
    pub(super) fn proposal(&self, spec: ProposalSpec) -> Signed<Proposal> {
        let proposer = self.member(&spec.proposer);
        let kind = match spec.kind {
            ProposalKindSpec::Admit {
                joiner,
                join_key,
                addr,
            } => ProposalKind::Admit {
                joiner: self.identity(&joiner),
                join_key: self.public_key(&join_key),
                addr: self.addr(&addr).into(),
            },
            ProposalKindSpec::Expel { member } => ProposalKind::Expel {
                member: self.member(&member),
            },
        };
        let proposal = Proposal {
            cluster: self.cluster_id(&spec.cluster),
            epoch: self.epoch(&spec.epoch),
            proposer,
            kind,
            verifiable: spec.verifiable,
            electorate: self.electorate(),
        };
        self.sign(&spec.signer, proposer, proposal)
    }

    /// How a ballot of `voter` on `proposal` votes: as `yes` says, else as the node voted if
    /// it is the voter, else yes.
    fn ballot_yes(
        &self,
        yes: Option<bool>,
        proposal: ProposalId,
        voter: peerster_core::ids::MemberId,
    ) -> bool {
        yes.unwrap_or_else(|| {
            voter != self.node.id()
                || self
                    .node
                    .votes()
                    .iter()
                    .find(|v| v.id == proposal)
                    .and_then(|v| v.my_vote)
                    .unwrap_or(true)
        })
    }

    /// The signed ballot `spec` builds. A ballot of the node's, as it voted, signed by its
    /// fixture identity is exactly the node's own (Ed25519 signatures are deterministic).
    pub(super) fn ballot(&self, spec: BallotSpec) -> Signed<Ballot> {
        let proposal = self.proposal_id(&spec.proposal);
        let voter = self.member(&spec.voter);
        let ballot = Ballot {
            cluster: self.cluster_id(&spec.cluster),
            epoch: self.epoch(&spec.epoch),
            proposal,
            round: self.round(&spec.round, proposal),
            voter,
            yes: self.ballot_yes(spec.yes, proposal, voter),
        };
        self.sign(&spec.signer, voter, ballot)
    }

    /// The published tally `spec` builds, in a certificate of a decision on `decided` if any.
    pub(super) fn tally(&self, spec: TallySpec, decided: Option<ProposalId>) -> PublishedTally {
        use peerster_core::wire::BoundedVec;
        use peerster_core::wire::vote::{ballot_digest, digests_hash};

        let cluster = self.cluster_id(&spec.cluster);
        let epoch = self.epoch(&spec.epoch);
        let proposal = match (&spec.proposal, decided) {
            (VoteChoice::Decision, Some(decided)) => decided,
            (choice, _) => self.proposal_id(choice),
        };
        let round = self.round(&spec.round, proposal);
        let authority = self.member(&spec.authority);
        let heard = match spec.count {
            CountSpec::Heard(i) => self.heard_tally(i, proposal),
            _ => None,
        };
        let (count, digests, ballots) = match heard {
            Some(heard) => (
                heard.tally.body.count,
                heard.digests.to_vec(),
                heard.ballots.to_vec(),
            ),
            None => {
                let ballots: Vec<Signed<Ballot>> = spec
                    .ballots
                    .into_iter()
                    .take(8)
                    .map(|b| {
                        let voter = self.member(&b.voter);
                        let ballot = Ballot {
                            cluster,
                            epoch,
                            proposal,
                            round,
                            voter,
                            yes: self.ballot_yes(b.yes, proposal, voter),
                        };
                        self.sign(&b.signer, voter, ballot)
                    })
                    .collect();
                let mut digests: Vec<[u8; 16]> = ballots.iter().map(ballot_digest).collect();
                digests.sort_unstable();
                let hash = digests_hash(&digests);
                let count = match spec.count {
                    CountSpec::Raw {
                        yes,
                        no,
                        authorities_yes,
                        authorities_no,
                        hash: raw,
                    } => Count {
                        yes,
                        no,
                        authorities_yes,
                        authorities_no,
                        ballots: raw.unwrap_or(hash),
                    },
                    CountSpec::Ballots { authorities } => self.count(&ballots, authorities, hash),
                    CountSpec::Heard(_) => self.count(&ballots, u8::MAX, hash),
                };
                (count, digests, ballots)
            }
        };
        let tally = Tally {
            cluster,
            epoch,
            proposal,
            round,
            authority,
            count,
        };
        PublishedTally {
            tally: self.sign(&spec.signer, authority, tally),
            digests: BoundedVec::truncating(digests),
            ballots: BoundedVec::truncating(if spec.publish { ballots } else { Vec::new() }),
        }
    }

    /// The count of `ballots` whose digests hash to `hash`: in a table of one or two members
    /// every member is an authority, in a larger one ballot i is an authority's if bit i of
    /// `authorities` is set.
    fn count(&self, ballots: &[Signed<Ballot>], authorities: u8, hash: [u8; 32]) -> Count {
        let members = self.info().map(|i| i.members).unwrap_or_default();
        let mut count = Count {
            yes: 0,
            no: 0,
            authorities_yes: 0,
            authorities_no: 0,
            ballots: hash,
        };
        for (i, ballot) in ballots.iter().enumerate() {
            let authority = if members.len() <= 2 {
                members.iter().any(|m| m.id == ballot.body.voter)
            } else {
                authorities & (1 << i) != 0
            };
            match (ballot.body.yes, authority) {
                (true, true) => count.authorities_yes += 1,
                (false, true) => count.authorities_no += 1,
                _ => {}
            }
            if ballot.body.yes {
                count.yes += 1;
            } else {
                count.no += 1;
            }
        }
        count
    }

    /// The `i`-th newest tally the harness overheard of `proposal`, else of any vote.
    fn heard_tally(&self, i: u8, proposal: ProposalId) -> Option<PublishedTally> {
        let tallies: Vec<&PublishedTally> = self
            .votes
            .heard
            .iter()
            .rev()
            .filter_map(|f| match f {
                Flooded::Tally(t) => Some(&**t),
                _ => None,
            })
            .collect();
        let of_proposal: Vec<&PublishedTally> = tallies
            .iter()
            .copied()
            .filter(|t| t.tally.body.proposal == proposal)
            .collect();
        let pool = if of_proposal.is_empty() {
            tallies
        } else {
            of_proposal
        };
        pool.get(usize::from(i) % pool.len().max(1))
            .map(|t| (*t).clone())
    }

    /// The `i`-th newest proposal the harness overheard.
    fn heard_proposal(&self, i: u8) -> Option<Signed<Proposal>> {
        let proposals: Vec<&Signed<Proposal>> = self
            .votes
            .heard
            .iter()
            .rev()
            .filter_map(|f| match f {
                Flooded::Proposal(p) => Some(p),
                _ => None,
            })
            .collect();
        proposals
            .get(usize::from(i) % proposals.len().max(1))
            .map(|p| (*p).clone())
    }

    /// The electorate a proposal of the current epoch claims: the node's table.
    fn electorate(&self) -> u16 {
        self.node
            .cluster()
            .map_or(0, |c| u16::try_from(c.members.len()).unwrap_or(u16::MAX))
    }

    /// The proposal of the `i`-th open vote of the node, signed again by its proposer's
    /// fixture identity (by the other real node if it is none) in the current epoch.
    fn open_proposal(&self, i: u8) -> Option<Signed<Proposal>> {
        let open = self.node.votes();
        let vote = open.get(usize::from(i) % open.len().max(1))?;
        let proposal = Proposal {
            cluster: self.cluster_id(&ClusterChoice::Real),
            epoch: self.epoch(&EpochChoice::Current),
            proposer: vote.proposer,
            kind: vote.kind.clone(),
            verifiable: self.node.config().verifiable_votes,
            electorate: self.electorate(),
        };
        Some(self.sign(&Signer::Named, vote.proposer, proposal))
    }

    /// The decision `spec` builds.
    pub(super) fn decision(&self, spec: DecisionSpec) -> Decision {
        let proposal = match spec.proposal {
            ProposalSource::Open(i) => self.open_proposal(i).or_else(|| self.heard_proposal(i)),
            ProposalSource::Heard(i) => self.heard_proposal(i).or_else(|| self.open_proposal(i)),
            ProposalSource::Built(spec) => Some(self.proposal(spec)),
        };
        // With no vote in sight, the node's proposal to expel the other real node.
        let proposal = proposal.unwrap_or_else(|| {
            let me = self.node.id();
            let expel = Proposal {
                cluster: self.cluster_id(&ClusterChoice::Real),
                epoch: self.epoch(&EpochChoice::Current),
                proposer: me,
                kind: ProposalKind::Expel {
                    member: self.member(&MemberChoice::Peer),
                },
                verifiable: false,
                electorate: self.electorate(),
            };
            self.sign(&Signer::Named, me, expel)
        });
        let decided = proposal.body.id();
        let certificate = |tallies: Vec<TallySpec>| {
            wire::BoundedVec::truncating(
                tallies
                    .into_iter()
                    .take(4)
                    .map(|t| self.tally(t, Some(decided)).tally)
                    .collect(),
            )
        };
        let outcome = match spec.outcome {
            OutcomeSpec::Accepted(tallies) => Outcome::Accepted(certificate(tallies)),
            OutcomeSpec::Rejected(tallies) => Outcome::Rejected(certificate(tallies)),
            OutcomeSpec::Failed => Outcome::Failed,
        };
        Decision { proposal, outcome }
    }

    /// The `i`-th newest object the real nodes flooded that the harness overheard.
    pub(super) fn heard_flood(&self, i: u8) -> Option<Flooded> {
        let heard = &self.votes.heard;
        let n = heard.len();
        (n > 0).then(|| heard[n - 1 - usize::from(i) % n].clone())
    }

    /// Reassembles the floods in a cluster frame a real node sent (opened with the keys the
    /// fuzzed node held), and remembers the objects it completes.
    pub(super) fn overhear_floods(&mut self, frame: &peerster_core::wire::cluster::ClusterFrame) {
        use peerster_core::wire::cluster::FrameBody;
        let FrameBody::Fragment(fragment) = &frame.body else {
            return;
        };
        self.votes.floods.expire(self.now);
        let Ok(Some(bytes)) = self.votes.floods.insert(self.now, fragment.clone()) else {
            return;
        };
        // Fragments of the harness's own floods, relayed, may share an id with others.
        if let Ok(flooded) = wire::decode_payload::<Flooded>(&bytes) {
            self.votes.hear(flooded);
        }
    }
}
