//! Draws the [`App`] on a terminal frame: the title bar (this node and whether it is
//! reached), the panels (`panels.rs`; in three columns, or two below [`WIDE`] columns), the status bar, the input line and the keys of the
//! focused panel; the help over them when asked; below [`MIN_WIDTH`] x [`MIN_HEIGHT`] only a
//! message that the terminal is too small. Drawing any size never panics.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::command::EXTRA_HELP;
use super::panels;
use super::snapshot::short;
use super::state::{App, Focus, LinkState};
use crate::display::escape;

/// The narrowest terminal the TUI draws its panels in.
pub(crate) const MIN_WIDTH: u16 = 60;
/// The lowest terminal the TUI draws its panels in.
pub(crate) const MIN_HEIGHT: u16 = 20;

/// The narrowest terminal the TUI draws its panels in three columns; narrower, two.
pub(crate) const WIDE: u16 = 110;

/// Draws `app` on `frame`.
pub(crate) fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return;
    }
    let narrow = area.width < WIDE;
    let [title, rollout, body, notice, input, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(narrow)),
        Constraint::Min(8),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(area);
    title_bar(frame, app, title);
    if narrow {
        panels::rollout_line(frame, app, rollout);
        narrow_body(frame, app, body);
    } else {
        wide_body(frame, app, body);
    }
    status_bar(frame, app, notice);
    input_line(frame, app, input);
    key_line(frame, app, keys);
    if app.help {
        help(frame, area);
    }
}

/// Where the panels that both layouts have go: members, chat, threads, votes, call.
type PanelAreas = [Rect; 5];

/// Draws the panels that both layouts have in their `areas`.
fn panels(frame: &mut Frame, app: &App, areas: PanelAreas) {
    let [members, chat, threads, votes, calls] = areas;
    panels::members(frame, app, members);
    panels::chat(frame, app, chat);
    panels::threads(frame, app, threads);
    panels::votes(frame, app, votes);
    panels::calls(frame, app, calls);
}

/// The panels in three columns: members and key rollout; chat and threads; votes and call.
fn wide_body(frame: &mut Frame, app: &App, body: Rect) {
    let [left, middle, right] = Layout::horizontal([
        Constraint::Percentage(28),
        Constraint::Percentage(42),
        Constraint::Percentage(30),
    ])
    .areas(body);
    let [members, rollout] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(left);
    let [chat, threads] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(middle);
    let [votes, calls] = Layout::vertical([Constraint::Min(3), Constraint::Length(6)]).areas(right);
    panels::rollout(frame, app, rollout);
    panels(frame, app, [members, chat, threads, votes, calls]);
}

/// The panels in two columns (the key rollout is a line above them): members, votes and
/// call; chat and threads.
fn narrow_body(frame: &mut Frame, app: &App, body: Rect) {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)]).areas(body);
    let [members, votes, calls] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Length(5),
    ])
    .areas(left);
    let [chat, threads] =
        Layout::vertical([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(right);
    panels(frame, app, [members, chat, threads, votes, calls]);
}

/// The message shown instead of the panels in a terminal too small for them.
fn too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::styled(
            "terminal too small",
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Line::raw(format!(
            "need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{}",
            area.width, area.height
        )),
        Line::raw("(Ctrl-C quits)"),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let area = Rect {
        y: area.y + top,
        height: area.height - top,
        ..area
    };
    let widget = Paragraph::new(text)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true });
    frame.render_widget(widget, area);
}

