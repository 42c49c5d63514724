//! Evaluation against ground truth: a run's gap list and person keys compared with a world's
//! truth (`expected_gaps.csv`, `records.csv`). Gaps match when rule, subject file and subject
//! row agree; linkage is scored on pairs of rows. Every error is tallied by the noise tags of
//! the rows involved, so the next improvement is obvious. Reads output files only.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::Serialize;

type RowKey = (String, u32);

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
}

/// The truth of a world: every data row's true person and noise, and the expected gaps.
struct Truth {
    person: BTreeMap<RowKey, String>,
    noise: HashMap<RowKey, Vec<String>>,
    rows_of: HashMap<String, Vec<RowKey>>,
    gaps: BTreeSet<(String, RowKey)>,
}

fn read_rows(path: &Path, columns: &[&str]) -> Result<Vec<Vec<String>>, String> {
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    let index: Vec<usize> = columns
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| h == *c)
                .ok_or_else(|| format!("{}: no column `{c}`", path.display()))
        })
        .collect::<Result<_, _>>()?;
    reader
        .records()
        .enumerate()
        .map(|(n, r)| {
            let r = r.map_err(|e| format!("{} row {}: {e}", path.display(), n + 1))?;
            Ok(index
                .iter()
                .map(|&i| r.get(i).unwrap_or("").to_string())
                .collect())
        })
        .collect()
}

fn row_key(file: &str, row: &str, path: &Path) -> Result<RowKey, String> {
    let number = row
        .parse()
        .map_err(|_| format!("{}: source_row `{row}` is not a number", path.display()))?;
    Ok((file.to_string(), number))
}

fn read_truth(dir: &Path) -> Result<Truth, String> {
    let mut truth = Truth {
        person: BTreeMap::new(),
        noise: HashMap::new(),
        rows_of: HashMap::new(),
        gaps: BTreeSet::new(),
    };
    let records = dir.join("records.csv");
    for r in read_rows(
        &records,
        &["source_file", "source_row", "person_key", "noise"],
    )? {
        let key = row_key(&r[0], &r[1], &records)?;
        truth
            .rows_of
            .entry(r[2].clone())
            .or_default()
            .push(key.clone());
        truth.noise.insert(
            key.clone(),
            r[3].split(';')
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
        );
        truth.person.insert(key, r[2].clone());
    }
    let expected = dir.join("expected_gaps.csv");
    for r in read_rows(&expected, &["rule_id", "source_file", "source_row"])? {
        truth
            .gaps
            .insert((r[0].clone(), row_key(&r[1], &r[2], &expected)?));
    }
    Ok(truth)
}

/// Scores the run in `run_out` against the truth in `truth_dir`.
pub fn evaluate(truth_dir: &Path, run_out: &Path) -> Result<Evaluation, String> {
    let truth = read_truth(truth_dir)?;
    let gaps_path = run_out.join("gaps.csv");
    let found: BTreeSet<(String, RowKey)> =
        read_rows(&gaps_path, &["rule_id", "source_file", "source_row"])?
            .into_iter()
            .map(|r| Ok((r[0].clone(), row_key(&r[1], &r[2], &gaps_path)?)))
            .collect::<Result<_, String>>()?;
    let links_path = run_out.join("links.csv");
    let links: BTreeMap<RowKey, String> =
        read_rows(&links_path, &["source_file", "source_row", "person_key"])?
            .into_iter()
            .filter(|r| !r[2].is_empty())
            .map(|r| Ok((row_key(&r[0], &r[1], &links_path)?, r[2].clone())))
            .collect::<Result<_, String>>()?;
    let mut rows_of: HashMap<String, Vec<RowKey>> = HashMap::new();
    for (row, key) in &links {
        rows_of.entry(key.clone()).or_default().push(row.clone());
    }
    let links = Links {
        key_of: links,
        rows_of,
    };
    let mut evaluation = Evaluation::default();
    score_gaps(&truth, &found, &links, &mut evaluation);
    score_linkage(&truth, &links.key_of, &mut evaluation);
    Ok(evaluation)
}

