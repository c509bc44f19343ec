//! [`CommandSender`]: user commands from other threads (standard input, `peerster demo`) into
//! the event loop.
//! (The control socket is served inside the loop and carries its commands out directly.) How a line of standard input becomes a [`Command`] is
//! in `parse.rs`.
//!
//! A command travels on a bounded `std::sync::mpsc` channel, then the sender wakes the poll
//! through the runtime's one `mio::Waker` (mio allows one per poll; it is shared with the
//! [`ShutdownHandle`](crate::ShutdownHandle)), and the loop drains the channel every turn. A
//! pipe registered with the poll would also work, but it is Unix-only, needs its own framing
//! and a file descriptor pair per source; the channel carries typed commands, and its bound
//! makes a fast producer wait instead of growing memory.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender};

use mio::Waker;
use peerster_core::{AnonOptions, CallOptions};

use crate::Runtime;
use crate::error::RuntimeStopped;
use crate::parse::IdPrefix;

/// Commands waiting for the loop at most; a producer beyond this blocks until it catches up.
const CAPACITY: usize = 64;

/// A user command for the node a [`Runtime`](crate::Runtime) drives.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// Show this node: its id, name, address, cluster and epoch, and how many peers it has:
    /// `/status`.
    Status,
    /// Show the verified peers: `/peers`.
    Peers,
    /// Post this text to the node's cluster ([`peerster_core::Node::post`]).
    Post(String),
    /// Send `text` anonymously to the member of the node's cluster whose id starts with `to`
    /// ([`peerster_core::Node::send_anonymous`]): `/anon`, or `/anon-signed` with
    /// `options.sign`.
    Anon {
        /// The recipient's id, or its first hex digits.
        to: IdPrefix,
        /// The message.
        text: String,
        /// Whether to sign it.
        options: AnonOptions,
    },
    /// Send `text` in the anonymous conversation whose id starts with `thread`, among those
    /// the runtime has seen ([`peerster_core::Node::reply_anonymous`]): `/reply`.
    Reply {
        /// The conversation's id, or its first hex digits.
        thread: IdPrefix,
        /// The message.
        text: String,
    },
    /// Show the cluster's member table and the anonymity estimate
    /// ([`peerster_core::Node::anonymity`]): `/members`.
    Members,
    /// Show the votes open in the node's cluster ([`peerster_core::Node::votes`]): `/votes`.
    Votes,
    /// Vote on the open vote whose id starts with `proposal` ([`peerster_core::Node::vote`]):
    /// `/vote`.
    Vote {
        /// The proposal's id, or its first hex digits.
        proposal: IdPrefix,
        /// Yes or no.
        yes: bool,
    },
    /// Propose to expel the member of the node's cluster whose id starts with `member`
    /// ([`peerster_core::Node::expel`]): `/expel`.
    Expel {
        /// The member's id, or its first hex digits.
        member: IdPrefix,
    },
    /// Call the member of the node's cluster whose id starts with `to`
    /// ([`peerster_core::Node::call`]): `/call`, or `/call-signed` with `options.sign`.
    Call {
        /// The callee's id, or its first hex digits.
        to: IdPrefix,
        /// What this end says and where what it hears goes; `None`: silence in and nothing
        /// out (with the cargo feature `device`, the microphone and the speaker).
        files: Option<CallFiles>,
        /// Whether to reveal the caller to the callee.
        options: CallOptions,
    },
    /// Answer the incoming call whose id starts with `call`
    /// ([`peerster_core::Node::answer_call`]): `/answer`.
    Answer {
        /// The call's id, or its first hex digits; `None`: the only incoming call.
        call: Option<IdPrefix>,
        /// What this end says and where what it hears goes, as for [`Command::Call`].
        files: Option<CallFiles>,
    },
    /// Decline the incoming call whose id starts with `call`
    /// ([`peerster_core::Node::decline_call`]): `/decline`.
    Decline {
        /// The call's id, or its first hex digits; `None`: the only incoming call.
        call: Option<IdPrefix>,
    },
    /// End the call whose id starts with `call`, whatever its state
    /// ([`peerster_core::Node::hang_up`]): `/hangup`.
    HangUp {
        /// The call's id, or its first hex digits; `None`: the only call.
        call: Option<IdPrefix>,
    },
    /// Show the node's calls ([`peerster_core::Node::calls`]): `/calls`.
    Calls,
    /// Show the commands standard input takes: `/help`.
    Help,
    /// Found a cluster with this node as its only member and an optional member `limit`
    /// ([`peerster_core::Node::create_cluster`]).
    CreateCluster {
        /// Most members the cluster may have.
        limit: Option<u16>,
    },
    /// Join the cluster of the node at this address ([`Runtime::join`](crate::Runtime::join)):
    /// carried out at once, the outcome is an event.
    Join(SocketAddr),
    /// Leave this node's cluster ([`peerster_core::Node::leave_cluster`]).
    Leave,
    /// Show the latest posts and anonymous messages, delivered or sent, at most `limit`:
    /// `/inbox`.
    Inbox {
        /// How many of the latest entries; `None`: all the runtime keeps.
        limit: Option<usize>,
    },
    /// Show the safety number shared with the member or verified peer whose id starts with
    /// `member`: `/safety-number`.
    SafetyNumber {
        /// The member's id, or its first hex digits.
        member: IdPrefix,
    },
}

