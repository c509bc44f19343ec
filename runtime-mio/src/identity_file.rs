//! The node's identity on disk: `DATA_DIR/identity`, mode 0600, holding its Ed25519 secret.
//!
//! The file is 61 bytes: the line `peerster-identity v1\n` ([`IDENTITY_MAGIC`]), the 32-byte secret,
//! then the first 8 bytes of SHA-256 over the magic line and the secret. A file that is
//! empty, cut short, too long, of another format or altered is refused with its own
//! [`IdentityError`], never replaced by a new identity; so is a file that is not a regular
//! file or that gives any permission to group or others (as ssh refuses such a key).

use std::io;
use std::path::{Path, PathBuf};

use peerster_core::crypto::IdentityKey;
use zeroize::Zeroizing;

use crate::atomic_file;
use crate::entropy::fresh_identity;
use crate::error::IdentityError;
use crate::private_file::{self, PrivateReadError};

/// The identity file's name in the data directory.
pub const IDENTITY_FILE: &str = "identity";
/// The first line of an identity file: its format and version.
pub const IDENTITY_MAGIC: &[u8] = b"peerster-identity v1\n";
const SECRET_LEN: usize = 32;
/// The length of an identity file.
pub const IDENTITY_FILE_LEN: usize = IDENTITY_MAGIC.len() + SECRET_LEN + private_file::CHECKSUM_LEN;

/// Where a node's identity came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdentityOrigin {
    /// Read from the identity file.
    Loaded,
    /// Drawn from the OS and written to the identity file: the first start on this data
    /// directory.
    Created,
}

/// The identity file's path in the data directory `dir`.
pub fn identity_path(dir: &Path) -> PathBuf {
    dir.join(IDENTITY_FILE)
}

/// Reads the identity kept in the data directory `dir`, or, if there is none, draws one from
/// the OS and writes it there (atomically, mode 0600). The caller holds the directory's lock.
pub(crate) fn load_or_create(dir: &Path) -> Result<(IdentityKey, IdentityOrigin), IdentityError> {
    let path = identity_path(dir);
    // A temporary file left by a crash while the identity was first written: never renamed,
    // so never the identity. It may hold a secret: remove it.
    atomic_file::remove_if_present(&atomic_file::temp_path(&path)).map_err(|source| {
        IdentityError::Io {
            path: atomic_file::temp_path(&path),
            source,
        }
    })?;
    match std::fs::symlink_metadata(&path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let identity = fresh_identity().map_err(|error| IdentityError::Entropy {
                reason: error.to_string(),
            })?;
            save(&path, &identity)?;
            Ok((identity, IdentityOrigin::Created))
        }
        Err(source) => Err(IdentityError::Io { path, source }),
        Ok(_) => Ok((load(&path)?, IdentityOrigin::Loaded)),
    }
}

/// Reads the identity file at `path`, refusing one that is not a private regular file or not
/// a well-formed identity file.
pub(crate) fn load(path: &Path) -> Result<IdentityKey, IdentityError> {
    let bytes = private_file::read(path, IDENTITY_FILE_LEN).map_err(|error| match error {
        PrivateReadError::Io(source) => IdentityError::Io {
            path: path.to_path_buf(),
            source,
        },
        PrivateReadError::NotRegularFile => IdentityError::NotRegularFile {
            path: path.to_path_buf(),
        },
        PrivateReadError::TooOpen { mode } => IdentityError::TooOpen {
            path: path.to_path_buf(),
            mode,
        },
    })?;
    decode(&bytes).map_err(|problem| IdentityError::Malformed {
        path: path.to_path_buf(),
        problem,
    })
}

