//! The panels of the TUI's screen, each drawn from the [`App`] into its area: members, key
//! rollout, chat, anonymous threads, votes and calls. Text from the network is shown with its
//! control characters escaped ([`crate::display::escape`]), so that it cannot break a line or
//! restyle the terminal.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph};

use super::snapshot::{Entry, short};
use super::state::{App, Button, Focus};
use crate::display::escape;

/// The style of what stands out: names, ids.
const BOLD: Style = Style::new().add_modifier(Modifier::BOLD);
/// The style of what matters less: times, hints.
const DIM: Style = Style::new().fg(Color::DarkGray);
/// The style of warnings and failures.
const BAD: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
/// The style of what went well.
const GOOD: Style = Style::new().fg(Color::Green);

/// A bordered block titled `title`, highlighted when `focus` is the app's.
pub(crate) fn block(app: &App, focus: Option<Focus>, title: &str) -> Block<'static> {
    let focused = focus.is_some_and(|f| f == app.focus) && !app.help;
    let (border, title_style) = if focused {
        (Style::new().fg(Color::Cyan), BOLD.fg(Color::Cyan))
    } else {
        (Style::new(), BOLD)
    };
    Block::bordered()
        .border_style(border)
        .title(Span::styled(format!(" {title} "), title_style))
}

/// What a list panel shows: its place, title, rows, selected row, and the hint lines shown
/// when it has no rows.
struct ListPanel<'a> {
    focus: Focus,
    title: &'a str,
    items: Vec<ListItem<'a>>,
    selected: usize,
    empty: &'a [&'a str],
}

/// Draws `panel` in `area`, its selected row highlighted when it has the focus.
fn list(frame: &mut Frame, app: &App, area: Rect, panel: ListPanel) {
    let block = block(app, Some(panel.focus), panel.title);
    if panel.items.is_empty() {
        let text: Vec<Line> = panel.empty.iter().map(|line| hint(line)).collect();
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let focused = app.focus == panel.focus;
    let highlight = if focused {
        Style::new().bg(Color::DarkGray)
    } else {
        Style::new()
    };
    let mut state = ListState::default().with_selected(Some(panel.selected));
    let widget = List::new(panel.items)
        .block(block)
        .highlight_style(highlight)
        .highlight_symbol(if focused { "> " } else { "  " });
    frame.render_stateful_widget(widget, area, &mut state);
}

/// A placeholder line, dimmed.
fn hint(text: &str) -> Line<'static> {
    Line::styled(text.to_string(), DIM)
}

/// The members: short id, name, when last heard.
pub(crate) fn members(frame: &mut Frame, app: &App, area: Rect) {
    let members = app.member_list();
    let title = format!("Members ({})", members.len());
    let items = (members.iter())
        .map(|m| {
            let name = m.name.as_deref().map_or_else(|| "-".into(), escape);
            let heard = match m.last_heard_s {
                _ if m.this_node => Span::styled("me", GOOD),
                Some(s) => Span::styled(format!("{s} s ago"), DIM),
                None => Span::styled("-", DIM),
            };
            ListItem::new(Line::from(vec![
                Span::styled(short(&m.fingerprint).to_string(), BOLD),
                Span::raw(format!(" {name} ")),
                heard,
            ]))
        })
        .collect();
    let panel = ListPanel {
        focus: Focus::Members,
        title: &title,
        items,
        selected: app.selection.member,
        empty: &["not in a cluster:", "/create-cluster or /join ADDR"],
    };
    list(frame, app, area, panel);
}

/// The key rollout, as lines: epoch and age of the epoch key, members and how well a message
/// hides among them, cluster.
fn rollout_lines(app: &App) -> Vec<Line<'static>> {
    let Some(m) = &app.members else {
        return vec![hint("no cluster, no key")];
    };
    let hide = match &m.anonymity {
        Some(a) if a.low => Span::styled(format!("hides among {} (low)", a.anonymity_set), BAD),
        Some(a) => Span::raw(format!("hides among {}", a.anonymity_set)),
        None => Span::raw(""),
    };
    let members = match m.members.len() {
        1 => "1 member · ".to_string(),
        n => format!("{n} members · "),
    };
    vec![
        Line::from(format!(
            "epoch {} · key age {} s",
            m.epoch, m.epoch_key_age_s
        )),
        Line::from(vec![Span::raw(members), hide]),
        Line::from(vec![
            Span::raw("cluster "),
            Span::styled(m.cluster.clone(), BOLD),
        ]),
    ]
}

