//! [`Cast`]: the demo's nodes, each a [`LocalNode`] with a name and its own data directory
//! under one temporary directory, the events each has shown so far, and waiting for a step to
//! happen within its timeout.

use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use peerster_core::ids::MemberId;
use peerster_core::{AutoVote, Config, Event, Stats};
use tempfile::TempDir;

use super::DemoError;
use crate::options::NodeOptions;
use crate::{LocalNode, Runtime};

/// The names the nodes go by, in order of arrival (at most 20 nodes).
pub(super) const NAMES: [&str; 20] = [
    "alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yvonne",
];

/// How often a wait looks at the nodes' events again.
const POLL: Duration = Duration::from_millis(10);

/// One node of the demo.
pub(super) struct Actor {
    /// The name it announces and goes by in the story.
    pub(super) name: &'static str,
    /// Its id, as the story shows it (the first 8 hex digits of its fingerprint).
    pub(super) id: MemberId,
    /// Where it listens.
    pub(super) addr: SocketAddr,
    node: LocalNode,
    /// Every event it has shown so far, oldest first.
    pub(super) log: Vec<Event>,
}

/// The demo's nodes and the directory that holds their data (removed when dropped, after
/// the nodes stopped).
pub(super) struct Cast {
    pub(super) actors: Vec<Actor>,
    /// Dropped after the actors (fields drop in order): their data directories go last.
    dir: TempDir,
}

impl Cast {
    /// Starts `count` nodes on loopback UDP (ports the OS picks), each in its own data
    /// directory, voting as the demo tells them ([`AutoVote::Ask`]); every node but the first
    /// connects to the first.
    pub(super) fn start(count: usize) -> Result<Cast, DemoError> {
        let dir = tempfile::Builder::new()
            .prefix("peerster-demo-")
            .tempdir()
            .map_err(DemoError::Files)?;
        let mut actors: Vec<Actor> = Vec::with_capacity(count);
        for &name in NAMES.iter().take(count) {
            let mut options = NodeOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)));
            options.name = name.to_string();
            options.auto_vote = AutoVote::Ask;
            options.data_dir = Some(dir.path().join(name));
            options.peers = actors.first().map(|first| first.addr).into_iter().collect();
            let node = LocalNode::spawn(&options, Config::default())
                .map_err(|source| DemoError::Start { name, source })?;
            actors.push(Actor {
                name,
                id: node.id(),
                addr: node.addr(),
                node,
                log: Vec::new(),
            });
        }
        Ok(Cast { actors, dir })
    }

    /// The directory under which the nodes keep their data, and the demo its audio files.
    pub(super) fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Runs `work` on node `at`'s runtime, inside its loop.
    pub(super) fn with<T: Send + 'static>(
        &self,
        at: usize,
        work: impl FnOnce(&mut Runtime) -> T + Send + 'static,
    ) -> Result<T, DemoError> {
        let actor = &self.actors[at];
        actor
            .node
            .with(work)
            .map_err(|_| DemoError::Stopped { name: actor.name })
    }

    /// Node `at`'s counters now.
    pub(super) fn stats(&self, at: usize) -> Result<Stats, DemoError> {
        self.with(at, |runtime| runtime.node().stats())
    }

    /// The name of the node whose id is `id`, or its short id if no node of the demo has it.
    pub(super) fn name_of(&self, id: MemberId) -> String {
        self.actors
            .iter()
            .find(|actor| actor.id == id)
            .map_or_else(|| id.short(), |actor| actor.name.to_string())
    }

    /// Moves the events the nodes have shown since the last look into their logs.
    fn collect(&mut self) {
        for actor in &mut self.actors {
            actor.log.extend(actor.node.events().try_iter());
        }
    }

    /// Waits until `done` finds what `step` waits for in the nodes' logs, at most `within`.
    pub(super) fn until<T>(
        &mut self,
        step: &str,
        within: Duration,
        mut done: impl FnMut(&Cast) -> Option<T>,
    ) -> Result<T, DemoError> {
        let deadline = Instant::now() + within;
        loop {
            self.collect();
            if let Some(found) = done(self) {
                return Ok(found);
            }
            if Instant::now() >= deadline {
                return Err(DemoError::Timeout {
                    step: step.to_string(),
                    within,
                });
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until `holds` is true of node `at`'s runtime (asked every few milliseconds), at
    /// most `within`.
    pub(super) fn until_state(
        &mut self,
        step: &str,
        within: Duration,
        at: usize,
        holds: impl Fn(&Runtime) -> bool + Clone + Send + 'static,
    ) -> Result<(), DemoError> {
        let deadline = Instant::now() + within;
        loop {
            let holds = holds.clone();
            if self.with(at, move |runtime| holds(runtime))? {
                self.collect();
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(DemoError::Timeout {
                    step: step.to_string(),
                    within,
                });
            }
            thread::sleep(POLL);
        }
    }
}

/// Whether `event` is among `log`'s, as `matches` tells.
pub(super) fn seen(log: &[Event], matches: impl FnMut(&Event) -> bool) -> bool {
    log.iter().any(matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_that_does_not_happen_times_out_with_its_name() {
        let mut cast = Cast::start(1).unwrap();
        let dir = cast.dir().to_path_buf();
        assert!(dir.join("alice").join(crate::IDENTITY_FILE).is_file());
        let started = Instant::now();
        let error = cast
            .until("nothing happens", Duration::from_millis(50), |_| None::<()>)
            .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(matches!(&error, DemoError::Timeout { step, .. } if step == "nothing happens"));
        assert_eq!(
            error.to_string(),
            "step \"nothing happens\" did not happen within 0.05 s"
        );
        let found = cast.until("the node runs", Duration::from_secs(5), |cast| {
            Some(cast.actors[0].name)
        });
        assert_eq!(found.unwrap(), "alice");
        drop(cast);
        assert!(!dir.exists(), "the data directories are removed");
    }
}
