//! The runtime's errors: [`RuntimeError`] (why it could not start or had to stop),
//! [`CommandFailure`] (a user command it reports and survives), [`CallAudioError`] (the audio
//! of a call could not be read, written or played), [`InputError`] (a line of standard input
//! it could not post or carry out), [`IdentityError`], [`ClusterFileError`] and [`LockError`]
//! (the data directory's identity, cluster and lock files) and [`RuntimeStopped`].

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use peerster_core::{ClusterStateError, CommandError, ConfigError};
use thiserror::Error;

use crate::cluster_file::MalformedClusterFile;
use crate::identity_file::MalformedIdentity;
use crate::parse::{IdPrefix, ParseError};

/// Why the runtime could not start, or stopped before it was asked to.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The UDP socket could not be bound to the address to listen on.
    #[error("cannot listen on UDP {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// The OS's event queue (epoll, kqueue) failed to start, register or wait.
    #[error("event loop failed: {0}")]
    EventLoop(io::Error),
    /// SIGINT and SIGTERM handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(io::Error),
    /// The OS's random number generator failed.
    #[error("OS random number generator failed: {0}")]
    Entropy(getrandom::Error),
    /// The node refused its configuration.
    #[error("invalid node configuration: {0}")]
    Config(#[from] ConfigError),
    /// The node refused to announce itself under the name asked for.
    #[error("cannot announce this node: {0}")]
    Announce(#[source] CommandError),
    /// The node refused to found a cluster with the member limit asked for.
    #[error("cannot create a cluster: {0}")]
    CreateCluster(#[source] CommandError),
    /// The thread that reads posts from standard input could not be started.
    #[error("cannot read standard input: {0}")]
    Stdin(io::Error),
    /// The control socket could not be set up.
    #[error(transparent)]
    Control(#[from] ControlError),
    /// The node's identity could not be read from, or written to, the data directory.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The data directory is in use by another node, or could not be locked.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The saved cluster membership could not be read or resumed.
    #[error(transparent)]
    ClusterFile(#[from] ClusterFileError),
    /// LAN discovery (`--discover`) could not start.
    #[error(transparent)]
    Discovery(#[from] crate::discovery::DiscoveryError),
    /// The thread of a node run in-process ([`LocalNode`](crate::LocalNode)) could not be
    /// started, or ended in a panic.
    #[error("node thread: {0}")]
    Thread(String),
}

/// Why the node's identity file (`DATA_DIR/identity`) could not be used. The node refuses to
/// start rather than run under a new identity.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The file could not be read or written.
    #[error("cannot use the identity file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file gives some permission to group or others.
    #[error(
        "the identity file {} has mode {mode:04o}: it must not be accessible by others; \
         run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The path is a directory, a symbolic link or another kind of file.
    #[error("the identity file {} is not a regular file", path.display())]
    NotRegularFile {
        /// The path.
        path: PathBuf,
    },
    /// The file is not a well-formed identity file.
    #[error(
        "the identity file {} is unusable: {problem}; restore it from a backup, or move it \
         away to start as a new identity",
        path.display()
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: MalformedIdentity,
    },
    /// The OS's random number generator failed while drawing a new identity.
    #[error("cannot draw a new identity: {reason}")]
    Entropy {
        /// What went wrong.
        reason: String,
    },
}

/// Why the saved cluster membership (`DATA_DIR/cluster`) could not be used. The node refuses
/// to start rather than silently drop out of its cluster; removing the file starts it outside
/// any cluster (it can then join again).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ClusterFileError {
    /// The file could not be read or removed.
    #[error("cannot use the cluster file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file gives some permission to group or others: it holds cluster keys.
    #[error(
        "the cluster file {} has mode {mode:04o}: it holds cluster keys and must not be \
         accessible by others; run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The path is a directory, a symbolic link or another kind of file.
    #[error(
        "the cluster file {} is not a regular file; remove it to start outside the cluster",
        path.display()
    )]
    NotRegularFile {
        /// The path.
        path: PathBuf,
    },
    /// The file is not a well-formed cluster file.
    #[error(
        "the cluster file {} is unusable: {problem}; remove it to start outside the cluster \
         (then join it again)",
        path.display()
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: MalformedClusterFile,
    },
    /// The file is well formed but the node cannot resume it (it is of another identity).
    #[error(
        "the cluster file {} cannot be resumed: {source}; remove it to start outside the \
         cluster (then join it again)",
        path.display()
    )]
    Unusable {
        /// The file.
        path: PathBuf,
        /// Why the node refused it.
        source: ClusterStateError,
    },
}

