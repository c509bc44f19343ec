//! Keeping a table within its bound by forgetting its oldest entry.

use std::collections::BTreeMap;

/// The key of the entry of `table` with the smallest `age` (the oldest), if any.
pub(crate) fn oldest_key<K: Ord + Copy, V, A: Ord>(
    table: &BTreeMap<K, V>,
    age: impl Fn(&V) -> A,
) -> Option<K> {
    table.iter().min_by_key(|(_, v)| age(v)).map(|(k, _)| *k)
}

/// Makes room for one more entry in `table`, bounded by `max`, by removing its oldest entry
/// when it is full.
pub(crate) fn evict_oldest_if_full<K: Ord + Copy, V, A: Ord>(
    table: &mut BTreeMap<K, V>,
    max: usize,
    age: impl Fn(&V) -> A,
) {
    if table.len() < max {
        return;
    }
    if let Some(oldest) = oldest_key(table, age) {
        table.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_oldest_only_when_full() {
        let mut table = BTreeMap::from([(1, 30), (2, 10), (3, 20)]);
        evict_oldest_if_full(&mut table, 4, |age| *age);
        assert_eq!(table.len(), 3);
        evict_oldest_if_full(&mut table, 3, |age| *age);
        assert_eq!(table.keys().copied().collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(oldest_key(&table, |age| *age), Some(3));
    }
}
