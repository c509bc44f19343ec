//! [`CallAudio`]: the audio of the calls in progress, on a 20 ms voice tick.
//!
//! Each end of a call gets a [`Plan`] when it is placed (`/call`) or answered (`/answer`):
//! samples from a WAV file and a recording for another one, silence in and nothing out, or
//! (feature `device`) the microphone and the speaker. The plan waits until the call connects
//! ([`peerster_core::Event::CallConnected`]): this end's timeline starts there, with a
//! [`CallSender`] and a [`CallReceiver`] of its own.
//!
//! While any call is connected the event loop runs a voice tick every 20 ms
//! ([`CallAudio::next_tick`], [`CallAudio::tick`], scheduled without drift by
//! [`ticker::VoiceTicker`]): for each connected call the tick encodes the next
//! 960 samples of its source (for the loop to hand to [`peerster_core::Node::send_voice`])
//! and pulls 20 ms from its receiver into its sink. Voice frames from the network go to the
//! call's receiver as they come ([`CallAudio::push`]).
//!
//! A file source that is used up sends silence, and one second later (time for the other
//! end to play the last words) the tick asks the loop to hang up: a call driven by files ends
//! on its own. When a call ends, for whatever reason, [`CallAudio::end`] gives back the
//! recording to write, if the plan had an output file (empty if the call never connected).

#[cfg(feature = "device")]
mod device;
mod sink;
mod source;
mod ticker;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use peerster_audio::{
    CallReceiver, CallSender, CodecConfig, EncodedFrame, JitterConfig, SILENCE, wav,
};
use peerster_core::{CallId, Timestamp};
use tracing::{debug, info};

pub(crate) use self::sink::Recording;
use self::sink::Sink;
use self::source::Source;
use self::ticker::VoiceTicker;
use crate::commands::CallFiles;
use crate::error::CallAudioError;

/// How long a call whose input file is used up goes on, sending silence, before it hangs up.
pub(crate) const HANG_UP_AFTER_INPUT: Duration = Duration::from_secs(1);

/// Where the audio of one end of a call comes from and goes, decided before it connects.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Say these samples (then silence), record what is heard for `output`.
    Files {
        /// The input file's samples, 48 kHz mono.
        input: Vec<i16>,
        /// Where the recording goes when the call ends.
        output: PathBuf,
    },
    /// Silence in, nothing out.
    Silent,
    /// The default microphone and speaker.
    #[cfg(feature = "device")]
    Devices,
}

impl Plan {
    /// The plan for `files`: reads the input file and creates the output file, empty, so that
    /// a path that cannot be written is refused now rather than when the call ends. Without
    /// files, [`Plan::default`].
    pub(crate) fn for_files(files: Option<&CallFiles>) -> Result<Plan, CallAudioError> {
        let Some(files) = files else {
            return Ok(Plan::default());
        };
        let input = wav::read_wav(&files.input).map_err(|error| CallAudioError::ReadInput {
            path: files.input.clone(),
            reason: error.to_string(),
        })?;
        Recording::new(files.output.clone()).write()?;
        Ok(Plan::Files {
            input,
            output: files.output.clone(),
        })
    }

    /// The source and sink of this plan, opening the devices if it uses them; if they fail
    /// to open, silence in and nothing out, and why.
    fn open(self) -> (Source, Sink, Option<CallAudioError>) {
        match self {
            Plan::Files { input, output } => (
                Source::samples(input),
                Sink::Recording(Recording::new(output)),
                None,
            ),
            Plan::Silent => (Source::Silence, Sink::Discard, None),
            #[cfg(feature = "device")]
            Plan::Devices => match device::open() {
                Ok((source, sink)) => (source, sink, None),
                Err(error) => {
                    let (source, sink, _) = Plan::Silent.open();
                    (source, sink, Some(error))
                }
            },
        }
    }

    /// The recording this plan keeps, before anything is heard.
    fn recording(&self) -> Option<Recording> {
        match self {
            Plan::Files { output, .. } => Some(Recording::new(output.clone())),
            Plan::Silent => None,
            #[cfg(feature = "device")]
            Plan::Devices => None,
        }
    }
}

impl Default for Plan {
    /// Silence in and nothing out.
    #[cfg(not(feature = "device"))]
    fn default() -> Plan {
        Plan::Silent
    }

    /// The default microphone and speaker.
    #[cfg(feature = "device")]
    fn default() -> Plan {
        Plan::Devices
    }
}

/// What one voice tick asks the event loop to do.
#[derive(Debug, Default)]
pub(crate) struct Tick {
    /// Frames to send, in order, each with its call.
    pub(crate) frames: Vec<(CallId, EncodedFrame)>,
    /// Calls whose input file was used up a second ago: hang them up.
    pub(crate) used_up: Vec<CallId>,
}

/// The audio of this node's calls: plans waiting for their call to connect, and the connected
/// calls' codecs, sources and sinks.
#[derive(Debug, Default)]
pub(crate) struct CallAudio {
    planned: BTreeMap<CallId, Plan>,
    live: BTreeMap<CallId, LiveCall>,
    /// Runs while a call is connected.
    ticker: Option<VoiceTicker>,
    codec: CodecConfig,
    jitter: JitterConfig,
}

