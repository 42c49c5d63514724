//! `--parquet`: the records as one typed table and every data row's person, read back with
//! polars as a BI tool would.

use polars::prelude::*;

use crate::workdir::{repo_path, Workdir};

fn frame(wd: &Workdir, file: &str) -> DataFrame {
    let file = std::fs::File::open(wd.path(file)).unwrap();
    ParquetReader::new(file).finish().unwrap()
}

fn texts(frame: &DataFrame, column: &str) -> Vec<Option<String>> {
    let column = frame.column(column).unwrap().str().unwrap();
    column.iter().map(|v| v.map(str::to_string)).collect()
}

/// records.parquet holds every record with typed columns (rows as numbers, dates as dates),
/// the person and evidence links.csv gives it, IDs and names masked; links.parquet holds
/// links.csv's rows, rejected rows included. With --full-ids the IDs are whole.
#[test]
fn parquet_tables_hold_the_records_typed() {
    let wd = Workdir::new();
    let sample = repo_path("sample_data").display().to_string();
    let run = wd.run_ok(&["--parquet", &sample]);
    assert!(
        run.stdout
            .contains("model.json, records.parquet, links.parquet, keys.parquet, run.json"),
        "the summary lists them: {}",
        run.stdout
    );
    let links = wd.csv_rows("out/links.csv");
    let records = frame(&wd, "out/records.parquet");
    let linked: Vec<_> = links
        .iter()
        .filter(|l| !l["evidence"].starts_with("rejected:"))
        .collect();
    assert_eq!(records.height(), linked.len());
    let schema = records.schema();
    assert_eq!(schema.get("source_row"), Some(&DataType::UInt32));
    assert_eq!(schema.get("birth_date"), Some(&DataType::Date));
    assert_eq!(schema.get("start_date"), Some(&DataType::Date));
    let keys = texts(&records, "person_key");
    let evidence = texts(&records, "evidence");
    for (k, link) in linked.iter().enumerate() {
        assert_eq!(
            keys[k].as_deref(),
            Some(link["person_key"].as_str()),
            "row {k}"
        );
        assert_eq!(
            evidence[k].as_deref(),
            Some(link["evidence"].as_str()),
            "row {k}"
        );
    }
    let ids = texts(&records, "id_number");
    assert!(ids.iter().flatten().all(|id| id.contains('*')), "masked");
    assert!(texts(&records, "household_head_id")
        .iter()
        .flatten()
        .all(|id| id.contains('*')));
    assert!(texts(&records, "name")
        .iter()
        .flatten()
        .all(|n| n.contains('*')));

    let all = frame(&wd, "out/links.parquet");
    assert_eq!(all.height(), links.len());
    assert_eq!(
        texts(&all, "evidence"),
        links
            .iter()
            .map(|l| Some(l["evidence"].clone()))
            .collect::<Vec<_>>()
    );
    let mode = std::fs::metadata(wd.path("out/records.parquet")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.permissions().mode() & 0o077, 0, "owner-only");

    wd.run_ok(&["--parquet", "--full-ids", &sample]);
    let whole = texts(&frame(&wd, "out/records.parquet"), "id_number");
    assert!(whole
        .iter()
        .flatten()
        .any(|id| id.len() == 18 && !id.contains('*')));
}

/// An export with a birth date column of its own (出生日期, a field beside the ID's birth
/// date) still makes one birth_date column: the record's.
#[test]
fn a_birth_date_column_is_the_records_birth_date() {
    let wd = Workdir::new();
    wd.write_csv(
        "in/残联.csv",
        &[
            vec![
                "姓名",
                "出生日期",
                "残疾人证号",
                "残疾类别",
                "残疾等级",
                "所属区县",
            ],
            vec!["王五", "1970-01-01", "", "肢体", "一级", "420325"],
        ],
    );
    let args = [
        "run",
        "--as-of",
        "2020-06-30",
        "--parquet",
        "--out",
        "out",
        "in",
    ];
    let run = wd.recon(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let records = frame(&wd, "out/records.parquet");
    let named = records.get_column_names();
    assert_eq!(
        named.iter().filter(|n| n.as_str() == "birth_date").count(),
        1
    );
    let birth = records.column("birth_date").unwrap().date().unwrap();
    assert_eq!(birth.physical().get(0), Some(0), "1970-01-01, day 0");
}
