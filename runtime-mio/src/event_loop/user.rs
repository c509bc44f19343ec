//! The user's side of a [`Runtime`]: commands (announce, create a cluster, join, post), the
//! [`Command`]s other threads send, and the [`Console`] that shows what happened.

use std::net::SocketAddr;
use std::sync::mpsc::TryRecvError;

use peerster_core::ids::ClusterId;
use peerster_core::wire::cluster::PostPosition;
use peerster_core::{CommandError, Timestamp};
use tracing::{info, warn};

use super::Runtime;
use crate::commands::{Command, CommandSender};
use crate::console::Console;
use crate::display;
use crate::error::CommandFailure;
use crate::join_retry::{Attempt, JoinRetry};

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
        self.node.post(self.clock.now(), text)
    }

    /// A sender of [`Command`]s to this runtime, usable from any thread while it runs.
    pub fn commands(&self) -> CommandSender {
        self.command_sender.clone()
    }
}

impl Runtime {
    /// Carries out up to [`COMMAND_BATCH`] waiting commands.
    pub(super) fn take_commands(&mut self) {
        self.commands_waiting = false;
        for _ in 0..COMMAND_BATCH {
            let command = match self.commands.try_recv() {
                Ok(command) => command,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            };
            match command {
                Command::Post(text) => {
                    if let Err(error) = self.post(&text) {
                        self.failed(&CommandFailure::Post(error));
                    }
                }
            }
        }
        self.commands_waiting = true;
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
    fn failed(&mut self, failure: &CommandFailure) {
        match self.console.as_mut() {
            Some(console) => console.failure(failure),
            None => warn!(%failure, "command failed"),
        }
    }
}
