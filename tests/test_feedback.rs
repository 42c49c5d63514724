//! The county loop: lists go out, come back filled in, and `recon ledger import` records what
//! the counties found, row by row, without letting a bad row block the good ones.

use std::path::Path;

use calamine::{Data, DataType};

use crate::workdir::{make_id, repo_path, sheets_of, Workdir};

const LIST: &str = "out/counties/420325_房县.xlsx";

fn night(wd: &Workdir, as_of: &str) {
    let sample = repo_path("sample_data").display().to_string();
    let args = [
        "run", "-q", "--as-of", as_of, "--out", "out", "--ledger", "l.sqlite", &sample,
    ];
    let run = wd.recon(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// What a county types into a list: (sheet index, data row, column header, cell).
type Edit<'a> = (usize, usize, &'a str, Data);

/// The county's copy of its list, saved again with `edits` typed in (as Excel would).
fn returned(wd: &Workdir, from: &str, to: &str, edits: &[Edit]) {
    let mut sheets = sheets_of(&wd.path(from));
    for (sheet, row, header, value) in edits {
        let rows = &mut sheets[*sheet].1;
        let column = rows[0]
            .iter()
            .position(|h| *h == Data::String(header.to_string()))
            .unwrap();
        rows[*row][column] = value.clone();
    }
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (name, rows) in &sheets {
        let sheet = workbook.add_worksheet().set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    Data::String(s) => sheet.write_string(r, c, s).map(|_| ()),
                    Data::Float(f) => sheet.write_number(r, c, *f).map(|_| ()),
                    Data::DateTime(d) => sheet
                        .write_number_with_format(r, c, d.as_f64(), &date)
                        .map(|_| ()),
                    _ => Ok(()),
                }
                .unwrap();
            }
        }
    }
    workbook.save(wd.path(to)).unwrap();
}

fn text(s: &str) -> Data {
    Data::String(s.into())
}

/// A date cell, as Excel stores 2020-08-31.
fn date_cell() -> Data {
    Data::DateTime(calamine::ExcelDateTime::new(
        44074.0,
        calamine::ExcelDateTimeType::DateTime,
        false,
    ))
}

fn import(wd: &Workdir, files: &[&str]) -> crate::workdir::Run {
    let mut args = vec!["ledger", "import"];
    args.extend_from_slice(files);
    args.extend_from_slice(&["--ledger", "l.sqlite"]);
    wd.recon(&args)
}

/// The night's list's cells of one column, on sheet `sheet`.
fn column_of(path: &Path, sheet: usize, header: &str) -> Vec<String> {
    let rows = &sheets_of(path)[sheet].1;
    let at = rows[0]
        .iter()
        .position(|h| *h == Data::String(header.into()))
        .unwrap();
    rows.iter().skip(1).map(|r| r[at].to_string()).collect()
}

