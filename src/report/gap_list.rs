//! The gap list: one row per gap with what every output shows of it, and `gaps.csv` for other
//! systems (the county workbooks are `county`).

use std::path::Path;

use rayon::prelude::*;

use super::{csv_writer, write_csv_rows, ReportError, RunResult};
use crate::mask::mask_id;
use crate::model::id_number::{IdDefect, IdNumber};
use crate::model::FieldRole;

/// One gap as written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GapRow {
    pub rule_id: String,
    pub county_code: String,
    pub county_name: String,
    pub source: String,
    pub source_file: String,
    pub source_row: u32,
    pub person_key: String,
    pub name: String,
    pub id_number: String,
    pub detail: String,
    /// The item's status in the ledger (none without a ledger).
    pub status: Option<ItemStatus>,
    pub first_seen: String,
    pub note_status: String,
    pub note: String,
    pub rule_name: String,
    pub evidence_file: String,
    pub evidence_row: String,
    pub nearest_file: String,
    pub nearest_row: String,
    pub nearest_score: String,
    pub nearest_reason: String,
    /// A row that may be this person, for a person to decide: the gap depends on it.
    pub review: String,
    /// The ledger item's key (台账编号).
    pub item_key: String,
    /// Where the person lives and their certificate, where a file holds them (`Shown`).
    pub shown: Shown,
    /// The county's latest returned result for the item (`recon ledger import`).
    pub feedback: Feedback,
    /// Where that result leaves the item tonight, if it changes anything.
    pub standing: Option<Standing>,
}

/// What the county workbook shows of a person besides name and ID: from the gap's row, else
/// from the first of the person's rows that holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shown {
    pub township: String,
    pub village: String,
    pub disability_category: String,
    pub disability_grade: String,
    /// Masked as an ID is (a certificate number holds the ID).
    pub certificate_number: String,
}

pub use crate::ledger::{Feedback, ItemStatus, Standing};

pub const GAPS_HEADER: [&str; 29] = [
    "rule_id",
    "county_code",
    "county_name",
    "source",
    "source_file",
    "source_row",
    "person_key",
    "name",
    "id_number",
    "detail",
    "status",
    "first_seen",
    "note_status",
    "note",
    "rule_name",
    "evidence_file",
    "evidence_row",
    "nearest_file",
    "nearest_row",
    "nearest_score",
    "nearest_reason",
    "review",
    "township",
    "village",
    "disability_category",
    "disability_grade",
    "certificate_number",
    "county_result",
    "county_standing",
];

/// The run's gaps as rows, sorted by rule, county, file and row.
pub fn gap_rows(result: &RunResult) -> Vec<GapRow> {
    let settings = result.settings();
    let mut rows: Vec<GapRow> = result
        .evaluation
        .gaps
        .par_iter()
        .map(|gap| {
            let rule = &settings.rules[gap.rule];
            let record = &result.records[gap.record];
            let evidence = gap.evidence.map(|e| &result.records[e]);
            let nearest = gap.nearest.as_ref();
            let person_key = result.person_key(gap.record);
            let item = result.item_key(gap);
            let ledger_item = result.ledger.and_then(|l| l.items.get(&item));
            let note = result.ledger.and_then(|l| l.notes.get(&item));
            let nearest_record = nearest.map(|n| &result.records[n.record]);
            let feedback = result.ledger.and_then(|l| l.feedback.get(&item)).cloned();
            let standing = result.ledger.and_then(|l| l.standing.get(&item)).copied();
            GapRow {
                rule_id: rule.id.clone(),
                county_code: record.county_code().to_string(),
                county_name: record
                    .county()
                    .map_or("未知区县".into(), |c| c.name.clone()),
                source: settings.sources[record.source()].key.clone(),
                source_file: result.file_name(record.row.file).to_string(),
                source_row: record.row.row,
                person_key,
                name: result.records.name(record).to_string(),
                id_number: shown_id(result.records.id(record), result.full_ids),
                detail: gap.detail.to_string(),
                status: ledger_item.map(|(status, _)| *status),
                first_seen: ledger_item.map_or(String::new(), |(_, first)| first.clone()),
                note_status: note.map_or(String::new(), |(status, _)| status.clone()),
                note: note.map_or(String::new(), |(_, text)| text.clone()),
                rule_name: rule.name.clone(),
                evidence_file: evidence
                    .map_or(String::new(), |e| result.file_name(e.row.file).to_string()),
                evidence_row: evidence.map_or(String::new(), |e| e.row.row.to_string()),
                nearest_file: nearest_record
                    .map_or(String::new(), |n| result.file_name(n.row.file).to_string()),
                nearest_row: nearest_record.map_or(String::new(), |n| n.row.row.to_string()),
                nearest_score: nearest.map_or(String::new(), |n| format!("{:.4}", n.score)),
                nearest_reason: nearest.map_or(String::new(), |n| n.reason.to_string()),
                review: gap.undecided.as_ref().map_or(String::new(), |u| {
                    let row = &result.records[u.record].row;
                    format!(
                        "可能与{}第{}行为同一人（匹配概率{:.2}），此项取决于人工确认（见review.csv）",
                        result.file_name(row.file),
                        row.row,
                        u.probability
                    )
                }),
                item_key: item,
                shown: shown(result, gap.record),
                feedback: feedback.unwrap_or_default(),
                standing,
            }
        })
        .collect();
    // Rows that compare equal are the same text, so an unstable sort writes the same file.
    rows.par_sort_unstable();
    rows
}

