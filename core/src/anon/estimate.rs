//! What a member can tell its user about the anonymity of its next message.

/// An estimate, from what this member knows, of how well its next anonymous message hides
/// its sender.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnonymityEstimate {
    /// Members heard from recently, this one included.
    pub live_members: usize,
    /// Members the recipient, or an observer of the fluff, cannot tell apart from the sender:
    /// the live members other than the recipient.
    pub anonymity_set: usize,
    /// The probability that a stem relay passes a packet on.
    pub p_stem: f64,
    /// Expected stem hops, the first included: `1 / (1 - p_stem)`.
    pub expected_stem_hops: f64,
    /// The probability that a single malicious relay on the path, guessing that whoever
    /// handed it the packet is the sender, is right: the Crowds bound
    /// `1 - p_stem (n - 2) / n` for `n` live members and one collaborator (Reiter and Rubin,
    /// 1998, Theorem 5.2), or 1 when there is no one to hide among.
    pub first_spy_precision: f64,
    /// Whether the anonymity set is below `Config::min_anonymity_set`.
    pub low: bool,
}

impl AnonymityEstimate {
    /// The estimate for `live_members` live members (this one included).
    pub(crate) fn new(live_members: usize, p_stem: f64, min_set: usize) -> Self {
        let anonymity_set = live_members.saturating_sub(1);
        let n = live_members as f64;
        let first_spy_precision = if live_members < 3 {
            1.0
        } else {
            1.0 - p_stem * (n - 2.0) / n
        };
        AnonymityEstimate {
            live_members,
            anonymity_set,
            p_stem,
            expected_stem_hops: 1.0 / (1.0 - p_stem),
            first_spy_precision,
            low: anonymity_set < min_set,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_follows_the_crowds_bound() {
        let e = AnonymityEstimate::new(50, 0.75, 5);
        assert_eq!(e.anonymity_set, 49);
        assert!((e.first_spy_precision - (1.0 - 0.75 * 48.0 / 50.0)).abs() < 1e-12);
        assert!((e.expected_stem_hops - 4.0).abs() < 1e-12);
        assert!(!e.low);
        let alone = AnonymityEstimate::new(2, 0.75, 5);
        assert_eq!(alone.first_spy_precision, 1.0);
        assert!(alone.low);
    }
}