#[test]
fn returned_lists_are_recorded_row_by_row_and_come_back_filled_in() {
    let wd = Workdir::new();
    night(&wd, "2020-06-30");
    // Sheet 1 is the MED-01 list of 房县, with three rows; sheet 2 the MED-02 list.
    let edits: Vec<Edit> = vec![
        (1, 1, "核查结果", text("属实")),
        (1, 1, "整改情况", text("已协助参保")),
        (1, 1, "责任人", text("王五")),
        (1, 1, "完成时限", date_cell()),
        (1, 2, "核查结果", text("不属实")),
        (1, 2, "备注", text("已在外省参保")),
        (1, 3, "核查结果", text("核实过了")),
        (2, 1, "核查结果", text("属实")),
        (2, 1, "区县代码", Data::Float(421181.0)),
    ];
    returned(&wd, LIST, "returned.xlsx", &edits);
    let first = import(&wd, &["returned.xlsx"]);
    assert_eq!(first.code, 2, "some rows are rejected: {}", first.stderr);
    assert!(
        first.stdout.contains("2 recorded, 0 unchanged"),
        "{}",
        first.stdout
    );
    for typed in ["核实过了", "王五", "已在外省参保"] {
        assert!(!first.stdout.contains(typed) && !first.stderr.contains(typed));
    }
    let rejects = wd.csv_rows("l.import-rejects.csv");
    let reasons: Vec<(&str, &str)> = rejects
        .iter()
        .map(|r| (r["row"].as_str(), r["column"].as_str()))
        .collect();
    assert_eq!(
        reasons,
        [("4", "核查结果"), ("2", "台账编号")],
        "{rejects:?}"
    );
    assert!(rejects[1]["reason"].contains("属于区县420325"));

    let again = import(&wd, &["returned.xlsx"]);
    assert!(
        again.stdout.contains("0 recorded, 2 unchanged"),
        "importing again changes nothing: {}",
        again.stdout
    );

    // The CSV twin comes back too, re-saved by Excel (as GBK, without BOM).
    let csv = wd.read("out/counties/420325_房县.csv");
    let mut lines: Vec<String> = csv
        .trim_start_matches('\u{feff}')
        .lines()
        .map(String::from)
        .collect();
    let aud = lines.iter().position(|l| l.contains(",AUD-02,")).unwrap();
    lines[aud] = format!("{},已整改,已停发,,,", lines[aud].trim_end_matches(",,,,,"));
    let resaved = lines.join("\r\n");
    let (gbk, _, _) = encoding_rs::GBK.encode(&resaved);
    wd.write_bytes("returned.csv", &gbk);
    let from_csv = import(&wd, &["returned.csv"]);
    assert_eq!(
        from_csv.code,
        0,
        "{}{}",
        from_csv.stdout,
        wd.read("l.import-rejects.csv")
    );
    assert!(
        from_csv.stdout.contains("1 recorded"),
        "{}",
        from_csv.stdout
    );

    // The next night's list carries what the county wrote, and gaps.csv its result.
    night(&wd, "2020-07-01");
    let path = wd.path(LIST);
    assert_eq!(column_of(&path, 1, "核查结果")[..2], ["属实", "不属实"]);
    assert_eq!(column_of(&path, 1, "完成时限")[0], "2020-08-31");
    let results: Vec<String> = wd
        .csv_rows("out/gaps.csv")
        .into_iter()
        .filter(|g| g["county_code"] == "420325")
        .map(|g| g["county_result"].clone())
        .filter(|r| !r.is_empty())
        .collect();
    assert_eq!(results.len(), 3, "{results:?}");

    // A result from the newer list stands: the older list cannot overwrite it.
    returned(&wd, LIST, "newer.xlsx", &[(1, 1, "备注", text("已办结"))]);
    assert_eq!(import(&wd, &["newer.xlsx"]).code, 0);
    let older = [(1, 1, "核查结果", text("其他"))];
    returned(&wd, "returned.xlsx", "older.xlsx", &older);
    let refused = import(&wd, &["older.xlsx"]);
    assert_eq!(refused.code, 2);
    let rejects = wd.csv_rows("l.import-rejects.csv");
    assert!(
        rejects
            .iter()
            .any(|r| r["row"] == "2" && r["reason"].contains("较旧")),
        "{rejects:?}"
    );
}

/// The numbers of 房县's MED-01 row in a period report's workbook: found, closed by data,
/// closed after a fix, exceptions, open by age.
fn period_med01(wd: &Workdir, workbook: &str) -> Vec<f64> {
    let sheets = sheets_of(&wd.path(workbook));
    let med = sheets[0]
        .1
        .iter()
        .find(|r| r[0] == Data::Float(420325.0) && r[2] == text("MED-01"))
        .unwrap();
    med[4..].iter().map(|c| c.get_float().unwrap()).collect()
}

/// The sample's exports copied into `in/`.
fn copy_sample(wd: &Workdir) {
    for entry in std::fs::read_dir(repo_path("sample_data")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !name.ends_with(".py") && !name.ends_with(".md") {
            wd.write_bytes(&format!("in/{name}"), &std::fs::read(&path).unwrap());
        }
    }
}

