//! `peerster demo`: N real nodes in this process, on loopback UDP, walk through the whole
//! story, told on standard output as numbered steps: a cluster is founded; the others join,
//! each admitted by a vote of the members; a post reaches everyone; an anonymous message and
//! its reply are read by their recipients only; a short call carries synthesized voice; the
//! members vote one of them out, roll out a new key, and the expelled member fails to decrypt
//! what they say next.
//!
//! Each node is what `peerster run` starts ([`LocalNode`](crate::LocalNode)): its own UDP
//! socket, `mio` event loop, thread and data directory (all under one temporary directory,
//! removed at the end). The demo drives them through their command channels and follows
//! their events. Every step has a timeout; a step that does not happen in time ends the demo
//! with [`DemoError::Timeout`].

mod cast;
mod eavesdrop;
mod story;
mod voice;

use std::io::{self, Write};
use std::time::{Duration, Instant};

use peerster_audio::wav::WavError;
use thiserror::Error;

use crate::error::{CommandFailure, RuntimeError};

/// Fewest nodes the story needs: a founder, a second member and one to expel.
pub const MIN_NODES: usize = 3;

/// Most nodes the demo starts (it has that many names).
pub const MAX_NODES: usize = cast::NAMES.len();

/// Why the demo stopped before the end of the story.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The demo was asked for a number of nodes it cannot run.
    #[error("the demo runs {MIN_NODES} to {MAX_NODES} nodes, not {0}")]
    Nodes(usize),
    /// A node could not be started.
    #[error("cannot start {name}: {source}")]
    Start {
        /// The node's name.
        name: &'static str,
        /// Why.
        source: RuntimeError,
    },
    /// A node's loop stopped in the middle of the story.
    #[error("{name}'s node stopped unexpectedly")]
    Stopped {
        /// The node's name.
        name: &'static str,
    },
    /// A step did not happen in time.
    #[error("step \"{step}\" did not happen within {} s", within.as_secs_f64())]
    Timeout {
        /// The step.
        step: String,
        /// How long it was given.
        within: Duration,
    },
    /// A node refused a command of the story.
    #[error("step \"{step}\": {name} refused: {failure}")]
    Refused {
        /// The step.
        step: &'static str,
        /// The node's name.
        name: &'static str,
        /// Why.
        failure: CommandFailure,
    },
    /// A vote of the story did not pass.
    #[error("step \"{step}\": the vote ended {outcome:?}")]
    Outcome {
        /// The step.
        step: String,
        /// How the vote ended.
        outcome: peerster_core::VoteOutcome,
    },
    /// Someone read a message that was not for them.
    #[error("{0}")]
    Leaked(String),
    /// The call carried no voice the listener could recognize.
    #[error("step \"call\": {0}")]
    NoVoice(String),
    /// The temporary directory or a file in it could not be made, or a datagram not sent.
    #[error("demo files or sockets: {0}")]
    Files(#[source] io::Error),
    /// The call's audio files could not be written or read.
    #[error("call audio: {0}")]
    Audio(#[from] WavError),
}

/// Runs the demo with `nodes` nodes, telling the story on standard output.
pub fn run(nodes: usize) -> Result<(), DemoError> {
    if !(MIN_NODES..=MAX_NODES).contains(&nodes) {
        return Err(DemoError::Nodes(nodes));
    }
    let mut narrator = Narrator::new(io::stdout());
    story::tell(nodes, &mut narrator)
}

/// Tells the story: numbered steps, each with a tag a script can find, and indented details.
struct Narrator<W: Write> {
    out: W,
    step: usize,
    started: Instant,
}

impl<W: Write> Narrator<W> {
    fn new(out: W) -> Narrator<W> {
        Narrator {
            out,
            step: 0,
            started: Instant::now(),
        }
    }

    /// The next step: ` 3. join       bob asks alice ...`.
    fn step(&mut self, tag: &str, text: &str) {
        self.step += 1;
        let line = format!("{:>2}. {tag:<11}{text}", self.step);
        self.write(&line);
    }

    /// A detail of the step before, indented under its text.
    fn detail(&mut self, text: &str) {
        let line = format!("{:15}{text}", "");
        self.write(&line);
    }

    /// A line of its own.
    fn say(&mut self, text: &str) {
        self.write(text);
    }

    /// Seconds since the story started.
    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn write(&mut self, line: &str) {
        // The story is the demo's output: a closed pipe ends it quietly, the nodes stop.
        let _ = writeln!(self.out, "{line}").and_then(|()| self.out.flush());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_and_tagged_and_details_indented() {
        let mut narrator = Narrator::new(Vec::new());
        narrator.step("found", "alice founds cluster 01");
        narrator.detail("more");
        narrator.step("join", "bob asks alice");
        let text = String::from_utf8(narrator.out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with(" 1. found"), "{text}");
        assert!(lines[0].ends_with("alice founds cluster 01"), "{text}");
        assert!(lines[1].trim_start() == "more" && lines[1].starts_with("    "));
        // Texts line up whatever the tag.
        assert_eq!(lines[0].find("alice"), lines[2].find("bob"));
        assert_eq!(lines[1].find("more"), lines[0].find("alice"));
    }

    #[test]
    fn too_few_or_too_many_nodes_are_refused() {
        assert!(matches!(run(2), Err(DemoError::Nodes(2))));
        assert!(matches!(run(MAX_NODES + 1), Err(DemoError::Nodes(_))));
    }
}
