//! One fixture per rule (`tests/fixtures/rules/<ID>/`), run with that rule alone, and rules
//! changed by editing the TOML config with no rebuild.

use crate::workdir::{
    expected_gaps, make_id, repo_path, Workdir, CIVIL_HEADER, DPF_HEADER, INSURANCE_HEADER,
};

fn check_fixture(rule: &str) {
    let wd = Workdir::new();
    let input = repo_path(&format!("tests/fixtures/rules/{rule}/input"))
        .display()
        .to_string();
    wd.run_ok(&["--rule", rule, &input]);
    let want = expected_gaps(&format!("tests/fixtures/rules/{rule}/expected.csv"));
    assert!(
        !want.is_empty(),
        "{rule}: a fixture must expect at least one gap"
    );
    assert_eq!(
        wd.gaps(),
        want,
        "{rule}: see tests/fixtures/rules/{rule}/README.md"
    );
}

macro_rules! rule_fixtures {
    ($($test:ident => $rule:literal),* $(,)?) => {
        $(#[test] fn $test() { check_fixture($rule); })*
    };
}

rule_fixtures! {
    med_01 => "MED-01", med_02 => "MED-02",
    civ_01 => "CIV-01", civ_02 => "CIV-02", civ_03 => "CIV-03", civ_04 => "CIV-04", civ_05 => "CIV-05",
    edu_01 => "EDU-01", edu_02 => "EDU-02", edu_03 => "EDU-03",
    pen_01 => "PEN-01", pen_02 => "PEN-02", hlt_01 => "HLT-01", hou_01 => "HOU-01", dpf_01 => "DPF-01",
    aud_01 => "AUD-01", aud_02 => "AUD-02", aud_03 => "AUD-03", aud_04 => "AUD-04", aud_05 => "AUD-05", aud_06 => "AUD-06",
}

#[test]
fn every_catalogue_rule_has_a_fixture() {
    let wd = Workdir::new();
    let listing = wd.recon(&["rules"]).stdout;
    let ids: Vec<&str> = listing
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids.len(), 21, "{listing}");
    for id in ids {
        assert!(
            repo_path(&format!("tests/fixtures/rules/{id}/expected.csv")).exists(),
            "{id} has no fixture"
        );
    }
}

/// A registry with one grade 三级 person (no 护理补贴) and one grade 三级 智力 person.
fn grade_three_registry(wd: &Workdir) {
    let a = make_id("420325", "19700101", 11);
    let b = make_id("420325", "19700101", 13);
    wd.write_csv(
        "in/dpf.csv",
        &[
            DPF_HEADER.to_vec(),
            vec!["甲", &a, "肢体", "三级", "房县", "否", "", "正常"],
            vec!["乙", &b, "智力", "三级", "房县", "否", "", "正常"],
        ],
    );
    civil_of_another_person(wd);
}

/// A civil-affairs file with one person in no registry: rules that read civil affairs run.
fn civil_of_another_person(wd: &Workdir) {
    let c = make_id("420325", "19500101", 15);
    wd.write_csv(
        "in/civil.csv",
        &[
            CIVIL_HEADER.to_vec(),
            vec!["丙", &c, "房县", "临时救助", "2020-01-01", "", "正常"],
        ],
    );
}

#[test]
fn an_auditor_changes_a_grade_list_by_editing_toml() {
    let wd = Workdir::new();
    grade_three_registry(&wd);
    wd.run_ok(&["--rule", "CIV-02", "in"]);
    assert!(wd.gaps().is_empty());
    let config = std::fs::read_to_string(repo_path("configs/default.toml")).unwrap();
    let edited = config.replace(
        "severe_grades = [\"一级\", \"二级\"]",
        "severe_grades = [\"一级\", \"二级\", \"三级\"]",
    );
    assert_ne!(config, edited);
    wd.write_bytes("edited.toml", edited.as_bytes());
    wd.run_ok(&["--config", "edited.toml", "--rule", "CIV-02", "in"]);
    assert_eq!(wd.gaps().len(), 2);
}

