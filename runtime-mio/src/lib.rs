#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! `peerster-mio`: the Peerster node people run, a thin driver of one
//! [`peerster_core::Node`] over a UDP socket on a [`mio`] event loop.
//!
//! The [`Runtime`] owns the socket, the node and the clock. Each turn of its loop it sends what
//! the node wants sent, reports the node's events, sleeps in `mio`'s poll until the socket is
//! readable, a [`Command`] arrives, the node's next deadline
//! ([`peerster_core::Node::poll_timeout`]) or, while a call is connected, the next 20 ms voice
//! tick passes, then feeds the node every datagram waiting on the socket, the passing of time,
//! the commands and the calls' voice:
//!
//! ```no_run
//! use peerster_core::Config;
//! use peerster_mio::{Command, Console, Runtime};
//!
//! let mut runtime = Runtime::bind("127.0.0.1:0".parse()?, Config::default())?;
//! runtime.print_to(Console::stdio()); // one line per post or cluster change
//! runtime.announce("alice")?; // so that others can join through this node
//! runtime.join("127.0.0.1:7000".parse()?); // connects, then joins once the contact is known
//! let commands = runtime.commands(); // from any thread:
//! commands.send(Command::Post("hello".into()))?; // refused (shown) until the join completes
//! let stop = runtime.shutdown_handle(); // `stop.shutdown()` from any thread ends `run`
//! let stats = runtime.run()?;
//! # drop(stop);
//! println!("{stats:?}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # `peerster demo`
//!
//! [`demo::run`] starts N nodes in this process, each a [`LocalNode`] (what `peerster run`
//! sets up, on its own thread), and tells the whole story of the protocol in numbered steps.
//!
//! # `peerster run`
//!
//! [`run_node`] is the command: it listens on its control socket (see below), announces the node (under `--name`, default
//! [`DEFAULT_NAME`]), connects to the `--peer`s, founds a cluster (`--create-cluster`,
//! `--limit N`) or joins the one of `--join ADDR`, votes on joins and expulsions as
//! `--auto-vote yes|no|ask` says (default `ask`: each vote is shown, and waits for `/vote`),
//! and reads standard input line by line
//! (whether or not it is a terminal; its end does not stop the node). A line that starts with
//! `/` is a command, any other non-empty line is posted to the cluster (`//` posts a line that
//! starts with `/`):
//!
//! ```text
//! /anon MEMBER TEXT          TEXT anonymously to the member whose id starts with MEMBER
//! /anon-signed MEMBER TEXT   the same, signed: the recipient sees who sent it
//! /reply THREAD TEXT         TEXT in the anonymous thread whose id starts with THREAD
//! /members                   the member table and the anonymity estimate
//! /votes                     the open votes (joins and expulsions)
//! /vote PROPOSAL yes|no      a ballot on the open vote whose id starts with PROPOSAL
//! /expel MEMBER              propose to expel the member whose id starts with MEMBER
//! /call MEMBER [IN.wav OUT.wav]         call the member whose id starts with MEMBER
//! /call-signed MEMBER [IN.wav OUT.wav]  the same, signed: the callee sees who calls
//! /answer CALL [IN.wav OUT.wav]         answer the incoming call whose id starts with CALL
//! /decline CALL              decline the incoming call whose id starts with CALL
//! /hangup CALL               end the call whose id starts with CALL, whatever its state
//! /calls                     the calls: state, role, peer if known, frames sent and received
//! /status                    this node: id, name, address, cluster, epoch, peer count
//! /peers                     the verified peers
//! /inbox [N]                  the latest N posts and anonymous messages, received and sent
//! /safety-number MEMBER      the code to compare in person with the member MEMBER
//! /help                      these commands
//! ```
//!
//! `MEMBER`, `THREAD`, `PROPOSAL` and `CALL` are 4 to 32 hex digits of an id (ids are printed
//! as their first 8): of a member of the cluster, of a thread this node sent, received, or saw
//! delivered or fail lately, of an open vote, or of one of this node's calls.
//!
//! # Calls
//!
//! A call is anonymous unless placed with `/call-signed`. With `IN.wav` (48 kHz mono 16-bit;
//! anything else is refused with its format), that file is what this end says, from the moment
//! the call connects; one second after it is used up the call hangs up by itself, so that a
//! call driven by files ends on its own. With `OUT.wav`, what this end hears is written there
//! when the call ends, whatever the reason (the file is created empty at once, so that a path
//! that cannot be written is refused before the call starts; at most 30 minutes are kept).
//! Without files a call sends silence and plays nothing, or, built with the cargo feature
//! `device`, uses the default microphone and speaker (untested: no audio hardware where this
//! is built). Voice moves on a drift-free 20 ms tick while a call is connected: each tick
//! encodes 20 ms of every call's input and sends it, and plays 20 ms out of the call's jitter
//! buffer; a loop that falls more than three ticks behind skips ahead rather than send a
//! burst. Voice frames are not shown (fifty a second); `/calls` counts them.
//!
//! Standard output gets one line per event the user cares about:
//!
//! ```text
//! [node] 1f2e3d4c listening on 127.0.0.1:7001
//! [cluster] created 5a6b7c8d9e0f1a2b, limit 8 members    (--create-cluster)
//! [cluster] joined 5a6b7c8d9e0f1a2b, epoch 1, 2 members  (--join)
//! [cluster] epoch 2, 3 members (+0a0b0c0d, -1a1b1c1d)
//! [post] 0a0b0c0d: hello
//! [cluster] join refused by 127.0.0.1:7000: the cluster is full
//! [cluster] join failed: no answer from 127.0.0.1:7000
//! [cluster] removed from 5a6b7c8d9e0f1a2b
//! [cluster] left 5a6b7c8d9e0f1a2b
//! [anon] thread 1a2b3c4d from anonymous: hello           (from 0a0b0c0d: if signed)
//! [anon] thread 1a2b3c4d delivered
//! [anon] thread 1a2b3c4d failed: no acknowledgement      (or: the recipient left the cluster)
//! [anon] warning: only 2 members to hide among (below 5)
//! [vote] 5e6f7a8b: admit 0a0b0c0d, proposed by 1f2e3d4c  (or: expel 0a0b0c0d)
//! [vote] 5e6f7a8b: accepted                              (or: rejected, failed)
//! [vote] 5e6f7a8b: authority 0a0b0c0d miscounted
//! [call] 1a2b3c4d incoming from anonymous (answer with /answer 1a2b)   (from 0a0b0c0d: if signed)
//! [call] 1a2b3c4d connected                              (also what /answer shows)
//! [call] 1a2b3c4d ended: the other end hung up           (or: the callee declined, no answer in time,
//!                                                         lost: nothing heard from the other end,
//!                                                         this node left the cluster, declined here,
//!                                                         hung up here, hung up here: the input file ended,
//!                                                         hung up here: the node is stopping)
//! [call] 1a2b3c4d heard 3.1 s, written to out.wav        (a call with OUT.wav ended)
//! ```
//!
//! and commands show what they did:
//!
//! ```text
//! [anon] thread 1a2b3c4d sent to 0a0b0c0d                (, signed: /anon-signed)
//! [anon] thread 1a2b3c4d reply sent                      (/reply)
//! [members] cluster 5a6b7c8d9e0f1a2b, epoch 2, 3 members (/members)
//! [members] 0a0b0c0d0e0f10111213141516171819 127.0.0.1:7001 heard 4 s ago
//! [members] 1f2e3d4c5b6a79881a2b3c4d5e6f7081 127.0.0.1:7000 this node
//! [members] anonymity: 2 members to hide among (3 live), first-spy precision 0.75, 4.0 stem hops expected, below the minimum of 5
//! [votes] 5e6f7a8b admit 0a0b0c0d, proposed by 1f2e3d4c, round 0, deadline in 52 s, open, my vote: none  (/votes)
//! [votes] no open votes
//! [vote] 5e6f7a8b: voted yes                             (/vote; or: voted no)
//! [vote] 9a8b7c6d: expel 0a0b0c0d proposed               (/expel)
//! [call] 1a2b3c4d calling 0a0b0c0d                       (/call; , signed: /call-signed)
//! [calls] 1a2b3c4d active, callee, with anonymous, for 12 s, frames sent 600, received 598  (/calls)
//! [calls] no calls
//! [status] 1f2e3d4c5b6a79881a2b3c4d5e6f7081 alice listening on 127.0.0.1:7000, cluster 5a6b7c8d9e0f1a2b, epoch 2, 2 peers  (/status)
//! [peers] 0a0b0c0d0e0f10111213141516171819 127.0.0.1:7001 heard 4 s ago  (/peers; or: no peers)
//! [help] /anon MEMBER TEXT         send TEXT anonymously to ...
//! ```
//!
//! Ids are the short hex of [`peerster_core::ids::MemberId::short`] (a thread's id is shown
//! the same way, the same at both ends), except the whole ids of `/members`; control
//! characters in a post or message are escaped (`\n`, `\u{1b}`), so that every event stays
//! one line. A node's own posts are not shown (the core delivers only others' posts).
//! Commands that fail are shown on standard error, and the node keeps running:
//!
//! ```text
//! peerster: post refused: not in a cluster
//! peerster: post refused: post of 20000 bytes is longer than 16384 bytes
//! peerster: gave up joining through 127.0.0.1:7000 after 30 s: 127.0.0.1:7000 is not a verified peer with a known announcement
//! peerster: line 3 of standard input is not UTF-8: not posted
//! peerster: unknown command /frobnicate: /help lists the commands
//! peerster: usage: /anon MEMBER TEXT
//! peerster: id prefix "1a2" is too short: type at least 4 hex digits
//! peerster: no member of the cluster has an id starting with 1a2b
//! peerster: 2 members have an id starting with 1a2b: type more of it (see /members)
//! peerster: no known thread has an id starting with 9f8e
//! peerster: anonymous message refused: cannot send an anonymous message to oneself
//! peerster: reply refused: no such conversation
//! peerster: no open vote has an id starting with 5e6f (see /votes)
//! peerster: vote refused: already voted
//! peerster: expulsion refused: a member cannot expel itself; leave the cluster instead
//! peerster: no call has an id starting with 9f9f (see /calls)
//! peerster: call refused: cannot call oneself
//! peerster: answer refused: the call is not waiting for an answer
//! peerster: cannot read in.wav: WAV file is 44100 Hz, 2 channel(s), 16-bit integer; call audio is 48000 Hz mono 16-bit integer (try: sox ...)
//! peerster: cannot write /nowhere/out.wav: WAV file: No such file or directory (os error 2)
//! ```
//!
//! Logs (`tracing`, filtered by `RUST_LOG`) go to standard error as well.
//!
//! # The data directory
//!
//! `peerster run` keeps its data in a directory: `--data-dir DIR`, or by default
//! `$XDG_DATA_HOME/peerster`, else `$HOME/.local/share/peerster` ([`default_data_dir`]),
//! created with mode 0700. It holds:
//!
//! ```text
//! identity       the node's Ed25519 secret, mode 0600: the line `peerster-identity v1`, the
//!                32-byte secret, the first 8 bytes of SHA-256 over both (61 bytes)
//! lock           the process id of the node running there
//! peers          the addresses of verified peers, most recent first: the line
//!                `peerster-peers v1`, then one `IP:PORT` per line, at most 64
//! cluster        the cluster membership, mode 0600, while the node is in a cluster: the line
//!                `peerster-cluster v1`, the encoded `peerster_core::ClusterState` (cluster
//!                id, limit, epoch, cluster key, this member's epoch secrets, member table,
//!                heartbeat chain generation, where the chat stands), the first 8 bytes of
//!                SHA-256 over both
//! control.sock   the control socket, while the node runs
//! ```
//!
//! The first start draws the identity from the OS and writes it; every later start runs as
//! it, and logs its fingerprint (`new identity created` or `identity loaded`, with the
//! whole fingerprint and the file). Files are written atomically (a temporary file of mode
//! 0600, `fsync`, rename, `fsync` of the directory), so a crash leaves the old file or the
//! new one. The node refuses to start, with a message naming the file and the fix, when the
//! identity file gives any permission to group or others (`chmod 600 FILE`, as ssh asks),
//! is not a regular file, or is empty, cut short, too long, of another format or fails its
//! checksum ([`IdentityError`], [`MalformedIdentity`]): never a silently new identity.
//!
//! One node runs per data directory: a second one refuses to start (`peerster: another node
//! runs on DIR (process PID, lock file DIR/lock) ...`, [`LockError`]). The lock is removed
//! when the node stops cleanly; a lock left by a process that is gone (`kill -9`, a crash) is
//! replaced, as is its control socket.
//!
//! At start the node connects to the addresses in `peers` as well as to the `--peer`s; the
//! file is rewritten, if the list changed, every [`SAVE_INTERVAL`] and when the node stops
//! cleanly, with the verified peers first and the addresses known before after them. A
//! damaged `peers` file is a warning in the log, and what can be read of it is used.
//!
//! # The control socket and `peerster ctl`
//!
//! In its data directory the node listens on the Unix socket `control.sock` (mode 0600),
//! served on the same `mio` poll as the UDP socket ([`Runtime::listen_control`]): each request
//! is one JSON line, carried out inside the loop by the same code as standard input's
//! commands, and answered with one JSON line. The protocol, its commands and the names in
//! its replies are described in [`control::protocol`]. A second node on the same data
//! directory refuses to start (see above); a socket left by a node that is gone is replaced;
//! the socket is removed when the node stops cleanly.
//!
//! `peerster ctl [--data-dir DIR] [--json] COMMAND` sends one request ([`request`]) and
//! prints the reply, as the node sent it with `--json`, else for people ([`readable_lines`]):
//! `key: value` lines for one object (`status`), aligned tables with a header for lists
//! (`members`, `peers`, `votes`, `inbox`, `calls`), one line per event for `watch`. It exits
//! with 1 if the command failed or no node runs there:
//!
//! ```text
//! peerster ctl status | peers | members | votes | calls | watch | leave
//! peerster ctl create-cluster [--limit N]
//! peerster ctl join ADDR
//! peerster ctl inbox [--limit N]
//! peerster ctl safety-number FINGERPRINT
//! peerster ctl post TEXT
//! peerster ctl send-anon FINGERPRINT TEXT [--sign]
//! peerster ctl reply THREAD TEXT
//! peerster ctl vote PROPOSAL yes|no
//! peerster ctl expel FINGERPRINT
//! peerster ctl call FINGERPRINT [--input IN.wav --output OUT.wav] [--sign] [--wait]
//! peerster ctl answer [CALL] [--input IN.wav --output OUT.wav]
//! peerster ctl decline [CALL]
//! peerster ctl hangup [CALL]
//! ```
//!
//! `call --wait` replies once the call ends, with why, the frames sent and received and how
//! many seconds of the other end were recorded: the same run as `peerster-sim call`, between
//! real nodes. Paths given to `ctl` are made absolute by the client.
//!
//! `join` replies at once that the join started (it is retried as for `--join`); the outcome
//! shows in `watch` and `status`. `inbox` lists the latest posts and anonymous messages the
//! node received or sent since it started (up to 1000, not kept across restarts), each with
//! its `kind` (`post` or `anon`), `text`, `thread` (anonymous only), `from` (the author for
//! posts; for anonymous messages only if signed) and, for this node's anonymous messages,
//! `state` (`sent`, `delivered` or `failed`). `safety-number` prints the code two members
//! compare in person to check that each holds the other's true identity key
//! ([`safety_number`]).
//!
//! `peerster tui [--data-dir DIR]` is a terminal UI on the same socket ([`tui`]): it watches
//! the node's events on one connection, refreshes its panels every second with requests on
//! another, and sends what is typed on its input line (the standard-input commands).
//!
//! # Restarts
//!
//! The cluster file is written atomically whenever the membership changes (a join, a key
//! rollout, a new cluster, a post of this node) and when the node stops cleanly, and removed
//! when it leaves or is removed. A node started on a data directory that holds one resumes
//! that membership at once, with no vote ([`Runtime::keep_cluster`]; `--create-cluster` and
//! `--join` are then ignored with a warning): back within the member timeout (5 minutes), the
//! others keep it; if they rolled the key meanwhile it gets the rollout from a member still
//! holding the old epoch; if it was dropped, it shows `[cluster] removed from ...` and
//! removes the file. Like the identity, a cluster file readable by others, damaged, or of
//! another identity stops the node with a message naming the file ([`ClusterFileError`]):
//! removing it starts the node outside any cluster.
//!
//! # LAN discovery
//!
//! `peerster run --discover` (off by default: announcing oneself is the user's choice) makes
//! the node multicast a 15-byte beacon (magic, version, its UDP port, a tag drawn at each
//! start to recognise its own) every 4 to 6 s to [`discovery::DISCOVERY_GROUP`] on port
//! [`discovery::DISCOVERY_PORT`], TTL 1, on the interface of `--listen`, and start a handshake
//! with each node whose beacon it hears, as `--peer` would; beacons are checked and the
//! connects they cause bounded ([`discovery`]).

