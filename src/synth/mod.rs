//! `recon synth`: a synthetic province whose truth is known. Households are generated one at
//! a time from their own random streams (the same world for a seed, whatever the thread count
//! or noise level), written to department exports as they come (bounded memory), with the true
//! person and the noise of every data row, and the gaps a correct run must report, computed by
//! `expected.rs` on the clean world. Nothing here is used by the job itself.

mod expected;
mod layout;
mod noise;
mod programs;
mod tables;
mod world;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

use layout::{DeathStyle, Styles};
pub use noise::NoiseLevel;
use noise::{IdCell, Noisy};
use tables::{Exports, Truth, Value};
use world::{Geography, Household, InsuranceRecord, CATEGORIES, GRADES};

use crate::model::region::Regions;

pub struct SynthOptions {
    /// Registry persons a province.
    pub persons: u64,
    /// Provinces: one is a province's world in `data/`; more are a nation, a folder of
    /// exports a province in `data/`, with families that moved between them.
    pub provinces: usize,
    /// The province's code (in a nation, the first's; `province_code`).
    pub first_province: String,
    pub seed: u64,
    pub noise: NoiseLevel,
    pub as_of: NaiveDate,
    pub out: PathBuf,
    /// Headers, layouts, identifiers and death records varied per seed (`layout.rs`).
    pub variety: bool,
}

/// What was written, for the terminal.
#[derive(Debug, Default)]
pub struct SynthSummary {
    pub households: u64,
    pub persons: u64,
    pub rows: u64,
    pub expected_gaps: u64,
}

/// Writes the world of `options` into `options.out/data` and `options.out/truth`.
/// Why a world could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{path}: {problem}")]
    Io {
        path: String,
        problem: std::io::Error,
    },
    #[error("workbook: {0}")]
    Workbook(#[from] rust_xlsxwriter::XlsxError),
}

impl SynthError {
    fn io(path: &Path, problem: std::io::Error) -> SynthError {
        SynthError::Io {
            path: path.display().to_string(),
            problem,
        }
    }
}

pub fn generate(options: &SynthOptions) -> Result<SynthSummary, SynthError> {
    let (data, truth) = (options.out.join("data"), options.out.join("truth"));
    for dir in [&data, &truth] {
        std::fs::create_dir_all(dir).map_err(|e| SynthError::io(dir, e))?;
    }
    let regions = Regions::bundled();
    let styles = match options.variety {
        true => Styles::varied(options.seed, options.as_of.year()),
        false => Styles::plain(),
    };
    let provinces = provinces(regions, options.provinces, &options.first_province);
    let mut nation = Nation {
        provinces: Vec::new(),
        truth: Truth::open(&truth)?,
    };
    for (code, name) in &provinces {
        let exports = match provinces.len() {
            1 => Exports::open(&data, "", options.as_of, &styles)?,
            _ => {
                let dir = data.join(format!("{code}_{name}"));
                std::fs::create_dir_all(&dir).map_err(|e| SynthError::io(&dir, e))?;
                Exports::open(&dir, &format!("{name}_"), options.as_of, &styles)?
            }
        };
        nation.provinces.push((code.clone(), exports));
    }
    let mut summary = SynthSummary::default();
    let mut ids = world::IdBook::default();
    for (p, (code, _)) in provinces.iter().enumerate() {
        let mut geo = Geography::new(counties_of(regions, code), options.as_of);
        geo.elsewhere = (provinces.iter())
            .filter(|(other, _)| other != code)
            .flat_map(|(other, _)| regions.province_counties(other))
            .map(|c| c.code.clone())
            .collect();
        for i in 0..options.persons {
            let index = p as u64 * options.persons + i;
            let household = world::household(&geo, &mut ids, options.seed, index);
            write_household(
                &mut nation,
                &household,
                index,
                (options, &styles),
                regions,
                &mut summary,
            )?;
        }
    }
    let Nation {
        provinces,
        mut truth,
    } = nation;
    for (_, exports) in provinces {
        exports.finish(&mut truth)?;
    }
    truth.finish()?;
    Ok(summary)
}

