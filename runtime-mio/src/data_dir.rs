//! The data directory of a node: where its identity, lock, known peers and control socket
//! live.
//! `--data-dir DIR`, or by default `$XDG_DATA_HOME/peerster`, else
//! `$HOME/.local/share/peerster`; created private (mode 0700).

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::control::SOCKET_NAME;
use crate::error::ControlError;

/// The default data directory: `$XDG_DATA_HOME/peerster`, else `$HOME/.local/share/peerster`
/// (empty variables count as unset, as the XDG specification says); `None` if neither is set.
pub fn default_data_dir() -> Option<PathBuf> {
    let set = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    if let Some(data) = set("XDG_DATA_HOME") {
        return Some(PathBuf::from(data).join("peerster"));
    }
    set("HOME").map(|home| PathBuf::from(home).join(".local/share/peerster"))
}

/// `dir`, or the [`default_data_dir`].
pub fn data_dir_or_default(dir: Option<&Path>) -> Result<PathBuf, ControlError> {
    match dir {
        Some(dir) => Ok(dir.to_path_buf()),
        None => default_data_dir().ok_or(ControlError::NoDataDir),
    }
}

/// The control socket's path in the data directory `dir`.
pub fn control_socket(dir: &Path) -> PathBuf {
    dir.join(SOCKET_NAME)
}

/// Creates `dir` (and its parents) if it does not exist, with mode 0700 (an existing
/// directory is left as it is).
pub(crate) fn prepare(dir: &Path) -> Result<(), ControlError> {
    let failed = |source| ControlError::DataDir {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(failed)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_data_dir_is_created_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        prepare(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        prepare(&dir).unwrap();
        assert_eq!(control_socket(&dir), dir.join("control.sock"));
    }
}
