//! [`Runtime`]: one node, one UDP socket and one `mio` poll, driven until asked to stop.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::Duration;

use mio::{Events, Poll, Token, Waker};
use peerster_core::crypto::IdentityKey;
use peerster_core::{CallId, CallInfo, Config, Event, Node, Stats, Timestamp, Transmit};
use tracing::{debug, info, warn};

use crate::call_audio::CallAudio;
use crate::clock::Clock;
use crate::cluster_file::ClusterFile;
use crate::commands::{self, CommandSender, Queued};
use crate::console::Console;
use crate::control::server::ControlServer;
use crate::discovery::Discovery;
use crate::display::{self, LocalEnd};
use crate::entropy::{fresh_identity, os_seed};
use crate::error::RuntimeError;
use crate::inbox::Inbox;
use crate::join_retry::JoinRetry;
use crate::known_peers::KnownPeers;
use crate::report;
use crate::shutdown::ShutdownHandle;
use crate::signals::TermSignals;
use crate::threads::KnownThreads;
use crate::udp::{Received, Sent, Udp};

mod calls;
mod control;
mod inbox;
mod membership;
mod user;

const SOCKET: Token = Token(0);
const WAKER: Token = Token(1);
const SIGNALS: Token = Token(2);
/// The discovery socket (the control socket's tokens are 3 and from 16 on).
const DISCOVERY: Token = Token(4);

/// Most datagrams read in one turn of the loop, so that a flood cannot starve sends and timers.
const RECV_BATCH: usize = 256;
/// Longest sleep while a send is blocked, a safety net should the WRITABLE event not come.
const BLOCKED_SEND_RECHECK: Duration = Duration::from_millis(100);

/// A Peerster node on a UDP socket: owns the socket, the [`Node`], the [`Clock`] it reads time
/// from, and the `mio` poll that sleeps until the next datagram, command, deadline or voice
/// tick. The user's commands and what the user is shown are in the `user` submodule, calls
/// and their audio in `calls`, the control socket in `control`.
pub struct Runtime {
    poll: Poll,
    events: Events,
    udp: Udp,
    local_addr: SocketAddr,
    node: Node,
    clock: Clock,
    shutdown: ShutdownHandle,
    signals: Option<TermSignals>,
    subscribers: Vec<SyncSender<Event>>,
    /// Where copies of the datagrams sent go ([`Runtime::tap`]).
    taps: Vec<SyncSender<Transmit>>,
    /// Where events and failed commands are shown, if anywhere.
    console: Option<Console>,
    commands: Receiver<Queued>,
    command_sender: CommandSender,
    /// Whether commands may still be waiting (a turn carries out a bounded batch).
    commands_waiting: bool,
    /// A join the node could not send yet.
    join: Option<JoinRetry>,
    /// The anonymous conversations seen lately, for `/reply`.
    threads: KnownThreads,
    /// The latest posts and anonymous messages, for `inbox`.
    inbox: Inbox,
    /// The audio of the calls, and the 20 ms voice tick while one is connected.
    audio: CallAudio,
    /// The calls this node is ending itself, and why, for their `ended` line.
    local_ends: BTreeMap<CallId, LocalEnd>,
    /// The control socket, once [`Runtime::listen_control`] set it up.
    control: Option<ControlServer>,
    /// The calls control clients wait for, with their latest counts.
    waited: BTreeMap<CallId, CallInfo>,
    /// The known-peers file, once [`Runtime::remember_peers`] set it up.
    known_peers: Option<KnownPeers>,
    /// The cluster file, once [`Runtime::keep_cluster`] set it up.
    cluster_file: Option<ClusterFile>,
    /// Whether the membership changed since the cluster file was last written.
    cluster_changed: bool,
    /// A datagram the socket refused with `WouldBlock`, sent first once it is writable.
    blocked: Option<Transmit>,
    /// Whether datagrams may still be waiting on the socket (readiness is edge-triggered).
    readable: bool,
    /// LAN discovery, once [`Runtime::discover`] turned it on.
    discovery: Option<Discovery>,
}

impl Runtime {
    /// Binds a UDP socket on `listen` and starts a node with a fresh identity and a CSPRNG
    /// seed, both drawn from the OS.
    pub fn bind(listen: SocketAddr, config: Config) -> Result<Runtime, RuntimeError> {
        Runtime::with_identity(listen, config, fresh_identity()?)
    }

