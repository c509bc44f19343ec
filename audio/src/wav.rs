//! Call audio in WAV files: 48 kHz, mono, 16-bit integer PCM, and nothing else.
//!
//! Nothing is resampled or mixed down here: a file in any other format is a
//! [`WavError::WrongFormat`] naming what it is. Convert it first, for instance with
//! `sox in.wav -r 48000 -c 1 -b 16 out.wav`.

use std::io::{Read, Seek, Write};
use std::path::Path;

use hound::{SampleFormat, WavReader, WavSpec, WavWriter};

use crate::SAMPLE_RATE_HZ;

/// The one WAV format call audio uses.
pub const CALL_WAV_SPEC: WavSpec = WavSpec {
    channels: 1,
    sample_rate: SAMPLE_RATE_HZ,
    bits_per_sample: 16,
    sample_format: SampleFormat::Int,
};

/// What can go wrong reading or writing a WAV file.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The file could not be opened, read or written, or is not a WAV file.
    #[error("WAV file: {0}")]
    Hound(#[from] hound::Error),
    /// The file is WAV but not 48 kHz mono 16-bit integer PCM.
    #[error(
        "WAV file is {sample_rate} Hz, {channels} channel(s), {bits_per_sample}-bit {format}; \
         call audio is 48000 Hz mono 16-bit integer (try: sox in.wav -r 48000 -c 1 -b 16 out.wav)"
    )]
    WrongFormat {
        /// Its sample rate in hertz.
        sample_rate: u32,
        /// Its channel count.
        channels: u16,
        /// Its bits per sample.
        bits_per_sample: u16,
        /// `"integer"` or `"float"`.
        format: &'static str,
    },
}

/// Reads a 48 kHz mono 16-bit WAV file.
pub fn read_wav(path: impl AsRef<Path>) -> Result<Vec<i16>, WavError> {
    read_samples(WavReader::open(path)?)
}

/// Reads 48 kHz mono 16-bit WAV data from `reader`.
pub fn read_wav_from(reader: impl Read) -> Result<Vec<i16>, WavError> {
    read_samples(WavReader::new(reader)?)
}

/// Checks the format, then reads every sample.
fn read_samples<R: Read>(reader: WavReader<R>) -> Result<Vec<i16>, WavError> {
    let spec = reader.spec();
    if spec != CALL_WAV_SPEC {
        return Err(WavError::WrongFormat {
            sample_rate: spec.sample_rate,
            channels: spec.channels,
            bits_per_sample: spec.bits_per_sample,
            format: match spec.sample_format {
                SampleFormat::Int => "integer",
                SampleFormat::Float => "float",
            },
        });
    }
    Ok(reader.into_samples::<i16>().collect::<Result<_, _>>()?)
}

/// Writes `samples` as a 48 kHz mono 16-bit WAV file, replacing any file at `path`.
pub fn write_wav(path: impl AsRef<Path>, samples: &[i16]) -> Result<(), WavError> {
    write_samples(WavWriter::create(path, CALL_WAV_SPEC)?, samples)
}

/// Writes `samples` as 48 kHz mono 16-bit WAV data to `writer`.
pub fn write_wav_to(writer: impl Write + Seek, samples: &[i16]) -> Result<(), WavError> {
    write_samples(WavWriter::new(writer, CALL_WAV_SPEC)?, samples)
}

/// Writes every sample and the final header.
fn write_samples<W: Write + Seek>(
    mut writer: WavWriter<W>,
    samples: &[i16],
) -> Result<(), WavError> {
    for &s in samples {
        writer.write_sample(s)?;
    }
    writer.finalize()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::signal::synthetic_voice;

    #[test]
    fn a_file_round_trips_sample_for_sample() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("voice.wav");
        let voice = synthetic_voice(12_345, 1);
        write_wav(&path, &voice).unwrap();
        assert_eq!(read_wav(&path).unwrap(), voice);
        // 44-byte header plus two bytes a sample.
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 44 + 2 * 12_345);
    }

    #[test]
    fn other_formats_are_refused_with_what_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                WavSpec {
                    sample_rate: 44_100,
                    ..CALL_WAV_SPEC
                },
                "44100 Hz, 1 channel(s), 16-bit integer",
            ),
            (
                WavSpec {
                    channels: 2,
                    ..CALL_WAV_SPEC
                },
                "48000 Hz, 2 channel(s), 16-bit integer",
            ),
            (
                WavSpec {
                    bits_per_sample: 32,
                    sample_format: SampleFormat::Float,
                    ..CALL_WAV_SPEC
                },
                "48000 Hz, 1 channel(s), 32-bit float",
            ),
        ];
        for (i, (spec, what)) in cases.into_iter().enumerate() {
            let path = dir.path().join(format!("other{i}.wav"));
            let mut w = WavWriter::create(&path, spec).unwrap();
            for _ in 0..100 {
                match spec.sample_format {
                    SampleFormat::Int => w.write_sample(7i16).unwrap(),
                    SampleFormat::Float => w.write_sample(0.5f32).unwrap(),
                }
            }
            w.finalize().unwrap();
            let err = read_wav(&path).unwrap_err();
            assert!(matches!(err, WavError::WrongFormat { .. }), "{err}");
            assert!(err.to_string().contains(what), "{err}");
            assert!(err.to_string().contains("sox"), "{err}");
        }
    }

    #[test]
    fn missing_and_garbage_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_wav(dir.path().join("absent.wav")),
            Err(WavError::Hound(_))
        ));
        assert!(matches!(
            read_wav_from(&b"RIFF\x10\0\0\0WAVEjunk"[..]),
            Err(WavError::Hound(_))
        ));
        // In memory, the same round trip as on disk.
        let mut buf = Cursor::new(Vec::new());
        write_wav_to(&mut buf, &[1, -2, 3]).unwrap();
        assert_eq!(read_wav_from(&buf.get_ref()[..]).unwrap(), vec![1, -2, 3]);
    }
}