/// What the workbook shows of record `index`'s person: each field from the record itself,
/// else from the first of the person's rows that holds it.
fn shown(result: &RunResult, index: usize) -> Shown {
    let records = result.records;
    let person = result.linkage.linked(index);
    let rows = std::iter::once(index).chain(person.iter().map(|&r| r as usize));
    let value_of = |role: FieldRole| {
        rows.clone()
            .find_map(|r| {
                let record = &records[r];
                let field = result.settings().sources[record.source()].field_for(role)?;
                records
                    .shown(records.value(record, field))
                    .map(|shown| shown.into_owned())
            })
            .unwrap_or_default()
    };
    let certificate = value_of(FieldRole::CertificateNumber);
    Shown {
        township: value_of(FieldRole::Township),
        village: value_of(FieldRole::Village),
        disability_category: value_of(FieldRole::DisabilityCategory),
        disability_grade: value_of(FieldRole::DisabilityGrade),
        certificate_number: match result.full_ids || certificate.is_empty() {
            true => certificate,
            false => mask_id(&certificate),
        },
    }
}

/// The ID as a gap list shows it: masked unless full IDs were asked for; a damaged or invalid
/// ID shows what is left of it, and why it is not valid, in words.
fn shown_id(id: &IdNumber, full: bool) -> String {
    let show = |s: &str| if full { s.to_string() } else { mask_id(s) };
    match id {
        IdNumber::Valid(v) => show(v),
        IdNumber::Missing => String::new(),
        IdNumber::Invalid { digits, .. } => format!("{}（{}）", show(digits), id_state_words(id)),
        IdNumber::Damaged { prefix } => format!("{}…（{}）", show(prefix), id_state_words(id)),
    }
}

/// Why an ID is not valid, in the words county staff use.
fn id_state_words(id: &IdNumber) -> &'static str {
    match id {
        IdNumber::Damaged { .. } => "Excel损坏，末位丢失",
        IdNumber::Invalid { defect, .. } => match defect {
            IdDefect::CheckCharacter => "校验位错误",
            IdDefect::BirthDate => "出生日期无效",
            IdDefect::Length => "位数不对",
            IdDefect::Characters => "含非法字符",
        },
        IdNumber::Valid(_) | IdNumber::Missing => "",
    }
}

pub fn write_gaps_csv(path: &Path, rows: &[GapRow]) -> Result<(), ReportError> {
    let writer = csv_writer(path, &GAPS_HEADER, false)?;
    write_csv_rows(path, writer, rows.iter().map(gaps_record))
}

fn gaps_record(r: &GapRow) -> Vec<String> {
    vec![
        r.rule_id.clone(),
        r.county_code.clone(),
        r.county_name.clone(),
        r.source.clone(),
        r.source_file.clone(),
        r.source_row.to_string(),
        r.person_key.clone(),
        r.name.clone(),
        r.id_number.clone(),
        r.detail.clone(),
        r.status.map_or("", ItemStatus::code).to_string(),
        r.first_seen.clone(),
        r.note_status.clone(),
        r.note.clone(),
        r.rule_name.clone(),
        r.evidence_file.clone(),
        r.evidence_row.clone(),
        r.nearest_file.clone(),
        r.nearest_row.clone(),
        r.nearest_score.clone(),
        r.nearest_reason.clone(),
        r.review.clone(),
        r.shown.township.clone(),
        r.shown.village.clone(),
        r.shown.disability_category.clone(),
        r.shown.disability_grade.clone(),
        r.shown.certificate_number.clone(),
        r.feedback.result.clone(),
        r.standing.map_or("", Standing::code).to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(
            crate::report::inert("=HYPERLINK(\"x\")"),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(crate::report::inert("-1"), "'-1");
        assert_eq!(crate::report::inert("@SUM"), "'@SUM");
        assert_eq!(crate::report::inert("张三"), "张三");
    }

    #[test]
    fn ids_are_masked_unless_asked() {
        let id = IdNumber::Valid("11010519491231002X".into());
        assert_eq!(shown_id(&id, false), "110105********002X");
        assert_eq!(shown_id(&id, true), "11010519491231002X");
        let damaged = IdNumber::Damaged {
            prefix: "420325199003071".into(),
        };
        assert_eq!(
            shown_id(&damaged, false),
            "420325*****3071…（Excel损坏，末位丢失）"
        );
    }
}
