//! [`Sink`]: where what one end of a call hears goes, 20 ms at a time.

use std::path::PathBuf;

use peerster_audio::{PcmFrame, SAMPLE_RATE_HZ, wav};

use crate::error::CallAudioError;

/// Longest recording kept in memory for an output file: 30 minutes (173 MB). What is heard
/// after that is not recorded.
pub(crate) const MAX_RECORDING_SAMPLES: usize = 30 * 60 * SAMPLE_RATE_HZ as usize;

/// Where the voice this end of a call hears goes.
pub(crate) enum Sink {
    /// Kept in memory, written to a WAV file when the call ends.
    Recording(Recording),
    /// Nowhere.
    Discard,
    /// The default speaker (feature `device`).
    #[cfg(feature = "device")]
    Speaker(super::device::SpeakerOutput),
}

impl Sink {
    /// Takes the next 20 ms of what is heard.
    pub(crate) fn play(&mut self, frame: &PcmFrame) {
        match self {
            Sink::Recording(recording) => recording.push(frame),
            Sink::Discard => {}
            #[cfg(feature = "device")]
            Sink::Speaker(speaker) => speaker.play(frame),
        }
    }

    /// The recording to write, if this sink keeps one.
    pub(crate) fn finish(self) -> Option<Recording> {
        match self {
            Sink::Recording(recording) => Some(recording),
            Sink::Discard => None,
            #[cfg(feature = "device")]
            Sink::Speaker(_) => None,
        }
    }
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::Recording(recording) => recording.fmt(f),
            Sink::Discard => f.write_str("Discard"),
            #[cfg(feature = "device")]
            Sink::Speaker(_) => f.write_str("Speaker"),
        }
    }
}

/// What one end of a call heard, for a WAV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recording {
    /// The file to write it to.
    pub(crate) path: PathBuf,
    /// 48 kHz mono samples, at most [`MAX_RECORDING_SAMPLES`].
    pub(crate) samples: Vec<i16>,
}

impl Recording {
    /// An empty recording for `path`.
    pub(crate) fn new(path: PathBuf) -> Recording {
        Recording {
            path,
            samples: Vec::new(),
        }
    }

    /// Appends `frame`, or what of it fits under [`MAX_RECORDING_SAMPLES`].
    fn push(&mut self, frame: &PcmFrame) {
        let room = MAX_RECORDING_SAMPLES.saturating_sub(self.samples.len());
        self.samples
            .extend_from_slice(&frame[..room.min(frame.len())]);
    }

    /// How long it lasts.
    pub(crate) fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(SAMPLE_RATE_HZ)
    }

    /// Writes it to its file, as 48 kHz mono 16-bit WAV, replacing what is there.
    pub(crate) fn write(&self) -> Result<(), CallAudioError> {
        wav::write_wav(&self.path, &self.samples).map_err(|error| CallAudioError::WriteOutput {
            path: self.path.clone(),
            reason: error.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use peerster_audio::SILENCE;

    use super::*;

    #[test]
    fn a_recording_keeps_every_frame_up_to_its_bound() {
        let mut sink = Sink::Recording(Recording::new("heard.wav".into()));
        let mut frame = SILENCE;
        frame[0] = 7;
        sink.play(&frame);
        sink.play(&SILENCE);
        let recording = sink.finish().unwrap();
        assert_eq!(recording.samples.len(), 1_920);
        assert_eq!(recording.samples[0], 7);
        assert_eq!(recording.seconds(), 0.04);
        assert_eq!(recording.path, PathBuf::from("heard.wav"));

        let mut full = Recording::new("full.wav".into());
        full.samples = vec![0; MAX_RECORDING_SAMPLES - 100];
        full.push(&frame);
        full.push(&frame);
        assert_eq!(full.samples.len(), MAX_RECORDING_SAMPLES);
    }

    #[test]
    fn a_recording_is_written_as_call_wav_or_says_why_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut recording = Recording::new(dir.path().join("heard.wav"));
        recording.samples = vec![1, -2, 3];
        recording.write().unwrap();
        assert_eq!(wav::read_wav(&recording.path).unwrap(), [1, -2, 3]);

        let nowhere = Recording::new(dir.path().join("no/such/dir/heard.wav"));
        let error = nowhere.write().unwrap_err();
        assert!(
            matches!(&error, CallAudioError::WriteOutput { path, .. } if *path == nowhere.path),
            "{error}"
        );
        assert!(error.to_string().starts_with("cannot write "), "{error}");
    }

    #[test]
    fn a_discarding_sink_keeps_nothing() {
        let mut sink = Sink::Discard;
        sink.play(&SILENCE);
        assert_eq!(sink.finish(), None);
    }
}
