//! The commands as an operator and an auditor use them: exit codes, the lock, inspect and
//! its written config, check-config and rules.

use crate::workdir::{repo_path, Workdir};

fn sample() -> String {
    repo_path("sample_data").display().to_string()
}

#[test]
fn exit_codes_are_distinct_and_documented() {
    let wd = Workdir::new();
    let help = wd.recon(&["--help"]).stdout;
    for code in [
        "0 success",
        "2 bad input or config",
        "3 another run",
        "1 internal error",
        "4 gaps found",
    ] {
        assert!(
            help.replace('\n', " ").contains(code),
            "--help lacks `{code}`:\n{help}"
        );
    }
    let gaps = wd.recon(&[
        "run",
        "--as-of",
        "2020-06-30",
        "--out",
        "out",
        "--fail-on-gaps",
        &sample(),
    ]);
    assert_eq!(gaps.code, 4);
    let bad_date = wd.recon(&["run", "--as-of", "2020-13-01", &sample()]);
    assert_eq!(bad_date.code, 2);
    assert!(bad_date.stderr.contains("--as-of 2020-13-01"));
    let bad_rule = wd.recon(&["run", "--rule", "XYZ-99", &sample()]);
    assert_eq!(bad_rule.code, 2);
    let missing = wd.recon(&["run", "no/such/folder"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("no/such/folder"));
}

#[test]
fn a_second_run_on_the_same_output_exits_locked() {
    let wd = Workdir::new();
    let lock = std::fs::File::create(wd.path(".out.lock")).unwrap();
    lock.try_lock().unwrap();
    let run = wd.recon(&["run", "--as-of", "2020-06-30", "--out", "out", &sample()]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("another recon run"));
    assert!(!wd.exists("out"));
    drop(lock);
    wd.run_ok(&[&sample()]);
}

#[test]
fn inspect_shows_mappings_and_writes_a_config_that_reproduces_the_run() {
    let wd = Workdir::new();
    let inspect = wd.recon(&["inspect", "--write-config", "audit.toml", &sample()]);
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);
    let out = &inspect.stdout;
    for expected in [
        "encoding: GBK/GB18030",
        "encoding: UTF-8 with BOM",
        "sheet: 持证残疾人",
        "format: xls",
        "source: civil",
        "A 救助对象姓名 -> name (alias)",
        "(alias)",
        "J 所在区县 -> county (words 县)",
        "unmapped columns: A 序号",
    ] {
        assert!(out.contains(expected), "inspect lacks `{expected}`:\n{out}");
    }
    let check = wd.recon(&["check-config", "audit.toml"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(check.stdout.contains("11 pinned files"), "{}", check.stdout);
    wd.run_ok(&[&sample()]);
    let bundled = wd.read("out/gaps.csv");
    wd.run_ok(&["--config", "audit.toml", &sample()]);
    assert_eq!(wd.read("out/gaps.csv"), bundled);
}

#[test]
fn check_config_names_the_mistake() {
    let wd = Workdir::new();
    let config = std::fs::read_to_string(repo_path("configs/default.toml")).unwrap();
    wd.write_bytes(
        "typo.toml",
        config
            .replace("subject = \"dpf\"", "subject = \"dfp\"")
            .as_bytes(),
    );
    let run = wd.recon(&["check-config", "typo.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("typo.toml") && run.stderr.contains("unknown source `dfp`"),
        "{}",
        run.stderr
    );
    for (id, says) in [
        ("", "empty id"),
        ("MED-02", "rule MED-02: the id is used twice"),
    ] {
        let named = config.replacen("id = \"MED-01\"", &format!("id = \"{id}\""), 1);
        wd.write_bytes("ids.toml", named.as_bytes());
        let run = wd.recon(&["check-config", "ids.toml"]);
        assert_eq!(run.code, 2, "{}", run.stdout);
        assert!(run.stderr.contains(says), "{}", run.stderr);
    }
    let ok = wd.recon(&[
        "check-config",
        &repo_path("configs/default.toml").display().to_string(),
    ]);
    assert_eq!(ok.code, 0);
    assert!(ok.stdout.contains("21 rules (21 enabled)"), "{}", ok.stdout);
}

#[test]
fn rules_lists_the_catalogue_and_shows_one() {
    let wd = Workdir::new();
    let all = wd.recon(&["rules"]).stdout;
    assert!(
        all.contains("MED-01") && all.contains("AUD-06") && all.contains("国发〔2015〕52号"),
        "{all}"
    );
    let one = wd.recon(&["rules", "aud-05"]);
    assert_eq!(one.code, 0);
    assert!(
        one.stdout.contains("同一救助项目重复享受") && one.stdout.contains("audit finding"),
        "{}",
        one.stdout
    );
    assert_eq!(wd.recon(&["rules", "NOPE"]).code, 2);
}

#[test]
fn the_bundled_config_is_the_repository_file() {
    assert_eq!(
        std::fs::read_to_string(repo_path("configs/default.toml")).unwrap(),
        recon::config::DEFAULT_CONFIG
    );
}

#[test]
fn leftovers_of_a_crashed_run_are_recovered() {
    let wd = Workdir::new();
    wd.run_ok(&[&sample()]);
    let yesterday = wd.read("out/gaps.csv");
    // Killed after moving yesterday's output aside, before the new one was renamed in.
    std::fs::rename(wd.path("out"), wd.path(".out.old")).unwrap();
    std::fs::create_dir(wd.path(".out.tmp")).unwrap();
    std::fs::write(wd.path(".out.tmp/gaps.csv"), "half written").unwrap();
    let locked = std::fs::File::create(wd.path(".out.lock")).unwrap();
    locked.try_lock().unwrap();
    assert_eq!(
        wd.recon(&["run", "--as-of", "2020-06-30", "--out", "out", &sample()])
            .code,
        3
    );
    drop(locked);
    let bad = wd.recon(&[
        "run",
        "--as-of",
        "2020-06-30",
        "--out",
        "out",
        "no/such/input",
    ]);
    assert_eq!(bad.code, 2);
    wd.run_ok(&[&sample()]);
    assert_eq!(wd.read("out/gaps.csv"), yesterday);
    assert!(!wd.exists(".out.old") && !wd.exists(".out.tmp"));
}

/// bench/results.csv keeps every bench invocation: each row has the header's fields, read as
/// a CSV reader reads it (a row whose quotes were escaped otherwise splits into more).
#[test]
fn bench_results_rows_have_the_headers_fields() {
    let path = repo_path("bench/results.csv");
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&path)
        .unwrap();
    let fields = reader.headers().unwrap().len();
    for (line, row) in reader.records().enumerate() {
        let row = row.unwrap();
        assert_eq!(row.len(), fields, "bench/results.csv row {}", line + 2);
    }
}
