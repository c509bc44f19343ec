//! The audio of the demo's call: a speech-like signal synthesized in code for each end (no
//! recording ships with the demo), and what one end heard measured against what the other
//! said.

use std::path::Path;

use peerster_audio::SAMPLE_RATE_HZ;
use peerster_audio::signal::{best_lag, energy, synthetic_voice};
use peerster_audio::wav::{WavError, read_wav, write_wav};

use crate::CallFiles;

/// Samples in a second.
const RATE: usize = SAMPLE_RATE_HZ as usize;

/// The caller's synthesized voice: this many seconds. The call hangs up one second after it.
pub(super) const CALLER_SECONDS: usize = 2;

/// The callee's: longer, so that the caller's end hangs up.
const CALLEE_SECONDS: usize = 4;

/// How what was heard compares with what was said.
#[derive(Clone, Copy, Debug)]
pub(super) struct Heard {
    /// Seconds recorded.
    pub(super) seconds: f64,
    /// Loudness of the recording, in dB below full scale.
    pub(super) dbfs: f64,
    /// Normalized correlation of the recording, once aligned, with what was said.
    pub(super) correlation: f64,
    /// How late it arrived, in milliseconds (from the listener's connection on).
    pub(super) lag_ms: f64,
}

/// The files of the two ends under `dir`: the caller's and the callee's, each with its
/// synthesized voice written to its input file.
pub(super) fn prepare(dir: &Path) -> Result<(CallFiles, CallFiles), WavError> {
    let ends = [("caller", CALLER_SECONDS, 1), ("callee", CALLEE_SECONDS, 2)];
    let [caller, callee] = ends.map(|(end, seconds, seed)| {
        let files = CallFiles {
            input: dir.join(format!("{end}-says.wav")),
            output: dir.join(format!("{end}-heard.wav")),
        };
        (files, seconds, seed)
    });
    for (files, seconds, seed) in [&caller, &callee] {
        write_wav(&files.input, &synthetic_voice(seconds * RATE, *seed))?;
    }
    Ok((caller.0, callee.0))
}

/// What the listener recorded in `heard`, against what the speaker said in `said`.
pub(super) fn compare(said: &Path, heard: &Path) -> Result<Heard, WavError> {
    let said = read_wav(said)?;
    let heard = read_wav(heard)?;
    // A quarter second of what was said, looked for up to a second into the recording.
    let reference = &said[..said.len().min(RATE / 4)];
    let (lag, correlation) = best_lag(reference, &heard, RATE);
    let full_scale = f64::from(i16::MAX).powi(2);
    Ok(Heard {
        seconds: heard.len() as f64 / RATE as f64,
        dbfs: 10.0 * (energy(&heard).max(1.0) / full_scale).log10(),
        correlation,
        lag_ms: lag as f64 * 1e3 / RATE as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delayed_copy_matches_and_silence_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let (caller, callee) = prepare(dir.path()).unwrap();
        let said = read_wav(&caller.input).unwrap();
        assert_eq!(said.len(), CALLER_SECONDS * RATE);
        assert_ne!(said, read_wav(&callee.input).unwrap()[..said.len()]);
        // 100 ms of silence, then what was said: found, 100 ms late.
        let mut delayed = vec![0i16; RATE / 10];
        delayed.extend_from_slice(&said);
        write_wav(&callee.output, &delayed).unwrap();
        let heard = compare(&caller.input, &callee.output).unwrap();
        assert!(heard.correlation > 0.99, "{heard:?}");
        assert!((heard.lag_ms - 100.0).abs() < 0.1, "{heard:?}");
        assert!(heard.dbfs > -40.0 && heard.dbfs < 0.0, "{heard:?}");
        // Silence matches nothing.
        write_wav(&callee.output, &vec![0i16; RATE]).unwrap();
        let silent = compare(&caller.input, &callee.output).unwrap();
        assert!(silent.correlation < 0.1, "{silent:?}");
        assert!(silent.dbfs < -80.0, "{silent:?}");
    }
}