    /// Binds a UDP socket on `listen` and starts a node with `identity` and a CSPRNG seed
    /// drawn from the OS.
    pub fn with_identity(
        listen: SocketAddr,
        config: Config,
        identity: IdentityKey,
    ) -> Result<Runtime, RuntimeError> {
        let bind_error = |source| RuntimeError::Bind {
            addr: listen,
            source,
        };
        let socket = mio::net::UdpSocket::bind(listen).map_err(bind_error)?;
        let local_addr = socket.local_addr().map_err(bind_error)?;
        let poll = Poll::new().map_err(RuntimeError::EventLoop)?;
        let udp =
            Udp::register(socket, poll.registry(), SOCKET).map_err(RuntimeError::EventLoop)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER).map_err(RuntimeError::EventLoop)?);
        let shutdown = ShutdownHandle::new(Arc::clone(&waker));
        let (command_sender, commands) = commands::channel(waker);
        let clock = Clock::start();
        let node = Node::new(config, identity, os_seed()?, clock.now())?;
        info!(addr = %local_addr, id = %node.id(), wire = crate::WIRE_VERSION, "listening");
        Ok(Runtime {
            poll,
            events: Events::with_capacity(64),
            udp,
            local_addr,
            node,
            clock,
            shutdown,
            signals: None,
            subscribers: Vec::new(),
            taps: Vec::new(),
            console: None,
            commands,
            command_sender,
            commands_waiting: false,
            join: None,
            threads: KnownThreads::default(),
            inbox: Inbox::default(),
            audio: CallAudio::default(),
            local_ends: BTreeMap::new(),
            control: None,
            waited: BTreeMap::new(),
            known_peers: None,
            cluster_file: None,
            cluster_changed: false,
            blocked: None,
            readable: true,
            discovery: None,
        })
    }

    /// The address the socket is bound to (with the port the OS picked if it was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The node this runtime drives, to read its id, peers and counters.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Starts a handshake with the node at `addr`; the datagrams go out once [`Runtime::run`]
    /// runs.
    pub fn connect(&mut self, addr: SocketAddr) {
        info!(%addr, "connecting");
        self.node.connect(self.clock.now(), addr);
    }

    /// Turns on LAN discovery: multicasts this node's port every few seconds and connects to
    /// the nodes whose beacons it hears (see [`crate::discovery`]).
    pub fn discover(&mut self) -> Result<(), RuntimeError> {
        if self.discovery.is_none() {
            let discovery = Discovery::start(
                self.local_addr,
                self.poll.registry(),
                DISCOVERY,
                self.clock.now(),
            )?;
            self.discovery = Some(discovery);
        }
        Ok(())
    }

    /// Keeps the addresses of the verified peers in the known-peers file `peers` of
    /// `data_dir`: saved every few minutes if they changed and when [`Runtime::run`] returns.
    /// Returns the addresses the file lists now, for the caller to connect to; a damaged file
    /// is logged and read as far as it can be.
    pub fn remember_peers(&mut self, data_dir: &Path) -> Vec<SocketAddr> {
        let known = KnownPeers::load(data_dir, self.clock.now());
        let addresses = known.addresses().to_vec();
        info!(count = addresses.len(), "known peers read");
        self.known_peers = Some(known);
        addresses
    }

    /// Saves the known peers, if [`Runtime::remember_peers`] asked for it.
    fn save_known_peers(&mut self) {
        let Some(known) = self.known_peers.as_mut() else {
            return;
        };
        let mut verified: Vec<_> = self
            .node
            .peers()
            .filter(|&(addr, _)| addr != self.local_addr)
            .map(|(addr, peer)| (peer.last_heard, addr))
            .collect();
        // Most recently heard first.
        verified.sort_by(|a, b| b.cmp(a));
        let verified: Vec<_> = verified.into_iter().map(|(_, addr)| addr).collect();
        known.save(&verified, self.clock.now());
    }

    /// A handle that stops [`Runtime::run`] from any thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Makes SIGINT and SIGTERM stop [`Runtime::run`]; a second one while stopping ends the
    /// process with exit code 1. The handlers stay installed for the life of the process.
    pub fn stop_on_signals(&mut self) -> Result<(), RuntimeError> {
        if self.signals.is_none() {
            let signals = TermSignals::register(self.poll.registry(), SIGNALS)
                .map_err(RuntimeError::Signals)?;
            self.signals = Some(signals);
        }
        Ok(())
    }

    /// A channel that receives a copy of every node event, holding at most `capacity` unread
    /// ones; events that find it full are dropped for this channel (and still logged).
    pub fn subscribe(&mut self, capacity: usize) -> Receiver<Event> {
        let (sender, receiver) = mpsc::sync_channel(capacity);
        self.subscribers.push(sender);
        receiver
    }

    /// A channel that receives a copy of every datagram this node sends, holding at most
    /// `capacity` unread ones (copies that find it full are dropped): what an eavesdropper on
    /// the network sees, for `peerster demo` to show that an expelled member cannot read
    /// what the cluster says after it.
    pub fn tap(&mut self, capacity: usize) -> Receiver<Transmit> {
        let (sender, receiver) = mpsc::sync_channel(capacity);
        self.taps.push(sender);
        receiver
    }

    /// Runs the node until a [`ShutdownHandle`] or a signal stops it, then returns its counters.
    /// Calls still going on are hung up (their output files written) before it returns.
    ///
    /// Network input and per-datagram I/O errors are logged and survived; only a failing
    /// event queue ends the run early, with [`RuntimeError::EventLoop`].
    pub fn run(&mut self) -> Result<Stats, RuntimeError> {
        while !self.shutdown.is_requested() {
            self.turn()?;
        }
        self.hang_up_all();
        // Report what happened since the last turn, so that nothing the node saw goes unlogged.
        self.dispatch_events();
        // The hang-ups, best effort.
        self.flush_transmits();
        self.save_known_peers();
        // Last, with the heartbeat chain as it stands now.
        self.save_cluster(true);
        let stats = self.node.stats();
        let peers = self.node.peers().count();
        report::stopped(&stats, peers, self.udp.send_errors, self.udp.recv_errors);
        Ok(stats)
    }

    /// One turn: send, report, sleep until something happens, then feed it to the node.
    fn turn(&mut self) -> Result<(), RuntimeError> {
        self.flush_transmits();
        self.dispatch_events();
        let timeout = self.poll_timeout();
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(RuntimeError::EventLoop(e)),
        }
        let mut signalled = false;
        let mut control_ready = Vec::new();
        for event in self.events.iter() {
            match event.token() {
                SOCKET => self.readable |= event.is_readable() || event.is_error(),
                SIGNALS => signalled = true,
                DISCOVERY => {
                    if let Some(discovery) = self.discovery.as_mut() {
                        discovery.ready();
                    }
                }
                token if ControlServer::owns(token) => control_ready.push(token),
                // WAKER: the shutdown flag is checked by `run`, commands below.
                _ => {}
            }
        }
        for token in control_ready {
            self.control_ready(token);
        }
        if signalled {
            self.handle_signals();
        }
        let received = self.readable && self.receive_batch();
        let now = self.clock.now();
        if self
            .node
            .poll_timeout()
            .is_some_and(|deadline| deadline <= now)
        {
            self.node.handle_timeout(now);
        }
        self.discover_turn(now);
        self.take_commands();
        self.serve_control();
        self.voice_tick();
        if self
            .join
            .as_ref()
            .is_some_and(|join| received || join.next_try() <= now)
        {
            self.retry_join(now);
        }
        self.note_waited_calls();
        // After commands: a new cluster or an own post changed the membership.
        self.save_cluster(false);
        if self
            .known_peers
            .as_ref()
            .is_some_and(|known| known.next_save() <= now)
        {
            self.save_known_peers();
        }
        Ok(())
    }

    /// How long the poll may sleep: not past the node's next deadline, the next try of a
    /// waiting join or the next voice tick, not at all while datagrams or commands may be
    /// waiting.
    fn poll_timeout(&self) -> Option<Duration> {
        let discovery_readable = self.discovery.as_ref().is_some_and(Discovery::readable);
        if self.readable || discovery_readable || self.commands_waiting || self.control_busy() {
            return Some(Duration::ZERO);
        }
        let deadline = [
            self.join.as_ref().map(JoinRetry::next_try),
            self.audio.next_tick(),
            self.known_peers.as_ref().map(KnownPeers::next_save),
            self.discovery.as_ref().map(Discovery::next_beacon),
        ]
        .into_iter()
        .fold(self.node.poll_timeout(), earliest);
        let until_deadline = deadline.map(|d| self.clock.until(d));
        if self.blocked.is_some() {
            return Some(
                until_deadline.map_or(BLOCKED_SEND_RECHECK, |d| d.min(BLOCKED_SEND_RECHECK)),
            );
        }
        until_deadline
    }

    /// Sends what the node wants sent until it has nothing left or the socket would block.
    fn flush_transmits(&mut self) {
        while let Some(transmit) = self.blocked.take().or_else(|| self.node.poll_transmit()) {
            if let Sent::WouldBlock = self.udp.send(&transmit) {
                debug!(to = %transmit.destination, "send buffer full, waiting until writable");
                self.blocked = Some(transmit);
                break;
            }
            if !self.taps.is_empty() {
                self.taps.retain(|tap| {
                    !matches!(
                        tap.try_send(transmit.clone()),
                        Err(TrySendError::Disconnected(_))
                    )
                });
            }
        }
        let writable = self.blocked.is_some();
        if let Err(error) = self
            .udp
            .want_writable(self.poll.registry(), SOCKET, writable)
        {
            warn!(%error, writable, "could not change the socket's poll interest");
        }
    }

    /// Reads up to [`RECV_BATCH`] datagrams and hands each to the node; whether there was one.
    fn receive_batch(&mut self) -> bool {
        let mut received = false;
        for _ in 0..RECV_BATCH {
            match self.udp.recv() {
                Received::Datagram(from, datagram) => {
                    received = true;
                    if datagram.len() > peerster_core::wire::MAX_DATAGRAM_SIZE {
                        debug!(%from, len = datagram.len(), "oversized datagram");
                    }
                    let before = self.node.stats().dropped;
                    self.node.handle_datagram(self.clock.now(), from, datagram);
                    report::refused(from, datagram.len(), &before, &self.node.stats().dropped);
                }
                Received::Transient => {}
                Received::Drained | Received::Failed => {
                    // After a failure, wait for the next readiness event rather than spin.
                    self.readable = false;
                    break;
                }
            }
        }
        received
    }

    /// Sends the beacon if due and connects to the nodes whose beacons arrived.
    fn discover_turn(&mut self, now: Timestamp) {
        let Some(discovery) = self.discovery.as_mut() else {
            return;
        };
        discovery.beacon_if_due(now);
        if !discovery.readable() {
            return;
        }
        let node = &self.node;
        let found = discovery.receive(now, self.local_addr, |addr| node.peer(addr).is_some());
        for addr in found {
            self.connect(addr);
        }
    }

    /// Logs every node event, shows it on the console and copies it to the subscribers that
    /// still listen.
    fn dispatch_events(&mut self) {
        while let Some(event) = self.node.poll_event() {
            report::event(&event);
            self.watchers_see(&event);
            if let Some(line) = display::event_line(&event) {
                self.show(&line);
            }
            self.on_call_event(&event);
            self.note_in_inbox(&event);
            self.note_cluster_change(&event);
            if let Event::AnonMessage { thread, .. }
            | Event::AnonDelivered { thread, .. }
            | Event::AnonFailed { thread, .. } = event
            {
                self.threads.note(thread);
            }
            if let Event::PeerUnreachable { addr } = event
                && self.join.as_ref().is_some_and(|j| j.contact() == addr)
            {
                // The contact of a waiting join did not answer yet: keep trying to reach it
                // until the join gives up.
                info!(%addr, "connecting again to the contact of the join");
                self.node.connect(self.clock.now(), addr);
            }
            self.subscribers.retain(|s| {
                !matches!(
                    s.try_send(event.clone()),
                    Err(TrySendError::Disconnected(_))
                )
            });
        }
        self.save_cluster(false);
    }

    /// Starts the shutdown if a termination signal arrived.
    fn handle_signals(&mut self) {
        let Some(signals) = self.signals.as_mut() else {
            return;
        };
        for name in signals.drain() {
            info!(signal = name, "shutting down");
            self.shutdown.shutdown();
        }
    }
}

/// The earlier of two optional deadlines.
fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("local_addr", &self.local_addr)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}