/// A night over a copy of the sample in `in/`.
fn night_on_copy(wd: &Workdir, as_of: &str) {
    let args = [
        "run", "-q", "--as-of", as_of, "--out", "out", "--ledger", "l.sqlite", "in",
    ];
    let run = wd.recon(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// The MED-01 cell of 房县 in the morning report: (gaps counted, exceptions).
fn med01_counts(wd: &Workdir) -> (u64, u64) {
    let report: serde_json::Value = serde_json::from_str(&wd.read("out/report.json")).unwrap();
    let cell = report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule_id"] == "MED-01" && c["county_code"] == "420325")
        .unwrap()
        .clone();
    (
        cell["gaps"].as_u64().unwrap(),
        cell["exceptions"].as_u64().unwrap(),
    )
}

/// 不属实 takes an item out of the count while its facts stay as the county checked them, and
/// puts it back, to be checked again, once they change; 已整改 that the data does not show is
/// flagged, and once the data shows it the item closes with that as what closed it.
#[test]
fn county_results_change_the_count_until_the_data_says_otherwise() {
    let wd = Workdir::new();
    copy_sample(&wd);
    night_on_copy(&wd, "2020-06-30");
    assert_eq!(med01_counts(&wd), (3, 0));
    let edits: Vec<Edit> = vec![
        (1, 1, "核查结果", text("不属实")),
        (1, 1, "备注", text("已在外省参保，见参保凭证")),
        (1, 2, "核查结果", text("已整改")),
    ];
    returned(&wd, LIST, "returned.xlsx", &edits);
    assert_eq!(import(&wd, &["returned.xlsx"]).code, 0);

    night_on_copy(&wd, "2020-07-01");
    let path = wd.path(LIST);
    let standing = column_of(&path, 1, "台账状态");
    assert_eq!(standing[..2], ["核实为例外（不计入）", "整改未见数据"]);
    assert_eq!(med01_counts(&wd), (2, 1), "the exception leaves the count");
    let standings: Vec<String> = wd
        .csv_rows("out/gaps.csv")
        .into_iter()
        .map(|g| g["county_standing"].clone())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(standings, ["exception", "fix_not_seen"]);

    // 刘建国's certificate grade changes: the facts the county checked are gone.
    let registry = wd.read("in/dpf_registry_fangxian.csv");
    let changed = registry.replace(
        "刘建国,男,420325197005120110,42032519700512011043,肢体,三级",
        "刘建国,男,420325197005120110,42032519700512011043,肢体,二级",
    );
    assert_ne!(changed, registry);
    wd.write_bytes("in/dpf_registry_fangxian.csv", changed.as_bytes());
    night_on_copy(&wd, "2020-07-02");
    assert_eq!(
        column_of(&wd.path(LIST), 1, "台账状态")[0],
        "情况有变，请再核"
    );
    assert_eq!(med01_counts(&wd), (3, 0));

    // 陈秀英 is insured for 2020 at last: the data shows the fix.
    let insurance = wd.read("in/insurance_2019_2020.csv");
    let insured = format!(
        "{insurance}陈秀英,420325195811030129,2020,城乡居民基本医疗保险,正常参保,,,低保定额,房县\n"
    );
    wd.write_bytes("in/insurance_2019_2020.csv", insured.as_bytes());
    night_on_copy(&wd, "2020-07-03");
    assert_eq!(med01_counts(&wd), (2, 0));
    let list = wd.recon(&[
        "ledger", "list", "--ledger", "l.sqlite", "--format", "csv", "--status", "closed",
    ]);
    let mut reader = csv::Reader::from_reader(list.stdout.as_bytes());
    let closed: Vec<(String, String)> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[1].to_string(), r[12].to_string()))
        .collect();
    // The row that closed it is named: the new one, the file's last data row.
    let last_row = insured.lines().count() - 1;
    let evidence =
        format!("县级已整改，数据已印证：医保 参保登记 insurance_2019_2020.csv 第{last_row}行");
    assert!(
        closed.contains(&("MED-01".to_string(), evidence)),
        "{closed:?}"
    );
    // A status no item can have is refused, not an empty list.
    let mistyped = wd.recon(&[
        "ledger", "list", "--ledger", "l.sqlite", "--status", "close",
    ]);
    assert_eq!(mistyped.code, 2, "{}", mistyped.stdout);
    assert!(
        mistyped.stderr.contains("new, open, reopened, closed"),
        "{}",
        mistyped.stderr
    );

    // The month in a page and a workbook: found, closed by what, exceptions, still open.
    let args = [
        "ledger",
        "report",
        "--ledger",
        "l.sqlite",
        "--from",
        "2020-06-01",
        "--to",
        "2020-07-31",
        "--out",
        "period",
    ];
    let report = wd.recon(&args);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert_eq!(
        period_med01(&wd, "period/period_2020-06-01_2020-07-31.xlsx"),
        [3.0, 0.0, 1.0, 1.0, 0.0, 2.0, 0.0]
    );
    assert!(wd
        .read("period/period_2020-06-01_2020-07-31.html")
        .contains("核实为例外"));
    night_on_copy(&wd, "2020-07-04");
    assert!(
        wd.read("out/report.html")
            .contains("最近一期台账进展报告：2020-06-01至2020-07-31"),
        "the morning page links the last period report"
    );
}