mod atomic_file;
mod call_audio;
mod clock;
mod cluster_file;
mod commands;
mod console;
pub mod control;
mod ctl;
mod data_dir;
pub mod demo;
pub mod discovery;
mod display;
mod entropy;
mod error;
mod event_loop;
mod identity_file;
mod in_process;
mod inbox;
mod join_retry;
mod known_peers;
mod lock_file;
mod options;
mod outcome;
mod parse;
mod private_file;
mod report;
pub mod safety_number;
mod shutdown;
mod signals;
mod stdin;
mod threads;
pub mod tui;
mod udp;

pub use clock::Clock;
pub use cluster_file::{CLUSTER_FILE, CLUSTER_MAGIC, MalformedClusterFile, cluster_path};
pub use commands::{CallFiles, Command, CommandSender};
pub use console::Console;
pub use ctl::{CtlConnection, CtlError, readable_lines, request};
pub use data_dir::{control_socket, data_dir_or_default, default_data_dir};
pub use entropy::{fresh_identity, os_seed};
pub use error::{
    CallAudioError, ClusterFileError, CommandFailure, ControlError, IdentityError, InputError,
    LockError, RuntimeError, RuntimeStopped,
};
pub use event_loop::Runtime;
pub use identity_file::{
    IDENTITY_FILE, IDENTITY_FILE_LEN, IDENTITY_MAGIC, MalformedIdentity, identity_path,
};
pub use in_process::LocalNode;
pub use known_peers::{MAX_KNOWN_PEERS, PEERS_FILE, PEERS_MAGIC, SAVE_INTERVAL};
pub use lock_file::LOCK_FILE;
pub use options::{ClusterStart, DEFAULT_NAME, NodeOptions};
pub use parse::{IdPrefix, ParseError};
pub use shutdown::ShutdownHandle;

