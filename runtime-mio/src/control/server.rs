//! [`ControlServer`]: the control socket's listener and connections on the runtime's `mio`
//! poll, non-blocking, with bounded buffers: it accepts clients, cuts what they send into
//! lines, answers the lines that are not requests itself, and hands the requests to the
//! event loop, which replies through [`ControlServer::reply`].

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use peerster_core::CallId;
use serde_json::Value;
use tracing::{debug, info, warn};

use super::protocol::{self, Action};
use super::render;
use crate::error::ControlError;

/// The listener's token; connections take tokens from [`FIRST_CONNECTION`] up.
pub(crate) const LISTENER: Token = Token(3);
/// The first token of a connection.
const FIRST_CONNECTION: usize = 16;
/// Longest request line, without its line break.
pub(crate) const MAX_LINE: usize = 64 * 1024;
/// Most bytes waiting to be written to one client; a client that lets more pile up (a
/// watcher that does not read) is disconnected.
const MAX_OUTBOX: usize = 1024 * 1024;
/// Most clients connected at once.
pub(crate) const MAX_CONNECTIONS: usize = 16;
/// Most request lines taken from one connection in one turn of the loop.
const LINES_PER_TURN: usize = 16;
/// Most connections accepted in one turn of the loop.
const ACCEPTS_PER_TURN: usize = 32;

/// What a connection is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Taking requests, one line each.
    Requests,
    /// Waiting for the end of this call (a `call` with `wait`): takes no more requests.
    Waiting(CallId),
    /// Streaming events: takes no more requests.
    Watching,
}

/// One client.
#[derive(Debug)]
struct Connection {
    stream: UnixStream,
    /// What was read and not yet cut into lines (at most [`MAX_LINE`] + a read's worth).
    inbox: Vec<u8>,
    /// What waits to be written.
    outbox: Vec<u8>,
    mode: Mode,
    /// Whether the socket may have more to read (readiness is edge-triggered), or whole
    /// lines wait in `inbox`: the loop must come back without waiting for an event.
    more: bool,
    /// The client closed its end: read nothing more, close once what it sent is answered.
    eof: bool,
    /// Close once `outbox` is written; read nothing more.
    closing: bool,
    /// Requests handed to the loop and not answered yet.
    awaiting: usize,
    /// Gone: drop it.
    dead: bool,
}

/// The control socket: its listener, its path (removed when the server is dropped) and its
/// clients.
#[derive(Debug)]
pub(crate) struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
    connections: BTreeMap<Token, Connection>,
    next_token: usize,
    /// Whether connections may wait to be accepted beyond those accepted this turn.
    accept_more: bool,
    /// The requests read, in order, for the loop to carry out.
    requests: Vec<(Token, Action)>,
}

