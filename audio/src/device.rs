//! The default microphone and speaker, through `cpal` (feature `device`; on Linux it needs
//! ALSA's headers, Debian `libasound2-dev`).
//!
//! Both run at 48 kHz and exchange whole 20 ms mono frames with the rest of the program over
//! channels: [`Microphone`] sends every captured frame, [`Speaker`] plays the frames it is
//! sent and silence when none is waiting. A device with several channels is mixed down (input)
//! or fed the same signal on each (output); a device that cannot run at 48 kHz, or only in a
//! sample format other than 16-bit, 32-bit integer or float, is refused.
//!
//! Untested here: the machines this crate is built and tested on have no audio hardware. The
//! module is compiled (`cargo check --features device`) and kept small; what it does with
//! the frames is the rest of the crate's job.

use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, StreamConfig, SupportedStreamConfig};

use crate::{PcmFrame, SAMPLE_RATE_HZ, SAMPLES_PER_FRAME, SILENCE};

/// What can go wrong opening an audio device.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The host has no default device of this kind ("input" or "output").
    #[error("no default {0} device")]
    NoDevice(&'static str),
    /// The device offers no configuration at 48 kHz in a sample format we convert.
    #[error("the default {0} device cannot run at 48 kHz in 16-bit, 32-bit or float samples")]
    NoUsableConfig(&'static str),
    /// The audio backend failed.
    #[error("audio device: {0}")]
    Backend(#[from] cpal::Error),
}

/// The default microphone, capturing while this value lives.
pub struct Microphone {
    _stream: cpal::Stream,
}

impl Microphone {
    /// Opens the default input device and sends each captured 20 ms frame to `frames`. A
    /// frame is dropped when the channel is full: the audio thread never waits.
    pub fn open(frames: SyncSender<PcmFrame>) -> Result<Self, DeviceError> {
        let device = cpal::default_host()
            .default_input_device()
            .ok_or(DeviceError::NoDevice("input"))?;
        let config = pick(device.supported_input_configs()?, "input")?;
        let stream = match config.sample_format() {
            SampleFormat::I16 => capture::<i16>(&device, config.config(), frames)?,
            SampleFormat::I32 => capture::<i32>(&device, config.config(), frames)?,
            _ => capture::<f32>(&device, config.config(), frames)?,
        };
        stream.play()?;
        Ok(Microphone { _stream: stream })
    }
}

/// The default speaker, playing while this value lives.
pub struct Speaker {
    _stream: cpal::Stream,
}

impl Speaker {
    /// Opens the default output device and plays the 20 ms frames received on `frames`,
    /// silence whenever none is waiting.
    pub fn open(frames: Receiver<PcmFrame>) -> Result<Self, DeviceError> {
        let device = cpal::default_host()
            .default_output_device()
            .ok_or(DeviceError::NoDevice("output"))?;
        let config = pick(device.supported_output_configs()?, "output")?;
        let stream = match config.sample_format() {
            SampleFormat::I16 => play::<i16>(&device, config.config(), frames)?,
            SampleFormat::I32 => play::<i32>(&device, config.config(), frames)?,
            _ => play::<f32>(&device, config.config(), frames)?,
        };
        stream.play()?;
        Ok(Speaker { _stream: stream })
    }
}

/// The first configuration at 48 kHz in a format we convert, fewest channels first.
fn pick(
    configs: impl Iterator<Item = cpal::SupportedStreamConfigRange>,
    kind: &'static str,
) -> Result<SupportedStreamConfig, DeviceError> {
    let mut usable: Vec<SupportedStreamConfig> = configs
        .filter(|c| {
            matches!(
                c.sample_format(),
                SampleFormat::I16 | SampleFormat::I32 | SampleFormat::F32
            )
        })
        .filter_map(|c| c.try_with_sample_rate(SAMPLE_RATE_HZ))
        .collect();
    usable.sort_by_key(|c| (c.channels(), c.sample_format() != SampleFormat::I16));
    usable
        .into_iter()
        .next()
        .ok_or(DeviceError::NoUsableConfig(kind))
}

/// An input stream that mixes each block down to mono and cuts it into frames.
fn capture<T>(
    device: &cpal::Device,
    config: StreamConfig,
    frames: SyncSender<PcmFrame>,
) -> Result<cpal::Stream, DeviceError>
where
    T: SizedSample,
    i16: FromSample<T>,
{
    let channels = usize::from(config.channels.max(1));
    let mut frame = SILENCE;
    let mut filled = 0;
    let stream = device.build_input_stream(
        config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            for block in data.chunks(channels) {
                let sum: i32 = block.iter().map(|&s| i32::from(i16::from_sample_(s))).sum();
                frame[filled] = (sum / block.len() as i32) as i16;
                filled += 1;
                if filled == SAMPLES_PER_FRAME {
                    let _ = frames.try_send(frame); // full or closed: drop this frame
                    filled = 0;
                }
            }
        },
        |err| report_stream_error("microphone", &err),
        None,
    )?;
    Ok(stream)
}

/// An output stream that plays received frames on every channel, silence when there is none.
fn play<T>(
    device: &cpal::Device,
    config: StreamConfig,
    frames: Receiver<PcmFrame>,
) -> Result<cpal::Stream, DeviceError>
where
    T: SizedSample + FromSample<i16>,
{
    let channels = usize::from(config.channels.max(1));
    let mut frame = SILENCE;
    let mut played = SAMPLES_PER_FRAME;
    let stream = device.build_output_stream(
        config,
        move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
            for block in data.chunks_mut(channels) {
                if played == SAMPLES_PER_FRAME {
                    frame = match frames.try_recv() {
                        Ok(next) => next,
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => SILENCE,
                    };
                    played = 0;
                }
                block.fill(T::from_sample_(frame[played]));
                played += 1;
            }
        },
        |err| report_stream_error("speaker", &err),
        None,
    )?;
    Ok(stream)
}

/// Reports a stream error; the audio thread has nowhere else to send it.
fn report_stream_error(which: &str, err: &cpal::Error) {
    eprintln!("peerster-audio {which}: {err}");
}
