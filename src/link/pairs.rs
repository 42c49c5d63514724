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