/// Writes `identity` to `path`, atomically, as a file of mode 0600.
pub(crate) fn save(path: &Path, identity: &IdentityKey) -> Result<(), IdentityError> {
    let bytes = encode(identity);
    atomic_file::write_atomically(path, bytes.as_slice()).map_err(|source| IdentityError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The identity file's contents for `identity`.
fn encode(identity: &IdentityKey) -> Zeroizing<Vec<u8>> {
    let secret = identity.secret_bytes();
    let mut bytes = Zeroizing::new(Vec::with_capacity(IDENTITY_FILE_LEN));
    bytes.extend_from_slice(IDENTITY_MAGIC);
    bytes.extend_from_slice(secret.as_slice());
    bytes.extend_from_slice(&private_file::checksum(IDENTITY_MAGIC, secret.as_slice()));
    bytes
}

/// The identity in an identity file's contents.
fn decode(bytes: &[u8]) -> Result<IdentityKey, MalformedIdentity> {
    if bytes.is_empty() {
        return Err(MalformedIdentity::Empty);
    }
    let prefix = bytes.len().min(IDENTITY_MAGIC.len());
    if bytes[..prefix] != IDENTITY_MAGIC[..prefix] {
        return Err(MalformedIdentity::NotAnIdentityFile);
    }
    if bytes.len() < IDENTITY_FILE_LEN {
        return Err(MalformedIdentity::Truncated { len: bytes.len() });
    }
    if bytes.len() > IDENTITY_FILE_LEN {
        return Err(MalformedIdentity::TooLong);
    }
    let (secret, stored) = bytes[IDENTITY_MAGIC.len()..].split_at(SECRET_LEN);
    if private_file::checksum(IDENTITY_MAGIC, secret) != stored {
        return Err(MalformedIdentity::ChecksumMismatch);
    }
    let mut array = Zeroizing::new([0u8; SECRET_LEN]);
    array.copy_from_slice(secret);
    Ok(IdentityKey::from_secret_bytes(*array))
}

/// What is wrong with the contents of an identity file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedIdentity {
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// The file does not start with the line `peerster-identity v1`.
    #[error("it is not a peerster identity file (version 1)")]
    NotAnIdentityFile,
    /// The file ends early: cut short by a crash or a copy.
    #[error("it is cut short: {len} bytes of {IDENTITY_FILE_LEN}")]
    Truncated {
        /// The bytes there are.
        len: usize,
    },
    /// The file is longer than an identity file.
    #[error("it is longer than {IDENTITY_FILE_LEN} bytes")]
    TooLong,
    /// The secret does not match its checksum: the file was altered or damaged.
    #[error("its checksum does not match: the file is damaged")]
    ChecksumMismatch,
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn written_identity() -> (tempfile::TempDir, PathBuf, IdentityKey) {
        let dir = tempfile::tempdir().unwrap();
        let (identity, origin) = load_or_create(dir.path()).unwrap();
        assert_eq!(origin, IdentityOrigin::Created);
        let path = identity_path(dir.path());
        (dir, path, identity)
    }

    fn refused(dir: &Path, case: &str) -> IdentityError {
        match load_or_create(dir) {
            Ok(_) => panic!("{case}: accepted"),
            Err(error) => error,
        }
    }

    fn malformed(path: &Path) -> MalformedIdentity {
        match load(path) {
            Err(IdentityError::Malformed { problem, .. }) => problem,
            other => panic!("not malformed: {:?}", other.map(|k| k.public())),
        }
    }

    #[test]
    fn an_identity_written_once_is_read_back_on_every_later_start() {
        let (dir, path, identity) = written_identity();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 61);
        for _ in 0..2 {
            let (again, origin) = load_or_create(dir.path()).unwrap();
            assert_eq!(origin, IdentityOrigin::Loaded);
            assert_eq!(again.public(), identity.public());
        }
        let other = tempfile::tempdir().unwrap();
        let (stranger, _) = load_or_create(other.path()).unwrap();
        assert_ne!(stranger.public(), identity.public());
    }

    #[test]
    fn the_identity_file_is_created_private() {
        let (_dir, path, _) = written_identity();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn an_identity_readable_by_others_is_refused_with_the_fix() {
        let (dir, path, _) = written_identity();
        for mode in [0o644, 0o640, 0o604, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let error = refused(dir.path(), "refused");
            assert!(
                matches!(error, IdentityError::TooOpen { mode: m, .. } if m == mode),
                "{error:?}"
            );
            let message = error.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(
                message.contains(&format!("chmod 600 {}", path.display())),
                "{message}"
            );
            assert!(message.contains(&format!("{mode:04o}")), "{message}");
        }
        // The file was left alone, and once fixed it loads.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(
            load_or_create(dir.path()).unwrap().1,
            IdentityOrigin::Loaded
        );
    }

    #[test]
    fn anything_but_a_regular_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = identity_path(dir.path());
        std::fs::create_dir(&path).unwrap();
        let error = refused(dir.path(), "refused");
        assert!(
            matches!(error, IdentityError::NotRegularFile { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("not a regular file"), "{error}");

        let (_other, target, _) = written_identity();
        std::fs::remove_dir(&path).unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let error = refused(dir.path(), "refused");
        assert!(
            matches!(error, IdentityError::NotRegularFile { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn each_kind_of_damage_has_its_own_error_and_keeps_the_file() {
        let (dir, path, _) = written_identity();
        let good = std::fs::read(&path).unwrap();
        let cases: [(&str, Vec<u8>, MalformedIdentity); 6] = [
            ("empty", Vec::new(), MalformedIdentity::Empty),
            (
                "truncated",
                good[..40].to_vec(),
                MalformedIdentity::Truncated { len: 40 },
            ),
            (
                "cut in the magic line",
                good[..5].to_vec(),
                MalformedIdentity::Truncated { len: 5 },
            ),
            (
                "bit flip in the secret",
                flipped(&good, IDENTITY_MAGIC.len() + 3),
                MalformedIdentity::ChecksumMismatch,
            ),
            (
                "wrong magic",
                [b"peerster-identity v2\n", &good[IDENTITY_MAGIC.len()..]].concat(),
                MalformedIdentity::NotAnIdentityFile,
            ),
            (
                "trailing bytes",
                [&good[..], b"\n"].concat(),
                MalformedIdentity::TooLong,
            ),
        ];
        for (name, contents, expected) in cases {
            std::fs::write(&path, &contents).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert_eq!(malformed(&path), expected, "{name}");
            let error = refused(dir.path(), name);
            assert!(
                error.to_string().contains(&path.display().to_string()),
                "{error}"
            );
            // Never a silently new identity: the damaged file is still there, untouched.
            assert_eq!(std::fs::read(&path).unwrap(), contents, "{name}");
        }
        let flipped_checksum = flipped(&good, IDENTITY_FILE_LEN - 1);
        std::fs::write(&path, flipped_checksum).unwrap();
        assert_eq!(malformed(&path), MalformedIdentity::ChecksumMismatch);
    }

    fn flipped(bytes: &[u8], at: usize) -> Vec<u8> {
        let mut bytes = bytes.to_vec();
        bytes[at] ^= 0x10;
        bytes
    }

    #[test]
    fn a_temporary_file_left_by_a_crash_does_not_break_the_next_start() {
        // A crash before the rename, on the first start: no identity yet, a torn temp file.
        let dir = tempfile::tempdir().unwrap();
        let path = identity_path(dir.path());
        let temp = atomic_file::temp_path(&path);
        std::fs::write(&temp, b"peerster-identity v1\ntorn").unwrap();
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (identity, origin) = load_or_create(dir.path()).unwrap();
        assert_eq!(origin, IdentityOrigin::Created);
        assert!(!temp.exists());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);

        // A crash before the rename, on a later write: the identity is the old one.
        std::fs::write(&temp, b"garbage").unwrap();
        let (again, origin) = load_or_create(dir.path()).unwrap();
        assert_eq!(origin, IdentityOrigin::Loaded);
        assert_eq!(again.public(), identity.public());
        assert!(!temp.exists());
    }
}
