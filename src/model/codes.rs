//! Numbers kept in as few bytes as the largest needs: a province has tens of millions of rows,
//! and most of their fields a few distinct values.

use std::hash::Hash;

use super::FastMap;

/// Per row, the number of its value among a column's distinct values, in the fewest bytes
/// they need: a county or sex column has a few hundred values at most, and a province tens of
/// millions of rows. Starts in bytes and widens when a number needs it.
#[derive(Clone, Debug)]
pub enum Codes {
    Bytes(Vec<u8>),
    Halves(Vec<u16>),
    Whole(Vec<u32>),
}

impl Default for Codes {
    fn default() -> Codes {
        Codes::Bytes(Vec::new())
    }
}

impl Codes {
    pub fn with_capacity(rows: usize) -> Codes {
        Codes::Bytes(Vec::with_capacity(rows))
    }

    /// Room for `rows` more codes, in the present width.
    pub fn reserve(&mut self, rows: usize) {
        match self {
            Codes::Bytes(codes) => codes.reserve(rows),
            Codes::Halves(codes) => codes.reserve(rows),
            Codes::Whole(codes) => codes.reserve(rows),
        }
    }

    pub fn get(&self, row: usize) -> u32 {
        match self {
            Codes::Bytes(codes) => u32::from(codes[row]),
            Codes::Halves(codes) => u32::from(codes[row]),
            Codes::Whole(codes) => codes[row],
        }
    }

    /// Sets row `row`'s code, widening the codes when it needs more bytes.
    pub fn set(&mut self, row: usize, code: u32) {
        match self {
            Codes::Bytes(codes) if code <= u32::from(u8::MAX) => codes[row] = code as u8,
            Codes::Halves(codes) if code <= u32::from(u16::MAX) => codes[row] = code as u16,
            Codes::Whole(codes) => codes[row] = code,
            _ => {
                self.widen();
                self.set(row, code);
            }
        }
    }

    pub fn push(&mut self, code: u32) {
        match self {
            Codes::Bytes(codes) if code <= u32::from(u8::MAX) => codes.push(code as u8),
            Codes::Halves(codes) if code <= u32::from(u16::MAX) => codes.push(code as u16),
            Codes::Whole(codes) => codes.push(code),
            _ => {
                self.widen();
                self.push(code);
            }
        }
    }

    /// The same codes a size wider, room kept for as many rows as were reserved.
    fn widen(&mut self) {
        let rows = self.capacity();
        *self = match self {
            Codes::Bytes(codes) => {
                let mut wider = Vec::with_capacity(rows);
                wider.extend(codes.iter().map(|&c| u16::from(c)));
                Codes::Halves(wider)
            }
            Codes::Halves(codes) => {
                let mut wider = Vec::with_capacity(rows);
                wider.extend(codes.iter().map(|&c| u32::from(c)));
                Codes::Whole(wider)
            }
            Codes::Whole(codes) => Codes::Whole(std::mem::take(codes)),
        };
    }

    fn capacity(&self) -> usize {
        match self {
            Codes::Bytes(codes) => codes.capacity(),
            Codes::Halves(codes) => codes.capacity(),
            Codes::Whole(codes) => codes.capacity(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Codes::Bytes(codes) => codes.len(),
            Codes::Halves(codes) => codes.len(),
            Codes::Whole(codes) => codes.len(),
        }
    }

    /// Bytes a code takes.
    pub fn width(&self) -> usize {
        match self {
            Codes::Bytes(_) => 1,
            Codes::Halves(_) => 2,
            Codes::Whole(_) => 4,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn last(&self) -> Option<u32> {
        self.len().checked_sub(1).map(|row| self.get(row))
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len()).map(|row| self.get(row))
    }
}

/// Values kept by their number among the distinct values, in `Codes`: a field of a handful
/// of values takes a byte a row.
#[derive(Clone, Debug)]
pub struct Coded<T> {
    codes: Codes,
    distinct: Vec<T>,
    /// Each value's code, while values are added.
    index: FastMap<T, u32>,
}

impl<T> Default for Coded<T> {
    fn default() -> Coded<T> {
        Coded {
            codes: Codes::default(),
            distinct: Vec::new(),
            index: FastMap::default(),
        }
    }
}

impl<T: Copy + Eq + Hash> Coded<T> {
    pub fn with_capacity(rows: usize) -> Coded<T> {
        Coded {
            codes: Codes::with_capacity(rows),
            ..Coded::default()
        }
    }

    /// Room for `rows` more values.
    pub fn reserve(&mut self, rows: usize) {
        self.codes.reserve(rows);
    }

    fn code(&mut self, value: T) -> u32 {
        let Coded {
            distinct, index, ..
        } = self;
        *index.entry(value).or_insert_with(|| {
            distinct.push(value);
            (distinct.len() - 1) as u32
        })
    }

    pub fn push(&mut self, value: T) {
        let code = self.code(value);
        self.codes.push(code);
    }

    pub fn set(&mut self, row: usize, value: T) {
        let code = self.code(value);
        self.codes.set(row, code);
    }

    pub fn get(&self, row: usize) -> T {
        self.distinct[self.codes.get(row) as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.codes.iter().map(|code| self.distinct[code as usize])
    }

    /// How many distinct values.
    pub fn distinct(&self) -> usize {
        self.distinct.len()
    }

    /// Bytes the rows' codes take.
    pub fn bytes(&self) -> usize {
        self.codes.len() * self.codes.width()
    }

    /// Lets go of what adding values needs.
    pub fn seal(&mut self) {
        self.index = FastMap::default();
        self.distinct.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Codes read back as pushed, in the narrowest width holding the largest, across the
        /// widenings on the way.
        #[test]
        fn codes_read_back_as_pushed(
            pushed in prop::collection::vec(prop_oneof![0u32..256, 0u32..65_536, any::<u32>()], 0..200),
            reserved in 0usize..300,
        ) {
            let mut codes = Codes::with_capacity(reserved);
            pushed.iter().for_each(|&code| codes.push(code));
            prop_assert_eq!(codes.len(), pushed.len());
            prop_assert_eq!(codes.iter().collect::<Vec<_>>(), pushed.clone());
            prop_assert_eq!(codes.last(), pushed.last().copied());
            let width = match &codes {
                Codes::Bytes(_) => 0,
                Codes::Halves(_) => 1,
                Codes::Whole(_) => 2,
            };
            let needed = match pushed.iter().max() {
                Some(&most) if most > u32::from(u16::MAX) => 2,
                Some(&most) if most > u32::from(u8::MAX) => 1,
                _ => 0,
            };
            prop_assert_eq!(width, needed);
        }

        /// Codes set in place read back as set, widening as a pushed code would.
        #[test]
        fn codes_set_read_back(
            pushed in prop::collection::vec(0u32..256, 1..50),
            sets in prop::collection::vec((any::<prop::sample::Index>(), prop_oneof![0u32..256, any::<u32>()]), 0..20),
        ) {
            let mut codes = Codes::default();
            let mut expected = pushed.clone();
            pushed.iter().for_each(|&code| codes.push(code));
            for (at, code) in sets {
                let row = at.index(expected.len());
                codes.set(row, code);
                expected[row] = code;
            }
            prop_assert_eq!(codes.iter().collect::<Vec<_>>(), expected);
        }
    }
}
