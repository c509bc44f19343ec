//! The `decode` target: any bytes into the datagram and padding decoders.

use peerster_core::wire;

/// Any bytes into the datagram and padding decoders: never a panic, and whatever decodes
/// re-encodes to the same bytes (one encoding per packet).
pub fn decode(data: &[u8]) {
    if let Ok(packet) = wire::decode(data) {
        let again = wire::encode(&packet).expect("a decoded packet re-encodes");
        assert_eq!(again, data, "two encodings of one {} packet", packet.kind());
    }
    let _ = wire::padding::unpad(data);
}
