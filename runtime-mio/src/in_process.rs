//! [`LocalNode`]: a node as `peerster run` sets it up, run on its own thread of this process,
//! driven through its command channel and watched through its events: what `peerster demo`
//! runs, several at once.

use std::net::SocketAddr;
use std::sync::mpsc::Receiver;
use std::thread::{self, JoinHandle};

use peerster_core::ids::MemberId;
use peerster_core::{Config, Event, Stats};

use crate::commands::CommandSender;
use crate::error::{RuntimeError, RuntimeStopped};
use crate::options::NodeOptions;
use crate::shutdown::ShutdownHandle;
use crate::{Runtime, start_node};

/// Node events a [`LocalNode`] holds unread at most; later ones are dropped for it.
const EVENT_CAPACITY: usize = 4096;

/// A node running on its own thread: the same data directory, identity, control socket and
/// event loop as `peerster run`, without standard input, signals or console. Dropping it
/// stops the node and waits for its thread.
#[derive(Debug)]
pub struct LocalNode {
    id: MemberId,
    addr: SocketAddr,
    commands: CommandSender,
    events: Receiver<Event>,
    shutdown: ShutdownHandle,
    thread: Option<JoinHandle<Result<Stats, RuntimeError>>>,
}

impl LocalNode {
    /// Sets up the node `options` describe under `config` (as `peerster run` does, see
    /// [`run_node`](crate::run_node)) and runs it on a new thread named `peerster NAME`.
    pub fn spawn(options: &NodeOptions, config: Config) -> Result<LocalNode, RuntimeError> {
        let (mut runtime, lock) = start_node(options, config, None)?;
        let events = runtime.subscribe(EVENT_CAPACITY);
        let (id, addr) = (runtime.node().id(), runtime.local_addr());
        let (commands, shutdown) = (runtime.commands(), runtime.shutdown_handle());
        let thread = thread::Builder::new()
            .name(format!("peerster {}", options.name))
            .spawn(move || {
                let stats = runtime.run();
                // The control socket goes before the lock, as in `run_node`.
                drop(runtime);
                drop(lock);
                stats
            })
            .map_err(|error| RuntimeError::Thread(error.to_string()))?;
        Ok(LocalNode {
            id,
            addr,
            commands,
            events,
            shutdown,
            thread: Some(thread),
        })
    }

    /// The node's id (its fingerprint).
    pub fn id(&self) -> MemberId {
        self.id
    }

    /// The UDP address the node listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The node's events, as they happen (at most 4096 unread; later ones are dropped).
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }

    /// Runs `work` on the node's runtime inside its loop and returns what it returns (see
    /// [`CommandSender::with`]).
    pub fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Runtime) -> T + Send + 'static,
    ) -> Result<T, RuntimeStopped> {
        self.commands.with(work)
    }

    /// Stops the node (its calls hung up) and returns its counters.
    pub fn stop(mut self) -> Result<Stats, RuntimeError> {
        self.join()
    }

    /// Asks the loop to stop and waits for its thread.
    fn join(&mut self) -> Result<Stats, RuntimeError> {
        self.shutdown.shutdown();
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| RuntimeError::Thread("it panicked".into()))?,
            None => Err(RuntimeError::Thread("already stopped".into())),
        }
    }
}

impl Drop for LocalNode {
    fn drop(&mut self) {
        if self.thread.is_some()
            && let Err(error) = self.join()
        {
            tracing::warn!(%error, "node stopped with an error");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn node(dir: &std::path::Path, name: &str) -> LocalNode {
        let mut options = NodeOptions::new("127.0.0.1:0".parse().unwrap());
        options.name = name.into();
        options.data_dir = Some(dir.join(name));
        LocalNode::spawn(&options, Config::default()).unwrap()
    }

    #[test]
    fn a_local_node_runs_work_in_its_loop_taps_what_it_sends_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (node(dir.path(), "a"), node(dir.path(), "b"));
        // Work runs inside the loop, on the runtime, and its result comes back.
        let (addr, id) = a
            .with(|runtime| (runtime.local_addr(), runtime.node().id()))
            .unwrap();
        assert_eq!((addr, id), (a.addr(), a.id()));
        // A tap gets a copy of every datagram sent: here, b's handshake with a.
        let tap = b.with(|runtime| runtime.tap(64)).unwrap();
        let to = a.addr();
        b.with(move |runtime| runtime.connect(to)).unwrap();
        let sent = tap.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(sent.destination, a.addr());
        // Events come out: a verified b.
        let deadline = Instant::now() + Duration::from_secs(5);
        let verified = loop {
            match a
                .events()
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(Event::PeerVerified { peer, .. }) => break peer,
                Ok(_) => {}
                Err(error) => panic!("no PeerVerified: {error}"),
            }
        };
        assert_eq!(verified, b.id());
        let commands = b.commands.clone();
        let stats = b.stop().unwrap();
        assert_eq!(stats.handshakes_completed, 1);
        assert_eq!(commands.with(|_| ()), Err(RuntimeStopped));
    }
}
