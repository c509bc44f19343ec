//! [`App`]: everything the TUI shows and where the user is, changed only by what the node
//! sends ([`App::apply`]), the keys pressed (`input.rs`) and the clock ([`App::tick`]); it does
//! no I/O: the requests it wants sent wait in [`App::take_requests`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::editor::Editor;
use super::link::{Failure, Incoming, Part, Purpose};
use super::snapshot::{self, Call, Entry, Members, Status, Thread, Vote, read, read_all, short};
use crate::control::protocol::Request;

/// How often the TUI asks the node for its status, members, votes, calls and inbox.
pub(crate) const REFRESH_EVERY: Duration = Duration::from_secs(1);
/// How many of the latest posts and anonymous messages the TUI asks for.
pub(crate) const INBOX_LIMIT: usize = 300;

/// The panels, in the order Tab visits them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Focus {
    /// The input line: keys type.
    Input,
    /// The members panel.
    Members,
    /// The cluster chat.
    Chat,
    /// The anonymous threads.
    Threads,
    /// The open votes.
    Votes,
    /// The calls.
    Call,
}

impl Focus {
    const ORDER: [Focus; 6] = [
        Focus::Input,
        Focus::Members,
        Focus::Chat,
        Focus::Threads,
        Focus::Votes,
        Focus::Call,
    ];

    fn position(self) -> usize {
        Focus::ORDER.iter().position(|&f| f == self).unwrap_or(0)
    }

    /// The panel after this one (Tab).
    pub(crate) fn next(self) -> Focus {
        Focus::ORDER[(self.position() + 1) % Focus::ORDER.len()]
    }

    /// The panel before this one (Shift-Tab).
    pub(crate) fn previous(self) -> Focus {
        let n = Focus::ORDER.len();
        Focus::ORDER[(self.position() + n - 1) % n]
    }
}

/// Whether the TUI reaches its node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LinkState {
    /// Not yet known.
    Connecting,
    /// Watching its events.
    Up,
    /// Gone, and why: the TUI tries again.
    Down(String),
}

/// The button of a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Button {
    /// `[Yes]`.
    Yes,
    /// `[No]`.
    No,
}

/// A line for the status bar: what a request did, an event, or an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Notice {
    /// Whether it is an error (shown in red).
    pub error: bool,
    /// What it says.
    pub text: String,
}

/// Which row of each list is selected; for the chat, how many lines it is scrolled up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Selection {
    /// In the members panel.
    pub member: usize,
    /// In the threads panel.
    pub thread: usize,
    /// In the votes panel.
    pub vote: usize,
    /// In the call panel.
    pub call: usize,
    /// Lines the chat is scrolled up from its latest post.
    pub chat_scroll: usize,
}

/// When the next periodic refresh is due.
#[derive(Clone, Copy, Debug, Default)]
struct Refresh {
    last: Option<Instant>,
    /// Replies of the last refresh still awaited: no new one until they came.
    pending: usize,
    /// Refresh as soon as those came (an event said something changed).
    soon: bool,
}

/// The whole state of the TUI.
#[derive(Debug)]
pub(crate) struct App {
    /// The node's data directory (shown in the title).
    pub dir: PathBuf,
    /// Whether the node is reached.
    pub link: LinkState,
    /// The node, as of the last `status`.
    pub status: Option<Status>,
    /// The cluster, as of the last `members`; `None` outside a cluster.
    pub members: Option<Members>,
    /// The votes, as of the last `votes`.
    pub votes: Vec<Vote>,
    /// The calls, as of the last `calls`.
    pub calls: Vec<Call>,
    /// The latest posts and anonymous messages, oldest first.
    pub inbox: Vec<Entry>,
    /// The anonymous threads of `inbox`, latest first.
    pub threads: Vec<Thread>,
    /// The status bar's line.
    pub notice: Option<Notice>,
    /// The panel keys go to.
    pub focus: Focus,
    /// The selected rows.
    pub selection: Selection,
    /// The vote button Enter presses.
    pub button: Button,
    /// The input line.
    pub editor: Editor,
    /// Whether the help screen is shown.
    pub help: bool,
    /// Whether the user asked to quit.
    pub quit: bool,
    requests: Vec<(Purpose, Request)>,
    refresh: Refresh,
}

impl App {
    /// A TUI for the node of data directory `dir`, knowing nothing yet.
    pub(crate) fn new(dir: &Path) -> App {
        App {
            dir: dir.to_path_buf(),
            link: LinkState::Connecting,
            status: None,
            members: None,
            votes: Vec::new(),
            calls: Vec::new(),
            inbox: Vec::new(),
            threads: Vec::new(),
            notice: None,
            focus: Focus::Input,
            selection: Selection::default(),
            button: Button::Yes,
            editor: Editor::default(),
            help: false,
            quit: false,
            requests: Vec::new(),
            refresh: Refresh {
                soon: true,
                ..Refresh::default()
            },
        }
    }

    /// The requests to send, with what their replies are for.
    pub(crate) fn take_requests(&mut self) -> Vec<(Purpose, Request)> {
        std::mem::take(&mut self.requests)
    }

