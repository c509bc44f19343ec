//! `peerster`: the node binary. Parses the command line, sets up logging and hands over to
//! [`peerster_mio`].

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use peerster_core::AutoVote;
use peerster_core::wire::cluster::MAX_MEMBERS;
use peerster_mio::control::protocol::{Choice, Request};
use peerster_mio::{ClusterStart, NodeOptions};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// Peerster: an anonymous peer-to-peer messenger node.
#[derive(Debug, Parser)]
#[command(name = "peerster", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a node on a UDP port until Ctrl-C (SIGINT) or SIGTERM.
    ///
    /// Every non-empty line of standard input is posted to the node's cluster, except
    /// commands, which start with `/` (whether or not standard input is a terminal; its end
    /// does not stop the node; `//` posts a line that starts with `/`):
    ///
    ///     /anon MEMBER TEXT          TEXT anonymously to the member whose id starts with MEMBER
    ///     /anon-signed MEMBER TEXT   the same, signed: the recipient sees who sent it
    ///     /reply THREAD TEXT         TEXT in the anonymous thread whose id starts with THREAD
    ///     /members                   the member table and the anonymity estimate
    ///     /votes                     the open votes (joins and expulsions)
    ///     /vote PROPOSAL yes|no      a ballot on the open vote whose id starts with PROPOSAL
    ///     /expel MEMBER              propose to expel the member whose id starts with MEMBER
    ///     /call MEMBER [IN.wav OUT.wav]         call the member whose id starts with MEMBER
    ///     /call-signed MEMBER [IN.wav OUT.wav]  the same, signed: the callee sees who calls
    ///     /answer CALL [IN.wav OUT.wav]         answer the incoming call whose id starts with CALL
    ///     /decline CALL              decline the incoming call whose id starts with CALL
    ///     /hangup CALL               end the call whose id starts with CALL
    ///     /calls                     the calls: state, role, peer, frames sent and received
    ///     /status                    this node: id, name, address, cluster, epoch, peer count
    ///     /peers                     the verified peers
    ///     /inbox [N]                  the latest N posts and anonymous messages, received and sent
    ///     /safety-number MEMBER      the code to compare in person with the member MEMBER
    ///     /help                      these commands
    ///
    /// MEMBER, THREAD, PROPOSAL and CALL are 4 or more hex digits of an id. Members vote on who
    /// joins and who is expelled; with --auto-vote ask (the default) each vote is shown and
    /// waits for /vote. In a call, IN.wav (48 kHz mono 16-bit) is what this end says from the
    /// moment it connects (the call hangs up 1 s after its end) and what this end hears is
    /// written to OUT.wav when the call ends; without files, silence in and nothing out (or,
    /// built with the feature `device`, the microphone and speaker). Standard output shows one
    /// line per event:
    ///
    ///     [node] <id> listening on <addr>
    ///     [cluster] created <cluster>[, limit N members]
    ///     [cluster] joined <cluster>, epoch N, M members
    ///     [cluster] epoch N, M members [(+<id>, -<id>)]
    ///     [post] <author id>: <text>
    ///     [cluster] join refused by <addr>: <reason>
    ///     [cluster] join failed: no answer from <addr>
    ///     [cluster] removed from <cluster> | left <cluster>
    ///     [anon] thread <thread> from anonymous: <text>   (from <id> if signed)
    ///     [anon] thread <thread> delivered | failed: <reason>
    ///     [anon] warning: only N members to hide among (below M)
    ///     [vote] <proposal>: admit <id> | expel <id>, proposed by <id>
    ///     [vote] <proposal>: accepted | rejected | failed
    ///     [vote] <proposal>: voted yes | voted no | expel <id> proposed
    ///     [anon] thread <thread> sent to <id>[, signed] | reply sent
    ///     [call] <call> incoming from anonymous (answer with /answer <call>)   (from <id> if signed)
    ///     [call] <call> calling <id>[, signed] | connected | ended: <reason>
    ///     [call] <call> heard S s, written to <OUT.wav>
    ///     [members] ... | [votes] ... | [calls] ... | [status] ... | [peers] ... | [help] ...
    ///
    /// Refused posts, failed joins and commands are reported on standard error as
    /// `peerster: <reason>`, with the logs.
    ///
    /// The node keeps its data in DATA_DIR: --data-dir, else $XDG_DATA_HOME/peerster or
    /// $HOME/.local/share/peerster, created with mode 0700. It holds:
    ///
    ///     identity       the Ed25519 secret of the node (mode 0600), created at the first
    ///                    start; every later start runs as it (its fingerprint is logged)
    ///     lock           the process id of the node running there
    ///     peers          addresses of verified peers, connected to at start (at most 64)
    ///     control.sock   the control socket for peerster ctl (mode 0600): one JSON
    ///                    request per line, one JSON reply per line
    ///
    /// The node refuses to start when the identity file is readable by others (fix: chmod 600
    /// DATA_DIR/identity) or damaged, and when another node runs on DATA_DIR. The lock and the
    /// socket are removed when the node stops; those of a node killed are replaced.
    #[command(verbatim_doc_comment)]
    Run(RunArgs),
    /// Talks to the node running on a data directory, through its control socket: sends one
    /// command and prints the reply (exit code 1 if the command failed or no node runs).
    ///
    /// MEMBER, THREAD, PROPOSAL and CALL are 4 or more hex digits of an id (FINGERPRINT: of a
    /// member). With --json the reply is printed as the node sent it, one JSON document
    /// (`{"ok":true,...}` or `{"ok":false,"error":"..."}`); `watch` prints one per event.
    #[command(verbatim_doc_comment)]
    Ctl(CtlArgs),
}

