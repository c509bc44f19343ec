//! A terminal program run as a person would use it: in a detached tmux session of a tmux
//! server of the test's own (`tmux -L NAME`, killed when dropped, even on failure), with keys
//! sent and the screen read back.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// A tmux server of one test.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A new tmux server name for this test; panics, saying how to install it, if tmux is
    /// missing (the test must not pass without running).
    pub fn new() -> Tmux {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        if let Err(error) = Command::new("tmux").arg("-V").output() {
            panic!(
                "tmux is needed to run the TUI as a person would, and cannot be run ({error}): \
                 install it (Debian: apt-get install tmux; .ci/run does)"
            );
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Tmux {
            socket: format!("peerster-test-{}-{n}", std::process::id()),
        }
    }

    /// Runs `tmux -L SOCKET ARGS` (without a configuration file) to its end.
    fn tmux(&self, args: &[&str]) -> Output {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs");
        assert!(
            output.status.success(),
            "tmux {args:?}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Starts `command` (a shell command line) in a new session `name` of `width` x
    /// `height`.
    pub fn start(&self, name: &str, width: u16, height: u16, command: &str) {
        let (width, height) = (width.to_string(), height.to_string());
        self.tmux(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            &width,
            "-y",
            &height,
            command,
        ]);
    }

    /// Types `text` in session `name`, as it is (no key names).
    pub fn type_text(&self, name: &str, text: &str) {
        self.tmux(&["send-keys", "-t", name, "-l", text]);
    }

    /// Presses the key `key` (a tmux key name: `Enter`, `Tab`, `C-c`, `q`) in session `name`.
    pub fn press(&self, name: &str, key: &str) {
        self.tmux(&["send-keys", "-t", name, key]);
    }

    /// Resizes the window of session `name`.
    pub fn resize(&self, name: &str, width: u16, height: u16) {
        let (width, height) = (width.to_string(), height.to_string());
        self.tmux(&["resize-window", "-t", name, "-x", &width, "-y", &height]);
    }

    /// What the screen of session `name` shows now.
    pub fn screen(&self, name: &str) -> String {
        let output = self.tmux(&["capture-pane", "-p", "-t", name]);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The process id of the program the shell of session `name` runs (its one child).
    pub fn child_of_pane(&self, name: &str) -> u32 {
        let output = self.tmux(&["display-message", "-p", "-t", name, "#{pane_pid}"]);
        let shell = String::from_utf8_lossy(&output.stdout).trim().to_string();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap_or_else(|e| panic!("children of the shell {shell} of session {name}: {e}"));
        let ids: Vec<u32> = children
            .split_whitespace()
            .filter_map(|id| id.parse().ok())
            .collect();
        assert_eq!(ids.len(), 1, "session {name}'s shell {shell} runs {ids:?}");
        ids[0]
    }

    /// Waits, at most `within`, until the screen of session `name` shows every one of
    /// `parts`, and gives it; panics showing the last screen otherwise.
    pub fn wait_for(&self, name: &str, parts: &[&str], within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen(name);
            if parts.iter().all(|part| screen.contains(part)) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "session {name} did not show {parts:?} within {within:?}; its screen:\n{screen}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Whether process `pid` ends (or is a zombie) within `within`; if not, it is killed.
pub fn ends_within(pid: u32, within: Duration) -> bool {
    let running = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| Some(stat.rsplit_once(") ")?.1.starts_with('Z')))
            .is_some_and(|zombie| !zombie)
    };
    let deadline = Instant::now() + within;
    while running() {
        if Instant::now() > deadline {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
    true
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Ends the sessions and what runs in them (SIGHUP); nothing to do if already gone.
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}
