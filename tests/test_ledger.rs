//! Nightly operation: the ledger across nights, crash safety at every stage, one run at a
//! time, schema migration, county notes, and logs without personal data.

use std::collections::BTreeMap;

use crate::workdir::{
    make_id, person_key_of, repo_path, Workdir, CIVIL_HEADER, DPF_HEADER, INSURANCE_HEADER,
};

const LEDGER: &str = "ledger.sqlite";

/// The people of the scenario, by name and ID sequence number.
const PEOPLE: [(&str, u32); 4] = [("甲", 11), ("乙", 13), ("丙", 15), ("丁", 17)];

fn id_of(name: &str) -> String {
    let seq = PEOPLE.iter().find(|(n, _)| *n == name).unwrap().1;
    make_id("420325", "19700101", seq)
}

/// One night's exports: the registry (with C's ID mistyped while `c_typo`), and the
/// insurance enrollments of `insured`.
fn night_files(wd: &Workdir, with_d: bool, c_typo: bool, insured: &[&str]) {
    let ids: BTreeMap<&str, String> = PEOPLE.iter().map(|(n, _)| (*n, id_of(n))).collect();
    let c_id = match c_typo {
        true => format!(
            "{}{}",
            &ids["丙"][..17],
            if ids["丙"].ends_with('0') { '1' } else { '0' }
        ),
        false => ids["丙"].clone(),
    };
    let mut dpf = vec![
        DPF_HEADER.to_vec(),
        vec![
            "甲",
            &ids["甲"],
            "肢体",
            "四级",
            "房县",
            "是",
            "因病",
            "正常",
        ],
        vec![
            "乙",
            &ids["乙"],
            "肢体",
            "四级",
            "房县",
            "是",
            "因病",
            "正常",
        ],
        vec!["丙", &c_id, "肢体", "一级", "房县", "否", "", "正常"],
    ];
    if with_d {
        dpf.push(vec![
            "丁",
            &ids["丁"],
            "肢体",
            "四级",
            "房县",
            "是",
            "因病",
            "正常",
        ]);
    }
    let background = background_people();
    for (name, id) in &background {
        dpf.push(vec![name, id, "肢体", "四级", "房县", "否", "", "正常"]);
    }
    wd.write_csv("in/dpf.csv", &dpf);
    let mut insurance = vec![INSURANCE_HEADER.to_vec()];
    for name in insured {
        insurance.push(vec![name, &ids[name], "2020", "正常参保", "建档立卡"]);
    }
    for (name, id) in &background {
        insurance.push(vec![name, id, "2020", "正常参保", ""]);
    }
    wd.write_csv("in/insurance.csv", &insurance);
    let mut civil = vec![CIVIL_HEADER.to_vec()];
    for (name, id) in &background {
        civil.push(vec![name, id, "房县", "临时救助", "2020-01-01", "", "正常"]);
    }
    wd.write_csv("in/civil.csv", &civil);
}

/// Ten people of the county in every night's registry, insurance and civil-affairs files, in
/// no rule's gaps: each department has rows every night, and one person more or less is no
/// sharp fall.
fn background_people() -> Vec<(String, String)> {
    (0..10)
        .map(|i| {
            (
                format!(
                    "钱{}",
                    ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"][i]
                ),
                make_id("420325", "19600101", 51 + 2 * i as u32),
            )
        })
        .collect()
}

/// `recon run` for one night over `in/`, with the scenario's ledger.
fn night_args(as_of: &str) -> [&str; 8] {
    [
        "run", "--as-of", as_of, "--out", "out", "--ledger", LEDGER, "in",
    ]
}

