//! The README's run over `sample_data/`: the exact gap list, row accounting, masking,
//! permissions and byte-identical reruns.

use std::os::unix::fs::PermissionsExt;

use crate::workdir::{expected_gaps, repo_path, Workdir};

fn sample() -> String {
    repo_path("sample_data").display().to_string()
}

#[test]
fn sample_run_reports_exactly_the_expected_gaps() {
    let wd = Workdir::new();
    let run = wd.run_ok(&[&sample()]);
    assert_eq!(
        wd.gaps(),
        expected_gaps("tests/fixtures/sample_truth/expected_gaps.csv")
    );
    assert!(
        run.stdout.contains("Gaps by rule and county (22 in all)"),
        "{}",
        run.stdout
    );
    let header = wd.read("out/gaps.csv").lines().next().unwrap().to_string();
    assert!(header.starts_with("rule_id,county_code,county_name,source,source_file,source_row,person_key,name,id_number,detail"));
}

#[test]
fn every_row_is_used_or_rejected_and_the_counts_add_up() {
    let wd = Workdir::new();
    wd.run_ok(&[&sample()]);
    let manifest: serde_json::Value = serde_json::from_str(&wd.read("out/run.json")).unwrap();
    let inputs = manifest["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 7);
    for input in inputs {
        let (read, used, rejected) = (
            input["rows_read"].as_u64().unwrap(),
            input["rows_used"].as_u64().unwrap(),
            input["rows_rejected"].as_u64().unwrap(),
        );
        assert_eq!(read, used + rejected, "{input}");
        assert_eq!(input["sha256"].as_str().unwrap().len(), 64);
    }
    assert_eq!(manifest["as_of"], "2020-06-30");
    assert_eq!(manifest["counts"]["rows_rejected"], 2);
    let links = wd.csv_rows("out/links.csv");
    assert_eq!(
        links.len() as u64,
        manifest["counts"]["rows_read"].as_u64().unwrap()
    );
    assert_eq!(
        links
            .iter()
            .filter(|l| l["evidence"].starts_with("rejected:"))
            .count(),
        2
    );
    let rejects = wd.csv_rows("out/rejects.csv");
    let reasons: Vec<(&str, &str, &str)> = rejects
        .iter()
        .map(|r| {
            (
                r["source_file"].as_str(),
                r["source_row"].as_str(),
                r["reason"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("dpf_registry_macheng.xlsx", "6", "empty_row"),
            ("insurance_2019_2020.csv", "14", "ragged_row")
        ]
    );
}

#[test]
fn reruns_give_byte_identical_lists() {
    let wd = Workdir::new();
    let lists = || -> Vec<Vec<u8>> {
        wd.run_ok(&[&sample()]);
        [
            "gaps.csv",
            "summary.csv",
            "links.csv",
            "rejects.csv",
            "quality.csv",
            "counties/420325_房县.csv",
            "counties/420325_房县.xlsx",
        ]
        .iter()
        .map(|f| std::fs::read(wd.path(&format!("out/{f}"))).unwrap())
        .collect()
    };
    assert!(
        lists() == lists(),
        "an output differs between identical runs"
    );
}

#[test]
fn outputs_are_owner_only() {
    let wd = Workdir::new();
    wd.run_ok(&[&sample()]);
    let mode = |p: &str| std::fs::metadata(wd.path(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("out"), 0o700);
    assert_eq!(mode("out/counties"), 0o700);
    for file in [
        "gaps.csv",
        "run.json",
        "links.csv",
        "counties/421181_麻城市.xlsx",
        "counties/421181_麻城市.csv",
    ] {
        assert_eq!(mode(&format!("out/{file}")), 0o600, "{file}");
    }
}

/// Every full ID and name that a gap list shows with --full-ids.
fn full_ids_and_names(wd: &Workdir) -> (Vec<String>, Vec<String>) {
    wd.run_ok(&["--full-ids", &sample()]);
    let rows = wd.csv_rows("out/gaps.csv");
    let ids = rows
        .iter()
        .map(|r| r["id_number"].clone())
        .filter(|id| id.len() == 18 && !id.contains('*'))
        .collect();
    let names = rows.iter().map(|r| r["name"].clone()).collect();
    (ids, names)
}

#[test]
fn gap_lists_mask_ids_unless_asked_and_the_terminal_never_shows_them() {
    let wd = Workdir::new();
    let (ids, names) = full_ids_and_names(&wd);
    assert!(ids.len() >= 15, "{ids:?}");
    let run = wd.run_ok(&[&sample()]);
    let masked = [
        wd.read("out/gaps.csv"),
        wd.read("out/counties/420325_房县.csv"),
    ]
    .concat();
    for id in &ids {
        assert!(!masked.contains(id.as_str()), "full ID in a masked list");
        assert!(!run.stdout.contains(id.as_str()) && !run.stderr.contains(id.as_str()));
    }
    for name in &names {
        assert!(
            !run.stdout.contains(name.as_str()) && !run.stderr.contains(name.as_str()),
            "a name on the terminal"
        );
    }
    assert!(masked.contains("420325********"));
}

#[test]
fn county_workbooks_have_a_sheet_per_rule_with_ids_as_text() {
    use calamine::{Data, Reader};
    let wd = Workdir::new();
    wd.run_ok(&["--full-ids", &sample()]);
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook(wd.path("out/counties/420325_房县.xlsx")).unwrap();
    let sheets = workbook.sheet_names();
    assert!(
        sheets.contains(&"MED-01".to_string()) && sheets.contains(&"AUD-05".to_string()),
        "{sheets:?}"
    );
    let range = workbook.worksheet_range("MED-01").unwrap();
    assert_eq!(range.get((0, 5)), Some(&Data::String("身份证号".into())));
    assert_eq!(range.height(), 4);
    for row in 1..range.height() {
        assert!(
            matches!(range.get((row, 5)), Some(Data::String(s)) if s.len() == 18),
            "row {row}"
        );
    }
    let csv_bytes = std::fs::read(wd.path("out/counties/420325_房县.csv")).unwrap();
    assert!(
        csv_bytes.starts_with(b"\xEF\xBB\xBF"),
        "county CSVs carry a BOM for Excel"
    );
}

#[test]
fn summary_lists_every_rule_and_county_with_zeros() {
    let wd = Workdir::new();
    wd.run_ok(&[&sample()]);
    let rows = wd.csv_rows("out/summary.csv");
    let counties: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["county_code"].as_str()).collect();
    assert_eq!(rows.len(), 14 * counties.len());
    let find = |rule: &str, county: &str| {
        rows.iter()
            .find(|r| r["rule_id"] == rule && r["county_code"] == county)
            .unwrap()
            .clone()
    };
    assert_eq!(find("MED-01", "420325")["gaps"], "3");
    assert_eq!(find("MED-01", "421126")["gaps"], "0");
    let med = find("MED-01", "420325");
    let subjects: f64 = med["subjects"].parse().unwrap();
    assert_eq!(
        med["rate_without_gap"],
        format!("{:.4}", 1.0 - 3.0 / subjects)
    );
}
