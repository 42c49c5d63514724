//! The probabilistic linker, one defect kind at a time: each with a small case it must link and
//! a near miss it must not. The cases sit in a small synthetic province (its people train the
//! model); their names use characters the province never gives, so no background person is a
//! namesake. Also `recon link`, `recon explain`, and the same output whatever the thread count.

use std::collections::BTreeMap;

use crate::workdir::{make_id, Workdir};

const FX: &str = "420325";
const OTHER: &str = "420303";

/// A registry person of the cases: name, ID.
struct Person {
    name: &'static str,
    id: String,
}

fn person(name: &'static str, birth: &str, seq: u32) -> Person {
    Person {
        name,
        id: make_id(FX, birth, seq),
    }
}

struct Cases {
    wd: Workdir,
    /// (file, row) -> person key, from links.csv.
    keys: BTreeMap<(String, String), String>,
}

impl Cases {
    fn key(&self, file: &str, row: usize) -> &str {
        &self.keys[&(file.to_string(), row.to_string())]
    }

    /// `recon explain` of an insurance row, for a failure message.
    fn explain(&self, insurance_row: usize) -> String {
        let row = insurance_row.to_string();
        self.wd
            .recon(&["explain", "out", INSURANCE, &row, "--full"])
            .stdout
    }

    fn linked(&self, dpf_row: usize, insurance_row: usize) -> bool {
        self.key(DPF, dpf_row) == self.key(INSURANCE, insurance_row)
    }
}

const DPF: &str = "cases_dpf.csv";
const REGISTRY_HEADER: [&str; 6] = [
    "姓名",
    "公民身份号码",
    "残疾类别",
    "残疾等级",
    "所属区县",
    "证件状态",
];
const INSURANCE: &str = "cases_insurance.csv";
const CIVIL: &str = "cases_civil.csv";
const EDUCATION: &str = "cases_education.csv";

/// Swaps two adjacent digits (positions `at`, `at + 1`, which differ).
fn swapped(id: &str, at: usize) -> String {
    let mut b = id.as_bytes().to_vec();
    b.swap(at, at + 1);
    String::from_utf8(b).unwrap()
}

fn substituted(id: &str, at: usize) -> String {
    let mut b = id.as_bytes().to_vec();
    b[at] = b'0' + (b[at] - b'0' + 3) % 10;
    String::from_utf8(b).unwrap()
}

/// A work folder holding a small clean synthetic province in `world/` (its people train the
/// model).
fn with_province() -> Workdir {
    let wd = Workdir::new();
    let synth = wd.recon(&[
        "synth",
        "--persons",
        "300",
        "--seed",
        "11",
        "--noise",
        "clean",
        "--out",
        "world",
    ]);
    assert_eq!(synth.code, 0, "{}", synth.stderr);
    wd
}

