//! Voice calls in a scenario's workload (`workload.calls`, `workload.call_s`).
//!
//! Each call is placed at a drawn time by a random live honest member to another one of its
//! cluster, through the core call API as a real client would use it: the callee answers the
//! [`Event::IncomingCall`], each end sends one voice frame every 20 ms from its
//! [`Event::CallConnected`] on (both directions load the relays, as in
//! [`crate::call`]), and the caller hangs up a tail after its last frame. Frames are
//! synthetic: bytes of the size Opus produces at the default 24 kb/s (the codec adds nothing
//! the network sees, and encoding every frame of thousands of calls would dominate the run).
//! The mouth-to-ear latency of a frame is from its `send_voice` to the
//! [`Event::VoiceFrame`] at the other end.

use std::collections::BTreeMap;
use std::time::Duration;

use peerster_audio::SAMPLES_PER_FRAME;
use peerster_audio::codec::CodecConfig;
use peerster_core::{CallId, CallOptions, Event, Timestamp};
use serde::Serialize;

use super::observe::ScenarioObserver;
use super::report::Percentiles;
use crate::random::below;
use crate::{NodeIndex, Simulation};

/// Duration of one voice frame.
pub const FRAME: Duration = Duration::from_millis(20);

/// How long the caller waits after its last frame before hanging up, so that the frames in
/// flight (its own and the callee's last ones) can still arrive.
pub const TAIL: Duration = Duration::from_secs(1);

/// How long a call may ring (or wait for its connection) before the caller gives up.
pub const RING_LIMIT: Duration = Duration::from_secs(30);

/// What the calls of a run measured (`report.json`'s `calls`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calls {
    /// Calls placed.
    pub count: usize,
    /// Calls the caller learnt were answered.
    pub answered: usize,
    /// Voice frames sent, both directions.
    pub frames_sent: u64,
    /// Voice frames the other end's core delivered (each once).
    pub frames_received: u64,
    /// Share of the frames sent that never arrived: `1 - frames_received / frames_sent`.
    pub frames_lost_ratio: f64,
    /// Mouth-to-ear latency of each frame received, from its sending to its arrival at the
    /// other end's core (no capture, jitter buffer or codec delay).
    pub latency_ms: Option<Percentiles>,
}

/// Call events the observer saw and the workload has not handled yet.
#[derive(Debug, Default)]
pub struct CallLog {
    /// Calls offered: (callee node, call).
    incoming: Vec<(NodeIndex, CallId)>,
    /// Calls connected: (node, call).
    connected: Vec<(NodeIndex, CallId)>,
    /// Calls ended: (node, call).
    ended: Vec<(NodeIndex, CallId)>,
    /// Voice frames arrived: (node, call, frame number, when).
    frames: Vec<(NodeIndex, CallId, u32, Timestamp)>,
}

impl CallLog {
    /// Notes `event` at `node` if it concerns a call.
    pub fn on_event(&mut self, at: Timestamp, node: NodeIndex, event: &Event) {
        match event {
            Event::IncomingCall { call, .. } => self.incoming.push((node, *call)),
            Event::CallConnected { call } => self.connected.push((node, *call)),
            Event::CallEnded { call, .. } => self.ended.push((node, *call)),
            Event::VoiceFrame { call, seq, .. } => self.frames.push((node, *call, *seq, at)),
            _ => {}
        }
    }
}

/// One end of a call.
#[derive(Debug)]
struct End {
    node: NodeIndex,
    /// When this end sends its next frame (from its connection on).
    next_frame: Option<Timestamp>,
    /// When each of its frames was sent, by frame number.
    sent: Vec<Timestamp>,
    /// Whether this end's core ended the call.
    ended: bool,
}

impl End {
    fn new(node: NodeIndex) -> End {
        End {
            node,
            next_frame: None,
            sent: Vec::new(),
            ended: false,
        }
    }
}

