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
        run.stdout.contains("Gaps by rule and county (30 in all)"),
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
    assert_eq!(inputs.len(), 11);
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

/// The text of one part of an XLSX (a zip of XML parts).
fn xlsx_part(path: &std::path::Path, part: &str) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    archive
        .by_name(part)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The county workbook is a work form: 说明 first (the night, each list's count, basis, what
/// to do and who acts), a sheet per rule named in Chinese, IDs as text and numbers as numbers,
/// autofilter, frozen header, landscape one-page-wide print with the header repeated, a list
/// of results and a date check on the editable columns; the CSV twin has the same columns.
#[test]
fn county_workbooks_are_work_forms() {
    use calamine::{Data, Reader};
    let wd = Workdir::new();
    wd.run_ok(&["--full-ids", &sample()]);
    let path = wd.path("out/counties/420325_房县.xlsx");
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let sheets = workbook.sheet_names();
    assert_eq!(sheets[0], "说明");
    assert!(
        sheets.contains(&"持证贫困残疾人未参加基本医疗保险".to_string())
            && sheets.contains(&"同一救助项目重复享受".to_string()),
        "{sheets:?}"
    );
    let guide = workbook.worksheet_range("说明").unwrap();
    let guide_text: Vec<String> = guide.rows().flatten().map(|c| c.to_string()).collect();
    assert!(guide_text.iter().any(|t| t.contains("数据截至2020-06-30")));
    let med = guide
        .rows()
        .find(|r| r.get(1) == Some(&Data::String("MED-01".into())))
        .expect("MED-01 on 说明");
    assert_eq!(
        med[2],
        Data::Float(3.0),
        "the count of the list, as a number"
    );
    assert_eq!(med[5], Data::String("医疗保障部门".into()));
    assert!(
        med[6]
            .to_string()
            .contains("疑点：此人在医保 参保登记中无截至2020-06-30有效的记录"),
        "what the rule flags, from its definition: {}",
        med[6]
    );
    assert!(
        med[4].to_string().contains("参保登记"),
        "what the county is to do"
    );

    let range = workbook
        .worksheet_range("持证贫困残疾人未参加基本医疗保险")
        .unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(range.height(), 4);
    assert_eq!(
        header[header.len() - 5..],
        ["核查结果", "整改情况", "责任人", "完成时限", "备注"]
    );
    for row in 1..range.height() {
        let cell = |name: &str| range.get((row, column(name))).unwrap().clone();
        assert!(
            matches!(cell("身份证号"), Data::String(s) if s.len() == 18),
            "row {row}"
        );
        assert_eq!(cell("序号"), Data::Float(row as f64));
        assert!(matches!(cell("行号"), Data::Float(_)));
        assert_eq!(cell("区县代码"), Data::Float(420325.0));
        assert_eq!(cell("规则编号"), Data::String("MED-01".into()));
        assert!(matches!(cell("台账编号"), Data::String(s) if s.starts_with("MED-01:P")));
        let detail = cell("问题说明").to_string();
        assert!(
            !detail.contains('_') && !detail.contains("verified"),
            "{detail}"
        );
    }
    let sheet_xml = xlsx_part(&path, "xl/worksheets/sheet2.xml");
    for wanted in [
        "<autoFilter ref=\"A1:AA4\"",
        "state=\"frozen\"",
        "orientation=\"landscape\"",
        "fitToHeight=\"0\"",
        "<dataValidation type=\"list\"",
        "属实,不属实,已整改,政策外情形,其他",
        "<dataValidation type=\"date\"",
    ] {
        assert!(sheet_xml.contains(wanted), "{wanted}");
    }
    assert!(xlsx_part(&path, "xl/workbook.xml").contains("_xlnm.Print_Titles"));

    let csv_bytes = std::fs::read(wd.path("out/counties/420325_房县.csv")).unwrap();
    assert!(
        csv_bytes.starts_with(b"\xEF\xBB\xBF"),
        "county CSVs carry a BOM for Excel"
    );
    let csv_header = String::from_utf8_lossy(&csv_bytes[3..])
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        csv_header,
        header.join(","),
        "the CSV twin has the same columns"
    );
}

