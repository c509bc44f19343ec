//! The call scenario: one anonymous call across a cluster, with real nodes, real Opus and the
//! real jitter buffer. The caller speaks the input; the callee answers and speaks too (its own
//! encoded silence, so both directions load the relays). Every 20 ms the caller encodes and
//! sends a frame and the callee's receiver plays one tick. The report gives what the callee
//! heard (sample-aligned to the input: sample `i` of the output is what the callee played for
//! sample `i` of the input, silence where nothing played), the mouth-to-ear latency of every
//! frame played, frames lost, recovered and concealed, and what the call cost each member.

use std::collections::VecDeque;
use std::time::Duration;

use hdrhistogram::Histogram;
use peerster_audio::codec::{CODEC_DELAY_SAMPLES, CodecConfig, CodecError};
use peerster_audio::jitter::{JitterConfig, JitterStats};
use peerster_audio::pipeline::{CallReceiver, CallSender, PlayedFrom, ReceiverError};
use peerster_audio::{SAMPLES_PER_FRAME, frames_of};
use peerster_core::{CallId, CallOptions, Config, ConfigError, Event, Timestamp};
use rand_core::Rng;

use crate::cluster::settled_cluster;
use crate::{LinkModel, Network, NodeIndex, Observer, SimConfig, SimStats, Simulation};

/// Duration of one voice frame.
const FRAME: Duration = Duration::from_millis(20);

/// Ticks played after the last frame is sent, so that it can still arrive and play.
const TAIL_TICKS: usize = 25;

/// The parameters of a call run.
#[derive(Clone, Debug)]
pub struct CallScenario {
    /// Members of the cluster, the two ends included.
    pub members: usize,
    /// Seed of the whole run.
    pub seed: u64,
    /// The model of every link during the call (the cluster forms on loss-free links).
    pub link: LinkModel,
    /// The nodes' configuration.
    pub config: Config,
    /// What the caller says: 48 kHz mono samples.
    pub input: Vec<i16>,
    /// The codec settings of both ends.
    pub codec: CodecConfig,
    /// The callee's jitter buffer.
    pub jitter: JitterConfig,
}

impl CallScenario {
    /// A call across `members` members on 5 ms links with up to 10 ms of jitter, default
    /// configuration, codec and jitter buffer.
    pub fn new(members: usize, seed: u64, input: Vec<i16>) -> Self {
        CallScenario {
            members,
            seed,
            link: LinkModel::ideal(Duration::from_millis(5)).with_jitter(Duration::from_millis(10)),
            config: Config::default(),
            input,
            codec: CodecConfig::default(),
            jitter: JitterConfig::default(),
        }
    }
}

/// Percentiles of the mouth-to-ear latency, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LatencyMs {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// What a call run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct CallReport {
    /// Members of the cluster.
    pub members: usize,
    /// From the offer to the caller learning the call was answered (answered at once).
    pub setup: Duration,
    /// Mouth-to-ear latency of the frames the callee played (their own audio or FEC): from
    /// the capture of a frame's first sample to its playout, with the 20 ms of capture, the
    /// network, the jitter buffer and the codec's delay.
    pub latency_ms: LatencyMs,
    /// Frames the caller sent.
    pub frames_sent: u64,
    /// Frames `core` delivered to the callee (each once).
    pub frames_delivered: u64,
    /// Frames the callee played from their own packet.
    pub frames_played: u64,
    /// Frames recovered from the next frame's in-band FEC.
    pub frames_recovered: u64,
    /// Frames the callee had nothing of: concealed, or skipped to shrink the delay.
    pub frames_lost: u64,
    /// Ticks of the call filled by concealment: frames of the input that were lost, and
    /// frames inserted to grow the delay (not the ticks after the input's end).
    pub frames_concealed: u64,
    /// Frames that arrived after their slot had played.
    pub frames_late: u64,
    /// Bytes each member sent during the call, on average.
    pub bytes_per_member: f64,
    /// What a tap on one end's links sees of the call: the datagrams the caller sent during
    /// it, over the mean of the members not in the call. Near 1 the ends do not stand out.
    pub caller_datagram_ratio: f64,
    /// The callee's playout delay at the end.
    pub playout_delay: Duration,
    /// The callee's jitter buffer counts.
    pub jitter: JitterStats,
    /// What the callee heard, sample-aligned to the input.
    pub output: Vec<i16>,
    /// The engine's counters.
    pub stats: SimStats,
    /// The run's digest.
    pub digest: u64,
}

