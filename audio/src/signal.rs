//! A synthetic voiced signal and the measures used to compare audio before and after a codec.
//!
//! Tests and benchmarks need speech-like input without shipping recordings: a harmonic sum on a
//! gliding pitch, shaped by two formants and a syllable envelope with pauses, plus a little
//! breath noise. It is deterministic for a given seed.

use std::f64::consts::TAU;

use crate::SAMPLE_RATE_HZ;

/// `len` samples of a speech-like voiced signal at 48 kHz, peaking near a third of full scale.
pub fn synthetic_voice(len: usize, seed: u64) -> Vec<i16> {
    let rate = f64::from(SAMPLE_RATE_HZ);
    // Seed-dependent speaker: base pitch 100 to 180 Hz, syllable rate 3 to 5 per second.
    let mut noise = Lcg(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let base_pitch = 100.0 + 80.0 * noise.unit();
    let syllable_hz = 3.0 + 2.0 * noise.unit();
    let (formant1, formant2) = (500.0 + 300.0 * noise.unit(), 1_400.0 + 600.0 * noise.unit());
    let mut phase = 0.0f64;
    (0..len)
        .map(|i| {
            let t = i as f64 / rate;
            // Intonation: a slow glide of +-25 % around the base pitch.
            let pitch = base_pitch * (1.0 + 0.25 * (TAU * 0.7 * t).sin());
            phase = (phase + TAU * pitch / rate) % TAU;
            // Syllables: a raised sine, cut to silence for a pause in every fourth one.
            let syllable = (TAU * syllable_hz * t).sin().max(0.0);
            let pause = if ((t * syllable_hz) as u64) % 4 == 3 {
                0.0
            } else {
                1.0
            };
            let envelope = syllable.powf(0.7) * pause;
            let mut voiced = 0.0;
            let mut k = 1.0;
            while k * pitch < 4_000.0 {
                let f = k * pitch;
                let weight = 1.0 / k
                    + 1.5 * resonance(f, formant1, 120.0)
                    + 0.8 * resonance(f, formant2, 200.0);
                voiced += weight * (k * phase).sin();
                k += 1.0;
            }
            let breath = 0.02 * (noise.unit() - 0.5);
            let sample = 3_000.0 * envelope * voiced + 3_000.0 * breath;
            sample.clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16
        })
        .collect()
}

/// Gain of a formant at `centre` with bandwidth `width` for a harmonic at `f`.
fn resonance(f: f64, centre: f64, width: f64) -> f64 {
    let x = (f - centre) / width;
    1.0 / (1.0 + x * x)
}

/// A small deterministic generator (Knuth's MMIX LCG), enough for breath noise.
struct Lcg(u64);

impl Lcg {
    /// A uniform value in [0, 1).
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Mean square of `x`, in squared sample units (0 for an empty slice).
pub fn energy(x: &[i16]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64
}

/// Normalized correlation of `a` and `b` over their common length: 1 for the same waveform at
/// any gain, 0 for unrelated signals or when either is silent.
pub fn correlation(a: &[i16], b: &[i16]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        ab / (aa * bb).sqrt()
    }
}

/// The lag in `0..=max_lag` at which `delayed[lag..]` best matches `reference`, with that
/// correlation: how far a codec's output trails its input.
pub fn best_lag(reference: &[i16], delayed: &[i16], max_lag: usize) -> (usize, f64) {
    (0..=max_lag.min(delayed.len()))
        .map(|lag| (lag, correlation(reference, &delayed[lag..])))
        .fold(
            (0, f64::MIN),
            |best, cur| if cur.1 > best.1 { cur } else { best },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_voice_is_loud_deterministic_and_has_pauses() {
        let a = synthetic_voice(48_000, 3);
        assert_eq!(a, synthetic_voice(48_000, 3));
        assert_ne!(a, synthetic_voice(48_000, 4));
        let peak = a.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((4_000..32_767).contains(&peak), "peak {peak}");
        // Some 20 ms frames are near-silent (pauses), most are voiced.
        let quiet = a.chunks(960).filter(|f| energy(f) < 1e4).count();
        assert!((3..40).contains(&quiet), "{quiet} quiet frames of 50");
    }

    #[test]
    fn best_lag_finds_a_known_delay() {
        let x = synthetic_voice(9_600, 1);
        let mut delayed = vec![0i16; 123];
        delayed.extend_from_slice(&x);
        let (lag, corr) = best_lag(&x[..8_000], &delayed, 400);
        assert_eq!(lag, 123);
        assert!(corr > 0.999);
        assert_eq!(correlation(&x, &[0; 100]), 0.0);
    }
}
