//! [`DataDirLock`]: one node per data directory, through the lock file `DATA_DIR/lock`.
//!
//! The lock file holds the process id of the node that holds it. It is written whole to a
//! temporary file, then hard-linked to `lock`, which fails if `lock` exists: so the lock is
//! taken atomically and never seen half-written. A lock whose process is gone (a node killed
//! with `kill -9`, a crash) is stale and replaced; on systems without `/proc`, and for a
//! process id that is alive again for another program, the message says to remove it. The
//! lock is removed when the node stops cleanly.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::atomic_file::remove_if_present;
use crate::error::LockError;

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "lock";

/// The lock on a data directory, held until dropped.
#[derive(Debug)]
pub(crate) struct DataDirLock {
    path: PathBuf,
    pid: u32,
}

impl DataDirLock {
    /// Takes the lock on the data directory `dir` (which exists) for this process, replacing
    /// a stale one; fails with [`LockError::Held`] if a running process holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<DataDirLock, LockError> {
        DataDirLock::acquire_as(dir, std::process::id())
    }

    /// Takes the lock for the process `pid`.
    fn acquire_as(dir: &Path, pid: u32) -> Result<DataDirLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io_error = |source| LockError::Io {
            lock: path.clone(),
            source,
        };
        let temp = dir.join(format!("{LOCK_FILE}.{pid}.tmp"));
        remove_if_present(&temp).map_err(io_error)?;
        let written = std::fs::File::create_new(&temp)
            .and_then(|mut file| file.write_all(format!("{pid}\n").as_bytes()));
        if let Err(error) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(io_error(error));
        }
        // One stale lock replaced at most: if another node takes the lock meanwhile, it is
        // alive, and refused below on the second try.
        let mut result = Err(io_error(io::Error::other(
            "a stale lock file came back twice",
        )));
        for _ in 0..2 {
            result = match std::fs::hard_link(&temp, &path) {
                Ok(()) => Ok(DataDirLock {
                    path: path.clone(),
                    pid,
                }),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    match holder(&path).map_err(io_error) {
                        Ok(Some(holder)) if holder != pid && alive(holder) => {
                            Err(LockError::Held {
                                dir: dir.to_path_buf(),
                                lock: path.clone(),
                                pid: holder,
                            })
                        }
                        Ok(holder) => {
                            tracing::info!(
                                lock = %path.display(),
                                pid = ?holder,
                                "replacing a stale lock left by a node that is gone"
                            );
                            remove_if_present(&path).map_err(io_error)?;
                            continue;
                        }
                        Err(error) => Err(error),
                    }
                }
                Err(error) => Err(io_error(error)),
            };
            break;
        }
        let _ = std::fs::remove_file(&temp);
        result
    }
}

impl Drop for DataDirLock {
    fn drop(&mut self) {
        // Only our own lock: never one another node took after ours was declared stale.
        if holder(&self.path).ok().flatten() == Some(self.pid)
            && let Err(error) = std::fs::remove_file(&self.path)
        {
            tracing::warn!(%error, lock = %self.path.display(), "lock file not removed");
        }
    }
}

/// The process id in the lock file at `path`; `None` if it holds none (a damaged file, or a
/// file that vanished: no one holds it).
fn holder(path: &Path) -> io::Result<Option<u32>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.trim().parse().ok()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Whether the process `pid` may be running: on systems with `/proc`, whether
/// `/proc/PID` exists; elsewhere, assumed so.
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let lock = dir.path().join(LOCK_FILE);
        let pid = std::process::id();
        assert_eq!(std::fs::read_to_string(&lock).unwrap(), format!("{pid}\n"));

        // Another process asks while this one (alive) holds it.
        let error = DataDirLock::acquire_as(dir.path(), pid + 1).unwrap_err();
        assert!(
            matches!(error, LockError::Held { pid: p, .. } if p == pid),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("another node runs on"), "{message}");
        assert!(message.contains(&lock.display().to_string()), "{message}");

        drop(first);
        assert!(!lock.exists());
        let again = DataDirLock::acquire_as(dir.path(), pid + 1).unwrap();
        assert_eq!(
            std::fs::read_to_string(&lock).unwrap(),
            format!("{}\n", pid + 1)
        );
        drop(again);
        // No temporary files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_stale_or_damaged_lock_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join(LOCK_FILE);
        // No process has this id (above Linux's PID_MAX_LIMIT).
        for stale in ["4194305\n", "", "not a pid"] {
            std::fs::write(&lock, stale).unwrap();
            let taken = DataDirLock::acquire(dir.path()).unwrap();
            let holder = std::fs::read_to_string(&lock).unwrap();
            assert_eq!(holder, format!("{}\n", std::process::id()), "{stale:?}");
            drop(taken);
        }
    }

    #[test]
    fn a_lock_taken_over_by_another_is_not_removed_by_the_old_holder() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join(LOCK_FILE);
        let ours = DataDirLock::acquire(dir.path()).unwrap();
        std::fs::write(&lock, "1\n").unwrap();
        drop(ours);
        assert_eq!(std::fs::read_to_string(&lock).unwrap(), "1\n");
    }
}
