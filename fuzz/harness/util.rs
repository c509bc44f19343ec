//! Small helpers several targets share: addresses of hosts and byte strings fitted to a
//! length.

use std::net::SocketAddr;

/// The address of host `i` of 256: `10.0.0.i:7000`.
pub(super) fn addr(i: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, i], 7000))
}

/// `bytes` cut or zero-extended to exactly `len` bytes.
pub(super) fn fitted(bytes: &[u8], len: usize) -> Vec<u8> {
    let mut out = bytes[..bytes.len().min(len)].to_vec();
    out.resize(len, 0);
    out
}