/// The first `count` provinces of a world (code, name): `first` (a code), then in code order.
fn provinces(regions: &Regions, count: usize, first: &str) -> Vec<(String, String)> {
    let mut provinces = every_province(regions);
    provinces.sort_by_key(|(code, _)| (code != first, code.clone()));
    provinces.truncate(count.max(1));
    provinces
}

/// Every province of the reference data, as (code, name).
fn every_province(regions: &Regions) -> Vec<(String, String)> {
    let mut provinces: Vec<(String, String)> = Vec::new();
    for county in regions.province_counties("") {
        let code = &county.code[..2];
        if !provinces.iter().any(|(c, _)| c == code) {
            let name = county.context.last().cloned().unwrap_or_default();
            provinces.push((code.to_string(), name));
        }
    }
    provinces
}

/// The code of the province `province` names: its two-digit code or its name (`None` for
/// neither).
pub fn province_code(province: &str) -> Option<String> {
    let province = province.trim();
    every_province(Regions::bundled())
        .into_iter()
        .find(|(code, name)| code == province || name == province)
        .map(|(code, _)| code)
}

/// A province's counties, each with the older codes its IDs may carry.
fn counties_of(regions: &Regions, province: &str) -> Vec<(String, Vec<String>)> {
    regions
        .province_counties(province)
        .iter()
        .map(|c| {
            let legacy = regions.legacy_codes_of(&c.code);
            (
                c.code.clone(),
                legacy.into_iter().map(String::from).collect(),
            )
        })
        .collect()
}

/// Every province's exports, and the world's truth.
struct Nation {
    provinces: Vec<(String, Exports)>,
    truth: Truth,
}

impl Nation {
    /// The exports of `county`'s province.
    fn at(&mut self, county: &str) -> &mut Exports {
        let at = (self.provinces.iter())
            .position(|(code, _)| county.starts_with(code.as_str()))
            .unwrap_or(0);
        &mut self.provinces[at].1
    }
}

fn date(d: Option<NaiveDate>, format: &str) -> String {
    d.map_or(String::new(), |d| d.format(format).to_string())
}

/// Where each record of the household landed: (table, row).
#[derive(Default)]
struct Placed {
    dpf: Vec<(String, u32)>,
    civil: Vec<(String, u32)>,
    poverty: Vec<(String, u32)>,
}

/// One household on its way into the exports: where its records land, and their truth.
struct Writing<'a> {
    h: &'a Household,
    index: u64,
    options: &'a SynthOptions,
    styles: &'a Styles,
    regions: &'a Regions,
    placed: Placed,
    truth_rows: Vec<(String, u32, usize, String)>,
}

