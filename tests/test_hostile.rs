//! Careless and hostile inputs: an output folder that is not recon's, files that are not
//! exports, malformed CSV, a folder that loops, the same export twice. Nothing recon did not
//! make is deleted, no row is lost, nothing hangs.

use crate::workdir::{make_id, person_key_of, Workdir, DPF_HEADER, INSURANCE_HEADER};

/// A registry and an insurance file in `in/`: one poor person, uninsured (a MED-01 gap).
fn exports(wd: &Workdir) {
    let uninsured = make_id("420325", "19700101", 11);
    let insured = make_id("420325", "19700101", 13);
    wd.write_csv(
        "in/dpf.csv",
        &[
            DPF_HEADER.to_vec(),
            vec![
                "甲", &uninsured, "肢体", "四级", "房县", "是", "因病", "正常",
            ],
        ],
    );
    wd.write_csv(
        "in/insurance.csv",
        &[
            INSURANCE_HEADER.to_vec(),
            vec!["乙", &insured, "2020", "正常参保", ""],
        ],
    );
}

fn run_into(wd: &Workdir, out: &str, inputs: &str) -> crate::workdir::Run {
    wd.recon(&["run", "--as-of", "2020-06-30", "--out", out, inputs])
}

/// Every file below `dir`, relative, sorted: what must survive a refused run.
fn files_below(wd: &Workdir, dir: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![wd.path(dir)];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            match path.is_dir() {
                true => stack.push(path),
                false => found.push(
                    path.strip_prefix(wd.path(""))
                        .unwrap()
                        .display()
                        .to_string(),
                ),
            }
        }
    }
    found.sort();
    found
}

#[test]
fn an_output_folder_that_holds_other_files_is_refused_and_kept() {
    let wd = Workdir::new();
    exports(&wd);
    wd.write_bytes("home/notes.txt", b"my notes");
    wd.write_bytes("home/photos/a.jpg", b"jpeg");
    let run = run_into(&wd, "home", "in");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("home") && run.stderr.contains("notes.txt"),
        "{}",
        run.stderr
    );
    assert_eq!(
        files_below(&wd, "home"),
        vec!["home/notes.txt", "home/photos/a.jpg"]
    );
    assert_eq!(wd.read("home/notes.txt"), "my notes");
}

#[test]
fn an_output_folder_equal_to_inside_or_above_an_input_is_refused() {
    let wd = Workdir::new();
    exports(&wd);
    let before = files_below(&wd, "in");
    for out in ["in", "in/out", "."] {
        let run = run_into(&wd, out, "in");
        assert_eq!(run.code, 2, "--out {out}: {}", run.stderr);
        assert_eq!(files_below(&wd, "in"), before, "--out {out}");
    }
    let above = wd.recon(&["run", "--as-of", "2020-06-30", "--out", "..", "."]);
    assert_eq!(above.code, 2, "{}", above.stderr);
    assert_eq!(files_below(&wd, "in"), before);
    assert!(
        !wd.path(".out.tmp").exists() && !wd.path("..tmp").exists(),
        "nothing left behind"
    );
}

#[test]
fn an_output_path_that_is_a_file_is_refused_and_kept() {
    let wd = Workdir::new();
    exports(&wd);
    wd.write_bytes("report.txt", b"keep me");
    let run = run_into(&wd, "report.txt", "in");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(wd.read("report.txt"), "keep me");
    assert!(!wd.path(".report.txt.old").exists());
    let again = run_into(&wd, "out", "in");
    assert_eq!(
        again.code, 0,
        "a later run into a proper folder works\n{}",
        again.stderr
    );
}