#[test]
fn an_auditor_adds_a_rule_by_editing_toml() {
    let wd = Workdir::new();
    grade_three_registry(&wd);
    let rule = r#"
[[rule]]
id = "LOC-01"
name = "三级智力残疾人未享受护理补贴"
flags = "grade 三级 智力 with no 护理补贴 (a province that extends the subsidy)"
basis = "省级政策"
kind = "coverage"
subject = "dpf"
when = [{ active = true }, { living = true }, { field = "disability_grade", in = ["3"] }, { field = "disability_category", in = ["智力", "精神"] }]
requires = { source = "civil", where = [{ active = true }, { field = "program", in = "care_subsidy" }] }
"#;
    let config = std::fs::read_to_string(repo_path("configs/default.toml")).unwrap() + rule;
    wd.write_bytes("local.toml", config.as_bytes());
    let check = wd.recon(&["check-config", "local.toml"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(check.stdout.contains("LOC-01"));
    wd.run_ok(&["--config", "local.toml", "in"]);
    let gaps = wd.gaps();
    assert_eq!(gaps, vec![("LOC-01".to_string(), "dpf.csv".to_string(), 2)]);
    let rules = wd
        .recon(&["rules", "--config", "local.toml", "LOC-01"])
        .stdout;
    assert!(rules.contains("省级政策"), "{rules}");
}

#[test]
fn a_disabled_rule_is_not_run() {
    let wd = Workdir::new();
    let config = std::fs::read_to_string(repo_path("configs/default.toml"))
        .unwrap()
        .replace("id = \"MED-01\"\n", "id = \"MED-01\"\nenabled = false\n");
    wd.write_bytes("c.toml", config.as_bytes());
    let sample = repo_path("sample_data").display().to_string();
    wd.run_ok(&["--config", "c.toml", &sample]);
    let gaps = wd.gaps();
    assert!(!gaps.is_empty() && gaps.iter().all(|g| g.0 != "MED-01"));
}

/// The default config with `extra` appended.
fn config_with(wd: &Workdir, name: &str, extra: &str) {
    let config = std::fs::read_to_string(repo_path("configs/default.toml")).unwrap() + extra;
    wd.write_bytes(name, config.as_bytes());
}

#[test]
fn a_rule_with_no_check_says_what_it_flags() {
    let wd = Workdir::new();
    let old = make_id("420325", "19300101", 11);
    let young = make_id("420325", "19800101", 13);
    wd.write_csv(
        "in/civil.csv",
        &[
            CIVIL_HEADER.to_vec(),
            vec!["甲", &old, "房县", "临时救助", "2020-01-01", "", "正常"],
            vec!["乙", &young, "房县", "临时救助", "2020-01-01", "", "正常"],
        ],
    );
    config_with(
        &wd,
        "c.toml",
        r#"
[[rule]]
id = "OLD-01"
name = "高龄临时救助对象"
flags = "an active 临时救助 record of a person aged 80 or more"
basis = "审计抽查"
kind = "audit"
subject = "civil"
when = [{ active = true }, { field = "program", in = ["临时救助"] }, { age_min = 80 }]
"#,
    );
    wd.run_ok(&["--config", "c.toml", "--rule", "OLD-01", "in"]);
    let gaps = wd.csv_rows("out/gaps.csv");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let detail = &gaps[0]["detail"];
    assert!(
        detail.contains("临时救助") && detail.contains("80周岁以上") && !detail.contains("死亡"),
        "{detail}"
    );
}

#[test]
fn a_county_condition_selects_that_county() {
    let wd = Workdir::new();
    let fx = make_id("420325", "19700101", 11);
    let mc = make_id("421181", "19700101", 13);
    wd.write_csv(
        "in/dpf.csv",
        &[
            DPF_HEADER.to_vec(),
            vec!["甲", &fx, "肢体", "一级", "房县", "否", "", "正常"],
            vec!["乙", &mc, "肢体", "一级", "麻城市", "否", "", "正常"],
        ],
    );
    civil_of_another_person(&wd);
    for (county, row) in [("房县", 1), ("421181", 2)] {
        config_with(
            &wd,
            "c.toml",
            &format!(
                r#"
[[rule]]
id = "LOC-02"
name = "本县重度残疾人未享受护理补贴"
flags = "CIV-02 for one county"
basis = "县级核查"
kind = "coverage"
subject = "dpf"
when = [{{ active = true }}, {{ field = "county", in = ["{county}"] }}, {{ field = "disability_grade", in = "severe_grades" }}]
requires = {{ source = "civil", where = [{{ active = true }}, {{ field = "program", in = "care_subsidy" }}] }}
"#
            ),
        );
        wd.run_ok(&["--config", "c.toml", "--rule", "LOC-02", "in"]);
        assert_eq!(
            wd.gaps(),
            vec![("LOC-02".to_string(), "dpf.csv".to_string(), row)],
            "{county}"
        );
    }
    config_with(
        &wd,
        "bad.toml",
        "[[rule]]\nid = \"X\"\nname = \"x\"\nflags = \"x\"\nbasis = \"x\"\nkind = \"coverage\"\nsubject = \"dpf\"\nwhen = [{ field = \"county\", in = [\"鼓楼区\"] }]\n",
    );
    let check = wd.recon(&["check-config", "bad.toml"]);
    assert_eq!(check.code, 2);
    assert!(
        check.stderr.contains("names several counties"),
        "{}",
        check.stderr
    );
}

/// For a past as-of date, a certificate cancelled later was in force; one cancelled with no
/// date is cancelled at any date.
#[test]
fn a_certificate_cancelled_after_the_as_of_date_was_in_force_then() {
    let wd = Workdir::new();
    let later = make_id("420325", "19700101", 11);
    let undated = make_id("420325", "19700101", 13);
    wd.write_csv(
        "in/dpf.csv",
        &[
            vec![
                "姓名",
                "身份证号",
                "残疾类别",
                "残疾等级",
                "所属区县",
                "证件状态",
                "注销原因",
                "注销日期",
            ],
            vec![
                "甲",
                &later,
                "肢体",
                "一级",
                "房县",
                "注销",
                "迁出",
                "2020-09-01",
            ],
            vec!["乙", &undated, "肢体", "一级", "房县", "注销", "迁出", ""],
        ],
    );
    wd.write_csv(
        "in/civil.csv",
        &[
            CIVIL_HEADER.to_vec(),
            vec![
                "甲",
                &later,
                "房县",
                "重度残疾人护理补贴",
                "2019-01-01",
                "",
                "正常",
            ],
            vec![
                "乙",
                &undated,
                "房县",
                "重度残疾人护理补贴",
                "2019-01-01",
                "",
                "正常",
            ],
        ],
    );
    let aud01 = |as_of: &str| {
        let run = wd.recon(&[
            "run", "--as-of", as_of, "--out", "out", "--rule", "AUD-01", "in",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        wd.gaps().into_iter().map(|g| g.2).collect::<Vec<u32>>()
    };
    assert_eq!(aud01("2020-06-30"), vec![2], "in force on 2020-06-30");
    assert_eq!(aud01("2020-10-01"), vec![1, 2], "cancelled by 2020-10-01");
}

#[test]
fn check_config_warns_of_conditions_no_row_can_meet() {
    let wd = Workdir::new();
    let config = std::fs::read_to_string(repo_path("configs/default.toml"))
        .unwrap()
        .replace(
            "severe_grades = [\"一级\", \"二级\"]",
            "severe_grades = [\"一级\", \"五级\"]",
        )
        .replace(
            "{ age_min = 6, age_max = 15 }",
            "{ age_min = 15, age_max = 6 }",
        )
        .replace("in = \"disability_cause\"", "in = [\"因殘疾\"]");
    wd.write_bytes("c.toml", config.as_bytes());
    let check = wd.recon(&["check-config", "c.toml"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    for warning in [
        "rule CIV-02: when[2]: `五级` is not a disability grade",
        "rule EDU-01: when[2]: age_min 15 is above age_max 6",
        "rule CIV-03: when[3]: `因殘疾` is in no [vocabulary] list",
    ] {
        assert!(check.stdout.contains(warning), "{}", check.stdout);
    }
    let clean = wd.recon(&[
        "check-config",
        &repo_path("configs/default.toml").display().to_string(),
    ]);
    assert!(!clean.stdout.contains("warning"), "{}", clean.stdout);
}

/// A payment duplicated across counties is a gap in each county, each saying where the other
/// copy is, and an item in each county's ledger.
#[test]
fn a_duplicate_in_another_county_names_that_county() {
    let wd = Workdir::new();
    let id = make_id("420325", "19500101", 17);
    wd.write_csv(
        "in/civil.csv",
        &[
            CIVIL_HEADER.to_vec(),
            vec!["丁", &id, "房县", "低保", "2020-01-01", "", "正常"],
            vec!["丁", &id, "麻城市", "低保", "2020-01-01", "", "正常"],
        ],
    );
    wd.run_ok(&["--rule", "AUD-05", "--ledger", "l.sqlite", "in"]);
    let gaps = wd.csv_rows("out/gaps.csv");
    assert_eq!(gaps.len(), 2);
    for gap in &gaps {
        let other = match gap["county_code"].as_str() {
            "420325" => "麻城市（421181）",
            _ => "房县（420325）",
        };
        assert!(
            gap["detail"].contains(&format!("在{other}另有")),
            "{}",
            gap["detail"]
        );
    }
    let list = wd.recon(&["ledger", "list", "--ledger", "l.sqlite", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(list.stdout.as_bytes());
    let items: Vec<(String, String)> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].to_string(), r[2].to_string()))
        .collect();
    assert_eq!(items.len(), 2, "{items:?}");
    for (key, county) in &items {
        assert!(key.ends_with(&format!("@{county}")), "{key}");
    }
}

/// An amount compared with a standard per county and year, in an `any` group: a 护理补贴 paid
/// under the county's standard, or with no amount at all, is a finding; an amount no one can
/// read is counted in quality.csv, not guessed; a county the standard has no amount for is not
/// checked, and the run says so.
#[test]
fn an_amount_under_the_countys_standard_is_a_finding() {
    let wd = Workdir::new();
    let mut header = CIVIL_HEADER.to_vec();
    header.push("发放金额");
    let id = |region, n| make_id(region, "19600101", n);
    let rows: Vec<(&str, String, &str, &str, &str)> = vec![
        ("甲", id("420325", 11), "房县", "重度残疾人护理补贴", "80元"),
        ("乙", id("420325", 13), "房县", "重度残疾人护理补贴", "100"),
        ("丙", id("420325", 15), "房县", "重度残疾人护理补贴", ""),
        ("丁", id("420325", 17), "房县", "重度残疾人护理补贴", "壹佰"),
        ("戊", id("421181", 19), "麻城市", "重度残疾人护理补贴", "10"),
        ("己", id("420325", 21), "房县", "农村低保", "10"),
    ];
    let mut table = vec![header];
    for (name, id, county, program, amount) in &rows {
        table.push(vec![
            name,
            id,
            county,
            program,
            "2020-01-01",
            "",
            "正常",
            amount,
        ]);
    }
    wd.write_csv("in/civil.csv", &table);
    let extra = r#"
[sources.civil.fields.monthly_amount]
kind = "amount"
aliases = ["发放金额"]

[[standard]]
name = "护理补贴"
county = "4203"
amount = 100

[[standard]]
name = "护理补贴"
county = "420325"
year = 2019
amount = 60

[[rule]]
id = "PAY-01"
name = "护理补贴未足额发放"
flags = "an active 护理补贴 record paid under the county's standard, or with no amount"
basis = "足额发放"
kind = "audit"
subject = "civil"
when = [{ active = true }, { field = "program", in = "care_subsidy" }, { any = [{ field = "monthly_amount", below = { standard = "护理补贴" } }, { field = "monthly_amount", empty = true }] }]
"#;
    config_with(&wd, "c.toml", extra);
    let check = wd.recon(&["check-config", "c.toml"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(!check.stdout.contains("[[standard]]"), "{}", check.stdout);
    config_with(
        &wd,
        "unread.toml",
        &format!("{extra}\n[[standard]]\nname = \"护理费\"\namount = 90\n"),
    );
    let unread = wd.recon(&["check-config", "unread.toml"]);
    assert!(
        unread
            .stdout
            .contains("[[standard]] `护理费`: no condition compares with it"),
        "{}",
        unread.stdout
    );
    let run = wd.recon(&[
        "run",
        "--as-of",
        "2020-06-30",
        "--config",
        "c.toml",
        "--rule",
        "PAY-01",
        "--out",
        "out",
        "in",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // 2019's 60 does not apply in 2020: 房县 is under the prefecture's 100.
    assert_eq!(
        wd.gaps(),
        [1, 3].map(|row| ("PAY-01".to_string(), "civil.csv".to_string(), row))
    );
    let gaps = wd.csv_rows("out/gaps.csv");
    assert!(
        gaps[0]["detail"].contains("（发放金额低于护理补贴标准或发放金额为空）"),
        "{}",
        gaps[0]["detail"]
    );
    assert!(
        run.stdout.contains(
            "PAY-01: standard `护理补贴` has no amount for county 421181 in 2020 (1 rows)"
        ),
        "{}",
        run.stdout
    );
    let quality = wd.csv_rows("out/quality.csv");
    assert!(
        quality
            .iter()
            .any(|q| q["defect"] == "amount_unparsed" && q["rows"] == "1"),
        "{quality:?}"
    );
    for (mistake, says) in [
        (
            r#"{ field = "program", below = 100 }"#,
            "`program` is not an amount",
        ),
        (
            r#"{ field = "monthly_amount", below = { standard = "护理费" } }"#,
            "no [[standard]] named `护理费`",
        ),
        (r#"{ any = [] }"#, "`any` needs at least one condition"),
    ] {
        config_with(
            &wd,
            "bad.toml",
            &extra.replace(
                r#"{ active = true }, { field = "program""#,
                &format!("{mistake}, {{ field = \"program\""),
            ),
        );
        let check = wd.recon(&["check-config", "bad.toml"]);
        assert_eq!(check.code, 2, "{mistake}");
        assert!(check.stderr.contains(says), "{mistake}: {}", check.stderr);
    }
}

/// The eligibility of a province that extends 护理补贴 to grade 三级 智力 and 精神 disability, in
/// one rule: `any` of the severe grades or `all` of 三级 and those categories; an alternative may
/// read another source (a 低保 record of the person).
#[test]
fn any_and_all_groups_say_one_rule_in_place_of_two() {
    let wd = Workdir::new();
    grade_three_registry(&wd);
    config_with(
        &wd,
        "c.toml",
        r#"
[[rule]]
id = "LOC-03"
name = "重度及三级智力精神残疾人未享受护理补贴"
flags = "CIV-02 extended to grade 三级 智力/精神, or to anyone on 低保"
basis = "省级政策"
kind = "coverage"
subject = "dpf"
when = [
  { active = true },
  { any = [
    { field = "disability_grade", in = "severe_grades" },
    { all = [{ field = "disability_grade", in = ["三级"] }, { field = "disability_category", in = ["智力", "精神"] }] },
    { linked = { source = "civil", where = [{ active = true }, { field = "program", in = "dibao" }] } },
  ] },
]
requires = { source = "civil", where = [{ active = true }, { field = "program", in = "care_subsidy" }] }
"#,
    );
    wd.run_ok(&["--config", "c.toml", "--rule", "LOC-03", "in"]);
    assert_eq!(
        wd.gaps(),
        vec![("LOC-03".to_string(), "dpf.csv".to_string(), 2)],
        "乙 (三级 智力) only; 甲 is 三级 肢体 and on no 低保"
    );
    let civil = make_id("420325", "19700101", 11);
    wd.write_csv(
        "in/civil.csv",
        &[
            CIVIL_HEADER.to_vec(),
            vec!["甲", &civil, "房县", "农村低保", "2020-01-01", "", "正常"],
        ],
    );
    wd.run_ok(&["--config", "c.toml", "--rule", "LOC-03", "in"]);
    assert_eq!(
        wd.gaps(),
        [1, 2].map(|row| ("LOC-03".to_string(), "dpf.csv".to_string(), row)),
        "甲 is on 低保 now"
    );
}

/// EDU-03's fixture households, copied into the work folder; `keep_head` false drops the
/// civil-affairs file's 户主身份证号 column.
fn fixture_households(wd: &Workdir, keep_head: bool) {
    for file in ["civil.csv", "dpf.csv", "education.csv"] {
        let text = std::fs::read_to_string(repo_path(&format!(
            "tests/fixtures/rules/EDU-03/input/{file}"
        )))
        .unwrap();
        let text: String = text
            .lines()
            .map(|line| {
                let cells: Vec<&str> = line.split(',').collect();
                let kept = match (file, keep_head) {
                    ("civil.csv", false) => [&cells[..4], &cells[5..]].concat().join(","),
                    _ => line.to_string(),
                };
                kept + "\n"
            })
            .collect();
        wd.write_bytes(&format!("in/{file}"), text.as_bytes());
    }
}

/// 一户多残 as an auditor writes it: registry rows of households with two or more certified
/// members (counted by their registry rows), and a household count no household can meet.
#[test]
fn a_household_count_reaches_the_family() {
    let wd = Workdir::new();
    fixture_households(&wd, true);
    config_with(
        &wd,
        "c.toml",
        r#"
[[rule]]
id = "HH-01"
name = "一户多残"
flags = "a certified person in a household of two or more certified members"
basis = "x"
kind = "audit"
subject = "dpf"
when = [{ active = true }, { household = { where = [{ active = true }], at_least = 2 } }]
"#,
    );
    wd.run_ok(&["--config", "c.toml", "--rule", "HH-01", "in"]);
    assert_eq!(
        wd.gaps(),
        [1, 2].map(|row| ("HH-01".to_string(), "dpf.csv".to_string(), row)),
        "辛一 and 辛四, of one household; each other certified person is alone in theirs"
    );
    let detail = &wd.csv_rows("out/gaps.csv")[0]["detail"];
    assert!(
        detail.contains("同户（含本人）截至2020-06-30有效的成员至少2人"),
        "{detail}"
    );
    let links = wd.csv_rows("out/links.csv");
    let household_of = |file: &str, row: &str| {
        let line = links
            .iter()
            .find(|l| l["source_file"] == file && l["source_row"] == row);
        line.unwrap()["household_key"].clone()
    };
    assert_eq!(household_of("civil.csv", "2"), household_of("dpf.csv", "1"));
    assert_eq!(household_of("dpf.csv", "1"), household_of("civil.csv", "1"));
    assert_ne!(
        household_of("civil.csv", "2"),
        household_of("civil.csv", "6")
    );
    assert!(
        !household_of("education.csv", "1").is_empty(),
        "辛三, by her civil row"
    );
}

/// A household rule over a file that lost its 户主身份证号 column is told, not silently empty.
#[test]
fn a_household_rule_is_blind_without_the_heads_id() {
    let wd = Workdir::new();
    fixture_households(&wd, false);
    let run = wd.run_ok(&["--rule", "EDU-03", "in"]);
    assert!(wd.gaps().is_empty());
    assert!(
        run.stdout
            .contains("EDU-03 blind to household_head_id (户主身份证号) in civil.csv"),
        "{}",
        run.stdout
    );
}

#[test]
fn check_config_refuses_household_counts_no_row_can_meet() {
    let wd = Workdir::new();
    for (mistake, says) in [
        (
            "{ household = { at_least = 3, at_most = 1 } }",
            "household at_least 3 is above at_most 1",
        ),
        ("{ household = { at_least = 0 } }", "holds for every row"),
        (
            "{ active = true } ]\nper = \"family\"\n#",
            "per must be row or household",
        ),
    ] {
        config_with(
            &wd,
            "bad.toml",
            &format!(
                "[[rule]]\nid = \"HH-02\"\nname = \"x\"\nflags = \"x\"\nbasis = \"x\"\nkind = \"audit\"\nsubject = \"civil\"\nwhen = [{mistake}]\n"
            ),
        );
        let check = wd.recon(&["check-config", "bad.toml"]);
        assert_eq!(check.code, 2, "{mistake}");
        assert!(check.stderr.contains(says), "{mistake}: {}", check.stderr);
    }
    // A source's `active` is decided before persons are known.
    let config = std::fs::read_to_string(repo_path("configs/default.toml"))
        .unwrap()
        .replace(
            r#"active = [{ field = "student_status", in = "enrolled_status" }]"#,
            r#"active = [{ field = "student_status", in = "enrolled_status" }, { age_max = 18 }]"#,
        );
    wd.write_bytes("bad.toml", config.as_bytes());
    let check = wd.recon(&["check-config", "bad.toml"]);
    assert_eq!(check.code, 2);
    assert!(
        check
            .stderr
            .contains("source education: active[1]: only tests of the row's own values"),
        "{}",
        check.stderr
    );
}

/// A child's insurance row carrying the father's ID is placed with the child by name; the
/// child's age is still the child's own (from the ID that is theirs), not the father's, even
/// when that row comes first.
#[test]
fn a_relatives_id_on_a_childs_row_does_not_give_the_child_its_age() {
    let wd = Workdir::new();
    let father = make_id("420325", "19800101", 11);
    let child = make_id("420325", "20100301", 13);
    wd.write_csv(
        "in/a_insurance.csv",
        &[
            INSURANCE_HEADER.to_vec(),
            vec!["赵小明", &father, "2020", "正常参保", ""],
            vec!["赵大山", &father, "2020", "正常参保", ""],
        ],
    );
    wd.write_csv(
        "in/dpf.csv",
        &[
            DPF_HEADER.to_vec(),
            vec!["赵小明", &child, "肢体", "四级", "房县", "否", "", "正常"],
            vec!["赵大山", &father, "肢体", "四级", "房县", "否", "", "正常"],
        ],
    );
    let pupil = make_id("420325", "20110301", 15);
    wd.write_csv(
        "in/education.csv",
        &[
            vec!["姓名", "身份证件号", "学籍状态"],
            vec!["钱多", &pupil, "在读"],
        ],
    );
    wd.run_ok(&["--rule", "EDU-01", "in"]);
    let links = wd.csv_rows("out/links.csv");
    let key = |file: &str, row: &str| {
        let line = links
            .iter()
            .find(|l| l["source_file"] == file && l["source_row"] == row);
        line.unwrap()["person_key"].clone()
    };
    assert_eq!(
        key("a_insurance.csv", "1"),
        key("dpf.csv", "1"),
        "{links:?}"
    );
    assert_eq!(
        wd.gaps(),
        vec![("EDU-01".to_string(), "dpf.csv".to_string(), 1)],
        "赵小明 is 10 and in no school"
    );
}

/// An office without a department's export runs without it: the rules reading it are not run,
/// and the terminal and summary.csv say so and why (not a silent zero, not an error). Dropping
/// the export in turns them on. Each department is tried on its rule's fixture.
#[test]
fn a_department_is_turned_on_by_dropping_its_export_in() {
    for (rule, department, file) in [
        ("PEN-01", "pension", "pension.csv"),
        ("HLT-01", "health", "health.csv"),
        ("HOU-01", "housing", "housing.csv"),
        ("DPF-01", "poverty", "poverty.csv"),
    ] {
        let wd = Workdir::new();
        let input = repo_path(&format!("tests/fixtures/rules/{rule}/input"));
        let mut files: Vec<_> = std::fs::read_dir(&input)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        for name in files.iter().filter(|f| *f != file) {
            wd.write_bytes(
                &format!("in/{name}"),
                &std::fs::read(input.join(name)).unwrap(),
            );
        }
        let off = wd.run_ok(&["in"]);
        assert!(
            off.stdout
                .contains(&format!("{rule} not run: source {department} (")),
            "{rule}: {}",
            off.stdout
        );
        let of_rule = |wd: &Workdir| -> Vec<(String, String, u32)> {
            (wd.gaps().into_iter()).filter(|g| g.0 == rule).collect()
        };
        assert!(of_rule(&wd).is_empty(), "{rule}");
        let summary = wd.csv_rows("out/summary.csv");
        let rows: Vec<_> = summary.iter().filter(|r| r["rule_id"] == rule).collect();
        assert!(
            !rows.is_empty()
                && rows
                    .iter()
                    .all(|r| r["not_checked"].contains("本规则未运行")),
            "{rule}: {rows:?}"
        );

        wd.write_bytes(
            &format!("in/{file}"),
            &std::fs::read(input.join(file)).unwrap(),
        );
        let on = wd.run_ok(&["in"]);
        assert!(
            !on.stdout.contains(&format!("{rule} not run")),
            "{}",
            on.stdout
        );
        let want = expected_gaps(&format!("tests/fixtures/rules/{rule}/expected.csv"));
        assert_eq!(of_rule(&wd), want, "{rule}");
        let summary = wd.csv_rows("out/summary.csv");
        assert!(
            (summary.iter())
                .filter(|r| r["rule_id"] == rule)
                .all(|r| r["not_checked"].is_empty()),
            "{rule}"
        );
    }
}
