//! The run's tables besides the gap lists: `summary.csv`, `links.csv`, `review.csv`,
//! `rejects.csv` and `quality.csv` (the data-quality report).

use std::collections::BTreeMap;
use std::path::Path;

use super::{csv_lines, csv_writer, write_csv_in_batches, write_csv_rows, ReportError, RunResult};
use crate::link::pairs::PairOutcome;
use crate::link::PersonKey;
use crate::model::RowRef;

/// Rule x county: subject rows, gaps and the share covered, zeros included for every county
/// that appears in any input row (`counties_seen`, code -> name); with a ledger, the night's
/// changes; and where the night could not check a rule (an input missing, the rule not run),
/// why, and how many gaps it withheld.
pub fn write_summary(
    path: &Path,
    result: &RunResult,
    counties_seen: &BTreeMap<String, String>,
) -> Result<(), ReportError> {
    let settings = result.settings();
    let mut counties = counties_seen.clone();
    if result.records.iter().any(|r| r.county.is_none()) || counties.is_empty() {
        counties.insert(String::new(), "未知区县".into());
    }
    let mut gaps: BTreeMap<(usize, &str), u64> = BTreeMap::new();
    for gap in &result.evaluation.gaps {
        let code = result.records[gap.record].county_code();
        *gaps.entry((gap.rule, code)).or_default() += 1;
    }
    let mut rows = Vec::new();
    for rule in result.rules_selected() {
        for (code, name) in &counties {
            let subjects = result
                .evaluation
                .subjects
                .get(&(rule, code.clone()))
                .copied()
                .unwrap_or(0);
            let found = gaps.get(&(rule, code.as_str())).copied().unwrap_or(0);
            let rate = match subjects {
                0 => String::new(),
                n => format!("{:.4}", 1.0 - found as f64 / n as f64),
            };
            let r = &settings.rules[rule];
            let mut row = vec![
                r.id.clone(),
                r.name.clone(),
                code.clone(),
                name.clone(),
                subjects.to_string(),
                found.to_string(),
                rate,
            ];
            row.extend(ledger_columns(result, &r.id, code));
            row.push(
                result
                    .checks
                    .unchecked_scope(rule, code)
                    .map_or(String::new(), |u| u.reason.clone()),
            );
            row.push(
                result
                    .checks
                    .withheld
                    .get(&(rule, code.clone()))
                    .map_or(String::new(), u64::to_string),
            );
            rows.push(row);
        }
    }
    let header = [
        "rule_id",
        "rule_name",
        "county_code",
        "county_name",
        "subjects",
        "gaps",
        "rate_without_gap",
        "new",
        "reopened",
        "closed",
        "still_open",
        "max_days_open",
        "not_checked_items",
        "not_checked",
        "withheld",
    ];
    write_csv_rows(path, csv_writer(path, &header, false)?, rows)
}

/// The night's ledger changes for one rule and county; blank without a ledger.
fn ledger_columns(result: &RunResult, rule_id: &str, county: &str) -> Vec<String> {
    let Some(ledger) = result.ledger else {
        return vec![String::new(); 6];
    };
    let d = ledger
        .diff
        .get(&(rule_id.to_string(), county.to_string()))
        .cloned()
        .unwrap_or_default();
    let days = d.max_days_open.to_string();
    vec![
        d.new.to_string(),
        d.reopened.to_string(),
        d.closed.to_string(),
        d.still_open.to_string(),
        days,
        d.not_checked.to_string(),
    ]
}

/// Every data row read: the person it was linked to and why, or (for a rejected row) no
/// person and `rejected:<reason>`. Sorted by file and row.
pub fn write_links(path: &Path, result: &RunResult) -> Result<(), ReportError> {
    let mut rejects: Vec<_> = (result.rejects.iter())
        .filter(|r| !result.is_evidence_file(r.row.file))
        .collect();
    rejects.sort_by_key(|r| r.row);
    let records = result.records.as_slice();
    // The rejects that come before record `at` (every reject after the last record).
    let rejects_before = |at: usize| match records.get(at) {
        Some(record) => rejects.partition_point(|r| r.row < record.row),
        None => rejects.len(),
    };
    let header = [
        "source_file",
        "source_row",
        "person_key",
        "evidence",
        "household_key",
    ];
    let writer = csv_writer(path, &header, false)?;
    write_csv_in_batches(path, writer, records.len(), |range| {
        let first_reject = match range.start {
            0 => 0,
            start => rejects_before(start),
        };
        let last_reject = rejects_before(range.end);
        links_lines(result, range, &rejects[first_reject..last_reject])
    })
}

