//! The `node_datagram` target: a sequence of arbitrary datagrams, timer firings, connects
//! and cluster commands into one `Node`.

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use peerster_core::crypto::IdentityKey;
use peerster_core::ids::MemberId;
use peerster_core::wire::vote::ProposalId;
use peerster_core::{Config, Node, Timestamp};

use super::node_checks::{check_cluster, check_transmit};
use super::util::addr;

/// One input to a node.
#[derive(Debug, Arbitrary)]
pub enum Step {
    /// A datagram from one of 256 addresses, some time after the previous step.
    Datagram {
        /// Last byte of the sender's address.
        from: u8,
        /// Milliseconds since the previous step.
        advance_ms: u16,
        /// The datagram.
        bytes: Vec<u8>,
    },
    /// The clock moves on and the node's timer fires.
    Timeout {
        /// Milliseconds since the previous step.
        advance_ms: u32,
    },
    /// The user connects to one of 256 addresses.
    Connect {
        /// Last byte of the address.
        to: u8,
    },
    /// The user founds a cluster.
    CreateCluster {
        /// The member limit.
        limit: Option<u16>,
    },
    /// The user asks to join through one of 256 addresses.
    Join {
        /// Last byte of the contact's address.
        contact: u8,
    },
    /// The user posts to the cluster.
    Post {
        /// The text.
        text: String,
    },
    /// The user leaves the cluster.
    LeaveCluster,
    /// The user announces the node.
    Announce {
        /// The display name.
        name: String,
    },
    /// The user votes.
    Vote {
        /// Which of the node's open votes (`None`: the id `raw`).
        open: Option<u8>,
        /// A proposal id.
        raw: [u8; 16],
        /// Yes or no.
        yes: bool,
    },
    /// The user proposes to expel a member.
    Expel {
        /// Which member of the node's table (`None`: the id `raw`).
        member: Option<u8>,
        /// A member id.
        raw: [u8; 16],
    },
}

/// A sequence of arbitrary datagrams, timer firings, connects and cluster commands (votes and
/// expulsions among them) into one `Node`: never a panic, every output well-formed and within
/// the datagram limit (sealed frames one padding bucket long), its cluster view consistent, no
/// open vote out of a cluster, and every input counted.
pub fn node_datagram(data: &[u8]) {
    let mut input = Unstructured::new(data);
    let Ok(steps) = Vec::<Step>::arbitrary(&mut input) else {
        return;
    };
    let mut now = Timestamp::ZERO;
    let identity = IdentityKey::from_secret_bytes([7; 32]);
    let mut node = Node::new(Config::default(), identity, [9; 32], now).expect("valid config");
    let mut received = 0u64;
    for step in steps.into_iter().take(256) {
        match step {
            Step::Datagram {
                from,
                advance_ms,
                bytes,
            } => {
                now += Duration::from_millis(advance_ms.into());
                node.handle_datagram(now, addr(from), &bytes);
                received += 1;
            }
            Step::Timeout { advance_ms } => {
                now += Duration::from_millis(advance_ms.into());
                node.handle_timeout(now);
            }
            Step::Connect { to } => node.connect(now, addr(to)),
            // Commands may be refused (no peer, not in a cluster): only panics matter.
            Step::CreateCluster { limit } => {
                let _ = node.create_cluster(now, limit);
            }
            Step::Join { contact } => {
                let _ = node.join(now, addr(contact));
            }
            Step::Post { text } => {
                let _ = node.post(now, &text);
            }
            Step::LeaveCluster => {
                let _ = node.leave_cluster(now);
            }
            Step::Announce { name } => {
                let _ = node.announce(now, &name);
            }
            Step::Vote { open, raw, yes } => {
                let votes = node.votes();
                let proposal = open
                    .and_then(|i| votes.get(usize::from(i) % votes.len().max(1)))
                    .map_or(ProposalId(raw), |v| v.id);
                let _ = node.vote(now, proposal, yes);
            }
            Step::Expel { member, raw } => {
                let members = node.cluster().map(|i| i.members).unwrap_or_default();
                let member = member
                    .and_then(|i| members.get(usize::from(i) % members.len().max(1)))
                    .map_or(MemberId(raw), |m| m.id);
                let _ = node.expel(now, member);
            }
        }
        while let Some(t) = node.poll_transmit() {
            check_transmit(&t.payload, &node.config().pad_buckets);
        }
        while node.poll_event().is_some() {}
        check_cluster(&node, now);
        assert!(
            node.cluster().is_some() || node.votes().is_empty(),
            "open votes out of a cluster"
        );
    }
    assert_eq!(node.stats().datagrams_received, received);
}
