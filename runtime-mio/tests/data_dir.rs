//! The data directory between runs of the real `peerster` binary: the identity survives
//! clean stops and `kill -9`, a second node on the same directory is refused, an identity
//! file readable by others or damaged stops the node with the fix, and a node restarted
//! without `--peer` finds its known peers again.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use common::{Peerster, WAIT, ctl_output, refused_start};
use serde_json::Value;

/// Asks `dir`'s node for its status until `good` holds, for at most [`WAIT`].
fn status_until(dir: &Path, good: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let output = ctl_output(dir, &["status"]);
        let reply: Option<Value> = serde_json::from_slice(&output.stdout).ok();
        if let Some(reply) = reply.filter(|r| output.status.success() && good(r)) {
            return reply;
        }
        assert!(
            Instant::now() < deadline,
            "no good status within {WAIT:?}; last: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        thread::sleep(Duration::from_millis(100));
    }
}

fn fingerprint(dir: &Path) -> String {
    let status = status_until(dir, |_| true);
    let fingerprint = status["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(fingerprint.len(), 32, "{status}");
    fingerprint
}

#[test]
fn the_identity_survives_restarts_and_kill_9_and_the_directory_takes_one_node() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("node");
    let data = dir.to_str().unwrap();
    let args = ["--listen", "127.0.0.1:0", "--data-dir", data];
    let identity = dir.join("identity");
    let lock = dir.join("lock");
    let socket = dir.join("control.sock");

    let mut first = Peerster::run(&args);
    let id = fingerprint(&dir);
    first.err.wait_for(&["new identity created", &id]);
    let mode = std::fs::metadata(&identity).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "identity mode {mode:o}");
    assert_eq!(std::fs::metadata(&identity).unwrap().len(), 61);
    assert!(lock.exists());

    // A second node on the same directory is refused while the first runs.
    let second = refused_start(&args);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains(&format!("peerster: another node runs on {data}")),
        "{stderr}"
    );
    assert!(stderr.contains("lock file"), "{stderr}");
    first.assert_running();
    assert_eq!(fingerprint(&dir), id);

    // A clean stop removes the lock and the socket, and keeps the identity.
    assert!(first.signal_and_wait("-INT").success());
    assert!(!lock.exists(), "the lock outlived the node");
    assert!(!socket.exists());
    let mut again = Peerster::run(&args);
    assert_eq!(fingerprint(&dir), id, "a new identity after a restart");
    again.err.wait_for(&["identity loaded", &id]);

    // kill -9 leaves a stale lock and socket behind; the next start replaces them.
    assert!(!again.signal_and_wait("-KILL").success());
    assert!(lock.exists() && socket.exists());
    let mut after_crash = Peerster::run(&args);
    assert_eq!(fingerprint(&dir), id, "a new identity after kill -9");
    after_crash.err.wait_for(&["replacing a stale lock"]);
    after_crash.assert_running();
}

#[test]
fn an_identity_readable_by_others_or_damaged_stops_the_node_with_the_fix() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("node");
    let data = dir.to_str().unwrap();
    let args = ["--listen", "127.0.0.1:0", "--data-dir", data];
    let identity = dir.join("identity");
    let mut node = Peerster::run(&args);
    let id = fingerprint(&dir);
    assert!(node.signal_and_wait("-INT").success());
    let good = std::fs::read(&identity).unwrap();

    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = refused_start(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let path = identity.display().to_string();
    assert!(
        stderr.contains(&format!("identity file {path} has mode 0644")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("chmod 600 {path}")), "{stderr}");

    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&identity, &good[..30]).unwrap();
    let output = refused_start(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&path), "{stderr}");
    assert!(stderr.contains("cut short: 30 bytes of 61"), "{stderr}");
    // The refused starts did not replace the identity, nor leave the directory locked.
    assert_eq!(std::fs::read(&identity).unwrap(), &good[..30]);

    std::fs::write(&identity, &good).unwrap();
    let _node = Peerster::run(&args);
    assert_eq!(fingerprint(&dir), id);
}

#[test]
fn a_node_restarted_without_peer_reconnects_to_its_known_peers() {
    let root = tempfile::tempdir().unwrap();
    let a_dir = root.path().join("a");
    let b_dir = root.path().join("b");
    let (a_data, b_data) = (a_dir.to_str().unwrap(), b_dir.to_str().unwrap());
    let _a = Peerster::run(&["--listen", "127.0.0.1:0", "--data-dir", a_data]);
    let a_addr = status_until(&a_dir, |_| true)["listen"]
        .as_str()
        .unwrap()
        .to_string();

    let mut b = Peerster::run(&[
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        b_data,
        "--peer",
        &a_addr,
    ]);
    status_until(&b_dir, |s| s["peers"].as_u64() >= Some(1));
    assert!(b.signal_and_wait("-INT").success());
    let saved = std::fs::read_to_string(b_dir.join("peers")).unwrap();
    assert_eq!(saved, format!("peerster-peers v1\n{a_addr}\n"));

    let _b = Peerster::run(&["--listen", "127.0.0.1:0", "--data-dir", b_data]);
    let status = status_until(&b_dir, |s| s["peers"].as_u64() >= Some(1));
    assert_eq!(status["peers"], 1, "{status}");
    let peers = ctl_output(&b_dir, &["peers"]);
    let peers = String::from_utf8_lossy(&peers.stdout);
    assert!(peers.contains(&a_addr), "{peers}");
}