fn score_gaps(
    truth: &Truth,
    found: &BTreeSet<(String, RowKey)>,
    links: &Links,
    evaluation: &mut Evaluation,
) {
    let rules: BTreeSet<&String> = truth
        .gaps
        .iter()
        .chain(found)
        .map(|(rule, _)| rule)
        .collect();
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for rule in rules {
        let of_rule = |set: &BTreeSet<(String, RowKey)>| -> BTreeSet<RowKey> {
            set.iter()
                .filter(|(r, _)| r == rule)
                .map(|(_, k)| k.clone())
                .collect()
        };
        let (want, got) = (of_rule(&truth.gaps), of_rule(found));
        for row in got.difference(&want) {
            tally(
                evaluation,
                "gap_false_positive",
                &involved_noise(truth, links, row),
            );
        }
        for row in want.difference(&got) {
            tally(
                evaluation,
                "gap_false_negative",
                &involved_noise(truth, links, row),
            );
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

/// The noise of a row and of the other rows of its true person: what may have caused an error.
/// The run's person keys, both ways.
struct Links {
    key_of: BTreeMap<RowKey, String>,
    rows_of: HashMap<String, Vec<RowKey>>,
}

/// The noise of the rows that may have caused an error about `row`: the rows of its true
/// person, and the rows the run linked to it (a relative's ID brings another person's rows).
fn involved_noise(truth: &Truth, links: &Links, row: &RowKey) -> Vec<String> {
    let own = truth
        .person
        .get(row)
        .and_then(|p| truth.rows_of.get(p))
        .into_iter()
        .flatten();
    let linked = links
        .key_of
        .get(row)
        .and_then(|k| links.rows_of.get(k))
        .into_iter()
        .flatten();
    let tags: BTreeSet<String> = own
        .chain(linked)
        .chain([row])
        .flat_map(|r| truth.noise.get(r).cloned().unwrap_or_default())
        .collect();
    tags.into_iter().collect()
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
fn score_linkage(truth: &Truth, links: &BTreeMap<RowKey, String>, evaluation: &mut Evaluation) {
    let mut by_truth: BTreeMap<&str, BTreeMap<&str, Vec<&RowKey>>> = BTreeMap::new();
    let mut by_key: BTreeMap<&str, BTreeMap<&str, Vec<&RowKey>>> = BTreeMap::new();
    for (row, person) in &truth.person {
        if let Some(key) = links.get(row) {
            by_truth
                .entry(person)
                .or_default()
                .entry(key)
                .or_default()
                .push(row);
            by_key
                .entry(key)
                .or_default()
                .entry(person)
                .or_default()
                .push(row);
        }
    }
    let size =
        |parts: &BTreeMap<&str, Vec<&RowKey>>| parts.values().map(|v| v.len() as u64).sum::<u64>();
    let true_pairs: u64 = by_truth.values().map(|p| pairs(size(p))).sum();
    let found_pairs: u64 = by_key.values().map(|p| pairs(size(p))).sum();
    let hits: u64 = by_truth
        .values()
        .flat_map(|p| p.values())
        .map(|rows| pairs(rows.len() as u64))
        .sum();
    evaluation.linkage = Scores::from_counts(hits, found_pairs - hits, true_pairs - hits);
    for (kind, groups) in [("link_missed", &by_truth), ("link_false", &by_key)] {
        for parts in groups.values().filter(|p| p.len() > 1) {
            // The core is the largest part, and among equals the one with the fewest noisy
            // rows: the rows outside it are the ones that went astray.
            let noisy = |rows: &Vec<&RowKey>| {
                rows.iter()
                    .filter(|r| truth.noise.get(**r).is_some_and(|t| !t.is_empty()))
                    .count()
            };
            let core = parts
                .iter()
                .max_by_key(|(key, rows)| {
                    (
                        rows.len(),
                        std::cmp::Reverse(noisy(rows)),
                        std::cmp::Reverse(**key),
                    )
                })
                .map(|(key, _)| *key);
            for row in parts
                .iter()
                .filter(|(key, _)| Some(**key) != core)
                .flat_map(|(_, rows)| rows)
            {
                let tags = truth.noise.get(*row).cloned().unwrap_or_default();
                tally(evaluation, kind, &tags);
            }
        }
    }
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
}
