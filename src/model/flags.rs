//! A flag a row, kept as one bit: a province has tens of millions of rows, and a `Vec<bool>`
//! spends a byte on each.

use rayon::prelude::*;

/// Flags of rows `0..len`, read as `flags[row]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    words: Vec<u64>,
    len: usize,
}

impl Flags {
    pub fn with_capacity(rows: usize) -> Flags {
        Flags {
            words: Vec::with_capacity(rows.div_ceil(64)),
            len: 0,
        }
    }

    /// `rows` flags, none set.
    pub fn none(rows: usize) -> Flags {
        Flags {
            words: vec![0; rows.div_ceil(64)],
            len: rows,
        }
    }

    /// Row `r`'s flag is `flag(r)`, rows read in parallel, 64 at a time.
    pub fn from_fn(rows: usize, flag: impl Fn(usize) -> bool + Sync) -> Flags {
        let words = (0..rows.div_ceil(64))
            .into_par_iter()
            .map(|w| {
                let first = w * 64;
                (first..rows.min(first + 64))
                    .filter(|&r| flag(r))
                    .fold(0, |word, r| word | 1 << (r - first))
            })
            .collect();
        Flags { words, len: rows }
    }

    pub fn push(&mut self, flag: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        self.len += 1;
        self.set(self.len - 1, flag);
    }

    pub fn set(&mut self, row: usize, flag: bool) {
        assert!(row < self.len, "row {row} of {} flags", self.len);
        let bit = 1 << (row % 64);
        if flag {
            self.words[row / 64] |= bit;
        } else {
            self.words[row / 64] &= !bit;
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many rows are flagged.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).map(|row| self[row])
    }
}

impl std::ops::Index<usize> for Flags {
    type Output = bool;

    fn index(&self, row: usize) -> &bool {
        assert!(row < self.len, "row {row} of {} flags", self.len);
        match self.words[row / 64] >> (row % 64) & 1 {
            1 => &true,
            _ => &false,
        }
    }
}

impl FromIterator<bool> for Flags {
    fn from_iter<I: IntoIterator<Item = bool>>(flags: I) -> Flags {
        let mut collected = Flags::default();
        flags.into_iter().for_each(|flag| collected.push(flag));
        collected
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Flags read back as pushed, as made from a function and as set, across the words
        /// they are packed in; the count is the flags set.
        #[test]
        fn flags_read_back(
            pushed in prop::collection::vec(any::<bool>(), 0..300),
            changes in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 0..20),
        ) {
            let flags: Flags = pushed.iter().copied().collect();
            prop_assert_eq!(flags.len(), pushed.len());
            prop_assert_eq!(flags.iter().collect::<Vec<_>>(), pushed.clone());
            prop_assert_eq!(&Flags::from_fn(pushed.len(), |r| pushed[r]), &flags);
            prop_assert_eq!(flags.count(), pushed.iter().filter(|f| **f).count());
            let (mut set, mut expected) = (Flags::none(pushed.len()), vec![false; pushed.len()]);
            if !pushed.is_empty() {
                for (at, flag) in changes {
                    let row = at.index(pushed.len());
                    set.set(row, flag);
                    expected[row] = flag;
                }
            }
            prop_assert_eq!(set.iter().collect::<Vec<_>>(), expected);
        }
    }
}
