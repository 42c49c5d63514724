//! What became of a scored pair of rows, and how a row came to its person: the linker's
//! verdicts, read by clustering, explanations, the review list and the outputs.

/// A scored pair and what became of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairOutcome {
    pub a: u32,
    pub b: u32,
    pub weight: f32,
    /// The pair's own match probability.
    pub probability: f32,
    /// The probability after sharing with the other persons that match the loose row.
    pub competing: f32,
    pub decision: Decision,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Linked,
    Review(ReviewReason),
    NotLinked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReviewReason {
    /// Likely, but not likely enough to link.
    BelowAccept,
    /// A veto level holds (the same ID under another name).
    Vetoed,
    /// Another person matches the row as well.
    Ambiguous,
}

/// How a row came to its person.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Joined {
    /// By its valid exclusive ID.
    Anchor,
    /// By a person's decision on a review pair (`recon review import`).
    Decided,
    /// By a link of this probability.
    Probable(f32),
    /// To no other row.
    Alone,
}

/// How each row came to its person, in 4 bytes a row (a province has tens of millions): a
/// link's probability, or a negative code.
#[derive(Clone, Debug, PartialEq)]
pub struct Joins(Vec<f32>);

const ANCHOR: f32 = -1.0;
const DECIDED: f32 = -2.0;
const ALONE: f32 = -3.0;

impl Joins {
    /// `rows` rows, each joined to no other.
    pub fn alone(rows: usize) -> Joins {
        Joins(vec![ALONE; rows])
    }

    pub fn get(&self, row: usize) -> Joined {
        decode(self.0[row])
    }

    pub fn set(&mut self, row: usize, joined: Joined) {
        self.0[row] = match joined {
            Joined::Anchor => ANCHOR,
            Joined::Decided => DECIDED,
            Joined::Alone => ALONE,
            Joined::Probable(p) => {
                debug_assert!(p >= 0.0, "a probability, not a code: {p}");
                p
            }
        };
    }

    pub fn iter(&self) -> impl Iterator<Item = Joined> + '_ {
        self.0.iter().map(|&code| decode(code))
    }
}

fn decode(code: f32) -> Joined {
    if code >= 0.0 {
        Joined::Probable(code)
    } else if code == ANCHOR {
        Joined::Anchor
    } else if code == DECIDED {
        Joined::Decided
    } else {
        Joined::Alone
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A row's join reads back as it was set, whatever its neighbours hold.
        #[test]
        fn joins_read_back_as_set(
            set in prop::collection::vec((0u8..4, 0f32..=1.0), 1..30),
        ) {
            let joined: Vec<Joined> = set
                .iter()
                .map(|&(kind, p)| match kind {
                    0 => Joined::Anchor,
                    1 => Joined::Decided,
                    2 => Joined::Probable(p),
                    _ => Joined::Alone,
                })
                .collect();
            let mut joins = Joins::alone(joined.len());
            for (row, &j) in joined.iter().enumerate() {
                joins.set(row, j);
            }
            prop_assert_eq!(joins.iter().collect::<Vec<_>>(), joined);
        }
    }
}
