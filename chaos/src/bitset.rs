//! A fixed-size set of operation indices: which operations of a key the
//! search has linearized so far. Ordered so it can key the search's memo.

/// A set of indices below the size given to [`Bitset::new`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bitset {
    words: Vec<u64>,
}

impl Bitset {
    /// An empty set that can hold indices `0..size`.
    pub fn new(size: usize) -> Self {
        Bitset {
            words: vec![0; size.div_ceil(64)],
        }
    }

    pub fn contains(&self, index: usize) -> bool {
        self.words
            .get(index / 64)
            .is_some_and(|word| word & bit(index) != 0)
    }

    pub fn insert(&mut self, index: usize) {
        if let Some(word) = self.words.get_mut(index / 64) {
            *word |= bit(index);
        }
    }

    pub fn remove(&mut self, index: usize) {
        if let Some(word) = self.words.get_mut(index / 64) {
            *word &= !bit(index);
        }
    }
}

fn bit(index: usize) -> u64 {
    1 << (index % 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_and_removes_across_words() {
        let mut set = Bitset::new(130);
        for index in [0, 63, 64, 129] {
            assert!(!set.contains(index));
            set.insert(index);
            assert!(set.contains(index));
        }
        set.remove(64);
        assert!(!set.contains(64));
        assert!(set.contains(63) && set.contains(129));
    }

    #[test]
    fn equal_sets_compare_equal() {
        let mut a = Bitset::new(70);
        let mut b = Bitset::new(70);
        a.insert(3);
        a.insert(65);
        b.insert(65);
        assert_ne!(a, b);
        b.insert(3);
        assert_eq!(a, b);
    }
}
