//! The node's cluster membership on disk: `DATA_DIR/cluster`, mode 0600, so that a node
//! restarted (after a crash or a clean stop) resumes its membership without a new vote.
//!
//! The file is the line `peerster-cluster v1\n` ([`CLUSTER_MAGIC`]), the encoded
//! [`ClusterState`] (its own version byte first), then the first 8 bytes of SHA-256 over the
//! magic line and the state. It holds the cluster key and this member's epoch secrets, so it
//! is kept as the identity is: written atomically as a file of mode 0600, and refused when it
//! gives any permission to group or others. It is written when the membership changes (a
//! join, a new epoch, a new cluster, an own post) and when the node stops cleanly, and removed
//! when the node leaves or is removed from its cluster. A damaged file is refused with
//! [`ClusterFileError`], naming the file and how to start without it.

use std::io;
use std::path::{Path, PathBuf};

use peerster_core::{ClusterState, ClusterStateError};
use tracing::{debug, info, warn};
use zeroize::Zeroizing;

use crate::atomic_file;
use crate::error::ClusterFileError;
use crate::private_file::{self, CHECKSUM_LEN, PrivateReadError};

/// The cluster file's name in the data directory.
pub const CLUSTER_FILE: &str = "cluster";
/// The first line of a cluster file: its format and version.
pub const CLUSTER_MAGIC: &[u8] = b"peerster-cluster v1\n";
/// The longest cluster file read: more than the state of the largest cluster takes.
const MAX_CLUSTER_FILE_LEN: usize = 128 * 1024;

/// The cluster file's path in the data directory `dir`.
pub fn cluster_path(dir: &Path) -> PathBuf {
    dir.join(CLUSTER_FILE)
}

/// The cluster file of a running node.
#[derive(Debug)]
pub(crate) struct ClusterFile {
    path: PathBuf,
    /// Whether the file holds a state (as far as this node wrote or read it).
    present: bool,
}

impl ClusterFile {
    /// Reads the cluster file of the data directory `dir`: `None` if there is none. The
    /// caller holds the directory's lock.
    pub(crate) fn load(
        dir: &Path,
    ) -> Result<(ClusterFile, Option<ClusterState>), ClusterFileError> {
        let path = cluster_path(dir);
        let temp = atomic_file::temp_path(&path);
        // A temporary file left by a crash while the file was written: never renamed, so
        // never the state. It may hold a secret: remove it.
        atomic_file::remove_if_present(&temp)
            .map_err(|source| ClusterFileError::Io { path: temp, source })?;
        let state = match std::fs::symlink_metadata(&path) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(ClusterFileError::Io { path, source }),
            Ok(_) => Some(read(&path)?),
        };
        let file = ClusterFile {
            path,
            present: state.is_some(),
        };
        Ok((file, state))
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the file hold `state`, or removes it if `None` (the node is in no cluster). A
    /// failed write is logged: the node keeps running.
    pub(crate) fn sync(&mut self, state: Option<&ClusterState>) {
        let file = self.path.display();
        match state {
            Some(state) => match atomic_file::write_atomically(&self.path, &encode(state)) {
                Ok(()) => {
                    debug!(file = %file, epoch = %state.epoch(), "cluster state saved");
                    self.present = true;
                }
                Err(error) => warn!(%error, file = %file, "cannot save the cluster state"),
            },
            None if self.present => match atomic_file::remove_if_present(&self.path) {
                Ok(()) => {
                    info!(file = %file, "out of the cluster: cluster state removed");
                    self.present = false;
                }
                Err(error) => warn!(%error, file = %file, "cannot remove the cluster state"),
            },
            None => {}
        }
    }
}

/// Reads and decodes the cluster file at `path`.
fn read(path: &Path) -> Result<ClusterState, ClusterFileError> {
    let bytes = private_file::read(path, MAX_CLUSTER_FILE_LEN).map_err(|error| match error {
        PrivateReadError::Io(source) => ClusterFileError::Io {
            path: path.to_path_buf(),
            source,
        },
        PrivateReadError::NotRegularFile => ClusterFileError::NotRegularFile {
            path: path.to_path_buf(),
        },
        PrivateReadError::TooOpen { mode } => ClusterFileError::TooOpen {
            path: path.to_path_buf(),
            mode,
        },
    })?;
    decode(&bytes).map_err(|problem| ClusterFileError::Malformed {
        path: path.to_path_buf(),
        problem,
    })
}

/// The file's contents for `state`.
fn encode(state: &ClusterState) -> Zeroizing<Vec<u8>> {
    let body = state.encode();
    let mut bytes = Zeroizing::new(Vec::with_capacity(
        CLUSTER_MAGIC.len() + body.len() + CHECKSUM_LEN,
    ));
    bytes.extend_from_slice(CLUSTER_MAGIC);
    bytes.extend_from_slice(&body);
    bytes.extend_from_slice(&private_file::checksum(CLUSTER_MAGIC, &body));
    bytes
}