use peerster_core::crypto::IdentityKey;
use peerster_core::{Config, Stats};

/// The wire version of the core this runtime drives, for `--version` output.
pub const WIRE_VERSION: u8 = peerster_core::wire::WIRE_VERSION;

/// Runs a node as `options` say, showing its events on standard output and posting (or
/// carrying out) the lines of standard input, and returns its counters once SIGINT or SIGTERM
/// stops it: what `peerster run` does.
///
/// The node locks its data directory, runs as the identity kept there (created at the first
/// start), and connects to the known peers saved there as well as to `--peer`s.
pub fn run_node(options: &NodeOptions) -> Result<Stats, RuntimeError> {
    let (mut runtime, lock) = start_node(options, Config::default(), Some(Console::stdio()))?;
    runtime.stop_on_signals()?;
    stdin::spawn_reader(runtime.commands()).map_err(RuntimeError::Stdin)?;
    let stats = runtime.run();
    // The control socket goes before the lock: no moment when a node seems to run unlocked.
    drop(runtime);
    drop(lock);
    stats
}

/// Sets up the node `options` describe, under `config` (its `auto_vote` replaced by the
/// options'), ready to [`run`](Runtime::run): locks its data directory, loads (or creates)
/// its identity, announces it, listens on its control socket, shows its events on `console`
/// if given, connects to its peers and founds or starts joining a cluster. The lock is held
/// until the returned [`DataDirLock`](lock_file::DataDirLock) is dropped, after the runtime.
fn start_node(
    options: &NodeOptions,
    config: Config,
    console: Option<Console>,
) -> Result<(Runtime, lock_file::DataDirLock), RuntimeError> {
    let config = Config {
        auto_vote: options.auto_vote,
        ..config
    };
    let data_dir = data_dir::data_dir_or_default(options.data_dir.as_deref())?;
    data_dir::prepare(&data_dir)?;
    let lock = lock_file::DataDirLock::acquire(&data_dir)?;
    let identity = load_identity(&data_dir)?;
    let mut runtime = Runtime::with_identity(options.listen, config, identity)?;
    let resumed = runtime.keep_cluster(&data_dir)?;
    if options.discover {
        runtime.discover()?;
    }
    runtime
        .announce(&options.name)
        .map_err(RuntimeError::Announce)?;
    runtime.listen_control(&data_dir)?;
    if let Some(console) = console {
        runtime.print_to(console);
    }
    let contact = match options.cluster {
        ClusterStart::Join(contact) => Some(contact),
        ClusterStart::None | ClusterStart::Create { .. } => None,
    };
    let known = runtime.remember_peers(&data_dir);
    let mut connected = Vec::new();
    for &peer in options.peers.iter().chain(&known) {
        if Some(peer) != contact && peer != runtime.local_addr() && !connected.contains(&peer) {
            runtime.connect(peer);
            connected.push(peer);
        }
    }
    match options.cluster {
        ClusterStart::None => {}
        _ if resumed.is_some() => {
            tracing::warn!(
                "the cluster membership saved in the data directory was resumed: \
                 --create-cluster and --join are ignored (leave the cluster first)"
            );
        }
        ClusterStart::Create { limit } => {
            runtime
                .create_cluster(limit)
                .map_err(RuntimeError::CreateCluster)?;
        }
        ClusterStart::Join(contact) => runtime.join(contact),
    }
    Ok((runtime, lock))
}

/// The identity kept in `data_dir` (created at the first start), logged with its fingerprint.
fn load_identity(data_dir: &std::path::Path) -> Result<IdentityKey, RuntimeError> {
    let (identity, origin) = identity_file::load_or_create(data_dir)?;
    let fingerprint: String = identity
        .public()
        .member_id()
        .0
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let file = identity_file::identity_path(data_dir);
    match origin {
        identity_file::IdentityOrigin::Created => {
            tracing::info!(%fingerprint, file = %file.display(), "new identity created");
        }
        identity_file::IdentityOrigin::Loaded => {
            tracing::info!(%fingerprint, file = %file.display(), "identity loaded");
        }
    }
    Ok(identity)
}
