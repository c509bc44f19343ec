//! What a line typed in the TUI asks for: the node's standard-input commands (`parse.rs`:
//! a post, `/anon MEMBER TEXT`, `/reply THREAD TEXT`, `/vote`, `/expel`, `/call`, ...), and
//! the cluster commands `peerster ctl` has and standard input lacks: `/create-cluster [N]`,
//! `/join ADDR`, `/leave`.

use crate::control::protocol::Request;
use crate::parse::{self, ParseError};

/// The lines `/help` shows besides the node's.
pub(crate) const EXTRA_HELP: &[&str] = &[
    "/create-cluster [N]       found a cluster (of at most N members) with this node alone",
    "/join ADDR                join the cluster of the node at ADDR (e.g. 127.0.0.1:7000)",
    "/leave                    leave this node's cluster",
];

/// What a typed line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Typed {
    /// This request.
    Request(Request),
    /// The help screen.
    Help,
}

/// Why a typed line was not sent.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TypedError {
    /// Not a command, or a command used wrongly.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A cluster command used wrongly.
    #[error("usage: {0}")]
    Usage(&'static str),
}

/// The request (or help) `line` asks for.
pub(crate) fn typed(line: &str) -> Result<Typed, TypedError> {
    if let Some(command) = line.strip_prefix('/') {
        let (name, args) = command.split_once(' ').unwrap_or((command, ""));
        let args = args.trim();
        match name {
            "create-cluster" => {
                let limit = match args {
                    "" => None,
                    n => Some(
                        n.parse()
                            .map_err(|_| TypedError::Usage("/create-cluster [N]"))?,
                    ),
                };
                return Ok(Typed::Request(Request::CreateCluster { limit }));
            }
            "join" => {
                let addr = args.parse().map_err(|_| TypedError::Usage("/join ADDR"))?;
                return Ok(Typed::Request(Request::Join { addr }));
            }
            "leave" if args.is_empty() => return Ok(Typed::Request(Request::Leave {})),
            "leave" => return Err(TypedError::Usage("/leave")),
            _ => {}
        }
    }
    let command = parse::line(line)?;
    Ok(Request::from_command(command).map_or(Typed::Help, Typed::Request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_lines_become_requests() {
        assert_eq!(
            typed("hello /there"),
            Ok(Typed::Request(Request::Post {
                text: "hello /there".into()
            }))
        );
        assert_eq!(
            typed("/anon 0A0B psst"),
            Ok(Typed::Request(Request::SendAnon {
                member: "0a0b".into(),
                text: "psst".into(),
                sign: false
            }))
        );
        assert_eq!(typed("/help"), Ok(Typed::Help));
        assert_eq!(
            typed("/create-cluster 8"),
            Ok(Typed::Request(Request::CreateCluster { limit: Some(8) }))
        );
        assert_eq!(
            typed("/join 127.0.0.1:7000"),
            Ok(Typed::Request(Request::Join {
                addr: "127.0.0.1:7000".parse().unwrap()
            }))
        );
        assert_eq!(typed("/leave"), Ok(Typed::Request(Request::Leave {})));
    }

    #[test]
    fn bad_lines_say_why() {
        for (line, error) in [
            ("/frobnicate", "unknown command /frobnicate"),
            ("/anon 0a0b", "usage: /anon MEMBER TEXT"),
            ("/expel zz", "is not an id"),
            ("/join nowhere", "usage: /join ADDR"),
            ("/create-cluster many", "usage: /create-cluster [N]"),
            ("/leave now", "usage: /leave"),
        ] {
            let got = typed(line).unwrap_err().to_string();
            assert!(got.contains(error), "{line}: {got}");
        }
    }
}