/// The registry rows (1-based, in this order) and the insurance rows that test them.
fn run_cases(threads: &str) -> Cases {
    let wd = with_province();
    let p = [
        person("诸葛翊峰", "19800101", 11), // 1 one digit substituted
        person("诸葛珩", "19810202", 13),   // 2 two digits swapped
        person("司马彧", "19620303", 15),   // 3 a 15-digit ID
        person("司马琮", "19630404", 17),   // 4 Excel damage
        person("慕容璟", "19640505", 19),   // 5 blank ID
        person("慕容霁", "19750606", 21),   // 6 father, whose ID is in his son's row
        person("慕容昶", "20100707", 23),   // 7 the son
        person("上官晓峰", "19770808", 25), // 8 a homophone name
        person("上官張珏", "19780909", 27), // 9 a traditional form
        person("端木䶮", "19791010", 29),   // 10 a character GBK lacks
        person("努尔·阿合买提江", "19801111", 31), // 11 a minority name
        person("皇甫翊", "19901212", 33),   // 12 a twin
        person("皇甫珩", "19901212", 35),   // 13 the other twin
        person("端木琮", "19550115", 37),   // 14 namesakes: the same name and birth date
        person("端木琮", "19550115", 39),   // 15 in one county, two people
        person("诸葛霁", "19850220", 41),   // 16 a one-digit typo under another name
        person("欧阳翊", "20120303", 43),   // 17 a child whose school row has a J number
        person("欧阳翊", "20130808", 45),   // 18 a namesake child born a year later
    ];
    let mut dpf = vec![REGISTRY_HEADER.to_vec()];
    for x in &p {
        dpf.push(vec![x.name, &x.id, "肢体", "二级", "房县", "正常"]);
    }
    let legacy = format!("{}{}", &p[2].id[..6], &p[2].id[8..17]);
    let ins: Vec<(String, String, &str)> = vec![
        ("诸葛翊峰".into(), substituted(&p[0].id, 9), FX), // 1 -> 1
        ("诸葛珩".into(), swapped(&p[1].id, 12), FX),      // 2 -> 2
        ("司马彧".into(), legacy, FX),                     // 3 -> 3
        ("司马琮".into(), "4.20325E+17".into(), FX),       // 4 -> 4
        ("慕容璟".into(), String::new(), FX),              // 5 -> 5
        ("慕容昶".into(), p[5].id.clone(), FX),            // 6 -> 7 (the father's ID)
        ("上官小峰".into(), p[7].id.clone(), FX),          // 7 -> 8
        ("上官张珏".into(), String::new(), FX),            // 8 -> 9
        ("端木?".into(), p[9].id.clone(), FX),             // 9 -> 10 (as a GBK export writes it)
        ("努尔阿合买提江".into(), String::new(), FX),      // 10 -> 11
        ("皇甫翊".into(), String::new(), FX),              // 11 -> 12, not 13
        ("端木琮".into(), String::new(), FX),              // 12 -> neither 14 nor 15
        ("诸葛翊".into(), substituted(&p[15].id, 9), FX),  // 13 -> not 16 (another name)
        ("司马琮".into(), "4.20303E+17".into(), OTHER),    // 14 -> not 4 (another county)
    ];
    let mut insurance = vec![vec!["姓名", "证件号码", "参保年度", "参保状态", "参保地"]];
    for (name, id, county) in &ins {
        insurance.push(vec![name, id, "2020", "正常参保", county]);
    }
    wd.write_csv(DPF, &dpf);
    wd.write_csv(INSURANCE, &insurance);
    // A care subsidy paid to one of the two namesakes, the ID left blank.
    wd.write_csv(
        CIVIL,
        &[
            vec!["姓名", "身份证号码", "区县", "救助类别", "起始日期", "状态"],
            vec![
                "端木琮",
                "",
                "房县",
                "重度残疾人护理补贴",
                "2019-01-01",
                "正常",
            ],
        ],
    );
    // A school row with no ID and a `J` student number: its digits give the child's
    // registration region and birth date (the sequence and check character are the school's).
    let j_number = format!("J{}{}", &p[16].id[..14], "0027");
    wd.write_csv(
        EDUCATION,
        &[
            vec![
                "学生姓名",
                "身份证件号",
                "全国学籍号",
                "学籍状态",
                "所在区县",
            ],
            vec!["欧阳翊", "", &j_number, "在读", "房县"],
        ],
    );
    let run = wd.recon_env(
        &[
            "run",
            "-q",
            "--as-of",
            "2020-06-30",
            "--out",
            "out",
            "world/data",
            DPF,
            INSURANCE,
            CIVIL,
            EDUCATION,
        ],
        ("RAYON_NUM_THREADS", threads),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let keys = wd
        .csv_rows("out/links.csv")
        .into_iter()
        .map(|r| {
            (
                (r["source_file"].clone(), r["source_row"].clone()),
                r["person_key"].clone(),
            )
        })
        .collect();
    Cases { wd, keys }
}

#[test]
fn each_defect_links_its_case_and_not_its_near_miss() {
    let cases = run_cases("2");
    for (dpf, ins, what) in [
        (1, 1, "one digit substituted"),
        (2, 2, "two adjacent digits swapped"),
        (3, 3, "a 15-digit ID"),
        (4, 4, "an ID lost to Excel's scientific notation"),
        (5, 5, "a blank ID"),
        (7, 6, "a relative's ID: the row goes to the person it names"),
        (8, 7, "a homophone name under the same ID"),
        (9, 8, "a traditional form with a blank ID"),
        (10, 9, "`?` for a character the export lost"),
        (11, 10, "a minority name without its dot"),
        (12, 11, "a twin's row with a blank ID"),
    ] {
        assert!(
            cases.linked(dpf, ins),
            "must link: {what}\n{}",
            cases.explain(ins)
        );
    }
    for (dpf, ins, what) in [
        (6, 6, "a relative's ID: not the ID's owner"),
        (13, 11, "the other twin"),
        (14, 12, "one of two namesakes born the same day"),
        (15, 12, "the other namesake"),
        (16, 13, "a one-digit typo under another name"),
        (4, 14, "Excel damage with the same name in another county"),
    ] {
        assert!(
            !cases.linked(dpf, ins),
            "must not link: {what}\n{}",
            cases.explain(ins)
        );
    }
    assert_ne!(
        cases.key(DPF, 12),
        cases.key(DPF, 13),
        "twins stay two people"
    );
    assert_ne!(
        cases.key(DPF, 14),
        cases.key(DPF, 15),
        "namesakes stay two people"
    );
    // The namesakes' row waits for a person, who sees both candidates.
    let review = cases.wd.csv_rows("out/review.csv");
    let ambiguous: Vec<&BTreeMap<String, String>> = review
        .iter()
        .filter(|r| {
            r["candidate_file"] == INSURANCE && r["candidate_row"] == "12"
                || r["source_file"] == INSURANCE && r["source_row"] == "12"
        })
        .collect();
    assert!(!ambiguous.is_empty(), "{review:?}");
    assert!(
        ambiguous
            .iter()
            .all(|r| r["reason"].contains("另有他人同样匹配")),
        "{ambiguous:?}"
    );
    // The namesakes' care-subsidy gaps depend on that decision, and say so.
    let gaps = cases.wd.csv_rows("out/gaps.csv");
    for row in ["14", "15"] {
        let gap = gaps
            .iter()
            .find(|g| g["rule_id"] == "CIV-02" && g["source_file"] == DPF && g["source_row"] == row)
            .unwrap();
        assert!(
            gap["review"].contains("可能与cases_civil.csv第1行为同一人"),
            "{gap:?}\n{}",
            cases
                .wd
                .recon(&["explain", "out", CIVIL, "1", "--full"])
                .stdout
        );
    }
    // The J number's birth date tells the namesake children apart.
    assert_eq!(
        cases.key(EDUCATION, 1),
        cases.key(DPF, 17),
        "a J number's birth date places the school row\n{}",
        cases
            .wd
            .recon(&["explain", "out", EDUCATION, "1", "--full"])
            .stdout
    );
    assert!(!gaps
        .iter()
        .any(|g| g["rule_id"] == "EDU-01" && g["source_file"] == DPF && g["source_row"] == "17"));
    // The relative's ID is told as such where the row goes.
    let evidence: Vec<BTreeMap<String, String>> = cases.wd.csv_rows("out/links.csv");
    let son = evidence
        .iter()
        .find(|r| r["source_file"] == INSURANCE && r["source_row"] == "6")
        .unwrap();
    assert!(son["evidence"].contains("id_of_another_person"), "{son:?}");
}

/// An ID carried by more rows than one person has is a placeholder, whether it passes its check
/// or not: its rows are neither joined nor listed for review together, the log names it
/// masked, run.json counts it, and a row of it still links to its person by name and county.
#[test]
fn a_placeholder_id_joins_nobody() {
    let wd = with_province();
    let zeros = "000000000000000000";
    let clerk = make_id(FX, "19700101", 1);
    let given = "翊珩彧琮璟霁昶珏䶮峰";
    let names: Vec<String> = (0..270)
        .map(|k| {
            let pick = |d: usize| given.chars().nth(d % 10).unwrap();
            format!("诸葛{}{}{}", pick(k / 100), pick(k / 10), pick(k))
        })
        .collect();
    let owner = person("司马翊峰", "19860303", 43);
    wd.write_csv(
        DPF,
        &[
            REGISTRY_HEADER.to_vec(),
            vec![owner.name, &owner.id, "肢体", "二级", "房县", "正常"],
            vec!["欧阳珩彧", &clerk, "视力", "一级", "房县", "正常"],
        ],
    );
    let mut insurance = vec![vec!["姓名", "证件号码", "参保年度", "参保状态", "参保地"]];
    for (k, name) in names.iter().enumerate() {
        let id = if k < 150 { zeros } else { clerk.as_str() };
        insurance.push(vec![name, id, "2020", "正常参保", FX]);
    }
    insurance.push(vec![owner.name, zeros, "2020", "正常参保", FX]);
    wd.write_csv(INSURANCE, &insurance);
    let run = wd.run_ok(&["-q", "world/data", DPF, INSURANCE]);
    assert!(run.stderr.contains("placeholders"), "{}", run.stderr);
    assert!(run.stderr.contains("000000********0000"), "{}", run.stderr);
    assert!(!run.stderr.contains(zeros) && !run.stderr.contains(&clerk));
    let json: serde_json::Value = serde_json::from_str(&wd.read("out/run.json")).unwrap();
    let counts = &json["linker"]["counts"];
    assert_eq!(
        (
            counts["placeholder_ids"].as_u64(),
            counts["placeholder_rows"].as_u64()
        ),
        (Some(2), Some(272))
    );
    let links = wd.csv_rows("out/links.csv");
    let rows: Vec<_> = links
        .iter()
        .filter(|r| r["source_file"] == INSURANCE)
        .collect();
    assert_eq!(rows.len(), 271);
    let keys: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["person_key"].as_str()).collect();
    assert_eq!(keys.len(), 271, "rows of a placeholder were joined");
    let owner_key = &links.iter().find(|r| r["source_file"] == DPF).unwrap()["person_key"];
    let owners_row = rows.last().unwrap();
    assert_eq!(
        &owners_row["person_key"],
        owner_key,
        "{}",
        wd.recon(&["explain", "out", INSURANCE, "271", "--full"])
            .stdout
    );
    assert!(
        owners_row["evidence"].ends_with(";id_placeholder"),
        "{}",
        owners_row["evidence"]
    );
    assert!(rows[..270]
        .iter()
        .all(|r| r["evidence"] == "unlinked:id_placeholder"));
    assert!(wd.csv_rows("out/review.csv").is_empty());
    // The registry row carrying the clerk's number is a gap (no care subsidy) that says why
    // its ID could not link it.
    let gaps = wd.csv_rows("out/gaps.csv");
    let gap = gaps
        .iter()
        .find(|g| g["source_file"] == DPF && g["source_row"] == "2")
        .expect("a gap on the registry row with a placeholder ID");
    assert!(gap["detail"].contains("占位号码"), "{}", gap["detail"]);
}

