//! Reading real files: encodings, spreadsheets, unfamiliar headers, and every kind of bad
//! input (a clear error naming the file, or a reject row; never a panic, never a silent loss).

use crate::workdir::{make_id, Workdir, DPF_HEADER, INSURANCE_HEADER};

fn id(seq: u32) -> String {
    make_id("420325", "19800101", seq)
}

/// A poor certified person (MED-01 subject) in `file`, and their 2020 enrollment in
/// `insurance`: no MED-01 gap when both are read and linked.
fn poor_person_rows(name: &str, seq: u32) -> (Vec<String>, Vec<String>) {
    let pid = id(seq);
    let dpf = vec![name, &pid, "肢体", "四级", "房县", "是", "因病", "正常"]
        .into_iter()
        .map(String::from)
        .collect();
    let ins = vec![name, &pid, "2020", "正常参保", "建档立卡"]
        .into_iter()
        .map(String::from)
        .collect();
    (dpf, ins)
}

fn strs(row: &[String]) -> Vec<&str> {
    row.iter().map(String::as_str).collect()
}

#[test]
fn utf8_bom_gbk_and_xlsx_are_read_alike() {
    let wd = Workdir::new();
    let (d1, i1) = poor_person_rows("张三", 11);
    let (d2, i2) = poor_person_rows("李四", 13);
    let (d3, i3) = poor_person_rows("王䶮", 15);
    wd.write_csv("in/dpf_utf8.csv", &[DPF_HEADER.to_vec(), strs(&d1)]);
    wd.write_csv_bom("in/dpf_bom.csv", &[DPF_HEADER.to_vec(), strs(&d2)]);
    wd.write_csv_gbk("in/dpf_gb18030.csv", &[DPF_HEADER.to_vec(), strs(&d3)]);
    wd.write_xlsx(
        "in/insurance.xlsx",
        &[INSURANCE_HEADER.to_vec(), strs(&i1), strs(&i2), strs(&i3)],
    );
    wd.run_ok(&["in"]);
    assert!(wd.gaps().is_empty(), "{:?}", wd.gaps());
    let manifest: serde_json::Value = serde_json::from_str(&wd.read("out/run.json")).unwrap();
    let encodings: Vec<String> = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["encoding"].to_string())
        .collect();
    assert_eq!(
        encodings,
        ["\"UTF-8 with BOM\"", "\"GBK/GB18030\"", "\"UTF-8\"", "null"]
    );
    let links = wd.read("out/links.csv");
    assert_eq!(links.lines().count(), 7);
}

#[test]
fn an_id_in_an_xlsx_number_cell_is_damaged_and_never_links() {
    let wd = Workdir::new();
    let (dpf, _) = poor_person_rows("张三", 11);
    wd.write_csv("in/dpf.csv", &[DPF_HEADER.to_vec(), strs(&dpf)]);
    let number = format!("#{}", id(11));
    wd.write_xlsx(
        "in/insurance.xlsx",
        &[
            INSURANCE_HEADER.to_vec(),
            vec!["张三", &number, "2020", "正常参保", "建档立卡"],
        ],
    );
    wd.run_ok(&["in"]);
    assert_eq!(wd.gaps(), vec![("MED-01".into(), "dpf.csv".into(), 1)]);
    let quality = wd.read("out/quality.csv");
    assert!(
        quality.contains("insurance.xlsx,B 证件号码,damaged_excel,1"),
        "{quality}"
    );
    assert!(wd.read("out/links.csv").contains("unlinked:damaged_excel"));
}

