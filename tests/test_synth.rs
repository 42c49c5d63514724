//! `recon synth` and `recon eval` together: a clean world scores perfectly (the generator and
//! the engine agree on the spec), noisy worlds are scored, and a seed is a world.

use crate::workdir::Workdir;

fn synth(wd: &Workdir, noise: &str, out: &str) {
    synth_with(wd, &["--noise", noise], "7", out);
}

fn synth_with(wd: &Workdir, options: &[&str], seed: &str, out: &str) {
    let mut args = vec!["synth", "--persons", "800", "--seed", seed, "--out", out];
    args.extend_from_slice(options);
    let run = wd.recon(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// The names of the folders in `dir`, sorted: a nation's provinces.
fn folders_in(wd: &Workdir, dir: &str) -> Vec<String> {
    let mut folders: Vec<String> = std::fs::read_dir(wd.path(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    folders
}

fn run_and_eval(wd: &Workdir, world: &str) -> serde_json::Value {
    let data = format!("{world}/data");
    let run = wd.recon(&[
        "run",
        "-q",
        "--as-of",
        "2020-06-30",
        "--out",
        &format!("{world}/out"),
        &data,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let eval = wd.recon(&[
        "eval",
        "--truth",
        &format!("{world}/truth"),
        "--json",
        &format!("{world}/eval.json"),
        &format!("{world}/out"),
    ]);
    assert_eq!(eval.code, 0, "{}", eval.stderr);
    serde_json::from_str(&wd.read(&format!("{world}/eval.json"))).unwrap()
}

#[test]
fn a_clean_world_scores_perfectly_on_every_rule() {
    let wd = Workdir::new();
    synth(&wd, "clean", "clean");
    let figures = run_and_eval(&wd, "clean");
    let rules = figures["rules"].as_object().unwrap();
    assert_eq!(rules.len(), 21, "every rule has expected gaps in the world");
    for (rule, scores) in rules {
        assert!(
            scores["true_positives"].as_u64().unwrap() > 0,
            "{rule}: no expected gap"
        );
        assert_eq!(
            (scores["precision"].as_f64(), scores["recall"].as_f64()),
            (Some(1.0), Some(1.0)),
            "{rule}: {scores}"
        );
    }
    assert_eq!(figures["linkage"]["f1"], 1.0);
}

#[test]
fn noisy_worlds_are_scored_and_their_errors_explained() {
    let wd = Workdir::new();
    synth(&wd, "hard", "hard");
    let figures = run_and_eval(&wd, "hard");
    // The linker places most damaged rows by name, county and what is left of the ID; the
    // rest are counted by the noise behind them.
    let linkage = &figures["linkage"];
    assert!(linkage["f1"].as_f64().unwrap() > 0.99, "{linkage}");
    assert!(linkage["recall"].as_f64().unwrap() < 1.0, "{linkage}");
    let missed = figures["errors"]["link_missed"].as_object().unwrap();
    assert!(
        missed
            .keys()
            .all(|noise| noise.starts_with("id_") || noise.starts_with("name_")),
        "{missed:?}"
    );
    for scores in figures["rules"].as_object().unwrap().values() {
        assert!(scores["recall"].as_f64().unwrap() > 0.95, "{scores}");
        assert!(scores["precision"].as_f64().unwrap() > 0.95, "{scores}");
    }
}

/// Worlds whose exports vary as departments' do (headers from the corpus, dressed and
/// reordered, columns that hold nothing the rules read, identifiers in unusual files, `J`
/// numbers, deaths written three ways, date shapes, a file per county, a workbook of two
/// sheets, title rows): every column is read as the field it holds, and the lists stay right.
#[test]
fn varied_worlds_are_read_column_by_column_and_scored() {
    let wd = Workdir::new();
    for seed in ["3", "4"] {
        let world = format!("varied{seed}");
        synth_with(&wd, &["--variety"], seed, &world);
        let figures = run_and_eval(&wd, &world);
        let columns = &figures["columns"];
        assert!(columns["columns"].as_u64().unwrap() > 100, "{columns}");
        assert_eq!(columns["right"], columns["columns"], "{columns}");
        let overall = &figures["overall"];
        assert!(
            overall["precision"].as_f64().unwrap() >= 0.99,
            "{seed}: {overall}"
        );
        assert!(
            overall["recall"].as_f64().unwrap() >= 0.99,
            "{seed}: {overall}"
        );
        assert!(
            figures["linkage"]["f1"].as_f64().unwrap() >= 0.99,
            "{}",
            figures["linkage"]
        );
    }
    let files: Vec<String> = std::fs::read_dir(wd.path("varied3/data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files
            .iter()
            .filter(|f| f.starts_with("残联_持证残疾人_"))
            .count()
            > 10,
        "{files:?}"
    );
    assert!(
        files.contains(&"民政_两项补贴.xlsx".to_string()),
        "{files:?}"
    );
    let records = wd.read("varied3/truth/records.csv");
    assert!(
        records.contains("student_j_number"),
        "J numbers are written"
    );
    assert!(
        records.contains("民政_两项补贴.xlsx[护理补贴]"),
        "sheets are tables"
    );
}

#[test]
fn a_seed_is_a_world_whatever_the_noise() {
    let wd = Workdir::new();
    synth(&wd, "realistic", "a");
    synth(&wd, "realistic", "b");
    synth(&wd, "clean", "c");
    for file in [
        "data/残联_持证残疾人.csv",
        "data/民政_救助对象.csv",
        "data/教育_学籍_01.xlsx",
        "truth/records.csv",
        "truth/expected_gaps.csv",
    ] {
        assert!(
            std::fs::read(wd.path(&format!("a/{file}"))).unwrap()
                == std::fs::read(wd.path(&format!("b/{file}"))).unwrap(),
            "{file} differs"
        );
    }
    assert_eq!(
        wd.read("a/truth/persons.csv"),
        wd.read("c/truth/persons.csv"),
        "the same people at every noise level"
    );
    assert_eq!(
        wd.read("a/truth/expected_gaps.csv"),
        wd.read("c/truth/expected_gaps.csv"),
        "expected gaps come from the clean world"
    );
    assert_ne!(
        wd.read("a/truth/records.csv"),
        wd.read("c/truth/records.csv"),
        "noise is recorded"
    );
}

#[test]
fn a_small_batch_run_writes_the_same_lists() {
    let wd = Workdir::new();
    synth(&wd, "realistic", "world");
    let run = |out: &str, chunk: &str| {
        let args = [
            "run",
            "-q",
            "--as-of",
            "2020-06-30",
            "--out",
            out,
            "world/data",
        ];
        let run = wd.recon_env(&args, ("RECON_CHUNK_ROWS", chunk));
        assert_eq!(run.code, 0, "{}", run.stderr);
    };
    run("big", "65536");
    run("small", "7");
    for file in [
        "gaps.csv",
        "links.csv",
        "review.csv",
        "rejects.csv",
        "quality.csv",
        "model.json",
    ] {
        assert!(
            wd.read(&format!("big/{file}")) == wd.read(&format!("small/{file}")),
            "{file} differs when rows are read 7 at a time"
        );
    }
}

/// (rule, file, row) of each gap in a run's `gaps.csv` whose file's name begins with `prefix`.
fn gaps_in(
    wd: &Workdir,
    out: &str,
    prefix: &str,
) -> std::collections::BTreeSet<(String, String, String)> {
    let mut reader = csv::Reader::from_path(wd.path(&format!("{out}/gaps.csv"))).unwrap();
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (rule, file, row) = (at("rule_id"), at("source_file"), at("source_row"));
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| r[file].starts_with(prefix))
        .map(|r| (r[rule].to_string(), r[file].to_string(), r[row].to_string()))
        .collect()
}

/// A nation: each province's exports in a folder of its own, and families that moved to
/// another province (insured or at school there, or paid there too). A run over the whole
/// nation is right on a clean one; a run over one province alone calls movers insured
/// elsewhere uninsured, and misses the subsidies paid a second time across the border.
#[test]
fn a_nation_is_right_whole_and_wrong_a_province_at_a_time() {
    let wd = Workdir::new();
    synth_with(
        &wd,
        &["--noise", "clean", "--provinces", "3"],
        "7",
        "nation",
    );
    let folders = folders_in(&wd, "nation/data");
    assert_eq!(folders.len(), 3, "{folders:?}");
    let home = folders.iter().find(|f| f.starts_with("42_")).unwrap();
    let prefix = format!("{}_", &home[3..]);
    // Movers: persons with rows in two provinces' files.
    let mut provinces_of: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for line in wd.read("nation/truth/records.csv").lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let province = fields[0].split('_').next().unwrap().to_string();
        provinces_of
            .entry(fields[2].to_string())
            .or_default()
            .insert(province);
    }
    let movers = provinces_of.values().filter(|p| p.len() > 1).count();
    assert!(movers > 20, "{movers} persons with rows in two provinces");

    let figures = run_and_eval(&wd, "nation");
    for (rule, scores) in figures["rules"].as_object().unwrap() {
        assert_eq!(
            (scores["precision"].as_f64(), scores["recall"].as_f64()),
            (Some(1.0), Some(1.0)),
            "{rule}: {scores}"
        );
    }
    assert_eq!(figures["linkage"]["f1"], 1.0);

    let alone = wd.recon(&[
        "run",
        "-q",
        "--as-of",
        "2020-06-30",
        "--out",
        "alone",
        &format!("nation/data/{home}"),
    ]);
    assert_eq!(alone.code, 0, "{}", alone.stderr);
    let whole = gaps_in(&wd, "nation/out", &prefix);
    let alone = gaps_in(&wd, "alone", &prefix);
    let rules = |gaps: Vec<&(String, String, String)>| -> Vec<String> {
        gaps.into_iter().map(|(rule, _, _)| rule.clone()).collect()
    };
    let false_gaps = rules(alone.difference(&whole).collect());
    let missed = rules(whole.difference(&alone).collect());
    assert!(false_gaps.iter().any(|r| r == "MED-01"), "{false_gaps:?}");
    assert!(missed.iter().any(|r| r == "AUD-05"), "{missed:?}");
}

#[test]
fn a_world_lives_in_the_province_asked_for() {
    let wd = Workdir::new();
    synth_with(&wd, &["--province", "河南省"], "3", "by_name");
    synth_with(&wd, &["--province", "41"], "3", "by_code");
    for file in ["truth/persons.csv", "truth/expected_gaps.csv"] {
        let counties: Vec<String> = wd
            .csv_rows(&format!("by_name/{file}"))
            .into_iter()
            .map(|row| row["county_code"].clone())
            .collect();
        assert!(!counties.is_empty(), "{file}");
        assert!(counties.iter().all(|c| c.starts_with("41")), "{file}");
        assert_eq!(
            wd.read(&format!("by_name/{file}")),
            wd.read(&format!("by_code/{file}"))
        );
    }
    // In a nation it comes first, the others by code.
    synth_with(
        &wd,
        &["--province", "41", "--provinces", "2", "--noise", "clean"],
        "3",
        "nation",
    );
    assert_eq!(folders_in(&wd, "nation/data"), ["11_北京市", "41_河南省"]);
    let unknown = wd.recon(&["synth", "--province", "99", "--out", "unknown"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("--province 99"),
        "{}",
        unknown.stderr
    );
    assert!(!wd.exists("unknown"));
}
