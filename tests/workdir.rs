//! A temporary folder to write department exports into and run `recon` in (after xsv's and
//! ripgrep's `Workdir`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Workdir {
    dir: tempfile::TempDir,
}

/// What a run of the binary returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// The key secret every test run is given (`Workdir::recon`).
pub const TEST_SECRET: &str = "a test secret, not for any real ledger";

/// The person key the outputs show for a valid ID, under `TEST_SECRET`.
pub fn person_key_of(id: &str) -> String {
    let unkeyed = recon::link::PersonKey::of_id(id).to_string();
    recon::keys::KeySecret::new(TEST_SECRET)
        .unwrap()
        .keyed_person_key(&unkeyed)
}

pub const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// A valid ID for a region, birth date and sequence number (check character computed here).
pub fn make_id(region: &str, birth: &str, seq: u32) -> String {
    let first17 = format!("{region}{birth}{seq:03}");
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    format!(
        "{first17}{}",
        "10X98765432".as_bytes()[(sum % 11) as usize] as char
    )
}

/// Every sheet of a workbook, as its cells.
pub fn sheets_of(path: &Path) -> Vec<(String, Vec<Vec<calamine::Data>>)> {
    use calamine::Reader;
    let mut workbook = calamine::open_workbook_auto(path).unwrap();
    workbook
        .sheet_names()
        .into_iter()
        .map(|name| {
            let range = workbook.worksheet_range(&name).unwrap();
            let rows = range.rows().map(|r| r.to_vec()).collect();
            (name, rows)
        })
        .collect()
}

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write_bytes(&self, relative: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// A UTF-8 CSV (no BOM) from rows of cells.
    pub fn write_csv(&self, relative: &str, rows: &[Vec<&str>]) -> PathBuf {
        self.write_bytes(relative, csv_text(rows).as_bytes())
    }

    pub fn write_csv_bom(&self, relative: &str, rows: &[Vec<&str>]) -> PathBuf {
        self.write_bytes(
            relative,
            &[b"\xEF\xBB\xBF".as_slice(), csv_text(rows).as_bytes()].concat(),
        )
    }

    pub fn write_csv_gbk(&self, relative: &str, rows: &[Vec<&str>]) -> PathBuf {
        let text = csv_text(rows);
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&text);
        assert!(!unmappable);
        self.write_bytes(relative, &bytes)
    }

    /// An XLSX file; a cell starting with `#` is written as a number (as a clerk typing an
    /// ID into a number cell would), an empty one is left blank, everything else as text.
    pub fn write_xlsx(&self, relative: &str, rows: &[Vec<&str>]) -> PathBuf {
        self.write_xlsx_sheets(relative, &[("Sheet1", rows)])
    }

    pub fn write_xlsx_sheets(&self, relative: &str, sheets: &[(&str, &[Vec<&str>])]) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut workbook = rust_xlsxwriter::Workbook::new();
        for (name, rows) in sheets {
            let sheet = workbook.add_worksheet();
            sheet.set_name(*name).unwrap();
            for (r, row) in rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate().filter(|(_, cell)| !cell.is_empty()) {
                    match cell.strip_prefix('#') {
                        Some(number) => sheet
                            .write_number(r as u32, c as u16, number.parse::<f64>().unwrap())
                            .unwrap(),
                        None => sheet.write_string(r as u32, c as u16, *cell).unwrap(),
                    };
                }
            }
        }
        workbook.save(&path).unwrap();
        path
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    /// The file's text, or nothing while it does not exist yet.
    pub fn read_or_empty(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap_or_default()
    }

    pub fn exists(&self, relative: &str) -> bool {
        self.path(relative).exists()
    }

    /// Runs `recon` with these arguments in the work folder, with `TEST_SECRET` as the key
    /// secret (so reruns give the same person keys).
    pub fn recon(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run recon");
        Run::from(output)
    }

    /// Runs `recon` with one more environment variable.
    pub fn recon_env(&self, args: &[&str], (key, value): (&str, &str)) -> Run {
        let output = self
            .command(args)
            .env(key, value)
            .output()
            .expect("run recon");
        Run::from(output)
    }

    /// Runs `recon` with no key secret in its environment.
    pub fn recon_without_secret(&self, args: &[&str]) -> Run {
        let output = self
            .command(args)
            .env_remove(recon::keys::SECRET_VARIABLE)
            .output()
            .expect("run recon");
        Run::from(output)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_recon"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("RUST_BACKTRACE")
            .env(recon::keys::SECRET_VARIABLE, TEST_SECRET);
        command
    }

    /// `recon run --as-of 2020-06-30 --out out ARGS…`, asserting success.
    pub fn run_ok(&self, args: &[&str]) -> Run {
        let mut all = vec!["run", "--as-of", "2020-06-30", "--out", "out"];
        all.extend_from_slice(args);
        let run = self.recon(&all);
        assert_eq!(
            run.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        run
    }

    /// The (rule, file, row) of every gap in out/gaps.csv, sorted.
    pub fn gaps(&self) -> Vec<(String, String, u32)> {
        let mut reader = csv::Reader::from_path(self.path("out/gaps.csv")).unwrap();
        let mut gaps: Vec<(String, String, u32)> = reader
            .records()
            .map(|r| r.unwrap())
            .map(|r| (r[0].to_string(), r[4].to_string(), r[5].parse().unwrap()))
            .collect();
        gaps.sort();
        gaps
    }

    /// Rows of an output CSV as maps from header to value.
    pub fn csv_rows(&self, relative: &str) -> Vec<std::collections::BTreeMap<String, String>> {
        let mut reader = csv::Reader::from_path(self.path(relative)).unwrap();
        let headers = reader.headers().unwrap().clone();
        reader
            .records()
            .map(|r| {
                headers
                    .iter()
                    .zip(r.unwrap().iter())
                    .map(|(h, v)| (h.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }
}

/// An expected gap list (columns `rule_id`, `source_file`, `source_row` among others), sorted.
pub fn expected_gaps(relative: &str) -> Vec<(String, String, u32)> {
    let mut reader = csv::Reader::from_path(repo_path(relative)).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (rule, file, row) = (
        column("rule_id"),
        column("source_file"),
        column("source_row"),
    );
    let mut gaps: Vec<_> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| {
            (
                r[rule].to_string(),
                r[file].to_string(),
                r[row].parse().unwrap(),
            )
        })
        .collect();
    gaps.sort();
    gaps
}

fn csv_text(rows: &[Vec<&str>]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(row).unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

/// Registry header used by small tests.
pub const DPF_HEADER: [&str; 8] = [
    "姓名",
    "身份证号",
    "残疾类别",
    "残疾等级",
    "所属区县",
    "是否建档立卡",
    "致贫原因",
    "证件状态",
];
pub const INSURANCE_HEADER: [&str; 5] = ["姓名", "证件号码", "参保年度", "参保状态", "资助类别"];
pub const CIVIL_HEADER: [&str; 7] = [
    "姓名",
    "身份证号码",
    "区县",
    "救助类别",
    "起始日期",
    "终止日期",
    "状态",
];
