//! What the runtime logs about the node: its events, the datagrams it refused, its final
//! counters.

use std::net::SocketAddr;

use peerster_core::{DropStats, Event, Stats};
use tracing::{debug, info, trace};

/// Logs one node event at info.
pub(crate) fn event(event: &Event) {
    match event {
        Event::PeerVerified { addr, peer, .. } => info!(%addr, %peer, "peer verified"),
        Event::PeerUnreachable { addr } => info!(%addr, "peer unreachable"),
        Event::PeerLost { addr, peer } => info!(%addr, %peer, "peer lost"),
        // The text is the user's to show (on the console), not the log's.
        Event::Post {
            author, position, ..
        } => debug!(%author, epoch = %position.epoch, seq = position.seq, "post delivered"),
        // Fifty a second per call: only at trace, without the audio.
        Event::VoiceFrame { seq, data, .. } => trace!(seq, len = data.len(), "voice frame"),
        other => info!(event = ?other, "node event"),
    }
}

/// Logs at debug why the node refused a datagram from `from`, told by how its drop counters
/// moved from `before` to `after` while it handled the datagram.
pub(crate) fn refused(from: SocketAddr, len: usize, before: &DropStats, after: &DropStats) {
    if before == after {
        return;
    }
    let reasons = [
        ("malformed", before.malformed, after.malformed),
        ("bad signature", before.bad_signature, after.bad_signature),
        ("unexpected", before.unexpected, after.unexpected),
        (
            "unpadded hello",
            before.unpadded_hello,
            after.unpadded_hello,
        ),
    ];
    let mut named = false;
    for (reason, was, is) in reasons {
        if is > was {
            named = true;
            debug!(%from, len, reason, "datagram refused");
        }
    }
    if !named {
        // A drop reason this runtime does not name yet.
        debug!(%from, len, drops = ?after, "datagram refused");
    }
}

/// Logs the final line of a run: the node's counters and the runtime's I/O errors.
pub(crate) fn stopped(stats: &Stats, peers: usize, send_errors: u64, recv_errors: u64) {
    info!(
        peers,
        datagrams_received = stats.datagrams_received,
        bytes_received = stats.bytes_received,
        datagrams_sent = stats.datagrams_sent,
        bytes_sent = stats.bytes_sent,
        handshakes_completed = stats.handshakes_completed,
        send_errors,
        recv_errors,
        dropped = ?stats.dropped,
        "node stopped"
    );
}
