//! One fixture per rule (`tests/fixtures/rules/<ID>/`), run with that rule alone, and rules
//! changed by editing the TOML config with no rebuild.

use crate::workdir::{expected_gaps, make_id, repo_path, Workdir, DPF_HEADER};

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
    civ_01 => "CIV-01", civ_02 => "CIV-02", civ_03 => "CIV-03", civ_04 => "CIV-04",
    edu_01 => "EDU-01", edu_02 => "EDU-02",
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
    assert_eq!(ids.len(), 14, "{listing}");
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
