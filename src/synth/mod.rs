//! `recon synth`: a synthetic province whose truth is known. Households are generated one at
//! a time from their own random streams (the same world for a seed, whatever the thread count
//! or noise level), written to department exports as they come (bounded memory), with the true
//! person and the noise of every data row, and the gaps a correct run must report, computed by
//! `expected.rs` on the clean world. Nothing here is used by the job itself.

mod expected;
mod noise;
mod programs;
mod world;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

pub use noise::NoiseLevel;
use noise::{IdCell, Noisy};
use world::{Geography, Household, CATEGORIES, GRADES};

use crate::normalize::region::Regions;

pub struct SynthOptions {
    pub persons: u64,
    pub seed: u64,
    pub noise: NoiseLevel,
    pub as_of: NaiveDate,
    pub out: PathBuf,
}

/// What was written, for the terminal.
#[derive(Debug, Default)]
pub struct SynthSummary {
    pub households: u64,
    pub persons: u64,
    pub rows: u64,
    pub expected_gaps: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8Bom,
    Utf8,
    Gbk,
    Gb18030,
}

/// One CSV export, written as rows come.
struct CsvExport {
    name: &'static str,
    encoding: Encoding,
    file: BufWriter<File>,
    rows: u32,
}

impl CsvExport {
    fn create(
        dir: &Path,
        name: &'static str,
        encoding: Encoding,
        header: &[&str],
    ) -> Result<CsvExport, String> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut export = CsvExport {
            name,
            encoding,
            file: BufWriter::new(file),
            rows: 0,
        };
        if encoding == Encoding::Utf8Bom {
            export.write_bytes(b"\xEF\xBB\xBF")?;
        }
        export.write_line(header)?;
        export.rows = 0;
        Ok(export)
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.file
            .write_all(bytes)
            .map_err(|e| format!("{}: {e}", self.name))
    }

    /// Writes a row; returns its 1-based data row number.
    fn write_line(&mut self, cells: &[&str]) -> Result<u32, String> {
        let mut line = cells.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",");
        line.push_str("\r\n");
        let bytes = match self.encoding {
            Encoding::Utf8 | Encoding::Utf8Bom => line.into_bytes(),
            Encoding::Gbk => encode_lossy(encoding_rs::GBK, &line),
            Encoding::Gb18030 => encoding_rs::GB18030.encode(&line).0.into_owned(),
        };
        self.write_bytes(&bytes)?;
        self.rows += 1;
        Ok(self.rows)
    }
}

fn quote(cell: &str) -> String {
    match cell.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", cell.replace('"', "\"\"")),
        false => cell.to_string(),
    }
}

/// GBK cannot hold every character: an export writes `?` for those, as real ones do.
fn encode_lossy(encoding: &'static encoding_rs::Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    if !unmappable {
        return bytes.into_owned();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut buffer = [0; 4];
    for c in text.chars() {
        let (bytes, _, unmappable) = encoding.encode(c.encode_utf8(&mut buffer));
        out.extend_from_slice(if unmappable { b"?" } else { &bytes });
    }
    out
}

struct Exports {
    dpf: CsvExport,
    civil: CsvExport,
    subsidies: CsvExport,
    insurance_now: CsvExport,
    insurance_before: CsvExport,
    education: EducationBook,
    records: BufWriter<File>,
    persons: BufWriter<File>,
    expected: BufWriter<File>,
}

fn truth_file(dir: &Path, name: &str, header: &str) -> Result<BufWriter<File>, String> {
    let path = dir.join(name);
    let mut file =
        BufWriter::new(File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?);
    writeln!(file, "{header}").map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(file)
}

/// Writes the world of `options` into `options.out/data` and `options.out/truth`.
pub fn generate(options: &SynthOptions) -> Result<SynthSummary, String> {
    let (data, truth) = (options.out.join("data"), options.out.join("truth"));
    for dir in [&data, &truth] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let regions = Regions::bundled();
    let counties: Vec<(String, Vec<String>)> = regions
        .province_counties("42")
        .iter()
        .map(|c| {
            (
                c.code.clone(),
                regions
                    .legacy_codes_of(&c.code)
                    .into_iter()
                    .map(String::from)
                    .collect(),
            )
        })
        .collect();
    let geo = Geography::new(counties, options.as_of);
    let mut exports = open_exports(&data, &truth, options.as_of)?;
    let mut summary = SynthSummary::default();
    let mut ids = world::IdBook::default();
    for index in 0..options.persons {
        let household = world::household(&geo, &mut ids, options.seed, index);
        write_household(
            &mut exports,
            &household,
            index,
            options,
            regions,
            &mut summary,
        )?;
    }
    finish(exports)?;
    Ok(summary)
}

