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
            .contains("overall        30      0      0   1.0000  1.0000  1.0000"),
        "{}",
        run.stdout
    );
    let figures: serde_json::Value = serde_json::from_str(&wd.read("eval.json")).unwrap();
    assert_eq!(figures["rules"].as_object().unwrap().len(), 21);
    assert_eq!(figures["rules"]["MED-01"]["true_positives"], 3);
    // Every damaged row is placed: the swapped and the mistyped digits, the child's row with
    // the father's ID, the scientific notation, 王yan for 王䶮.
    let linkage = &figures["linkage"];
    assert_eq!(
        (
            linkage["true_positives"].as_u64(),
            linkage["false_positives"].as_u64(),
            linkage["false_negatives"].as_u64()
        ),
        (Some(179), Some(0), Some(0))
    );
    assert!(
        figures["errors"].as_object().unwrap().is_empty(),
        "{}",
        figures["errors"]
    );
}

#[test]
fn a_wrong_gap_list_is_scored_and_explained() {
    let wd = Workdir::new();
    wd.run_ok(&[&repo_path("sample_data").display().to_string()]);
    let gaps = wd.read("out/gaps.csv");
    let mut lines: Vec<&str> = gaps.lines().collect();
    let dropped = lines.remove(
        lines
            .iter()
            .position(|l| l.starts_with("MED-01,") && l.contains("dpf_registry_fangxian.csv,4,"))
            .unwrap(),
    );
    let added = dropped.replace(
        "dpf_registry_fangxian.csv,4,",
        "dpf_registry_fangxian.csv,5,",
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
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(med["precision"], 2.0 / 3.0);
    assert_eq!(
        figures["errors"]["gap_false_negative"]["no_noise"], 1,
        "{}",
        run.stdout
    );
    assert_eq!(
        figures["errors"]["gap_false_positive"]["id_digit_substituted"],
        1
    );
    assert_eq!(figures["overall"]["false_negatives"], 1);
}