/// Why a call run could not run.
#[derive(Debug, thiserror::Error)]
pub enum CallRunError {
    /// The nodes' configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The codec could not be set up.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The receiver could not be set up.
    #[error(transparent)]
    Receiver(#[from] ReceiverError),
    /// The cluster did not form.
    #[error("the cluster did not form: {joined} of {members} members joined")]
    NoCluster {
        /// Members that joined.
        joined: usize,
        /// Members wanted.
        members: usize,
    },
    /// The call was not set up within 30 simulated seconds.
    #[error("the call was not set up")]
    NoCall,
}

/// What the two ends of the call saw.
#[derive(Debug, Default)]
struct CallLog {
    callee: Option<NodeIndex>,
    caller: Option<NodeIndex>,
    incoming: Option<CallId>,
    connected_at: Option<Timestamp>,
    /// Voice frames delivered to the callee and not yet given to its receiver.
    arrived: VecDeque<(Timestamp, u32, u32, Vec<u8>)>,
}

impl Observer for CallLog {
    fn on_event(&mut self, at: Timestamp, node: NodeIndex, event: &Event) {
        match event {
            Event::IncomingCall { call, .. } if Some(node) == self.callee => {
                self.incoming = Some(*call);
            }
            Event::CallConnected { .. } if Some(node) == self.caller => {
                self.connected_at.get_or_insert(at);
            }
            Event::VoiceFrame {
                seq,
                timestamp,
                data,
                ..
            } if Some(node) == self.callee => {
                self.arrived.push_back((at, *seq, *timestamp, data.clone()));
            }
            _ => {}
        }
    }
}

fn bytes_sent(sim: &Simulation<CallLog>, members: &[NodeIndex]) -> u64 {
    members
        .iter()
        .filter_map(|&i| sim.node(i))
        .map(|n| n.stats().bytes_sent)
        .sum()
}

/// Datagrams each of `members` sent so far.
fn datagrams_sent(sim: &Simulation<CallLog>, members: &[NodeIndex]) -> Vec<u64> {
    members
        .iter()
        .map(|&i| sim.node(i).map_or(0, |n| n.stats().datagrams_sent))
        .collect()
}

/// Runs the simulation in 10 ms steps until `done`, for at most `limit`.
fn run_until(
    sim: &mut Simulation<CallLog>,
    limit: Duration,
    done: impl Fn(&CallLog) -> bool,
) -> bool {
    let until = sim.now() + limit;
    while !done(sim.observer()) {
        if sim.now() >= until {
            return false;
        }
        sim.run_for(Duration::from_millis(10));
    }
    true
}

/// Runs `scenario` and reports what it measured.
pub fn run_call(scenario: &CallScenario) -> Result<CallReport, CallRunError> {
    let n = scenario.members.max(2);
    let mut setup = SimConfig::new(n, scenario.seed);
    setup.config = scenario.config.clone();
    setup.network = Network::new(LinkModel::ideal(scenario.link.latency));
    let mut sim = Simulation::with_observer(setup, CallLog::default())?;
    let members = settled_cluster(&mut sim, n, scenario.link);
    if members.len() < n {
        return Err(CallRunError::NoCluster {
            joined: members.len(),
            members: n,
        });
    }

    // Two distinct random members talk.
    let caller = members[(sim.rng().next_u64() % n as u64) as usize];
    let others: Vec<NodeIndex> = members.iter().copied().filter(|&m| m != caller).collect();
    let callee = others[(sim.rng().next_u64() % others.len() as u64) as usize];
    sim.observer_mut().caller = Some(caller);
    sim.observer_mut().callee = Some(callee);
    let callee_id = sim.identity(callee).member_id();
    let offered_at = sim.now();
    let mut call = None;
    sim.command(caller, |node, now| {
        call = node.call(now, callee_id, CallOptions::default()).ok();
    });
    let call = call.ok_or(CallRunError::NoCall)?;
    if !run_until(&mut sim, Duration::from_secs(30), |log| {
        log.incoming.is_some()
    }) {
        return Err(CallRunError::NoCall);
    }
    sim.command(callee, |node, now| {
        let _ = node.answer_call(now, call);
    });
    if !run_until(&mut sim, Duration::from_secs(30), |log| {
        log.connected_at.is_some()
    }) {
        return Err(CallRunError::NoCall);
    }
    let setup_time = sim.observer().connected_at.unwrap_or(offered_at) - offered_at;

    let mut speaker = CallSender::new(&scenario.codec)?;
    let mut answerer = CallSender::new(&scenario.codec)?;
    let mut receiver = CallReceiver::new(scenario.jitter)?;
    let bytes_before = bytes_sent(&sim, &members);
    let datagrams_before = datagrams_sent(&sim, &members);
    let talk = Talk::run(
        &mut sim,
        call,
        [caller, callee],
        [&mut speaker, &mut answerer],
        &mut receiver,
        &scenario.input,
    );
    let bytes = bytes_sent(&sim, &members).saturating_sub(bytes_before);
    let sent_during: Vec<f64> = datagrams_sent(&sim, &members)
        .iter()
        .zip(&datagrams_before)
        .map(|(after, before)| after.saturating_sub(*before) as f64)
        .collect();
    let bystanders: Vec<f64> = members
        .iter()
        .zip(&sent_during)
        .filter(|(m, _)| **m != caller && **m != callee)
        .map(|(_, &sent)| sent)
        .collect();
    let caller_sent = members
        .iter()
        .position(|&m| m == caller)
        .map_or(0.0, |i| sent_during[i]);
    let bystander_mean = bystanders.iter().sum::<f64>() / bystanders.len().max(1) as f64;
    let caller_datagram_ratio = caller_sent / bystander_mean.max(1.0);
    sim.command(caller, |node, now| {
        let _ = node.hang_up(now, call);
    });
    sim.run_for(Duration::from_secs(2));

    let jitter = receiver.stats().jitter;
    let frames_delivered = sim
        .node(callee)
        .map_or(0, |n| n.stats().voice_frames_received);
    Ok(CallReport {
        members: n,
        setup: setup_time,
        latency_ms: talk.latency_ms(),
        frames_sent: talk.frames_sent,
        frames_delivered,
        frames_played: jitter.played,
        frames_recovered: jitter.recovered,
        frames_lost: talk
            .frames_sent
            .saturating_sub(jitter.played + jitter.recovered),
        frames_concealed: talk.concealed,
        frames_late: jitter.late,
        bytes_per_member: bytes as f64 / n as f64,
        caller_datagram_ratio,
        playout_delay: jitter.playout_delay,
        jitter,
        output: talk.output,
        stats: sim.stats(),
        digest: sim.digest(),
    })
}

/// The talking part of a call: both ends send a frame and the callee plays a tick, every
/// 20 ms.
struct Talk {
    frames_sent: u64,
    /// Ticks within the input concealed (lost frames, or inserted ones).
    concealed: u64,
    latencies: Histogram<u64>,
    output: Vec<i16>,
}

impl Talk {
    fn run(
        sim: &mut Simulation<CallLog>,
        call: CallId,
        [caller, callee]: [NodeIndex; 2],
        [speaker, answerer]: [&mut CallSender; 2],
        receiver: &mut CallReceiver,
        input: &[i16],
    ) -> Talk {
        let frames: Vec<_> = frames_of(input).collect();
        // Microseconds, 1 µs to 1 h, three significant digits: always valid.
        let mut latencies =
            Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
        let mut output = vec![0i16; input.len()];
        let mut frames_sent = 0;
        let mut concealed = 0;
        let start = sim.now();
        for tick in 0..frames.len() + TAIL_TICKS {
            // Frame `tick` is complete now: its first sample was captured 20 ms ago.
            if let Some(pcm) = frames.get(tick) {
                if let Ok(frame) = speaker.encode(pcm) {
                    sim.command(caller, |node, now| {
                        let _ = node.send_voice(now, call, frame.timestamp, &frame.bytes);
                    });
                    frames_sent += 1;
                }
                if let Ok(frame) = answerer.encode(&peerster_audio::SILENCE) {
                    sim.command(callee, |node, now| {
                        let _ = node.send_voice(now, call, frame.timestamp, &frame.bytes);
                    });
                }
            }
            sim.run_for(FRAME);
            let now = sim.now();
            while let Some((at, seq, timestamp, data)) = sim.observer_mut().arrived.pop_front() {
                receiver.push(at, seq, timestamp, &data);
            }
            let pulled = receiver.pull(now);
            match pulled.from {
                PlayedFrom::Concealed { seq: None } => concealed += 1,
                PlayedFrom::Concealed { seq: Some(s) } if (s as usize) < frames.len() => {
                    concealed += 1;
                }
                _ => {}
            }
            let Some(seq) = pulled.from.seq() else {
                continue;
            };
            if matches!(
                pulled.from,
                PlayedFrom::Frame { .. } | PlayedFrom::Fec { .. }
            ) {
                // Captured from `start + (seq - 1) * 20 ms` on; heard a codec delay after
                // playout starts.
                let heard = now.saturating_since(start) + FRAME + codec_delay();
                let latency = heard.saturating_sub(FRAME * seq);
                let _ = latencies.record(latency.as_micros().max(1) as u64);
            }
            place(&mut output, seq, &pulled.samples);
        }
        Talk {
            frames_sent,
            concealed,
            latencies,
            output,
        }
    }

