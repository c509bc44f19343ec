//! [`Source`]: what one end of a call says, 20 ms at a time.

use peerster_audio::{PcmFrame, SAMPLES_PER_FRAME, SILENCE};

/// Where the voice of this end of a call comes from.
pub(crate) enum Source {
    /// Samples read from a WAV file, played once from the start.
    Samples {
        /// The whole file, 48 kHz mono.
        samples: Vec<i16>,
        /// The first sample not played yet.
        position: usize,
    },
    /// Silence, for as long as the call lasts.
    Silence,
    /// The default microphone (feature `device`).
    #[cfg(feature = "device")]
    Microphone(super::device::MicrophoneInput),
}

impl Source {
    /// A source that plays `samples` once.
    pub(crate) fn samples(samples: Vec<i16>) -> Source {
        Source::Samples {
            samples,
            position: 0,
        }
    }

    /// The next 20 ms, the last one of a file padded with silence; `None` once a file is used
    /// up (a silent source and a microphone never are).
    pub(crate) fn next_frame(&mut self) -> Option<PcmFrame> {
        match self {
            Source::Samples { samples, position } => {
                let rest = samples.get(*position..).filter(|rest| !rest.is_empty())?;
                let take = rest.len().min(SAMPLES_PER_FRAME);
                let mut frame = SILENCE;
                frame[..take].copy_from_slice(&rest[..take]);
                *position += take;
                Some(frame)
            }
            Source::Silence => Some(SILENCE),
            #[cfg(feature = "device")]
            Source::Microphone(microphone) => Some(microphone.next_frame()),
        }
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Samples { samples, position } => f
                .debug_struct("Samples")
                .field("len", &samples.len())
                .field("position", position)
                .finish(),
            Source::Silence => f.write_str("Silence"),
            #[cfg(feature = "device")]
            Source::Microphone(_) => f.write_str("Microphone"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_plays_once_then_is_used_up() {
        let samples: Vec<i16> = (1..=2_000).map(|i| i as i16).collect();
        let mut source = Source::samples(samples);
        let first = source.next_frame().unwrap();
        assert_eq!(first[0], 1);
        assert_eq!(source.next_frame().unwrap()[959], 1_920);
        let last = source.next_frame().unwrap();
        assert_eq!(last[79], 2_000);
        assert_eq!(last[80], 0);
        assert_eq!(source.next_frame(), None);
        assert_eq!(source.next_frame(), None);
        assert_eq!(Source::samples(Vec::new()).next_frame(), None);
    }

    #[test]
    fn silence_never_ends() {
        let mut source = Source::Silence;
        for _ in 0..1_000 {
            assert_eq!(source.next_frame(), Some(SILENCE));
        }
    }
}