#[derive(Debug, Args)]
struct CtlArgs {
    /// The data directory of the node (default: $XDG_DATA_HOME/peerster or
    /// $HOME/.local/share/peerster).
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Print the node's JSON reply as it is.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: CtlCommand,
}

#[derive(Debug, Subcommand)]
enum CtlCommand {
    /// This node: fingerprint, name, listen address, cluster, epoch, peer count.
    Status,
    /// The verified peers.
    Peers,
    /// The cluster's members (fingerprint, name, last heard, epoch key age) and the
    /// anonymity estimate.
    Members,
    /// Posts TEXT to the cluster.
    Post {
        /// The post.
        text: String,
    },
    /// Sends TEXT anonymously to a member.
    SendAnon {
        /// The recipient's fingerprint, or 4 or more of its first hex digits.
        fingerprint: String,
        /// The message.
        text: String,
        /// Sign it: the recipient sees who sent it.
        #[arg(long)]
        sign: bool,
    },
    /// Sends TEXT in an anonymous conversation.
    Reply {
        /// The conversation's id, or 4 or more of its first hex digits.
        thread: String,
        /// The message.
        text: String,
    },
    /// The open votes.
    Votes,
    /// Votes on an open vote.
    Vote {
        /// The vote's id, or 4 or more of its first hex digits.
        proposal: String,
        /// The ballot.
        #[arg(value_enum)]
        choice: Ballot,
    },
    /// Proposes to expel a member.
    Expel {
        /// The member's fingerprint, or 4 or more of its first hex digits.
        fingerprint: String,
    },
    /// This node's calls.
    Calls,
    /// Calls a member; with --wait, replies once the call ends, with its report.
    Call {
        /// The callee's fingerprint, or 4 or more of its first hex digits.
        fingerprint: String,
        #[command(flatten)]
        files: Files,
        /// Reveal the caller to the callee.
        #[arg(long)]
        sign: bool,
        /// Wait for the end of the call: reason, frames sent and received, seconds heard.
        #[arg(long)]
        wait: bool,
    },
    /// Answers an incoming call (without CALL, the only one).
    Answer {
        /// The call's id, or 4 or more of its first hex digits.
        call: Option<String>,
        #[command(flatten)]
        files: Files,
    },
    /// Declines an incoming call (without CALL, the only one).
    Decline {
        /// The call's id, or 4 or more of its first hex digits.
        call: Option<String>,
    },
    /// Ends a call (without CALL, the only one).
    Hangup {
        /// The call's id, or 4 or more of its first hex digits.
        call: Option<String>,
    },
    /// Prints the node's events as they happen, until the node stops or Ctrl-C.
    Watch,
    /// Founds a cluster with this node as its only member (leaving the one it is in).
    CreateCluster {
        /// Most members the cluster may have, 1 to 256 (default: the protocol's 256).
        #[arg(long, value_name = "N", value_parser = member_limit())]
        limit: Option<u16>,
    },
    /// Joins the cluster of the node at ADDR: replies at once that the join started; the
    /// outcome shows in `watch` and `status` (retried for up to 30 s).
    Join {
        /// The contact's UDP address, e.g. 127.0.0.1:7000.
        addr: SocketAddr,
    },
    /// Leaves this node's cluster.
    Leave,
    /// The latest posts and anonymous messages, received and sent (kind, direction, text,
    /// thread, author if known, delivery state of this node's anonymous messages).
    Inbox {
        /// Only the latest N.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// The safety number shared with a member: 60 digits both sides compute from their two
    /// identity keys, to compare in person.
    SafetyNumber {
        /// The member's (or verified peer's) fingerprint, or 4 or more of its first hex
        /// digits.
        fingerprint: String,
    },
}

/// The audio files of one end of a call.
#[derive(Debug, Args)]
struct Files {
    /// What this end says: a 48 kHz mono 16-bit WAV file (the call hangs up 1 s after it
    /// ends).
    #[arg(long, value_name = "WAV", requires = "output")]
    input: Option<PathBuf>,
    /// Where what this end hears is written, as WAV, when the call ends.
    #[arg(long, value_name = "WAV", requires = "input")]
    output: Option<PathBuf>,
}

/// A ballot on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Ballot {
    /// For.
    Yes,
    /// Against.
    No,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// UDP address to listen on, e.g. 0.0.0.0:7000 (port 0 lets the OS pick one).
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    /// Address of a node to connect to at start; repeat for several.
    #[arg(long = "peer", value_name = "ADDR")]
    peers: Vec<SocketAddr>,
    /// Display name announced to the overlay (at most 64 bytes). The node always announces
    /// itself: others need its announcement to join a cluster through it.
    #[arg(long, value_name = "NAME", default_value = peerster_mio::DEFAULT_NAME)]
    name: String,
    /// Found a cluster at start, with this node as its only member.
    #[arg(long, conflicts_with = "join")]
    create_cluster: bool,
    /// Most members the cluster founded with --create-cluster may have, 1 to 256 (default:
    /// the protocol's 256).
    #[arg(long, value_name = "N", requires = "create_cluster", value_parser = member_limit())]
    limit: Option<u16>,
    /// Connect to the node at ADDR and join its cluster. The join is sent once ADDR is a
    /// verified peer whose announcement arrived, retried for up to 30 s.
    #[arg(long, value_name = "ADDR")]
    join: Option<SocketAddr>,
    /// How this node votes on who joins or is expelled from its cluster: `ask` shows each
    /// vote (`[vote] ... admit ...`) and waits for `/vote`; `yes` and `no` answer at once.
    #[arg(long, value_name = "ANSWER", value_enum, default_value_t = VoteAnswer::Ask)]
    auto_vote: VoteAnswer,
    /// Where the node keeps its identity, known peers, lock and control socket (for
    /// `peerster ctl`); created with mode 0700 if missing. Default: $XDG_DATA_HOME/peerster,
    /// else $HOME/.local/share/peerster. One node per data directory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Announce this node on the local network and connect to the nodes announced there
    /// (off by default: announcing yourself is your choice). Every 4 to 6 s the node
    /// multicasts its UDP port (with a random tag drawn at each start, by which it
    /// ignores its own beacons; nothing else about it) to 239.255.80.83:47683 with TTL 1
    /// (the local link only) on the interface of --listen (IPv4 only; 0.0.0.0: the one the OS
    /// picks), and starts a handshake with each node it hears, as --peer would. Anyone on the
    /// link then sees that a Peerster node runs at this address.
    #[arg(long)]
    discover: bool,
}

