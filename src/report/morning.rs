//! The morning report's numbers (`report.json`): coverage and findings per rule and county,
//! data quality per source and county, the ledger's trend, and the settings of the ranking.
//! Aggregates only: no ID, no name. `html.rs` draws the page from them, for the province or
//! one county, so `recon report OUT --county CODE` needs nothing but this file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::RunResult;
use crate::config::options::ReportOptions;
use crate::config::RuleKind;
use crate::ledger::{NightCounts, Standing};
use crate::model::id_number::IdNumber;
use crate::model::region::CountyRef;
use crate::model::FastMap;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MorningData {
    pub as_of: String,
    pub recon_version: String,
    /// County code -> name, for every county seen in the inputs.
    pub counties: BTreeMap<String, String>,
    pub rules: Vec<RuleInfo>,
    /// Per rule and county: subjects (coverage) or active payment records (audit), and gaps.
    pub cells: Vec<RuleCell>,
    pub quality: Vec<QualityCell>,
    pub rejects: Vec<SourceRejects>,
    /// Links left for a person to decide.
    pub review_links: u64,
    /// Links left for a person to decide, by the county of their first row.
    #[serde(default)]
    pub review_by_county: BTreeMap<String, u64>,
    pub ledger: Option<LedgerData>,
    pub settings: ReportOptions,
    /// Warnings about the night's inputs: rules not run, fields a rule reads that a file does
    /// not map, values no vocabulary knows, inputs missing against the ledger.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Where the night could not check a rule, and why.
    #[serde(default)]
    pub not_checked: Vec<NotChecked>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NotChecked {
    pub rule_id: String,
    /// `None`: every county.
    pub county_code: Option<String>,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RuleInfo {
    pub id: String,
    pub name: String,
    /// What a coverage rule's rate measures (基本医保参保率).
    #[serde(default)]
    pub measure: String,
    pub is_coverage: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RuleCell {
    pub rule_id: String,
    pub county_code: String,
    /// Coverage: subjects. Audit: active records of the rule's subject source.
    pub base: u64,
    /// Gaps, without those a county checked and found none (核实为例外).
    pub gaps: u64,
    /// Gaps a county checked and found none, their facts unchanged: left out of `gaps`.
    #[serde(default)]
    pub exceptions: u64,
    /// The night could not check this rule in this county (its gaps were withheld).
    #[serde(default)]
    pub not_checked: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct QualityCell {
    pub source: String,
    pub county_code: String,
    pub rows: u64,
    pub id_damaged: u64,
    pub id_invalid: u64,
    pub id_missing: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourceRejects {
    pub source: String,
    /// The county of the files counted here: the one county of all their accepted rows
    /// (most exports are a county's); empty for files of several counties, whose rejected
    /// rows cannot be placed.
    #[serde(default)]
    pub county_code: String,
    pub rows_read: u64,
    pub rejected: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LedgerData {
    pub trend: Vec<NightCounts>,
    /// County and days open of every open item.
    pub open_ages: Vec<(String, i64)>,
    /// The last period report: first day, last day, the page's path.
    #[serde(default)]
    pub last_period: Option<(String, String, String)>,
}

/// Review pairs per county of the pair's first row.
fn review_by_county(result: &RunResult) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for pair in &result.linkage.review {
        let county = result.records[pair.a as usize].county_code().to_string();
        *counts.entry(county).or_default() += 1;
    }
    counts
}

/// The numbers of this run.
pub fn morning_data(result: &RunResult) -> MorningData {
    let settings = result.settings();
    let counties = super::counties_seen(result.records);
    let mut gaps: BTreeMap<(usize, String), (u64, u64)> = BTreeMap::new();
    for gap in &result.evaluation.gaps {
        let item = result.item_key(gap);
        let exception = result
            .ledger
            .is_some_and(|l| l.standing.get(&item) == Some(&Standing::Exception));
        let county = result.records[gap.record].county_code().to_string();
        let (counted, excepted) = gaps.entry((gap.rule, county)).or_default();
        *if exception { excepted } else { counted } += 1;
    }
    let mut cells = Vec::new();
    for &rule in &result.rules_run {
        let r = &settings.rules[rule];
        for code in counties.keys() {
            let base = match r.kind {
                RuleKind::Coverage => result.evaluation.subjects.get(&(rule, code.clone())),
                RuleKind::Audit => result
                    .evaluation
                    .active_rows
                    .get(&(r.subject, code.clone())),
            };
            let (gaps, exceptions) = gaps.get(&(rule, code.clone())).copied().unwrap_or((0, 0));
            cells.push(RuleCell {
                rule_id: r.id.clone(),
                county_code: code.clone(),
                base: base.copied().unwrap_or(0),
                gaps,
                exceptions,
                not_checked: result.checks.withheld_reason(rule, code).is_some(),
            });
        }
    }
    MorningData {
        as_of: result.as_of.to_string(),
        recon_version: env!("CARGO_PKG_VERSION").to_string(),
        counties,
        rules: result
            .rules_run
            .iter()
            .map(|&r| &settings.rules[r])
            .map(|r| RuleInfo {
                id: r.id.clone(),
                name: r.name.clone(),
                measure: r.measure.clone(),
                is_coverage: r.kind == RuleKind::Coverage,
            })
            .collect(),
        cells,
        quality: quality_cells(result),
        rejects: source_rejects(result),
        review_links: result.linkage.review.len() as u64,
        review_by_county: review_by_county(result),
        ledger: result.ledger.map(|l| LedgerData {
            trend: l.trend.clone(),
            open_ages: l.open_ages.clone(),
            last_period: l.last_period.clone(),
        }),
        settings: settings
            .options
            .report
            .clone()
            .unwrap_or_else(ReportOptions::defaults),
        warnings: result.checks.warning_lines(settings, result.tables),
        not_checked: result
            .checks
            .unchecked
            .iter()
            .map(|u| NotChecked {
                rule_id: settings.rules[u.rule].id.clone(),
                county_code: u.county.clone(),
                reason: u.reason.clone(),
            })
            .collect(),
    }
}

fn quality_cells(result: &RunResult) -> Vec<QualityCell> {
    let sources = &result.settings().sources;
    tally_quality(
        result
            .records
            .iter()
            .map(|r| (r.source(), r.county, result.records.id(r))),
        |source| sources[source].label.as_str(),
    )
}

/// Rows, and IDs damaged, invalid and missing, per source label and county code, from each
/// row's (source, county, ID). Counted by source and the county's number (not by hashing two
/// strings for each of tens of millions of rows), then gathered by label and code.
fn tally_quality<'a>(
    rows: impl Iterator<Item = (usize, Option<CountyRef>, &'a IdNumber)>,
    label: impl Fn(usize) -> &'a str,
) -> Vec<QualityCell> {
    let mut index: FastMap<(usize, Option<CountyRef>), usize> = FastMap::default();
    let mut counted: Vec<(usize, &str, QualityCell)> = Vec::new();
    for (source, county, id) in rows {
        let at = *index.entry((source, county)).or_insert_with(|| {
            let code = county.map_or("", |c| c.county().code.as_str());
            counted.push((source, code, QualityCell::default()));
            counted.len() - 1
        });
        let cell = &mut counted[at].2;
        cell.rows += 1;
        match id {
            IdNumber::Damaged { .. } => cell.id_damaged += 1,
            IdNumber::Invalid { .. } => cell.id_invalid += 1,
            IdNumber::Missing => cell.id_missing += 1,
            IdNumber::Valid(_) => {}
        }
    }
    let mut cells: BTreeMap<(&str, &str), QualityCell> = BTreeMap::new();
    for (source, county, counts) in counted {
        let source = label(source);
        let cell = cells
            .entry((source, county))
            .or_insert_with(|| QualityCell {
                source: source.to_string(),
                county_code: county.to_string(),
                ..QualityCell::default()
            });
        cell.rows += counts.rows;
        cell.id_damaged += counts.id_damaged;
        cell.id_invalid += counts.id_invalid;
        cell.id_missing += counts.id_missing;
    }
    cells.into_values().collect()
}

/// Rows read and rejected per source and the county of their files (see `SourceRejects`).
fn source_rejects(result: &RunResult) -> Vec<SourceRejects> {
    let county_of_file = file_counties(result);
    let key = |file: usize| {
        let source = result.tables[file].mapping.source;
        (
            result.settings().sources[source].label.clone(),
            county_of_file[file].unwrap_or("").to_string(),
        )
    };
    let mut counts: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for (file, table) in result.tables.iter().enumerate() {
        counts.entry(key(file)).or_default().0 += table.rows_read() as u64;
    }
    for reject in result.rejects {
        counts.entry(key(reject.row.file as usize)).or_default().1 += 1;
    }
    counts
        .into_iter()
        .map(
            |((source, county_code), (rows_read, rejected))| SourceRejects {
                source,
                county_code,
                rows_read,
                rejected,
            },
        )
        .collect()
}

/// Per file: the county of all its accepted rows, when they have one and the same.
fn file_counties(result: &RunResult) -> Vec<Option<&'static str>> {
    // None: no row yet; Some(None): several counties (or a row without one).
    let mut seen: Vec<Option<Option<&'static str>>> = vec![None; result.tables.len()];
    for record in result.records.iter() {
        let county = record.county().map(|c| c.code.as_str());
        let file = &mut seen[record.row.file as usize];
        *file = match *file {
            None => Some(county),
            Some(first) if first == county => Some(first),
            Some(_) => Some(None),
        };
    }
    seen.into_iter().map(Option::flatten).collect()
}

/// A county's place in the supervision ranking, with its score and the reasons.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    pub county_code: String,
    pub score: f64,
    pub reasons: Vec<String>,
}

/// Every county with a score above zero, highest first (see `[report]` in the config).
pub fn supervision_ranking(data: &MorningData) -> Vec<Ranked> {
    let weights = &data.settings;
    let coverage: Vec<&str> = data
        .rules
        .iter()
        .filter(|r| r.is_coverage)
        .map(|r| r.id.as_str())
        .collect();
    let mut ranked: Vec<Ranked> = data
        .counties
        .keys()
        .map(|county| {
            let cells: Vec<&RuleCell> = data
                .cells
                .iter()
                .filter(|c| &c.county_code == county)
                .collect();
            let uncovered =
                |c: &&RuleCell| c.gaps as f64 * (1.0 - rate(c.base, c.gaps).unwrap_or(1.0));
            let worst = cells
                .iter()
                .filter(|c| coverage.contains(&c.rule_id.as_str()))
                .max_by(|a, b| uncovered(a).total_cmp(&uncovered(b)));
            let uncovered_sum: f64 = cells
                .iter()
                .filter(|c| coverage.contains(&c.rule_id.as_str()))
                .map(uncovered)
                .sum();
            let findings: u64 = cells
                .iter()
                .filter(|c| !coverage.contains(&c.rule_id.as_str()))
                .map(|c| c.gaps)
                .sum();
            let oldest = data
                .ledger
                .as_ref()
                .and_then(|l| {
                    l.open_ages
                        .iter()
                        .filter(|(c, _)| c == county)
                        .map(|(_, d)| *d)
                        .max()
                })
                .unwrap_or(0);
            let score = weights.weight_uncovered * uncovered_sum
                + weights.weight_findings * findings as f64
                + weights.weight_days_open * oldest as f64;
            let mut reasons = Vec::new();
            if let Some(cell) = worst.filter(|c| c.gaps > 0) {
                let percent = rate(cell.base, cell.gaps)
                    .map_or("—".into(), |r| format!("{:.0}%", r * 100.0));
                let measure = data
                    .rules
                    .iter()
                    .find(|r| r.id == cell.rule_id)
                    .map_or(cell.rule_id.as_str(), |r| r.measure.as_str());
                reasons.push(format!(
                    "{measure}{percent}（{}人未覆盖）",
                    suppressed(cell.gaps, weights.suppress_below)
                ));
            }
            if findings > 0 {
                reasons.push(format!(
                    "违规享受{}条",
                    suppressed(findings, weights.suppress_below)
                ));
            }
            if oldest > 0 {
                reasons.push(format!("最久未销号{oldest}天"));
            }
            Ranked {
                county_code: county.clone(),
                score: (score * 10.0).round() / 10.0,
                reasons,
            }
        })
        .filter(|r| r.score > 0.0)
        .collect();
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.county_code.cmp(&b.county_code))
    });
    ranked
}