/// A decision on a review pair is remembered: 同一人 joins the two persons on every later
/// night (links.csv and explain say so), and the pair leaves review.csv, though other rows
/// come in another order; a word that is no decision is rejected.
#[test]
fn review_decisions_are_remembered() {
    let wd = Workdir::new();
    copy_sample(&wd);
    night_on_copy(&wd, "2020-06-30");
    let review = wd.csv_rows("out/review.csv");
    assert_eq!(review.len(), 1);
    let pair = &review[0];
    assert_eq!(
        (pair["source_name"].as_str(), pair["county_code"].as_str()),
        ("何**", "420325"),
        "names masked, the county named"
    );
    assert!(pair["pair_key"].starts_with('D') && pair["decision"].is_empty());
    let csv = wd.read("out/review.csv");
    let mut lines: Vec<&str> = csv.lines().collect();
    let typo = format!("{}同人", lines[1]);
    lines[1] = &typo;
    wd.write_bytes("typo.csv", lines.join("\n").as_bytes());
    let refused = wd.recon(&["review", "import", "typo.csv", "--ledger", "l.sqlite"]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    // The reviewer decides in the workbook.
    let book = sheets_of(&wd.path("out/review.xlsx"));
    assert_eq!(book[0].1.len(), 2, "the pair, under Chinese headers");
    assert!(book[0].1[0].contains(&text("人工确认")));
    returned(
        &wd,
        "out/review.xlsx",
        "decided.xlsx",
        &[(0, 1, "人工确认", text("同一人"))],
    );
    let import = wd.recon(&["review", "import", "decided.xlsx", "--ledger", "l.sqlite"]);
    assert_eq!(import.code, 0, "{}", import.stdout);

    // A new person heads the first file: every later row is numbered and stored in another
    // place, and a pair's key depends on its two rows' values only.
    let first = "in/civil_affairs_2020.csv";
    assert!(![&pair["source_file"], &pair["candidate_file"]].contains(&&first[3..].to_string()));
    let bytes = std::fs::read(wd.path(first)).unwrap();
    let (text, _, _) = encoding_rs::GBK.decode(&bytes);
    let (header, rows) = text.split_once('\n').unwrap();
    let (old_id, new_id) = ("420325195501010114", make_id("420325", "19600101", 7));
    let newcomer = rows.lines().next().unwrap().replace(old_id, &new_id);
    assert!(newcomer.contains(&new_id));
    let changed = format!("{header}\n{newcomer}\n{rows}");
    wd.write_bytes(first, &encoding_rs::GBK.encode(&changed).0);
    night_on_copy(&wd, "2020-07-01");
    assert!(
        wd.csv_rows("out/review.csv").is_empty(),
        "the pair is decided"
    );
    let links = wd.csv_rows("out/links.csv");
    let key_of = |file: &str, row: &str| {
        links
            .iter()
            .find(|l| l["source_file"] == file && l["source_row"] == row)
            .map(|l| (l["person_key"].clone(), l["evidence"].clone()))
            .unwrap()
    };
    let (edu_key, evidence) = key_of(&pair["candidate_file"], &pair["candidate_row"]);
    assert_eq!(evidence, "decided:same");
    assert_eq!(edu_key, key_of(&pair["source_file"], &pair["source_row"]).0);
    let explain = wd.recon(&[
        "explain",
        "out",
        &pair["candidate_file"],
        &pair["candidate_row"],
        "--ledger",
        "l.sqlite",
    ]);
    assert!(
        explain.stdout.contains("placed by: decided:same"),
        "{}",
        explain.stdout
    );
}

/// A link the linker made by probability is split by a 不同人 decision on the pair key
/// `explain` prints: on every later night the two rows are two persons (so the registry
/// person's missing insurance shows), and explain names the decision.
#[test]
fn a_decision_splits_a_link_the_linker_made() {
    let wd = Workdir::new();
    night(&wd, "2020-06-30");
    let (insured, registry) = (
        ("insurance_2019_2020.csv", "11"),
        ("dpf_registry_fangxian.csv", "23"),
    );
    let person_and_evidence = |(file, row): (&str, &str)| {
        wd.csv_rows("out/links.csv")
            .into_iter()
            .find(|l| l["source_file"] == file && l["source_row"] == row)
            .map(|l| (l["person_key"].clone(), l["evidence"].clone()))
            .unwrap()
    };
    let (person, evidence) = person_and_evidence(insured);
    assert!(evidence.starts_with("probable:"), "{evidence}");
    assert_eq!(person, person_and_evidence(registry).0);
    let med01_of_registry_row = || {
        wd.csv_rows("out/gaps.csv").iter().any(|g| {
            g["rule_id"] == "MED-01"
                && g["source_file"] == registry.0
                && g["source_row"] == registry.1
        })
    };
    assert!(!med01_of_registry_row());
    let explain = || {
        wd.recon(&[
            "explain", "out", insured.0, insured.1, "--ledger", "l.sqlite",
        ])
        .stdout
    };
    let shown = explain();
    let key = shown
        .split("pair key ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no pair key in {shown}"))
        .to_string();
    wd.write_bytes(
        "split.csv",
        format!("配对编号,人工确认\n{key},不同人\n").as_bytes(),
    );
    let import = wd.recon(&["review", "import", "split.csv", "--ledger", "l.sqlite"]);
    assert_eq!(import.code, 0, "{}", import.stdout);

    night(&wd, "2020-07-01");
    let (apart, evidence) = person_and_evidence(insured);
    assert_ne!(apart, person_and_evidence(registry).0, "two persons now");
    assert!(evidence.starts_with("unlinked:"), "{evidence}");
    assert!(
        med01_of_registry_row(),
        "the registry person has no insurance row any more"
    );
    let shown = explain();
    assert!(
        shown.contains(&format!("pair key {key} · decided 不同人"))
            && shown.contains("another person"),
        "{shown}"
    );
}

