//! `peerster-sim`: runs a small Peerster network in simulated time and prints what happened.

use std::time::{Duration, Instant};

use clap::Parser;
use peerster_core::wire;
use peerster_core::{Config, Event};
use peerster_sim::{LinkModel, Network, Recorder, SimConfig, Simulation, Topology, TraceEntry};

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
    /// Largest extra delay drawn per datagram, in milliseconds.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Share of datagrams every link loses, in percent.
    #[arg(long, default_value_t = 0.0)]
    loss_percent: f64,
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
    let link = LinkModel::ideal(Duration::from_millis(args.latency_ms))
        .with_jitter(Duration::from_millis(args.jitter_ms))
        .with_uniform_loss(args.loss_percent / 100.0);
    let setup = SimConfig {
        nodes: n,
        seed: args.seed,
        config: Config::default(),
        network: Network::new(link),
    };
    let mut sim = Simulation::with_observer(setup, Recorder::default())?;
    sim.connect_topology(&Topology::chain(n));
    sim.run_for(Duration::from_secs(args.seconds));

    println!(
        "{n} nodes, seed {}, {} ms links (+ up to {} ms jitter, {}% loss), {} s simulated",
        args.seed, args.latency_ms, args.jitter_ms, args.loss_percent, args.seconds
    );
    let limit = if args.verbose { usize::MAX } else { 40 };
    let mut datagrams = 0usize;
    let mut bytes = 0usize;
    for entry in &sim.observer().trace {
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
        .map(|(_, node)| node.peers().count())
        .sum::<usize>()
        / 2;
    let chain_links = (1..n)
        .filter(|&i| {
            sim.node(i)
                .is_some_and(|node| node.peer(&sim.addr(i - 1)).is_some())
        })
        .count();
    let stats = sim.stats();
    println!(
        "{datagrams} datagrams ({bytes} bytes, {} lost), {links} authenticated links ({chain_links} \
         of the chain's {}, the rest by peer exchange), {} simulation events in {:.1?} wall \
         time, digest {:016x}",
        stats.lost_in_network,
        n - 1,
        stats.events,
        started.elapsed(),
        sim.digest(),
    );
    if chain_links != n - 1 && args.loss_percent == 0.0 {
        return Err(format!("only {chain_links} of the chain's {} links verified", n - 1).into());
    }
    Ok(())
}
