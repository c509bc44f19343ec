//! The user's side of a [`Runtime`]: commands (announce, create a cluster, join, post, send
//! anonymously, vote, propose an expulsion; calls are in `calls.rs`), the [`Command`]s other
//! threads send, and the [`Console`] that shows what happened.

use std::net::SocketAddr;
use std::sync::mpsc::TryRecvError;

use peerster_core::ids::{ClusterId, MemberId};
use peerster_core::wire::AnnouncementBody;
use peerster_core::wire::anon::ThreadId;
use peerster_core::wire::cluster::PostPosition;
use peerster_core::wire::fragment::MessageId;
use peerster_core::wire::vote::ProposalId;
use peerster_core::{AnonOptions, AnonSent, CommandError, Timestamp, VoteInfo};
use tracing::{info, warn};

use super::Runtime;
use crate::commands::{Command, CommandSender, Queued};
use crate::console::Console;
use crate::display;
use crate::error::CommandFailure;
use crate::join_retry::{Attempt, JoinRetry};
use crate::outcome::{Members, Outcome, PeerView, Status};
use crate::parse::{IdPrefix, Unresolved, resolve};

/// Most commands carried out in one turn of the loop, so that a fast producer cannot starve
/// the network.
const COMMAND_BATCH: usize = 64;

impl Runtime {
    /// Shows the user, on `console`, a first line naming this node and then one line per node
    /// event that has one (posts, cluster changes) and every command that failed; see the
    /// crate doc for the lines. Without a console, failed commands are logged.
    pub fn print_to(&mut self, mut console: Console) {
        console.line(&display::node_line(self.node.id(), self.local_addr));
        self.console = Some(console);
    }

    /// Announces this node to the overlay under the display `name`.
    pub fn announce(&mut self, name: &str) -> Result<u64, CommandError> {
        let seq = self.node.announce(self.clock.now(), name)?;
        info!(name, seq, "announced");
        Ok(seq)
    }

    /// Founds a cluster with this node as its only member, with an optional member `limit`.
    pub fn create_cluster(&mut self, limit: Option<u16>) -> Result<ClusterId, CommandError> {
        let cluster = self.node.create_cluster(self.clock.now(), limit)?;
        self.cluster_changed = true;
        self.show(&display::created_line(cluster, limit));
        Ok(cluster)
    }

    /// Joins the cluster of the node at `contact`: connects to it unless it is a verified peer
    /// already, then asks the node to join after every input and at least every 250 ms until
    /// the contact is known well enough to seal the request to (or 30 s pass: the failure is
    /// shown). A handshake with the contact that fails meanwhile is started again. The
    /// outcome is an event: [`Event::JoinedCluster`], [`Event::JoinRefused`] or
    /// [`Event::JoinFailed`]. Replaces a join not sent yet.
    ///
    /// [`Event::JoinedCluster`]: peerster_core::Event::JoinedCluster
    /// [`Event::JoinRefused`]: peerster_core::Event::JoinRefused
    /// [`Event::JoinFailed`]: peerster_core::Event::JoinFailed
    pub fn join(&mut self, contact: SocketAddr) {
        let now = self.clock.now();
        if self.node.peer(&contact).is_none() {
            self.connect(contact);
        }
        info!(%contact, "joining a cluster");
        self.join = Some(JoinRetry::new(contact, now));
        self.retry_join(now);
    }

    /// Posts `text` to this node's cluster.
    pub fn post(&mut self, text: &str) -> Result<PostPosition, CommandError> {
        let position = self.node.post(self.clock.now(), text)?;
        // Its number goes in the cluster file: a restarted node numbers its next post after it.
        self.cluster_changed = true;
        self.note_post_sent(text);
        Ok(position)
    }

    /// Sends `text` anonymously to the member `to` of this node's cluster, in a new
    /// conversation that `/reply` then knows. The outcome is an event:
    /// [`Event::AnonDelivered`] or [`Event::AnonFailed`].
    ///
    /// [`Event::AnonDelivered`]: peerster_core::Event::AnonDelivered
    /// [`Event::AnonFailed`]: peerster_core::Event::AnonFailed
    pub fn send_anonymous(
        &mut self,
        to: MemberId,
        text: &str,
        options: AnonOptions,
    ) -> Result<AnonSent, CommandError> {
        let sent = self
            .node
            .send_anonymous(self.clock.now(), to, text, options)?;
        self.threads.note(sent.thread);
        self.note_anon_sent(sent.thread, sent.message, text, options);
        Ok(sent)
    }

    /// Sends `text` in the anonymous conversation `thread`.
    pub fn reply_anonymous(
        &mut self,
        thread: ThreadId,
        text: &str,
        options: AnonOptions,
    ) -> Result<MessageId, CommandError> {
        let message = self
            .node
            .reply_anonymous(self.clock.now(), thread, text, options)?;
        self.threads.note(thread);
        self.note_anon_sent(thread, message, text, options);
        Ok(message)
    }