#[test]
fn recons_own_output_folder_is_replaced_and_an_empty_one_used() {
    let wd = Workdir::new();
    exports(&wd);
    std::fs::create_dir_all(wd.path("empty")).unwrap();
    for _ in 0..2 {
        let run = run_into(&wd, "empty", "in");
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert!(wd.exists("empty/gaps.csv") && wd.exists("empty/.recon-output"));
    // An output folder written before the marker existed holds only recon's names.
    std::fs::remove_file(wd.path("empty/.recon-output")).unwrap();
    let run = run_into(&wd, "empty", "in");
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// An unterminated quote on row 3 of 32: the reader rejects that row with its number and reads
/// the lines after it on their own, so every row is used or rejected.
#[test]
fn an_unterminated_quote_loses_no_row() {
    let wd = Workdir::new();
    let mut text = DPF_HEADER.join(",") + ",备注\n";
    for row in 1..=32u32 {
        let id = make_id("420325", "19700101", 100 + 2 * row);
        let note = match row {
            3 => "\"见附件",
            7 => "\"住址：房县\n城关镇\"",
            _ => "",
        };
        text.push_str(&format!("张{row},{id},肢体,四级,房县,否,,正常,{note}\n"));
    }
    wd.write_bytes("in/dpf.csv", text.as_bytes());
    for chunk_rows in ["1", "65536"] {
        let run = wd.recon_env(
            &["run", "--as-of", "2020-06-30", "--out", "out", "in"],
            ("RECON_CHUNK_ROWS", chunk_rows),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stdout.contains("31 rows used, 1 rejected"),
            "{}",
            run.stdout
        );
        let rejects = wd.csv_rows("out/rejects.csv");
        assert_eq!(rejects.len(), 1, "{rejects:?}");
        assert_eq!(rejects[0]["source_row"], "3");
        assert_eq!(rejects[0]["reason"], "unterminated_quote");
        let links = wd.csv_rows("out/links.csv");
        assert_eq!(links.len(), 32, "every row in links.csv");
        let rows: Vec<&str> = links.iter().map(|l| l["source_row"].as_str()).collect();
        assert_eq!(rows.last(), Some(&"32"), "rows numbered by line");
    }
}

/// A FIFO named like an export would block a reader for ever (and the locks with it): it is
/// refused by its type before anything reads it.
#[test]
fn a_fifo_or_a_device_named_like_an_export_is_refused_not_read() {
    let wd = Workdir::new();
    exports(&wd);
    let fifo = wd.path("in/pipe.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", wd.path("in/zero.csv")).unwrap();
    let started = std::time::Instant::now();
    let run = run_into(&wd, "out", "in");
    assert!(started.elapsed().as_secs() < 30, "no hang");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("pipe.csv") && run.stderr.contains("not a regular file"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("zero.csv"), "{}", run.stderr);
}

/// A folder that links to itself is not followed round; the same export by two paths, or a
/// copy of it, is read once (the copy with a warning naming both).
#[test]
fn a_looping_folder_and_the_same_export_twice_are_read_once() {
    let wd = Workdir::new();
    exports(&wd);
    std::os::unix::fs::symlink(wd.path("in"), wd.path("in/loop")).unwrap();
    let run = run_into(&wd, "out", "in");
    assert_eq!(run.code, 2, "a loop is an error naming it\n{}", run.stderr);
    assert!(run.stderr.contains("loop"), "{}", run.stderr);
    std::fs::remove_file(wd.path("in/loop")).unwrap();
    // A second path to the same file, and a byte-identical copy.
    std::os::unix::fs::symlink(wd.path("in/dpf.csv"), wd.path("in/dpf_link.csv")).unwrap();
    std::fs::copy(wd.path("in/dpf.csv"), wd.path("in/dpf_copy.csv")).unwrap();
    let run = wd.run_ok(&["in", "in/dpf.csv"]);
    assert_eq!(wd.gaps().len(), 1, "one person, one gap\n{}", run.stdout);
    assert!(
        run.stdout.contains("dpf_copy.csv") && run.stdout.contains("same bytes as"),
        "{}",
        run.stdout
    );
}

/// A note beside the exports, and a workbook with an instructions sheet, do not stop the night.
#[test]
fn a_stray_note_and_an_instructions_sheet_are_skipped_with_a_note() {
    let wd = Workdir::new();
    exports(&wd);
    wd.write_bytes(
        "in/说明.txt",
        "本目录为2020年数据。\n请勿外传。\n".as_bytes(),
    );
    let id = make_id("420325", "19700101", 15);
    wd.write_xlsx_sheets(
        "in/civil.xlsx",
        &[
            (
                "填表说明",
                &[vec!["请按模板填写"], vec!["身份证号请以文本格式录入"]],
            ),
            (
                "救助对象",
                &[
                    vec!["姓名", "身份证号码", "区县", "救助类别", "起始日期", "状态"],
                    vec!["丙", &id, "房县", "临时救助", "2020-01-01", "正常"],
                ],
            ),
        ],
    );
    let run = wd.run_ok(&["in"]);
    assert!(
        run.stdout.contains("说明.txt") && run.stdout.contains("填表说明"),
        "{}",
        run.stdout
    );
    assert_eq!(wd.gaps().len(), 1);
}

/// A headerless CSV: the error says where the header should be, never what the first row holds.
#[test]
fn a_headerless_file_is_an_error_that_quotes_no_cell() {
    let wd = Workdir::new();
    wd.write_csv(
        "in/noheader.csv",
        &[
            vec!["王秀英", "肢体", "一级", "房县"],
            vec!["李桂兰", "智力", "二级", "房县"],
        ],
    );
    let run = wd.recon(&["--log-format", "json", "run", "--out", "out", "in"]);
    assert_eq!(run.code, 2);
    for cell in ["王秀英", "肢体", "一级", "李桂兰"] {
        assert!(!run.stderr.contains(cell), "{cell} in: {}", run.stderr);
    }
    assert!(run.stderr.contains("noheader.csv"), "{}", run.stderr);
}

/// Cells that would run as formulas in Excel or WPS are inert in every CSV recon writes, and a
/// tab that made a cell inert is not stripped into a live formula; control characters in a
/// name are removed and counted, so the row still joins its own ID.
#[test]
fn formula_cells_stay_inert_and_control_characters_are_removed() {
    let wd = Workdir::new();
    let a = make_id("420325", "19700101", 11);
    let b = make_id("420325", "19700101", 13);
    wd.write_csv(
        "in/dpf.csv",
        &[
            DPF_HEADER.to_vec(),
            vec![
                "=HYPERLINK(\"http://x\")",
                &a,
                "肢体",
                "四级",
                "房县",
                "是",
                "因病",
                "正常",
            ],
            vec!["\t=1+1", &b, "肢体", "四级", "房县", "是", "因病", "正常"],
        ],
    );
    let c = make_id("420325", "19700101", 15);
    // A workbook holds control characters a CSV reader refuses as binary content.
    wd.write_xlsx(
        "in/insurance.xlsx",
        &[
            INSURANCE_HEADER.to_vec(),
            vec!["丙\u{7}丁", &c, "2020", "正常参保", ""],
            vec!["丙丁", &c, "2019", "正常参保", ""],
        ],
    );
    wd.run_ok(&["--ledger", "l.sqlite", "in"]);
    let gaps = wd.read("out/gaps.csv");
    for live in [",=HYPERLINK", ",=1+1", "\n=", ",+", ",@"] {
        assert!(!gaps.contains(live), "{live} in gaps.csv:\n{gaps}");
    }
    assert!(gaps.contains("'=HYPERLINK"), "{gaps}");
    let key = wd.csv_rows("out/gaps.csv")[0]["person_key"].clone();
    let note = wd.recon(&[
        "ledger",
        "note",
        &format!("MED-01:{key}"),
        "--status",
        "comment",
        "--note",
        "=HYPERLINK(\"http://x\")",
        "--ledger",
        "l.sqlite",
    ]);
    assert_eq!(note.code, 0, "{}", note.stderr);
    let export = wd.recon(&[
        "ledger", "export", "--ledger", "l.sqlite", "--out", "export",
    ]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let exported = wd.read("export/420325.csv");
    assert!(
        !exported.contains(",=HYPERLINK") && exported.contains("'=HYPERLINK"),
        "{exported}"
    );
    let quality = wd.read("out/quality.csv");
    assert!(quality.contains("name_control_characters"), "{quality}");
    let links = wd.csv_rows("out/links.csv");
    let keys: Vec<&String> = links
        .iter()
        .filter(|l| l["source_file"] == "insurance.xlsx")
        .map(|l| &l["person_key"])
        .collect();
    assert_eq!(
        keys[0], keys[1],
        "the row with a NUL in its name joins its own ID"
    );
}

/// Dates that are not days, or out of any reasonable range, are bad input with a message that
/// says so, not an internal error.
#[test]
fn an_as_of_that_is_no_day_is_bad_input() {
    let wd = Workdir::new();
    exports(&wd);
    for (as_of, says) in [
        ("2020-02-30", "not a day"),
        ("0000-01-01", "between 1900 and 2100"),
        ("2020/06/30", "YYYY-MM-DD"),
    ] {
        let run = wd.recon(&["run", "--as-of", as_of, "--out", "out", "in"]);
        assert_eq!(run.code, 2, "{as_of}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{as_of}: {}", run.stderr);
    }
    // An ID born in 2050 passes its check character, and is flagged.
    let future = make_id("420325", "20500101", 21);
    wd.write_csv(
        "in/dpf2.csv",
        &[
            DPF_HEADER.to_vec(),
            vec!["己", &future, "肢体", "四级", "房县", "否", "", "正常"],
        ],
    );
    let run = wd.run_ok(&["in"]);
    assert!(
        run.stdout.contains("1 rows of dpf2.csv carry a valid ID whose birth date is before 1900 or after next year"),
        "{}",
        run.stdout
    );
}

/// Lock files are owner-only whatever the umask, and the run that holds them removes them.
#[test]
fn lock_files_are_owner_only_and_removed() {
    use std::os::unix::fs::PermissionsExt;
    let wd = Workdir::new();
    exports(&wd);
    let recon = env!("CARGO_BIN_EXE_recon");
    let run = |extra: &str| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask 000; {extra} exec {recon} run -q --as-of 2020-06-30 --out out --ledger l.sqlite in"
            ))
            .current_dir(wd.path(""))
            .status()
            .unwrap()
    };
    assert!(run("").success());
    assert!(
        !wd.exists(".out.lock") && !wd.exists("l.lock"),
        "removed by the run"
    );
    // A run killed while it holds them leaves them, owner-only.
    assert!(!run("RECON_TEST_CRASH_AFTER=ingest").success());
    for lock in [".out.lock", "l.lock", "l.key"] {
        let mode = std::fs::metadata(wd.path(lock))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{lock}: {mode:o}");
    }
    assert!(run("").success(), "a stale lock never blocks");
}

