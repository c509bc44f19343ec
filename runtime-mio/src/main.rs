//! `peerster`: the node binary. Parses the command line, sets up logging and hands over to
//! [`peerster_mio`].

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use peerster_core::wire::cluster::MAX_MEMBERS;
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
    ///     /help                      these commands
    ///
    /// MEMBER and THREAD are 4 or more hex digits of an id. Standard output shows one line
    /// per event:
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
    ///     [anon] thread <thread> sent to <id>[, signed] | reply sent
    ///     [members] ... | [help] ...
    ///
    /// Refused posts, failed joins and commands are reported on standard error as
    /// `peerster: <reason>`, with the logs.
    #[command(verbatim_doc_comment)]
    Run(RunArgs),
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
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match cli.command {
        Command::Run(args) => match peerster_mio::run_node(&args.options()) {
            Ok(_) => ExitCode::SUCCESS,
            Err(error) => {
                // Printed whatever `RUST_LOG` says: the user must see why the node stopped.
                eprintln!("peerster: {error}");
                ExitCode::FAILURE
            }
        },
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
        let Command::Run(args) = cli.command;
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