/// The lines of records `range` and of `rejects`, merged in (file, row) order, written field by
/// field: a province has tens of millions, and a line allocates only for a probable link.
fn links_lines(
    result: &RunResult,
    range: std::ops::Range<usize>,
    rejects: &[&crate::model::Reject],
) -> Result<Vec<u8>, csv::Error> {
    let mut lines = csv::Writer::from_writer(Vec::new());
    let mut line = |row: RowRef, key: &str, evidence: &str, household: Option<PersonKey>| {
        let mut number = [0u8; 10];
        lines.write_field(super::inert(result.file_name(row.file)).as_bytes())?;
        lines.write_field(decimal(row.row, &mut number))?;
        lines.write_field(key)?;
        lines.write_field(evidence)?;
        let household = household.map(|h| h.text());
        lines.write_field(household.as_ref().map_or("", |h| h.as_str()))?;
        lines.write_record(None::<&[u8]>)
    };
    let mut rejects = rejects.iter().peekable();
    for i in range.filter(|&i| !result.is_evidence(i)) {
        let record = &result.records[i];
        while let Some(reject) = rejects.next_if(|r| r.row < record.row) {
            line(reject.row, "", &format!("rejected:{}", reject.reason), None)?;
        }
        let evidence = result.linkage.evidence(i, result.records);
        let household = result.linkage.household_key_of(i);
        result.show_person_key(i, |key| line(record.row, key, &evidence, household))?;
    }
    for reject in rejects {
        line(reject.row, "", &format!("rejected:{}", reject.reason), None)?;
    }
    lines.into_inner().map_err(|e| e.into_error().into())
}

/// `n` in decimal, written into `buffer`.
fn decimal(n: u32, buffer: &mut [u8; 10]) -> &[u8] {
    let mut rest = &mut buffer[..];
    // Ten digits hold any u32.
    let _ = std::io::Write::write_fmt(&mut rest, format_args!("{n}"));
    let written = 10 - rest.len();
    &buffer[..written]
}

/// Candidate links for a person to decide: the most probable pair between two persons that
/// was not linked but reached the review threshold, with what agrees and why it was not linked.
/// The columns of the review lists: `review.csv`'s names, and the workbook's.
const REVIEW_COLUMNS: [(&str, &str); 14] = [
    ("source_file", "来源文件"),
    ("source_row", "行号"),
    ("candidate_file", "候选文件"),
    ("candidate_row", "候选行号"),
    ("match_probability", "匹配概率"),
    ("reason", "原因"),
    ("source_person_key", "来源人员编号"),
    ("candidate_person_key", "候选人员编号"),
    ("source_name", "来源姓名"),
    ("candidate_name", "候选姓名"),
    ("county_code", "区县代码"),
    ("rules", "相关规则"),
    (PAIR_KEY_COLUMNS[0], PAIR_KEY_COLUMNS[1]),
    (DECISION_COLUMNS[0], DECISION_COLUMNS[1]),
];

/// The most pairs the review workbook lists: more than anyone reviews in a month.
const REVIEW_SHEET_ROWS: usize = 100_000;

/// The column a review pair is known by, in `review.csv` and in the workbook.
pub const PAIR_KEY_COLUMNS: [&str; 2] = ["pair_key", "配对编号"];
/// The column a reviewer writes 同一人 or 不同人 in.
pub const DECISION_COLUMNS: [&str; 2] = ["decision", "人工确认"];

/// A review pair's cells, in `REVIEW_COLUMNS` order: the two rows' masked names, the county,
/// the rules whose gaps wait on it, its pair key and an empty decision.
fn review_row(result: &RunResult, waiting: &Waiting, pair: &PairOutcome) -> [String; 14] {
    let (a, b) = (pair.a as usize, pair.b as usize);
    let (ra, rb) = (&result.records[a].row, &result.records[b].row);
    let name = |r: usize| crate::mask::mask_name(result.records.name(&result.records[r]));
    let rules = [(a, b), (b, a)]
        .iter()
        .filter_map(|&(x, y)| waiting.get(&(result.linkage.person_of(x), y)))
        .flatten()
        .cloned()
        .collect::<std::collections::BTreeSet<String>>();
    [
        result.file_name(ra.file).to_string(),
        ra.row.to_string(),
        result.file_name(rb.file).to_string(),
        rb.row.to_string(),
        format!("{:.4}", pair.probability),
        result.linkage.pair_reason(pair).to_string(),
        result.person_key(a),
        result.person_key(b),
        name(a),
        name(b),
        result.records[a].county_code().to_string(),
        rules.into_iter().collect::<Vec<_>>().join(" "),
        crate::link::decisions::pair_key(
            result.records,
            result.settings(),
            result.secret,
            (pair.a, pair.b),
        ),
        String::new(),
    ]
}