/// Why the data directory's lock (`DATA_DIR/lock`) could not be taken.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LockError {
    /// A node that is still running holds the lock.
    #[error(
        "another node runs on {} (process {pid}, lock file {}); stop it, or remove the lock \
         file if no node runs there",
        dir.display(),
        lock.display()
    )]
    Held {
        /// The data directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The process that holds it.
        pid: u32,
    },
    /// The lock file could not be created, read or replaced.
    #[error("cannot lock the data directory with {}: {source}", lock.display())]
    Io {
        /// The lock file.
        lock: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}

/// Why the control socket of a node could not be set up in its data directory.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ControlError {
    /// The data directory could not be created or made private.
    #[error("cannot create the data directory {}: {source}", dir.display())]
    DataDir {
        /// The directory.
        dir: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// No data directory was given and none could be found (neither `XDG_DATA_HOME` nor
    /// `HOME` is set).
    #[error("no data directory: set --data-dir, XDG_DATA_HOME or HOME")]
    NoDataDir,
    /// A node answers on the control socket already.
    #[error("another node runs on {}: its control socket {} answers", dir.display(), socket.display())]
    AlreadyRunning {
        /// The data directory.
        dir: PathBuf,
        /// The socket that answered.
        socket: PathBuf,
    },
    /// The socket could not be bound, made private or registered with the event loop.
    #[error("cannot listen on the control socket {}: {source}", socket.display())]
    Listen {
        /// The socket's path.
        socket: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}

/// A user command the node refused or that could not complete: reported to the user, and the
/// node keeps running.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CommandFailure {
    /// The node refused a post (not in a cluster, too long).
    #[error("post refused: {0}")]
    Post(#[source] CommandError),
    /// The node refused a join for a reason waiting cannot fix.
    #[error("cannot join through {contact}: {source}")]
    Join {
        /// The contact asked to let this node in.
        contact: SocketAddr,
        /// Why the node refused.
        source: CommandError,
    },
    /// The contact of a join did not become a verified peer with a known announcement in
    /// time, so the join request could not be sealed to it.
    #[error("gave up joining through {contact} after {} s: {source}", waited.as_secs())]
    JoinGaveUp {
        /// The contact asked to let this node in.
        contact: SocketAddr,
        /// How long the runtime retried.
        waited: Duration,
        /// The node's last refusal.
        source: CommandError,
    },
    /// The node refused an anonymous message (not in a cluster, too long, to itself, too
    /// many awaiting acknowledgement).
    #[error("anonymous message refused: {0}")]
    Anon(#[source] CommandError),
    /// The node refused a reply in an anonymous conversation.
    #[error("reply refused: {0}")]
    Reply(#[source] CommandError),
    /// There is no member table to show.
    #[error("no members to show: {0}")]
    Members(#[source] CommandError),
    /// There are no votes to show.
    #[error("no votes to show: {0}")]
    Votes(#[source] CommandError),
    /// The node refused a ballot (not in a cluster, voted already, the vote is decided).
    #[error("vote refused: {0}")]
    Vote(#[source] CommandError),
    /// The node refused to propose an expulsion (not in a cluster, of itself, too many votes
    /// open).
    #[error("expulsion refused: {0}")]
    Expel(#[source] CommandError),
    /// No member of the cluster has an id that starts with the prefix given.
    #[error("no member of the cluster has an id starting with {prefix}")]
    NoSuchMember {
        /// The prefix given.
        prefix: IdPrefix,
    },
    /// Several members of the cluster have an id that starts with the prefix given.
    #[error("{count} members have an id starting with {prefix}: type more of it (see /members)")]
    AmbiguousMember {
        /// The prefix given.
        prefix: IdPrefix,
        /// How many members it matches.
        count: usize,
    },
    /// No anonymous conversation the runtime knows has an id that starts with the prefix given.
    #[error("no known thread has an id starting with {prefix}")]
    NoSuchThread {
        /// The prefix given.
        prefix: IdPrefix,
    },
    /// Several known anonymous conversations have an id that starts with the prefix given.
    #[error("{count} known threads have an id starting with {prefix}: type more of it")]
    AmbiguousThread {
        /// The prefix given.
        prefix: IdPrefix,
        /// How many threads it matches.
        count: usize,
    },
    /// No open vote has an id that starts with the prefix given.
    #[error("no open vote has an id starting with {prefix} (see /votes)")]
    NoSuchVote {
        /// The prefix given.
        prefix: IdPrefix,
    },
    /// Several open votes have an id that starts with the prefix given.
    #[error("{count} open votes have an id starting with {prefix}: type more of it")]
    AmbiguousVote {
        /// The prefix given.
        prefix: IdPrefix,
        /// How many votes it matches.
        count: usize,
    },
    /// The node refused to place a call (not in a cluster, to itself, too many calls).
    #[error("call refused: {0}")]
    Call(#[source] CommandError),
    /// The node refused to answer a call (no such call, not an incoming one).
    #[error("answer refused: {0}")]
    Answer(#[source] CommandError),
    /// The node refused to decline a call (no such call, not an incoming one).
    #[error("decline refused: {0}")]
    Decline(#[source] CommandError),
    /// The node refused to hang up a call (no such call).
    #[error("hang-up refused: {0}")]
    HangUp(#[source] CommandError),
    /// No call of this node has an id that starts with the prefix given.
    #[error("no call has an id starting with {prefix} (see /calls)")]
    NoSuchCall {
        /// The prefix given.
        prefix: IdPrefix,
    },
    /// Several calls of this node have an id that starts with the prefix given.
    #[error("{count} calls have an id starting with {prefix}: type more of it (see /calls)")]
    AmbiguousCall {
        /// The prefix given.
        prefix: IdPrefix,
        /// How many calls it matches.
        count: usize,
    },
    /// A call command named no call, and this node has no call it could mean.
    #[error("no {which} call (see /calls)")]
    NoCall {
        /// The calls it could have meant: `incoming` (answer, decline) or `ongoing`
        /// (hang up).
        which: &'static str,
    },
    /// A call command named no call, and this node has several it could mean.
    #[error("{count} {which} calls: name one by its id (see /calls)")]
    SeveralCalls {
        /// The calls it could have meant, as for [`CommandFailure::NoCall`].
        which: &'static str,
        /// How many there are.
        count: usize,
    },
    /// The audio of a call could not be set up, played or recorded.
    #[error(transparent)]
    CallAudio(#[from] CallAudioError),
    /// The node refused to found a cluster (a member limit out of range).
    #[error("cannot create a cluster: {0}")]
    CreateCluster(#[source] CommandError),
    /// The node refused to leave its cluster (it is in none).
    #[error("cannot leave: {0}")]
    Leave(#[source] CommandError),
    /// No other member of the cluster and no verified peer has an id that starts with the
    /// prefix given.
    #[error("no member or verified peer has an id starting with {prefix} (see /members, /peers)")]
    NoSuchFingerprint {
        /// The prefix given.
        prefix: IdPrefix,
    },
    /// Several members or verified peers have an id that starts with the prefix given.
    #[error("{count} members or peers have an id starting with {prefix}: type more of it")]
    AmbiguousFingerprint {
        /// The prefix given.
        prefix: IdPrefix,
        /// How many it matches.
        count: usize,
    },
}

/// What went wrong with the audio of a call: its input or output file, its codec, or the
/// audio devices. The underlying error is kept as its message, so that the failure can be
/// cloned and compared like the other [`CommandFailure`]s.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CallAudioError {
    /// The input WAV file could not be read, or is not 48 kHz mono 16-bit.
    #[error("cannot read {}: {reason}", path.display())]
    ReadInput {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The output WAV file could not be written.
    #[error("cannot write {}: {reason}", path.display())]
    WriteOutput {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The voice codec or the jitter buffer refused to start.
    #[error("cannot start the call's voice codec: {reason}")]
    Codec {
        /// What went wrong.
        reason: String,
    },
    /// The microphone or the speaker could not be opened (feature `device`); the call goes on
    /// with silence in and nothing out.
    #[error("cannot open the audio device, the call goes on without it: {reason}")]
    Device {
        /// What went wrong.
        reason: String,
    },
}

/// A line of standard input that was not posted or carried out.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum InputError {
    /// The line is not UTF-8, and posts are text.
    #[error("line {line} of standard input is not UTF-8: not posted")]
    NotUtf8 {
        /// The line's number, from 1.
        line: u64,
    },
    /// The line is longer than the reader holds in memory; it was skipped.
    #[error("line {line} of standard input is longer than {max} bytes: not posted")]
    TooLong {
        /// The line's number, from 1.
        line: u64,
        /// The longest line read.
        max: usize,
    },
    /// The line is a `/command` that is unknown or lacks what it needs; it was skipped.
    #[error(transparent)]
    Command(#[from] ParseError),
    /// Reading failed; the reader stops, the node keeps running.
    #[error("cannot read standard input: {0}")]
    Read(io::Error),
}

/// The [`Runtime`](crate::Runtime) a [`CommandSender`](crate::CommandSender) sends to was
/// dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("the runtime has stopped")]
pub struct RuntimeStopped;