impl CallAudio {
    /// Sets the audio of `call` (placed or answered, not connected yet), replacing any plan.
    pub(crate) fn plan(&mut self, call: CallId, plan: Plan) {
        self.planned.insert(call, plan);
    }

    /// Starts the audio of `call`, which connected at `now`, as planned ([`Plan::default`]
    /// if it was not). The call is live even on an error: with silence in and nothing out if
    /// the devices failed to open, without audio at all if the codec failed to start.
    pub(crate) fn connect(&mut self, call: CallId, now: Timestamp) -> Result<(), CallAudioError> {
        let plan = self.planned.remove(&call).unwrap_or_default();
        let codec_error = |reason: String| CallAudioError::Codec { reason };
        let sender = CallSender::new(&self.codec).map_err(|e| codec_error(e.to_string()))?;
        let receiver = CallReceiver::new(self.jitter).map_err(|e| codec_error(e.to_string()))?;
        let (source, sink, failure) = plan.open();
        self.live.insert(
            call,
            LiveCall {
                sender,
                receiver,
                source,
                sink,
                used_up_at: None,
                hang_up_asked: false,
            },
        );
        // The first tick of a call that connects while others run is the next one on their
        // grid; otherwise it is now.
        self.ticker
            .get_or_insert_with(|| VoiceTicker::starting_at(now));
        failure.map_or(Ok(()), Err)
    }

    /// Hands a voice frame of `call` that arrived at `now` to its receiver (a frame of a
    /// call that is not live is dropped).
    pub(crate) fn push(
        &mut self,
        now: Timestamp,
        call: CallId,
        seq: u32,
        timestamp: u32,
        data: &[u8],
    ) {
        match self.live.get_mut(&call) {
            Some(live) => {
                live.receiver.push(now, seq, timestamp, data);
            }
            None => debug!(seq, "voice frame of a call without audio dropped"),
        }
    }

    /// Ends the audio of `call`: the recording to write, if its plan has an output file.
    pub(crate) fn end(&mut self, call: CallId) -> Option<Recording> {
        let recording = match self.live.remove(&call) {
            Some(live) => {
                let stats = live.receiver.stats();
                info!(
                    frames_sent = live.sender.next_seq(),
                    played = stats.jitter.played,
                    recovered = stats.jitter.recovered,
                    concealed = stats.jitter.concealed,
                    late = stats.jitter.late,
                    decode_errors = stats.decode_errors,
                    "call audio ended"
                );
                live.sink.finish()
            }
            None => self.planned.remove(&call).and_then(|plan| plan.recording()),
        };
        if self.live.is_empty()
            && let Some(ticker) = self.ticker.take()
        {
            debug!(skipped = ticker.skipped(), "voice tick stopped");
        }
        recording
    }

    /// When the next voice tick is due, while a call is connected.
    pub(crate) fn next_tick(&self) -> Option<Timestamp> {
        self.ticker.as_ref().map(VoiceTicker::next_due)
    }

    /// Runs the voice ticks due at `now` (none, one, or a few to catch up): for each
    /// connected call, encodes its next input frame and plays 20 ms of what it received.
    pub(crate) fn tick(&mut self, now: Timestamp) -> Tick {
        let mut tick = Tick::default();
        let Some(ticker) = self.ticker.as_mut() else {
            return tick;
        };
        for at in ticker.take_due(now) {
            for (call, live) in &mut self.live {
                if let Some(frame) = live.tick(at) {
                    tick.frames.push((*call, frame));
                }
                if live.hang_up_due(at) {
                    tick.used_up.push(*call);
                }
            }
        }
        tick
    }
}

/// The audio of one connected call.
#[derive(Debug)]
struct LiveCall {
    sender: CallSender,
    receiver: CallReceiver,
    source: Source,
    sink: Sink,
    /// The tick at which the input file was used up, if it was.
    used_up_at: Option<Timestamp>,
    /// Whether the loop was asked to hang up already.
    hang_up_asked: bool,
}

impl LiveCall {
    /// One tick at `at`: the frame to send (none if the codec failed on it), and 20 ms to
    /// the sink.
    fn tick(&mut self, at: Timestamp) -> Option<EncodedFrame> {
        let pcm = self.source.next_frame().unwrap_or_else(|| {
            self.used_up_at.get_or_insert(at);
            SILENCE
        });
        let frame = match self.sender.encode(&pcm) {
            Ok(frame) => Some(frame),
            Err(error) => {
                debug!(%error, "voice frame not encoded");
                None
            }
        };
        let pulled = self.receiver.pull(at);
        self.sink.play(&pulled.samples);
        frame
    }

    /// Whether the input was used up [`HANG_UP_AFTER_INPUT`] before `at`, the first time
    /// this is asked.
    fn hang_up_due(&mut self, at: Timestamp) -> bool {
        let due = !self.hang_up_asked
            && self
                .used_up_at
                .is_some_and(|used_up| at >= used_up + HANG_UP_AFTER_INPUT);
        self.hang_up_asked |= due;
        due
    }
}

#[cfg(test)]
mod tests;