    /// Queues `request`, asked for by the user.
    pub(crate) fn ask(&mut self, request: Request) {
        let what = serde_json::to_value(&request)
            .ok()
            .and_then(|v| v.get("cmd").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| "request".into());
        self.requests.push((Purpose::User(what), request));
    }

    /// Queues the periodic requests if they are due at `now` and the last ones were answered.
    pub(crate) fn tick(&mut self, now: Instant) {
        let refresh = &mut self.refresh;
        let due = refresh.soon || refresh.last.is_none_or(|last| now >= last + REFRESH_EVERY);
        if !due || refresh.pending > 0 {
            return;
        }
        refresh.last = Some(now);
        refresh.soon = false;
        let parts = [
            (Part::Status, Request::Status {}),
            (Part::Members, Request::Members {}),
            (Part::Votes, Request::Votes {}),
            (Part::Calls, Request::Calls {}),
            (
                Part::Inbox,
                Request::Inbox {
                    limit: Some(INBOX_LIMIT),
                },
            ),
        ];
        refresh.pending = parts.len();
        (self.requests).extend(parts.into_iter().map(|(p, r)| (Purpose::Refresh(p), r)));
    }

    /// Takes in what the node sent.
    pub(crate) fn apply(&mut self, incoming: Incoming) {
        match incoming {
            Incoming::Watching => {
                if self.link != LinkState::Up {
                    self.link = LinkState::Up;
                    self.refresh.soon = true;
                }
            }
            Incoming::WatchLost(why) => self.link = LinkState::Down(why),
            Incoming::Event(event) => {
                self.refresh.soon = true;
                if let Some(notice) = self.event_notice(&event) {
                    self.notice = Some(notice);
                }
            }
            Incoming::Reply {
                purpose: Purpose::Refresh(part),
                outcome,
            } => {
                self.refresh.pending = self.refresh.pending.saturating_sub(1);
                self.refreshed(part, outcome);
            }
            Incoming::Reply {
                purpose: Purpose::User(what),
                outcome,
            } => {
                self.refresh.soon = true;
                self.notice = Some(match outcome {
                    Ok(reply) => Notice {
                        error: false,
                        text: self.done(&what, &reply),
                    },
                    Err(Failure::Refused(error)) => Notice {
                        error: true,
                        text: error,
                    },
                    Err(Failure::Link(error)) => Notice {
                        error: true,
                        text: format!("{what} not sent: {error}"),
                    },
                });
            }
        }
        self.clamp_selection();
    }

    /// Takes in the reply to a periodic request.
    fn refreshed(&mut self, part: Part, outcome: Result<Value, Failure>) {
        let reply = match outcome {
            Ok(reply) => reply,
            Err(Failure::Link(why)) => {
                self.link = LinkState::Down(why);
                return;
            }
            // Outside a cluster there are no members or votes: the node refuses to list them.
            Err(Failure::Refused(_)) => Value::Null,
        };
        match part {
            Part::Status => self.status = (!reply.is_null()).then(|| read_all(&reply)),
            Part::Members => self.members = (!reply.is_null()).then(|| read_all(&reply)),
            Part::Votes => self.votes = read(&reply, "votes"),
            Part::Calls => self.calls = read(&reply, "calls"),
            Part::Inbox => {
                self.inbox = read(&reply, "inbox");
                self.threads = snapshot::threads(&self.inbox);
            }
        }
    }

    /// The name a member announced, escaped, if it is known.
    fn known_name(&self, fingerprint: &str) -> Option<String> {
        let member = (self.members.iter())
            .flat_map(|m| &m.members)
            .find(|m| m.fingerprint == fingerprint)?;
        Some(crate::display::escape(member.name.as_deref()?).into_owned())
    }

    /// A member as people read it: its short id, and its name if known.
    pub(crate) fn who(&self, fingerprint: &str) -> String {
        match self.known_name(fingerprint) {
            Some(name) => format!("{} ({name})", short(fingerprint)),
            None => short(fingerprint).to_string(),
        }
    }

    /// A member as the chat names it: its name if known, else its short id.
    pub(crate) fn name(&self, fingerprint: &str) -> String {
        self.known_name(fingerprint)
            .unwrap_or_else(|| short(fingerprint).to_string())
    }

    /// The posts of the inbox, oldest first.
    pub(crate) fn posts(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.inbox.iter().filter(|e| e.is_post())
    }

    /// The member list, this node first as the node lists it.
    pub(crate) fn member_list(&self) -> &[snapshot::Member] {
        self.members.as_ref().map_or(&[], |m| &m.members)
    }

    /// Keeps each selection within its list.
    fn clamp_selection(&mut self) {
        let clamp = |index: &mut usize, len: usize| *index = (*index).min(len.saturating_sub(1));
        let members = self.member_list().len();
        clamp(&mut self.selection.member, members);
        clamp(&mut self.selection.thread, self.threads.len());
        clamp(&mut self.selection.vote, self.votes.len());
        clamp(&mut self.selection.call, self.calls.len());
    }

