//! `recon eval`: a run scored against truth written by hand (`tests/fixtures/sample_truth/`),
//! never by the code under test.

use crate::workdir::{repo_path, Workdir};

#[test]
fn the_sample_run_scores_against_its_truth() {
    let wd = Workdir::new();
    wd.run_ok(&[&repo_path("sample_data").display().to_string()]);
    let truth = repo_path("tests/fixtures/sample_truth")
        .display()
        .to_string();
    let run = wd.recon(&["eval", "--truth", &truth, "--json", "eval.json", "out"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("overall        23      0      0   1.0000  1.0000  1.0000"),
        "{}",
        run.stdout
    );
    let figures: serde_json::Value = serde_json::from_str(&wd.read("eval.json")).unwrap();
    assert_eq!(figures["rules"].as_object().unwrap().len(), 14);
    assert_eq!(figures["rules"]["MED-01"]["true_positives"], 4);
    // The deterministic linker joins a child's row carrying the father's ID to the father
    // (two false pairs) and misses the rows with a swapped and a mistyped digit (two pairs).
    let linkage = &figures["linkage"];
    assert_eq!(
        (
            linkage["false_positives"].as_u64(),
            linkage["false_negatives"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(figures["errors"]["link_false"]["id_of_relative"], 1);
    assert_eq!(figures["errors"]["link_missed"]["id_digits_swapped"], 1);
    assert_eq!(figures["errors"]["link_missed"]["id_digit_substituted"], 1);
}

#[test]
fn a_wrong_gap_list_is_scored_and_explained() {
    let wd = Workdir::new();
    wd.run_ok(&[
        "--rule",
        "MED-01",
        &repo_path("sample_data").display().to_string(),
    ]);
    let gaps = wd.read("out/gaps.csv");
    let mut lines: Vec<&str> = gaps.lines().collect();
    let dropped = lines.remove(
        lines
            .iter()
            .position(|l| l.contains("dpf_registry_fangxian.csv,23,"))
            .unwrap(),
    );
    let added = dropped.replace(
        "dpf_registry_fangxian.csv,23,",
        "dpf_registry_fangxian.csv,3,",
    );
    lines.push(&added);
    wd.write_bytes("out/gaps.csv", (lines.join("\n") + "\n").as_bytes());
    let truth = repo_path("tests/fixtures/sample_truth")
        .display()
        .to_string();
    let run = wd.recon(&["eval", "--truth", &truth, "--json", "eval.json", "out"]);
    let figures: serde_json::Value = serde_json::from_str(&wd.read("eval.json")).unwrap();
    let med = &figures["rules"]["MED-01"];
    assert_eq!(
        (
            med["true_positives"].as_u64(),
            med["false_positives"].as_u64(),
            med["false_negatives"].as_u64()
        ),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(med["precision"], 0.75);
    assert_eq!(
        figures["errors"]["gap_false_negative"]["id_digits_swapped"], 1,
        "{}",
        run.stdout
    );
    assert_eq!(figures["errors"]["gap_false_positive"]["id_lowercase_x"], 1);
    assert_eq!(
        figures["rules"]["AUD-01"]["false_negatives"], 3,
        "rules not run are missed"
    );
}