/// Asked for (`[report] township_lists`), each county's gaps come as a work form per township
/// too, the township taken from the exports' 乡镇 column.
#[test]
fn a_work_form_per_township_when_asked() {
    use crate::workdir::{make_id, DPF_HEADER, INSURANCE_HEADER};
    let wd = Workdir::new();
    let mut header = DPF_HEADER.to_vec();
    header.push("乡镇（街道）");
    let (a, b) = (
        make_id("420325", "19700101", 11),
        make_id("420325", "19700101", 13),
    );
    wd.write_csv(
        "in/dpf.csv",
        &[
            header,
            vec![
                "甲",
                &a,
                "肢体",
                "四级",
                "房县",
                "是",
                "因病",
                "正常",
                "城关镇",
            ],
            vec![
                "乙",
                &b,
                "肢体",
                "四级",
                "房县",
                "是",
                "因病",
                "正常",
                "土城镇",
            ],
        ],
    );
    let other = make_id("420325", "19700101", 15);
    wd.write_csv(
        "in/insurance.csv",
        &[
            INSURANCE_HEADER.to_vec(),
            vec!["丙", &other, "2020", "正常参保", ""],
        ],
    );
    let config = std::fs::read_to_string(repo_path("configs/default.toml"))
        .unwrap()
        .replace("township_lists = false", "township_lists = true");
    wd.write_bytes("towns.toml", config.as_bytes());
    wd.run_ok(&["--config", "towns.toml", "in"]);
    for (town, name) in [("城关镇", "甲"), ("土城镇", "乙")] {
        let path = wd.path(&format!("out/counties/420325_房县/{town}.xlsx"));
        let sheets = sheets_of(&path);
        assert!(sheets[0].1[0][0]
            .to_string()
            .starts_with(&format!("房县{town}")));
        let list = &sheets
            .iter()
            .find(|(name, _)| name == "持证贫困残疾人未参加基本医疗保险")
            .unwrap()
            .1;
        assert_eq!(list.len(), 2, "{town}: one gap");
        let at = |h: &str| list[0].iter().position(|c| *c == text(h)).unwrap();
        assert_eq!(list[1][at("乡镇（街道）")], text(town));
        assert_eq!(list[1][at("姓名")], text(name));
    }
}

