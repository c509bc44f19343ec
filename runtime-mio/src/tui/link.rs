//! [`Link`]: the TUI's two connections to the node's control socket, each on its own thread.
//! One `watch`es and streams the node's events; the other carries requests one after the
//! other (the periodic refresh and what the user asks for), each answered by one line. Both
//! hand what comes back to the UI thread on one channel as [`Incoming`]s. When the node goes
//! away the watcher says so and tries again every [`RETRY`]; the request connection is opened
//! again at the next request (and given up when a reply takes longer than [`REPLY_TIMEOUT`]).

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use serde_json::Value;
use tracing::debug;

use crate::control::protocol::Request;
use crate::ctl::CtlConnection;

/// How long the watcher waits before connecting again to a node that is gone.
pub(crate) const RETRY: Duration = Duration::from_secs(1);
/// How long a request waits for its reply before the connection is given up (a node that
/// hangs must not freeze the refresh).
pub(crate) const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which part of the screen a periodic request refreshes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// `status`: the title bar.
    Status,
    /// `members`: the members panel and the key-rollout status.
    Members,
    /// `votes`: the votes panel.
    Votes,
    /// `calls`: the call panel.
    Calls,
    /// `inbox`: the chat and the anonymous threads.
    Inbox,
}

/// Why a request was sent: what its reply is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// The periodic refresh of a part of the screen.
    Refresh(Part),
    /// Something the user asked for, in a few words (shown with the reply).
    User(String),
}

/// Why a request got no successful reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The node refused it (`{"ok":false,"error":...}`): its error.
    Refused(String),
    /// The node could not be reached, or the connection broke.
    Link(String),
}

/// What the link hands to the UI thread.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Incoming {
    /// The watcher is connected: events follow.
    Watching,
    /// An event the node streamed (its JSON line).
    Event(Value),
    /// The watcher lost the node (or could not reach it), and why; it tries again.
    WatchLost(String),
    /// The reply to a request.
    Reply {
        /// What the request was for.
        purpose: Purpose,
        /// The reply's fields, or why there is none.
        outcome: Result<Value, Failure>,
    },
}

/// The connections to one node: send requests with [`Link::send`], take what comes back from
/// [`Link::incoming`].
#[derive(Debug)]
pub(crate) struct Link {
    requests: Sender<(Purpose, Request)>,
    incoming: Receiver<Incoming>,
}

impl Link {
    /// Starts the watcher and the request threads for the node of data directory `dir`.
    pub(crate) fn start(dir: PathBuf) -> std::io::Result<Link> {
        let (to_ui, incoming) = mpsc::channel();
        let (requests, to_node) = mpsc::channel();
        let watch_dir = dir.clone();
        let watch_ui = to_ui.clone();
        thread::Builder::new()
            .name("tui-watch".into())
            .spawn(move || watch(&watch_dir, &watch_ui))?;
        thread::Builder::new()
            .name("tui-requests".into())
            .spawn(move || carry_requests(&dir, &to_node, &to_ui))?;
        Ok(Link { requests, incoming })
    }

    /// Queues `request`; its reply comes back as an [`Incoming::Reply`] with `purpose`.
    pub(crate) fn send(&self, purpose: Purpose, request: Request) {
        // The request thread ends only with the link: a failed send cannot happen while
        // `self` lives, and there would be nobody to tell.
        let _ = self.requests.send((purpose, request));
    }

    /// What came back since the last call, without waiting.
    pub(crate) fn incoming(&self) -> impl Iterator<Item = Incoming> + '_ {
        self.incoming.try_iter()
    }
}

/// The watcher's thread: watches, hands over the events, and connects again when the node
/// goes away, until the UI is gone.
fn watch(dir: &std::path::Path, to_ui: &Sender<Incoming>) {
    loop {
        let lost = match watch_once(dir, to_ui) {
            Ok(Gone::Ui) => return,
            Ok(Gone::Node) => "the node closed the connection".to_string(),
            Err(why) => why,
        };
        debug!(%lost, "watch connection lost");
        if to_ui.send(Incoming::WatchLost(lost)).is_err() {
            return;
        }
        thread::sleep(RETRY);
    }
}

