//! The control socket's side of a [`Runtime`]: listening in the data directory, carrying out
//! the requests of its clients with the same code as standard input's commands, streaming
//! events to watchers, and reporting the end of the calls clients wait for.

use std::path::{Path, PathBuf};

use peerster_core::{CallEnd, CallId, Event};
use serde_json::json;
use tracing::debug;

use super::Runtime;
use crate::control::protocol::Action;
use crate::control::render;
use crate::control::server::ControlServer;
use crate::data_dir;
use crate::display::LocalEnd;
use crate::error::RuntimeError;
use crate::outcome::Outcome;

impl Runtime {
    /// Listens for control clients on `control.sock` in `data_dir` (created with mode 0700
    /// if missing; the socket gets mode 0600), and returns the socket's path. Fails if a node
    /// answers there already; a socket file left by a node that is gone is replaced. The
    /// socket is removed when the runtime is dropped. The protocol is in
    /// [`crate::control::protocol`].
    pub fn listen_control(&mut self, data_dir: &Path) -> Result<PathBuf, RuntimeError> {
        data_dir::prepare(data_dir)?;
        let path = data_dir::control_socket(data_dir);
        let server = ControlServer::bind(&path, self.poll.registry()).map_err(|error| {
            match error {
                // Name the data directory as the user gave it.
                crate::ControlError::AlreadyRunning { socket, .. } => {
                    crate::ControlError::AlreadyRunning {
                        dir: data_dir.to_path_buf(),
                        socket,
                    }
                }
                other => other,
            }
        })?;
        self.control = Some(server);
        Ok(path)
    }

    /// Serves the control clients: accepts, reads, carries out their requests and replies.
    pub(super) fn serve_control(&mut self) {
        let requests = match self.control.as_mut() {
            Some(control) => {
                control.serve(self.poll.registry());
                control.take_requests()
            }
            None => return,
        };
        for (token, action) in requests {
            let (reply, then) = match action {
                Action::Command(command) => (self.reply_to(command), Then::Reply),
                Action::CallAndWait(command) => match self.execute(command) {
                    Ok(Outcome::Calling { call, .. }) => (json!(null), Then::Wait(call)),
                    Ok(outcome) => (render::outcome(&outcome), Then::Reply),
                    Err(failure) => (render::error(&failure), Then::Reply),
                },
                Action::Watch => (render::ok(json!({"watching": true})), Then::Watch),
            };
            let Some(control) = self.control.as_mut() else {
                return;
            };
            match then {
                Then::Reply => control.reply(token, &reply),
                Then::Watch => {
                    control.reply(token, &reply);
                    control.watch(token);
                }
                Then::Wait(call) => {
                    control.wait_for_call(token, call);
                    if let Some(info) = self.node.calls().into_iter().find(|i| i.call == call) {
                        self.waited.insert(call, info);
                    }
                }
            }
        }
        if let Some(control) = self.control.as_mut() {
            control.reap(self.poll.registry());
        }
    }

    /// Carries out `command` and gives the reply that says what it did.
    fn reply_to(&mut self, command: crate::Command) -> serde_json::Value {
        match self.execute(command) {
            Ok(outcome) => render::outcome(&outcome),
            Err(failure) => render::error(&failure),
        }
    }

    /// Whether the control socket has work that no event will announce.
    pub(super) fn control_busy(&self) -> bool {
        self.control.as_ref().is_some_and(ControlServer::busy)
    }

    /// Notes that `token`'s control connection (or the listener) is ready.
    pub(super) fn control_ready(&mut self, token: mio::Token) {
        if let Some(control) = self.control.as_mut() {
            control.ready(token);
        }
    }

    /// Streams `event` to the watchers, if any.
    pub(super) fn watchers_see(&mut self, event: &Event) {
        if let Some(control) = self.control.as_mut()
            && control.has_watchers()
            && let Some(line) = render::event(event)
        {
            control.event(&line);
        }
    }

    /// Keeps the latest counts of the calls clients wait for, for their report.
    pub(super) fn note_waited_calls(&mut self) {
        if self.waited.is_empty() {
            return;
        }
        for info in self.node.calls() {
            if let Some(waited) = self.waited.get_mut(&info.call) {
                *waited = info;
            }
        }
    }

    /// Replies to the clients waiting for the end of `call`: why it ended, its counts, and
    /// the recording written (its length and file), if there is one.
    pub(super) fn report_call_end(
        &mut self,
        call: CallId,
        reason: CallEnd,
        local: Option<LocalEnd>,
        recording: Option<(f64, &Path)>,
    ) {
        let counts = self.waited.remove(&call);
        let Some(control) = self.control.as_mut() else {
            return;
        };
        if control.waited_calls().any(|waited| waited == call) {
            debug!(call = %crate::display::short(&call), "reporting the end of a waited call");
            let report = render::call_report(&call, reason, local, counts.as_ref(), recording);
            control.call_ended(call, &report);
        }
    }
}

/// What follows a request's reply.
enum Then {
    /// Nothing: the connection takes the next request.
    Reply,
    /// Events, streamed.
    Watch,
    /// The report of this call, once it ends (instead of the reply).
    Wait(CallId),
}
