//! Posts and commands from standard input: a thread reads it line by line and sends each
//! non-empty line to the event loop as a [`Command`]: a `/command` (see `parse.rs`), or else
//! a [`Command::Post`].
//!
//! Standard input is always read, terminal or not: a person types lines, a script pipes them.
//! A line is cut at `\n` (a trailing `\r` is dropped too); lines that are empty or only
//! whitespace are skipped; a line that is not UTF-8, or longer than [`MAX_LINE`], or a
//! `/command` that does not parse, is reported on standard error and skipped. At end of input
//! the thread ends and the node keeps running.
//!
//! [`Command`]: crate::Command
//! [`Command::Post`]: crate::Command::Post

use std::io::{self, BufRead, Read};
use std::thread::{self, JoinHandle};

use crate::commands::CommandSender;
use crate::error::InputError;
use crate::parse;

/// Longest line read into memory (four times the longest post, so that a slightly long post
/// still reaches the node and is refused with its reason).
pub(crate) const MAX_LINE: usize = 4 * peerster_core::wire::cluster::MAX_POST_BYTES;

/// Starts a thread that sends every line of standard input through `commands`, as a command
/// or a post, reporting the lines it cannot send on standard error.
pub(crate) fn spawn_reader(commands: CommandSender) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name("stdin".into()).spawn(move || {
        send_lines(io::stdin().lock(), &commands, |error| {
            eprintln!("peerster: {error}");
        });
    })
}

/// Sends each non-empty line of `input` as a command or a post until the input or the
/// runtime ends.
fn send_lines(mut input: impl BufRead, commands: &CommandSender, report: impl Fn(InputError)) {
    let mut lines = Lines::default();
    loop {
        match lines.next(&mut input) {
            Ok(Some(text)) if text.trim().is_empty() => {}
            Ok(Some(text)) => match parse::line(&text) {
                Ok(command) => {
                    if commands.send(command).is_err() {
                        return; // The runtime stopped.
                    }
                }
                Err(error) => report(error.into()),
            },
            Ok(None) => return,
            Err(error @ InputError::Read(_)) => return report(error),
            Err(error) => report(error),
        }
    }
}

/// Splits input into bounded UTF-8 lines, counting them.
#[derive(Default)]
struct Lines {
    buffer: Vec<u8>,
    number: u64,
}

impl Lines {
    /// The next line without its line break, `None` at end of input.
    fn next(&mut self, input: &mut impl BufRead) -> Result<Option<String>, InputError> {
        self.buffer.clear();
        let limit = u64::try_from(MAX_LINE + 1).unwrap_or(u64::MAX);
        let buffer = &mut self.buffer;
        let read = retry_interrupted(|| Read::take(&mut *input, limit).read_until(b'\n', buffer))
            .map_err(InputError::Read)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let line = self.number;
        if self.buffer.last() == Some(&b'\n') {
            self.buffer.pop();
            if self.buffer.last() == Some(&b'\r') {
                self.buffer.pop();
            }
        } else if self.buffer.len() > MAX_LINE {
            retry_interrupted(|| input.skip_until(b'\n')).map_err(InputError::Read)?;
            return Err(InputError::TooLong {
                line,
                max: MAX_LINE,
            });
        }
        let bytes = std::mem::take(&mut self.buffer);
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| InputError::NotUtf8 { line })
    }
}

fn retry_interrupted(mut read: impl FnMut() -> io::Result<usize>) -> io::Result<usize> {
    loop {
        match read() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::commands::Command;

    fn lines(input: &[u8]) -> Vec<Result<String, String>> {
        let mut reader = Lines::default();
        let mut input = input;
        let mut out = Vec::new();
        loop {
            match reader.next(&mut input) {
                Ok(Some(line)) => out.push(Ok(line)),
                Ok(None) => return out,
                Err(error) => out.push(Err(error.to_string())),
            }
        }
    }

    #[test]
    fn splits_lines_and_drops_line_breaks() {
        assert_eq!(
            lines(b"one\ntwo\r\n\nlast"),
            [Ok("one"), Ok("two"), Ok(""), Ok("last")].map(|r| r.map(String::from))
        );
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn bad_lines_are_reported_and_skipped() {
        let mut input = b"ok\n\xff\xfe\n".to_vec();
        input.extend(vec![b'x'; MAX_LINE + 10]);
        input.extend(b"\nafter\n");
        assert_eq!(
            lines(&input),
            [
                Ok("ok".to_string()),
                Err("line 2 of standard input is not UTF-8: not posted".to_string()),
                Err(format!(
                    "line 3 of standard input is longer than {MAX_LINE} bytes: not posted"
                )),
                Ok("after".to_string()),
            ]
        );
        // A line of exactly the limit is read whole.
        let long = "y".repeat(MAX_LINE);
        assert_eq!(lines(format!("{long}\n").as_bytes()), [Ok(long)]);
    }

    #[test]
    fn non_empty_lines_become_posts_and_problems_are_reported() {
        let (posts, reported) = send(b"hello\n \n\xff\nworld");
        assert_eq!(
            posts,
            [Command::Post("hello".into()), Command::Post("world".into())]
        );
        assert_eq!(
            reported,
            ["line 3 of standard input is not UTF-8: not posted"]
        );
    }

    #[test]
    fn slash_lines_become_commands_and_bad_ones_are_reported() {
        let (commands, reported) = send(b"/members\n/nope\n/anon abc hi\n//x\n/help\n");
        assert_eq!(
            commands,
            [Command::Members, Command::Post("/x".into()), Command::Help]
        );
        assert_eq!(
            reported,
            [
                "unknown command /nope: /help lists the commands",
                r#"id prefix "abc" is too short: type at least 4 hex digits"#,
            ]
        );
    }

    /// The commands `input` sends, and the problems it reports.
    fn send(input: &[u8]) -> (Vec<Command>, Vec<String>) {
        let poll = mio::Poll::new().unwrap();
        let waker = Arc::new(mio::Waker::new(poll.registry(), mio::Token(0)).unwrap());
        let (sender, receiver) = crate::commands::channel(waker);
        let reported = Mutex::new(Vec::new());
        send_lines(input, &sender, |e| {
            reported.lock().unwrap().push(e.to_string())
        });
        let commands = (receiver.try_iter())
            .map(|queued| match queued {
                crate::commands::Queued::Command(command) => command,
                crate::commands::Queued::Task(_) => panic!("standard input sends commands"),
            })
            .collect();
        (commands, reported.into_inner().unwrap())
    }
}
