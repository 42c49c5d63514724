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
    wd.run_ok(&["--parquet", &sample]);
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