/// The answers of `--auto-vote`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum VoteAnswer {
    /// Vote yes on every vote, at once.
    Yes,
    /// Vote no on every vote, at once.
    No,
    /// Show each vote and wait for `/vote`.
    Ask,
}

impl From<VoteAnswer> for AutoVote {
    fn from(answer: VoteAnswer) -> AutoVote {
        match answer {
            VoteAnswer::Yes => AutoVote::Yes,
            VoteAnswer::No => AutoVote::No,
            VoteAnswer::Ask => AutoVote::Ask,
        }
    }
}

impl RunArgs {
    fn options(self) -> NodeOptions {
        let cluster = match (self.create_cluster, self.join) {
            (true, _) => ClusterStart::Create { limit: self.limit },
            (false, Some(contact)) => ClusterStart::Join(contact),
            (false, None) => ClusterStart::None,
        };
        NodeOptions {
            listen: self.listen,
            peers: self.peers,
            name: self.name,
            cluster,
            auto_vote: self.auto_vote.into(),
            data_dir: self.data_dir,
            discover: self.discover,
        }
    }
}

impl Files {
    /// The files, made absolute: the node may run in another directory.
    fn absolute(self) -> Result<(Option<PathBuf>, Option<PathBuf>), std::io::Error> {
        let absolute = |path: Option<PathBuf>| path.map(std::path::absolute).transpose();
        Ok((absolute(self.input)?, absolute(self.output)?))
    }
}