/// Every review pair, for a person to decide (`recon review import`).
pub fn write_review(path: &Path, result: &RunResult) -> Result<(), ReportError> {
    let review = &result.linkage.review;
    let waiting = rules_waiting(result);
    let header = REVIEW_COLUMNS.map(|(name, _)| name);
    let writer = csv_writer(path, &header, false)?;
    write_csv_in_batches(path, writer, review.len(), |range| {
        csv_lines(
            review[range]
                .iter()
                .map(|pair| review_row(result, &waiting, pair)),
        )
    })
}

/// The review pairs as a workbook for reviewers, those a gap waits on first, at most
/// `REVIEW_SHEET_ROWS`: Chinese headers, numbers as numbers, 人工确认 from a list (同一人, 不同人).
pub fn write_review_workbook(path: &Path, result: &RunResult) -> Result<(), ReportError> {
    use rust_xlsxwriter::{DataValidation, Format, Workbook};
    let error = |e: rust_xlsxwriter::XlsxError| super::report_error(path, e);
    let waiting = rules_waiting(result);
    let review = &result.linkage.review;
    let waited_on = |pair: &PairOutcome| {
        let person = |r: u32| result.linkage.person_of(r as usize);
        waiting.contains_key(&(person(pair.a), pair.b as usize))
            || waiting.contains_key(&(person(pair.b), pair.a as usize))
    };
    // The pairs a gap waits on, then the others, each in list order.
    let (first, rest): (Vec<usize>, Vec<usize>) =
        (0..review.len()).partition(|&k| waited_on(&review[k]));
    let chosen: Vec<usize> = first
        .into_iter()
        .chain(rest)
        .take(REVIEW_SHEET_ROWS)
        .collect();
    let rows = chosen
        .iter()
        .map(|&k| review_row(result, &waiting, &review[k]));
    let mut workbook = Workbook::new();
    if let Some(dir) = path.parent() {
        workbook.set_tempdir(dir).map_err(error)?;
    }
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(error)?;
    sheet.set_name("待人工确认").map_err(error)?;
    let bold = Format::new().set_bold().set_text_wrap();
    for (col, (_, header)) in REVIEW_COLUMNS.iter().enumerate() {
        let width = if col == 5 { 40 } else { 14 };
        sheet.set_column_width(col as u16, width).map_err(error)?;
        sheet
            .write_string_with_format(0, col as u16, *header, &bold)
            .map_err(error)?;
    }
    for (r, row) in rows.enumerate() {
        for (col, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, col as u16);
            match (col, cell.parse::<f64>()) {
                (1 | 3 | 4, Ok(n)) => sheet.write_number(r, c, n).map(|_| ()),
                _ => sheet.write_string(r, c, super::inert(cell)).map(|_| ()),
            }
            .map_err(error)?;
        }
    }
    let last = chosen.len().max(1) as u32;
    sheet.set_freeze_panes(1, 0).map_err(error)?;
    sheet.autofilter(0, 0, last, 13).map_err(error)?;
    let decisions = DataValidation::new()
        .allow_list_strings(&["同一人", "不同人"])
        .map_err(error)?;
    sheet
        .add_data_validation(1, 13, last, 13, &decisions)
        .map_err(error)?;
    let buffer = workbook.save_to_buffer().map_err(error)?;
    super::write_file(path, &buffer)
}

/// (person, row of another person) -> the rules whose gaps of that person wait on the row.
type Waiting = crate::model::FastMap<(usize, usize), Vec<String>>;

fn rules_waiting(result: &RunResult) -> Waiting {
    let mut waiting = Waiting::default();
    for gap in &result.evaluation.gaps {
        if let Some(undecided) = &gap.undecided {
            let person = result.linkage.person_of(gap.record);
            let rule = result.settings().rules[gap.rule].id.clone();
            waiting
                .entry((person, undecided.record))
                .or_default()
                .push(rule);
        }
    }
    waiting
}

pub fn write_rejects(path: &Path, result: &RunResult) -> Result<(), ReportError> {
    let mut rejects: Vec<_> = result.rejects.iter().collect();
    rejects.sort();
    let rows = rejects.into_iter().map(|r| {
        [
            result.file_name(r.row.file).to_string(),
            r.row.row.to_string(),
            r.column.clone(),
            r.reason.to_string(),
            r.detail.clone(),
        ]
    });
    let header = ["source_file", "source_row", "column", "reason", "detail"];
    write_csv_rows(path, csv_writer(path, &header, false)?, rows)
}

/// Defects found and repaired, per file and column.
pub fn write_quality(path: &Path, result: &RunResult) -> Result<(), ReportError> {
    let rows = result.quality.iter().map(|((file, column, defect), n)| {
        [
            result.file_name(*file).to_string(),
            column.clone(),
            defect.to_string(),
            n.to_string(),
        ]
    });
    let header = ["source_file", "column", "defect", "rows"];
    write_csv_rows(path, csv_writer(path, &header, false)?, rows)
}
