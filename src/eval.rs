//! Evaluation against ground truth: a run's gap list and person keys compared with a world's
//! truth (`expected_gaps.csv`, `records.csv`). Gaps match when rule, subject file and subject
//! row agree; linkage is scored on pairs of rows. Every error is tallied by the noise tags of
//! the rows involved, so the next improvement is obvious. Reads output files only.
//!
//! A province's truth has tens of millions of rows: each row, person key and noise text is
//! numbered once, and the rows of a person are found by sorting numbers, so that a million
//! registry persons are scored in a few GB.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::report::RunManifest;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Scores {
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Scores {
    fn from_counts(tp: u64, fp: u64, fn_: u64) -> Scores {
        let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let (precision, recall) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Scores {
            true_positives: tp,
            false_positives: fp,
            false_negatives: fn_,
            precision,
            recall,
            f1,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Evaluation {
    pub overall: Scores,
    pub rules: BTreeMap<String, Scores>,
    pub linkage: Scores,
    /// Error kind (`gap_false_positive`, `gap_false_negative`, `link_missed`, `link_false`) ->
    /// noise tag of a row involved (`no_noise` when none) -> rows.
    pub errors: BTreeMap<String, BTreeMap<String, u64>>,
    /// When the world says what each column holds (`columns.csv`): how the run read them.
    pub columns: Option<ColumnScores>,
}

/// The world's columns against the fields the run read them as (`run.json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ColumnScores {
    pub columns: u64,
    /// Read as the field they hold, or (columns that hold none) read as no field.
    pub right: u64,
    /// `table: header held F, read as G` for every other column.
    pub wrong: Vec<String>,
}

/// A row, a person or a noise text no file names.
const NONE: u32 = u32::MAX;

/// Texts numbered in the order first seen, kept for the tie-breaks that compare them.
#[derive(Default)]
struct Numbered {
    numbers: BTreeMap<String, u32>,
}

impl Numbered {
    fn number(&mut self, text: &str) -> u32 {
        if let Some(&n) = self.numbers.get(text) {
            return n;
        }
        let n = self.numbers.len() as u32;
        self.numbers.insert(text.to_string(), n);
        n
    }

    /// The texts in number order.
    fn texts(self) -> Vec<String> {
        let mut texts = vec![String::new(); self.numbers.len()];
        for (text, n) in self.numbers {
            texts[n as usize] = text;
        }
        texts
    }
}

/// Data rows numbered as first seen, by file and row.
#[derive(Default)]
struct Rows {
    files: Numbered,
    /// Per file, per row: the row's number, or `NONE`.
    numbers: Vec<Vec<u32>>,
    count: u32,
}

impl Rows {
    fn number(&mut self, file: &str, row: &str, path: &Path) -> Result<u32, EvalError> {
        let row: usize = row.parse().map_err(|_| EvalError::NotARow {
            path: path.display().to_string(),
            row: row.to_string(),
        })?;
        let file = self.files.number(file) as usize;
        if file == self.numbers.len() {
            self.numbers.push(Vec::new());
        }
        let numbers = &mut self.numbers[file];
        if numbers.len() <= row {
            numbers.resize(row + 1, NONE);
        }
        if numbers[row] == NONE {
            numbers[row] = self.count;
            self.count += 1;
        }
        Ok(numbers[row])
    }
}

/// Per row (by number) a value, `NONE` where nothing is known.
fn set(values: &mut Vec<u32>, row: u32, value: u32) {
    if values.len() <= row as usize {
        values.resize(row as usize + 1, NONE);
    }
    values[row as usize] = value;
}

/// The rows of each value of `of` (a person, a key), as `rows[starts[v]..starts[v + 1]]`.
struct Members {
    starts: Vec<u32>,
    rows: Vec<u32>,
}

impl Members {
    fn of(of: &[u32], values: usize) -> Members {
        let mut starts = vec![0u32; values + 1];
        for &v in of.iter().filter(|v| **v != NONE) {
            starts[v as usize + 1] += 1;
        }
        for v in 1..starts.len() {
            starts[v] += starts[v - 1];
        }
        let mut next = starts.clone();
        let mut rows = vec![0u32; starts[values] as usize];
        for (row, &v) in of.iter().enumerate().filter(|(_, v)| **v != NONE) {
            rows[next[v as usize] as usize] = row as u32;
            next[v as usize] += 1;
        }
        Members { starts, rows }
    }

    fn get(&self, value: u32) -> &[u32] {
        match value {
            NONE => &[],
            v => &self.rows[self.starts[v as usize] as usize..self.starts[v as usize + 1] as usize],
        }
    }
}

/// The truth of a world, and the run's person keys, by row number.
struct Scored {
    /// Per row: its true person, its noise text, the run's person key.
    person: Vec<u32>,
    noise: Vec<u32>,
    key: Vec<u32>,
    persons: Vec<String>,
    keys: Vec<String>,
    /// Per noise text: its tags.
    tags: Vec<Vec<String>>,
    expected: BTreeSet<(String, u32)>,
    found: BTreeSet<(String, u32)>,
}

impl Scored {
    fn tags_of(&self, row: u32) -> &[String] {
        known(&self.noise, row).map_or(&[], |n| &self.tags[n as usize])
    }
}

/// A row's value among `values`, when known.
fn known(values: &[u32], row: u32) -> Option<u32> {
    values.get(row as usize).copied().filter(|v| *v != NONE)
}

fn read_rows(
    path: &Path,
    columns: &[&str],
    mut each: impl FnMut(&[&str]) -> Result<(), EvalError>,
) -> Result<(), EvalError> {
    let unreadable = |e: csv::Error| EvalError::unreadable(path, e);
    let mut reader = csv::Reader::from_path(path).map_err(unreadable)?;
    let headers = reader.headers().map_err(unreadable)?.clone();
    let index: Vec<usize> = columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h == *c)
                .ok_or_else(|| EvalError::NoColumn {
                    path: path.display().to_string(),
                    column: c.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    let mut record = csv::StringRecord::new();
    let mut n = 0;
    loop {
        n += 1;
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let values: Vec<&str> =
                    index.iter().map(|&i| record.get(i).unwrap_or("")).collect();
                each(&values)?;
            }
            Err(e) => return Err(EvalError::unreadable(path, format!("row {n}: {e}"))),
        }
    }
}

fn read(truth_dir: &Path, run_out: &Path) -> Result<Scored, EvalError> {
    let mut rows = Rows::default();
    let (mut persons, mut keys, mut noises) = (
        Numbered::default(),
        Numbered::default(),
        Numbered::default(),
    );
    let (mut person, mut noise, mut key) = (Vec::new(), Vec::new(), Vec::new());
    let records = truth_dir.join("records.csv");
    read_rows(
        &records,
        &["source_file", "source_row", "person_key", "noise"],
        |r| {
            let row = rows.number(r[0], r[1], &records)?;
            set(&mut person, row, persons.number(r[2]));
            set(&mut noise, row, noises.number(r[3]));
            Ok(())
        },
    )?;
    let gaps = |path: &Path, rows: &mut Rows| -> Result<BTreeSet<(String, u32)>, EvalError> {
        let mut gaps = BTreeSet::new();
        read_rows(path, &["rule_id", "source_file", "source_row"], |r| {
            gaps.insert((r[0].to_string(), rows.number(r[1], r[2], path)?));
            Ok(())
        })?;
        Ok(gaps)
    };
    let expected = gaps(&truth_dir.join("expected_gaps.csv"), &mut rows)?;
    let found = gaps(&run_out.join("gaps.csv"), &mut rows)?;
    let links = run_out.join("links.csv");
    read_rows(&links, &["source_file", "source_row", "person_key"], |r| {
        if !r[2].is_empty() {
            let row = rows.number(r[0], r[1], &links)?;
            set(&mut key, row, keys.number(r[2]));
        }
        Ok(())
    })?;
    let tags = noises
        .texts()
        .iter()
        .map(|t| {
            t.split(';')
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect()
        })
        .collect();
    Ok(Scored {
        person,
        noise,
        key,
        persons: persons.texts(),
        keys: keys.texts(),
        tags,
        expected,
        found,
    })
}

/// Why a run could not be scored: a file of the truth or of the run it cannot read.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{path}: no column `{column}`")]
    NoColumn { path: String, column: String },
    #[error("{path}: source_row `{row}` is not a number")]
    NotARow { path: String, row: String },
}

