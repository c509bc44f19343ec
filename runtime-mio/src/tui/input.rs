//! What each key does to the [`App`]. Everywhere: Ctrl-C quits, Tab and Shift-Tab move the
//! focus. On the input line keys type, Enter sends the line, Esc clears it. Elsewhere `q`
//! quits, `?` shows the help, arrows move the selection, and each panel has its keys:
//! members `a` (anonymous message), `c` (call), `x` (expel), `s` (safety number); threads
//! Enter or `r` (reply); votes `y`, `n`, or Left/Right and Enter on `[Yes]`/`[No]`; call `a`
//! (answer), `d` (decline), `h` (hang up). The panel keys that need more (a text) fill the
//! input line with the command and move there.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::command::{Typed, typed};
use super::snapshot::short;
use super::state::{App, Button, Focus};
use crate::control::protocol::{Choice, Request};

impl App {
    /// Does what `key` asks.
    pub(crate) fn key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if self.help {
            // Any key closes the help.
            self.help = false;
            return;
        }
        match key.code {
            KeyCode::Tab => self.focus = self.focus.next(),
            KeyCode::BackTab => self.focus = self.focus.previous(),
            _ if self.focus == Focus::Input => self.input_key(key),
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('?') => self.help = true,
            KeyCode::Esc => self.focus = Focus::Input,
            _ => self.panel_key(key.code),
        }
    }

    fn input_key(&mut self, key: KeyEvent) {
        let editor = &mut self.editor;
        match key.code {
            KeyCode::Enter => self.submit(),
            KeyCode::Esc => {
                editor.take();
            }
            KeyCode::Backspace => editor.backspace(),
            KeyCode::Delete => editor.delete(),
            KeyCode::Left => editor.left(),
            KeyCode::Right => editor.right(),
            KeyCode::Home => editor.home(),
            KeyCode::End => editor.end(),
            KeyCode::Char(c) => editor.insert(c),
            _ => {}
        }
    }

    /// Sends the input line.
    fn submit(&mut self) {
        if self.editor.text().trim().is_empty() {
            return;
        }
        match typed(self.editor.text()) {
            Ok(Typed::Request(request)) => {
                self.editor.take();
                self.selection.chat_scroll = 0;
                self.ask(request);
            }
            Ok(Typed::Help) => {
                self.editor.take();
                self.help = true;
            }
            // The line stays, to be corrected.
            Err(error) => self.say(true, error.to_string()),
        }
    }

    fn panel_key(&mut self, code: KeyCode) {
        match code {
            KeyCode::Up => self.move_selection(-1),
            KeyCode::Down => self.move_selection(1),
            KeyCode::PageUp => self.move_selection(-10),
            KeyCode::PageDown => self.move_selection(10),
            _ => match self.focus {
                Focus::Members => self.member_key(code),
                Focus::Threads => self.thread_key(code),
                Focus::Votes => self.vote_key(code),
                Focus::Call => self.call_key(code),
                Focus::Input | Focus::Chat => {}
            },
        }
    }

    /// Moves the focused panel's selection by `by` rows (the chat: scrolls, up is older).
    fn move_selection(&mut self, by: isize) {
        let step =
            |index: usize, len: usize| index.saturating_add_signed(by).min(len.saturating_sub(1));
        let members = self.member_list().len();
        let selection = &mut self.selection;
        match self.focus {
            Focus::Members => selection.member = step(selection.member, members),
            Focus::Threads => selection.thread = step(selection.thread, self.threads.len()),
            Focus::Votes => selection.vote = step(selection.vote, self.votes.len()),
            Focus::Call => selection.call = step(selection.call, self.calls.len()),
            Focus::Chat => {
                let posts = self.inbox.iter().filter(|e| e.is_post()).count();
                selection.chat_scroll = selection
                    .chat_scroll
                    .saturating_add_signed(-by)
                    .min(posts.saturating_sub(1));
            }
            Focus::Input => {}
        }
    }

    /// Fills the input line with `text` and moves there.
    fn prefill(&mut self, text: String) {
        self.editor.set(&text);
        self.focus = Focus::Input;
    }

    fn member_key(&mut self, code: KeyCode) {
        let Some(member) = self.member_list().get(self.selection.member) else {
            return;
        };
        let id = short(&member.fingerprint).to_string();
        match code {
            KeyCode::Char('a') | KeyCode::Enter => self.prefill(format!("/anon {id} ")),
            KeyCode::Char('c') => self.prefill(format!("/call {id}")),
            KeyCode::Char('x') => self.prefill(format!("/expel {id}")),
            KeyCode::Char('s') => self.ask(Request::SafetyNumber { member: id }),
            _ => {}
        }
    }

    fn thread_key(&mut self, code: KeyCode) {
        if let (KeyCode::Enter | KeyCode::Char('r'), Some(thread)) =
            (code, self.threads.get(self.selection.thread))
        {
            let id = short(&thread.id).to_string();
            self.prefill(format!("/reply {id} "));
        }
    }

    fn vote_key(&mut self, code: KeyCode) {
        let choice = match code {
            KeyCode::Left => {
                self.button = Button::Yes;
                return;
            }
            KeyCode::Right => {
                self.button = Button::No;
                return;
            }
            KeyCode::Char('y') => Choice::Yes,
            KeyCode::Char('n') => Choice::No,
            KeyCode::Enter if self.button == Button::Yes => Choice::Yes,
            KeyCode::Enter => Choice::No,
            _ => return,
        };
        match self.votes.get(self.selection.vote) {
            Some(vote) if vote.awaits_my_vote() => {
                let proposal = vote.id.clone();
                self.ask(Request::Vote { proposal, choice });
            }
            Some(vote) => {
                let text = format!("vote {} is not open for a ballot of yours", short(&vote.id));
                self.say(true, text);
            }
            None => self.say(true, "no vote to vote on"),
        }
    }

    fn call_key(&mut self, code: KeyCode) {
        let Some(call) = self.calls.get(self.selection.call) else {
            self.say(true, "no call: /call MEMBER starts one");
            return;
        };
        let id = Some(call.call.clone());
        let incoming = call.state == "incoming";
        match code {
            KeyCode::Char('a') | KeyCode::Enter if incoming => {
                self.ask(Request::Answer {
                    call: id,
                    input: None,
                    output: None,
                });
            }
            KeyCode::Char('d') if incoming => self.ask(Request::Decline { call: id }),
            KeyCode::Char('h') => self.ask(Request::Hangup { call: id }),
            KeyCode::Char('a' | 'd') => self.say(true, "the call is not waiting for an answer"),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::tui::link::Purpose;
    use crate::tui::snapshot::{Call, Vote};

    fn press(app: &mut App, code: KeyCode) {
        app.key(KeyEvent::new(code, KeyModifiers::NONE));
    }

    fn type_text(app: &mut App, text: &str) {
        for c in text.chars() {
            press(app, KeyCode::Char(c));
        }
    }

    fn sent(app: &mut App) -> Vec<Request> {
        app.take_requests().into_iter().map(|(_, r)| r).collect()
    }

    #[test]
    fn a_typed_line_is_sent_on_enter_and_q_types_on_the_input_line() {
        let mut app = App::new(Path::new("/d"));
        type_text(&mut app, "quite so");
        assert!(!app.quit, "q on the input line types");
        press(&mut app, KeyCode::Enter);
        let sent = app.take_requests();
        assert_eq!(
            sent,
            [(
                Purpose::User("post".into()),
                Request::Post {
                    text: "quite so".into()
                }
            )]
        );
        assert!(app.editor.text().is_empty());
        // A bad command stays on the line, with its error shown.
        type_text(&mut app, "/anon 0a0b");
        press(&mut app, KeyCode::Enter);
        assert_eq!(app.editor.text(), "/anon 0a0b");
        assert!(app.notice.as_ref().unwrap().error);
        assert!(app.take_requests().is_empty());
        press(&mut app, KeyCode::Esc);
        assert!(app.editor.text().is_empty());
        type_text(&mut app, "/help");
        press(&mut app, KeyCode::Enter);
        assert!(app.help);
        press(&mut app, KeyCode::Char('x'));
        assert!(!app.help, "any key closes the help");
        assert!(
            app.editor.text().is_empty(),
            "the key that closed the help is not typed"
        );
    }

    #[test]
    fn q_elsewhere_and_ctrl_c_anywhere_quit() {
        let mut app = App::new(Path::new("/d"));
        press(&mut app, KeyCode::Tab);
        assert_eq!(app.focus, Focus::Members);
        press(&mut app, KeyCode::Char('q'));
        assert!(app.quit);
        let mut app = App::new(Path::new("/d"));
        app.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        assert!(app.quit);
    }

    #[test]
    fn votes_are_cast_with_y_n_or_the_buttons() {
        let mut app = App::new(Path::new("/d"));
        let vote = |id: &str, my_vote: Option<&str>| Vote {
            id: id.into(),
            kind: "admit".into(),
            subject: "0a0b".into(),
            deadline: 30,
            state: "open".into(),
            my_vote: my_vote.map(str::to_string),
        };
        app.votes = vec![
            vote("aaaa1111", None),
            vote("bbbb2222", None),
            vote("cccc", Some("no")),
        ];
        app.focus = Focus::Votes;
        press(&mut app, KeyCode::Char('y'));
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Right);
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Left);
        press(&mut app, KeyCode::Enter);
        assert_eq!(
            sent(&mut app),
            [
                Request::Vote {
                    proposal: "aaaa1111".into(),
                    choice: Choice::Yes
                },
                Request::Vote {
                    proposal: "bbbb2222".into(),
                    choice: Choice::No
                },
                Request::Vote {
                    proposal: "bbbb2222".into(),
                    choice: Choice::Yes
                },
            ]
        );
        press(&mut app, KeyCode::PageDown);
        assert_eq!(app.selection.vote, 2);
        press(&mut app, KeyCode::Char('n'));
        assert!(sent(&mut app).is_empty(), "already voted");
        assert!(app.notice.as_ref().unwrap().error);
    }

    #[test]
    fn an_incoming_call_is_answered_or_declined_and_a_call_hung_up() {
        let mut app = App::new(Path::new("/d"));
        app.focus = Focus::Call;
        press(&mut app, KeyCode::Char('a'));
        assert!(sent(&mut app).is_empty());
        app.calls = vec![Call {
            call: "1a2b3c4d".into(),
            state: "incoming".into(),
            role: "callee".into(),
            ..Call::default()
        }];
        press(&mut app, KeyCode::Char('a'));
        press(&mut app, KeyCode::Char('d'));
        press(&mut app, KeyCode::Char('h'));
        let call = Some("1a2b3c4d".to_string());
        assert_eq!(
            sent(&mut app),
            [
                Request::Answer {
                    call: call.clone(),
                    input: None,
                    output: None
                },
                Request::Decline { call: call.clone() },
                Request::Hangup { call },
            ]
        );
        app.calls[0].state = "active".into();
        press(&mut app, KeyCode::Char('a'));
        assert!(sent(&mut app).is_empty());
    }

    #[test]
    fn panel_keys_fill_the_input_line_with_the_command() {
        let mut app = App::new(Path::new("/d"));
        app.members = Some(crate::tui::snapshot::Members {
            members: vec![crate::tui::snapshot::Member {
                fingerprint: "0a0b0c0d0e0f".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        app.focus = Focus::Members;
        press(&mut app, KeyCode::Char('x'));
        assert_eq!(app.focus, Focus::Input);
        assert_eq!(app.editor.text(), "/expel 0a0b0c0d");
        press(&mut app, KeyCode::Esc);
        for _ in 0..5 {
            press(&mut app, KeyCode::BackTab);
        }
        assert_eq!(app.focus, Focus::Members);
        press(&mut app, KeyCode::Char('a'));
        type_text(&mut app, "psst");
        press(&mut app, KeyCode::Enter);
        assert_eq!(
            sent(&mut app),
            [Request::SendAnon {
                member: "0a0b0c0d".into(),
                text: "psst".into(),
                sign: false
            }]
        );
    }
}
