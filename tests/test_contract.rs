//! Never silently wrong: exports worded in ways the job has not seen, identifiers where a
//! department does not usually put them, fields no column maps, values no vocabulary knows,
//! and nights with an input missing. Each case either reads right or says, loudly, what it
//! could not read; a night with an input missing closes nothing that depends on it.

use crate::workdir::{make_id, Workdir};

const FX: &str = "420325";
const MC: &str = "421181";

fn id(region: &str, seq: u32) -> String {
    make_id(region, "19700101", seq)
}

const DPF_HEADER: [&str; 9] = [
    "姓名",
    "身份证号",
    "残疾人证号",
    "残疾类别",
    "残疾等级",
    "所属区县",
    "是否建档立卡",
    "致贫原因",
    "证件状态",
];
const CIVIL_HEADER: [&str; 8] = [
    "姓名",
    "身份证号码",
    "区县",
    "救助类别",
    "起始日期",
    "终止日期",
    "状态",
    "停发原因",
];
const INSURANCE_HEADER: [&str; 8] = [
    "姓名",
    "证件号码",
    "参保年度",
    "参保状态",
    "终止原因",
    "终止日期",
    "资助类别",
    "参保地",
];

/// A registry row: grade 一级, poor (建档立卡), certificate from the ID.
fn registry_row(name: &str, id: &str, county: &str) -> Vec<String> {
    [
        name,
        id,
        &format!("{id}41"),
        "肢体",
        "一级",
        county,
        "是",
        "因病",
        "正常",
    ]
    .map(String::from)
    .to_vec()
}

fn insurance_row(name: &str, id: &str, county: &str) -> Vec<String> {
    [name, id, "2020", "正常参保", "", "", "低保", county]
        .map(String::from)
        .to_vec()
}

fn civil_row(name: &str, id: &str, county: &str, program: &str) -> Vec<String> {
    [name, id, county, program, "2019-01-01", "", "正常", ""]
        .map(String::from)
        .to_vec()
}

fn write(wd: &Workdir, file: &str, header: &[&str], rows: &[Vec<String>]) {
    let mut all: Vec<Vec<&str>> = vec![header.to_vec()];
    all.extend(rows.iter().map(|r| r.iter().map(String::as_str).collect()));
    wd.write_csv(file, &all);
}

/// Counties of `people` each: registered, insured for 2020, with both subsidies and 低保 (no
/// gap of theirs), and in each county one more person registered and poor but uninsured
/// (MED-01) and unpaid (CIV-02).
struct Night {
    registry: Vec<Vec<String>>,
    insurance: Vec<Vec<String>>,
    civil: Vec<Vec<String>>,
}

fn night(counties: &[(&str, u32)]) -> Night {
    let mut night = Night {
        registry: Vec::new(),
        insurance: Vec::new(),
        civil: Vec::new(),
    };
    for (county, people) in counties {
        for i in 0..*people {
            let name = format!("{}{}", ["赵", "孙"][usize::from(*county == MC)], i);
            let pid = id(county, 101 + 2 * i);
            night.registry.push(registry_row(&name, &pid, county));
            night.insurance.push(insurance_row(&name, &pid, county));
            for program in ["农村低保", "困难残疾人生活补贴", "重度残疾人护理补贴"]
            {
                night.civil.push(civil_row(&name, &pid, county, program));
            }
        }
        let gap = format!("{}缺", ["赵", "孙"][usize::from(*county == MC)]);
        night
            .registry
            .push(registry_row(&gap, &id(county, 11), county));
    }
    night
}

fn write_night(wd: &Workdir, night: &Night) {
    let _ = std::fs::remove_dir_all(wd.path("in"));
    if !night.registry.is_empty() {
        write(wd, "in/dpf.csv", &DPF_HEADER, &night.registry);
    }
    if !night.insurance.is_empty() {
        write(wd, "in/insurance.csv", &INSURANCE_HEADER, &night.insurance);
    }
    if !night.civil.is_empty() {
        write(wd, "in/civil.csv", &CIVIL_HEADER, &night.civil);
    }
}

