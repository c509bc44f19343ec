//! LAN discovery (`peerster run --discover`, off by default: announcing oneself is the
//! user's choice): a node multicasts a small [`Beacon`] to [`DISCOVERY_GROUP`]:[`DISCOVERY_PORT`]
//! every few seconds, with TTL 1, and connects, through the core's ordinary handshake, to
//! the nodes whose beacons it hears.
//!
//! Beacons are untrusted: anything but a well-formed beacon is dropped, the node ignores its
//! own (by their instance tag), senders that are already peers, and senders whose address
//! cannot be a node's; connects are bounded (a set of at most [`MAX_FOUND`] addresses, one
//! connect per address per [`RECONNECT_AFTER`], a token bucket for all of them).
//!
//! The beacons go out on the interface of the `--listen` address (any IPv4 address; the
//! unspecified one lets the OS pick), so a node on 127.0.0.1 announces itself to the nodes on
//! the same host only.

mod beacon;
mod found;
mod schedule;
mod socket;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};
use peerster_core::Timestamp;
use thiserror::Error;
use tracing::{debug, info, warn};

pub use beacon::{BEACON_MAGIC, BEACON_VERSION, Beacon, BeaconError};
pub use found::{CONNECT_BURST, CONNECT_REFILL, MAX_FOUND, RECONNECT_AFTER};
pub use schedule::{BEACON_INTERVAL, BEACON_JITTER};

use found::{Found, Verdict};

/// The IPv4 multicast group of the beacons (administratively scoped, 239.255.0.0/16).
pub const DISCOVERY_GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 80, 83);
/// The UDP port of the beacons, shared by every discovering node of a host.
pub const DISCOVERY_PORT: u16 = 47_683;

/// Most datagrams read from the discovery socket in one turn of the loop.
const RECV_BATCH: usize = 32;
/// Receive buffer: larger than a beacon, so that a longer datagram shows its excess length.
const RECV_BUFFER: usize = 64;

/// Why discovery could not start.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The node listens on IPv6; beacons are IPv4 multicast.
    #[error("--discover needs an IPv4 --listen address (beacons are IPv4 multicast), not {0}")]
    NotIpv4(SocketAddr),
    /// The socket could not be opened, bound, joined to the group or registered.
    #[error("cannot open the discovery socket {DISCOVERY_GROUP}:{DISCOVERY_PORT}: {0}")]
    Socket(#[source] io::Error),
    /// The OS's random number generator failed.
    #[error("OS random number generator failed: {0}")]
    Entropy(getrandom::Error),
}

/// The discovery of one node: its socket, its beacon and when it goes out next, and the
/// addresses found.
#[derive(Debug)]
pub(crate) struct Discovery {
    socket: UdpSocket,
    beacon: Beacon,
    next_beacon: Timestamp,
    found: Found,
    /// Whether datagrams may be waiting on the socket (readiness is edge-triggered).
    readable: bool,
    buffer: [u8; RECV_BUFFER],
}

impl Discovery {
    /// Opens the discovery socket for a node listening on `listen` (the port it bound) and
    /// registers it on `registry` as `token`; the first beacon goes out shortly after `now`.
    pub(crate) fn start(
        listen: SocketAddr,
        registry: &Registry,
        token: Token,
        now: Timestamp,
    ) -> Result<Discovery, DiscoveryError> {
        let SocketAddr::V4(listen_v4) = listen else {
            return Err(DiscoveryError::NotIpv4(listen));
        };
        let mut socket = socket::open(DISCOVERY_GROUP, DISCOVERY_PORT, *listen_v4.ip())
            .map_err(DiscoveryError::Socket)?;
        registry
            .register(&mut socket, token, Interest::READABLE)
            .map_err(DiscoveryError::Socket)?;
        let mut instance = [0; 8];
        getrandom::fill(&mut instance).map_err(DiscoveryError::Entropy)?;
        info!(group = %DISCOVERY_GROUP, port = DISCOVERY_PORT, interface = %listen_v4.ip(),
            "discovery on: announcing this node's port on the LAN");
        Ok(Discovery {
            socket,
            beacon: Beacon {
                port: listen.port(),
                instance,
            },
            next_beacon: schedule::first_beacon(now, random()),
            found: Found::new(now),
            readable: true,
            buffer: [0; RECV_BUFFER],
        })
    }

    /// When the next beacon is due.
    pub(crate) fn next_beacon(&self) -> Timestamp {
        self.next_beacon
    }

    /// Whether beacons may be waiting to be read.
    pub(crate) fn readable(&self) -> bool {
        self.readable
    }

    /// Notes a readiness event of the socket.
    pub(crate) fn ready(&mut self) {
        self.readable = true;
    }

    /// Sends the beacon if it is due at `now`, and schedules the next one.
    pub(crate) fn beacon_if_due(&mut self, now: Timestamp) {
        if now < self.next_beacon {
            return;
        }
        let destination = SocketAddr::from((DISCOVERY_GROUP, DISCOVERY_PORT));
        match self.socket.send_to(&self.beacon.encode(), destination) {
            Ok(_) => debug!(port = self.beacon.port, "beacon sent"),
            // A full buffer or a missing route: the next beacon comes soon enough.
            Err(error) => debug!(%error, "beacon not sent"),
        }
        self.next_beacon = schedule::next_beacon(now, random());
    }

