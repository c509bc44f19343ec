//! The discovery socket: UDP bound to the beacon group and port, shared with the other nodes
//! on the host (`SO_REUSEADDR`, `SO_REUSEPORT`), member of the group on one interface, and
//! sending with TTL 1 so that beacons never leave the link.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use socket2::{Domain, Protocol, Socket, Type};

/// Opens the discovery socket for `group:port` on the interface with the address
/// `interface` (unspecified: the one the OS picks for multicast).
pub(crate) fn open(
    group: Ipv4Addr,
    port: u16,
    interface: Ipv4Addr,
) -> io::Result<mio::net::UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    // Bound to the group, not to the wildcard: only datagrams sent to the group arrive here.
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(group, port)).into())?;
    socket.join_multicast_v4(&group, &interface)?;
    socket.set_multicast_if_v4(&interface)?;
    socket.set_multicast_ttl_v4(1)?;
    // Other nodes on this host hear the beacons too (the node ignores its own).
    socket.set_multicast_loop_v4(true)?;
    Ok(mio::net::UdpSocket::from_std(socket.into()))
}