/// Who went away first.
enum Gone {
    /// The node: its end of the connection closed.
    Node,
    /// The UI: nobody takes what is read.
    Ui,
}

/// One watch connection, until it ends; why it could not be had or broke, as an error.
fn watch_once(dir: &std::path::Path, to_ui: &Sender<Incoming>) -> Result<Gone, String> {
    let mut connection = CtlConnection::open(dir).map_err(|e| e.to_string())?;
    let first = connection
        .ask(&Request::Watch {})
        .map_err(|e| e.to_string())?;
    if let Err(Failure::Refused(why) | Failure::Link(why)) = fields(first) {
        return Err(why);
    }
    if to_ui.send(Incoming::Watching).is_err() {
        return Ok(Gone::Ui);
    }
    while let Some((_, event)) = connection.next_line().map_err(|e| e.to_string())? {
        if to_ui.send(Incoming::Event(event)).is_err() {
            return Ok(Gone::Ui);
        }
    }
    Ok(Gone::Node)
}

/// The request thread: carries out each request on one connection, opened again after it
/// failed, until the UI is gone.
fn carry_requests(
    dir: &std::path::Path,
    requests: &Receiver<(Purpose, Request)>,
    to_ui: &Sender<Incoming>,
) {
    let mut connection: Option<CtlConnection> = None;
    for (purpose, request) in requests {
        let reply = match connection.take() {
            Some(open) => Ok(open),
            None => CtlConnection::open(dir)
                .and_then(|open| open.set_read_timeout(Some(REPLY_TIMEOUT)).map(|()| open)),
        }
        .and_then(|mut open| {
            let reply = open.ask(&request)?;
            connection = Some(open);
            Ok(reply)
        });
        let outcome = match reply {
            Ok(reply) => fields(reply),
            Err(error) => Err(Failure::Link(error.to_string())),
        };
        if to_ui.send(Incoming::Reply { purpose, outcome }).is_err() {
            return;
        }
    }
}

/// A reply's fields if it says `"ok":true`, else the node's error.
pub(crate) fn fields(reply: Value) -> Result<Value, Failure> {
    if reply.get("ok").and_then(Value::as_bool) == Some(true) {
        return Ok(reply);
    }
    let error = (reply.get("error").and_then(Value::as_str))
        .map_or_else(|| format!("unexpected reply: {reply}"), str::to_string);
    Err(Failure::Refused(error))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn replies_are_fields_or_the_nodes_error() {
        let ok = json!({"ok": true, "epoch": 2});
        assert_eq!(fields(ok.clone()), Ok(ok));
        assert_eq!(
            fields(json!({"ok": false, "error": "vote refused: already voted"})),
            Err(Failure::Refused("vote refused: already voted".into()))
        );
        let Err(Failure::Refused(odd)) = fields(json!([1])) else {
            panic!("a list is no reply");
        };
        assert!(odd.contains("unexpected reply"), "{odd}");
    }

    #[test]
    fn a_missing_node_is_reported_and_retried_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let link = Link::start(dir.path().to_path_buf()).unwrap();
        link.send(Purpose::Refresh(Part::Status), Request::Status {});
        let mut lost = false;
        let mut replied = false;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !(lost && replied) && std::time::Instant::now() < deadline {
            for incoming in link.incoming() {
                match incoming {
                    Incoming::WatchLost(why) => {
                        assert!(why.contains("no node runs"), "{why}");
                        lost = true;
                    }
                    Incoming::Reply { purpose, outcome } => {
                        assert_eq!(purpose, Purpose::Refresh(Part::Status));
                        assert!(
                            matches!(&outcome, Err(Failure::Link(why)) if why.contains("no node runs")),
                            "{outcome:?}"
                        );
                        replied = true;
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        assert!(lost && replied, "lost {lost}, replied {replied}");
    }
}
