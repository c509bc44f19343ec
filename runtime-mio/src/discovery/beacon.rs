//! [`Beacon`]: the datagram a discovering node multicasts, and its strict decoding.
//!
//! A beacon is [`Beacon::LEN`] bytes: the magic `PSTR`, the format version, the node's UDP
//! listen port (big-endian) and an instance tag: 8 random bytes drawn at each start, so that
//! a node recognises its own beacons looped back to it. It names no identity, no name and no
//! cluster: only what a handshake with the sender's address would reveal anyway.

use thiserror::Error;

/// The first bytes of every beacon.
pub const BEACON_MAGIC: [u8; 4] = *b"PSTR";
/// The beacon format this runtime sends and accepts.
pub const BEACON_VERSION: u8 = 1;

/// What a node announces on the LAN: where to reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Beacon {
    /// The UDP port the node listens on (never 0).
    pub port: u16,
    /// Random bytes drawn at the node's start, the same in all its beacons: lets a node
    /// ignore its own beacons.
    pub instance: [u8; 8],
}

/// Why a datagram on the discovery port is not a beacon.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BeaconError {
    /// Not exactly [`Beacon::LEN`] bytes.
    #[error("{0} bytes, a beacon has {len}", len = Beacon::LEN)]
    Length(usize),
    /// Does not start with [`BEACON_MAGIC`].
    #[error("no beacon magic")]
    Magic,
    /// A version other than [`BEACON_VERSION`].
    #[error("beacon version {0}, this node speaks {BEACON_VERSION}")]
    Version(u8),
    /// Announces port 0.
    #[error("announced port 0")]
    PortZero,
}

impl Beacon {
    /// The length of every beacon, in bytes.
    pub const LEN: usize = 4 + 1 + 2 + 8;

    /// The beacon's bytes.
    pub fn encode(&self) -> [u8; Beacon::LEN] {
        let mut bytes = [0; Beacon::LEN];
        bytes[..4].copy_from_slice(&BEACON_MAGIC);
        bytes[4] = BEACON_VERSION;
        bytes[5..7].copy_from_slice(&self.port.to_be_bytes());
        bytes[7..].copy_from_slice(&self.instance);
        bytes
    }

    /// Reads a beacon from an untrusted datagram; anything but a well-formed beacon of this
    /// version is refused.
    pub fn decode(datagram: &[u8]) -> Result<Beacon, BeaconError> {
        let bytes: &[u8; Beacon::LEN] = datagram
            .try_into()
            .map_err(|_| BeaconError::Length(datagram.len()))?;
        if bytes[..4] != BEACON_MAGIC {
            return Err(BeaconError::Magic);
        }
        if bytes[4] != BEACON_VERSION {
            return Err(BeaconError::Version(bytes[4]));
        }
        let port = u16::from_be_bytes([bytes[5], bytes[6]]);
        if port == 0 {
            return Err(BeaconError::PortZero);
        }
        let mut instance = [0; 8];
        instance.copy_from_slice(&bytes[7..]);
        Ok(Beacon { port, instance })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEACON: Beacon = Beacon {
        port: 7000,
        instance: [1, 2, 3, 4, 5, 6, 7, 8],
    };

    #[test]
    fn a_beacon_decodes_to_itself() {
        let bytes = BEACON.encode();
        assert_eq!(bytes.len(), Beacon::LEN);
        assert_eq!(&bytes[..4], b"PSTR");
        assert_eq!(Beacon::decode(&bytes), Ok(BEACON));
        let other = Beacon {
            port: u16::MAX,
            instance: [0xff; 8],
        };
        assert_eq!(Beacon::decode(&other.encode()), Ok(other));
    }

    #[test]
    fn wrong_lengths_are_refused() {
        let bytes = BEACON.encode();
        assert_eq!(Beacon::decode(&[]), Err(BeaconError::Length(0)));
        assert_eq!(
            Beacon::decode(&bytes[..Beacon::LEN - 1]),
            Err(BeaconError::Length(Beacon::LEN - 1))
        );
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert_eq!(
            Beacon::decode(&longer),
            Err(BeaconError::Length(Beacon::LEN + 1))
        );
        assert_eq!(
            Beacon::decode(&[0; 65_507]),
            Err(BeaconError::Length(65_507))
        );
    }

    #[test]
    fn wrong_magic_version_or_port_are_refused() {
        for at in 0..4 {
            let mut bytes = BEACON.encode();
            bytes[at] ^= 0x20;
            assert_eq!(Beacon::decode(&bytes), Err(BeaconError::Magic), "byte {at}");
        }
        let mut bytes = BEACON.encode();
        bytes[4] = BEACON_VERSION + 1;
        assert_eq!(
            Beacon::decode(&bytes),
            Err(BeaconError::Version(BEACON_VERSION + 1))
        );
        let zero = Beacon { port: 0, ..BEACON };
        assert_eq!(Beacon::decode(&zero.encode()), Err(BeaconError::PortZero));
    }

    #[test]
    fn garbage_of_every_short_length_is_refused() {
        // A cheap deterministic generator: no two inputs alike, no dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for len in 0..64 {
            for _ in 0..64 {
                let garbage: Vec<u8> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect();
                // Random bytes almost never carry the magic; whatever they carry, decoding
                // must not panic and must refuse any length but a beacon's.
                let decoded = Beacon::decode(&garbage);
                if len != Beacon::LEN {
                    assert_eq!(decoded, Err(BeaconError::Length(len)));
                } else if garbage[..4] != BEACON_MAGIC {
                    assert_eq!(decoded, Err(BeaconError::Magic));
                }
            }
        }
    }
}