fn run_night(wd: &Workdir, as_of: &str, extra: &[&str]) -> crate::workdir::Run {
    let mut args = vec![
        "run",
        "--as-of",
        as_of,
        "--out",
        "out",
        "--ledger",
        "ledger.sqlite",
    ];
    args.extend_from_slice(extra);
    args.push("in");
    wd.recon(&args)
}

/// (rule, county, status, not_checked) of every ledger item.
fn items(wd: &Workdir) -> Vec<(String, String, String, String)> {
    let list = wd.recon(&[
        "ledger",
        "list",
        "--ledger",
        "ledger.sqlite",
        "--format",
        "csv",
    ]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let mut reader = csv::Reader::from_reader(list.stdout.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (rule, county, status, flag) = (
        at("rule_id"),
        at("county_code"),
        at("status"),
        at("not_checked"),
    );
    let mut items: Vec<_> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| {
            (
                r[rule].to_string(),
                r[county].to_string(),
                r[status].to_string(),
                r[flag].to_string(),
            )
        })
        .collect();
    items.sort();
    items
}

fn open_items(wd: &Workdir) -> usize {
    items(wd).iter().filter(|i| i.2 != "closed").count()
}

#[test]
fn a_night_without_the_registry_closes_nothing_and_says_so() {
    let wd = Workdir::new();
    let full = night(&[(FX, 12), (MC, 12)]);
    write_night(&wd, &full);
    let first = run_night(&wd, "2020-06-30", &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let opened = items(&wd);
    assert!(
        opened.iter().any(|i| i.0 == "MED-01") && opened.iter().any(|i| i.0 == "CIV-02"),
        "{opened:?}"
    );
    let before = open_items(&wd);
    // Night 2: the registry's export did not arrive.
    write_night(
        &wd,
        &Night {
            registry: Vec::new(),
            ..night(&[(FX, 12), (MC, 12)])
        },
    );
    let second = run_night(&wd, "2020-07-01", &[]);
    assert_eq!(
        second.code, 5,
        "a partial night has its own exit code\n{}",
        second.stderr
    );
    assert!(
        second.stdout.contains("0 closed (销号)")
            && second
                .stdout
                .contains("input missing against the ledger: 今晚无残联 持证残疾人库数据"),
        "{}",
        second.stdout
    );
    assert_eq!(open_items(&wd), before, "no item closed");
    assert!(
        items(&wd)
            .iter()
            .all(|i| i.3.contains("今晚无残联 持证残疾人库数据")),
        "every item is flagged: {:?}",
        items(&wd)
    );
    assert!(
        wd.gaps().iter().all(|g| g.0 != "AUD-01"),
        "no flood of 'subsidy without a certificate'"
    );
    let summary = wd.csv_rows("out/summary.csv");
    let med = summary
        .iter()
        .find(|r| r["rule_id"] == "MED-01" && r["county_code"] == FX)
        .unwrap();
    assert!(med["not_checked"].contains("今晚无残联"), "{med:?}");
    assert_eq!(med["closed"], "0");
    assert!(wd.read("out/report.html").contains("今晚未核查"));
    let manifest: serde_json::Value = serde_json::from_str(&wd.read("out/run.json")).unwrap();
    assert_eq!(manifest["input_checks"]["partial"], true);
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto(wd.path("out/counties/420325_房县.xlsx")).unwrap();
    assert_eq!(book.sheet_names()[..2], ["说明", "未核查"]);
    let guide = book.worksheet_range("说明").unwrap();
    assert!(guide
        .rows()
        .flatten()
        .any(|c| c.to_string().contains("工作表“未核查”")));
    let sheet = book.worksheet_range("未核查").unwrap();
    let reasons: Vec<String> = sheet.rows().skip(1).map(|r| r[2].to_string()).collect();
    assert!(
        !reasons.is_empty() && reasons.iter().all(|r| r.contains("今晚无残联")),
        "{reasons:?}"
    );
    // Night 3: the registry is back; what was fixed closes, the rest stays open.
    write_night(&wd, &full);
    let third = run_night(&wd, "2020-07-02", &[]);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(open_items(&wd), before);
    assert!(
        items(&wd).iter().all(|i| i.3.is_empty()),
        "{:?}",
        items(&wd)
    );
}

#[test]
fn a_night_without_one_countys_rows_closes_nothing_there() {
    let wd = Workdir::new();
    write_night(&wd, &night(&[(FX, 12), (MC, 2)]));
    assert_eq!(run_night(&wd, "2020-06-30", &[]).code, 0);
    // Night 2: 麻城's insurance rows are missing (too few to be a sharp fall of the source);
    // in 房县 the uninsured person enrolled.
    let mut second = night(&[(FX, 12), (MC, 2)]);
    second.insurance.retain(|r| r[7] != MC);
    second
        .insurance
        .push(insurance_row("赵缺", &id(FX, 11), FX));
    write_night(&wd, &second);
    let run = run_night(&wd, "2020-07-01", &[]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    let all = items(&wd);
    let med = |county: &str| {
        all.iter()
            .find(|i| i.0 == "MED-01" && i.1 == county)
            .cloned()
            .unwrap()
    };
    assert_eq!(med(FX).2, "closed", "checked in 房县: {all:?}");
    assert_ne!(med(MC).2, "closed", "not checked in 麻城: {all:?}");
    assert!(med(MC).3.contains(MC), "{all:?}");
    assert!(
        wd.gaps().iter().all(|g| g.0 != "MED-01"),
        "麻城's MED-01 gaps are withheld, not a flood"
    );
    // Night 3: the operator says 麻城's insurance file is gone on purpose.
    let accepted = run_night(
        &wd,
        "2020-07-02",
        &["--accept-missing", &format!("insurance:{MC}")],
    );
    assert_eq!(accepted.code, 0, "{}", accepted.stderr);
    let after = run_night(&wd, "2020-07-03", &[]);
    assert_eq!(
        after.code, 0,
        "accepted once, no longer expected\n{}",
        after.stderr
    );
}

#[test]
fn a_night_with_a_source_halved_closes_nothing_that_reads_it() {
    let wd = Workdir::new();
    write_night(&wd, &night(&[(FX, 12), (MC, 12)]));
    assert_eq!(run_night(&wd, "2020-06-30", &[]).code, 0);
    let before = open_items(&wd);
    let mut halved = night(&[(FX, 12), (MC, 12)]);
    halved.insurance.truncate(12);
    write_night(&wd, &halved);
    let run = run_night(&wd, "2020-07-01", &[]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stdout.contains("今晚医保 参保登记仅12行（此前24行）"),
        "{}",
        run.stdout
    );
    assert_eq!(open_items(&wd), before);
    assert!(
        items(&wd)
            .iter()
            .filter(|i| i.0 == "MED-01")
            .all(|i| i.3.contains("仅12行")),
        "{:?}",
        items(&wd)
    );
    let strict = run_night(&wd, "2020-07-02", &["--strict"]);
    assert_eq!(strict.code, 2, "{}", strict.stderr);
    assert!(
        strict.stderr.contains("nothing was written"),
        "{}",
        strict.stderr
    );
}

/// The insurance export: a termination reason worded with a qualifier inside it.
#[test]
fn a_termination_reason_worded_otherwise_still_tells_a_death() {
    let wd = Workdir::new();
    let mut night = night(&[(FX, 12)]);
    let dead = id(FX, 13);
    night.registry.push(registry_row("赵殁", &dead, FX));
    night
        .civil
        .push(civil_row("赵殁", &dead, FX, "重度残疾人护理补贴"));
    write(&wd, "in/dpf.csv", &DPF_HEADER, &night.registry);
    write(&wd, "in/civil.csv", &CIVIL_HEADER, &night.civil);
    let mut insurance = night.insurance.clone();
    insurance.push(
        [
            "赵殁",
            &dead,
            "2020",
            "终止",
            "死亡",
            "2020-03-01",
            "低保",
            FX,
        ]
        .map(String::from)
        .to_vec(),
    );
    let mut header = INSURANCE_HEADER;
    header[4] = "终止参保原因";
    write(&wd, "in/insurance.csv", &header, &insurance);
    wd.run_ok(&["in"]);
    let gaps = wd.csv_rows("out/gaps.csv");
    let of_dead: Vec<&str> = gaps
        .iter()
        .filter(|g| g["name"].starts_with("赵殁"))
        .map(|g| g["rule_id"].as_str())
        .collect();
    assert_eq!(
        of_dead,
        vec!["AUD-02"],
        "paid after death, and not a living person's gap"
    );
}

/// A subsidy list that carries the certificate number: a row whose ID is blank is placed by
/// it, not a "subsidy without a certificate".
#[test]
fn a_certificate_number_in_a_subsidy_list_places_a_row_without_an_id() {
    let wd = Workdir::new();
    let night = night(&[(FX, 12)]);
    write(&wd, "in/dpf.csv", &DPF_HEADER, &night.registry);
    write(&wd, "in/insurance.csv", &INSURANCE_HEADER, &night.insurance);
    let someone = id(FX, 105);
    wd.write_csv(
        "in/subsidies.csv",
        &[
            vec![
                "补贴对象姓名",
                "身份证号",
                "残疾人证号",
                "补贴类别",
                "发放状态",
                "起始日期",
                "所属区县",
            ],
            vec![
                "赵2",
                "",
                &format!("{someone}41"),
                "重度残疾人护理补贴",
                "正常",
                "2019-01-01",
                FX,
            ],
        ],
    );
    wd.run_ok(&["in"]);
    assert!(
        wd.gaps().iter().all(|g| g.1 != "subsidies.csv"),
        "{:?}",
        wd.gaps()
    );
    let links = wd.csv_rows("out/links.csv");
    let row = links
        .iter()
        .find(|l| l["source_file"] == "subsidies.csv")
        .unwrap();
    assert_eq!(row["evidence"], "certificate");
}

/// The member columns of the national 防返贫监测 system's export, before its standing and
/// housing columns.
const FANGXIAN_MEMBER_COLUMNS: [&str; 6] =
    ["县", "户编号", "姓名", "证件号码", "与户主关系", "健康状况"];

fn assert_not_blind(run: &crate::workdir::Run, field: &str) {
    let warning = format!("blind to {field}");
    assert!(!run.stdout.contains(&warning), "{}", run.stdout);
}

/// A field a rule reads that no column maps: the run says which rule is blind to what, in
/// which file, and the columns that look closest; `inspect` says it too; `--strict` refuses.
#[test]
fn a_field_no_column_maps_is_reported_everywhere_and_strict_refuses() {
    let wd = Workdir::new();
    let mut night = night(&[(FX, 12)]);
    for row in night.insurance.iter_mut().take(3) {
        row[3] = "终止".into();
    }
    write(&wd, "in/dpf.csv", &DPF_HEADER, &night.registry);
    write(&wd, "in/civil.csv", &CIVIL_HEADER, &night.civil);
    let mut header = INSURANCE_HEADER;
    header[4] = "终结缘由";
    write(&wd, "in/insurance.csv", &header, &night.insurance);
    let run = wd.run_ok(&["in"]);
    let warning = "blind to end_reason (终止原因) in insurance.csv: no column maps to it (3 rows meet the rest of a death condition";
    assert!(run.stdout.contains(warning), "{}", run.stdout);
    assert!(
        run.stdout.contains("closest unmapped columns: E 终结缘由"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("AUD-02"), "{}", run.stdout);
    assert!(wd.read("out/report.html").contains("输入检查"));
    let manifest: serde_json::Value = serde_json::from_str(&wd.read("out/run.json")).unwrap();
    let blind = manifest["input_checks"]["blind"].as_array().unwrap();
    assert!(
        blind
            .iter()
            .any(|b| b["field"] == "end_reason" && b["file"] == "insurance.csv"),
        "{blind:?}"
    );
    let inspect = wd.recon(&["inspect", "in"]);
    assert!(inspect.stdout.contains(warning), "{}", inspect.stdout);
    let before = wd.read("out/gaps.csv");
    let strict = wd.recon(&[
        "run",
        "--strict",
        "--as-of",
        "2020-06-30",
        "--out",
        "out",
        "in",
    ]);
    assert_eq!(strict.code, 2, "{}", strict.stderr);
    assert!(strict.stderr.contains(warning), "{}", strict.stderr);
    assert_eq!(wd.read("out/gaps.csv"), before, "nothing written");
}

/// A status word no vocabulary list knows is counted and named, with the rules it may affect.
#[test]
fn a_status_word_no_vocabulary_knows_is_reported() {
    let wd = Workdir::new();
    let mut night = night(&[(FX, 12)]);
    for row in night.insurance.iter_mut().take(4) {
        row[3] = "参保中".into();
    }
    write(&wd, "in/dpf.csv", &DPF_HEADER, &night.registry);
    write(&wd, "in/civil.csv", &CIVIL_HEADER, &night.civil);
    write(&wd, "in/insurance.csv", &INSURANCE_HEADER, &night.insurance);
    let run = wd.run_ok(&["in"]);
    assert!(
        run.stdout.contains("D 参保状态 in insurance.csv: values no vocabulary list knows: `参保中` 4 rows; may affect MED-01, MED-02"),
        "{}",
        run.stdout
    );
}

/// A rule that does not read the missing input still links with fewer rows that night: its
/// gaps are listed and open items, but none of its items closes until a full night.
#[test]
fn a_partial_night_closes_no_item_of_any_rule() {
    let wd = Workdir::new();
    let tekun = |night: &mut Night| {
        let person = night.civil[0].clone();
        night
            .civil
            .push(civil_row(&person[0], &person[1], FX, "特困供养"));
    };
    let mut first = night(&[(FX, 12)]);
    tekun(&mut first);
    write_night(&wd, &first);
    assert_eq!(run_night(&wd, "2020-06-30", &[]).code, 0);
    let aud03 = |wd: &Workdir| {
        items(wd)
            .into_iter()
            .find(|i| i.0 == "AUD-03")
            .expect("an AUD-03 item")
    };
    assert_eq!(aud03(&wd).2, "new");
    // Night 2: no insurance file, and the 特困 record has ended: AUD-03 reads no insurance,
    // yet its item does not close on a night with fewer rows to link by.
    write_night(
        &wd,
        &Night {
            insurance: Vec::new(),
            ..night(&[(FX, 12)])
        },
    );
    assert_eq!(run_night(&wd, "2020-07-01", &[]).code, 5);
    let carried = aud03(&wd);
    assert_eq!(carried.2, "new", "{carried:?}");
    assert!(carried.3.contains("今晚不销号"), "{carried:?}");
    // Night 3: everything arrives; the item closes.
    write_night(&wd, &night(&[(FX, 12)]));
    assert_eq!(run_night(&wd, "2020-07-02", &[]).code, 0);
    assert_eq!(aud03(&wd).2, "closed");
}

/// Two registered poor persons of 房县, 张甲 (registry row 1) and 李乙 (row 2): their IDs.
fn pensioned_and_insured(wd: &Workdir) -> (String, String) {
    let (pensioned, insured) = (id(FX, 1), id(FX, 2));
    let registry = [
        registry_row("张甲", &pensioned, FX),
        registry_row("李乙", &insured, FX),
    ];
    write(wd, "in/残联.csv", &DPF_HEADER, &registry);
    (pensioned, insured)
}

/// The registry rows of the run's MED-01 gaps.
fn med01_rows(wd: &Workdir) -> Vec<String> {
    wd.csv_rows("out/gaps.csv")
        .into_iter()
        .filter(|g| g["rule_id"] == "MED-01")
        .map(|g| g["source_row"].clone())
        .collect()
}

/// A social-insurance export (人社) lists pension rows beside medical ones, under headers the
/// insurance source reads: a pension row is no medical enrollment. It is set aside (a reject
/// with reason out_of_scope, a warning naming the file), the medical rows of the same file are
/// read, and the poor disabled person insured only for a pension stays a MED-01 gap.
#[test]
fn pension_rows_in_an_insurance_export_do_not_hide_a_gap() {
    let wd = Workdir::new();
    let (pensioned, insured) = pensioned_and_insured(&wd);
    let header = [
        "姓名",
        "公民身份号码",
        "险种类型",
        "参保状态",
        "缴费年度",
        "参保地",
    ];
    let row = |name: &str, id: &str, scheme: &str| {
        [name, id, scheme, "正常参保", "2020", FX]
            .map(String::from)
            .to_vec()
    };
    write(
        &wd,
        "in/人社_参保登记.csv",
        &header,
        &[
            row("张甲", &pensioned, "城乡居民基本养老保险"),
            row("李乙", &insured, "城乡居民基本医疗保险"),
            row("李乙", &insured, "城乡居民养老保险"),
        ],
    );
    let run = wd.recon(&["run", "--as-of", "2020-06-30", "--out", "out", "in"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("人社_参保登记.csv: 2 of 3 rows set aside as another scheme's"),
        "{}",
        run.stdout
    );
    let med01 = med01_rows(&wd);
    assert_eq!(
        med01,
        ["1"],
        "张甲 (row 1) has only a pension; 李乙 is insured"
    );
    let set_aside: Vec<String> = wd
        .csv_rows("out/rejects.csv")
        .into_iter()
        .filter(|r| r["reason"] == "out_of_scope")
        .map(|r| r["source_row"].clone())
        .collect();
    assert_eq!(set_aside, ["1", "3"]);
}

/// A blindness shared by many files (a registry exported a file per county, all without a
/// grade column) is one warning naming the files, not a line per file.
#[test]
fn one_blindness_in_many_files_is_one_warning() {
    let wd = Workdir::new();
    let header: Vec<&str> = DPF_HEADER
        .iter()
        .copied()
        .filter(|h| *h != "残疾等级")
        .collect();
    for (k, county) in [FX, MC, FX, MC, FX].iter().enumerate() {
        let mut row = registry_row(&format!("王{k}"), &id(county, k as u32 + 1), county);
        row.remove(4);
        write(&wd, &format!("in/残联_{k}.csv"), &header, &[row]);
    }
    let civil = [civil_row("王0", &id(FX, 1), FX, "农村低保")];
    write(&wd, "in/民政.csv", &CIVIL_HEADER, &civil);
    let run = wd.recon(&["run", "--as-of", "2020-06-30", "--out", "out", "in"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let blind: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("blind to disability_grade"))
        .collect();
    assert_eq!(blind.len(), 1, "{}", run.stdout);
    assert!(
        blind[0].contains("in 5 files (残联_0.csv, 残联_1.csv, …)"),
        "{}",
        blind[0]
    );
}

/// A pension export (人社) with no 险种 column but a pension column is never read as 医保: it
/// is the pension source's, so the poor disabled person insured only for a pension stays a
/// MED-01 gap. Headers that fit both departments equally (参保状态, 缴费年度 and 代缴类别, which
/// some medical exports carry too) stop the run naming both.
#[test]
fn a_pension_export_is_not_read_as_medical_insurance() {
    let wd = Workdir::new();
    let (pensioned, insured) = pensioned_and_insured(&wd);
    let medical = [insurance_row("李乙", &insured, FX)];
    write(&wd, "in/医保.csv", &INSURANCE_HEADER, &medical);
    let header = [
        "姓名",
        "公民身份号码",
        "参保状态",
        "缴费年度",
        "待遇领取状态",
    ];
    let row = ["张甲", &pensioned, "正常参保", "2020", "未领取"].map(String::from);
    write(&wd, "in/人社_参保.csv", &header, &[row.to_vec()]);
    let args = ["run", "--as-of", "2020-06-30", "--out", "out", "in"];
    let run = wd.recon(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("pension      1 file(s)         1 rows"),
        "{}",
        run.stdout
    );
    let med01 = med01_rows(&wd);
    assert_eq!(med01, ["1"], "张甲, insured only for a pension");

    let header = ["姓名", "公民身份号码", "参保状态", "缴费年度", "代缴类别"];
    let row = ["张甲", &pensioned, "正常参保", "2020", "重度残疾人"].map(String::from);
    write(&wd, "in/人社_参保.csv", &header, &[row.to_vec()]);
    let refused = wd.recon(&args);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("人社_参保.csv")
            && refused
                .stderr
                .contains("fit insurance and pension equally well"),
        "{}",
        refused.stderr
    );
}

/// `--skip-unassigned` leaves out files of no department's columns, never a department's file
/// that cannot be read as it stands: an export that lost its header row, or one with two
/// columns for one field, stops the run, naming the file; a read-me table is still skipped.
#[test]
fn skip_unassigned_never_skips_a_departments_file() {
    let wd = Workdir::new();
    let (pensioned, insured) = pensioned_and_insured(&wd);
    let args = [
        "run",
        "--as-of",
        "2020-06-30",
        "--out",
        "out",
        "--skip-unassigned",
        "in",
    ];
    write(
        &wd,
        "in/说明.csv",
        &["序号", "说明"],
        &[vec!["1".into(), "x".into()]],
    );
    let headerless = [insurance_row("李乙", &insured, FX)];
    let no_header = headerless[0].join(",") + "\n";
    wd.write_bytes("in/医保.csv", no_header.as_bytes());
    let refused = wd.recon(&args);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("医保.csv") && refused.stderr.contains("data, not headers"),
        "{}",
        refused.stderr
    );
    let mut twice: Vec<&str> = INSURANCE_HEADER.to_vec();
    twice.push("证件号码");
    let mut row = insurance_row("李乙", &insured, FX);
    row.push(pensioned.clone());
    write(&wd, "in/医保.csv", &twice, &[row]);
    let refused = wd.recon(&args);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("both look like field `id_number`"),
        "{}",
        refused.stderr
    );
    write(&wd, "in/医保.csv", &INSURANCE_HEADER, &headerless);
    let run = wd.recon(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("说明.csv: skipped, no department's columns in it"),
        "{}",
        run.stdout
    );
}

/// A 防返贫监测 export that keeps a household's standing in two columns (脱贫状态 for a 脱贫户,
/// 监测对象类别 for a monitored one, each blank on the other's rows) is read by both: a member
/// recorded 残疾 with no certificate is a DPF-01 gap either way. A file with one of the two
/// columns is not warned of as blind to the other; a file with neither is.
#[test]
fn a_standing_kept_in_either_of_two_columns_is_read_from_both() {
    let wd = Workdir::new();
    write(
        &wd,
        "in/残联.csv",
        &DPF_HEADER,
        &[registry_row("丙", &id(FX, 9), FX)],
    );
    let header = [&FANGXIAN_MEMBER_COLUMNS[..], &["脱贫状态", "监测对象类别"]].concat();
    let row = |n: u32, name: &str, health: &str, standing: [&str; 2]| {
        [
            FX,
            "4203250001",
            name,
            &id(FX, n),
            "户主",
            health,
            standing[0],
            standing[1],
        ]
        .map(String::from)
        .to_vec()
    };
    let rows = [
        row(1, "甲大", "长期慢性病", ["已脱贫", ""]),
        row(2, "甲小", "残疾", ["已脱贫", ""]),
        row(3, "乙某", "残疾", ["", "脱贫不稳定户"]),
        row(4, "丁某", "残疾", ["", ""]),
    ];
    write(&wd, "in/防返贫监测.csv", &header, &rows);
    let run = wd.run_ok(&["--rule", "DPF-01", "in"]);
    assert_not_blind(&run, "household_type");
    assert_not_blind(&run, "poverty_status");
    let dpf01: Vec<String> = (wd.csv_rows("out/gaps.csv").into_iter())
        .filter(|g| g["rule_id"] == "DPF-01")
        .map(|g| g["source_row"].clone())
        .collect();
    assert_eq!(dpf01, ["2", "3"], "丁某's household is not followed");

    let without = |column: usize| -> (Vec<&str>, Vec<Vec<String>>) {
        let keep = |i: &usize| *i != column;
        let header = (0..header.len()).filter(keep).map(|i| header[i]).collect();
        let rows = (rows.iter())
            .map(|r| (0..r.len()).filter(keep).map(|i| r[i].clone()).collect())
            .collect();
        (header, rows)
    };
    let (monitored_only, rows) = without(FANGXIAN_MEMBER_COLUMNS.len());
    write(&wd, "in/防返贫监测.csv", &monitored_only, &rows);
    let run = wd.run_ok(&["--rule", "DPF-01", "in"]);
    assert_not_blind(&run, "poverty_status");

    let only_health: Vec<&str> = monitored_only[..FANGXIAN_MEMBER_COLUMNS.len()].to_vec();
    let rows: Vec<Vec<String>> = (rows.iter())
        .map(|r| r[..FANGXIAN_MEMBER_COLUMNS.len()].to_vec())
        .collect();
    write(&wd, "in/防返贫监测.csv", &only_health, &rows);
    let run = wd.run_ok(&["--rule", "DPF-01", "in"]);
    for field in ["household_type", "poverty_status"] {
        assert!(
            run.stdout.contains(&format!("DPF-01 blind to {field}")),
            "{field}: {}",
            run.stdout
        );
    }
}

/// A payment record whose 状态 was left blank is not active (no status word says it is), and
/// a run says how many such rows each file has, beside the values no vocabulary knows: a blank
/// status never silently removes a record from the rules.
#[test]
fn a_blank_status_is_reported_as_read_not_active() {
    let wd = Workdir::new();
    write(
        &wd,
        "in/残联.csv",
        &DPF_HEADER,
        &[registry_row("张甲", &id(FX, 1), FX)],
    );
    let mut blank = civil_row("李乙", &id(FX, 2), FX, "农村低保");
    blank[6].clear();
    let rows = [
        civil_row("张甲", &id(FX, 1), FX, "重度残疾人护理补贴"),
        blank,
    ];
    write(&wd, "in/民政.csv", &CIVIL_HEADER, &rows);
    let run = wd.run_ok(&["--rule", "AUD-05", "in"]);
    assert!(
        run.stdout.contains(
            "G 状态 in 民政.csv: values no vocabulary list knows: `(blank: read as not active)` 1 rows"
        ),
        "{}",
        run.stdout
    );
}

/// A 防返贫监测 export that names households by 户编号 only (no head's ID column): each row
/// takes the ID of its number's 户主 row, so a certified child is in the household whose head's
/// 危房改造 is done (no HOU-01 gap), and the other family's child is one, listed under its
/// head. quality.csv counts the rows whose head came from their number.
#[test]
fn a_household_number_stands_for_its_heads_id() {
    let wd = Workdir::new();
    let [a1, a2, b1, b2] = [1, 2, 3, 4].map(|n| id(FX, n));
    let registry = [registry_row("甲小", &a2, FX), registry_row("乙小", &b2, FX)];
    write(&wd, "in/残联.csv", &DPF_HEADER, &registry);
    let header = [&FANGXIAN_MEMBER_COLUMNS[..], &["户类型", "住房安全等级"]].concat();
    let row = |number: &str, name: &str, id: &str, relation: &str, health: &str, grade: &str| {
        [FX, number, name, id, relation, health, "脱贫户", grade]
            .map(String::from)
            .to_vec()
    };
    let members = [
        row("N1", "甲大", &a1, "户主", "健康", "C级"),
        row("N1", "甲小", &a2, "之子", "残疾", "C级"),
        row("N2", "乙大", &b1, "户主", "健康", "D级"),
        row("N2", "乙小", &b2, "之女", "残疾", "D级"),
    ];
    write(&wd, "in/防返贫监测.csv", &header, &members);
    let housing = [
        "户主姓名",
        "户主身份证号码",
        "危房等级",
        "改造方式",
        "验收状态",
        "区县",
    ];
    let done = ["甲大", &a1, "C级", "修缮加固", "已竣工验收", FX].map(String::from);
    write(&wd, "in/危房改造.csv", &housing, &[done.to_vec()]);
    let run = wd.run_ok(&["--rule", "HOU-01", "in"]);
    assert_not_blind(&run, "household_head_id");
    let gaps = wd.csv_rows("out/gaps.csv");
    let rows: Vec<(&str, &str)> = (gaps.iter())
        .map(|g| (g["source_file"].as_str(), g["source_row"].as_str()))
        .collect();
    assert_eq!(rows, [("残联.csv", "2")], "{gaps:?}");
    assert!(
        gaps[0]["detail"].contains("户主乙大"),
        "{}",
        gaps[0]["detail"]
    );
    let quality = wd.read("out/quality.csv");
    assert!(
        quality.contains("防返贫监测.csv,B 户编号,head_from_household_number,4"),
        "{quality}"
    );
}