impl CtlCommand {
    /// The request this command sends.
    fn request(self) -> Result<Request, std::io::Error> {
        Ok(match self {
            CtlCommand::Status => Request::Status {},
            CtlCommand::Peers => Request::Peers {},
            CtlCommand::Members => Request::Members {},
            CtlCommand::Post { text } => Request::Post { text },
            CtlCommand::SendAnon {
                fingerprint,
                text,
                sign,
            } => Request::SendAnon {
                member: fingerprint,
                text,
                sign,
            },
            CtlCommand::Reply { thread, text } => Request::Reply { thread, text },
            CtlCommand::Votes => Request::Votes {},
            CtlCommand::Vote { proposal, choice } => Request::Vote {
                proposal,
                choice: match choice {
                    Ballot::Yes => Choice::Yes,
                    Ballot::No => Choice::No,
                },
            },
            CtlCommand::Expel { fingerprint } => Request::Expel {
                member: fingerprint,
            },
            CtlCommand::Calls => Request::Calls {},
            CtlCommand::Call {
                fingerprint,
                files,
                sign,
                wait,
            } => {
                let (input, output) = files.absolute()?;
                Request::Call {
                    member: fingerprint,
                    input,
                    output,
                    sign,
                    wait,
                }
            }
            CtlCommand::Answer { call, files } => {
                let (input, output) = files.absolute()?;
                Request::Answer {
                    call,
                    input,
                    output,
                }
            }
            CtlCommand::Decline { call } => Request::Decline { call },
            CtlCommand::Hangup { call } => Request::Hangup { call },
            CtlCommand::Watch => Request::Watch {},
            CtlCommand::CreateCluster { limit } => Request::CreateCluster { limit },
            CtlCommand::Join { addr } => Request::Join { addr },
            CtlCommand::Leave => Request::Leave {},
            CtlCommand::Inbox { limit } => Request::Inbox { limit },
            CtlCommand::SafetyNumber { fingerprint } => Request::SafetyNumber {
                member: fingerprint,
            },
        })
    }
}

