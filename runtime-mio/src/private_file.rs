//! Reading a private file of the data directory (the identity, the cluster state): a regular
//! file, not a link, that gives no permission to group or others, read up to a bound into
//! memory that is zeroized when dropped.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The length of the checksum that ends a private file.
pub(crate) const CHECKSUM_LEN: usize = 8;

/// Why a private file could not be read.
#[derive(Debug)]
pub(crate) enum PrivateReadError {
    /// The OS refused.
    Io(io::Error),
    /// A directory, a symbolic link or another kind of file.
    NotRegularFile,
    /// It gives some permission (the bits `mode`) to group or others.
    TooOpen { mode: u32 },
}

/// Reads `path`, refusing anything but a private regular file, and returning at most
/// `max + 1` bytes (so that the caller tells a file that is too long from one that fits).
pub(crate) fn read(path: &Path, max: usize) -> Result<Zeroizing<Vec<u8>>, PrivateReadError> {
    // Not followed: a link could lead anywhere.
    let link = std::fs::symlink_metadata(path).map_err(PrivateReadError::Io)?;
    if !link.is_file() {
        return Err(PrivateReadError::NotRegularFile);
    }
    let file = File::open(path).map_err(PrivateReadError::Io)?;
    let metadata = file.metadata().map_err(PrivateReadError::Io)?;
    if !metadata.is_file() {
        return Err(PrivateReadError::NotRegularFile);
    }
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(PrivateReadError::TooOpen { mode });
    }
    // Room for it all up front: growing would leave copies of a secret in freed memory.
    let mut bytes = Zeroizing::new(vec![0u8; max + 1]);
    let mut len = 0;
    let mut reader = file.take(bytes.len() as u64);
    loop {
        match reader.read(&mut bytes[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(PrivateReadError::Io(error)),
        }
    }
    bytes.truncate(len);
    Ok(bytes)
}

/// The checksum that ends a private file: the first [`CHECKSUM_LEN`] bytes of SHA-256 over
/// its first line `magic` and its `body`.
pub(crate) fn checksum(magic: &[u8], body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::new()
        .chain_update(magic)
        .chain_update(body)
        .finalize();
    let mut sum = [0u8; CHECKSUM_LEN];
    sum.copy_from_slice(&digest[..CHECKSUM_LEN]);
    sum
}