/// This node, and whether the TUI reaches it.
fn title_bar(frame: &mut Frame, app: &App, area: Rect) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut spans = vec![
        Span::styled(" peerster ", bold.add_modifier(Modifier::REVERSED)),
        Span::raw(" "),
        match &app.link {
            LinkState::Up => Span::styled("● connected", Style::new().fg(Color::Green)),
            LinkState::Connecting => Span::styled(
                format!("connecting to the node of {}…", app.dir.display()),
                Style::new().fg(Color::Yellow),
            ),
            LinkState::Down(_) => Span::styled("NODE GONE", bold.fg(Color::Red)),
        },
    ];
    if let Some(status) = &app.status {
        let name = status.name.as_deref().map_or_else(|| "-".into(), escape);
        spans.push(Span::raw(format!(
            " · {name} {} · {} · {} peers",
            short(&status.fingerprint),
            status.listen,
            status.peers
        )));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// What the last request did, the last event that matters, or an error, in red.
fn status_bar(frame: &mut Frame, app: &App, area: Rect) {
    let line = match (&app.link, &app.notice) {
        (LinkState::Down(why), _) => Line::styled(
            format!(" ✗ node gone: {why}; retrying every second (Ctrl-C quits)"),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        (_, notice) => notice_line(notice.as_ref()),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The status bar's line for `notice`.
fn notice_line(notice: Option<&super::state::Notice>) -> Line<'static> {
    match notice {
        Some(notice) if notice.error => Line::styled(
            format!(" ✗ {}", notice.text),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        Some(notice) => Line::styled(format!(" • {}", notice.text), Style::new().fg(Color::Green)),
        None => Line::styled(
            " Tab moves between panels · ? or /help: help",
            Style::new().fg(Color::DarkGray),
        ),
    }
}

/// The input line, scrolled so that the cursor shows; the terminal's cursor on it when it
/// has the focus.
fn input_line(frame: &mut Frame, app: &App, area: Rect) {
    let block = panels::block(app, Some(Focus::Input), "Post, or /command (Enter sends)");
    let inner = block.inner(area);
    let width = usize::from(inner.width).max(1);
    let cursor = app.editor.cursor();
    let first = (cursor + 1).saturating_sub(width);
    let shown: String = app.editor.text().chars().skip(first).take(width).collect();
    frame.render_widget(Paragraph::new(shown).block(block), area);
    if app.focus == Focus::Input && !app.help {
        let column = u16::try_from(cursor - first).unwrap_or(0);
        frame.set_cursor_position((inner.x + column, inner.y));
    }
}

/// The keys of the focused panel.
fn key_line(frame: &mut Frame, app: &App, area: Rect) {
    let keys = match app.focus {
        Focus::Input => "Enter send · Esc clear · Tab next panel · /help commands · Ctrl-C quit",
        Focus::Members => {
            "↑↓ select · a anon message · c call · x expel · s safety number · Tab · q quit"
        }
        Focus::Chat => "↑↓ PgUp PgDn scroll · Tab next panel · q quit",
        Focus::Threads => "↑↓ select · Enter or r reply · Tab next panel · q quit",
        Focus::Votes => "↑↓ select · y yes · n no · ←→ + Enter on [Yes]/[No] · Tab · q quit",
        Focus::Call => "a answer · d decline · h hang up · ↑↓ select · Tab · q quit",
    };
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!(" {keys}"),
            Style::new().fg(Color::DarkGray),
        )),
        area,
    );
}

/// The commands and keys, over the panels.
fn help(frame: &mut Frame, area: Rect) {
    let popup = area.inner(ratatui::layout::Margin {
        horizontal: area.width / 16,
        vertical: 1,
    });
    let mut lines: Vec<Line> = vec![Line::styled(
        "Commands (type them on the input line)",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    lines.extend(
        crate::parse::HELP
            .iter()
            .chain(EXTRA_HELP)
            .map(|l| Line::raw(*l)),
    );
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Keys",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    lines.extend(
        [
            "Tab / Shift-Tab   next / previous panel;  Ctrl-C quits;  q quits outside the input line",
            "Members   a anonymous message · c call · x expel · s safety number",
            "Threads   Enter or r reply;   Chat   ↑↓ PgUp PgDn scroll",
            "Votes     y yes · n no · ←→ then Enter on [Yes] / [No]",
            "Call      a answer · d decline · h hang up",
        ]
        .map(Line::raw),
    );
    let block = ratatui::widgets::Block::bordered()
        .title(" Help ")
        .title_bottom(" any key closes this help ");
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
}
