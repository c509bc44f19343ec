//! How late frames arrive: the spread of recent transit times.
//!
//! A frame's *transit* is its arrival time minus its media time (`seq * 20 ms`), on the
//! receiver's clock. Its absolute value means nothing (the two clocks have different
//! epochs); what matters is how it varies. Over a window of recent frames the smallest
//! transit is the *base* (the fastest path seen), and a high percentile of the transits
//! minus the base is how long the buffer must hold frames for that share of them to be in
//! time.

use std::collections::VecDeque;

/// A sliding window of transit times with its minimum and a percentile, recomputed lazily.
#[derive(Debug, Clone)]
pub(crate) struct TransitWindow {
    /// Transit times in microseconds, oldest first.
    samples: VecDeque<i64>,
    capacity: usize,
    percentile: u8,
    /// `(base, spread)` of the current samples, or `None` when samples changed since.
    cached: Option<(i64, i64)>,
}

impl TransitWindow {
    /// An empty window of `capacity` samples reporting the `percentile`th transit (0 to 100).
    pub(crate) fn new(capacity: usize, percentile: u8) -> Self {
        TransitWindow {
            samples: VecDeque::with_capacity(capacity),
            capacity: capacity.max(1),
            percentile: percentile.min(100),
            cached: None,
        }
    }

    /// Records the transit time of one arrival, forgetting the oldest beyond capacity.
    pub(crate) fn record(&mut self, transit_us: i64) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(transit_us);
        self.cached = None;
    }

    /// How many transit times the window holds.
    pub(crate) fn len(&self) -> usize {
        self.samples.len()
    }

    /// Forgets every sample.
    pub(crate) fn clear(&mut self) {
        self.samples.clear();
        self.cached = None;
    }

    /// The smallest transit in the window and the percentile's distance above it, in
    /// microseconds; `None` for an empty window.
    pub(crate) fn base_and_spread(&mut self) -> Option<(i64, i64)> {
        if self.cached.is_none() && !self.samples.is_empty() {
            let mut sorted: Vec<i64> = self.samples.iter().copied().collect();
            sorted.sort_unstable();
            // Nearest-rank percentile: the smallest sample with at least p % at or below it.
            let rank = (sorted.len() * usize::from(self.percentile)).div_ceil(100);
            let high = sorted[rank.clamp(1, sorted.len()) - 1];
            self.cached = Some((sorted[0], high.saturating_sub(sorted[0])));
        }
        self.cached
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_a_percentile_above_the_fastest_transit() {
        let mut w = TransitWindow::new(100, 95);
        assert_eq!(w.base_and_spread(), None);
        for i in 0..100 {
            w.record(1_000_000 + i * 1_000); // 0 to 99 ms above a 1 s base
        }
        assert_eq!(w.base_and_spread(), Some((1_000_000, 94_000)));
        // The oldest (fastest) sample leaves the window: the base moves up.
        w.record(1_050_000);
        assert_eq!(w.base_and_spread().unwrap().0, 1_001_000);
        assert_eq!(w.len(), 100);
    }

    #[test]
    fn one_sample_has_no_spread() {
        let mut w = TransitWindow::new(10, 100);
        w.record(-5);
        assert_eq!(w.base_and_spread(), Some((-5, 0)));
        w.clear();
        assert_eq!(w.base_and_spread(), None);
    }
}
