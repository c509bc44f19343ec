//! The runtime's own records and the commands that read them or change membership: the
//! [`Inbox`](crate::inbox::Inbox) fed from the node's events and this node's own posts and
//! anonymous messages, `create-cluster`, `join`, `leave`, `inbox` and `safety-number`.

use std::net::SocketAddr;

use peerster_core::ids::MemberId;
use peerster_core::wire::anon::ThreadId;
use peerster_core::wire::fragment::MessageId;
use peerster_core::{AnonOptions, Event};

use super::Runtime;
use crate::error::CommandFailure;
use crate::inbox::{Delivery, Direction};
use crate::outcome::Outcome;
use crate::parse::{IdPrefix, Unresolved, resolve};
use crate::safety_number::SafetyNumber;

impl Runtime {
    /// Records in the inbox a post or anonymous message delivered to this node, and how far
    /// this node's anonymous messages got.
    pub(super) fn note_in_inbox(&mut self, event: &Event) {
        let now = self.clock.now();
        match event {
            // This node's own posts are recorded when sent.
            Event::Post { author, text, .. } if *author != self.node.id() => {
                self.inbox.post(Direction::In, *author, text, now);
            }
            Event::AnonMessage {
                thread, text, from, ..
            } => self.inbox.anon_in(*thread, text, *from, now),
            Event::AnonDelivered { message, .. } => {
                self.inbox.delivery(message, Delivery::Delivered);
            }
            Event::AnonFailed { message, .. } => self.inbox.delivery(message, Delivery::Failed),
            _ => {}
        }
    }

    /// Records in the inbox a post this node sent.
    pub(super) fn note_post_sent(&mut self, text: &str) {
        let (me, now) = (self.node.id(), self.clock.now());
        self.inbox.post(Direction::Out, me, text, now);
    }

    /// Records in the inbox an anonymous message this node sent.
    pub(super) fn note_anon_sent(
        &mut self,
        thread: ThreadId,
        message: MessageId,
        text: &str,
        options: AnonOptions,
    ) {
        let from = options.sign.then(|| self.node.id());
        let now = self.clock.now();
        self.inbox.anon_out(thread, message, text, from, now);
    }

    /// `create-cluster`: founds a cluster with this node as its only member.
    pub(super) fn create_cluster_command(
        &mut self,
        limit: Option<u16>,
    ) -> Result<Outcome, CommandFailure> {
        let cluster = (self.node)
            .create_cluster(self.clock.now(), limit)
            .map_err(CommandFailure::CreateCluster)?;
        self.cluster_changed = true;
        Ok(Outcome::ClusterCreated { cluster, limit })
    }

    /// `join`: starts joining the cluster of `contact`; the outcome is an event.
    pub(super) fn join_command(&mut self, contact: SocketAddr) -> Outcome {
        self.join(contact);
        Outcome::JoinStarted { contact }
    }

    /// `leave`: leaves this node's cluster.
    pub(super) fn leave_command(&mut self) -> Result<Outcome, CommandFailure> {
        let cluster = (self.node)
            .leave_cluster(self.clock.now())
            .map_err(CommandFailure::Leave)?;
        // The `left` event's line first.
        self.dispatch_events();
        Ok(Outcome::Left { cluster })
    }

    /// `/inbox`: the latest `limit` entries.
    pub(super) fn inbox_command(&self, limit: Option<usize>) -> Outcome {
        Outcome::Inbox {
            entries: self.inbox.latest(limit),
        }
    }

    /// `/safety-number`: the code this node shares with the one other member of the cluster,
    /// or verified peer, whose id starts with `prefix`.
    pub(super) fn safety_number_command(
        &self,
        prefix: &IdPrefix,
    ) -> Result<Outcome, CommandFailure> {
        let me = self.node.identity();
        let mut known: Vec<(MemberId, [u8; 32])> = (self.node.cluster().into_iter())
            .flat_map(|cluster| cluster.members)
            .map(|m| (m.id, *m.identity.as_bytes()))
            .chain(
                self.node
                    .peers()
                    .map(|(_, p)| (p.id, *p.identity.as_bytes())),
            )
            .filter(|(id, _)| *id != self.node.id())
            .collect();
        known.sort_by_key(|(id, _)| *id);
        known.dedup_by_key(|(id, _)| *id);
        let id =
            resolve(prefix, known.iter().map(|(id, _)| id.0)).map_err(
                |unresolved| match unresolved {
                    Unresolved::None => CommandFailure::NoSuchFingerprint {
                        prefix: prefix.clone(),
                    },
                    Unresolved::Several(count) => CommandFailure::AmbiguousFingerprint {
                        prefix: prefix.clone(),
                        count,
                    },
                },
            )?;
        let key = (known.iter())
            .find(|(known, _)| known.0 == id)
            .map(|(_, key)| *key)
            // `resolve` returned one of `known`'s ids.
            .ok_or(CommandFailure::NoSuchFingerprint {
                prefix: prefix.clone(),
            })?;
        Ok(Outcome::SafetyNumber {
            member: MemberId(id),
            number: SafetyNumber::of(me.as_bytes(), &key),
        })
    }
}
