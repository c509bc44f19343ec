//! Synthetic node addresses: node `i` answers at `10.x.y.z:7000`, where `x.y.z` is `i + 1`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Index of a node in a [`Simulation`](crate::Simulation): its position in creation order.
pub type NodeIndex = usize;

/// The UDP port every simulated node listens on.
pub const PORT: u16 = 7000;

/// The first address handed out (node 0): `10.0.0.1`.
const FIRST: u32 = 0x0a00_0001;

/// How many nodes fit in `10.0.0.0/8` after `10.0.0.0`.
pub const MAX_NODES: usize = 0x00ff_ffff;

/// The synthetic address of node `i`: `10.x.y.z:7000`, increasing with `i`.
///
/// # Panics
///
/// If `i` is not below [`MAX_NODES`].
pub fn address_of(i: NodeIndex) -> SocketAddr {
    assert!(
        i < MAX_NODES,
        "node index {i} is beyond the 10.0.0.0/8 address plan"
    );
    // In range by the assertion above.
    let ip = Ipv4Addr::from(FIRST + i as u32);
    SocketAddr::new(IpAddr::V4(ip), PORT)
}

/// The index encoded in `addr`, if it is an address [`address_of`] hands out.
///
/// Whether a node with that index exists is for the simulation to say.
pub fn index_of(addr: SocketAddr) -> Option<NodeIndex> {
    let SocketAddr::V4(v4) = addr else {
        return None;
    };
    if v4.port() != PORT {
        return None;
    }
    let offset = u32::from(*v4.ip()).checked_sub(FIRST)? as usize;
    (offset < MAX_NODES).then_some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_sort_in_index_order_and_map_back() {
        let addrs: Vec<_> = (0..600).map(address_of).collect();
        assert!(addrs.windows(2).all(|w| w[0] < w[1]));
        for (i, addr) in addrs.iter().enumerate() {
            assert_eq!(index_of(*addr), Some(i));
        }
        assert_eq!(address_of(0).to_string(), "10.0.0.1:7000");
        assert_eq!(address_of(256).to_string(), "10.0.1.1:7000");
    }

    #[test]
    fn foreign_addresses_have_no_index() {
        for addr in [
            "10.0.0.0:7000",
            "10.0.0.1:7001",
            "11.0.0.1:7000",
            "[::1]:7000",
        ] {
            assert_eq!(index_of(addr.parse().unwrap()), None, "{addr}");
        }
    }
}