/// The state in a cluster file's contents.
fn decode(bytes: &[u8]) -> Result<ClusterState, MalformedClusterFile> {
    if bytes.is_empty() {
        return Err(MalformedClusterFile::Empty);
    }
    let prefix = bytes.len().min(CLUSTER_MAGIC.len());
    if bytes[..prefix] != CLUSTER_MAGIC[..prefix] {
        return Err(MalformedClusterFile::NotAClusterFile);
    }
    if bytes.len() > MAX_CLUSTER_FILE_LEN {
        return Err(MalformedClusterFile::TooLong);
    }
    let Some((body, stored)) = bytes[prefix..].split_last_chunk::<CHECKSUM_LEN>() else {
        return Err(MalformedClusterFile::Truncated);
    };
    if bytes.len() < CLUSTER_MAGIC.len() + CHECKSUM_LEN + 1 {
        return Err(MalformedClusterFile::Truncated);
    }
    if private_file::checksum(CLUSTER_MAGIC, body) != *stored {
        return Err(MalformedClusterFile::ChecksumMismatch);
    }
    ClusterState::decode(body).map_err(MalformedClusterFile::State)
}

/// What is wrong with the contents of a cluster file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedClusterFile {
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// The file does not start with the line `peerster-cluster v1`.
    #[error("it is not a peerster cluster file (version 1)")]
    NotAClusterFile,
    /// The file ends before its checksum.
    #[error("it is cut short")]
    Truncated,
    /// The file is longer than any cluster file.
    #[error("it is longer than {MAX_CLUSTER_FILE_LEN} bytes")]
    TooLong,
    /// The contents do not match their checksum: the file was altered or damaged.
    #[error("its checksum does not match: the file is damaged")]
    ChecksumMismatch,
    /// The checksum holds but the state inside is not one this node reads.
    #[error("{0}")]
    State(ClusterStateError),
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use peerster_core::crypto::IdentityKey;
    use peerster_core::{Config, Node, Timestamp};

    use super::*;

    /// The state of a node that founded a cluster.
    fn founder_state() -> ClusterState {
        let mut node = Node::new(
            Config::default(),
            IdentityKey::from_secret_bytes([7; 32]),
            [1; 32],
            Timestamp::ZERO,
        )
        .unwrap();
        node.create_cluster(Timestamp::ZERO, Some(8)).unwrap();
        node.cluster_state().unwrap()
    }

    fn malformed(dir: &Path) -> MalformedClusterFile {
        match ClusterFile::load(dir) {
            Err(ClusterFileError::Malformed { problem, .. }) => problem,
            other => panic!("not malformed: {:?}", other.map(|(_, s)| s)),
        }
    }

    #[test]
    fn a_state_written_is_read_back_privately_and_removed_when_out() {
        let dir = tempfile::tempdir().unwrap();
        let (mut file, none) = ClusterFile::load(dir.path()).unwrap();
        assert!(none.is_none());
        let state = founder_state();
        file.sync(Some(&state));
        let path = cluster_path(dir.path());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (mut file, read) = ClusterFile::load(dir.path()).unwrap();
        assert_eq!(read.unwrap().encode(), state.encode());
        file.sync(None);
        assert!(!path.exists());
        assert!(ClusterFile::load(dir.path()).unwrap().1.is_none());
    }

    #[test]
    fn each_kind_of_damage_is_refused_naming_the_file_and_the_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let (mut file, _) = ClusterFile::load(dir.path()).unwrap();
        file.sync(Some(&founder_state()));
        let path = cluster_path(dir.path());
        let good = std::fs::read(&path).unwrap();
        let mut flipped = good.clone();
        flipped[CLUSTER_MAGIC.len() + 5] ^= 0x20;
        let mut bad_state = good[..CLUSTER_MAGIC.len()].to_vec();
        bad_state.extend_from_slice(&[9, 9, 9]);
        bad_state.extend_from_slice(&private_file::checksum(CLUSTER_MAGIC, &[9, 9, 9]));
        let cases: [(&str, Vec<u8>, MalformedClusterFile); 6] = [
            ("empty", Vec::new(), MalformedClusterFile::Empty),
            (
                "cut in the magic line",
                good[..6].to_vec(),
                MalformedClusterFile::Truncated,
            ),
            (
                "cut short",
                good[..good.len() - 20].to_vec(),
                MalformedClusterFile::ChecksumMismatch,
            ),
            ("bit flip", flipped, MalformedClusterFile::ChecksumMismatch),
            (
                "another format",
                b"peerster-identity v1\n0123456789".to_vec(),
                MalformedClusterFile::NotAClusterFile,
            ),
            (
                "a state of another version",
                bad_state,
                MalformedClusterFile::State(ClusterStateError::UnknownVersion {
                    got: 9,
                    expected: peerster_core::CLUSTER_STATE_VERSION,
                }),
            ),
        ];
        for (name, contents, expected) in cases {
            std::fs::write(&path, &contents).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert_eq!(malformed(dir.path()), expected, "{name}");
            let message = ClusterFile::load(dir.path()).unwrap_err().to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("remove it"), "{message}");
            // Left alone for the user to look at.
            assert_eq!(std::fs::read(&path).unwrap(), contents, "{name}");
        }
    }

    #[test]
    fn a_cluster_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut file, _) = ClusterFile::load(dir.path()).unwrap();
        file.sync(Some(&founder_state()));
        let path = cluster_path(dir.path());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = ClusterFile::load(dir.path()).unwrap_err();
        assert!(
            matches!(error, ClusterFileError::TooOpen { mode: 0o644, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("chmod 600"), "{error}");
    }
}