/// The school register, as XLSX files of at most `ROWS_PER_BOOK` rows (Excel holds 1,048,576),
/// numbered `教育_学籍_01.xlsx`, `_02`…, written in constant memory.
struct EducationBook {
    dir: PathBuf,
    as_of: NaiveDate,
    number: u32,
    book: rust_xlsxwriter::Workbook,
    rows: u32,
}

const ROWS_PER_BOOK: u32 = 1_000_000;

impl EducationBook {
    fn open(dir: &Path, as_of: NaiveDate, number: u32) -> Result<EducationBook, String> {
        let mut book = rust_xlsxwriter::Workbook::new();
        // Dated by the world's as-of date, so a seed always gives the same bytes.
        let created = rust_xlsxwriter::ExcelDateTime::from_ymd(
            as_of.year() as u16,
            as_of.month() as u8,
            as_of.day() as u8,
        )
        .map_err(|e| e.to_string())?;
        book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
        let sheet = book
            .add_worksheet_with_constant_memory()
            .map_err(|e| e.to_string())?;
        sheet.set_name("学籍").map_err(|e| e.to_string())?;
        for (c, h) in [
            "学生姓名",
            "身份证件号",
            "全国学籍号",
            "就读方式",
            "学籍状态",
            "是否享受资助",
            "所在区县",
        ]
        .iter()
        .enumerate()
        {
            sheet
                .write_string(0, c as u16, *h)
                .map_err(|e| e.to_string())?;
        }
        Ok(EducationBook {
            dir: dir.to_path_buf(),
            as_of,
            number,
            book,
            rows: 0,
        })
    }

    fn name(&self) -> String {
        format!("教育_学籍_{:02}.xlsx", self.number)
    }

