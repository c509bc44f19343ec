//! `peerster-sim`: runs Peerster nodes in simulated time and prints what happened.
//!
//! With no subcommand it runs the default simulation: nodes on a lossy network connect, every
//! node announces itself, and it reports how long the announcements took to reach everyone
//! and what that cost. `peerster-sim trace` prints every datagram of a small run.

/// mimalloc rather than the system allocator: a run of 10 000 nodes keeps over a gigabyte of
/// small, short-lived objects (datagrams, frames, table entries) spread over the nodes, where
/// perf put 7 % of the run in glibc's malloc and free (`_int_malloc`, `_int_free`,
/// `unlink_chunk`). With mimalloc `scale-10k` took 97 s to 103 s of CPU in four runs, against
/// 106 s to 129 s in four without: more than the allocator's own share, as mimalloc also keeps
/// objects allocated together closer (`sim/scenarios/README.md`, Scale).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod call_cmd;
mod run_cmd;

use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use peerster_core::Event;
use peerster_core::wire;
use peerster_sim::cluster::quantile;
use peerster_sim::{
    AnonScenario, ClusterScenario, LinkModel, Network, Recorder, SimConfig, Simulation,
    SpreadScenario, Topology, TraceEntry, VoteRun, VoteScenario, run_anon, run_cluster, run_spread,
    run_vote,
};

/// Runs Peerster nodes on a simulated network and prints what happened.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    spread: SpreadArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prints every datagram and event of a small run along a chain of nodes.
    Trace(TraceArgs),
    /// Members join one cluster one by one, post, then idle: join convergence, post delivery
    /// and latency, and the cost of an idle cluster.
    Cluster(ClusterArgs),
    /// Members of one cluster send each other anonymous messages and answer them, optionally
    /// among spies and under a tap: delivery, latency, cost, and how well the adversaries name
    /// senders.
    Anon(AnonArgs),
    /// A newcomer is voted into a cluster and then out of it, optionally among lying
    /// authorities and crashes: the outcome each honest member applied, time and cost.
    Vote(VoteArgs),
    /// One anonymous call across a cluster with real Opus and jitter buffer: what the callee
    /// heard (a WAV file), mouth-to-ear latency, frames lost and concealed, cost (JSON).
    Call(call_cmd::CallArgs),
    /// Runs one scenario file: writes report.json and SVG plots, prints a summary.
    Run(run_cmd::RunArgs),
    /// Runs a scenario over a grid of values and seeds, in parallel: one report per run,
    /// sweep.json with means and confidence intervals, and a plot per metric.
    Sweep(run_cmd::SweepArgs),
}

/// A vote run.
#[derive(Debug, Args)]
struct VoteArgs {
    /// Members of the cluster before the newcomer.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(2..=255))]
    members: u16,
    /// Seed of the whole run: the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    link: LinkArgs,
    /// Members that lie as authorities, all the same way (yes and no swapped).
    #[arg(long, default_value_t = 0)]
    liars: usize,
    /// Members that crash as the expulsion vote opens.
    #[arg(long, default_value_t = 0)]
    crashes: usize,
}

/// An anonymous-message run.
#[derive(Debug, Args)]
struct AnonArgs {
    /// Members of the cluster.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(2..=256))]
    members: u16,
    /// Seed of the whole run: the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    link: LinkArgs,
    /// Messages sent, each from a random honest member to another, one per --interval-ms.
    #[arg(long, default_value_t = 100)]
    messages: usize,
    /// Simulated milliseconds between two messages.
    #[arg(long, default_value_t = 500)]
    interval_ms: u64,
    /// Bytes of each message's text (at most 16384).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(0..=16384))]
    text_bytes: u16,
    /// Recipients do not answer.
    #[arg(long)]
    no_replies: bool,
    /// Malicious members that log what they relay.
    #[arg(long, default_value_t = 0)]
    spies: usize,
    /// An eavesdropper taps every link of one random honest member.
    #[arg(long)]
    tap: bool,
    /// Probability that a stem relay passes a packet on (default: the configuration's).
    #[arg(long)]
    p_stem: Option<f64>,
    /// Route stems as Crowds does instead of Dandelion++.
    #[arg(long)]
    crowds: bool,
    /// Members each fluff relay passes a packet to (default: the configuration's).
    #[arg(long)]
    fanout: Option<usize>,
    /// Copies of a packet sent on each stem hop (default: the configuration's).
    #[arg(long)]
    stem_copies: Option<usize>,
    /// Largest random delay of an acknowledgement, in milliseconds (default: the
    /// configuration's).
    #[arg(long)]
    ack_delay_ms: Option<u64>,
    /// Simulated seconds after the last message for retries and stragglers.
    #[arg(long, default_value_t = 60)]
    settle_s: u64,
}

