//! The node's UDP socket: non-blocking sends and receives that never truncate and never panic.

use std::io;
use std::net::SocketAddr;

use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};
use peerster_core::Transmit;
use tracing::{debug, warn};

/// Receive buffer size: larger than any UDP payload (65,507 bytes over IPv4, 65,527 over IPv6
/// without jumbograms), so a datagram is always read whole, even one the node will refuse.
const RECV_BUFFER_SIZE: usize = 1 << 16;

/// What one receive attempt gave.
pub(crate) enum Received<'a> {
    /// A whole datagram and its sender.
    Datagram(SocketAddr, &'a [u8]),
    /// Nothing waiting: the socket is drained until its next readiness event.
    Drained,
    /// A transient error reported on the socket (an ICMP error from an earlier send, say);
    /// more datagrams may be waiting.
    Transient,
    /// An unexpected error; the caller should stop reading until the next readiness event.
    Failed,
}

/// What one send attempt gave.
pub(crate) enum Sent {
    /// The datagram went out, or failed for good and was dropped (and logged).
    Done,
    /// The socket's send buffer is full: retry when it becomes writable.
    WouldBlock,
}

/// The node's UDP socket with its receive buffer and I/O error counters.
pub(crate) struct Udp {
    socket: UdpSocket,
    buffer: Box<[u8]>,
    /// Whether the socket is registered for WRITABLE as well as READABLE.
    wants_writable: bool,
    /// Datagrams that failed to send for a reason other than a full buffer.
    pub(crate) send_errors: u64,
    /// Receive errors other than "nothing waiting".
    pub(crate) recv_errors: u64,
}

impl Udp {
    /// Wraps `socket` and registers it for READABLE on `registry` as `token`.
    pub(crate) fn register(
        mut socket: UdpSocket,
        registry: &Registry,
        token: Token,
    ) -> io::Result<Udp> {
        registry.register(&mut socket, token, Interest::READABLE)?;
        Ok(Udp {
            socket,
            buffer: vec![0; RECV_BUFFER_SIZE].into_boxed_slice(),
            wants_writable: false,
            send_errors: 0,
            recv_errors: 0,
        })
    }

    /// Receives one datagram, if one is waiting.
    pub(crate) fn recv(&mut self) -> Received<'_> {
        loop {
            match self.socket.recv_from(&mut self.buffer) {
                Ok((len, from)) => return Received::Datagram(from, &self.buffer[..len]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Received::Drained,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) if is_transient(&error) => {
                    // Linux reports an ICMP "port unreachable" for an earlier send this way.
                    self.recv_errors += 1;
                    debug!(%error, "receive error ignored");
                    return Received::Transient;
                }
                Err(error) => {
                    self.recv_errors += 1;
                    warn!(%error, "receive failed");
                    return Received::Failed;
                }
            }
        }
    }

    /// Sends `transmit`; a failure other than a full send buffer drops it and is logged.
    pub(crate) fn send(&mut self, transmit: &Transmit) -> Sent {
        loop {
            match self.socket.send_to(&transmit.payload, transmit.destination) {
                Ok(len) if len == transmit.payload.len() => return Sent::Done,
                Ok(len) => {
                    self.send_errors += 1;
                    warn!(to = %transmit.destination, len, expected = transmit.payload.len(),
                        "datagram sent truncated");
                    return Sent::Done;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Sent::WouldBlock,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.send_errors += 1;
                    if is_transient(&error) {
                        debug!(to = %transmit.destination, %error, "send failed");
                    } else {
                        warn!(to = %transmit.destination, %error, "send failed");
                    }
                    return Sent::Done;
                }
            }
        }
    }

    /// Registers for WRITABLE too (`true`, while a send is blocked) or READABLE only.
    pub(crate) fn want_writable(
        &mut self,
        registry: &Registry,
        token: Token,
        writable: bool,
    ) -> io::Result<()> {
        if self.wants_writable == writable {
            return Ok(());
        }
        let interest = if writable {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        registry.reregister(&mut self.socket, token, interest)?;
        self.wants_writable = writable;
        Ok(())
    }
}

/// Errors that say something about one peer or route, not about the socket.
fn is_transient(error: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        error.kind(),
        ConnectionRefused | ConnectionReset | HostUnreachable | NetworkUnreachable
    )
}