    /// The votes open in this node's cluster (none outside a cluster).
    pub fn votes(&self) -> Vec<VoteInfo> {
        self.node.votes()
    }

    /// Casts this node's ballot on the open vote `proposal`. The vote closes with
    /// [`Event::VoteClosed`].
    ///
    /// [`Event::VoteClosed`]: peerster_core::Event::VoteClosed
    pub fn vote(&mut self, proposal: ProposalId, yes: bool) -> Result<(), CommandError> {
        self.node.vote(self.clock.now(), proposal, yes)
    }

    /// Proposes to expel `member` from this node's cluster; returns the vote's id. The vote
    /// closes with [`Event::VoteClosed`].
    ///
    /// [`Event::VoteClosed`]: peerster_core::Event::VoteClosed
    pub fn expel(&mut self, member: MemberId) -> Result<ProposalId, CommandError> {
        self.node.expel(self.clock.now(), member)
    }

    /// A sender of [`Command`]s to this runtime, usable from any thread while it runs.
    pub fn commands(&self) -> CommandSender {
        self.command_sender.clone()
    }
}

impl Runtime {
    /// Carries out up to [`COMMAND_BATCH`] waiting commands, showing what each did.
    pub(super) fn take_commands(&mut self) {
        self.commands_waiting = false;
        for _ in 0..COMMAND_BATCH {
            let command = match self.commands.try_recv() {
                Ok(Queued::Command(command)) => command,
                Ok(Queued::Task(task)) => {
                    task(self);
                    continue;
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            };
            match self.execute(command) {
                Ok(outcome) => {
                    for line in display::outcome_lines(&outcome) {
                        self.show(&line);
                    }
                }
                Err(failure) => self.failed(&failure),
            }
        }
        self.commands_waiting = true;
    }

    /// Carries out `command`, from standard input or the control socket: what it did, for
    /// the caller to show.
    pub(super) fn execute(&mut self, command: Command) -> Result<Outcome, CommandFailure> {
        match command {
            Command::Status => Ok(Outcome::Status(self.status())),
            Command::Peers => Ok(Outcome::Peers(self.peer_views())),
            Command::Post(text) => self
                .post(&text)
                .map(Outcome::Posted)
                .map_err(CommandFailure::Post),
            Command::Anon { to, text, options } => self.anon_command(&to, &text, options),
            Command::Reply { thread, text } => self.reply_command(&thread, &text),
            Command::Members => self.members_command(),
            Command::Votes => self.votes_command(),
            Command::Vote { proposal, yes } => self.vote_command(&proposal, yes),
            Command::Expel { member } => self.expel_command(&member),
            Command::Call { to, files, options } => self.call_command(&to, files.as_ref(), options),
            Command::Answer { call, files } => self.answer_command(call.as_ref(), files.as_ref()),
            Command::Decline { call } => self.decline_command(call.as_ref()),
            Command::HangUp { call } => self.hang_up_command(call.as_ref()),
            Command::Calls => Ok(Outcome::Calls {
                calls: self.calls(),
                now: self.clock.now(),
            }),
            Command::Help => Ok(Outcome::Help),
            Command::CreateCluster { limit } => self.create_cluster_command(limit),
            Command::Join(contact) => Ok(self.join_command(contact)),
            Command::Leave => self.leave_command(),
            Command::Inbox { limit } => Ok(self.inbox_command(limit)),
            Command::SafetyNumber { member } => self.safety_number_command(&member),
        }
    }

    /// `/status`: this node.
    fn status(&self) -> Status {
        let id = self.node.id();
        Status {
            id,
            name: self.announced_name(id),
            listen: self.local_addr,
            cluster: self.node.cluster().map(|c| (c.id, c.epoch)),
            peers: self.node.peers().count(),
        }
    }

    /// `/peers`: the verified peers.
    fn peer_views(&self) -> Vec<PeerView> {
        let now = self.clock.now();
        self.node
            .peers()
            .map(|(addr, peer)| PeerView {
                addr,
                id: peer.id,
                name: self.announced_name(peer.id),
                last_heard_s: now.saturating_since(peer.last_heard).as_secs(),
            })
            .collect()
    }

    /// The display name in the announcement this node holds from `id`, if any.
    fn announced_name(&self, id: MemberId) -> Option<String> {
        self.node
            .announcements()
            .find(|a| a.origin.member_id() == id)
            .map(|a| match &a.body {
                AnnouncementBody::Node { name, .. } => String::from_utf8_lossy(name).into_owned(),
            })
    }

    /// `/anon`: sends `text` to the one member whose id starts with `to`.
    fn anon_command(
        &mut self,
        to: &IdPrefix,
        text: &str,
        options: AnonOptions,
    ) -> Result<Outcome, CommandFailure> {
        let member = self.resolve_member(to, CommandFailure::Anon)?;
        let sent = self
            .send_anonymous(MemberId(member), text, options)
            .map_err(CommandFailure::Anon)?;
        // Show a warning about the anonymity set, if the node has one, before the message.
        self.dispatch_events();
        Ok(Outcome::AnonSent {
            thread: sent.thread,
            to: MemberId(member),
            signed: options.sign,
        })
    }

    /// `/reply`: sends `text` in the one known thread whose id starts with `thread`.
    fn reply_command(&mut self, thread: &IdPrefix, text: &str) -> Result<Outcome, CommandFailure> {
        let thread = self
            .threads
            .resolve(thread)
            .map_err(|unresolved| match unresolved {
                Unresolved::None => CommandFailure::NoSuchThread {
                    prefix: thread.clone(),
                },
                Unresolved::Several(count) => CommandFailure::AmbiguousThread {
                    prefix: thread.clone(),
                    count,
                },
            })?;
        self.reply_anonymous(thread, text, AnonOptions::default())
            .map_err(CommandFailure::Reply)?;
        self.dispatch_events();
        Ok(Outcome::ReplySent { thread })
    }

    /// The one member of the cluster whose id starts with `prefix`; `refused` says what the
    /// command it is for was refused for, outside a cluster.
    pub(super) fn resolve_member(
        &self,
        prefix: &IdPrefix,
        refused: fn(CommandError) -> CommandFailure,
    ) -> Result<[u8; 16], CommandFailure> {
        let cluster = self
            .node
            .cluster()
            .ok_or(refused(CommandError::NotInCluster))?;
        resolve(prefix, cluster.members.iter().map(|m| m.id.0)).map_err(|unresolved| {
            match unresolved {
                Unresolved::None => CommandFailure::NoSuchMember {
                    prefix: prefix.clone(),
                },
                Unresolved::Several(count) => CommandFailure::AmbiguousMember {
                    prefix: prefix.clone(),
                    count,
                },
            }
        })
    }

    /// `/votes`: the open votes.
    fn votes_command(&mut self) -> Result<Outcome, CommandFailure> {
        if self.node.cluster().is_none() {
            return Err(CommandFailure::Votes(CommandError::NotInCluster));
        }
        Ok(Outcome::Votes {
            votes: self.votes(),
            now: self.clock.now(),
        })
    }

    /// `/vote`: casts a ballot on the one open vote whose id starts with `proposal`.
    fn vote_command(&mut self, proposal: &IdPrefix, yes: bool) -> Result<Outcome, CommandFailure> {
        if self.node.cluster().is_none() {
            return Err(CommandFailure::Vote(CommandError::NotInCluster));
        }
        let ids = self.votes().into_iter().map(|vote| vote.id.0);
        let id = resolve(proposal, ids).map_err(|unresolved| match unresolved {
            Unresolved::None => CommandFailure::NoSuchVote {
                prefix: proposal.clone(),
            },
            Unresolved::Several(count) => CommandFailure::AmbiguousVote {
                prefix: proposal.clone(),
                count,
            },
        })?;
        let id = ProposalId(id);
        self.vote(id, yes).map_err(CommandFailure::Vote)?;
        Ok(Outcome::Voted { proposal: id, yes })
    }

    /// `/expel`: proposes to expel the one member whose id starts with `member`.
    fn expel_command(&mut self, member: &IdPrefix) -> Result<Outcome, CommandFailure> {
        let member = MemberId(self.resolve_member(member, CommandFailure::Expel)?);
        let proposal = self.expel(member).map_err(CommandFailure::Expel)?;
        // The vote's own line (and, voting unattended, its ballot) first.
        self.dispatch_events();
        Ok(Outcome::ExpelProposed { proposal, member })
    }

    /// `/members`: the member table and the anonymity estimate.
    fn members_command(&mut self) -> Result<Outcome, CommandFailure> {
        let cluster = self
            .node
            .cluster()
            .ok_or(CommandFailure::Members(CommandError::NotInCluster))?;
        let now = self.clock.now();
        let names = (cluster.members.iter())
            .map(|member| self.announced_name(member.id))
            .collect();
        Ok(Outcome::Members(Members {
            estimate: self.node.anonymity(now),
            names,
            cluster,
            me: self.node.id(),
            now,
            min_set: self.node.config().min_anonymity_set,
        }))
    }

    /// Asks the node again to send the join waiting in [`Runtime::join`].
    pub(super) fn retry_join(&mut self, now: Timestamp) {
        let Some(join) = self.join.as_mut() else {
            return;
        };
        match join.attempt(&mut self.node, now) {
            Attempt::Later => {}
            Attempt::Sent => self.join = None,
            Attempt::Failed(failure) => {
                self.join = None;
                self.failed(&failure);
            }
        }
    }

    /// Shows `line` on the console, if there is one.
    pub(super) fn show(&mut self, line: &str) {
        if let Some(console) = self.console.as_mut() {
            console.line(line);
        }
    }

    /// Shows a failed command on the console, or logs it if there is none.
    pub(super) fn failed(&mut self, failure: &CommandFailure) {
        match self.console.as_mut() {
            Some(console) => console.failure(failure),
            None => warn!(%failure, "command failed"),
        }
    }
}