/// `peerster ctl`: sends the command, prints the reply (and, for `watch`, the events); exit
/// code 1 if the command failed or the node could not be reached.
fn ctl(args: CtlArgs) -> ExitCode {
    let dir = match peerster_mio::data_dir_or_default(args.data_dir.as_deref()) {
        Ok(dir) => dir,
        Err(error) => return fail(&error),
    };
    let request = match args.command.request() {
        Ok(request) => request,
        Err(error) => return fail(&format!("cannot make a path absolute: {error}")),
    };
    let watching = request == Request::Watch {};
    let mut failed = false;
    let done = peerster_mio::request(&dir, &request, |text, reply| {
        let ok = reply.get("ok").and_then(serde_json::Value::as_bool);
        if args.json {
            println!("{text}");
        } else if ok == Some(false) {
            let error = reply.get("error").and_then(|e| e.as_str()).unwrap_or(text);
            eprintln!("peerster: {error}");
        } else if !(watching && ok == Some(true)) {
            peerster_mio::readable_lines(reply)
                .iter()
                .for_each(|line| println!("{line}"));
        }
        failed |= ok == Some(false);
        watching && !failed
    });
    match done {
        Ok(()) if failed => ExitCode::FAILURE,
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// Prints `error` on standard error; exit code 1.
fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("peerster: {error}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run(args) => run(args),
        Command::Ctl(args) => ctl(args),
    }
}

/// `peerster run`: the node, until a signal stops it.
fn run(args: RunArgs) -> ExitCode {
    init_logging();
    match peerster_mio::run_node(&args.options()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            // Printed whatever `RUST_LOG` says: the user must see why the node stopped.
            eprintln!("peerster: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The member limits a cluster may be created with under the default configuration.
fn member_limit() -> clap::builder::RangedI64ValueParser<u16> {
    let max = i64::try_from(MAX_MEMBERS).unwrap_or(i64::from(u16::MAX));
    clap::value_parser!(u16).range(1..=max)
}

/// Logs to stderr at info, or as `RUST_LOG` says.
fn init_logging() {
    let filter = EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .from_env_lossy();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn options(args: &[&str]) -> Result<NodeOptions, clap::Error> {
        let cli = Cli::try_parse_from(
            ["peerster", "run", "--listen", "127.0.0.1:7000"]
                .iter()
                .chain(args),
        )?;
        let Command::Run(args) = cli.command else {
            panic!("not run");
        };
        Ok(args.options())
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn cluster_flags_become_options() {
        let plain = options(&[]).unwrap();
        assert_eq!(plain.name, peerster_mio::DEFAULT_NAME);
        assert_eq!(plain.cluster, ClusterStart::None);

        let create = options(&["--create-cluster", "--limit", "3", "--name", "alice"]).unwrap();
        assert_eq!(create.cluster, ClusterStart::Create { limit: Some(3) });
        assert_eq!(create.name, "alice");
        assert_eq!(
            options(&["--create-cluster"]).unwrap().cluster,
            ClusterStart::Create { limit: None }
        );

        let join = options(&["--join", "127.0.0.1:7001", "--peer", "127.0.0.1:7002"]).unwrap();
        assert_eq!(
            join.cluster,
            ClusterStart::Join("127.0.0.1:7001".parse().unwrap())
        );
        assert_eq!(join.peers, ["127.0.0.1:7002".parse().unwrap()]);
    }

    #[test]
    fn the_node_asks_how_to_vote_unless_told() {
        assert_eq!(options(&[]).unwrap().auto_vote, AutoVote::Ask);
        for (answer, auto_vote) in [
            ("yes", AutoVote::Yes),
            ("no", AutoVote::No),
            ("ask", AutoVote::Ask),
        ] {
            let options = options(&["--auto-vote", answer]).unwrap();
            assert_eq!(options.auto_vote, auto_vote);
        }
        assert!(options(&["--auto-vote", "maybe"]).is_err());
        assert!(options(&["--auto-vote"]).is_err());
    }

    #[test]
    fn contradictory_or_out_of_range_cluster_flags_are_refused() {
        for args in [
            &["--create-cluster", "--join", "127.0.0.1:7001"][..],
            &["--limit", "3"],
            &["--create-cluster", "--limit", "0"],
            &["--create-cluster", "--limit", "257"],
            &["--join", "nowhere"],
        ] {
            assert!(options(args).is_err(), "{args:?} accepted");
        }
    }
}
