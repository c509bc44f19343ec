//! [`KnownPeers`]: the addresses of verified peers, kept in `DATA_DIR/peers` so that a node
//! restarted without `--peer` finds its way back into the network.
//!
//! The file is text: the line `peerster-peers v1`, then one address per line (`IP:PORT`),
//! most recently verified first, at most [`MAX_KNOWN_PEERS`]. It is written atomically
//! every [`SAVE_INTERVAL`] if the list changed, and when the node stops cleanly. Peers are
//! not precious: a damaged file or line is a warning, and what can be read is used.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use peerster_core::Timestamp;
use tracing::{info, warn};

use crate::atomic_file;

/// The known-peers file's name in the data directory.
pub const PEERS_FILE: &str = "peers";
/// The first line of a known-peers file: its format and version.
pub const PEERS_MAGIC: &str = "peerster-peers v1";
/// The most addresses the file keeps.
pub const MAX_KNOWN_PEERS: usize = 64;
/// How often the list is saved while the node runs (if it changed).
pub const SAVE_INTERVAL: Duration = Duration::from_secs(120);

/// The known peers of a running node: the list last read or written, and when to save next.
#[derive(Debug)]
pub(crate) struct KnownPeers {
    path: PathBuf,
    /// Most recently verified first; what the file holds.
    saved: Vec<SocketAddr>,
    next_save: Timestamp,
}

impl KnownPeers {
    /// Reads `DATA_DIR/peers` in the data directory `dir` (a missing file is an empty list,
    /// a damaged one is logged and read as far as it can be); the first save is due
    /// [`SAVE_INTERVAL`] after `now`.
    pub(crate) fn load(dir: &Path, now: Timestamp) -> KnownPeers {
        let path = dir.join(PEERS_FILE);
        let saved = match std::fs::read(&path) {
            Ok(bytes) => parse(&path, &String::from_utf8_lossy(&bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => {
                warn!(%error, file = %path.display(), "cannot read the known peers; starting without them");
                Vec::new()
            }
        };
        KnownPeers {
            path,
            saved,
            next_save: now + SAVE_INTERVAL,
        }
    }

    /// The addresses read from the file, to connect to at start.
    pub(crate) fn addresses(&self) -> &[SocketAddr] {
        &self.saved
    }

    /// When the next periodic save is due.
    pub(crate) fn next_save(&self) -> Timestamp {
        self.next_save
    }

    /// Saves `verified` (the verified peers, most recently heard first) followed by the
    /// addresses known before that are not among them, at most [`MAX_KNOWN_PEERS`]; writes
    /// the file only if the list changed. A failed write is logged: the node keeps running.
    pub(crate) fn save(&mut self, verified: &[SocketAddr], now: Timestamp) {
        self.next_save = now + SAVE_INTERVAL;
        let list = merged(verified, &self.saved);
        if list == self.saved {
            return;
        }
        match atomic_file::write_atomically(&self.path, render(&list).as_bytes()) {
            Ok(()) => {
                info!(count = list.len(), file = %self.path.display(), "known peers saved");
                self.saved = list;
            }
            Err(error) => {
                warn!(%error, file = %self.path.display(), "cannot save the known peers");
            }
        }
    }
}

/// `verified`, then the addresses of `known` not among them, without repeats, at most
/// [`MAX_KNOWN_PEERS`].
fn merged(verified: &[SocketAddr], known: &[SocketAddr]) -> Vec<SocketAddr> {
    let mut list = Vec::with_capacity(MAX_KNOWN_PEERS);
    for &addr in verified.iter().chain(known) {
        if list.len() == MAX_KNOWN_PEERS {
            break;
        }
        if !list.contains(&addr) {
            list.push(addr);
        }
    }
    list
}

/// The file's text for `list`.
fn render(list: &[SocketAddr]) -> String {
    let mut text = format!("{PEERS_MAGIC}\n");
    for addr in list {
        text.push_str(&format!("{addr}\n"));
    }
    text
}

/// The addresses in the file's `text`; what is wrong is logged as a warning naming `path`.
fn parse(path: &Path, text: &str) -> Vec<SocketAddr> {
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(PEERS_MAGIC) {
        warn!(
            file = %path.display(),
            "the known peers file does not start with `{PEERS_MAGIC}`; ignored (it is rewritten at the next save)"
        );
        return Vec::new();
    }
    let mut list = Vec::new();
    for (number, line) in lines.enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.parse() {
            Ok(addr) if list.len() < MAX_KNOWN_PEERS => list.push(addr),
            Ok(_) => {
                warn!(file = %path.display(), "more than {MAX_KNOWN_PEERS} known peers; the rest ignored");
                break;
            }
            Err(error) => warn!(
                file = %path.display(),
                line = number + 2,
                %error,
                "a line of the known peers file is not an address; skipped"
            ),
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn saved_peers_are_read_back_most_recent_first() {
        let dir = tempfile::tempdir().unwrap();
        let start = Timestamp::from_millis(1_000);
        let mut peers = KnownPeers::load(dir.path(), start);
        assert!(peers.addresses().is_empty());
        assert_eq!(peers.next_save(), start + SAVE_INTERVAL);
        peers.save(&[addr(1), addr(2)], start);
        // Peer 3 verified since, 1 no longer verified: kept, after those that are.
        peers.save(&[addr(3), addr(2)], start);
        let text = std::fs::read_to_string(dir.path().join(PEERS_FILE)).unwrap();
        assert_eq!(
            text,
            "peerster-peers v1\n127.0.0.1:3\n127.0.0.1:2\n127.0.0.1:1\n"
        );
        let again = KnownPeers::load(dir.path(), start);
        assert_eq!(again.addresses(), [addr(3), addr(2), addr(1)]);
    }

    #[test]
    fn the_list_is_capped_and_an_unchanged_list_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::from_millis(0);
        let mut peers = KnownPeers::load(dir.path(), now);
        let many: Vec<_> = (1..=100).map(addr).collect();
        peers.save(&many, now);
        let again = KnownPeers::load(dir.path(), now);
        assert_eq!(again.addresses(), &many[..MAX_KNOWN_PEERS]);

        let file = dir.path().join(PEERS_FILE);
        std::fs::remove_file(&file).unwrap();
        peers.save(&many[..MAX_KNOWN_PEERS], now);
        assert!(!file.exists(), "rewritten although unchanged");
    }

    #[test]
    fn a_damaged_file_is_read_as_far_as_it_can_be() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(PEERS_FILE);
        let now = Timestamp::from_millis(0);
        std::fs::write(
            &file,
            "peerster-peers v1\n127.0.0.1:1\nnonsense\n\n[::1]:2\n127.0.",
        )
        .unwrap();
        let peers = KnownPeers::load(dir.path(), now);
        assert_eq!(peers.addresses(), [addr(1), "[::1]:2".parse().unwrap()]);

        for unusable in [&b"127.0.0.1:1\n"[..], b"", b"\xff\xfe"] {
            std::fs::write(&file, unusable).unwrap();
            assert!(KnownPeers::load(dir.path(), now).addresses().is_empty());
        }
        // The next save replaces the damaged file.
        let mut peers = KnownPeers::load(dir.path(), now);
        peers.save(&[addr(5)], now);
        assert_eq!(KnownPeers::load(dir.path(), now).addresses(), [addr(5)]);
    }
}