#[test]
fn descriptive_headers_and_title_rows_need_no_config() {
    let wd = Workdir::new();
    let pid = id(11);
    let head = id(13);
    wd.write_csv(
        "in/civil.csv",
        &[
            vec!["2020年房县救助对象花名册", "", "", "", "", ""],
            vec![
                "救助对象姓名",
                "户主身份证号",
                "公民身份号码",
                "救助类别",
                "当前状态",
                "所在区县",
            ],
            vec!["张三", &head, &pid, "困难残疾人生活补贴", "正常", "房县"],
        ],
    );
    // A registry with another person: AUD-01 reads the registry, so it needs rows.
    let (other, _) = poor_person_rows("李四", 15);
    wd.write_csv("in/dpf.csv", &[DPF_HEADER.to_vec(), strs(&other)]);
    wd.run_ok(&["--rule", "AUD-01", "in"]);
    let gaps = wd.csv_rows("out/gaps.csv");
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0]["source_row"], "1");
    assert_eq!(
        gaps[0]["id_number"],
        "420325********".to_string() + &pid[14..],
        "the person's own ID, not the household head's"
    );
    let inspect = wd.recon(&["inspect", "in"]);
    assert!(
        inspect.stdout.contains("header row: 2"),
        "{}",
        inspect.stdout
    );
    assert!(
        inspect.stdout.contains("B 户主身份证号") && inspect.stdout.contains("household_head_id"),
        "{}",
        inspect.stdout
    );
}

