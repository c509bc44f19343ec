//! Uniform random sampling without replacement, from the node's CSPRNG.

use rand_core::Rng;

/// Keeps `k` of `items` (all of them if fewer), drawn uniformly without replacement: a partial
/// Fisher-Yates shuffle, whose first `k` places get a uniform sample.
pub(crate) fn sample<T>(mut items: Vec<T>, k: usize, rng: &mut impl Rng) -> Vec<T> {
    let k = k.min(items.len());
    for i in 0..k {
        let j = i + (rng.next_u64() % (items.len() - i) as u64) as usize;
        items.swap(i, j);
    }
    items.truncate(k);
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn a_sample_is_distinct_items_of_the_input() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        for k in 0..12 {
            let mut picked = sample((0..10).collect::<Vec<u32>>(), k, &mut rng);
            assert_eq!(picked.len(), k.min(10));
            picked.sort();
            picked.dedup();
            assert_eq!(picked.len(), k.min(10));
        }
    }

    #[test]
    fn every_item_is_drawn_about_equally_often() {
        let mut rng = ChaCha20Rng::from_seed([2; 32]);
        let mut counts = [0u32; 5];
        for _ in 0..5000 {
            for i in sample((0..5).collect::<Vec<usize>>(), 2, &mut rng) {
                counts[i] += 1;
            }
        }
        // 2000 expected for each; a uniform draw stays well within ±10 %.
        assert!(
            counts.iter().all(|&c| (1800..=2200).contains(&c)),
            "{counts:?}"
        );
    }
}