/// A cluster run.
#[derive(Debug, Args)]
struct ClusterArgs {
    /// Members at the end, the founder included.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=256))]
    members: u16,
    /// Seed of the whole run: the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    link: LinkArgs,
    /// Posts made after the last join, one per --post-interval-ms, each by a random member.
    #[arg(long, default_value_t = 100)]
    posts: usize,
    /// Simulated milliseconds between two posts.
    #[arg(long, default_value_t = 1000)]
    post_interval_ms: u64,
    /// Simulated minutes of idle cluster at the end, whose traffic is measured.
    #[arg(long, default_value_t = 60)]
    idle_min: u64,
}

/// The links of a cluster, anonymous-message or vote run.
#[derive(Debug, Args)]
struct LinkArgs {
    /// One-way latency of every link, in milliseconds.
    #[arg(long, default_value_t = 5)]
    latency_ms: u64,
    /// Largest extra delay drawn per datagram, in milliseconds.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Share of datagrams every link loses (while the workload runs), in percent.
    #[arg(long, default_value_t = 0.0)]
    loss_percent: f64,
}

impl LinkArgs {
    fn model(&self) -> Result<LinkModel, String> {
        link_model(self.latency_ms, self.jitter_ms, self.loss_percent)
    }
}

/// The default run: how fast announcements spread, and at what cost.
#[derive(Debug, Args)]
struct SpreadArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    nodes: u32,
    /// Degree of the random graph the nodes first connect along (peer exchange adds links).
    #[arg(long, default_value_t = 4)]
    degree: usize,
    /// Seed of the whole run: the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// One-way latency of every link, in milliseconds.
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
    /// Largest extra delay drawn per datagram, in milliseconds.
    #[arg(long, default_value_t = 10)]
    jitter_ms: u64,
    /// Share of datagrams every link loses, in percent.
    #[arg(long, default_value_t = 10.0)]
    loss_percent: f64,
    /// Simulated seconds of connecting before the nodes announce themselves.
    #[arg(long, default_value_t = 10)]
    warmup_s: u64,
    /// Simulated seconds the announcements get to spread.
    #[arg(long, default_value_t = 120)]
    deadline_s: u64,
}

/// A small run whose every datagram is printed.
#[derive(Debug, Args)]
struct TraceArgs {
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
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Trace(args)) => trace(args),
        Some(Command::Cluster(args)) => cluster(args),
        Some(Command::Anon(args)) => anon(args),
        Some(Command::Vote(args)) => vote(args),
        Some(Command::Call(args)) => call_cmd::call(args),
        Some(Command::Run(args)) => Ok(run_cmd::run(&args)?),
        Some(Command::Sweep(args)) => Ok(run_cmd::run_sweep(&args)?),
        None => spread(cli.spread),
    }
}

fn link_model(latency_ms: u64, jitter_ms: u64, loss_percent: f64) -> Result<LinkModel, String> {
    if !(0.0..=100.0).contains(&loss_percent) {
        return Err(format!(
            "--loss-percent must be between 0 and 100, got {loss_percent}"
        ));
    }
    Ok(LinkModel::ideal(Duration::from_millis(latency_ms))
        .with_jitter(Duration::from_millis(jitter_ms))
        .with_uniform_loss(loss_percent / 100.0))
}

fn spread(args: SpreadArgs) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let n = args.nodes as usize;
    if args.degree == 0 || args.degree >= n {
        return Err(format!(
            "--degree must be between 1 and {}, got {}",
            n - 1,
            args.degree
        )
        .into());
    }
    let mut scenario = SpreadScenario::new(n, args.seed);
    scenario.degree = args.degree;
    scenario.link = link_model(args.latency_ms, args.jitter_ms, args.loss_percent)?;
    scenario.warmup = Duration::from_secs(args.warmup_s);
    scenario.deadline = Duration::from_secs(args.deadline_s);
    let report = run_spread(&scenario)?;
    let wall = started.elapsed();

    println!(
        "{n} nodes on a random degree-{} graph, {} ms links (+ up to {} ms jitter, {} % loss), seed {}",
        args.degree, args.latency_ms, args.jitter_ms, args.loss_percent, args.seed
    );
    println!(
        "  after {} s of connecting, every node announced itself; {:.1} verified peers per node at the end",
        args.warmup_s, report.mean_peers
    );
    match report.spread_time {
        Some(t) => println!(
            "  all {n} announcements reached all {n} nodes {:.2} s (simulated) after they were made",
            t.as_secs_f64()
        ),
        None => println!(
            "  after {} s only {:.1} % of (node, announcement) pairs had arrived",
            args.deadline_s,
            100.0 * report.coverage
        ),
    }
    println!(
        "  {} datagrams sent ({} lost by the network), {:.1} KB sent per node",
        report.stats.datagrams_sent,
        report.stats.lost_in_network,
        report.bytes_per_node as f64 / 1000.0
    );
    println!(
        "  {:.1} s simulated in {:.2} s of wall time: {} events, {:.0} events/s; digest {:016x}",
        report.simulated.as_secs_f64(),
        wall.as_secs_f64(),
        report.stats.events,
        report.stats.events as f64 / wall.as_secs_f64(),
        report.digest
    );
    if report.spread_time.is_none() {
        return Err("the announcements did not reach every node before the deadline".into());
    }
    Ok(())
}

