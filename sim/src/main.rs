//! `peerster-sim`: runs a small Peerster network in simulated time and prints what happened.

use std::time::{Duration, Instant};

use clap::Parser;
use peerster_core::wire;
use peerster_core::{Config, Event};
use peerster_sim::{Simulation, TraceEntry};

/// Runs a few Peerster nodes on a simulated network and prints what they exchanged.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Number of nodes; each connects to the one before it.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(2..=1000))]
    nodes: u16,
    /// Seed of the whole run: the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// One-way latency of every link, in milliseconds.
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
    /// Simulated duration, in seconds.
    #[arg(long, default_value_t = 40)]
    seconds: u64,
    /// Print every datagram, not only the first 40.
    #[arg(long)]
    verbose: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let started = Instant::now();
    let n = usize::from(args.nodes);
    let mut sim = Simulation::new(
        n,
        args.seed,
        Config::default(),
        Duration::from_millis(args.latency_ms),
    )?;
    for i in 1..n {
        let to = sim.addr(i - 1);
        sim.command(i, |node, now| node.connect(now, to));
    }
    sim.run_for(Duration::from_secs(args.seconds));

    println!(
        "{n} nodes, seed {}, {} ms links, {} s simulated",
        args.seed, args.latency_ms, args.seconds
    );
    let limit = if args.verbose { usize::MAX } else { 40 };
    let mut datagrams = 0usize;
    let mut bytes = 0usize;
    for entry in sim.trace() {
        match entry {
            TraceEntry::Sent {
                at,
                from,
                to,
                payload,
            } => {
                datagrams += 1;
                bytes += payload.len();
                if datagrams <= limit {
                    let kind = wire::decode(payload).map_or("?", |p| p.kind());
                    println!(
                        "  {at:>12}  {} -> {to:<14} {kind:<13} {:>4} B",
                        sim.addr(*from),
                        payload.len()
                    );
                } else if datagrams == limit + 1 {
                    println!("  ... (--verbose prints every datagram)");
                }
            }
            TraceEntry::Event { at, node, event } => {
                if let Event::PeerVerified { addr, peer, .. } = event {
                    println!("  {at:>12}  {} verified {peer} at {addr}", sim.addr(*node));
                } else {
                    println!("  {at:>12}  {}: {event:?}", sim.addr(*node));
                }
            }
        }
    }
    let links: usize = sim
        .nodes()
        .iter()
        .map(|node| node.peers().count())
        .sum::<usize>()
        / 2;
    println!(
        "{datagrams} datagrams ({bytes} bytes), {links} authenticated links of {} expected, \
         {} simulation events in {:.1?} wall time",
        n - 1,
        sim.events_processed(),
        started.elapsed()
    );
    if links != n - 1 {
        return Err(format!("only {links} of {} links verified", n - 1).into());
    }
    Ok(())
}