impl EvalError {
    fn unreadable(path: &Path, reason: impl std::fmt::Display) -> EvalError {
        EvalError::Unreadable {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Scores the run in `run_out` against the truth in `truth_dir`.
pub fn evaluate(truth_dir: &Path, run_out: &Path) -> Result<Evaluation, EvalError> {
    let scored = read(truth_dir, run_out)?;
    let mut evaluation = Evaluation::default();
    score_gaps(&scored, &mut evaluation);
    score_linkage(&scored, &mut evaluation);
    evaluation.columns = score_columns(truth_dir, run_out)?;
    Ok(evaluation)
}

/// Each column of `truth/columns.csv` against the field `run.json` says it was read as.
fn score_columns(truth_dir: &Path, run_out: &Path) -> Result<Option<ColumnScores>, EvalError> {
    let truth = truth_dir.join("columns.csv");
    if !truth.exists() {
        return Ok(None);
    }
    let manifest = RunManifest::read(run_out).map_err(|e| EvalError::Unreadable {
        path: e.path,
        reason: e.message,
    })?;
    let mut read_as: BTreeMap<(String, String), String> = BTreeMap::new();
    for input in &manifest.inputs {
        for column in &input.columns {
            let field = column.field.clone().unwrap_or("-".into());
            read_as.insert(
                (input.file.clone(), column.header.trim().to_string()),
                field,
            );
        }
    }
    let mut reader =
        csv::Reader::from_path(&truth).map_err(|e| EvalError::unreadable(&truth, e))?;
    let mut scores = ColumnScores::default();
    for record in reader.records() {
        let record = record.map_err(|e| EvalError::unreadable(&truth, e))?;
        let (table, header, field) = (&record[0], record[1].trim(), &record[2]);
        let found = read_as
            .get(&(table.to_string(), header.to_string()))
            .map_or("(not read)", String::as_str);
        scores.columns += 1;
        match found == field {
            true => scores.right += 1,
            false => scores
                .wrong
                .push(format!("{table}: {header} held {field}, read as {found}")),
        }
    }
    Ok(Some(scores))
}

fn score_gaps(scored: &Scored, evaluation: &mut Evaluation) {
    let of_person = Members::of(&scored.person, scored.persons.len());
    let of_key = Members::of(&scored.key, scored.keys.len());
    let rules: BTreeSet<&String> = scored
        .expected
        .iter()
        .chain(&scored.found)
        .map(|(rule, _)| rule)
        .collect();
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for rule in rules {
        let of_rule = |set: &BTreeSet<(String, u32)>| -> BTreeSet<u32> {
            set.iter()
                .filter(|(r, _)| r == rule)
                .map(|(_, row)| *row)
                .collect()
        };
        let (want, got) = (of_rule(&scored.expected), of_rule(&scored.found));
        let involved = |row: u32| involved_noise(scored, (&of_person, &of_key), row);
        for &row in got.difference(&want) {
            tally(evaluation, "gap_false_positive", &involved(row));
        }
        for &row in want.difference(&got) {
            tally(evaluation, "gap_false_negative", &involved(row));
        }
        let hits = want.intersection(&got).count() as u64;
        let scores = Scores::from_counts(hits, got.len() as u64 - hits, want.len() as u64 - hits);
        (tp, fp, fn_) = (
            tp + scores.true_positives,
            fp + scores.false_positives,
            fn_ + scores.false_negatives,
        );
        evaluation.rules.insert(rule.clone(), scores);
    }
    evaluation.overall = Scores::from_counts(tp, fp, fn_);
}

/// The noise of the rows that may have caused an error about `row`: the rows of its true
/// person, and the rows the run linked to it (a relative's ID brings another person's rows).
fn involved_noise(
    scored: &Scored,
    (of_person, of_key): (&Members, &Members),
    row: u32,
) -> Vec<String> {
    let own = of_person.get(known(&scored.person, row).unwrap_or(NONE));
    let linked = of_key.get(known(&scored.key, row).unwrap_or(NONE));
    let tags: BTreeSet<&String> = own
        .iter()
        .chain(linked)
        .chain([&row])
        .flat_map(|&r| scored.tags_of(r))
        .collect();
    tags.into_iter().cloned().collect()
}

fn tally(evaluation: &mut Evaluation, kind: &str, tags: &[String]) {
    let kinds = evaluation.errors.entry(kind.to_string()).or_default();
    if tags.is_empty() {
        *kinds.entry("no_noise".into()).or_default() += 1;
    }
    for tag in tags {
        *kinds.entry(tag.clone()).or_default() += 1;
    }
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Pairwise precision and recall of the run's person keys over the rows both sides know.
fn score_linkage(scored: &Scored, evaluation: &mut Evaluation) {
    // (true person, run key, row) of every row both know.
    let mut known: Vec<(u32, u32, u32)> = (0..scored.person.len() as u32)
        .filter_map(|row| Some((known(&scored.person, row)?, known(&scored.key, row)?, row)))
        .collect();
    let noisy = |rows: &[(u32, u32, u32)]| {
        rows.iter()
            .filter(|(_, _, row)| !scored.tags_of(*row).is_empty())
            .count()
    };
    let (mut true_pairs, mut found_pairs, mut hits) = (0, 0, 0);
    // By true person, each split into the run's keys, then by key split into true persons.
    for (kind, names) in [
        ("link_missed", &scored.keys),
        ("link_false", &scored.persons),
    ] {
        known.sort_unstable();
        for group in known.chunk_by(|a, b| a.0 == b.0) {
            let parts: Vec<&[(u32, u32, u32)]> = group.chunk_by(|a, b| a.1 == b.1).collect();
            match kind {
                "link_missed" => {
                    true_pairs += pairs(group.len() as u64);
                    hits += parts.iter().map(|p| pairs(p.len() as u64)).sum::<u64>();
                }
                _ => found_pairs += pairs(group.len() as u64),
            }
            if parts.len() < 2 {
                continue;
            }
            // The core is the largest part, and among equals the one with the fewest noisy
            // rows: the rows outside it are the ones that went astray.
            let core = parts
                .iter()
                .max_by_key(|p| {
                    (
                        p.len(),
                        std::cmp::Reverse(noisy(p)),
                        std::cmp::Reverse(&names[p[0].1 as usize]),
                    )
                })
                .map(|p| p[0].1);
            for &(_, _, row) in parts
                .iter()
                .filter(|p| Some(p[0].1) != core)
                .copied()
                .flatten()
            {
                tally(evaluation, kind, scored.tags_of(row));
            }
        }
        // The next pass groups by key: the two numbers swap places.
        for entry in &mut known {
            *entry = (entry.1, entry.0, entry.2);
        }
    }
    evaluation.linkage = Scores::from_counts(hits, found_pairs - hits, true_pairs - hits);
}

/// The figures as a table for the terminal.
pub fn table(evaluation: &Evaluation) -> String {
    let line = |name: &str, s: &Scores| {
        format!(
            "{name:<10} {:>6} {:>6} {:>6}   {:.4}  {:.4}  {:.4}\n",
            s.true_positives, s.false_positives, s.false_negatives, s.precision, s.recall, s.f1
        )
    };
    let mut text = format!(
        "{:<10} {:>6} {:>6} {:>6}   {:<7} {:<7} {:<7}\n",
        "gaps", "TP", "FP", "FN", "P", "R", "F1"
    );
    for (rule, scores) in &evaluation.rules {
        text += &line(rule, scores);
    }
    text += &line("overall", &evaluation.overall);
    text += &format!(
        "\n{:<10} {:>6} {:>6} {:>6}   {:<7} {:<7} {:<7}\n",
        "pairs", "TP", "FP", "FN", "P", "R", "F1"
    );
    text += &line("linkage", &evaluation.linkage);
    if let Some(columns) = &evaluation.columns {
        text += &format!(
            "\ncolumns    {} of {} read as the field they hold (or as none)\n",
            columns.right, columns.columns
        );
        for wrong in &columns.wrong {
            text += &format!("  {wrong}\n");
        }
    }
    if !evaluation.errors.is_empty() {
        text += "\nErrors by the noise of the rows involved\n";
        for (kind, tags) in &evaluation.errors {
            let list: Vec<String> = tags.iter().map(|(t, n)| format!("{t} {n}")).collect();
            text += &format!("  {kind:<20} {}\n", list.join(", "));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_pairs() {
        let s = Scores::from_counts(8, 2, 0);
        assert_eq!((s.precision, s.recall), (0.8, 1.0));
        assert!((s.f1 - 0.888_888).abs() < 1e-5);
        assert_eq!(Scores::from_counts(0, 0, 0).f1, 1.0);
        assert_eq!((pairs(0), pairs(1), pairs(4)), (0, 0, 6));
    }

    #[test]
    fn rows_are_numbered_once_by_file_and_row() {
        let mut rows = Rows::default();
        let path = Path::new("records.csv");
        let first = rows.number("a.csv", "7", path).unwrap();
        let other = rows.number("b.csv", "7", path).unwrap();
        assert_eq!((first, other), (0, 1));
        assert_eq!(rows.number("a.csv", "7", path).unwrap(), 0);
        let refused = rows.number("a.csv", "x", path).unwrap_err().to_string();
        assert_eq!(refused, "records.csv: source_row `x` is not a number");
    }

    proptest::proptest! {
        /// Each value's members are exactly the rows with that value, in row order.
        #[test]
        fn members_are_the_rows_of_each_value(
            of in proptest::collection::vec(proptest::option::of(0u32..6), 0..60)
        ) {
            let of: Vec<u32> = of.into_iter().map(|v| v.unwrap_or(NONE)).collect();
            let members = Members::of(&of, 6);
            for value in 0..6u32 {
                let rows: Vec<u32> = (0..of.len() as u32).filter(|&r| of[r as usize] == value).collect();
                proptest::prop_assert_eq!(members.get(value), &rows[..]);
            }
            proptest::prop_assert!(members.get(NONE).is_empty());
        }
    }
}
