//! What the real-process tests share: a `peerster` process driven through its standard input
//! or `peerster ctl`, and the lines of its output and log, read on threads.

// Each test crate uses its own part of these helpers.
#![allow(dead_code)]

pub mod steps;
pub mod tmux;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long a test waits for any one line.
pub const WAIT: Duration = Duration::from_secs(10);

/// The lines one output stream of a process has written so far, read on a thread.
pub struct Lines {
    name: &'static str,
    receiver: Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl Lines {
    pub fn read(name: &'static str, stream: impl Read + Send + 'static) -> Lines {
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            name,
            receiver,
            seen: Vec::new(),
        }
    }

    /// Waits, at most [`WAIT`], for a line containing every one of `parts`.
    pub fn wait_for(&mut self, parts: &[&str]) -> String {
        self.wait_from(0, parts)
    }

    /// Waits, at most [`WAIT`], for a line containing every one of `parts` among the lines not
    /// seen yet.
    pub fn wait_for_new(&mut self, parts: &[&str]) -> String {
        self.wait_from(self.seen.len(), parts)
    }

    /// Waits for a line containing every one of `parts`, from line `first` of those seen.
    fn wait_from(&mut self, first: usize, parts: &[&str]) -> String {
        let matches = |line: &str| parts.iter().all(|p| line.contains(p));
        if let Some(line) = self.seen[first..].iter().find(|l| matches(l)) {
            return line.clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.receiver.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if matches(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no line with {parts:?} on {} within {WAIT:?}; got:\n{}",
                    self.name,
                    self.seen.join("\n")
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{} closed before a line with {parts:?}; got:\n{}",
                    self.name,
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Collects the lines written so far without waiting for more.
    pub fn take_pending(&mut self) {
        self.seen.extend(self.receiver.try_iter());
    }

    /// Collects what the stream still writes until it closes (the process exited).
    pub fn drain(&mut self) {
        while let Ok(line) = self.receiver.recv_timeout(Duration::from_secs(1)) {
            self.seen.push(line);
        }
    }
}

/// A running `peerster` process: its standard input, and the lines of its output (`out`) and
/// its log (`err`).
pub struct Peerster {
    child: Child,
    /// Its data directory (a fresh temporary one unless the test gave `--data-dir`).
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    stdin: Option<ChildStdin>,
    /// Standard output: the user's lines.
    pub out: Lines,
    /// Standard error: failed commands and the log.
    pub err: Lines,
}

impl Peerster {
    /// Starts `peerster run ARGS`, in a fresh data directory unless `args` name one.
    pub fn run(args: &[&str]) -> Peerster {
        let given = args
            .iter()
            .position(|a| *a == "--data-dir")
            .map(|at| PathBuf::from(args[at + 1]));
        let (data_dir, temp) = match given {
            Some(dir) => (dir, None),
            None => {
                let temp = tempfile::tempdir().expect("a temporary data directory");
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_peerster"))
            .arg("run")
            .args(args)
            .args(if temp.is_some() {
                vec!["--data-dir".as_ref(), data_dir.as_os_str()]
            } else {
                vec![]
            })
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("peerster starts");
        let stdin = child.stdin.take();
        let out = Lines::read("stdout", child.stdout.take().unwrap());
        let err = Lines::read("stderr", child.stderr.take().unwrap());
        Peerster {
            child,
            data_dir,
            _temp: temp,
            stdin,
            out,
            err,
        }
    }

    /// Waits for the first output line and gives the node's short id and address.
    pub fn id_and_addr(&mut self) -> (String, String) {
        let line = self.out.wait_for(&["[node] ", " listening on "]);
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words.len(), 5, "{line}");
        (words[1].to_string(), words[4].to_string())
    }

    /// The address the node listens on, as it logged it.
    pub fn logged_addr(&mut self) -> String {
        let line = self.err.wait_for(&["listening", "addr="]);
        let addr = line
            .split("addr=")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next();
        addr.unwrap().to_string()
    }

    /// The process id of the running node.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes `line` and a line break to the node's standard input.
    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("write to stdin");
        stdin.flush().unwrap();
    }

    /// Closes the node's standard input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Asserts that the process is still running.
    pub fn assert_running(&mut self) {
        let status = self.child.try_wait().unwrap();
        assert!(
            status.is_none(),
            "exited with {status:?}; log:\n{}",
            self.err.seen.join("\n")
        );
    }

    /// Sends `signal` (a `kill` option such as `-INT`) and waits, bounded, for the exit.
    pub fn signal_and_wait(&mut self, signal: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(kill.success(), "kill {signal} {pid}");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The pipes close at exit: collect the rest of the output.
                self.out.drain();
                self.err.drain();
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

/// Runs `peerster run ARGS` expecting it to refuse to start: its output once it exited
/// (killed, and the test failed, if it still runs after [`WAIT`]).
pub fn refused_start(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_peerster"))
        .arg("run")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "peerster run {args:?} started instead of refusing; log:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success(), "{:?}", output.status);
    output
}

/// Runs `peerster ctl --data-dir DIR --json ARGS` to its end (killed after [`WAIT`]); its
/// exit status and output.
pub fn ctl_output(dir: &Path, args: &[&str]) -> Output {
    let mut all: Vec<&OsStr> = vec!["ctl".as_ref(), "--data-dir".as_ref(), dir.as_os_str()];
    all.push("--json".as_ref());
    all.extend(args.iter().map(OsStr::new));
    output_within(&all, WAIT)
}

/// Runs `peerster ARGS` to its end, with no input; its exit status and output. Kills it and
/// fails the test if it runs longer than `within`. (Its output must fit the pipes' buffers.)
pub fn output_within(args: &[&OsStr], within: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_peerster"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("peerster starts");
    let deadline = Instant::now() + within;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "peerster {args:?} did not end within {within:?}; output:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// Runs `peerster ctl --json ARGS` on `dir` and gives its reply; panics unless it succeeded
/// with `"ok":true`.
pub fn ctl(dir: &Path, args: &[&str]) -> serde_json::Value {
    let output = ctl_output(dir, args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "peerster ctl {args:?}: {}\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let reply: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON reply");
    assert_eq!(reply["ok"], true, "{reply}");
    reply
}