/// The share covered: 1 - gaps / base; `None` without a base.
pub fn rate(base: u64, gaps: u64) -> Option<f64> {
    (base > 0).then(|| 1.0 - gaps as f64 / base as f64)
}

/// A count as published: `<N` for 1..N-1 when suppression is on.
pub fn suppressed(count: u64, below: u64) -> String {
    match count > 0 && count < below {
        true => format!("<{below}"),
        false => count.to_string(),
    }
}

/// Numbers for tests: counties, rules (id, is coverage) and cells (rule, county, base, gaps).
#[cfg(test)]
pub(crate) fn test_data(
    counties: &[(String, String)],
    rules: &[(&str, bool)],
    cells: &[(&str, &str, u64, u64)],
) -> MorningData {
    MorningData {
        as_of: "2020-06-30".into(),
        recon_version: "test".into(),
        counties: counties.iter().cloned().collect(),
        rules: rules
            .iter()
            .map(|(id, is_coverage)| RuleInfo {
                id: id.to_string(),
                name: format!("{id}规则"),
                measure: format!("{id}覆盖率"),
                is_coverage: *is_coverage,
            })
            .collect(),
        cells: cells
            .iter()
            .map(|(rule, county, base, gaps)| RuleCell {
                rule_id: rule.to_string(),
                county_code: county.to_string(),
                base: *base,
                gaps: *gaps,
                exceptions: 0,
                not_checked: false,
            })
            .collect(),
        quality: vec![],
        rejects: vec![],
        review_links: 0,
        review_by_county: BTreeMap::new(),
        ledger: None,
        settings: ReportOptions::defaults(),
        warnings: vec![],
        not_checked: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::region::Regions;

    proptest::proptest! {
        /// Each (source label, county code) cell counts its rows and ID states, two sources of
        /// one label in one cell, cells in label and code order.
        #[test]
        fn quality_is_counted_per_source_label_and_county(
            rows in proptest::collection::vec((0usize..3, 0usize..3, 0u8..4), 0..200)
        ) {
            let labels = ["甲", "乙", "甲"];
            let counties: Vec<CountyRef> = ["110101", "110102"]
                .iter()
                .map(|code| CountyRef::of(Regions::bundled().by_code(code).unwrap()))
                .collect();
            let ids = [
                IdNumber::Missing,
                IdNumber::Damaged { prefix: "420325196".into() },
                IdNumber::Invalid { digits: "420325196".into(), defect: crate::model::id_number::IdDefect::CheckCharacter },
                IdNumber::Valid("420325196003150127".into()),
            ];
            let mut expected: BTreeMap<(String, String), [u64; 4]> = BTreeMap::new();
            for &(source, county, id) in &rows {
                let code = counties.get(county).map_or("", |c| c.county().code.as_str());
                let n = expected.entry((labels[source].to_string(), code.to_string())).or_default();
                n[0] += 1;
                if id < 3 {
                    n[[3, 1, 2][id as usize]] += 1;
                }
            }
            let cells = tally_quality(
                rows.iter().map(|&(s, c, id)| (s, counties.get(c).copied(), &ids[id as usize])),
                |s| labels[s],
            );
            let found: Vec<((String, String), [u64; 4])> = cells
                .into_iter()
                .map(|c| ((c.source, c.county_code), [c.rows, c.id_damaged, c.id_invalid, c.id_missing]))
                .collect();
            proptest::prop_assert_eq!(found, expected.into_iter().collect::<Vec<_>>());
        }
    }

    fn data(cells: &[(&str, &str, u64, u64)]) -> MorningData {
        let counties = [
            ("1".to_string(), "甲县".to_string()),
            ("2".to_string(), "乙县".to_string()),
        ];
        test_data(&counties, &[("MED-01", true), ("AUD-01", false)], cells)
    }

    #[test]
    fn a_big_county_is_not_punished_for_being_big() {
        // 甲县: 10 of 1000 uncovered (99%); 乙县: 10 of 20 uncovered (50%).
        let ranked =
            supervision_ranking(&data(&[("MED-01", "1", 1000, 10), ("MED-01", "2", 20, 10)]));
        assert_eq!(ranked[0].county_code, "2");
        assert_eq!(ranked[0].score, 5.0);
        assert_eq!(ranked[0].reasons, ["MED-01覆盖率50%（10人未覆盖）"]);
        assert_eq!(ranked[1].score, 0.1);
    }

    #[test]
    fn findings_count_and_small_counts_can_be_suppressed() {
        let mut d = data(&[("AUD-01", "1", 100, 4)]);
        d.settings.suppress_below = 5;
        let ranked = supervision_ranking(&d);
        assert_eq!(
            (ranked[0].score, ranked[0].reasons.clone()),
            (2.0, vec!["违规享受<5条".to_string()])
        );
        assert_eq!(suppressed(0, 5), "0");
        assert_eq!(suppressed(7, 5), "7");
        assert_eq!(rate(0, 0), None);
    }
}
