//! Padding of cluster payloads to fixed sizes.
//!
//! A padded buffer is a little-endian `u16` payload length, the payload, then zero bytes up to
//! the requested size. The zeros are checked on the way in: a buffer with a non-zero pad byte
//! or a length that runs past its end is refused, so there is exactly one encoding of each
//! payload at each size.

use super::DecodeError;

/// Bytes the length prefix takes.
pub const LENGTH_PREFIX: usize = 2;

/// Pads `payload` to exactly `padded_len` bytes, or returns `None` if it does not fit.
pub fn pad(payload: &[u8], padded_len: usize) -> Option<Vec<u8>> {
    let len = u16::try_from(payload.len()).ok()?;
    if payload.len() + LENGTH_PREFIX > padded_len {
        return None;
    }
    let mut out = Vec::with_capacity(padded_len);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(payload);
    out.resize(padded_len, 0);
    Some(out)
}

/// Returns the payload inside a padded buffer.
pub fn unpad(padded: &[u8]) -> Result<&[u8], DecodeError> {
    let (prefix, rest) = padded
        .split_first_chunk::<LENGTH_PREFIX>()
        .ok_or(DecodeError::BadPadding)?;
    let len = usize::from(u16::from_le_bytes(*prefix));
    if len > rest.len() {
        return Err(DecodeError::BadPadding);
    }
    let (payload, zeros) = rest.split_at(len);
    if zeros.iter().any(|&b| b != 0) {
        return Err(DecodeError::BadPadding);
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refuses_nonzero_padding_and_overlong_length() {
        let mut padded = pad(b"hi", 8).unwrap();
        assert_eq!(padded, [2, 0, b'h', b'i', 0, 0, 0, 0]);
        padded[7] = 1;
        assert_eq!(unpad(&padded), Err(DecodeError::BadPadding));
        assert_eq!(unpad(&[9, 0, 1, 2]), Err(DecodeError::BadPadding));
        assert_eq!(unpad(&[1]), Err(DecodeError::BadPadding));
        assert_eq!(pad(b"toolong", 8), None);
    }

    proptest! {
        #[test]
        fn pad_then_unpad_is_identity(payload in proptest::collection::vec(any::<u8>(), 0..300), extra in 0usize..64) {
            let padded = pad(&payload, payload.len() + LENGTH_PREFIX + extra).unwrap();
            prop_assert_eq!(padded.len(), payload.len() + LENGTH_PREFIX + extra);
            prop_assert_eq!(unpad(&padded).unwrap(), &payload[..]);
        }

        #[test]
        fn unpad_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = unpad(&bytes);
        }
    }
}