fn cluster(args: ClusterArgs) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let mut scenario = ClusterScenario::new(usize::from(args.members), args.seed);
    scenario.link = args.link.model()?;
    scenario.posts = args.posts;
    scenario.post_interval = Duration::from_millis(args.post_interval_ms);
    scenario.idle = Duration::from_secs(args.idle_min * 60);
    let report = run_cluster(&scenario)?;
    let wall = started.elapsed();
    let ms = |d: Option<Duration>| {
        d.map_or("-".to_string(), |d| {
            format!("{:.0} ms", d.as_secs_f64() * 1e3)
        })
    };

    println!(
        "{} members join one by one through random members, {} ms links (+ up to {} ms jitter, {} % loss), seed {}",
        args.members, args.link.latency_ms, args.link.jitter_ms, args.link.loss_percent, args.seed
    );
    let mut times: Vec<Duration> = report.join_times.iter().flatten().copied().collect();
    let failed = report.join_times.len() - times.len();
    times.sort();
    println!(
        "  join to convergence (all members on one epoch and table): p50 {}, p90 {}, max {}, last join {}; {failed} joins failed",
        ms(quantile(&times, 0.5)),
        ms(quantile(&times, 0.9)),
        ms(times.last().copied()),
        ms(report.join_times.last().copied().flatten()),
    );
    println!(
        "  {} posts: {:.3} % of (post, member) pairs delivered, {:.1} % of posts reached >= 99 % of members, {} order violations",
        report.posts,
        100.0 * report.delivery,
        100.0 * report.posts_reaching_99,
        report.order_violations
    );
    println!(
        "  post latency p50 {}, p90 {}, p99 {}, max {}",
        ms(report.post_latency(0.5)),
        ms(report.post_latency(0.9)),
        ms(report.post_latency(0.99)),
        ms(report.post_latency(1.0)),
    );
    if let Some(t) = report.late_join_time {
        println!(
            "  a join into the settled {}-member cluster converged in {}",
            report.joined,
            ms(Some(t))
        );
    }
    if let Some(bytes) = report.idle_bytes_per_member_hour {
        println!(
            "  idle cluster: {:.1} KB sent per member per hour (heartbeats and rollouts), {} joined, epoch {} at the end",
            bytes / 1000.0,
            report.joined,
            report.epoch
        );
    }
    println!(
        "  {} events in {:.2} s of wall time; digest {:016x}",
        report.stats.events,
        wall.as_secs_f64(),
        report.digest
    );
    if !report.converged || failed > 0 {
        return Err("the cluster did not converge".into());
    }
    Ok(())
}

