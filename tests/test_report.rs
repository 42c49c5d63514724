//! The morning report: one self-contained page per run, and per county on demand.

use crate::workdir::{repo_path, Workdir};

fn sample() -> String {
    repo_path("sample_data").display().to_string()
}

#[test]
fn every_run_writes_a_self_contained_page_without_personal_data() {
    let wd = Workdir::new();
    wd.run_ok(&["--full-ids", &sample()]);
    let page = wd.read("out/report.html");
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("lang=\"zh-CN\""));
    assert!(page.contains("残疾人困难群体数据比对晨报") && page.contains("截至 2020-06-30"));
    assert!(
        !page.contains("<script") && !page.contains("src=") && !page.contains("<link"),
        "nothing is loaded from elsewhere"
    );
    assert!(page.matches("<svg").count() >= 8, "charts are inline SVG");
    for row in wd.csv_rows("out/gaps.csv") {
        assert!(
            !page.contains(row["id_number"].as_str()),
            "an ID in the report"
        );
        assert!(!page.contains(row["name"].as_str()), "a name in the report");
    }
    // 房县 has the most uncovered people of the sample: first to supervise.
    let supervise = &page[page.find("重点督办区县").unwrap()..page.find("分县覆盖率").unwrap()];
    assert!(
        supervise.contains("<td>1</td><td class=\"l\">房县（420325）</td>"),
        "{supervise}"
    );
    assert!(page.contains("MED-01 持证贫困残疾人未参加基本医疗保险"));
    let data: serde_json::Value = serde_json::from_str(&wd.read("out/report.json")).unwrap();
    let med = data["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule_id"] == "MED-01" && c["county_code"] == "420325")
        .unwrap();
    assert_eq!(
        (med["base"].as_u64(), med["gaps"].as_u64()),
        (Some(16), Some(3))
    );
    assert!(
        page.contains("81.2% （3/16）"),
        "the rate is 1 - gaps/subjects"
    );
}

#[test]
fn a_county_page_is_drawn_from_the_output_folder() {
    let wd = Workdir::new();
    wd.run_ok(&[&sample()]);
    let run = wd.recon(&["report", "out", "--county", "421181"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = wd.read("out/report_421181.html");
    assert!(page.contains("麻城市（421181） 残疾人困难群体数据比对晨报"));
    assert!(
        !page.contains("房县（420325）"),
        "only the county's own numbers"
    );
    assert!(
        page.contains("<td>2</td><td class=\"l\">麻城市（421181）</td>"),
        "its place in the province's ranking"
    );
    let unknown = wd.recon(&["report", "out", "--county", "999999"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("421181"), "{}", unknown.stderr);
}

#[test]
fn small_counts_can_be_suppressed_for_publication() {
    let wd = Workdir::new();
    let config = std::fs::read_to_string(repo_path("configs/default.toml"))
        .unwrap()
        .replace("suppress_below = 0", "suppress_below = 5");
    wd.write_bytes("publish.toml", config.as_bytes());
    wd.run_ok(&["--config", "publish.toml", &sample()]);
    let page = wd.read("out/report.html");
    assert!(
        page.contains("&lt;5/16"),
        "MED-01's 3 gaps of 16 shown as <5"
    );
    assert!(!page.contains("（3/16）"));
}

#[test]
fn with_a_ledger_the_page_shows_the_nights() {
    let wd = Workdir::new();
    for night in ["2020-06-30", "2020-07-01", "2020-07-02"] {
        let run = wd.recon(&[
            "run",
            "--as-of",
            night,
            "--ledger",
            "l.sqlite",
            "--out",
            "out",
            &sample(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let page = wd.read("out/report.html");
    assert!(
        page.contains("台账变化") && page.contains("红线：未销号事项"),
        "a trend chart"
    );
    assert!(page.contains("未销号事项的时长"));
    let data: serde_json::Value = serde_json::from_str(&wd.read("out/report.json")).unwrap();
    assert_eq!(data["ledger"]["trend"].as_array().unwrap().len(), 3);
}

/// Coverage is labelled with what it measures, the supervision reasons name it too, the
/// colours have a legend, the data-quality table is folded to the rows with defects, and a
/// county's page gives its own review count beside the province's average and its own files'
/// rejected rows.
#[test]
fn the_report_says_what_its_numbers_measure() {
    let wd = Workdir::new();
    wd.run_ok(&[&sample()]);
    let page = wd.read("out/report.html");
    assert!(
        page.contains("<h3>基本医保参保率（MED-01 "),
        "coverage heading"
    );
    assert!(
        page.contains("贫困残疾人家庭危房改造率0%"),
        "a reason by its measure"
    );
    assert!(page.contains("颜色：") && page.contains("<details><summary>"));
    let county = wd.recon(&["report", "out", "--county", "420325", "--output", "c.html"]);
    assert_eq!(county.code, 0, "{}", county.stderr);
    let county_page = wd.read("c.html");
    assert!(county_page.contains("本区县 1 条（全省各区县平均"));
    // Rows read and rejected: the county's own files on its page (the registry's 421181 file
    // with its rejected row is not 房县's), the province's on the province page.
    let registry = |read: u32, rejected: u32| {
        format!("<td class=\"l\">残联 持证残疾人库</td><td>{read}</td><td>{rejected}</td>")
    };
    assert!(county_page.contains(&registry(36, 0)), "the county's own");
    assert!(page.contains(&registry(44, 1)), "the province's");
    assert!(county_page.contains("民政 救助对象（多区县文件，全省）"));
}