#[test]
fn the_output_is_the_same_whatever_the_thread_count() {
    let one = run_cases("1");
    let two = run_cases("2");
    for file in ["links.csv", "review.csv", "gaps.csv", "model.json"] {
        assert!(
            one.wd.read(&format!("out/{file}")) == two.wd.read(&format!("out/{file}")),
            "{file} differs between 1 and 2 threads"
        );
    }
}

#[test]
fn explain_shows_a_rows_candidates_masked() {
    let cases = run_cases("2");
    let run = cases
        .wd
        .recon(&["explain", "out", INSURANCE, "1", "--candidates", "1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = &run.stdout;
    assert!(text.contains("placed by: probable:"), "{text}");
    assert!(text.contains("身份证号相差1位（第10位）"), "{text}");
    for column in [
        "prior",
        "id_number",
        "one_substitution",
        "name",
        "match weight",
    ] {
        assert!(text.contains(column), "{column}: {text}");
    }
    assert!(
        !text.contains("诸葛翊峰") && !text.contains(&make_id(FX, "19800101", 11)),
        "{text}"
    );
    let full = cases
        .wd
        .recon(&["explain", "out", INSURANCE, "1", "--full"]);
    assert!(full.stdout.contains("诸葛翊峰"), "{}", full.stdout);
    let missing = cases.wd.recon(&["explain", "out", INSURANCE, "99"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("row 99"), "{}", missing.stderr);
}

#[test]
fn explain_refuses_changed_inputs() {
    let cases = run_cases("2");
    let mut text = cases.wd.read(INSURANCE);
    text.push_str("新人,,2020,正常参保,420325\n");
    cases.wd.write_bytes(INSURANCE, text.as_bytes());
    let run = cases.wd.recon(&["explain", "out", INSURANCE, "1"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("changed since the run"),
        "{}",
        run.stderr
    );
}

/// Two lists of the same 200 people, the right one with three defects planted and 20 people
/// of its own; `recon link` must pair them.
#[test]
fn link_command_links_two_lists_with_a_mapping() {
    let wd = Workdir::new();
    const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵"];
    const GIVEN: [&str; 25] = [
        "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
        "超", "霞", "平", "刚", "兰", "华", "红", "建", "国", "文",
    ];
    let people: Vec<(String, String, String)> = (0..220u32)
        .map(|i| {
            let name = format!(
                "{}{}{}",
                SURNAMES[(i % 8) as usize],
                GIVEN[(i * 7 % 25) as usize],
                GIVEN[(i * 11 % 25) as usize]
            );
            let birth = format!("19{:02}{:02}{:02}", 40 + i % 60, 1 + i % 12, 1 + i % 28);
            let id = make_id(FX, &birth, 100 + i);
            let shown = format!("{}-{}-{}", &birth[..4], &birth[4..6], &birth[6..]);
            (name, id, shown)
        })
        .collect();
    let header = vec!["编号", "姓名", "身份证", "出生"];
    let (mut left, mut right) = (vec![header.clone()], vec![header]);
    let numbers: Vec<String> = (0..220).map(|i| i.to_string()).collect();
    let typo = substituted(&people[0].1, 8);
    assert_eq!(people[0].0, "王伟伟");
    for (i, (name, id, birth)) in people.iter().enumerate() {
        if i < 200 {
            left.push(vec![&numbers[i], name, id, birth]);
        }
        let (name, id): (&str, &str) = match i {
            0 => ("王玮伟", &typo), // a homophone (伟/玮) and a mistyped digit
            1 => (name, ""),        // a blank ID
            2 => ("赵六", id),      // the same ID under another name
            _ => (name, id),
        };
        right.push(vec![&numbers[i], name, id, birth]);
    }
    wd.write_csv("a.csv", &left);
    wd.write_csv_gbk("b.csv", &right);
    let config = "id_column = \"编号\"\n\
        [columns]\nname = { header = \"姓名\", kind = \"name\" }\nid_number = { header = \"身份证\", kind = \"id\" }\nbirth_date = { header = \"出生\", kind = \"date\" }\n\
        [link]\naccept = 0.9\nreview = 0.5\nexclusive_id = \"id_number\"\ndistinct_rows_in = [{ source = \"left\" }, { source = \"right\" }]\n\
        [[link.blocking]]\non = [\"id_number\"]\n[[link.blocking]]\non = [\"name\", \"birth_date\"]\n[[link.blocking]]\non = [\"birth_date\"]\n\
        [[link.comparison]]\nfield = \"id_number\"\nlevels = [\"exact\", \"one_substitution\", \"else\"]\n\
        [[link.comparison]]\nfield = \"name\"\nlevels = [\"exact\", \"homophone\", \"jaro_winkler >= 0.7\", \"else\"]\nvetoes = [\"else\"]\n\
        [[link.comparison]]\nfield = \"birth_date\"\nlevels = [\"exact\", \"else\"]\n\
        [link.training]\nprior_rule = { on = [\"id_number\"] }\nem_sessions = [{ on = [\"birth_date\"] }, { on = [\"id_number\"] }]\n";
    wd.write_bytes("link.toml", config.as_bytes());
    let run = wd.recon(&[
        "link",
        "--config",
        "link.toml",
        "--out",
        "lo",
        "a.csv",
        "b.csv",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let linked: Vec<(String, String)> = wd
        .csv_rows("lo/pairs.csv")
        .into_iter()
        .filter(|r| r["decision"] == "linked")
        .map(|r| (r["left_id"].clone(), r["right_id"].clone()))
        .collect();
    assert!(
        linked.contains(&("0".into(), "0".into())),
        "homophone + typo: {linked:?}"
    );
    assert!(
        linked.contains(&("1".into(), "1".into())),
        "blank ID: {linked:?}"
    );
    assert!(
        !linked.contains(&("2".into(), "2".into())),
        "same ID, another name: {linked:?}"
    );
    assert!(
        linked.iter().all(|(l, r)| l == r),
        "only true pairs: {linked:?}"
    );
    assert_eq!(linked.len(), 199, "every copy but the vetoed one");
    assert_eq!(wd.csv_rows("lo/clusters.csv").len(), 420);
    let model: serde_json::Value = serde_json::from_str(&wd.read("lo/model.json")).unwrap();
    assert_eq!(model["recon_model_version"], 1);
    // The saved model predicts without training, to the same pairs.
    let again = wd.recon(&[
        "link",
        "--config",
        "link.toml",
        "--model",
        "lo/model.json",
        "--out",
        "lo2",
        "a.csv",
        "b.csv",
    ]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(wd.read("lo/pairs.csv"), wd.read("lo2/pairs.csv"));
    let bad = wd.recon(&[
        "link",
        "--config",
        "link.toml",
        "--out",
        "lo3",
        "a.csv",
        "missing.csv",
    ]);
    assert_eq!(bad.code, 2);
}