    /// Reads up to a batch of beacons and gives the addresses to connect to now: those of
    /// well-formed beacons of other nodes that are not peers yet (`is_peer`), as far as the
    /// connect budget allows.
    pub(crate) fn receive(
        &mut self,
        now: Timestamp,
        own: SocketAddr,
        is_peer: impl Fn(&SocketAddr) -> bool,
    ) -> Vec<SocketAddr> {
        let mut connect = Vec::new();
        for _ in 0..RECV_BATCH {
            let (len, from) = match self.socket.recv_from(&mut self.buffer) {
                Ok(received) => received,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    warn!(%error, "discovery receive failed");
                    self.readable = false;
                    break;
                }
            };
            let beacon = match Beacon::decode(&self.buffer[..len]) {
                Ok(beacon) => beacon,
                Err(error) => {
                    debug!(%from, %error, "not a beacon");
                    continue;
                }
            };
            if beacon.instance == self.beacon.instance {
                continue;
            }
            let Some(addr) = node_addr(from, beacon.port) else {
                debug!(%from, "beacon from an address no node has");
                continue;
            };
            if addr == own || is_peer(&addr) || connect.contains(&addr) {
                continue;
            }
            match self.found.admit(now, addr) {
                Verdict::Connect => {
                    info!(%addr, "node discovered");
                    connect.push(addr);
                }
                verdict => debug!(%addr, ?verdict, "discovered node not connected to"),
            }
        }
        connect
    }
}

/// The node address a beacon from `from` announcing `port` names: the sender's IP and the
/// announced port, if that IP can be a node's (unicast, specified).
fn node_addr(from: SocketAddr, port: u16) -> Option<SocketAddr> {
    let IpAddr::V4(ip) = from.ip() else {
        return None;
    };
    if ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast() {
        return None;
    }
    Some(SocketAddr::from((ip, port)))
}

/// A random number for the beacon's jitter (not secret; a zero if the OS fails us).
fn random() -> u64 {
    getrandom::u64().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beacons_name_the_senders_ip_and_the_announced_port() {
        let from = SocketAddr::from(([192, 168, 1, 20], DISCOVERY_PORT));
        assert_eq!(
            node_addr(from, 7000),
            Some(SocketAddr::from(([192, 168, 1, 20], 7000)))
        );
        for bad in [
            SocketAddr::from(([0, 0, 0, 0], 1)),
            SocketAddr::from(([239, 255, 80, 83], 1)),
            SocketAddr::from(([255, 255, 255, 255], 1)),
            "[fe80::1]:1".parse().unwrap(),
        ] {
            assert_eq!(node_addr(bad, 7000), None, "{bad}");
        }
    }

    /// Reads what `discovery` finds within a moment, as the loop would on readiness.
    fn found_within_a_moment(
        discovery: &mut Discovery,
        own: SocketAddr,
        is_peer: impl Fn(&SocketAddr) -> bool,
    ) -> Vec<SocketAddr> {
        std::thread::sleep(std::time::Duration::from_millis(200));
        discovery.ready();
        let mut found = Vec::new();
        while discovery.readable() {
            found.extend(discovery.receive(Timestamp::from_secs(1), own, &is_peer));
        }
        found
    }

    #[test]
    fn two_nodes_on_loopback_hear_each_other_and_not_themselves_nor_garbage() {
        // Needs IPv4 multicast on the loopback interface, as the real-process test does.
        let poll = mio::Poll::new().unwrap();
        let a_addr = SocketAddr::from(([127, 0, 0, 1], 41_001));
        let b_addr = SocketAddr::from(([127, 0, 0, 1], 41_002));
        let mut a = Discovery::start(a_addr, poll.registry(), Token(1), Timestamp::ZERO).unwrap();
        let mut b = Discovery::start(b_addr, poll.registry(), Token(2), Timestamp::ZERO).unwrap();
        let garbage = socket::open(DISCOVERY_GROUP, DISCOVERY_PORT, Ipv4Addr::LOCALHOST).unwrap();
        let group = SocketAddr::from((DISCOVERY_GROUP, DISCOVERY_PORT));
        let zero_port = Beacon {
            port: 0,
            instance: [9; 8],
        };
        for bad in [
            &b"PSTR"[..],
            &[0; Beacon::LEN],
            &zero_port.encode(),
            &[0xff; 60],
        ] {
            garbage.send_to(bad, group).unwrap();
        }
        a.beacon_if_due(Timestamp::from_secs(1));
        assert!(
            a.next_beacon() > Timestamp::from_secs(4),
            "the next beacon waits"
        );

        // A peer already connected is not connected to again; a node does not connect to
        // itself; garbage leads nowhere.
        let as_peer = found_within_a_moment(&mut b, b_addr, |addr| *addr == a_addr);
        assert!(!as_peer.contains(&a_addr), "{as_peer:?}");
        let heard_by_a = found_within_a_moment(&mut a, a_addr, |_| false);
        assert!(!heard_by_a.contains(&a_addr), "own beacon: {heard_by_a:?}");
        for addr in heard_by_a.iter().chain(&as_peer) {
            // Other discovering nodes of this host may be heard; garbage never.
            assert_ne!(addr.port(), 0, "{addr}");
        }

        // A node that is not a peer is connected to, once.
        a.beacon_if_due(Timestamp::from_secs(10));
        let heard_by_b = found_within_a_moment(&mut b, b_addr, |_| false);
        assert!(heard_by_b.contains(&a_addr), "{heard_by_b:?}");
        a.beacon_if_due(Timestamp::from_secs(20));
        let again = found_within_a_moment(&mut b, b_addr, |_| false);
        assert!(!again.contains(&a_addr), "{again:?}");
    }

    #[test]
    fn an_ipv6_node_cannot_discover() {
        let poll = mio::Poll::new().unwrap();
        let listen: SocketAddr = "[::1]:7000".parse().unwrap();
        let refused = Discovery::start(listen, poll.registry(), Token(9), Timestamp::ZERO);
        assert!(matches!(refused, Err(DiscoveryError::NotIpv4(a)) if a == listen));
    }
}
