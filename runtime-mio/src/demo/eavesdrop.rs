//! What an expelled member could still get hold of: the cluster frames the others send after
//! the key rollout, copied off the wire ([`Runtime::tap`](crate::Runtime::tap)) and handed to
//! its socket, as an eavesdropper on the network would.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::Receiver;

use peerster_core::Transmit;
use peerster_core::wire::{self, Packet};

/// Copies of sent datagrams held unread at most, per tapped node.
pub(super) const TAP_CAPACITY: usize = 4096;

/// The copies of what some nodes sent.
pub(super) struct Wiretap {
    taps: Vec<Receiver<Transmit>>,
}

impl Wiretap {
    /// A wiretap on these nodes' copies.
    pub(super) fn new(taps: Vec<Receiver<Transmit>>) -> Wiretap {
        Wiretap { taps }
    }

    /// The sealed cluster frames sent since the taps were set up (or last taken).
    pub(super) fn cluster_frames(&self) -> Vec<Vec<u8>> {
        (self.taps.iter())
            .flat_map(Receiver::try_iter)
            .filter(|sent| matches!(wire::decode(&sent.payload), Ok(Packet::Sealed(_))))
            .map(|sent| sent.payload)
            .collect()
    }
}

/// Sends each of `frames` to `to` from a fresh loopback socket.
pub(super) fn replay(frames: &[Vec<u8>], to: SocketAddr) -> io::Result<()> {
    let socket = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    for frame in frames {
        socket.send_to(frame, to)?;
    }
    Ok(())
}