fn run_night(wd: &Workdir, as_of: &str) {
    let run = wd.recon(&night_args(as_of));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// `recon run` for one night, killed right after `stage`.
fn killed_night(wd: &Workdir, as_of: &str, stage: &str) {
    let killed = wd.recon_env(&night_args(as_of), ("RECON_TEST_CRASH_AFTER", stage));
    assert_eq!(killed.code, -1, "{stage}: the run should have been killed");
}

/// (rule, name of the person, status) of every ledger item, via `recon ledger list --format csv`.
fn ledger_items(wd: &Workdir) -> Vec<(String, String, String)> {
    let list = wd.recon(&["ledger", "list", "--ledger", LEDGER, "--format", "csv"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let names: BTreeMap<String, String> = PEOPLE
        .iter()
        .map(|(n, _)| (person_key_of(&id_of(n)), n.to_string()))
        .collect();
    let mut reader = csv::Reader::from_reader(list.stdout.as_bytes());
    let mut items: Vec<_> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| {
            (
                r[1].to_string(),
                names
                    .get(&r[3])
                    .cloned()
                    .unwrap_or_else(|| format!("row key {}", &r[3][..1])),
                r[4].to_string(),
            )
        })
        .collect();
    items.sort();
    items
}

fn item(rule: &str, who: &str, status: &str) -> (String, String, String) {
    (rule.into(), who.into(), status.into())
}

fn sorted<const N: usize>(items: [(String, String, String); N]) -> Vec<(String, String, String)> {
    let mut items = items.to_vec();
    items.sort();
    items
}

#[test]
fn a_multi_night_scenario_opens_keeps_closes_and_reopens() {
    let wd = Workdir::new();
    // Night 1: 甲 and 乙 uninsured; 丙's registry ID has a typo, so its row links to nobody.
    night_files(&wd, false, true, &[]);
    run_night(&wd, "2020-06-30");
    assert_eq!(
        ledger_items(&wd),
        sorted([
            item("CIV-02", "row key R", "new"),
            item("MED-01", "甲", "new"),
            item("MED-01", "乙", "new")
        ])
    );
    // Night 2: 甲 enrolled (fixed), 丁 arrives uninsured (new problem), 丙's typo corrected.
    night_files(&wd, true, false, &["甲"]);
    run_night(&wd, "2020-07-01");
    assert_eq!(
        ledger_items(&wd),
        sorted([
            item("CIV-02", "row key R", "open"),
            item("MED-01", "丁", "new"),
            item("MED-01", "乙", "open"),
            item("MED-01", "甲", "closed")
        ]),
        "the corrected typo keeps 丙's item: nothing opened or closed for it"
    );
    let gaps = wd.csv_rows("out/gaps.csv");
    let c = gaps.iter().find(|g| g["rule_id"] == "CIV-02").unwrap();
    assert_eq!(
        (c["status"].as_str(), c["first_seen"].as_str()),
        ("open", "2020-06-30")
    );
    assert!(
        c["person_key"].starts_with('R'),
        "the person keeps the key it had"
    );
    let summary = wd.csv_rows("out/summary.csv");
    let med = summary
        .iter()
        .find(|r| r["rule_id"] == "MED-01" && r["county_code"] == "420325")
        .unwrap();
    assert_eq!(
        (
            med["new"].as_str(),
            med["closed"].as_str(),
            med["still_open"].as_str()
        ),
        ("1", "1", "1")
    );
    // Night 3: 乙 enrolled.
    night_files(&wd, true, false, &["甲", "乙"]);
    run_night(&wd, "2020-07-02");
    assert_eq!(
        ledger_items(&wd),
        sorted([
            item("CIV-02", "row key R", "open"),
            item("MED-01", "丁", "open"),
            item("MED-01", "乙", "closed"),
            item("MED-01", "甲", "closed")
        ])
    );
    // Night 4: 乙's enrollment is gone again: the closed item reopens.
    night_files(&wd, true, false, &["甲"]);
    run_night(&wd, "2020-07-03");
    let night4 = ledger_items(&wd);
    assert!(
        night4.contains(&item("MED-01", "乙", "reopened")),
        "{night4:?}"
    );
    let gaps4 = wd.read("out/gaps.csv");
    // A rerun of the same night changes nothing but the run log.
    let before = dump(&wd);
    run_night(&wd, "2020-07-03");
    assert_eq!(ledger_items(&wd), night4);
    assert_eq!(wd.read("out/gaps.csv"), gaps4);
    let after = dump(&wd);
    assert_eq!(without_runs(&before), without_runs(&after));
    assert_eq!(after["runs"].len(), before["runs"].len() + 1);
}

/// Every table of the ledger as sorted text rows.
fn dump(wd: &Workdir) -> BTreeMap<String, Vec<String>> {
    let connection = rusqlite::Connection::open(wd.path(LEDGER)).unwrap();
    let mut tables = BTreeMap::new();
    for table in ["runs", "items", "events", "notes", "person_aliases"] {
        let mut statement = connection
            .prepare(&format!("SELECT * FROM {table}"))
            .unwrap();
        let columns = statement.column_count();
        let mut rows: Vec<String> = statement
            .query_map([], |r| {
                Ok((0..columns)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        rows.sort();
        tables.insert(table.to_string(), rows);
    }
    tables
}

fn without_runs(dump: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<String>> {
    dump.iter()
        .filter(|(t, _)| *t != "runs")
        .map(|(t, r)| (t.clone(), r.clone()))
        .collect()
}

#[test]
fn a_run_killed_at_any_stage_leaves_outputs_and_ledger_as_they_were() {
    for stage in ["ingest", "normalize", "link", "rules", "ledger", "report"] {
        let wd = Workdir::new();
        night_files(&wd, false, false, &[]);
        run_night(&wd, "2020-06-30");
        let (outputs, ledger) = (wd.read("out/gaps.csv"), dump(&wd));
        night_files(&wd, true, false, &["甲"]);
        killed_night(&wd, "2020-07-01", stage);
        assert_eq!(wd.read("out/gaps.csv"), outputs, "{stage}: outputs changed");
        assert_eq!(dump(&wd), ledger, "{stage}: ledger changed");
        run_night(&wd, "2020-07-01");
        assert_eq!(
            ledger_items(&wd).len(),
            4,
            "{stage}: the next run goes through"
        );
    }
}

#[test]
fn a_run_killed_after_the_commit_is_published_by_the_next() {
    let reference = Workdir::new();
    night_files(&reference, true, false, &["甲"]);
    run_night(&reference, "2020-07-01");
    let wd = Workdir::new();
    night_files(&wd, true, false, &["甲"]);
    killed_night(&wd, "2020-07-01", "commit");
    assert!(
        !wd.exists("out"),
        "outputs are published only after the commit"
    );
    run_night(&wd, "2020-07-01");
    assert_eq!(ledger_items(&wd), ledger_items(&reference));
    assert_eq!(wd.read("out/gaps.csv"), reference.read("out/gaps.csv"));
}

#[test]
fn a_second_run_on_the_same_ledger_is_locked_out_and_told_who_holds_it() {
    let wd = Workdir::new();
    night_files(&wd, false, false, &[]);
    std::fs::write(wd.path("ledger.lock"), "pid 4242 since 2020-06-30T01:00:00").unwrap();
    let holder = std::fs::File::options()
        .read(true)
        .write(true)
        .open(wd.path("ledger.lock"))
        .unwrap();
    holder.try_lock().unwrap();
    let run = wd.recon(&[
        "run",
        "--as-of",
        "2020-06-30",
        "--out",
        "other-out",
        "--ledger",
        LEDGER,
        "in",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("pid 4242"), "{}", run.stderr);
    drop(holder);
    // The lock file of a dead process is still there, but nobody holds it: no blocking, and
    // the run that takes it removes it.
    run_night(&wd, "2020-06-30");
    assert!(!wd.exists("ledger.lock"));
}

#[test]
fn a_ledger_of_the_first_schema_version_is_migrated() {
    let wd = Workdir::new();
    let unkeyed = recon::link::PersonKey::of_id(&id_of("乙")).to_string();
    {
        let connection = rusqlite::Connection::open(wd.path(LEDGER)).unwrap();
        connection
            .execute_batch(
                "CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, as_of TEXT NOT NULL, config_sha256 TEXT NOT NULL, inputs TEXT NOT NULL, counts TEXT NOT NULL, outcome TEXT NOT NULL);
                 CREATE TABLE items (key TEXT PRIMARY KEY, rule_id TEXT NOT NULL, county_code TEXT NOT NULL, person_key TEXT NOT NULL, status TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, closed_on TEXT, closed_run INTEGER, reopened_on TEXT);
                 CREATE TABLE events (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, key TEXT NOT NULL, event TEXT NOT NULL, on_date TEXT NOT NULL);
                 INSERT INTO runs VALUES (1, '2020-06-01T01:00:00', '2020-06-01', 'x', '[]', '{}', 'committed');
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        let key = &unkeyed;
        connection
            .execute(
                "INSERT INTO items (key, rule_id, county_code, person_key, status, first_seen, last_seen) VALUES (?1, 'MED-01', '420325', ?2, 'new', '2020-06-01', '2020-06-01')",
                [format!("MED-01:{key}"), key.clone()],
            )
            .unwrap();
    }
    night_files(&wd, false, false, &["甲"]);
    run_night(&wd, "2020-06-30");
    let connection = rusqlite::Connection::open(wd.path(LEDGER)).unwrap();
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 8);
    let gaps = wd.csv_rows("out/gaps.csv");
    let b = gaps
        .iter()
        .find(|g| g["rule_id"] == "MED-01" && g["name"] == "乙")
        .unwrap();
    assert_eq!(
        (b["status"].as_str(), b["first_seen"].as_str()),
        ("open", "2020-06-01"),
        "the old item carries over"
    );
    assert_eq!(
        b["person_key"],
        person_key_of(&id_of("乙")),
        "under its keyed key"
    );
    let stored: Vec<String> = connection
        .prepare("SELECT person_key FROM items")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        !stored.contains(&unkeyed),
        "no unkeyed key is left in the ledger"
    );
    let note = wd.recon(&[
        "ledger",
        "note",
        &format!("MED-01:{}", b["person_key"]),
        "--status",
        "pending",
        "--note",
        "参保登记办理中",
        "--ledger",
        LEDGER,
    ]);
    assert_eq!(note.code, 0, "{}", note.stderr);
}

#[test]
fn county_notes_persist_and_the_ledger_exports_per_county() {
    let wd = Workdir::new();
    night_files(&wd, true, false, &[]);
    run_night(&wd, "2020-06-30");
    let key = format!("MED-01:{}", person_key_of(&id_of("丁")));
    let noted = wd.recon(&[
        "ledger",
        "note",
        &key,
        "--status",
        "verified-exception",
        "--note",
        "已迁出本省",
        "--ledger",
        LEDGER,
    ]);
    assert_eq!(noted.code, 0, "{}", noted.stderr);
    assert_eq!(
        wd.recon(&[
            "ledger", "note", &key, "--status", "whatever", "--note", "x", "--ledger", LEDGER
        ])
        .code,
        2
    );
    assert_eq!(
        wd.recon(&[
            "ledger",
            "note",
            "MED-01:Pnope",
            "--status",
            "pending",
            "--note",
            "x",
            "--ledger",
            LEDGER
        ])
        .code,
        2
    );
    run_night(&wd, "2020-07-01");
    let gaps = wd.csv_rows("out/gaps.csv");
    let d = gaps
        .iter()
        .find(|g| g["name"] == "丁" && g["rule_id"] == "MED-01")
        .unwrap();
    assert_eq!(
        (d["note_status"].as_str(), d["note"].as_str()),
        ("verified-exception", "已迁出本省")
    );
    assert!(wd
        .read("out/counties/420325_房县.csv")
        .contains("核实为例外：已迁出本省"));
    let list = wd.recon(&[
        "ledger", "list", "--ledger", LEDGER, "--format", "csv", "--status", "open", "--rule",
        "MED-01",
    ]);
    let header = list.stdout.lines().next().unwrap();
    assert!(
        header.starts_with(
            "key,rule_id,county_code,person_key,status,first_seen,last_seen,closed_on"
        ),
        "{header}"
    );
    assert_eq!(list.stdout.lines().count(), 4, "{}", list.stdout);
    assert!(list.stdout.contains("已迁出本省"));
    let export = wd.recon(&["ledger", "export", "--ledger", LEDGER, "--out", "export"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert_eq!(wd.read("export/420325.csv").lines().count(), 5);
    assert_eq!(
        wd.recon(&["ledger", "list", "--ledger", "missing.sqlite"])
            .code,
        2
    );
}

/// Every ID-shaped cell and every cell of a name column in the sample exports.
fn ids_and_names_in_sample() -> Vec<String> {
    use calamine::Reader;
    let mut cells = Vec::new();
    for entry in std::fs::read_dir(repo_path("sample_data")).unwrap() {
        let path = entry.unwrap().path();
        let rows: Vec<Vec<String>> = match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => {
                let bytes = std::fs::read(&path).unwrap();
                let text = String::from_utf8(bytes.clone())
                    .unwrap_or_else(|_| encoding_rs::GB18030.decode(&bytes).0.into_owned());
                csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(text.as_bytes())
                    .records()
                    .map(|r| r.unwrap().iter().map(String::from).collect())
                    .collect()
            }
            Some("xlsx" | "xls") => {
                let mut book = calamine::open_workbook_auto(&path).unwrap();
                let sheet = book.sheet_names()[0].clone();
                book.worksheet_range(&sheet)
                    .unwrap()
                    .rows()
                    .map(|r| r.iter().map(|c| c.to_string()).collect())
                    .collect()
            }
            _ => continue,
        };
        let name_columns: Vec<usize> = rows[0]
            .iter()
            .enumerate()
            .filter(|(_, h)| h.contains("姓名"))
            .map(|(i, _)| i)
            .collect();
        for row in &rows[1..] {
            for (i, cell) in row.iter().enumerate() {
                let digits = cell.chars().filter(char::is_ascii_digit).count();
                if digits >= 15 || (name_columns.contains(&i) && cell.chars().count() >= 2) {
                    cells.push(cell.trim().trim_start_matches('\'').to_string());
                }
            }
        }
    }
    cells
}

#[test]
fn no_log_line_holds_an_id_or_a_name() {
    let secrets = ids_and_names_in_sample();
    assert!(secrets.len() > 100, "{}", secrets.len());
    let wd = Workdir::new();
    let sample = repo_path("sample_data").display().to_string();
    for format in ["json", "human"] {
        let run = wd.recon(&[
            "--log-format",
            format,
            "--log-level",
            "trace",
            "run",
            "--as-of",
            "2020-06-30",
            "--ledger",
            LEDGER,
            "--out",
            "out",
            &sample,
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert!(lines.len() >= 8, "{}", run.stderr);
        for line in &lines {
            if format == "json" {
                let event: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
                assert!(
                    event["level"].is_string() && event["message"].is_string(),
                    "{line}"
                );
            }
            for secret in &secrets {
                assert!(
                    !line.contains(secret.as_str()),
                    "a log line holds personal data: {line}"
                );
            }
        }
    }
    let bad = wd.recon(&[
        "--log-format",
        "json",
        "run",
        "--out",
        "out",
        "--ledger",
        LEDGER,
        "no/such/input",
    ]);
    let error: serde_json::Value =
        serde_json::from_str(bad.stderr.lines().last().unwrap()).unwrap();
    assert_eq!(
        (error["level"].as_str(), error["exit_code"].as_u64()),
        (Some("ERROR"), Some(2))
    );
}

#[test]
fn the_config_names_the_ledger_relative_to_itself() {
    let wd = Workdir::new();
    night_files(&wd, false, false, &[]);
    let config = std::fs::read_to_string(repo_path("configs/default.toml"))
        .unwrap()
        .replace(
            "# [ledger]\n# path = \"ledger.sqlite\"",
            "[ledger]\npath = \"state/ledger.sqlite\"",
        );
    assert!(config.contains("[ledger]\npath"));
    wd.write_bytes("conf/province.toml", config.as_bytes());
    let run = wd.recon(&[
        "run",
        "--as-of",
        "2020-06-30",
        "--config",
        "conf/province.toml",
        "--out",
        "out",
        "in",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(wd.exists("conf/state/ledger.sqlite"));
    assert_eq!(wd.csv_rows("out/gaps.csv")[0]["status"], "new");
}

#[test]
fn a_run_of_some_rules_closes_no_item_of_the_others() {
    let wd = Workdir::new();
    night_files(&wd, false, false, &[]);
    run_night(&wd, "2020-06-30");
    let mut args = night_args("2020-07-01").to_vec();
    args.extend(["--rule", "MED-01"]);
    assert_eq!(wd.recon(&args).code, 0);
    let items = ledger_items(&wd);
    assert!(items.contains(&item("CIV-02", "丙", "new")), "{items:?}");
    assert!(items.contains(&item("MED-01", "甲", "open")), "{items:?}");
}

#[test]
fn two_runs_at_once_one_waits_for_nobody_and_the_other_is_turned_away() {
    let wd = Workdir::new();
    let synth = wd.recon(&[
        "synth",
        "--persons",
        "3000",
        "--seed",
        "5",
        "--noise",
        "clean",
        "--out",
        "world",
    ]);
    assert_eq!(synth.code, 0, "{}", synth.stderr);
    let first = std::process::Command::new(env!("CARGO_BIN_EXE_recon"))
        .args([
            "run",
            "-q",
            "--as-of",
            "2020-06-30",
            "--ledger",
            LEDGER,
            "--out",
            "out",
            "world/data",
        ])
        .current_dir(wd.path(""))
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !wd.read_or_empty("ledger.lock").starts_with("pid ") && started.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = wd.recon(&[
        "run",
        "-q",
        "--as-of",
        "2020-06-30",
        "--ledger",
        LEDGER,
        "--out",
        "other",
        "world/data",
    ]);
    let holder = first.id();
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success());
    assert_eq!(
        second.code, 3,
        "the second run should find the ledger locked: {}",
        second.stderr
    );
    assert!(
        second.stderr.contains(&format!("pid {holder}")),
        "{}",
        second.stderr
    );
    assert!(
        !wd.exists("ledger.lock"),
        "the holder removed its lock file"
    );
}