/// Runs over a folder holding one good file and `bad`, expecting exit 2, an error naming the
/// bad file and `needle`, and the previous output left as it was.
fn assert_rejected_file(wd: &Workdir, bad: &str, needle: &str) {
    let (dpf, _) = poor_person_rows("张三", 11);
    wd.write_csv("good/dpf.csv", &[DPF_HEADER.to_vec(), strs(&dpf)]);
    wd.run_ok(&["good"]);
    let before = wd.read("out/gaps.csv");
    std::fs::copy(wd.path("good/dpf.csv"), wd.path("in/dpf.csv")).unwrap();
    let run = wd.recon(&["run", "--as-of", "2020-06-30", "--out", "out", "in"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(bad) && run.stderr.contains(needle),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was written"));
    assert_eq!(wd.read("out/gaps.csv"), before);
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn an_empty_file_is_an_error() {
    let wd = Workdir::new();
    wd.write_bytes("in/empty.csv", b"");
    assert_rejected_file(&wd, "empty.csv", "empty (0 bytes)");
}

#[test]
fn binary_garbage_renamed_csv_is_an_error() {
    let wd = Workdir::new();
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    wd.write_bytes("in/garbage.csv", &garbage);
    assert_rejected_file(&wd, "garbage.csv", "binary content");
}

#[test]
fn an_unreadable_xlsx_is_an_error() {
    let wd = Workdir::new();
    wd.write_bytes("in/broken.xlsx", b"PK\x03\x04 this is not a workbook");
    assert_rejected_file(&wd, "broken.xlsx", "unreadable spreadsheet");
}

#[test]
fn a_missing_required_column_names_the_fields_lacking() {
    let wd = Workdir::new();
    wd.write_csv(
        "in/civil.csv",
        &[
            vec!["姓名", "救助类别", "状态"],
            vec!["张三", "农村低保", "正常"],
        ],
    );
    assert_rejected_file(
        &wd,
        "civil.csv",
        "its 3 columns are no department's (civil lacks id_number",
    );
}

#[test]
fn duplicate_headers_are_an_error() {
    let wd = Workdir::new();
    wd.write_csv(
        "in/civil.csv",
        &[
            vec!["姓名", "身份证号", "身份证号", "救助类别"],
            vec!["张三", "1", "2", "农村低保"],
        ],
    );
    assert_rejected_file(
        &wd,
        "civil.csv",
        "columns B and C both look like field `id_number`",
    );
}

/// A source whose only file holds its header: read, with no rows, and the rules that read it
/// are reported as not run, never as a flood of gaps (every poor person "uninsured").
#[test]
fn a_header_only_file_is_read_with_no_rows() {
    let wd = Workdir::new();
    wd.write_csv("in/insurance.csv", &[INSURANCE_HEADER.to_vec()]);
    let (dpf, _) = poor_person_rows("张三", 11);
    wd.write_csv("in/dpf.csv", &[DPF_HEADER.to_vec(), strs(&dpf)]);
    let run = wd.run_ok(&["in"]);
    assert_eq!(wd.gaps(), vec![]);
    assert!(
        run.stdout
            .contains("MED-01 not run: source insurance (医保 参保登记) has no rows"),
        "{}",
        run.stdout
    );
    let manifest: serde_json::Value = serde_json::from_str(&wd.read("out/run.json")).unwrap();
    let not_run = &manifest["input_checks"]["rules_not_run"];
    assert!(
        not_run
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule"] == "MED-01"),
        "{not_run}"
    );
    let summary = wd.csv_rows("out/summary.csv");
    let med = summary.iter().find(|r| r["rule_id"] == "MED-01").unwrap();
    assert!(med["not_checked"].contains("本规则未运行"), "{med:?}");
}

#[test]
fn ragged_rows_huge_fields_and_blank_rows_are_rejected_and_counted() {
    let wd = Workdir::new();
    let (d1, _) = poor_person_rows("张三", 11);
    let (d2, _) = poor_person_rows("李四", 13);
    let huge = "备".repeat(10 * 1024 * 1024 / 3);
    let mut text = String::new();
    text.push_str(&DPF_HEADER.join(","));
    text.push('\n');
    text.push_str(&d1.join(","));
    text.push_str("\n张三,1,肢体\n");
    text.push_str(&format!("{},{}\n", d2.join(","), "多出的一列"));
    text.push_str(",,,,,,,\n");
    text.push_str(&format!("王五,{},肢体,四级,房县,否,{huge},正常\n", id(15)));
    wd.write_bytes("in/dpf.csv", text.as_bytes());
    let run = wd.run_ok(&["in"]);
    assert!(
        run.stdout.contains("1 rows used, 4 rejected"),
        "{}",
        run.stdout
    );
    let rejects = wd.csv_rows("out/rejects.csv");
    let reasons: Vec<(&str, &str, &str)> = rejects
        .iter()
        .map(|r| {
            (
                r["source_row"].as_str(),
                r["reason"].as_str(),
                r["column"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("2", "ragged_row", ""),
            ("3", "ragged_row", ""),
            ("4", "empty_row", ""),
            ("5", "field_too_long", "G 致贫原因")
        ]
    );
}

/// A quote inside an unquoted field (`5"`) is a character, as the csv crate reads it: a quoted
/// field with a line break further down stays whole however finely the file is cut into pieces
/// to parse (`RECON_CHUNK_ROWS=1`: pieces of 64 bytes), and every row is used.
#[test]
fn a_stray_quote_breaks_no_row() {
    let wd = Workdir::new();
    let mut text = DPF_HEADER.join(",") + ",备注\n";
    for seq in 0..40 {
        let (row, _) = poor_person_rows(
            &format!("张{}", char::from_u32(0x4e00 + seq).unwrap()),
            11 + 2 * seq,
        );
        let note = match seq % 4 {
            0 => "身高5\"3".to_string(),
            1 => "\"住址：房县\n城关镇\"".to_string(),
            2 => "\"他说\"\"好\"\"\"".to_string(),
            _ => String::new(),
        };
        text.push_str(&format!("{},{note}\n", row.join(",")));
    }
    wd.write_bytes("in/dpf.csv", text.as_bytes());
    for chunk_rows in ["1", "65536"] {
        let run = wd.recon_env(
            &["run", "--as-of", "2020-06-30", "--out", "out", "in"],
            ("RECON_CHUNK_ROWS", chunk_rows),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stdout.contains("40 rows used, 0 rejected"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn mixed_encodings_in_one_folder_and_a_pinned_file() {
    let wd = Workdir::new();
    let (d1, i1) = poor_person_rows("张三", 11);
    wd.write_csv_gbk("in/残联.csv", &[DPF_HEADER.to_vec(), strs(&d1)]);
    wd.write_csv(
        "in/odd.csv",
        &[vec!["参保人", "号码", "年", "状况", "资助"], strs(&i1)],
    );
    let unpinned = wd.recon(&["run", "--as-of", "2020-06-30", "--out", "out", "in"]);
    assert_eq!(unpinned.code, 2);
    assert!(unpinned.stderr.contains("odd.csv"), "{}", unpinned.stderr);
    let pin = "\n[[file]]\nname = \"odd*.csv\"\nsource = \"insurance\"\ncolumns = { \"参保人\" = \"name\", \"号码\" = \"id_number\", \"年\" = \"year\", \"状况\" = \"status\", \"资助\" = \"subsidy_type\" }\n";
    let config =
        std::fs::read_to_string(crate::workdir::repo_path("configs/default.toml")).unwrap() + pin;
    wd.write_bytes("pinned.toml", config.as_bytes());
    wd.run_ok(&["--config", "pinned.toml", "in"]);
    assert!(wd.gaps().is_empty(), "{:?}", wd.gaps());
}

#[test]
fn every_sheet_of_a_workbook_is_read_under_its_own_name() {
    let wd = Workdir::new();
    let (dpf, ins) = poor_person_rows("张三", 11);
    let (dpf2, _) = poor_person_rows("李四", 13);
    let registry = [DPF_HEADER.to_vec(), strs(&dpf), strs(&dpf2)];
    let insurance = [INSURANCE_HEADER.to_vec(), strs(&ins)];
    wd.write_xlsx_sheets(
        "in/book.xlsx",
        &[("残联", &registry), ("医保", &insurance), ("空白", &[])],
    );
    wd.run_ok(&["in"]);
    assert_eq!(
        wd.gaps(),
        vec![("MED-01".into(), "book.xlsx[残联]".into(), 2)]
    );
    let manifest: serde_json::Value = serde_json::from_str(&wd.read("out/run.json")).unwrap();
    let sheets: Vec<&str> = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sheet"].as_str().unwrap())
        .collect();
    assert_eq!(sheets, ["残联", "医保"]);
}

/// A sheet as clerks leave them: column A empty, a title in B1, a blank row, the header, a
/// blank row between the data, trailing cells left empty, a note right of the header. Rows
/// and columns are named as Excel shows them.
#[test]
fn a_sheet_that_does_not_start_at_a1_is_read_where_its_cells_are() {
    let wd = Workdir::new();
    let (dpf, ins) = poor_person_rows("张三", 11);
    let (dpf2, _) = poor_person_rows("李四", 13);
    let (dpf3, ins3) = poor_person_rows("王五", 15);
    let number = format!("#{}", id(15));
    fn shifted(cells: Vec<&str>) -> Vec<&str> {
        [vec![""], cells].concat()
    }
    let rows = vec![
        shifted(vec!["2020年参保名单"]),
        vec![],
        shifted(INSURANCE_HEADER.to_vec()),
        shifted(vec![&ins[0], &ins[1], &ins[2], &ins[3]]),
        vec![],
        shifted(vec![
            "王五",
            &number,
            &ins3[2],
            &ins3[3],
            "",
            "",
            "备注：号码待核",
        ]),
    ];
    wd.write_xlsx("in/insurance.xlsx", &rows);
    wd.write_csv(
        "in/dpf.csv",
        &[DPF_HEADER.to_vec(), strs(&dpf), strs(&dpf2), strs(&dpf3)],
    );
    wd.run_ok(&["in"]);
    // 张三 is enrolled; 李四 is not; 王五's ID was typed into a number cell, so it places him
    // nowhere.
    assert_eq!(
        wd.gaps()
            .into_iter()
            .filter(|g| g.0 == "MED-01")
            .collect::<Vec<_>>(),
        vec![
            ("MED-01".into(), "dpf.csv".into(), 2),
            ("MED-01".into(), "dpf.csv".into(), 3)
        ]
    );
    let rejects = wd.csv_rows("out/rejects.csv");
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(
        (
            rejects[0]["source_file"].as_str(),
            rejects[0]["source_row"].as_str()
        ),
        ("insurance.xlsx", "2")
    );
    assert_eq!(rejects[0]["reason"], "empty_row");
    let quality = wd.read("out/quality.csv");
    assert!(
        quality.contains("insurance.xlsx,C 证件号码,damaged_excel,1"),
        "{quality}"
    );
    let manifest: serde_json::Value = serde_json::from_str(&wd.read("out/run.json")).unwrap();
    let sheet = &manifest["inputs"][1];
    assert_eq!(
        (sheet["rows_read"].as_u64(), sheet["rows_used"].as_u64()),
        (Some(3), Some(2))
    );
}

#[test]
fn a_file_that_fits_two_sources_equally_is_ambiguous() {
    let wd = Workdir::new();
    wd.write_csv(
        "in/both.csv",
        &[
            vec!["姓名", "身份证号", "残疾类别", "救助类别"],
            vec!["张三", &id(11), "", "农村低保"],
        ],
    );
    assert_rejected_file(
        &wd,
        "both.csv",
        "ambiguous: the headers fit civil and dpf equally well",
    );
}

#[test]
fn a_headerless_export_is_an_error_that_shows_no_personal_data() {
    let wd = Workdir::new();
    let pid = id(11);
    wd.write_csv("in/noheader.csv", &[vec!["张三", &pid, "农村低保", "正常"]]);
    let run = wd.recon(&["run", "--out", "out", "in"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("data, not headers"), "{}", run.stderr);
    assert!(
        !run.stderr.contains(&pid) && !run.stderr.contains("张三"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_totals_row_is_rejected_not_taken_for_a_person() {
    let wd = Workdir::new();
    let (dpf, _) = poor_person_rows("张三", 11);
    wd.write_csv(
        "in/dpf.csv",
        &[
            DPF_HEADER.to_vec(),
            strs(&dpf),
            vec!["合计", "", "", "", "", "1人", "", ""],
        ],
    );
    wd.run_ok(&["in"]);
    let rejects = wd.csv_rows("out/rejects.csv");
    assert_eq!(rejects.len(), 1);
    assert_eq!(
        (
            rejects[0]["source_row"].as_str(),
            rejects[0]["reason"].as_str()
        ),
        ("2", "summary_row")
    );
}

/// A county name that several counties share (朝阳区: Beijing's and Changchun's), on a row
/// whose ID cannot tell them apart, is the one where the rest of the file lies, and the quality
/// report says so; where the file lies in neither, it stays unknown.
#[test]
fn a_shared_county_name_is_read_where_its_file_lies() {
    let wd = Workdir::new();
    let row = |name: &str, id: &str, county: &str| {
        [name, id, "肢体", "四级", county, "是", "因病", "正常"].map(String::from)
    };
    let districts = [
        ("110101", "东城区"),
        ("110102", "西城区"),
        ("110105", "朝阳区"),
    ];
    let mut rows: Vec<[String; 8]> = (districts.iter().enumerate())
        .map(|(i, (code, name))| {
            row(
                &format!("甲{i}"),
                &make_id(code, "19700101", 10 + i as u32),
                name,
            )
        })
        .collect();
    rows.push(row("乙", "", "朝阳区"));
    // The registry, and an insurance export (MED-01 needs one) that enrolls none of them.
    let write = |folder: &str, rows: &[[String; 8]]| {
        let mut all = vec![DPF_HEADER.to_vec()];
        all.extend(rows.iter().map(|r| r.iter().map(String::as_str).collect()));
        wd.write_csv(&format!("{folder}/残联.csv"), &all);
        let other = make_id("110101", "19900101", 99);
        let insured = vec!["戊", &other, "2020", "正常参保", "建档立卡"];
        wd.write_csv(
            &format!("{folder}/医保.csv"),
            &[INSURANCE_HEADER.to_vec(), insured],
        );
    };
    write("beijing", &rows);
    let run = wd.run_ok(&["beijing"]);
    let county_of = |name_masked: &str| {
        (wd.csv_rows("out/gaps.csv").into_iter())
            .find(|g| g["rule_id"] == "MED-01" && g["name"] == name_masked)
            .map(|g| g["county_code"].clone())
    };
    assert_eq!(county_of("乙").as_deref(), Some("110105"), "{}", run.stderr);
    let quality = wd.read("out/quality.csv");
    assert!(quality.contains("county_from_file_area,1"), "{quality}");
    assert!(!quality.contains("county_missing"), "{quality}");

    // Half in Beijing, half in Changchun: no area holds most of the file.
    rows[2] = row("丙", &make_id("220102", "19700101", 21), "南关区");
    rows.push(row("丁", &make_id("220103", "19700101", 22), "宽城区"));
    write("split", &rows);
    wd.run_ok(&["split"]);
    assert_eq!(county_of("乙").as_deref(), Some(""));
    assert!(wd.read("out/quality.csv").contains("county_missing,1"));
}