/// The loop over four nights, every step asserted: lists go out; counties return them (属实,
/// 不属实, 已整改, a word that is no result, a row of another county); the next night shows the
/// results, the exception out of the count and the unseen fix flagged; a review decision joins
/// two rows on night 3; the period report covers the four nights.
#[test]
fn four_nights_of_the_county_loop() {
    let wd = Workdir::new();
    night(&wd, "2020-06-30");
    assert_eq!(med01_counts(&wd), (3, 0));
    let edits: Vec<Edit> = vec![
        (1, 1, "核查结果", text("属实")),
        (1, 2, "核查结果", text("不属实")),
        (1, 3, "核查结果", text("已整改")),
        (2, 1, "核查结果", text("查无此人")),
        (3, 1, "核查结果", text("属实")),
        (3, 1, "区县代码", Data::Float(421126.0)),
    ];
    returned(&wd, LIST, "returned.xlsx", &edits);
    let import = import(&wd, &["returned.xlsx"]);
    assert_eq!(import.code, 2);
    assert!(import.stdout.contains("3 recorded"), "{}", import.stdout);
    assert_eq!(wd.csv_rows("l.import-rejects.csv").len(), 2);

    night(&wd, "2020-07-01");
    let standing = column_of(&wd.path(LIST), 1, "台账状态");
    assert_eq!(standing[1..], ["核实为例外（不计入）", "整改未见数据"]);
    assert_eq!(column_of(&wd.path(LIST), 1, "核查结果")[0], "属实");
    assert_eq!(med01_counts(&wd), (2, 1));

    let review = wd.csv_rows("out/review.csv");
    returned(
        &wd,
        "out/review.xlsx",
        "decided.xlsx",
        &[(0, 1, "人工确认", text("同一人"))],
    );
    assert_eq!(
        wd.recon(&["review", "import", "decided.xlsx", "--ledger", "l.sqlite"])
            .code,
        0
    );
    night(&wd, "2020-07-02");
    let joined = wd
        .csv_rows("out/links.csv")
        .into_iter()
        .find(|l| {
            l["source_file"] == review[0]["candidate_file"]
                && l["source_row"] == review[0]["candidate_row"]
        })
        .unwrap();
    assert_eq!(joined["evidence"], "decided:same");

    night(&wd, "2020-07-03");
    let args = [
        "ledger",
        "report",
        "--ledger",
        "l.sqlite",
        "--from",
        "2020-06-30",
        "--to",
        "2020-07-03",
        "--out",
        "period",
    ];
    assert_eq!(wd.recon(&args).code, 0);
    assert_eq!(
        period_med01(&wd, "period/period_2020-06-30_2020-07-03.xlsx"),
        [3.0, 0.0, 0.0, 1.0, 3.0, 0.0, 0.0]
    );
}