/// One call of the workload.
#[derive(Debug)]
struct Call {
    /// Caller, then callee.
    ends: [End; 2],
    placed: Timestamp,
    answered: bool,
    /// When the caller hangs up (set once it has sent its last frame, or gave up ringing).
    hang_up_at: Option<Timestamp>,
}

/// The calls of a run: places them, answers them, sends their frames, hangs them up, and
/// scores them.
#[derive(Debug)]
pub struct CallWorkload {
    frames_per_call: u64,
    frame: Vec<u8>,
    calls: BTreeMap<CallId, Call>,
    placed: usize,
    latencies: Vec<Duration>,
    received: u64,
}

impl CallWorkload {
    /// Calls of `call_s` seconds each, with frames of the size the default codec produces.
    pub fn new(call_s: f64) -> CallWorkload {
        let frames_per_call = (call_s / FRAME.as_secs_f64()).round() as u64;
        CallWorkload {
            frames_per_call,
            frame: vec![0x5a; frame_bytes(&CodecConfig::default())],
            calls: BTreeMap::new(),
            placed: 0,
            latencies: Vec::new(),
            received: 0,
        }
    }

    /// Places a call between two distinct random members of `candidates` (nothing with fewer
    /// than two).
    pub fn place(&mut self, sim: &mut Simulation<ScenarioObserver>, candidates: &[NodeIndex]) {
        if candidates.len() < 2 {
            return;
        }
        let caller = candidates[below(sim.rng(), candidates.len() as u64) as usize];
        let others: Vec<NodeIndex> = (candidates.iter().copied())
            .filter(|&n| n != caller)
            .collect();
        let callee = others[below(sim.rng(), others.len() as u64) as usize];
        let to = sim.identity(callee).member_id();
        let mut placed = None;
        sim.command(caller, |node, now| {
            placed = node.call(now, to, CallOptions::default()).ok();
        });
        self.placed += 1;
        if let Some(call) = placed {
            self.calls.insert(
                call,
                Call {
                    ends: [End::new(caller), End::new(callee)],
                    placed: sim.now(),
                    answered: false,
                    hang_up_at: None,
                },
            );
        }
    }

    /// When the workload next needs to act, if a call is under way.
    pub fn next_wake(&self, now: Timestamp) -> Option<Timestamp> {
        let active = self.calls.values().filter(|c| !c.done());
        active
            .flat_map(|c| {
                let frames = c.ends.iter().filter_map(|e| e.next_frame);
                // Ringing, or waiting for the connection: look again a frame later.
                frames.chain(c.hang_up_at).chain(Some(now + FRAME))
            })
            .min()
            // Always forward: a time already due would stall the run.
            .map(|t| t.max(now + Duration::from_millis(1)))
    }

    /// Handles what the nodes reported (answers offers, starts the frames of connected ends,
    /// notes ends and arrivals), then sends the frames due and hangs up the calls done.
    pub fn step(&mut self, sim: &mut Simulation<ScenarioObserver>) {
        let log = std::mem::take(&mut sim.observer_mut().calls);
        let now = sim.now();
        for (node, id) in log.incoming {
            if self.calls.get(&id).is_some_and(|c| c.ends[1].node == node) {
                sim.command(node, |n, now| {
                    let _ = n.answer_call(now, id);
                });
            }
        }
        for (node, id) in log.connected {
            let Some(call) = self.calls.get_mut(&id) else {
                continue;
            };
            if let Some(end) = call.ends.iter_mut().find(|e| e.node == node) {
                end.next_frame.get_or_insert(now);
            }
            call.answered |= node == call.ends[0].node;
        }
        for (node, id) in log.ended {
            if let Some(end) =
                (self.calls.get_mut(&id)).and_then(|c| c.ends.iter_mut().find(|e| e.node == node))
            {
                end.ended = true;
                end.next_frame = None;
            }
        }
        for (node, id, seq, at) in log.frames {
            let Some(call) = self.calls.get(&id) else {
                continue;
            };
            // The frame came from the other end.
            let Some(to) = call.ends.iter().position(|e| e.node == node) else {
                continue;
            };
            if let Some(sent) = call.ends[1 - to].sent.get(seq as usize) {
                self.received += 1;
                self.latencies.push(at.saturating_since(*sent));
            }
        }
        self.send_due(sim);
    }

