//! Small draws from the simulation's RNG: an unbiased integer below a bound, a uniform float,
//! a biased coin and a shuffle. `rand_core` has only raw words; these are the shapes the
//! engine and the scenarios need.

use rand_core::Rng;

/// A uniform integer in `0..bound` (Lemire's multiply-and-reject: no modulo bias).
/// Returns 0 when `bound` is 0.
pub fn below<R: Rng + ?Sized>(rng: &mut R, bound: u64) -> u64 {
    if bound == 0 {
        return 0;
    }
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let product = u128::from(rng.next_u64()) * u128::from(bound);
        // The low half decides whether this draw is in the biased tail.
        if (product as u64) >= threshold {
            return (product >> 64) as u64;
        }
    }
}

/// `true` with probability `p` (clamped to `0..=1`); draws nothing when `p` is 0 or 1.
pub fn chance<R: Rng + ?Sized>(rng: &mut R, p: f64) -> bool {
    if p <= 0.0 {
        return false;
    }
    if p >= 1.0 {
        return true;
    }
    unit(rng) < p
}

/// A uniform float in `[0, 1)`, from 53 random bits.
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Shuffles `items` in place (Fisher–Yates).
pub fn shuffle<R: Rng + ?Sized, T>(rng: &mut R, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        // `below(i + 1)` is at most `i`, an index of `items`.
        let j = below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    use super::*;

    #[test]
    fn below_stays_below_and_hits_every_value() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut seen = [0u32; 7];
        for _ in 0..7_000 {
            seen[below(&mut rng, 7) as usize] += 1;
        }
        // Each value expects 1000 hits; 4.5 standard deviations is about ±135.
        assert!(seen.iter().all(|&c| (865..=1135).contains(&c)), "{seen:?}");
        assert_eq!(below(&mut rng, 0), 0);
        assert_eq!(below(&mut rng, 1), 0);
    }

    #[test]
    fn chance_is_exact_at_the_ends() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        assert!((0..1000).all(|_| !chance(&mut rng, 0.0) && chance(&mut rng, 1.0)));
    }

    #[test]
    fn shuffle_permutes() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut items: Vec<u32> = (0..100).collect();
        shuffle(&mut rng, &mut items);
        assert_ne!(items, (0..100).collect::<Vec<_>>());
        items.sort_unstable();
        assert_eq!(items, (0..100).collect::<Vec<_>>());
    }
}