/// What openpyxl sees in a workbook (tests/python/workbook_facts.py), or `None` where Python
/// or openpyxl is missing outside CI (`.ci/run` installs openpyxl, so CI always checks).
fn openpyxl_facts(path: &std::path::Path) -> Option<serde_json::Value> {
    let script = repo_path("tests/python/workbook_facts.py");
    let output = std::process::Command::new("python3")
        .arg(&script)
        .arg(path)
        .output();
    match output {
        Ok(out) if out.status.success() => Some(serde_json::from_slice(&out.stdout).unwrap()),
        failed if std::env::var_os("CI").is_none() => {
            eprintln!(
                "openpyxl check skipped (pip install -r tests/python/requirements.txt): {failed:?}"
            );
            None
        }
        failed => panic!("openpyxl could not read the workbook: {failed:?}"),
    }
}

/// The county workbook as openpyxl (the library offices' own scripts use) reads it: sheets
/// named in Chinese after 说明, a filter over every row, the header frozen and repeated on
/// each printed page, landscape A3 one page wide, the result list and the date check on
/// the editable columns of every row, numbers as numbers and IDs as text.
#[test]
fn county_workbook_as_openpyxl_reads_it() {
    let wd = Workdir::new();
    wd.run_ok(&["--full-ids", &sample()]);
    let Some(book) = openpyxl_facts(&wd.path("out/counties/420325_房县.xlsx")) else {
        return;
    };
    let sheets: Vec<&str> = book["sheets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(sheets[0], "说明");
    assert!(sheets[1..].iter().all(|s| !s.is_ascii()), "{sheets:?}");
    let guide = book["facts"]["说明"]["text"].to_string();
    for wanted in ["数据截至2020-06-30", "MED-01", "医疗保障部门", "核查结果"] {
        assert!(guide.contains(wanted), "说明 lacks {wanted}");
    }
    let med = &book["facts"]["持证贫困残疾人未参加基本医疗保险"];
    let rows = med["rows"].as_u64().unwrap();
    assert_eq!(med["filter"], format!("A1:AA{rows}"));
    assert_eq!(med["frozen"], "A2");
    assert_eq!(med["title_rows"], "$1:$1");
    assert_eq!(
        (
            &med["orientation"],
            &med["paper"],
            &med["fit_to_page"],
            &med["fit_to_height"]
        ),
        (&"landscape".into(), &8.into(), &true.into(), &0.into()),
        "landscape A3, one page wide"
    );
    let validations = med["validations"].as_array().unwrap();
    let list = validations.iter().find(|v| v["type"] == "list").unwrap();
    assert_eq!(list["formula"], "\"属实,不属实,已整改,政策外情形,其他\"");
    assert_eq!(list["cells"], format!("W2:W{rows}"));
    assert!(validations
        .iter()
        .any(|v| v["type"] == "date" && v["cells"] == format!("Z2:Z{rows}")));
    let header = med["header"].as_array().unwrap();
    assert_eq!(header[22], "核查结果", "the result column is W");
    assert_eq!(header[25], "完成时限", "the deadline column is Z");
    let types = &med["types"];
    for number in ["序号", "区县代码", "行号"] {
        assert_eq!(types[number], serde_json::json!(["int"]), "{number}");
    }
    assert_eq!(types["身份证号"], serde_json::json!(["str"]));
}

#[test]
fn summary_lists_every_rule_and_county_with_zeros() {
    let wd = Workdir::new();
    wd.run_ok(&[&sample()]);
    let rows = wd.csv_rows("out/summary.csv");
    let counties: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["county_code"].as_str()).collect();
    assert_eq!(rows.len(), 21 * counties.len());
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
