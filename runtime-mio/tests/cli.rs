//! The `peerster` binary: two processes on loopback find each other and exit cleanly on
//! SIGINT and SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// A running `peerster` process and the lines it has logged so far.
struct Peerster {
    child: Child,
    lines: Receiver<String>,
    log: Vec<String>,
}

impl Peerster {
    fn run(args: &[&str]) -> Peerster {
        let mut child = Command::new(env!("CARGO_BIN_EXE_peerster"))
            .arg("run")
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("peerster starts");
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Peerster {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits, at most [`WAIT`], for a logged line containing every one of `parts`.
    fn wait_for_line(&mut self, parts: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        if let Some(line) = self
            .log
            .iter()
            .find(|l| parts.iter().all(|p| l.contains(p)))
        {
            return line.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if parts.iter().all(|p| line.contains(p)) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no line with {parts:?} within {WAIT:?}; log:\n{}",
                        self.log.join("\n")
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "exited before logging {parts:?}; log:\n{}",
                        self.log.join("\n")
                    )
                }
            }
        }
    }

    /// The address the node logged it listens on.
    fn listen_addr(&mut self) -> String {
        let line = self.wait_for_line(&["listening", "addr="]);
        let addr = line
            .split("addr=")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next();
        addr.unwrap().to_string()
    }

    /// Sends `signal` (a `kill` option such as `-INT`) and waits, bounded, for the exit.
    fn signal_and_wait(&mut self, signal: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(kill.success(), "kill {signal} {pid}");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The pipe closes at exit: collect the rest of the log.
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(1)) {
                    self.log.push(line);
                }
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "no exit within {WAIT:?} of {signal}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Peerster {
    fn drop(&mut self) {
        // A failed test must not leave processes behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_processes_verify_each_other_and_exit_cleanly() {
    let mut a = Peerster::run(&["--listen", "127.0.0.1:0"]);
    let a_addr = a.listen_addr();
    let mut b = Peerster::run(&["--listen", "127.0.0.1:0", "--peer", &a_addr]);
    let b_addr = b.listen_addr();

    b.wait_for_line(&["peer verified", &format!("addr={a_addr}")]);
    a.wait_for_line(&["peer verified", &format!("addr={b_addr}")]);

    let status = a.signal_and_wait("-INT");
    assert!(status.success(), "A exited with {status}");
    a.wait_for_line(&["shutting down", "SIGINT"]);
    a.wait_for_line(&["node stopped", "peers=1", "handshakes_completed=1"]);

    let status = b.signal_and_wait("-TERM");
    assert!(status.success(), "B exited with {status}");
    b.wait_for_line(&["shutting down", "SIGTERM"]);
    b.wait_for_line(&["node stopped", "handshakes_completed=1"]);
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_peerster"))
        .args(["run", "--listen", &addr])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on UDP {addr}")),
        "{stderr}"
    );
}