    /// Sends the frames due now, and hangs up the calls whose time is over.
    fn send_due(&mut self, sim: &mut Simulation<ScenarioObserver>) {
        let now = sim.now();
        let per_call = self.frames_per_call;
        let frame = &self.frame;
        for (&id, call) in &mut self.calls {
            if call.done() {
                continue;
            }
            for end in &mut call.ends {
                let Some(due) = end.next_frame.filter(|&t| t <= now) else {
                    continue;
                };
                let timestamp = (end.sent.len() as u32).wrapping_mul(SAMPLES_PER_FRAME as u32);
                let mut sent = None;
                sim.command(end.node, |n, now| {
                    sent = n.send_voice(now, id, timestamp, frame).ok();
                });
                if sent == Some(end.sent.len() as u32) {
                    end.sent.push(now);
                }
                let frames = end.sent.len() as u64;
                end.next_frame = (sent.is_some() && frames < per_call).then_some(due + FRAME);
            }
            let caller = &call.ends[0];
            if call.hang_up_at.is_none()
                // Done talking (or unable to: crashed, or its call ended), or never answered.
                && ((caller.next_frame.is_none() && (call.answered || !caller.sent.is_empty()))
                    || (!call.answered && now >= call.placed + RING_LIMIT))
            {
                call.hang_up_at = Some(now + TAIL);
            }
            if call.hang_up_at.is_some_and(|t| t <= now) {
                sim.command(caller.node, |n, now| {
                    let _ = n.hang_up(now, id);
                });
                call.hang_up_at = None;
                for end in &mut call.ends {
                    end.ended = true;
                    end.next_frame = None;
                }
            }
        }
    }

    /// What the calls measured, if any call was placed.
    pub fn score(&self) -> Option<Calls> {
        if self.placed == 0 {
            return None;
        }
        let sent: u64 = (self.calls.values())
            .flat_map(|c| &c.ends)
            .map(|e| e.sent.len() as u64)
            .sum();
        Some(Calls {
            count: self.placed,
            answered: self.calls.values().filter(|c| c.answered).count(),
            frames_sent: sent,
            frames_received: self.received,
            frames_lost_ratio: if sent == 0 {
                0.0
            } else {
                1.0 - self.received as f64 / sent as f64
            },
            latency_ms: Percentiles::of(&self.latencies),
        })
    }

    /// Every frame's latency, sorted, for the plots.
    pub fn latencies(&self) -> Vec<Duration> {
        let mut latencies = self.latencies.clone();
        latencies.sort();
        latencies
    }
}

impl Call {
    /// Whether the call is over for the workload (both ends ended or hung up).
    fn done(&self) -> bool {
        self.ends.iter().all(|e| e.ended)
    }
}

/// Bytes of one 20 ms frame at `codec`'s bitrate.
pub fn frame_bytes(codec: &CodecConfig) -> usize {
    (codec.bitrate_bps as usize / 8) / (1000 / FRAME.as_millis() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_the_size_of_the_bitrate() {
        assert_eq!(frame_bytes(&CodecConfig::default()), 60);
        let config = CodecConfig {
            bitrate_bps: 64_000,
            ..CodecConfig::default()
        };
        assert_eq!(frame_bytes(&config), 160);
        assert_eq!(CallWorkload::new(3.0).frames_per_call, 150);
    }

    #[test]
    fn no_call_placed_scores_nothing_and_sleeps() {
        let calls = CallWorkload::new(10.0);
        assert_eq!(calls.score(), None);
        assert_eq!(calls.next_wake(Timestamp::ZERO), None);
    }
}
