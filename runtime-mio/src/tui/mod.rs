//! `peerster tui`: a terminal UI (ratatui on crossterm) for a running node, attached to it only
//! through its control socket, as `peerster ctl` is.
//!
//! The screen shows this node and whether it is reached, the members (short id, name, last
//! heard), the key rollout (cluster, epoch, age of the epoch key), the cluster chat, the
//! anonymous threads (id, messages, delivery state), the votes with `[Yes]` `[No]` buttons, the
//! calls (answer, decline, hang up), a status bar with what the node answered (its errors in
//! red) and the events that ask for the user, and an input line that takes the node's
//! standard-input commands (`/anon MEMBER TEXT`, `/reply THREAD TEXT`, `/vote`, `/expel
//! MEMBER`, `/call MEMBER`, ...; any other line is a post).
//!
//! Its parts: `link.rs` keeps two connections to the node (one `watch`es its events, one
//! carries requests), `state.rs` is what is shown and the periodic refresh (every
//! second: `status`, `members`, `votes`, `calls`, `inbox`, and at once after an
//! event), `notices.rs` what the status bar says,
//! `input.rs` what keys do, `command.rs` what a typed line asks for, `render.rs` and
//! `panels.rs` the drawing, `snapshot.rs` the replies read. Only [`run`] touches the terminal:
//! raw mode and the alternate screen, restored when it returns and on a panic.

mod command;
mod editor;
mod input;
mod link;
mod notices;
mod panels;
mod render;
mod snapshot;
mod state;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event};
use thiserror::Error;

use self::link::Link;
use self::state::App;

/// How long the loop waits for a key before it looks at what the node sent.
const POLL: Duration = Duration::from_millis(50);

/// Why `peerster tui` stopped with an error.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TuiError {
    /// The terminal could not be set up, read or drawn on.
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    /// Standard input or output is not a terminal.
    #[error("peerster tui needs a terminal (standard input and output)")]
    NotATerminal,
}

/// Runs the TUI for the node of data directory `dir` until the user quits (`q`, Ctrl-C) or
/// SIGTERM stops it. A node that is not running, or goes
/// away, is shown as gone and connected to again.
pub fn run(dir: &Path) -> Result<(), TuiError> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(TuiError::NotATerminal);
    }
    // SIGTERM ends the loop, which restores the terminal; a second one ends the process at
    // once. SIGHUP keeps its default (the process ends): the terminal is gone, and crossterm
    // would spin reading it.
    let stop = Arc::new(AtomicBool::new(false));
    let term = signal_hook::consts::SIGTERM;
    signal_hook::flag::register_conditional_shutdown(term, 1, Arc::clone(&stop))?;
    signal_hook::flag::register(term, Arc::clone(&stop))?;
    let link = Link::start(dir.to_path_buf())?;
    let mut app = App::new(dir);
    // Raw mode and the alternate screen; a panic hook that restores the terminal first.
    let mut terminal = ratatui::try_init()?;
    let result = run_loop(&mut terminal, &mut app, &link, &stop);
    ratatui::restore();
    result
}

/// Draws, takes keys and what the node sent, and sends requests, until the user quits or
/// `stop` is set.
fn run_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    link: &Link,
    stop: &AtomicBool,
) -> Result<(), TuiError> {
    let mut dirty = true;
    while !app.quit && !stop.load(Ordering::Relaxed) {
        for incoming in link.incoming() {
            app.apply(incoming);
            dirty = true;
        }
        app.tick(Instant::now());
        for (purpose, request) in app.take_requests() {
            link.send(purpose, request);
        }
        if dirty {
            terminal.draw(|frame| render::draw(frame, app))?;
            dirty = false;
        }
        if event::poll(POLL)? {
            // Any other event (a resize) only asks for a redraw: `draw` resizes the buffers.
            if let Event::Key(key) = event::read()? {
                app.key(key);
            }
            dirty = true;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