impl ControlServer {
    /// Listens on `path` (mode 0600) and registers with `registry`. A socket file left there
    /// by a node that is gone is replaced; one a node still answers on is an error.
    pub(crate) fn bind(path: &Path, registry: &Registry) -> Result<ControlServer, ControlError> {
        let listen_error = |source| ControlError::Listen {
            socket: path.to_path_buf(),
            source,
        };
        if path.exists() {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(ControlError::AlreadyRunning {
                    dir: path.parent().unwrap_or(path).to_path_buf(),
                    socket: path.to_path_buf(),
                });
            }
            info!(path = %path.display(), "removing a stale control socket");
            std::fs::remove_file(path).map_err(listen_error)?;
        }
        let listener = UnixListener::bind(path).map_err(listen_error)?;
        // Built now, so that dropping it removes the file if what follows fails.
        let mut server = ControlServer {
            listener,
            path: path.to_path_buf(),
            connections: BTreeMap::new(),
            next_token: FIRST_CONNECTION,
            accept_more: true,
            requests: Vec::new(),
        };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(listen_error)?;
        registry
            .register(&mut server.listener, LISTENER, Interest::READABLE)
            .map_err(listen_error)?;
        info!(path = %path.display(), "control socket listening");
        Ok(server)
    }

    /// Whether `token` is the listener's or a connection's.
    pub(crate) fn owns(token: Token) -> bool {
        token == LISTENER || token.0 >= FIRST_CONNECTION
    }

    /// Notes that `token` is ready: its connection (or the listener) is served in the next
    /// [`ControlServer::serve`].
    pub(crate) fn ready(&mut self, token: Token) {
        if token == LISTENER {
            self.accept_more = true;
        } else if let Some(connection) = self.connections.get_mut(&token) {
            connection.more = true;
            // Writable or readable: try both.
            connection.flush();
        }
    }

    /// Whether there is work left that no event will announce: the loop must not sleep.
    pub(crate) fn busy(&self) -> bool {
        self.accept_more || self.connections.values().any(|c| c.more)
    }

    /// Accepts waiting clients, reads what they sent and answers the lines that are not
    /// requests; the requests read are left for [`ControlServer::take_requests`]. Once they
    /// are answered, [`ControlServer::reap`] drops the connections that are done.
    pub(crate) fn serve(&mut self, registry: &Registry) {
        if self.accept_more {
            self.accept(registry);
        }
        for (&token, connection) in &mut self.connections {
            if connection.more {
                connection.more = false;
                connection.pump(token, &mut self.requests);
            }
        }
    }

    /// The requests read since the last call, in order.
    pub(crate) fn take_requests(&mut self) -> Vec<(Token, Action)> {
        std::mem::take(&mut self.requests)
    }

    /// Queues `reply` as one line for the client at `token` (gone: dropped quietly).
    pub(crate) fn reply(&mut self, token: Token, reply: &Value) {
        if let Some(connection) = self.connections.get_mut(&token) {
            connection.awaiting = connection.awaiting.saturating_sub(1);
            connection.send(reply);
        }
    }

    /// Makes the client at `token` wait for the end of `call`: it takes no more requests.
    pub(crate) fn wait_for_call(&mut self, token: Token, call: CallId) {
        if let Some(connection) = self.connections.get_mut(&token) {
            connection.awaiting = connection.awaiting.saturating_sub(1);
            connection.mode = Mode::Waiting(call);
        }
    }

    /// The calls clients wait for.
    pub(crate) fn waited_calls(&self) -> impl Iterator<Item = CallId> + '_ {
        self.connections.values().filter_map(|c| match c.mode {
            Mode::Waiting(call) => Some(call),
            _ => None,
        })
    }

    /// Replies `report` to the clients waiting for the end of `call`, and closes their
    /// connections once it is written.
    pub(crate) fn call_ended(&mut self, call: CallId, report: &Value) {
        for connection in self.connections.values_mut() {
            if connection.mode == Mode::Waiting(call) {
                connection.closing = true;
                connection.send(report);
            }
        }
    }

    /// Makes the client at `token` a watcher: it gets [`ControlServer::event`]s.
    pub(crate) fn watch(&mut self, token: Token) {
        if let Some(connection) = self.connections.get_mut(&token) {
            connection.mode = Mode::Watching;
        }
    }

    /// Whether any client watches events.
    pub(crate) fn has_watchers(&self) -> bool {
        (self.connections.values()).any(|c| c.mode == Mode::Watching)
    }

    /// Sends `event` to every watcher.
    pub(crate) fn event(&mut self, event: &Value) {
        for connection in self.connections.values_mut() {
            if connection.mode == Mode::Watching {
                connection.send(event);
            }
        }
    }

    /// Accepts the clients waiting, up to [`ACCEPTS_PER_TURN`]; beyond [`MAX_CONNECTIONS`]
    /// a client gets an error and is closed.
    fn accept(&mut self, registry: &Registry) {
        self.accept_more = false;
        for _ in 0..ACCEPTS_PER_TURN {
            let mut stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    // Out of file descriptors, say: try again next turn rather than spin.
                    warn!(%error, "control connection not accepted");
                    return;
                }
            };
            if self.connections.len() >= MAX_CONNECTIONS {
                debug!("control connection refused: too many");
                let line = line_of(&render::error(&format!(
                    "too many control connections (at most {MAX_CONNECTIONS})"
                )));
                // Best effort: the socket is new, its buffer empty.
                let _ = stream.write(&line);
                continue;
            }
            let token = Token(self.next_token);
            self.next_token += 1;
            let interest = Interest::READABLE | Interest::WRITABLE;
            if let Err(error) = registry.register(&mut stream, token, interest) {
                warn!(%error, "control connection not registered");
                continue;
            }
            debug!(?token, "control connection accepted");
            self.connections.insert(
                token,
                Connection {
                    stream,
                    inbox: Vec::new(),
                    outbox: Vec::new(),
                    mode: Mode::Requests,
                    more: true,
                    eof: false,
                    closing: false,
                    awaiting: 0,
                    dead: false,
                },
            );
        }
        self.accept_more = true;
    }

    /// Drops the connections that are done: failed, or closed with everything answered.
    pub(crate) fn reap(&mut self, registry: &Registry) {
        self.connections.retain(|token, connection| {
            let done = connection.finished();
            if done {
                debug!(?token, "control connection closed");
                if let Err(error) = registry.deregister(&mut connection.stream) {
                    debug!(%error, "control connection not deregistered");
                }
            }
            !done
        });
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_file(&self.path) {
            warn!(%error, path = %self.path.display(), "control socket not removed");
        }
    }
}

