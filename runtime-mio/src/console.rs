//! [`Console`]: where a [`Runtime`](crate::Runtime) shows its user what happens, one line at a
//! time.

use std::fmt::Display;
use std::io::{self, Write};

use tracing::debug;

/// Two line sinks: `out` for what the node saw (posts, cluster changes; see the table in
/// `display.rs` and the crate doc), `err` for commands that failed. A write that fails (a
/// closed pipe, say) loses that line, never the node.
pub struct Console {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
}

impl Console {
    /// Lines to standard output, failures to standard error: what `peerster run` does.
    pub fn stdio() -> Console {
        Console::new(io::stdout(), io::stderr())
    }

    /// Lines to `out`, failures to `err`.
    pub fn new(out: impl Write + Send + 'static, err: impl Write + Send + 'static) -> Console {
        Console {
            out: Box::new(out),
            err: Box::new(err),
        }
    }

    /// Writes `line` and a line break to `out`, and flushes it.
    pub(crate) fn line(&mut self, line: &str) {
        if let Err(error) = write_line(&mut self.out, line) {
            debug!(%error, "output line lost");
        }
    }

    /// Writes `peerster: <failure>` to `err`, and flushes it.
    pub(crate) fn failure(&mut self, failure: &dyn Display) {
        if let Err(error) = write_line(&mut self.err, &format!("peerster: {failure}")) {
            debug!(%error, "error line lost");
        }
    }
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console").finish_non_exhaustive()
    }
}

fn write_line(sink: &mut dyn Write, line: &str) -> io::Result<()> {
    sink.write_all(line.as_bytes())?;
    sink.write_all(b"\n")?;
    sink.flush()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A sink the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn lines_and_failures_go_to_their_sinks() {
        let (out, err) = (Shared::default(), Shared::default());
        let mut console = Console::new(out.clone(), err.clone());
        console.line("[post] abcd: hi");
        console.failure(&"post refused: not in a cluster");
        assert_eq!(out.text(), "[post] abcd: hi\n");
        assert_eq!(err.text(), "peerster: post refused: not in a cluster\n");
    }

    #[test]
    fn a_broken_sink_loses_lines_quietly() {
        let mut console = Console::new(Broken, Broken);
        console.line("lost");
        console.failure(&"lost too");
    }
}
