//! The client side of the control socket, what `peerster ctl` and `peerster tui` use:
//! [`request`] sends one [`Request`] to the node of a data directory and hands each reply line
//! to the caller, [`CtlConnection`] keeps one connection for several requests (or a `watch`), and
//! [`readable_lines`] turns a reply into lines for people.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use serde_json::Value;
use thiserror::Error;

use crate::control::protocol::Request;
use crate::data_dir::control_socket;

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

/// A reply (or a watched event) as lines for people: `key: value` for each field but `ok`,
/// and for a list, one line per item with its fields as `key=value`.
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
        return vec![format!("{kind} {}", rest.join(" "))];
    }
    let mut lines = Vec::new();
    for (key, value) in fields.iter().filter(|(key, _)| *key != "ok") {
        match value {
            Value::Array(items) if items.iter().all(Value::is_object) => {
                lines.push(format!("{key}: {}", items.len()));
                lines.extend(items.iter().map(|item| format!("  {}", pairs(item))));
            }
            Value::Object(_) => lines.push(format!("{key}: {}", pairs(value))),
            _ => lines.push(format!("{key}: {}", scalar(value))),
        }
    }
    lines
}

/// An object's fields as `key=value`, separated by spaces.
fn pairs(object: &Value) -> String {
    let Value::Object(fields) = object else {
        return scalar(object);
    };
    let pairs: Vec<String> = (fields.iter())
        .map(|(key, value)| format!("{key}={}", scalar(value)))
        .collect();
    pairs.join(" ")
}

/// A value as people read it: strings without quotes, null as `-`.
fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "-".to_string(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn replies_read_as_lines() {
        let reply = json!({
            "ok": true,
            "cluster": "00ab",
            "epoch": null,
            "members": [{"fingerprint": "0a0b", "name": "alice"}, {"fingerprint": "0c0d", "name": null}],
        });
        assert_eq!(
            readable_lines(&reply),
            [
                "cluster: 00ab",
                "epoch: -",
                "members: 2",
                "  fingerprint=0a0b name=alice",
                "  fingerprint=0c0d name=-",
            ]
        );
        let event = json!({"kind": "post", "author": "0a0b", "text": "hi there"});
        assert_eq!(readable_lines(&event), ["post author=0a0b text=hi there"]);
    }
}