/// A ledger is checked before the job runs: another application's database is refused before
/// anything is written to it, a newer schema is named, a damaged file is found at once.
#[test]
fn a_ledger_is_checked_before_anything_runs() {
    let wd = Workdir::new();
    exports(&wd);
    let other = rusqlite::Connection::open(wd.path("crm.sqlite")).unwrap();
    other
        .execute_batch("CREATE TABLE customers (id INTEGER, name TEXT); INSERT INTO customers VALUES (1, 'x');")
        .unwrap();
    drop(other);
    let run = wd.recon(&[
        "run",
        "--as-of",
        "2020-06-30",
        "--out",
        "out",
        "--ledger",
        "crm.sqlite",
        "in",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a recon ledger"), "{}", run.stderr);
    let tables: Vec<String> = rusqlite::Connection::open(wd.path("crm.sqlite"))
        .unwrap()
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|t| t.unwrap())
        .collect();
    assert_eq!(tables, vec!["customers".to_string()], "nothing added to it");
    // A ledger of a newer recon.
    let ok = wd.recon(&[
        "run",
        "--as-of",
        "2020-06-30",
        "--out",
        "out",
        "--ledger",
        "l.sqlite",
        "in",
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    rusqlite::Connection::open(wd.path("l.sqlite"))
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    let newer = wd.recon(&[
        "run",
        "--as-of",
        "2020-07-01",
        "--out",
        "out",
        "--ledger",
        "l.sqlite",
        "in",
    ]);
    assert_eq!(newer.code, 2, "{}", newer.stderr);
    assert!(
        newer.stderr.contains("99") && newer.stderr.contains("newer"),
        "{}",
        newer.stderr
    );
    // A damaged file.
    wd.write_bytes("bad.sqlite", &[0x53; 4096]);
    let damaged = wd.recon(&[
        "run",
        "--as-of",
        "2020-06-30",
        "--out",
        "out",
        "--ledger",
        "bad.sqlite",
        "in",
    ]);
    assert_eq!(damaged.code, 2, "{}", damaged.stderr);
    assert!(
        !damaged.stderr.contains("stage done"),
        "refused before the job: {}",
        damaged.stderr
    );
}

/// A writer that panics half way (as a third-party one may on a full disk) fails the run with
/// exit 1, leaves the previous outputs and the ledger as they were, and nothing behind.
#[test]
fn a_writer_that_panics_leaves_yesterday_as_it_was() {
    let wd = Workdir::new();
    exports(&wd);
    let first = wd.recon(&[
        "run",
        "-q",
        "--as-of",
        "2020-06-30",
        "--out",
        "out",
        "--ledger",
        "l.sqlite",
        "in",
    ]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = wd.read("out/gaps.csv");
    let run = wd.recon_env(
        &[
            "run",
            "-q",
            "--as-of",
            "2020-07-01",
            "--out",
            "out",
            "--ledger",
            "l.sqlite",
            "in",
        ],
        ("RECON_TEST_PANIC_WRITING", "1"),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("is the disk full"), "{}", run.stderr);
    assert_eq!(wd.read("out/gaps.csv"), before);
    assert!(
        !wd.exists(".out.tmp") && !wd.exists(".out.old"),
        "nothing left behind"
    );
    let list = wd.recon(&["ledger", "list", "--ledger", "l.sqlite", "--format", "csv"]);
    assert!(
        !list.stdout.contains("2020-07-01"),
        "the ledger did not commit: {}",
        list.stdout
    );
}

/// A cell in column XFD, a line of a million commas: such rows are rejected as
/// too_many_fields without being held cell by cell, and the rows around them are read.
#[test]
fn rows_wider_than_any_export_are_rejected_not_held() {
    let wd = Workdir::new();
    exports(&wd);
    let path = wd.path("in/wide.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, header) in INSURANCE_HEADER.iter().enumerate() {
        sheet.write_string(0, c as u16, *header).unwrap();
    }
    let id = make_id("420325", "19700101", 17);
    for row in 1..=300u32 {
        sheet.write_string(row, 0, "丁").unwrap();
        sheet.write_string(row, 1, &id).unwrap();
        sheet.write_string(row, 2, "2019").unwrap();
        sheet.write_string(row, 3, "正常参保").unwrap();
        if row > 1 {
            sheet.write_string(row, 16_383, "x").unwrap();
        }
    }
    workbook.save(&path).unwrap();
    let mut text = INSURANCE_HEADER.join(",") + "\n";
    text.push_str(&",".repeat(1_000_000));
    text.push_str(&format!(
        "\n戊,{},2019,正常参保,\n",
        make_id("420325", "19700101", 19)
    ));
    wd.write_bytes("in/commas.csv", text.as_bytes());
    let run = wd.run_ok(&["in"]);
    let rejects = wd.csv_rows("out/rejects.csv");
    let wide = |file: &str| {
        rejects
            .iter()
            .filter(|r| r["source_file"] == file && r["reason"] == "too_many_fields")
            .count()
    };
    assert_eq!(wide("wide.xlsx"), 299, "{}", run.stdout);
    assert_eq!(wide("commas.csv"), 1);
    assert!(
        run.stdout.contains("rows used, 300 rejected"),
        "{}",
        run.stdout
    );
}

/// A file of two encodings says where each reading fails; files whose names are not UTF-8 are
/// named by an escape that tells them apart.
#[test]
fn encoding_faults_are_placed_and_undecodable_names_told_apart() {
    use std::os::unix::ffi::OsStrExt;
    let wd = Workdir::new();
    exports(&wd);
    let mut mixed = "姓名,证件号码,参保年度,参保状态\n张三,".as_bytes().to_vec();
    mixed.extend_from_slice(&encoding_rs::GBK.encode("李四,2020,正常参保\n").0);
    mixed.extend_from_slice("王五,x,2020,正常参保\n".as_bytes());
    wd.write_bytes("mixed/mixed.csv", &mixed);
    let run = wd.recon(&["run", "--as-of", "2020-06-30", "--out", "out", "mixed"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
    // Two exports whose GBK-encoded names are not UTF-8.
    let insurance = wd.read("in/insurance.csv");
    for name in ["医保一", "医保二"] {
        let mut bytes = encoding_rs::GBK.encode(name).0.into_owned();
        bytes.extend_from_slice(b".csv");
        let path = wd.path("names").join(std::ffi::OsStr::from_bytes(&bytes));
        std::fs::create_dir_all(wd.path("names")).unwrap();
        std::fs::write(path, &insurance).unwrap();
    }
    std::fs::copy(wd.path("in/dpf.csv"), wd.path("names/dpf.csv")).unwrap();
    // The two files are the same bytes: one is read, and the note names both apart.
    let run = wd.run_ok(&["names"]);
    let noted: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("same bytes"))
        .collect();
    assert_eq!(noted.len(), 1, "{}", run.stdout);
    assert!(
        noted[0].contains("\\x") && !noted[0].contains('\u{FFFD}'),
        "{}",
        noted[0]
    );
}

/// Twenty uninsured people, for the person keys of their MED-01 gaps.
fn twenty_uninsured(wd: &Workdir) -> Vec<String> {
    let ids: Vec<String> = (0..20)
        .map(|k| make_id("420325", "19700101", 101 + 2 * k))
        .collect();
    let mut rows = vec![DPF_HEADER.to_vec()];
    rows.extend(ids.iter().map(|id| {
        vec![
            "甲",
            id.as_str(),
            "肢体",
            "四级",
            "房县",
            "是",
            "因病",
            "正常",
        ]
    }));
    wd.write_csv("in/dpf.csv", &rows);
    let insured = make_id("420325", "19700101", 13);
    wd.write_csv(
        "in/insurance.csv",
        &[
            INSURANCE_HEADER.to_vec(),
            vec!["乙", &insured, "2020", "正常参保", ""],
        ],
    );
    ids
}

fn gap_keys(wd: &Workdir) -> Vec<String> {
    let mut keys: Vec<String> = wd
        .csv_rows("out/gaps.csv")
        .into_iter()
        .map(|g| g["person_key"].clone())
        .collect();
    keys.sort();
    keys
}

/// Person keys beside masked IDs are keyed hashes: hashing every ID (here, the very IDs) the
/// unkeyed way turns none of them back; without a secret each run keys its persons its own way;
/// with a ledger the secret is a key file beside it, owner-only, and another secret is refused.
#[test]
fn person_keys_are_keyed_hashes_that_hashing_ids_does_not_reverse() {
    use std::os::unix::fs::PermissionsExt;
    let wd = Workdir::new();
    let ids = twenty_uninsured(&wd);
    let unkeyed: Vec<String> = ids
        .iter()
        .map(|id| recon::link::PersonKey::of_id(id).to_string())
        .collect();
    let args = ["run", "-q", "--as-of", "2020-06-30", "--out", "out", "in"];
    assert_eq!(wd.recon_without_secret(&args).code, 0);
    let first = gap_keys(&wd);
    assert_eq!(first.len(), 20);
    assert!(first.iter().all(|k| !unkeyed.contains(k)), "{first:?}");
    let manifest = wd.read("out/run.json");
    assert!(
        manifest.contains("this run's own"),
        "run.json names the secret's origin"
    );
    assert_eq!(wd.recon_without_secret(&args).code, 0);
    assert!(
        gap_keys(&wd).iter().all(|k| !first.contains(k)),
        "a secret per run"
    );

    assert_eq!(wd.recon(&args).code, 0);
    let mut given: Vec<String> = ids.iter().map(|id| person_key_of(id)).collect();
    given.sort();
    assert_eq!(gap_keys(&wd), given, "RECON_KEY_SECRET keys them");

    let night = |as_of: &str| {
        let args = [
            "run", "-q", "--as-of", as_of, "--out", "out", "--ledger", "l.sqlite", "in",
        ];
        wd.recon_without_secret(&args)
    };
    assert_eq!(night("2020-06-30").code, 0);
    let mode = std::fs::metadata(wd.path("l.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the key file beside the ledger is made owner-only"
    );
    let with_ledger = gap_keys(&wd);
    assert_eq!(night("2020-07-01").code, 0);
    assert_eq!(gap_keys(&wd), with_ledger, "the same keys every night");
    assert!(with_ledger
        .iter()
        .all(|k| !unkeyed.contains(k) && !given.contains(k)));

    let other = wd.recon(&[
        "run",
        "-q",
        "--as-of",
        "2020-07-02",
        "--out",
        "out",
        "--ledger",
        "l.sqlite",
        "in",
    ]);
    assert_eq!(other.code, 2, "{}", other.stderr);
    assert!(other.stderr.contains("another secret"), "{}", other.stderr);
    assert_eq!(gap_keys(&wd), with_ledger, "yesterday's outputs are kept");
}

/// The caps on fields per row and characters per cell are the config's: a tighter `[run]`
/// turns a wider row and a longer cell into rejects that name the setting.
#[test]
fn the_row_caps_are_set_in_the_config() {
    let wd = Workdir::new();
    exports(&wd);
    let config = std::fs::read_to_string(crate::workdir::repo_path("configs/default.toml"))
        .unwrap()
        .replace("max_fields = 4096", "max_fields = 8")
        .replace("max_field_chars = 65536", "max_field_chars = 40");
    wd.write_bytes("narrow.toml", config.as_bytes());
    let id = |n| make_id("420325", "19700101", n);
    let long_name = "丁".repeat(41);
    let text = format!(
        "{}\n丙,{},2020,正常参保,\n丙,{},2020,正常参保,,,,,x\n{long_name},{},2020,正常参保,\n",
        INSURANCE_HEADER.join(","),
        id(15),
        id(15),
        id(17)
    );
    wd.write_bytes("in/insurance2.csv", text.as_bytes());
    wd.run_ok(&["--config", "narrow.toml", "in"]);
    let wide_header = format!("{},,,,x\n", INSURANCE_HEADER.join(","));
    wd.write_bytes("wide/insurance.csv", wide_header.as_bytes());
    let refused = wd.recon(&["run", "--config", "narrow.toml", "--out", "o2", "wide"]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("row 1 has more than 8 fields"),
        "{}",
        refused.stderr
    );
    let rejects = wd.csv_rows("out/rejects.csv");
    let reasons: Vec<(&str, &str)> = rejects
        .iter()
        .filter(|r| r["source_file"] == "insurance2.csv")
        .map(|r| (r["source_row"].as_str(), r["reason"].as_str()))
        .collect();
    assert_eq!(reasons, [("2", "too_many_fields"), ("3", "field_too_long")]);
    assert!(rejects
        .iter()
        .any(|r| r["detail"].contains("[run] max_fields")));
}

/// A panic anywhere (a bug) ends as an internal error, exit 1, whose message quotes no cell:
/// the hook names where it stopped; the locks and the staging folder are gone, yesterday's
/// outputs and the ledger are as they were.
#[test]
fn a_panic_in_any_stage_is_exit_1_and_quotes_nothing() {
    let wd = Workdir::new();
    exports(&wd);
    let args = [
        "run",
        "-q",
        "--as-of",
        "2020-06-30",
        "--out",
        "out",
        "--ledger",
        "l.sqlite",
        "in",
    ];
    assert_eq!(wd.recon(&args).code, 0);
    let items = || {
        let list = ["ledger", "list", "--ledger", "l.sqlite", "--format", "csv"];
        wd.recon(&list).stdout
    };
    let before = (wd.read("out/gaps.csv"), items());
    for stage in ["ingest", "link", "rules"] {
        let run = wd.recon_env(&args, ("RECON_TEST_PANIC_AFTER", stage));
        assert_eq!(run.code, 1, "{stage}: {}", run.stderr);
        assert!(!run.stderr.contains("张三丰"), "{}", run.stderr);
        assert!(
            run.stderr.contains("panic at src/commands/"),
            "{}",
            run.stderr
        );
        for left in [".out.tmp", ".out.lock", "l.lock"] {
            assert!(!wd.exists(left), "{stage}: {left} left behind");
        }
        assert_eq!((wd.read("out/gaps.csv"), items()), before, "{stage}");
    }
}