/// The key rollout, in a panel of its own.
pub(crate) fn rollout(frame: &mut Frame, app: &App, area: Rect) {
    let text = rollout_lines(app);
    frame.render_widget(
        Paragraph::new(text).block(block(app, None, "Key rollout")),
        area,
    );
}

/// The key rollout on one line, for a narrow terminal.
pub(crate) fn rollout_line(frame: &mut Frame, app: &App, area: Rect) {
    let mut spans = vec![Span::styled(" keys: ", BOLD)];
    for (i, line) in rollout_lines(app).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" · "));
        }
        spans.extend(line.spans);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The cluster chat: the latest posts at the bottom, each wrapped to the width.
pub(crate) fn chat(frame: &mut Frame, app: &App, area: Rect) {
    let scroll = app.selection.chat_scroll;
    let title = if scroll > 0 {
        format!("Chat ({scroll} newer below)")
    } else {
        "Chat".to_string()
    };
    let block = block(app, Some(Focus::Chat), &title);
    let inner = block.inner(area);
    let (width, height) = (usize::from(inner.width), usize::from(inner.height));
    let mut lines: Vec<Line> = Vec::new();
    for post in app.posts().rev().skip(scroll) {
        if lines.len() >= height {
            break;
        }
        let mut post_lines = post_lines(app, post, width);
        post_lines.append(&mut lines);
        lines = post_lines;
    }
    if app.posts().next().is_none() {
        lines.push(hint("no posts yet: type one below and press Enter"));
    }
    let skip = lines.len().saturating_sub(height);
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// One post as lines of at most `width` characters: its author, then its text.
fn post_lines(app: &App, post: &Entry, width: usize) -> Vec<Line<'static>> {
    let author = if post.is_out() {
        "me".to_string()
    } else {
        post.from
            .as_deref()
            .map_or_else(|| "?".into(), |from| app.name(from))
    };
    let author = format!("{author}: ");
    let whole = format!("{author}{}", escape(&post.text));
    let chunks = wrap(&whole, width.max(1));
    let author_chars = author.chars().count();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            if i > 0 {
                return Line::raw(chunk);
            }
            let split = chunk
                .char_indices()
                .nth(author_chars)
                .map_or(chunk.len(), |(at, _)| at);
            let (name, text) = chunk.split_at(split);
            Line::from(vec![
                Span::styled(name.to_string(), BOLD.fg(Color::Yellow)),
                Span::raw(text.to_string()),
            ])
        })
        .collect()
}

/// `text` cut into pieces of at most `width` characters, at spaces where it can.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split_inclusive(' ') {
        let mut word_len = word.chars().count();
        if len + word_len > width && len > 0 {
            lines.push(std::mem::take(&mut line));
            len = 0;
        }
        let mut rest = word;
        while word_len > width {
            let at = rest
                .char_indices()
                .nth(width - len)
                .map_or(rest.len(), |(at, _)| at);
            line.push_str(&rest[..at]);
            lines.push(std::mem::take(&mut line));
            rest = &rest[at..];
            word_len = rest.chars().count();
            len = 0;
        }
        line.push_str(rest);
        len += word_len;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The anonymous threads: id, message count, delivery state; the selected one's latest
/// messages under it.
pub(crate) fn threads(frame: &mut Frame, app: &App, area: Rect) {
    let title = format!("Anonymous threads ({})", app.threads.len());
    let items = (app.threads.iter().enumerate())
        .map(|(i, thread)| {
            let state = match thread.delivery() {
                Some("failed") => Span::styled("failed", BAD),
                Some("delivered") => Span::styled("delivered", GOOD),
                Some(other) => Span::raw(other.to_string()),
                None => Span::styled("received", DIM),
            };
            let count = thread.messages.len();
            let mut lines = vec![Line::from(vec![
                Span::styled(short(&thread.id).to_string(), BOLD),
                Span::raw(format!(
                    " {count} message{} · ",
                    if count == 1 { "" } else { "s" }
                )),
                state,
            ])];
            if i == app.selection.thread {
                let latest = thread.messages.iter().rev().take(3).rev();
                lines.extend(latest.map(|m| {
                    let from = match &m.from {
                        _ if m.is_out() => "me".to_string(),
                        Some(from) => app.name(from),
                        None => "anonymous".to_string(),
                    };
                    Line::from(vec![
                        Span::styled(format!("  {from}: "), DIM),
                        Span::raw(escape(&m.text).into_owned()),
                    ])
                }));
            }
            ListItem::new(Text::from(lines))
        })
        .collect();
    let panel = ListPanel {
        focus: Focus::Threads,
        title: &title,
        items,
        selected: app.selection.thread,
        empty: &["none: /anon MEMBER TEXT starts one"],
    };
    list(frame, app, area, panel);
}