fn anon(args: AnonArgs) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let mut scenario = AnonScenario::new(usize::from(args.members), args.seed);
    scenario.link = args.link.model()?;
    scenario.messages = args.messages;
    scenario.message_interval = Duration::from_millis(args.interval_ms);
    scenario.text_len = usize::from(args.text_bytes);
    scenario.replies = !args.no_replies;
    scenario.spies = args.spies;
    scenario.tap = args.tap;
    scenario.settle = Duration::from_secs(args.settle_s);
    if let Some(p) = args.p_stem {
        scenario.config.p_stem = p;
    }
    if args.crowds {
        scenario.config.stem_routing = peerster_core::StemRouting::Crowds;
    }
    if let Some(fanout) = args.fanout {
        scenario.config.anon_fanout = fanout;
    }
    if let Some(copies) = args.stem_copies {
        scenario.config.anon_stem_copies = copies;
    }
    if let Some(ms) = args.ack_delay_ms {
        scenario.config.anon_ack_delay = Duration::from_millis(ms);
    }
    let report = run_anon(&scenario)?;
    let wall = started.elapsed();
    let ms = |d: Option<Duration>| {
        d.map_or("-".to_string(), |d| {
            format!("{:.0} ms", d.as_secs_f64() * 1e3)
        })
    };
    let share = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.3}"));
    println!(
        "{} members, {} messages of {} bytes{}, {} ms links (+ up to {} ms jitter, {} % loss), p_stem {}, {}, fanout {}, {} stem copies, seed {}",
        report.members,
        args.messages,
        args.text_bytes,
        if scenario.replies {
            " each answered"
        } else {
            ""
        },
        args.link.latency_ms,
        args.link.jitter_ms,
        args.link.loss_percent,
        scenario.config.p_stem,
        if args.crowds { "Crowds" } else { "Dandelion++" },
        scenario.config.anon_fanout,
        scenario.config.anon_stem_copies,
        args.seed
    );
    println!(
        "  {} sent ({} replies): {:.2} % delivered, {} duplicates, {} opened by another member, {:.2} % acknowledged, {} given up",
        report.sent,
        report.replies,
        100.0 * report.delivery(),
        report.duplicates,
        report.misdelivered,
        100.0 * report.acknowledged as f64 / report.sent.max(1) as f64,
        report.failed
    );
    println!(
        "  latency p50 {}, p90 {}, p99 {}, max {}; {} embargo fluffs, {} retries",
        ms(report.latency(0.5)),
        ms(report.latency(0.9)),
        ms(report.latency(0.99)),
        ms(report.latency(1.0)),
        report.embargo_fluffs,
        report.retries
    );
    println!(
        "  anonymous traffic per delivered message: {:.1} KB ({:.0}x a direct sealed send of {:.1} KB)",
        report.bytes_per_message / 1000.0,
        report.bytes_per_message / report.direct_bytes_per_message,
        report.direct_bytes_per_message / 1000.0
    );
    if args.spies > 0 {
        println!(
            "  {} spies, first-spy estimator: precision {} over all {} packets, {} over the {} a spy saw on the stem (the senders estimated {:.3})",
            args.spies,
            share(report.first_spy.precision()),
            report.first_spy.guesses,
            share(report.first_spy_on_stem.precision()),
            report.first_spy_on_stem.guesses,
            report.estimated_precision
        );
    }
    if args.tap {
        println!(
            "  tap on one member's links: named it the creator of {} packets, precision {}, recall {}",
            report.tap.guesses,
            share(report.tap.precision()),
            share(report.tap.recall())
        );
        println!(
            "  the tap named its member the recipient {} times ({} rightly) of the {} messages it received",
            report.tap_recipient.guesses,
            report.tap_recipient.correct,
            report.tap_recipient.possible
        );
    }
    println!(
        "  recipients named: {}; {} events in {:.2} s of wall time; digest {:016x}",
        report.recipients_named,
        report.stats.events,
        wall.as_secs_f64(),
        report.digest
    );
    Ok(())
}

fn vote(args: VoteArgs) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let mut scenario = VoteScenario::new(usize::from(args.members), args.seed);
    scenario.link = args.link.model()?;
    scenario.liars = args.liars;
    scenario.crashes = args.crashes;
    let report = run_vote(&scenario)?;
    println!(
        "{} members vote a newcomer in, then out; {} ms links (+ up to {} ms jitter, {} % loss), {} lying authorities, {} crashes, seed {}",
        report.members,
        args.link.latency_ms,
        args.link.jitter_ms,
        args.link.loss_percent,
        args.liars,
        args.crashes,
        args.seed
    );
    let show = |name: &str, run: &VoteRun| {
        let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
        for o in &run.applied {
            let key = o.map_or("none".to_string(), |o| format!("{o:?}").to_lowercase());
            *outcomes.entry(key).or_default() += 1;
        }
        let outcomes: Vec<String> = outcomes.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!(
            "  {name}: {} (of the live honest members), {}, {} wrong; {}, {} rounds redrawn, {:.1} KB sent per member",
            outcomes.join(", "),
            if run.agreed {
                "all agree"
            } else {
                "NOT all agree"
            },
            run.wrong_outcomes,
            run.duration.map_or("did not end".to_string(), |d| format!(
                "applied everywhere {:.2} s after the request",
                d.as_secs_f64()
            )),
            run.redraws,
            run.bytes_per_member / 1000.0
        );
    };
    show("join", &report.join);
    match &report.expel {
        Some(run) => show("expel", run),
        None => println!("  expel: not proposed (the newcomer is not a member)"),
    }
    println!(
        "  newcomer admitted: {}, expelled: {}; posts and anonymous messages of later epochs it read: {}",
        report.admitted, report.expelled, report.expelled_read
    );
    println!(
        "  {} events in {:.2} s of wall time; digest {:016x}",
        report.stats.events,
        started.elapsed().as_secs_f64(),
        report.digest
    );
    Ok(())
}

fn trace(args: TraceArgs) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let n = usize::from(args.nodes);
    let link = link_model(args.latency_ms, args.jitter_ms, args.loss_percent)?;
    let setup = SimConfig {
        network: Network::new(link),
        ..SimConfig::new(n, args.seed)
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
                if let Event::PeerVerified { addr, peer, .. } = &**event {
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