/// The audio files of one end of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallFiles {
    /// What this end says: a 48 kHz mono 16-bit WAV file, read when the command is carried
    /// out and played from the moment the call connects. The call hangs up by itself one
    /// second after it is used up.
    pub input: PathBuf,
    /// Where what this end hears is written, as a 48 kHz mono 16-bit WAV file, when the call
    /// ends (whatever the reason). Created empty when the command is carried out, so that a
    /// path that cannot be written is refused at once.
    pub output: PathBuf,
}

/// Work run on the runtime inside its loop, for [`CommandSender::with`].
pub(crate) type Task = Box<dyn FnOnce(&mut Runtime) + Send>;

/// What waits in the channel for the loop.
pub(crate) enum Queued {
    /// A user command, carried out and shown as standard input's are.
    Command(Command),
    /// A closure of [`CommandSender::with`].
    Task(Task),
}

/// Sends [`Command`]s to a running [`Runtime`] from any thread; cheap to clone.
#[derive(Clone, Debug)]
pub struct CommandSender {
    sender: SyncSender<Queued>,
    waker: Arc<Waker>,
}

impl CommandSender {
    /// Queues `command` for the loop and wakes it; blocks while 64 commands wait. Fails once
    /// the runtime is dropped.
    pub fn send(&self, command: Command) -> Result<(), RuntimeStopped> {
        self.queue(Queued::Command(command))
    }

    /// Runs `work` on the runtime inside its loop, at its next turn, and returns what it
    /// returns: how a program that runs nodes in-process (`peerster demo`) drives them with
    /// the runtime's own methods and reads their state, with no second loop. Blocks until
    /// the loop ran it; fails if the runtime stops first. Never call it from inside the
    /// loop (from `work` itself): it would wait for itself.
    pub fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Runtime) -> T + Send + 'static,
    ) -> Result<T, RuntimeStopped> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.queue(Queued::Task(Box::new(move |runtime| {
            // The caller may have given up waiting: nothing to do then.
            let _ = reply.send(work(runtime));
        })))?;
        // A task dropped unrun (the runtime stopped) drops `reply` with it.
        answer.recv().map_err(|_| RuntimeStopped)
    }

    /// Queues `queued` and wakes the loop.
    fn queue(&self, queued: Queued) -> Result<(), RuntimeStopped> {
        self.sender.send(queued).map_err(|_| RuntimeStopped)?;
        if let Err(error) = self.waker.wake() {
            // The work is queued; the loop will take it at its next wake-up.
            tracing::warn!(%error, "could not wake the event loop");
        }
        Ok(())
    }
}

/// A command channel whose sender wakes the poll behind `waker`.
pub(crate) fn channel(waker: Arc<Waker>) -> (CommandSender, Receiver<Queued>) {
    let (sender, receiver) = mpsc::sync_channel(CAPACITY);
    (CommandSender { sender, waker }, receiver)
}