/// The votes: what is proposed, the time left, and `[Yes]` `[No]` for those awaiting this
/// node's ballot.
pub(crate) fn votes(frame: &mut Frame, app: &App, area: Rect) {
    let open = app.votes.iter().filter(|v| v.state == "open").count();
    let title = format!("Votes ({open} open)");
    let items = (app.votes.iter().enumerate())
        .map(|(i, vote)| {
            let head = Line::from(vec![
                Span::styled(short(&vote.id).to_string(), BOLD),
                Span::raw(format!(" {} {}", vote.kind, app.who(&vote.subject))),
            ]);
            let left = Span::styled(format!(" {} s left", vote.deadline), DIM);
            let second = if vote.awaits_my_vote() {
                let pressed = |button| {
                    let chosen = app.focus == Focus::Votes
                        && i == app.selection.vote
                        && app.button == button;
                    if chosen {
                        BOLD.add_modifier(Modifier::REVERSED)
                    } else {
                        BOLD
                    }
                };
                Line::from(vec![
                    Span::raw("  "),
                    Span::styled("[Yes]", pressed(Button::Yes).fg(Color::Green)),
                    Span::raw(" "),
                    Span::styled("[No]", pressed(Button::No).fg(Color::Red)),
                    left,
                ])
            } else {
                let mine = (vote.my_vote.as_deref())
                    .map_or_else(String::new, |v| format!(" · you voted {v}"));
                Line::from(vec![
                    Span::styled(format!("  {}{mine}", vote.state), DIM),
                    left,
                ])
            };
            ListItem::new(Text::from(vec![head, second]))
        })
        .collect();
    let panel = ListPanel {
        focus: Focus::Votes,
        title: &title,
        items,
        selected: app.selection.vote,
        empty: &["no votes"],
    };
    list(frame, app, area, panel);
}

/// The calls: state, the other end, duration, and the keys that act on them.
pub(crate) fn calls(frame: &mut Frame, app: &App, area: Rect) {
    let items = (app.calls.iter())
        .map(|call| {
            let peer = call
                .peer
                .as_deref()
                .map_or_else(|| "anonymous".into(), |p| app.who(p));
            let (what, keys) = match call.state.as_str() {
                "incoming" => (
                    Span::styled(format!("incoming from {peer}"), BAD.fg(Color::Yellow)),
                    "a answer · d decline",
                ),
                "ringing" => (Span::raw(format!("calling {peer}")), "h hang up"),
                _ => (
                    Span::styled(format!("active with {peer}"), GOOD),
                    "h hang up",
                ),
            };
            ListItem::new(Text::from(vec![
                Line::from(vec![
                    Span::styled(short(&call.call).to_string(), BOLD),
                    Span::styled(format!(" {} s", call.duration_s), DIM),
                ]),
                Line::from(vec![Span::raw("  "), what]),
                hint(&format!("  {keys}")),
            ]))
        })
        .collect();
    let panel = ListPanel {
        focus: Focus::Call,
        title: "Call",
        items,
        selected: app.selection.call,
        empty: &["no call: /call MEMBER"],
    };
    list(frame, app, area, panel);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("hello there world", 11), ["hello ", "there world"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("ab cdefghij", 4), ["ab ", "cdef", "ghij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(wrap("héé", 1), ["h", "é", "é"]);
        for width in 1..12 {
            for line in wrap("a few words, and averyveryverylongword too", width) {
                assert!(line.chars().count() <= width, "{line:?} at {width}");
            }
        }
    }
}