    /// Shows `text` in the status bar, as an error or not.
    pub(crate) fn say(&mut self, error: bool, text: impl Into<String>) {
        self.notice = Some(Notice {
            error,
            text: text.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reply(part: Part, value: Value) -> Incoming {
        Incoming::Reply {
            purpose: Purpose::Refresh(part),
            outcome: Ok(value),
        }
    }

    #[test]
    fn the_refresh_asks_every_second_and_never_piles_up() {
        let mut app = App::new(Path::new("/d"));
        let start = Instant::now();
        app.tick(start);
        let first = app.take_requests();
        assert_eq!(first.len(), 5);
        assert!(first.contains(&(Purpose::Refresh(Part::Votes), Request::Votes {})));
        // Unanswered: nothing more, even once due.
        app.tick(start + 3 * REFRESH_EVERY);
        assert!(app.take_requests().is_empty());
        for (purpose, _) in first {
            app.apply(Incoming::Reply {
                purpose,
                outcome: Err(Failure::Refused("not in a cluster".into())),
            });
        }
        app.tick(start + REFRESH_EVERY / 2);
        assert!(app.take_requests().is_empty(), "not due yet");
        app.tick(start + REFRESH_EVERY);
        assert_eq!(app.take_requests().len(), 5);
    }

    #[test]
    fn an_event_refreshes_at_once_once_the_last_refresh_is_answered() {
        let mut app = App::new(Path::new("/d"));
        let now = Instant::now();
        app.tick(now);
        for (purpose, _) in app.take_requests() {
            app.apply(Incoming::Reply {
                purpose,
                outcome: Ok(json!({"ok": true})),
            });
        }
        app.apply(Incoming::Event(json!({"kind": "post", "text": "hi"})));
        app.tick(now);
        assert_eq!(app.take_requests().len(), 5);
    }

    #[test]
    fn replies_fill_the_panels_and_refusals_empty_them() {
        let mut app = App::new(Path::new("/d"));
        app.apply(reply(
            Part::Members,
            json!({"ok": true, "cluster": "5a6b", "epoch": 3, "epoch_key_age_s": 12,
                   "members": [{"fingerprint": "0a0b0c0d0e", "name": "bob", "last_heard_s": 4, "this_node": false}]}),
        ));
        let members = app.members.as_ref().unwrap();
        assert_eq!((members.epoch, members.epoch_key_age_s), (3, 12));
        assert_eq!(app.who("0a0b0c0d0e"), "0a0b0c0d (bob)");
        assert_eq!(app.who("99999999ff"), "99999999");
        app.apply(reply(
            Part::Inbox,
            json!({"ok": true, "inbox": [
                {"kind": "post", "direction": "in", "text": "hello", "from": "0a0b0c0d0e"},
                {"kind": "anon", "direction": "out", "text": "psst", "thread": "1a2b", "state": "sent"}]}),
        ));
        assert_eq!(app.posts().count(), 1);
        assert_eq!(app.threads.len(), 1);
        app.selection.member = 5;
        app.apply(Incoming::Reply {
            purpose: Purpose::Refresh(Part::Members),
            outcome: Err(Failure::Refused("not in a cluster".into())),
        });
        assert_eq!(app.members, None);
        assert_eq!(app.selection.member, 0);
    }

    #[test]
    fn the_nodes_errors_and_a_lost_node_are_shown() {
        let mut app = App::new(Path::new("/d"));
        app.apply(Incoming::Reply {
            purpose: Purpose::User("vote".into()),
            outcome: Err(Failure::Refused("vote refused: already voted".into())),
        });
        let notice = app.notice.clone().unwrap();
        assert!(notice.error);
        assert_eq!(notice.text, "vote refused: already voted");
        app.apply(Incoming::Watching);
        assert_eq!(app.link, LinkState::Up);
        app.apply(Incoming::WatchLost("no node runs on /d".into()));
        assert_eq!(app.link, LinkState::Down("no node runs on /d".into()));
        app.apply(Incoming::Reply {
            purpose: Purpose::User("vote".into()),
            outcome: Ok(json!({"ok": true, "proposal": "5e6f7a8b99", "choice": "yes"})),
        });
        assert_eq!(app.notice.clone().unwrap().text, "voted yes on 5e6f7a8b");
        assert!(!app.notice.clone().unwrap().error);
        app.apply(Incoming::Reply {
            purpose: Purpose::User("post".into()),
            outcome: Err(Failure::Link("no node runs on /d".into())),
        });
        assert_eq!(
            app.notice.clone().unwrap().text,
            "post not sent: no node runs on /d"
        );
    }

    #[test]
    fn tab_visits_every_panel_and_comes_back() {
        let mut focus = Focus::Input;
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(focus);
            focus = focus.next();
        }
        assert_eq!(focus, Focus::Input);
        assert_eq!(seen.len(), 6);
        assert_eq!(Focus::Input.previous(), Focus::Call);
        assert_eq!(Focus::Call.previous().next(), Focus::Call);
    }
}
