//! The lists a change to the insides must keep: `gaps.csv`, `links.csv`, `review.csv` and
//! `rejects.csv` of the sample, of every rule fixture, and of small synthetic worlds at every
//! noise level (and with varied exports), byte for byte, as their digests in
//! `tests/fixtures/outputs.txt`. A change meant to alter a list reruns this test with
//! `RECON_BLESS=1`, which writes the digests anew, and says in its commit why they changed.

use sha2::{Digest, Sha256};

use crate::workdir::{repo_path, Workdir};

const LISTS: [&str; 4] = ["gaps.csv", "links.csv", "review.csv", "rejects.csv"];
const DIGESTS: &str = "tests/fixtures/outputs.txt";

/// One line per (world, list): its name, its data rows and the first 16 hex digits of its
/// SHA-256.
fn digests(wd: &Workdir, world: &str) -> Vec<String> {
    LISTS
        .iter()
        .map(|list| {
            let bytes = std::fs::read(wd.path(&format!("out/{list}")))
                .unwrap_or_else(|e| panic!("{world}: {list}: {e}"));
            let rows = bytes
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                .saturating_sub(1);
            let digest = format!("{:x}", Sha256::digest(&bytes));
            format!("{world} {list} {rows} {}", &digest[..16])
        })
        .collect()
}

fn run(wd: &Workdir, world: &str, args: &[&str]) -> Vec<String> {
    let _ = std::fs::remove_dir_all(wd.path("out"));
    wd.run_ok(args);
    digests(wd, world)
}

fn synthetic(wd: &Workdir, name: &str, options: &[&str]) -> Vec<String> {
    let mut args = vec!["synth", "--persons", "400", "--seed", "11", "--out", name];
    args.extend_from_slice(options);
    let made = wd.recon(&args);
    assert_eq!(made.code, 0, "{}", made.stderr);
    run(
        wd,
        &format!("synth/{name}"),
        &["-q", &format!("{name}/data")],
    )
}

fn rule_fixtures() -> Vec<String> {
    let mut rules: Vec<String> = std::fs::read_dir(repo_path("tests/fixtures/rules"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("input").is_dir())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    rules.sort();
    rules
}

#[test]
fn the_lists_are_those_recorded() {
    let wd = Workdir::new();
    let sample = repo_path("sample_data").display().to_string();
    let mut found = run(&wd, "sample", &["-q", &sample]);
    for rule in rule_fixtures() {
        let input = repo_path(&format!("tests/fixtures/rules/{rule}/input"));
        let input = input.display().to_string();
        found.extend(run(
            &wd,
            &format!("rule/{rule}"),
            &["-q", "--rule", &rule, &input],
        ));
    }
    for noise in ["clean", "realistic", "hard"] {
        found.extend(synthetic(&wd, noise, &["--noise", noise]));
    }
    found.extend(synthetic(&wd, "variety", &["--variety"]));

    let path = repo_path(DIGESTS);
    if std::env::var("RECON_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, found.join("\n") + "\n").unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(&path).unwrap_or_default();
    let recorded: Vec<&str> = recorded.lines().collect();
    let changed: Vec<&String> = found
        .iter()
        .filter(|line| !recorded.contains(&line.as_str()))
        .collect();
    assert!(
        changed.is_empty() && found.len() == recorded.len(),
        "these lists are not those recorded in {DIGESTS} (world, list, rows, digest):\n{}\n\
         if the change means to alter them, rerun with RECON_BLESS=1 and say why in the commit",
        changed
            .iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
