//! The client side of the control socket, what `peerster ctl` and `peerster tui` use:
//! [`request`] sends one [`Request`] to the node of a data directory and hands each reply line
//! to the caller, [`CtlConnection`] keeps one connection for several requests (or a `watch`),
//! and [`readable_lines`] turns a reply into lines for people: `key: value` lines and aligned
//! tables (through `comfy-table`).

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use comfy_table::{Cell, ContentArrangement, Table};
use serde_json::Value;
use thiserror::Error;

use crate::control::protocol::Request;
use crate::data_dir::control_socket;
use crate::display::escape;

/// Why `peerster ctl` could not talk to its node.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CtlError {
    /// Nothing answers on the data directory's control socket.
    #[error("no node runs on {}: cannot connect to {}: {source}", dir.display(), socket.display())]
    NotRunning {
        /// The data directory.
        dir: PathBuf,
        /// Its control socket.
        socket: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// Sending the request or reading the reply failed.
    #[error("lost the connection to the node: {0}")]
    Io(#[from] io::Error),
    /// The node closed the connection before replying.
    #[error("the node closed the connection without replying")]
    NoReply,
    /// A line from the node is not JSON.
    #[error("the node's reply is not JSON: {0}")]
    BadReply(#[from] serde_json::Error),
}

/// Sends `request` to the node whose data directory is `dir` and calls `on_line` with each
/// line it sends back (its text, and its JSON), until `on_line` says to stop (returns false)
/// or the node closes the connection. At least one line must come.
pub fn request(
    dir: &Path,
    request: &Request,
    mut on_line: impl FnMut(&str, &Value) -> bool,
) -> Result<(), CtlError> {
    let mut connection = CtlConnection::open(dir)?;
    connection.send(request)?;
    let mut got_one = false;
    while let Some((text, value)) = connection.next_line()? {
        got_one = true;
        if !on_line(&text, &value) {
            return Ok(());
        }
    }
    if got_one {
        Ok(())
    } else {
        Err(CtlError::NoReply)
    }
}

/// One connection to a node's control socket: requests one after the other, each answered
/// by one line, or a `watch` and the events it streams (what `peerster tui` keeps open).
#[derive(Debug)]
pub struct CtlConnection {
    replies: BufReader<UnixStream>,
}

impl CtlConnection {
    /// Connects to the node whose data directory is `dir`.
    pub fn open(dir: &Path) -> Result<CtlConnection, CtlError> {
        let socket = control_socket(dir);
        let stream = UnixStream::connect(&socket).map_err(|source| CtlError::NotRunning {
            dir: dir.to_path_buf(),
            socket: socket.clone(),
            source,
        })?;
        Ok(CtlConnection {
            replies: BufReader::new(stream),
        })
    }

    /// Makes reads give up (with an error) after `timeout` without a line; `None` waits for
    /// ever (the default).
    pub fn set_read_timeout(&self, timeout: Option<std::time::Duration>) -> Result<(), CtlError> {
        self.replies.get_ref().set_read_timeout(timeout)?;
        Ok(())
    }

    /// Sends `request` as one line.
    pub fn send(&mut self, request: &Request) -> Result<(), CtlError> {
        let mut line = serde_json::to_string(request)?;
        line.push('\n');
        self.replies.get_mut().write_all(line.as_bytes())?;
        Ok(())
    }

    /// The next line the node sends (its text, and its JSON); `None` once it closed the
    /// connection.
    pub fn next_line(&mut self) -> Result<Option<(String, Value)>, CtlError> {
        let mut text = String::new();
        if self.replies.read_line(&mut text)? == 0 {
            return Ok(None);
        }
        let text = text.trim_end().to_string();
        let value = serde_json::from_str(&text)?;
        Ok(Some((text, value)))
    }

    /// Sends `request` and gives the one line that answers it.
    pub fn ask(&mut self, request: &Request) -> Result<Value, CtlError> {
        self.send(request)?;
        match self.next_line()? {
            Some((_, reply)) => Ok(reply),
            None => Err(CtlError::NoReply),
        }
    }
}

/// The order in which fields are shown, as `key: value` lines and as table columns; fields
/// not named here follow in alphabetical order. Long texts come last.
const FIELD_ORDER: &[&str] = &[
    "fingerprint",
    "id",
    "call",
    "kind",
    "direction",
    "name",
    "listen",
    "subject",
    "proposer",
    "addr",
    "cluster",
    "epoch",
    "limit",
    "state",
    "role",
    "peer",
    "this_node",
    "last_heard_s",
    "joined_epoch",
    "epoch_key_age_s",
    "round",
    "deadline",
    "my_vote",
    "duration_s",
    "frames_sent",
    "frames_received",
    "at_s",
    "peers",
    "from",
    "thread",
    "text",
];

/// The table style of `comfy-table`: no borders, columns two spaces apart, the header
/// underlined with `-`.
const TABLE_STYLE: &str = "     -             ";

/// A reply (or a watched event) as lines for people. An event is one line: its kind, then
/// its fields as `key=value` in alphabetical order. A reply shows each field but `ok` as a `key: value` line (an
/// object inside as `key=value` pairs), then each list of objects (members, peers, votes,
/// inbox, calls) as a table with a header, its columns aligned (`KEY: none` if empty), and
/// each list of texts one per line. Texts from other nodes are shown with their control
/// characters escaped, so that every value stays on its line.
pub fn readable_lines(reply: &Value) -> Vec<String> {
    let Value::Object(fields) = reply else {
        return vec![reply.to_string()];
    };
    if let Some(Value::String(kind)) = fields.get("kind") {
        // An event: its kind, then its fields.
        let rest: Vec<String> = (fields.iter())
            .filter(|(key, _)| *key != "kind")
            .map(|(key, value)| format!("{key}={}", scalar(value)))
            .collect();
        return vec![format!("{} {}", escape(kind), rest.join(" "))];
    }
    let mut lines = Vec::new();
    let mut tables = Vec::new();
    for key in ordered(fields.keys())
        .into_iter()
        .filter(|key| *key != "ok")
    {
        match &fields[key] {
            Value::Array(items) if items.is_empty() => lines.push(format!("{key}: none")),
            Value::Array(items) if items.iter().all(Value::is_object) => tables.push(items),
            Value::Array(items) => texts(items, &mut lines),
            Value::Object(_) => lines.push(format!("{key}: {}", pairs(&fields[key]))),
            value => lines.push(format!("{key}: {}", scalar(value))),
        }
    }
    for items in tables {
        lines.extend(table(items));
    }
    lines
}

/// A list that is not of objects: one item per line.
fn texts(items: &[Value], lines: &mut Vec<String>) {
    lines.extend(items.iter().map(scalar));
}

/// A list of objects as an aligned table: a header of every key any of them has, a row each.
fn table(items: &[Value]) -> Vec<String> {
    let keys = ordered(
        items
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|o| o.keys()),
    );
    let mut table = Table::new();
    table
        .load_preset(TABLE_STYLE)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(keys.iter().map(Cell::new));
    for item in items {
        table.add_row(
            keys.iter()
                .map(|key| Cell::new(item.get(key).map_or_else(|| "-".into(), scalar))),
        );
    }
    // The first column's left padding is no use without a border.
    (table.lines())
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_string()
        })
        .collect()
}