    fn latency_ms(&self) -> LatencyMs {
        if self.latencies.is_empty() {
            return LatencyMs::default();
        }
        let ms = |q: f64| self.latencies.value_at_quantile(q) as f64 / 1000.0;
        LatencyMs {
            p50: ms(0.5),
            p90: ms(0.9),
            p99: ms(0.99),
            max: self.latencies.max() as f64 / 1000.0,
        }
    }
}

/// The codec's algorithmic delay.
fn codec_delay() -> Duration {
    let rate = u64::from(peerster_audio::SAMPLE_RATE_HZ);
    Duration::from_micros(CODEC_DELAY_SAMPLES as u64 * 1_000_000 / rate)
}

/// Puts the decoded audio of frame `seq` where it belongs on the input's timeline: the
/// decoder's output lags its input by the codec's delay.
fn place(output: &mut [i16], seq: u32, samples: &[i16]) {
    let start = seq as usize * SAMPLES_PER_FRAME;
    for (i, &s) in samples.iter().enumerate() {
        let Some(at) = (start + i).checked_sub(CODEC_DELAY_SAMPLES) else {
            continue;
        };
        if let Some(slot) = output.get_mut(at) {
            *slot = s;
        }
    }
}

/// The input through the codec alone (encode, decode, no network, no loss), aligned the same
/// way as a call's output: the baseline a call's quality is compared with.
pub fn codec_only(input: &[i16], codec: &CodecConfig) -> Result<Vec<i16>, CallRunError> {
    use peerster_audio::codec::{PureOpusDecoder, VoiceDecoder};
    let mut sender = CallSender::new(codec)?;
    let mut decoder = PureOpusDecoder::new()?;
    let mut output = vec![0i16; input.len()];
    let frames: Vec<_> = frames_of(input).collect();
    for pcm in frames
        .iter()
        .chain(std::iter::repeat_n(&peerster_audio::SILENCE, 1))
    {
        let frame = sender.encode(pcm)?;
        let samples = decoder.decode(&frame.bytes)?;
        place(&mut output, frame.seq, &samples);
    }
    Ok(output)
}
