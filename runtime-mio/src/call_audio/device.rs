//! The default microphone and speaker as the [`Source`] and [`Sink`] of a call (feature
//! `device`), through [`peerster_audio::device`].
//!
//! Untested: the machines this crate is built and tested on have no audio hardware, so this
//! module is only compiled (`cargo check -p peerster-mio --features device`). It is kept to
//! the plumbing between the devices' channels and the voice tick.
//!
//! The devices run on their own clocks, slightly faster or slower than the voice tick: the
//! microphone's frames wait in a queue trimmed to [`MAX_MIC_QUEUE`] frames (the oldest are
//! dropped, so that its delay cannot grow), and a tick with no frame waiting sends silence;
//! the speaker is handed one frame per tick and drops what does not fit its short queue.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, SyncSender};

use peerster_audio::device::{Microphone, Speaker};
use peerster_audio::{PcmFrame, SILENCE};

use super::sink::Sink;
use super::source::Source;
use crate::error::CallAudioError;

/// Microphone frames kept waiting at most (60 ms).
pub(crate) const MAX_MIC_QUEUE: usize = 3;

/// Frames the channels between the devices and the loop hold.
const CHANNEL_FRAMES: usize = 8;

/// Opens the default microphone and speaker for one call.
pub(crate) fn open() -> Result<(Source, Sink), CallAudioError> {
    let device_error = |error: peerster_audio::device::DeviceError| CallAudioError::Device {
        reason: error.to_string(),
    };
    let (mic_tx, mic_rx) = mpsc::sync_channel(CHANNEL_FRAMES);
    let microphone = Microphone::open(mic_tx).map_err(device_error)?;
    let (speaker_tx, speaker_rx) = mpsc::sync_channel(CHANNEL_FRAMES);
    let speaker = Speaker::open(speaker_rx).map_err(device_error)?;
    let input = MicrophoneInput {
        frames: mic_rx,
        queue: VecDeque::new(),
        _microphone: microphone,
    };
    let output = SpeakerOutput {
        frames: speaker_tx,
        _speaker: speaker,
    };
    Ok((Source::Microphone(input), Sink::Speaker(output)))
}

/// The microphone, capturing while this value lives.
pub(crate) struct MicrophoneInput {
    frames: Receiver<PcmFrame>,
    queue: VecDeque<PcmFrame>,
    _microphone: Microphone,
}

impl MicrophoneInput {
    /// The oldest captured frame still waiting, or silence if none is.
    pub(crate) fn next_frame(&mut self) -> PcmFrame {
        self.queue.extend(self.frames.try_iter());
        while self.queue.len() > MAX_MIC_QUEUE {
            self.queue.pop_front();
        }
        self.queue.pop_front().unwrap_or(SILENCE)
    }
}

/// The speaker, playing while this value lives.
pub(crate) struct SpeakerOutput {
    frames: SyncSender<PcmFrame>,
    _speaker: Speaker,
}

impl SpeakerOutput {
    /// Queues `frame` for the speaker, or drops it if the speaker is behind or gone.
    pub(crate) fn play(&mut self, frame: &PcmFrame) {
        let _ = self.frames.try_send(*frame);
    }
}