/// `keys`, each once, in [`FIELD_ORDER`], then the others alphabetically.
fn ordered<'a>(keys: impl Iterator<Item = &'a String>) -> Vec<&'a str> {
    let mut keys: Vec<&str> = keys.map(String::as_str).collect();
    keys.sort_by_key(|key| {
        let rank = FIELD_ORDER.iter().position(|known| known == key);
        (rank.unwrap_or(FIELD_ORDER.len()), *key)
    });
    keys.dedup();
    keys
}

/// An object's fields as `key=value`, separated by spaces.
fn pairs(object: &Value) -> String {
    let Value::Object(fields) = object else {
        return scalar(object);
    };
    let pairs: Vec<String> = ordered(fields.keys())
        .into_iter()
        .map(|key| format!("{key}={}", scalar(&fields[key])))
        .collect();
    pairs.join(" ")
}

/// A value as people read it: strings without quotes and with their control characters
/// escaped, null as `-`.
fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "-".to_string(),
        Value::String(text) => escape(text).into_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The table among `lines` whose header starts with `first`: its header and rows.
    fn table_of<'a>(lines: &'a [String], first: &str) -> (&'a str, Vec<&'a str>) {
        let at = (lines.iter())
            .position(|line| line.trim_start().starts_with(first))
            .unwrap_or_else(|| panic!("no table with {first}: {lines:#?}"));
        let rule = &lines[at + 1];
        assert!(
            rule.trim().chars().all(|c| c == '-' || c == ' '),
            "a rule under the header: {lines:#?}"
        );
        let rows = lines[at + 2..].iter().map(String::as_str).collect();
        (&lines[at], rows)
    }

    /// The columns of `header`, each with where it starts.
    fn columns(header: &str) -> Vec<(usize, &str)> {
        header
            .match_indices(|c: char| c != ' ')
            .filter(|(at, _)| *at == 0 || header.as_bytes()[at - 1] == b' ')
            .map(|(at, _)| (at, header[at..].split(' ').next().unwrap()))
            .collect()
    }

    /// Asserts that every row has each column's value starting where its header does, and
    /// returns the rows' cells by column.
    fn cells<'a>(header: &'a str, rows: &[&'a str]) -> Vec<Vec<(&'a str, &'a str)>> {
        let columns = columns(header);
        (rows.iter())
            .map(|row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, &(at, key))| {
                        let end = columns.get(i + 1).map_or(row.len(), |(next, _)| *next);
                        assert!(
                            at == 0 || row.as_bytes()[at - 1] == b' ',
                            "column {key} misaligned in {row:?} under {header:?}"
                        );
                        (key, row[at..end.min(row.len())].trim())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn status_reads_as_key_value_lines_in_a_fixed_order() {
        let reply = json!({
            "ok": true, "peers": 2, "listen": "127.0.0.1:7000", "epoch": null,
            "cluster": null, "name": "alice", "fingerprint": "0a0b",
        });
        assert_eq!(
            readable_lines(&reply),
            [
                "fingerprint: 0a0b",
                "name: alice",
                "listen: 127.0.0.1:7000",
                "cluster: -",
                "epoch: -",
                "peers: 2",
            ]
        );
    }

    #[test]
    fn members_read_as_their_cluster_then_an_aligned_table() {
        let reply = json!({
            "ok": true, "cluster": "00ab", "epoch": 3, "limit": null, "epoch_key_age_s": 12,
            "anonymity": {"anonymity_set": 1, "low": true},
            "members": [
                {"fingerprint": "0a0b0c0d", "name": "alice", "addr": "127.0.0.1:7000",
                 "last_heard_s": null, "joined_epoch": 0, "epoch_key_age_s": 12, "this_node": true},
                {"fingerprint": "1f2e", "name": null, "addr": "127.0.0.1:17001",
                 "last_heard_s": 4, "joined_epoch": 2, "epoch_key_age_s": 12, "this_node": false},
            ],
        });
        let lines = readable_lines(&reply);
        assert_eq!(
            lines[..5],
            [
                "cluster: 00ab",
                "epoch: 3",
                "limit: -",
                "epoch_key_age_s: 12",
                "anonymity: anonymity_set=1 low=true",
            ]
        );
        let (header, rows) = table_of(&lines, "fingerprint");
        let keys: Vec<&str> = columns(header).into_iter().map(|(_, key)| key).collect();
        assert_eq!(
            keys,
            [
                "fingerprint",
                "name",
                "addr",
                "this_node",
                "last_heard_s",
                "joined_epoch",
                "epoch_key_age_s"
            ]
        );
        let rows = cells(header, &rows);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0][..4],
            [
                ("fingerprint", "0a0b0c0d"),
                ("name", "alice"),
                ("addr", "127.0.0.1:7000"),
                ("this_node", "true")
            ]
        );
        assert_eq!(rows[0][4], ("last_heard_s", "-"));
        assert_eq!(rows[1][1], ("name", "-"));
        assert_eq!(rows[1][4], ("last_heard_s", "4"));
    }

    #[test]
    fn peers_votes_and_calls_read_as_tables() {
        let peers = json!({"ok": true, "peers": [
            {"fingerprint": "0a0b", "name": "bob", "addr": "127.0.0.1:7001", "last_heard_s": 3},
            {"fingerprint": "0c0d", "name": null, "addr": "10.0.0.2:7002", "last_heard_s": 40},
        ]});
        let lines = readable_lines(&peers);
        let (header, rows) = table_of(&lines, "fingerprint");
        assert_eq!(lines.len(), 4, "{lines:#?}");
        let rows = cells(header, &rows);
        assert_eq!(
            rows[1],
            [
                ("fingerprint", "0c0d"),
                ("name", "-"),
                ("addr", "10.0.0.2:7002"),
                ("last_heard_s", "40")
            ]
        );

        let votes = json!({"ok": true, "votes": [
            {"id": "5e6f", "kind": "admit", "subject": "0a0b", "proposer": "1f2e", "round": 0,
             "deadline": 52, "state": "open", "my_vote": null},
        ]});
        let lines = readable_lines(&votes);
        let (header, rows) = table_of(&lines, "id");
        let row = &cells(header, &rows)[0];
        let keys: Vec<&str> = row.iter().map(|(key, _)| *key).collect();
        assert_eq!(
            keys,
            [
                "id", "kind", "subject", "proposer", "state", "round", "deadline", "my_vote"
            ]
        );
        assert!(row.contains(&("state", "open")) && row.contains(&("my_vote", "-")));

        let calls = json!({"ok": true, "calls": [
            {"call": "1a2b", "state": "active", "role": "callee", "peer": null, "duration_s": 12,
             "frames_sent": 600, "frames_received": 598},
        ]});
        let lines = readable_lines(&calls);
        let (header, rows) = table_of(&lines, "call");
        let row = &cells(header, &rows)[0];
        assert_eq!(row[0], ("call", "1a2b"));
        assert!(row.contains(&("frames_received", "598")) && row.contains(&("peer", "-")));
    }

    #[test]
    fn the_inbox_reads_as_a_table_with_missing_fields_as_dashes_and_texts_escaped() {
        let reply = json!({"ok": true, "inbox": [
            {"kind": "post", "direction": "in", "text": "hi\nthere \u{1b}[31m", "from": "0a0b", "at_s": 5},
            {"kind": "anon", "direction": "out", "thread": "1a2b", "text": "psst", "state": "delivered", "at_s": 7},
        ]});
        let lines = readable_lines(&reply);
        assert_eq!(lines.len(), 4, "one line per entry: {lines:#?}");
        let (header, rows) = table_of(&lines, "kind");
        let rows = cells(header, &rows);
        let keys: Vec<&str> = rows[0].iter().map(|(key, _)| *key).collect();
        assert_eq!(
            keys,
            [
                "kind",
                "direction",
                "state",
                "at_s",
                "from",
                "thread",
                "text"
            ]
        );
        assert_eq!(rows[0][2], ("state", "-"));
        assert_eq!(rows[0][5], ("thread", "-"));
        assert_eq!(rows[0][6], ("text", r"hi\nthere \u{1b}[31m"));
        assert_eq!(rows[1][4], ("from", "-"));
        assert_eq!(rows[1][6], ("text", "psst"));
    }

    #[test]
    fn empty_lists_texts_and_events_read_as_lines() {
        assert_eq!(
            readable_lines(&json!({"ok": true, "votes": []})),
            ["votes: none"]
        );
        assert_eq!(
            readable_lines(&json!({"ok": true, "help": ["/a  one", "/b  two"]})),
            ["/a  one", "/b  two"]
        );
        let event = json!({"kind": "post", "author": "0a0b", "text": "hi there"});
        assert_eq!(readable_lines(&event), ["post author=0a0b text=hi there"]);
        let event = json!({"kind": "anon_message", "text": "a\nb", "thread": "1a2b", "from": null});
        assert_eq!(
            readable_lines(&event),
            [r"anon_message from=- text=a\nb thread=1a2b"]
        );
    }
}