    fn save(&mut self) -> Result<(), String> {
        let path = self.dir.join(self.name());
        self.book
            .save(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The sheet to write the next row into, and that row's number (starting a new file when
    /// this one is full).
    fn next_row(&mut self) -> Result<(&mut rust_xlsxwriter::Worksheet, u32), String> {
        if self.rows == ROWS_PER_BOOK {
            self.save()?;
            *self = EducationBook::open(&self.dir.clone(), self.as_of, self.number + 1)?;
        }
        self.rows += 1;
        let sheet = self
            .book
            .worksheet_from_index(0)
            .map_err(|e| e.to_string())?;
        Ok((sheet, self.rows))
    }
}

fn open_exports(data: &Path, truth: &Path, as_of: NaiveDate) -> Result<Exports, String> {
    use Encoding::*;
    let education = EducationBook::open(data, as_of, 1)?;
    Ok(Exports {
        dpf: CsvExport::create(
            data,
            "残联_持证残疾人.csv",
            Utf8Bom,
            &[
                "姓名",
                "性别",
                "公民身份号码",
                "残疾人证号",
                "残疾类别",
                "残疾等级",
                "所属区县",
                "是否建档立卡",
                "致贫原因",
                "证件状态",
                "注销原因",
                "注销日期",
            ],
        )?,
        civil: CsvExport::create(
            data,
            "民政_救助对象.csv",
            Gbk,
            &[
                "救助对象姓名",
                "身份证号码",
                "行政区划代码",
                "救助类别",
                "户主身份证号",
                "与户主关系",
                "审批日期",
                "终止日期",
                "状态",
                "停发原因",
            ],
        )?,
        subsidies: CsvExport::create(
            data,
            "民政_两项补贴.csv",
            Gb18030,
            &[
                "补贴对象姓名",
                "身份证号",
                "区县",
                "补贴类别",
                "起始日期",
                "终止日期",
                "发放状态",
                "停发原因",
            ],
        )?,
        insurance_now: CsvExport::create(
            data,
            "医保_参保登记_本年度.csv",
            Utf8,
            &[
                "姓名",
                "证件号码",
                "参保年度",
                "险种",
                "参保状态",
                "终止原因",
                "终止日期",
                "资助类别",
                "参保地",
            ],
        )?,
        insurance_before: CsvExport::create(
            data,
            "医保_参保登记_上年度.csv",
            Utf8,
            &[
                "参保人姓名",
                "公民身份号码",
                "参保年份",
                "险种类型",
                "参保状态",
                "终止原因",
                "终止时间",
                "资助参保类型",
                "参保地代码",
            ],
        )?,
        education,
        records: truth_file(
            truth,
            "records.csv",
            "source_file,source_row,person_key,noise",
        )?,
        persons: truth_file(
            truth,
            "persons.csv",
            "person_key,name,id_number,birth_date,county_code,death_date",
        )?,
        expected: truth_file(
            truth,
            "expected_gaps.csv",
            "rule_id,county_code,source_file,source_row,person_key",
        )?,
    })
}

fn finish(mut exports: Exports) -> Result<(), String> {
    for export in [
        &mut exports.dpf,
        &mut exports.civil,
        &mut exports.subsidies,
        &mut exports.insurance_now,
        &mut exports.insurance_before,
    ] {
        export
            .file
            .flush()
            .map_err(|e| format!("{}: {e}", export.name))?;
    }
    for file in [
        &mut exports.records,
        &mut exports.persons,
        &mut exports.expected,
    ] {
        file.flush().map_err(|e| e.to_string())?;
    }
    exports.education.save()
}

fn date(d: Option<NaiveDate>, format: &str) -> String {
    d.map_or(String::new(), |d| d.format(format).to_string())
}

/// Where each record of the household landed: (file, row).
#[derive(Default)]
struct Placed {
    dpf: Vec<(&'static str, u32)>,
    civil: Vec<(&'static str, u32)>,
}

/// One household on its way into the exports: where its records land, and their truth.
struct Writing<'a> {
    h: &'a Household,
    index: u64,
    options: &'a SynthOptions,
    regions: &'a Regions,
    placed: Placed,
    truth_rows: Vec<(String, u32, usize, String)>,
}

impl Writing<'_> {
    fn noisy(&self, stream: u64, i: usize) -> Noisy<'static> {
        let rng = crate::rng::Rng::for_item(self.options.seed, stream, self.index * 256 + i as u64);
        Noisy {
            rng,
            level: self.options.noise,
            tags: Vec::new(),
        }
    }

    /// Another member of the family, whose ID may end up in this person's row.
    fn relative(&self, p: usize) -> Option<&str> {
        let h = self.h;
        (p < h.family && h.family > 1).then(|| h.people[(p + 1) % h.family].id.as_str())
    }

    fn county_name(&self, code: &str) -> String {
        self.regions
            .by_code(code)
            .map_or(code.to_string(), |c| c.name.clone())
    }

    /// The registry's rows.
    fn dpf(&mut self, ex: &mut Exports) -> Result<(), String> {
        for (i, d) in self.h.dpf.iter().enumerate() {
            let person = &self.h.people[d.person];
            let mut n = self.noisy(10, i);
            let id = text_id(n.id(&person.id, self.relative(d.person), false));
            let name = n.name(&person.name);
            let sex = if person.id.as_bytes()[16] % 2 == 1 {
                "男"
            } else {
                "女"
            };
            let certificate = format!("{}{}{}", person.id, d.category + 1, d.grade + 1);
            let row = ex.dpf.write_line(&[
                &name,
                sex,
                &id,
                &certificate,
                CATEGORIES[d.category],
                GRADES[d.grade],
                &self.county_name(&person.county),
                if d.poor { "是" } else { "否" },
                d.cause,
                d.status,
                d.cancel_reason,
                &n.date(d.cancel_date, "%Y/%-m/%-d"),
            ])?;
            self.placed.dpf.push((ex.dpf.name, row));
            self.truth_rows
                .push((ex.dpf.name.to_string(), row, d.person, n.tags.join(";")));
        }
        Ok(())
    }

    /// Civil-affairs rows: subsidies in their own file, the other programs in one.
    fn civil(&mut self, ex: &mut Exports) -> Result<(), String> {
        for (i, r) in self.h.civil.iter().enumerate() {
            let person = &self.h.people[r.person];
            let mut n = self.noisy(11, i);
            let id = text_id(n.id(&person.id, self.relative(r.person), false));
            let name = n.name(&person.name);
            let subsidy = r.program.ends_with("补贴");
            if !subsidy && encoding_rs::GBK.encode(&name).2 {
                n.tags.push("name_rare_lost");
            }
            let (end, start) = (r.end, Some(r.start));
            let row = if subsidy {
                let cells = [
                    name.as_str(),
                    &id,
                    &self.county_name(&r.county),
                    r.program,
                    &n.date(start, "%Y年%-m月%-d日"),
                    &n.date(end, "%Y年%-m月%-d日"),
                    r.status,
                    r.stop_reason,
                ];
                (ex.subsidies.name, ex.subsidies.write_line(&cells)?)
            } else {
                let head = &self.h.people[r.head].id;
                let relation = if r.head == r.person {
                    "本人"
                } else {
                    "家庭成员"
                };
                let cells = [
                    name.as_str(),
                    &id,
                    &r.county,
                    r.program,
                    head,
                    relation,
                    &n.date(start, "%Y%m%d"),
                    &n.date(end, "%Y-%m-%d"),
                    r.status,
                    r.stop_reason,
                ];
                (ex.civil.name, ex.civil.write_line(&cells)?)
            };
            self.placed.civil.push(row);
            self.truth_rows
                .push((row.0.to_string(), row.1, r.person, n.tags.join(";")));
        }
        Ok(())
    }

    /// Enrollments, one file per year.
    fn insurance(&mut self, ex: &mut Exports) -> Result<(), String> {
        for (i, r) in self.h.insurance.iter().enumerate() {
            let person = &self.h.people[r.person];
            let mut n = self.noisy(12, i);
            let id = text_id(n.id(&person.id, self.relative(r.person), false));
            let name = n.name(&person.name);
            let export = if r.year == self.options.as_of.year() {
                &mut ex.insurance_now
            } else {
                &mut ex.insurance_before
            };
            let row = export.write_line(&[
                &name,
                &id,
                &r.year.to_string(),
                "城乡居民基本医疗保险",
                r.status,
                r.end_reason,
                &n.date(r.end_date, "%Y-%m-%d"),
                r.subsidy,
                &person.county,
            ])?;
            self.truth_rows
                .push((export.name.to_string(), row, r.person, n.tags.join(";")));
        }
        Ok(())
    }

    /// The school register (XLSX).
    fn education(&mut self, ex: &mut Exports) -> Result<(), String> {
        for (i, e) in self.h.education.iter().enumerate() {
            let person = &self.h.people[e.person];
            let mut n = self.noisy(13, i);
            let id_cell = n.id(&person.id, self.relative(e.person), true);
            let name = n.name(&person.name);
            let (sheet, row) = ex.education.next_row()?;
            let cells = [
                name.as_str(),
                "",
                &format!("G{}", person.id),
                e.mode,
                e.status,
                if e.aided { "是" } else { "否" },
                &self.county_name(&person.county),
            ];
            for (c, cell) in cells.iter().enumerate().filter(|(c, _)| *c != 1) {
                sheet
                    .write_string(row, c as u16, *cell)
                    .map_err(|e| e.to_string())?;
            }
            match id_cell {
                IdCell::Text(text) => sheet.write_string(row, 1, &text),
                IdCell::Number(number) => sheet.write_number(row, 1, number),
            }
            .map_err(|e| e.to_string())?;
            self.truth_rows
                .push((ex.education.name(), row, e.person, n.tags.join(";")));
        }
        Ok(())
    }
}

fn write_household(
    ex: &mut Exports,
    h: &Household,
    index: u64,
    options: &SynthOptions,
    regions: &Regions,
    summary: &mut SynthSummary,
) -> Result<(), String> {
    let mut writing = Writing {
        h,
        index,
        options,
        regions,
        placed: Placed::default(),
        truth_rows: Vec::new(),
    };
    writing.dpf(ex)?;
    writing.civil(ex)?;
    writing.insurance(ex)?;
    writing.education(ex)?;
    write_truth(
        ex,
        h,
        &writing.placed,
        &writing.truth_rows,
        options.as_of,
        summary,
    )
}

fn text_id(cell: IdCell) -> String {
    match cell {
        IdCell::Text(text) => text,
        IdCell::Number(number) => number.to_string(),
    }
}

fn write_truth(
    ex: &mut Exports,
    h: &Household,
    placed: &Placed,
    rows: &[(String, u32, usize, String)],
    as_of: NaiveDate,
    summary: &mut SynthSummary,
) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    for (file, row, person, noise) in rows {
        writeln!(ex.records, "{file},{row},{},{noise}", h.people[*person].key).map_err(io)?;
    }
    for p in &h.people {
        let death = date(p.death, "%Y-%m-%d");
        writeln!(
            ex.persons,
            "{},{},{},{},{},{death}",
            p.key, p.name, p.id, p.birth, p.county
        )
        .map_err(io)?;
    }
    for (rule, subject) in expected::gaps(h, as_of) {
        let ((file, row), person, county) = match subject {
            expected::Subject::Dpf(i) => (
                placed.dpf[i],
                h.dpf[i].person,
                &h.people[h.dpf[i].person].county,
            ),
            expected::Subject::Civil(i) => (placed.civil[i], h.civil[i].person, &h.civil[i].county),
        };
        writeln!(
            ex.expected,
            "{rule},{county},{file},{row},{}",
            h.people[person].key
        )
        .map_err(io)?;
        summary.expected_gaps += 1;
    }
    summary.households += 1;
    summary.persons += h.people.len() as u64;
    summary.rows += rows.len() as u64;
    Ok(())
}