impl Connection {
    /// Reads what the client sent, takes up to [`LINES_PER_TURN`] lines out of it, and
    /// queues the requests among them (the other lines get their error at once).
    fn pump(&mut self, token: Token, requests: &mut Vec<(Token, Action)>) {
        self.read();
        let mut lines = 0;
        while !self.closing && !self.dead {
            let end = match self.inbox.iter().position(|&b| b == b'\n') {
                Some(end) => end,
                None if self.inbox.len() > MAX_LINE => {
                    self.refuse_long_line();
                    break;
                }
                // The client closed its end after a last line without a line break.
                None if self.eof && !self.inbox.is_empty() => {
                    self.inbox.push(b'\n');
                    self.inbox.len() - 1
                }
                None => break,
            };
            if lines == LINES_PER_TURN || self.mode != Mode::Requests {
                // More next turn; or, waiting or watching, none until that ends.
                self.more = self.mode == Mode::Requests;
                break;
            }
            lines += 1;
            let line: Vec<u8> = self.inbox.drain(..=end).collect();
            let line = &line[..end];
            if line.len() > MAX_LINE {
                self.refuse_long_line();
                break;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match protocol::parse(line) {
                Ok(action) => {
                    self.awaiting += 1;
                    requests.push((token, action));
                }
                Err(error) => self.send(&render::error(&error)),
            }
        }
        self.flush();
    }

    /// Reads until the socket would block, the client closed its end, or `inbox` holds more
    /// than a line may.
    fn read(&mut self) {
        let mut chunk = [0u8; 8192];
        while !self.dead && !self.closing && !self.eof {
            if self.inbox.len() > MAX_LINE {
                // Whole lines or a line too long: `pump` deals with them, then reads on.
                self.more = true;
                return;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    // The client closed its end: answer what it sent, then close; nobody
                    // is left to wait or watch for.
                    self.eof = true;
                    if matches!(self.mode, Mode::Watching | Mode::Waiting(_)) {
                        self.dead = true;
                    }
                }
                Ok(n) if self.mode == Mode::Requests => self.inbox.extend_from_slice(&chunk[..n]),
                // Waiting or watching: what else the client sends is ignored.
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    debug!(%error, "control connection failed");
                    self.dead = true;
                }
            }
        }
    }

    /// Answers a line longer than [`MAX_LINE`] with an error and closes the connection.
    fn refuse_long_line(&mut self) {
        self.send(&render::error(&format!(
            "request line longer than {MAX_LINE} bytes: closing the connection"
        )));
        self.inbox = Vec::new();
        self.closing = true;
    }

    /// Queues `value` as one line and writes what the socket takes; a client with more than
    /// [`MAX_OUTBOX`] bytes waiting is dropped.
    fn send(&mut self, value: &Value) {
        self.outbox.extend_from_slice(&line_of(value));
        if self.outbox.len() > MAX_OUTBOX {
            warn!("control client does not read its replies: disconnected");
            self.dead = true;
            return;
        }
        self.flush();
    }

    /// Whether the connection is done: failed, or closed by either end with everything
    /// answered and written.
    fn finished(&self) -> bool {
        self.dead
            || (self.outbox.is_empty()
                && self.awaiting == 0
                && (self.closing || (self.eof && !self.more && self.mode == Mode::Requests)))
    }

    /// Writes what waits until the socket would block.
    fn flush(&mut self) {
        while !self.outbox.is_empty() && !self.dead {
            match self.stream.write(&self.outbox) {
                Ok(0) => self.dead = true,
                Ok(n) => {
                    self.outbox.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    debug!(%error, "control connection failed");
                    self.dead = true;
                }
            }
        }
    }
}

/// `value` as one line of JSON.
fn line_of(value: &Value) -> Vec<u8> {
    let mut line = value.to_string().into_bytes();
    line.push(b'\n');
    line
}