/// A row on its way out: its values by field.
type Row = Vec<(&'static str, Value)>;

fn text(value: impl Into<String>) -> Value {
    Value::Text(value.into())
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

    /// The county where person `p`'s records of a kind are held: away, for a family member
    /// of a family that moved and whose records of that kind (`moved`) moved with it.
    fn held_in(&self, p: usize, moved: impl Fn(&world::Away) -> bool) -> &str {
        let h = self.h;
        match &h.away {
            Some(away) if p < h.family && moved(away) => &away.county,
            _ => &h.people[p].county,
        }
    }

    fn county_name(&self, code: &str) -> String {
        self.regions
            .by_code(code)
            .map_or(code.to_string(), |c| c.name.clone())
    }

    /// The county of a row, as a name and as a code: the layout writes the one it has.
    fn county(&self, code: &str) -> [(&'static str, Value); 2] {
        [
            ("county", text(self.county_name(code))),
            ("county_code", text(code)),
        ]
    }

    /// `value` of `field` in the words of this world's `source`.
    fn say(&self, source: &str, field: &str, value: &'static str) -> Value {
        Value::Text(self.styles.words.say(source, field, value))
    }

    /// Another member of the household (or the person, alone), for the columns that hold
    /// someone else: 监护人姓名, 开户人身份证号.
    fn another_member(&self, p: usize) -> [(&'static str, Value); 2] {
        let other = match (p < self.h.family, self.h.family > 1) {
            (true, true) => &self.h.people[(p + 1) % self.h.family],
            _ => &self.h.people[p],
        };
        [
            (tables::OTHER_NAME, text(&other.name)),
            (tables::OTHER_ID, text(&other.id)),
        ]
    }

    /// A person's certificate number, when the registry holds them.
    fn certificate(&self, p: usize) -> String {
        self.h
            .dpf
            .iter()
            .find(|d| d.person == p)
            .map_or(String::new(), |d| {
                format!("{}{}{}", self.h.people[p].id, d.category + 1, d.grade + 1)
            })
    }

    /// The registry's rows.
    fn dpf(&mut self, ex: &mut Nation) -> Result<(), SynthError> {
        for (i, d) in self.h.dpf.iter().enumerate() {
            let person = &self.h.people[d.person];
            let mut n = self.noisy(10, i);
            let id = n.id(&person.id, self.relative(d.person), false);
            let name = n.name(&person.name);
            let sex = sex_of(person);
            let death = d.cancel_reason == "死亡";
            let (status, reason) = match (death, self.styles.dpf_death) {
                (true, DeathStyle::StatusWord(word)) => (word, ""),
                _ => (d.status, d.cancel_reason),
            };
            let mut row: Row = vec![
                ("name", text(name)),
                ("sex", text(sex)),
                ("id_number", id.into()),
                ("certificate_number", text(self.certificate(d.person))),
                (
                    "disability_category",
                    self.say("dpf", "disability_category", CATEGORIES[d.category]),
                ),
                (
                    "disability_grade",
                    self.say("dpf", "disability_grade", GRADES[d.grade]),
                ),
                (
                    "is_poor",
                    self.say("dpf", "is_poor", if d.poor { "是" } else { "否" }),
                ),
                ("poverty_cause", text(d.cause)),
                ("certificate_status", text(status)),
                ("cancel_reason", text(reason)),
                ("cancel_date", Value::Date(d.cancel_date)),
                ("household_head_id", text(&self.h.people[0].id)),
                ("relation", text(relation_to_head(d.person))),
            ];
            row.extend(self.county(&person.county));
            row.extend(self.another_member(d.person));
            let placed = ex
                .at(&person.county)
                .dpf(&person.county)?
                .write(&row, &mut n)?;
            self.placed.dpf.push(placed.clone());
            self.truth_rows
                .push((placed.0, placed.1, d.person, n.tags.join(";")));
        }
        Ok(())
    }

    /// Civil-affairs rows: subsidies in their own table, the other programs in one.
    fn civil(&mut self, ex: &mut Nation) -> Result<(), SynthError> {
        for (i, r) in self.h.civil.iter().enumerate() {
            let person = &self.h.people[r.person];
            let mut n = self.noisy(11, i);
            let id = n.id(&person.id, self.relative(r.person), false);
            let name = n.name(&person.name);
            let death = r.stop_reason == "死亡";
            let (status, reason) = match (death, self.styles.civil_death) {
                (true, DeathStyle::StatusWord(word)) => (word, ""),
                _ => (r.status, r.stop_reason),
            };
            let relation = match r.head == r.person {
                true => "本人",
                false => relation_to_head(r.person),
            };
            let mut row: Row = vec![
                ("name", text(name)),
                ("id_number", id.into()),
                ("certificate_number", text(self.certificate(r.person))),
                ("program", text(r.program)),
                ("household_head_id", text(&self.h.people[r.head].id)),
                ("relation", text(relation)),
                ("start_date", Value::Date(Some(r.start))),
                ("end_date", Value::Date(r.end)),
                ("status", self.say("civil", "status", status)),
                ("stop_reason", text(reason)),
            ];
            row.extend(self.county(&r.county));
            row.extend(self.another_member(r.person));
            let table = match r.program {
                "困难残疾人生活补贴" | "重度残疾人护理补贴" => {
                    ex.at(&r.county).subsidies(r.program)
                }
                _ => &mut ex.at(&r.county).civil,
            };
            let placed = table.write(&row, &mut n)?;
            self.placed.civil.push(placed.clone());
            self.truth_rows
                .push((placed.0, placed.1, r.person, n.tags.join(";")));
        }
        Ok(())
    }

    /// Enrollments, one table per year. In a varied world the current year's export is a
    /// social-insurance one: it lists some people's pension enrollment too, rows no truth
    /// holds (the job sets them aside; read as 医保 they would hide a MED-01 gap).
    fn insurance(&mut self, ex: &mut Nation) -> Result<(), SynthError> {
        let h = self.h;
        for (i, r) in h.insurance.iter().enumerate() {
            let noisy = self.noisy(12, i);
            self.insurance_row(ex, r, "城乡居民基本医疗保险", noisy)?;
        }
        for p in 0..h.people.len() {
            let mut noisy = self.noisy(14, p);
            if !noisy.rng.chance(self.styles.pension_rows) {
                continue;
            }
            let pension = InsuranceRecord {
                person: p,
                year: self.options.as_of.year(),
                status: "正常参保",
                end_reason: "",
                end_date: None,
                subsidy: "",
            };
            self.insurance_row(ex, &pension, "城乡居民基本养老保险", noisy)?;
        }
        Ok(())
    }

    /// One enrollment of `scheme`; a medical one goes into the truth.
    fn insurance_row(
        &mut self,
        ex: &mut Nation,
        r: &InsuranceRecord,
        scheme: &str,
        mut n: Noisy<'static>,
    ) -> Result<(), SynthError> {
        let person = &self.h.people[r.person];
        let id = n.id(&person.id, self.relative(r.person), false);
        let name = n.name(&person.name);
        let death = r.end_reason == "死亡";
        let (status, reason) = match (death, self.styles.insurance_death) {
            (true, DeathStyle::StatusWord(word)) => (word, ""),
            _ => (r.status, r.end_reason),
        };
        let head = match r.person < self.h.family {
            true => &self.h.people[0].id,
            false => &person.id,
        };
        let mut row: Row = vec![
            ("name", text(name)),
            ("id_number", id.into()),
            ("household_head_id", text(head)),
            ("year", text(r.year.to_string())),
            ("insurance_type", text(scheme)),
            ("status", self.say("insurance", "status", status)),
            ("end_reason", text(reason)),
            ("end_date", Value::Date(r.end_date)),
            ("death_date", Value::Date(r.end_date.filter(|_| death))),
            ("subsidy_type", text(r.subsidy)),
        ];
        let county = self.held_in(r.person, |away| away.insured);
        row.extend(self.county(county));
        row.extend(self.another_member(r.person));
        let exports = ex.at(county);
        let table = match r.year == self.options.as_of.year() {
            true => &mut exports.insurance_now,
            false => &mut exports.insurance_before,
        };
        let placed = table.write(&row, &mut n)?;
        if scheme.contains("医疗") {
            self.truth_rows
                .push((placed.0, placed.1, r.person, n.tags.join(";")));
        }
        Ok(())
    }

    /// The school register (XLSX). A child the school registered without an ID has a blank ID
    /// cell and a `J` number: its region and birth date, then the school's own sequence.
    fn education(&mut self, ex: &mut Nation) -> Result<(), SynthError> {
        for (i, e) in self.h.education.iter().enumerate() {
            let person = &self.h.people[e.person];
            let mut n = self.noisy(13, i);
            let no_id = self.styles.j_numbers > 0.0 && n.rng.chance(self.styles.j_numbers);
            let (id, student) = match no_id {
                true => {
                    n.tags.push("student_j_number");
                    let sequence = n.rng.below(10_000);
                    (
                        IdCell::Text(String::new()),
                        format!("J{}{sequence:04}", &person.id[..14]),
                    )
                }
                false => (
                    n.id(&person.id, self.relative(e.person), true),
                    format!("G{}", person.id),
                ),
            };
            let name = n.name(&person.name);
            let mut row: Row = vec![
                ("name", text(name)),
                ("id_number", id.into()),
                ("student_number", text(student)),
                ("study_mode", text(e.mode)),
                (
                    "student_status",
                    self.say("education", "student_status", e.status),
                ),
                (
                    "aided",
                    self.say("education", "aided", if e.aided { "是" } else { "否" }),
                ),
            ];
            let county = self.held_in(e.person, |away| away.schooled);
            row.extend(self.county(county));
            row.extend(self.another_member(e.person));
            let placed = ex.at(county).education.write(&row, &mut n)?;
            self.truth_rows
                .push((placed.0, placed.1, e.person, n.tags.join(";")));
        }
        Ok(())
    }
}

/// The departments beyond the first four.
impl Writing<'_> {
    /// A row about person `p`: their noisy ID and name, sex and birth date (where the layout
    /// has columns for them), `fields`, their county and another member; its truth kept.
    fn person_row(
        &mut self,
        table: &mut tables::Table,
        (p, mut n, xlsx): (usize, Noisy<'static>, bool),
        fields: Row,
    ) -> Result<(String, u32), SynthError> {
        let person = &self.h.people[p];
        let id = n.id(&person.id, self.relative(p), xlsx);
        let mut row: Row = vec![
            ("name", text(n.name(&person.name))),
            ("id_number", id.into()),
            ("sex", text(sex_of(person))),
            ("birth_date", Value::Date(Some(person.birth))),
        ];
        row.extend(fields);
        row.extend(self.county(&person.county));
        row.extend(self.another_member(p));
        let placed = table.write(&row, &mut n)?;
        self.truth_rows
            .push((placed.0.clone(), placed.1, p, n.tags.join(";")));
        Ok(placed)
    }

    /// 防返贫监测 rows: each living member of a followed family, under the head's ID.
    fn poverty(&mut self, ex: &mut Nation) -> Result<(), SynthError> {
        for (i, r) in self.h.poverty.iter().enumerate() {
            let head = &self.h.people[0];
            let fields = vec![
                (
                    "household_number",
                    text(format!("{}{:08}", head.county, self.index)),
                ),
                ("relation", text(relation_to_head(r.person))),
                ("household_head_id", text(&head.id)),
                ("household_type", text(r.kind)),
                ("health_status", text(r.health)),
                ("housing_grade", text(r.house)),
                ("member_status", text("正常")),
            ];
            let noisy = self.noisy(15, i);
            let table = &mut ex.at(&self.h.people[r.person].county).poverty;
            let placed = self.person_row(table, (r.person, noisy, false), fields)?;
            self.placed.poverty.push(placed);
        }
        Ok(())
    }

    /// The family's 危房改造 record, listed under its head (XLSX).
    fn housing(&mut self, ex: &mut Nation) -> Result<(), SynthError> {
        let kind = match self.h.dpf.iter().any(|d| d.poor) {
            true => "贫困残疾人家庭",
            false => "低保户",
        };
        for (i, r) in self.h.housing.iter().enumerate() {
            let fields = vec![
                ("household_type", text(kind)),
                ("danger_grade", text(r.grade)),
                ("renovation_year", text(r.year.to_string())),
                ("renovation_status", text(r.status)),
            ];
            let noisy = self.noisy(16, i);
            let table = &mut ex.at(&self.h.people[0].county).housing;
            self.person_row(table, (0, noisy, true), fields)?;
        }
        Ok(())
    }

    /// Pension enrollments (GBK).
    fn pension(&mut self, ex: &mut Nation) -> Result<(), SynthError> {
        for (i, r) in self.h.pension.iter().enumerate() {
            let fields = vec![
                ("pension_type", text(r.scheme)),
                ("status", text(r.status)),
                ("paid_by_government", text(r.paid_by_government)),
            ];
            let noisy = self.noisy(17, i);
            let table = &mut ex.at(&self.h.people[r.person].county).pension;
            self.person_row(table, (r.person, noisy, false), fields)?;
        }
        Ok(())
    }

    /// Family-doctor contracts (XLSX).
    fn health(&mut self, ex: &mut Nation) -> Result<(), SynthError> {
        for (i, r) in self.h.health.iter().enumerate() {
            let fields = vec![
                ("sign_status", text(r.status)),
                ("sign_date", Value::Date(Some(r.start))),
                ("sign_end_date", Value::Date(Some(r.end))),
                ("team", text("家庭医生团队")),
            ];
            let noisy = self.noisy(18, i);
            let table = &mut ex.at(&self.h.people[r.person].county).health;
            self.person_row(table, (r.person, noisy, true), fields)?;
        }
        Ok(())
    }
}

fn write_household(
    ex: &mut Nation,
    h: &Household,
    index: u64,
    (options, styles): (&SynthOptions, &Styles),
    regions: &Regions,
    summary: &mut SynthSummary,
) -> Result<(), SynthError> {
    let mut writing = Writing {
        h,
        index,
        options,
        styles,
        regions,
        placed: Placed::default(),
        truth_rows: Vec::new(),
    };
    writing.dpf(ex)?;
    writing.civil(ex)?;
    writing.insurance(ex)?;
    writing.education(ex)?;
    writing.poverty(ex)?;
    writing.housing(ex)?;
    writing.pension(ex)?;
    writing.health(ex)?;
    write_truth(
        ex,
        h,
        &writing.placed,
        &writing.truth_rows,
        options.as_of,
        summary,
    )
}

fn write_truth(
    ex: &mut Nation,
    h: &Household,
    placed: &Placed,
    rows: &[(String, u32, usize, String)],
    as_of: NaiveDate,
    summary: &mut SynthSummary,
) -> Result<(), SynthError> {
    let io = |e: std::io::Error| SynthError::io(Path::new("truth"), e);
    for (file, row, person, noise) in rows {
        writeln!(
            ex.truth.records,
            "{file},{row},{},{noise}",
            h.people[*person].key
        )
        .map_err(io)?;
    }
    for p in &h.people {
        let death = date(p.death, "%Y-%m-%d");
        writeln!(
            ex.truth.persons,
            "{},{},{},{},{},{death}",
            p.key, p.name, p.id, p.birth, p.county
        )
        .map_err(io)?;
    }
    for (rule, subject) in expected::gaps(h, as_of) {
        let ((file, row), person, county) = match subject {
            expected::Subject::Dpf(i) => (
                &placed.dpf[i],
                h.dpf[i].person,
                &h.people[h.dpf[i].person].county,
            ),
            expected::Subject::Civil(i) => {
                (&placed.civil[i], h.civil[i].person, &h.civil[i].county)
            }
            expected::Subject::Poverty(i) => {
                let person = h.poverty[i].person;
                (&placed.poverty[i], person, &h.people[person].county)
            }
        };
        writeln!(
            ex.truth.expected,
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

/// The sex the ID's sequence says.
fn sex_of(person: &world::Person) -> &'static str {
    match person.id.as_bytes()[16] % 2 {
        1 => "男",
        _ => "女",
    }
}

/// A family member's relation to the household's head, person 0.
fn relation_to_head(person: usize) -> &'static str {
    match person {
        0 => "本人",
        _ => "家庭成员",
    }
}
