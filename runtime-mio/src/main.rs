//! `peerster`: the node binary. Parses the command line, sets up logging and hands over to
//! [`peerster_mio`].

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match cli.command {
        Command::Run(args) => match peerster_mio::run_node(args.listen, &args.peers) {
            Ok(_) => ExitCode::SUCCESS,
            Err(error) => {
                // Printed whatever `RUST_LOG` says: the user must see why the node stopped.
                eprintln!("peerster: {error}");
                ExitCode::FAILURE
            }
        },
    }
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
