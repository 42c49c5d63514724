//! A province's partition of a national run: `run --evidence` (another province's rows read as
//! facts, never subjects), `--evidence-rows` (only the rows brought), keys.parquet (the keys the
//! national job joins provinces on) and `recon national`'s refusals. The Spark job itself is
//! run by bench/national.sh.

use std::collections::BTreeSet;

use polars::prelude::*;

use calamine::DataType;

use crate::workdir::{make_id, sheets_of, Run, Workdir};

/// A two-province nation (with movers) in `world/data/<province>/`; its provinces' folders.
fn nation(wd: &Workdir) -> Vec<String> {
    let made = wd.recon(&[
        "synth",
        "--persons",
        "300",
        "--provinces",
        "2",
        "--seed",
        "5",
        "--out",
        "world",
    ]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let mut provinces: Vec<String> = std::fs::read_dir(wd.path("world/data"))
        .unwrap()
        .map(|e| format!("world/data/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    provinces.sort();
    provinces
}

/// The files of a province are named after it: 湖北省_医保_参保登记_本年度.csv.
fn prefix(province: &str) -> String {
    let folder = province.rsplit('/').next().unwrap();
    format!("{}_", folder.split_once('_').unwrap().1)
}

/// A refusal: exit 2, its message saying `words`.
fn assert_refused(run: &Run, words: &str) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(words), "{}", run.stderr);
}

fn run(wd: &Workdir, out: &str, args: &[&str]) {
    let mut all = vec!["run", "-q", "--as-of", "2020-06-30", "--out", out];
    all.extend_from_slice(args);
    let done = wd.recon(&all);
    assert_eq!(done.code, 0, "{}", done.stderr);
}

/// The lines of a CSV output whose source_file (first or fifth column) is a province's, sorted.
fn lines_of(wd: &Workdir, file: &str, column: usize, prefix: &str) -> Vec<String> {
    let text = wd.read(file);
    let mut lines: Vec<String> = (text.lines().skip(1))
        .filter(|l| {
            l.split(',')
                .nth(column)
                .is_some_and(|f| f.starts_with(prefix))
        })
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// With every row of the other province as evidence, a province's run sees what the whole run
/// sees: its gap list and links are the whole run's lines for its files, byte for byte, and
/// its review pairs each have a row of its own.
#[test]
fn evidence_rows_are_facts_never_subjects() {
    let wd = Workdir::new();
    let provinces = nation(&wd);
    let (own, other) = (&provinces[0], &provinces[1]);
    run(&wd, "whole", &["world/data"]);
    run(&wd, "part", &[own, "--evidence", other]);
    let mine = prefix(own);
    let gaps = lines_of(&wd, "part/gaps.csv", 4, "");
    assert!(gaps.len() > 100, "{} gaps", gaps.len());
    assert_eq!(
        gaps,
        lines_of(&wd, "part/gaps.csv", 4, &mine),
        "subjects are its own rows"
    );
    assert_eq!(gaps, lines_of(&wd, "whole/gaps.csv", 4, &mine));
    let links = lines_of(&wd, "part/links.csv", 0, "");
    assert_eq!(
        links,
        lines_of(&wd, "part/links.csv", 0, &mine),
        "links list its rows"
    );
    assert_eq!(links, lines_of(&wd, "whole/links.csv", 0, &mine));
    let evidence_cited = gaps.iter().filter(|g| g.contains(&prefix(other))).count();
    assert!(
        evidence_cited > 0,
        "some gap cites the other province's rows"
    );
    for pair in wd.csv_rows("part/review.csv") {
        let files = [&pair["source_file"], &pair["candidate_file"]];
        assert!(files.iter().any(|f| f.starts_with(&mine)), "{files:?}");
    }
    // Alone, the province reports movers insured elsewhere as uninsured (MED-01), and misses
    // a subsidy paid on both sides of the border (AUD-05).
    run(&wd, "alone", &[own]);
    let rules = |lines: Vec<&String>| -> BTreeSet<String> {
        lines
            .iter()
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect()
    };
    let alone = lines_of(&wd, "alone/gaps.csv", 4, "");
    let only_alone = rules(alone.iter().filter(|l| !gaps.contains(l)).collect());
    let only_nation = rules(gaps.iter().filter(|l| !alone.contains(l)).collect());
    assert!(only_alone.contains("MED-01"), "{only_alone:?}");
    assert!(only_nation.contains("AUD-05"), "{only_nation:?}");
    // Explain cannot replay the evidence a partition read, and says so.
    let row = wd.csv_rows("part/links.csv").remove(0);
    let explain = wd.recon(&["explain", "part", &row["source_file"], &row["source_row"]]);
    assert_refused(&explain, "explain does not replay");
}

/// A review pair across two provinces is listed once, by the province of its subject (the row
/// without an ID): two namesakes in a district of one province, and a row of that name and
/// district without an ID in the other's export. The provinces' review lists together are the
/// whole run's.
#[test]
fn a_review_pair_across_provinces_is_listed_by_its_subjects_province() {
    let wd = Workdir::new();
    let provinces = nation(&wd);
    let append = |province: &str, lines: &[String]| {
        let file = format!("{province}/{}乡村振兴_防返贫监测.csv", prefix(province));
        let mut text = wd.read(&file);
        text.extend(lines.iter().map(|line| format!("{line}\n")));
        wd.write_bytes(&file, text.as_bytes());
    };
    let row = |id: &str| format!("东城区,,欧阳测试,{id},本人,{id},脱贫户,残疾,A级,正常");
    let namesakes = [901, 902].map(|seq| row(&make_id("110101", "19800101", seq)));
    append(&provinces[0], &namesakes);
    append(&provinces[1], &[row("")]);
    run(&wd, "whole", &["world/data"]);
    run(&wd, "p0", &[&provinces[0], "--evidence", &provinces[1]]);
    run(&wd, "p1", &[&provinces[1], "--evidence", &provinces[0]]);
    let review = |out: &str| lines_of(&wd, &format!("{out}/review.csv"), 0, "");
    let across = |lines: &[String]| -> Vec<String> {
        let province_of = |file: &str| file.split('_').next().unwrap().to_string();
        (lines.iter())
            .filter(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                province_of(cells[0]) != province_of(cells[2])
            })
            .cloned()
            .collect()
    };
    let (whole, p0, p1) = (review("whole"), review("p0"), review("p1"));
    assert!(!across(&whole).is_empty(), "a pair across the border");
    assert!(across(&p0).is_empty(), "{:?}", across(&p0));
    assert_eq!(across(&p1), across(&whole));
    let mut together = [p0, p1].concat();
    together.sort();
    assert_eq!(together, whole);
}

/// `--evidence-rows` reads only the rows it lists of the evidence files, says how many it
/// passed over, and refuses a list that names a file no evidence holds or a row that is not
/// a number, naming the row and column.
#[test]
fn evidence_rows_reads_only_the_rows_listed() {
    let wd = Workdir::new();
    let provinces = nation(&wd);
    let (own, other) = (&provinces[0], &provinces[1]);
    run(&wd, "shard", &[other]);
    let theirs: Vec<_> = wd
        .csv_rows("shard/links.csv")
        .into_iter()
        .step_by(50)
        .collect();
    let mut listed = String::from("source_file,source_row\n");
    for row in &theirs {
        listed += &format!("{},{}\n", row["source_file"], row["source_row"]);
    }
    wd.write_bytes("rows.csv", listed.as_bytes());
    let args = ["--evidence", other.as_str(), "--evidence-rows", "rows.csv"];
    let done = wd.recon(
        &[
            &["run", "--as-of", "2020-06-30", "--out", "part", own][..],
            &args,
        ]
        .concat(),
    );
    assert_eq!(done.code, 0, "{}", done.stderr);
    let all_rows = wd.csv_rows("shard/links.csv").len();
    let expected = format!("of these, {} rows of ", theirs.len());
    assert!(done.stdout.contains(&expected), "{}", done.stdout);
    let passed = format!("({} rows not listed", all_rows - theirs.len());
    assert!(done.stdout.contains(&passed), "{}", done.stdout);

    wd.write_bytes(
        "stray.csv",
        "source_file,source_row\n某省_民政.csv,3\n".as_bytes(),
    );
    let stray = wd.recon(&[
        "run",
        "--out",
        "x",
        own,
        "--evidence",
        other,
        "--evidence-rows",
        "stray.csv",
    ]);
    assert_refused(&stray, "某省_民政.csv, which is not an evidence file");
    wd.write_bytes("bad.csv", "source_file,source_row\na.csv,x\n".as_bytes());
    let bad = wd.recon(&[
        "run",
        "--out",
        "x",
        own,
        "--evidence",
        other,
        "--evidence-rows",
        "bad.csv",
    ]);
    assert_refused(&bad, "row 1, column source_row: not a row number");
    assert!(!wd.exists("x"), "nothing written");
    let alone = wd.recon(&["run", "--out", "x", own, "--evidence-rows", "rows.csv"]);
    assert_eq!(
        alone.code, 2,
        "--evidence-rows needs --evidence: {}",
        alone.stderr
    );
}

fn keys_of(wd: &Workdir, file: &str, prefix: &str) -> BTreeSet<(String, u32, i64)> {
    let file = std::fs::File::open(wd.path(file)).unwrap();
    let frame = ParquetReader::new(file).finish().unwrap();
    let files = frame.column("source_file").unwrap().str().unwrap().clone();
    let rows = frame.column("source_row").unwrap().u32().unwrap().clone();
    let keys = frame.column("key").unwrap().i64().unwrap().clone();
    (files.iter().zip(rows.iter()).zip(keys.iter()))
        .filter_map(|((f, r), k)| Some((f?.to_string(), r?, k?)))
        .filter(|(f, _, _)| f.starts_with(prefix))
        .collect()
}

/// keys.parquet's keys depend on a row's values and the key secret, not on the run: a
/// province's rows have the same keys run alone as in the whole nation's run (whose words
/// are numbered otherwise), and another secret gives other keys.
#[test]
fn blocking_keys_are_the_same_in_every_run() {
    let wd = Workdir::new();
    let provinces = nation(&wd);
    let mine = prefix(&provinces[1]);
    run(&wd, "alone", &["--parquet", &provinces[1]]);
    run(&wd, "whole", &["--parquet", "world/data"]);
    let alone = keys_of(&wd, "alone/keys.parquet", &mine);
    assert!(alone.len() > 1000, "{} keys", alone.len());
    assert_eq!(alone, keys_of(&wd, "whole/keys.parquet", &mine));
    let other_secret = (
        "RECON_KEY_SECRET",
        "another secret, at least thirty-two characters",
    );
    let args = [
        "run",
        "-q",
        "--as-of",
        "2020-06-30",
        "--parquet",
        "--out",
        "other",
        &provinces[1],
    ];
    assert_eq!(wd.recon_env(&args, other_secret).code, 0);
    let other = keys_of(&wd, "other/keys.parquet", &mine);
    assert_eq!(other.len(), alone.len());
    assert!(
        alone.intersection(&other).next().is_none(),
        "no key is the same"
    );
}

/// `recon national` needs one key secret for all provinces, an output folder of its own and
/// a spark-submit it can start; each refusal is exit 2 with what to do.
#[test]
fn national_refuses_what_would_go_wrong_across_provinces() {
    let wd = Workdir::new();
    let provinces = nation(&wd);
    let args = ["national", "--out", "nat", &provinces[0], &provinces[1]];
    let no_secret = wd.recon_without_secret(&args);
    assert_refused(&no_secret, "RECON_KEY_SECRET");
    wd.write_bytes("theirs/notes.txt", b"someone's notes");
    let foreign = wd.recon(&["national", "--out", "theirs", &provinces[0], &provinces[1]]);
    assert_eq!(foreign.code, 2, "{}", foreign.stderr);
    assert_eq!(wd.read("theirs/notes.txt"), "someone's notes");
    let missing = wd.path("no-spark/spark-submit").display().to_string();
    let args = [
        "national",
        "--spark-submit",
        &missing,
        "--out",
        "nat",
        &provinces[0],
        &provinces[1],
    ];
    let no_spark = wd.recon(&args);
    assert_refused(&no_spark, "cannot start");
}

/// With a ledger, the rows brought are not the inputs' arrivals: a night that brings none of
/// the other province's rows expects nothing of them (exit 0, not 5 for an input missing).
#[test]
fn the_ledger_expects_only_the_inputs() {
    let wd = Workdir::new();
    let provinces = nation(&wd);
    let (own, other) = (&provinces[0], &provinces[1]);
    let night = |out: &str, more: &[&str]| {
        let mut args = vec!["run", "-q", "--as-of", "2020-06-30", "--ledger", "l.sqlite"];
        args.extend_from_slice(&["--out", out, own, "--evidence", other]);
        args.extend_from_slice(more);
        wd.recon(&args)
    };
    let first = night("n1", &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    wd.write_bytes("none.csv", b"source_file,source_row\n");
    let second = night("n2", &["--evidence-rows", "none.csv"]);
    assert_eq!(second.code, 0, "{}", second.stderr);
}

/// The national report reads every province's ledger: one table of the night, each ledger's
/// counties with a total of its own (the same as its report alone) and the nation's total.
/// `recon national --ledgers` writes it once the job is done (the job stood in for here by a
/// spark-submit that writes the job's summary, the provinces' nights run beforehand).
#[test]
fn the_national_report_reads_every_provinces_ledger() {
    let wd = Workdir::new();
    let provinces = nation(&wd);
    let names: Vec<&str> = provinces
        .iter()
        .map(|p| p.rsplit('/').next().unwrap())
        .collect();
    for (i, own) in provinces.iter().enumerate() {
        let ledger = format!("ledgers/{}.sqlite", names[i]);
        let out = format!("provinces/{}", names[i]);
        let other = &provinces[1 - i];
        run(&wd, &out, &[own, "--evidence", other, "--ledger", &ledger]);
    }
    let report = |out: &str, ledgers: &[&str]| {
        let mut args: Vec<String> = [
            "ledger",
            "report",
            "--from",
            "2020-06-30",
            "--to",
            "2020-06-30",
        ]
        .map(String::from)
        .into();
        for name in ledgers {
            args.extend(["--ledger".into(), format!("ledgers/{name}.sqlite")]);
        }
        args.extend(["--out".into(), out.into()]);
        let done = wd.recon(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(done.code, 0, "{}", done.stderr);
        totals(&wd, &format!("{out}/period_2020-06-30_2020-06-30.xlsx"))
    };
    let nation_totals = report("nation", &names);
    assert_eq!(nation_totals.len(), names.len() + 1, "{nation_totals:?}");
    let alone: Vec<Vec<f64>> = (names.iter())
        .map(|name| report(&format!("alone_{name}"), &[name])["合计"].clone())
        .collect();
    assert!(alone.iter().all(|t| t[0] > 0.0), "items found: {alone:?}");
    for (name, alone) in names.iter().zip(&alone) {
        assert_eq!(&nation_totals[&format!("{name} 合计")], alone);
    }
    let sum: Vec<f64> = (0..alone[0].len())
        .map(|c| alone[0][c] + alone[1][c])
        .collect();
    assert_eq!(nation_totals["合计"], sum);

    let fake = "#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = --out ] && out=$2; shift; done\n\
        printf '%s' \"$SUMMARY\" > \"$out/national.json\"\n";
    let submit = wd.write_bytes("spark/spark-submit", fake.as_bytes());
    std::fs::set_permissions(&submit, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let done = |name: &str| {
        format!(r#"{{"province":"{name}","shard_seconds":1,"province_seconds":1,"status":"done"}}"#)
    };
    let summary = format!(r#"{{"provinces":[{},{}]}}"#, done(names[0]), done(names[1]));
    let args = [
        "national",
        "--spark-submit",
        submit.to_str().unwrap(),
        "--as-of",
        "2020-06-30",
        "--ledgers",
        "ledgers",
        "--out",
        "nat",
        &provinces[0],
        &provinces[1],
    ];
    let national = wd.recon_env(&args, ("SUMMARY", &summary));
    assert_eq!(national.code, 0, "{}", national.stderr);
    assert!(
        national.stdout.contains("the night over every ledger"),
        "{}",
        national.stdout
    );
    assert_eq!(
        totals(&wd, "nat/report/period_2020-06-30_2020-06-30.xlsx"),
        nation_totals
    );
}

/// A period workbook's total rows (no rule): label -> counts.
fn totals(wd: &Workdir, workbook: &str) -> std::collections::BTreeMap<String, Vec<f64>> {
    let sheets = sheets_of(&wd.path(workbook));
    (sheets[0].1.iter().skip(1))
        .filter(|row| row[2].is_empty())
        .map(|row| {
            let counts = row[4..].iter().map(|c| c.get_float().unwrap()).collect();
            (row[1].to_string(), counts)
        })
        .collect()
}
