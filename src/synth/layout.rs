//! How the synthetic exports look: each table's columns (the field each holds and its header),
//! its date format, a title row above the header, and where its rows go (a CSV in an encoding,
//! or a sheet of a workbook). The plain layouts are the same for every seed. With `--variety`
//! they are drawn per seed: header wordings from the header corpus, identifiers where the
//! registry does not put them (a certificate number in the subsidy list, the household head's
//! ID in an insurance export, `J` numbers for children the school registered without an ID),
//! deaths written each department's own way, dates in several shapes, a registry file per
//! county, a workbook of two sheets and title rows.

use crate::rng::Rng;

/// Real-world header wordings, each with its source and the field it holds.
const HEADER_CORPUS: &str = include_str!("../../tests/fixtures/headers/corpus.csv");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8Bom,
    Utf8,
    Gbk,
    Gb18030,
}

/// A column: the field it holds (the config's field names) and its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub field: &'static str,
    pub header: String,
    /// A date column's own format, where it differs from the table's.
    pub date_format: Option<&'static str>,
}

/// One table of an export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub columns: Vec<Column>,
    /// A line above the header (`2020年…花名册`), as exports made for printing have.
    pub title: Option<String>,
    /// How dates are written as text.
    pub date_format: &'static str,
    /// In a workbook: dates as date cells, not text.
    pub date_cells: bool,
}

/// How a department writes a death.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeathStyle {
    /// A stopped status and a reason: 注销 + 死亡, 停发 + 死亡, 终止 + 死亡.
    ReasonBesideStatus,
    /// A status word that says it: 死亡注销, 死亡停发, 死亡.
    StatusWord(&'static str),
    /// The stopped status and reason, and a death-date column.
    DeathDateColumn,
}

/// The words a world's departments write for the values the rules read: each department has
/// its own (在保 or 享受中, 是 or √, 一级 or 1级), all of them words the config knows.
#[derive(Clone, Debug)]
pub struct Words {
    yes_no: [&'static str; 2],
    /// For the civil-affairs statuses 在保 and 正常.
    civil_active: [&'static str; 2],
    insurance_active: &'static str,
    enrolled: &'static str,
    grade: usize,
    category: usize,
}

impl Words {
    fn plain() -> Words {
        Words {
            yes_no: ["是", "否"],
            civil_active: ["在保", "正常"],
            insurance_active: "正常参保",
            enrolled: "在读",
            grade: 0,
            category: 0,
        }
    }

    fn drawn(rng: &mut Rng) -> Words {
        let yes_no = [["是", "否"], ["√", "×"], ["Y", "N"]][rng.below(3) as usize];
        let mut one = |options: &[&'static str]| options[rng.below(options.len() as u64) as usize];
        let civil_active = [
            one(&["在保", "在册", "享受中"]),
            one(&["正常", "正常发放", "有效"]),
        ];
        let insurance_active = one(&["正常参保", "参保缴费", "正常缴费"]);
        let enrolled = one(&["在读", "在校", "在籍"]);
        Words {
            yes_no,
            civil_active,
            insurance_active,
            enrolled,
            grade: rng.below(4) as usize,
            category: rng.below(3) as usize,
        }
    }

    /// How this world writes `value` of `field` in `source`.
    pub fn say(&self, source: &str, field: &str, value: &'static str) -> String {
        const GRADES: [&str; 4] = ["一级", "二级", "三级", "四级"];
        const CATEGORIES: [&str; 7] = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"];
        let word = match (source, field, value) {
            (_, "is_poor" | "aided", "是") => self.yes_no[0],
            (_, "is_poor" | "aided", "否") => self.yes_no[1],
            ("civil", "status", "在保") => self.civil_active[0],
            ("civil", "status", "正常") => self.civil_active[1],
            ("insurance", "status", "正常参保") => self.insurance_active,
            (_, "student_status", "在读") => self.enrolled,
            (_, "disability_grade", _) => {
                let n = GRADES.iter().position(|g| *g == value).unwrap_or(0) + 1;
                return match self.grade {
                    1 => format!("{n}级"),
                    2 => n.to_string(),
                    3 => format!("{value}残疾"),
                    _ => value.to_string(),
                };
            }
            (_, "disability_category", _) => {
                let n = CATEGORIES.iter().position(|c| *c == value).unwrap_or(0) + 1;
                return match self.category {
                    1 => format!("{value}残疾"),
                    2 => n.to_string(),
                    _ => value.to_string(),
                };
            }
            _ => value,
        };
        word.to_string()
    }
}

/// Every table's layout and the department habits of one world.
#[derive(Clone, Debug)]
pub struct Styles {
    pub dpf: Layout,
    /// One registry file per county (`残联_持证残疾人_<code><name>.csv`).
    pub dpf_per_county: bool,
    pub civil: Layout,
    pub subsidies: Layout,
    /// The subsidy list as one CSV, or a workbook with a sheet per subsidy.
    pub subsidies_target: SubsidyTarget,
    pub insurance_now: Layout,
    pub insurance_before: Layout,
    pub education: Layout,
    /// The departments beyond the first four: 防返贫监测, 危房改造, pension, family doctors.
    pub poverty: Layout,
    pub housing: Layout,
    pub pension: Layout,
    pub health: Layout,
    pub dpf_death: DeathStyle,
    pub civil_death: DeathStyle,
    pub insurance_death: DeathStyle,
    /// Share of school rows of a child the school registered without an ID: the ID cell is
    /// blank and the student number is a `J` number.
    pub j_numbers: f64,
    /// Chance that a person has a pension row in the current year's insurance export.
    pub pension_rows: f64,
    pub words: Words,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubsidyTarget {
    Csv(Encoding),
    /// `民政_两项补贴.xlsx` with the sheets 生活补贴 and 护理补贴.
    Workbook,
}

pub const SUBSIDY_BOOK: &str = "民政_两项补贴.xlsx";

fn layout(columns: &[(&'static str, &str)], date_format: &'static str) -> Layout {
    Layout {
        columns: columns
            .iter()
            .map(|(field, header)| column(field, header))
            .collect(),
        title: None,
        date_format,
        date_cells: false,
    }
}

impl Styles {
    /// The exports every world had before variety: fixed headers, one file per department.
    pub fn plain() -> Styles {
        // The civil-affairs export writes its end dates in another shape than its start dates.
        let mut civil_columns = layout(
            &[
                ("name", "救助对象姓名"),
                ("id_number", "身份证号码"),
                ("county_code", "行政区划代码"),
                ("program", "救助类别"),
                ("household_head_id", "户主身份证号"),
                ("relation", "与户主关系"),
                ("start_date", "审批日期"),
                ("end_date", "终止日期"),
                ("status", "状态"),
                ("stop_reason", "停发原因"),
            ],
            "%Y%m%d",
        )
        .columns;
        civil_columns[7].date_format = Some("%Y-%m-%d");
        Styles {
            dpf: layout(
                &[
                    ("name", "姓名"),
                    ("sex", "性别"),
                    ("id_number", "公民身份号码"),
                    ("certificate_number", "残疾人证号"),
                    ("disability_category", "残疾类别"),
                    ("disability_grade", "残疾等级"),
                    ("county", "所属区县"),
                    ("is_poor", "是否建档立卡"),
                    ("poverty_cause", "致贫原因"),
                    ("certificate_status", "证件状态"),
                    ("cancel_reason", "注销原因"),
                    ("cancel_date", "注销日期"),
                    ("household_head_id", "户主身份证号"),
                    ("relation", "与户主关系"),
                ],
                "%Y/%-m/%-d",
            ),
            dpf_per_county: false,
            civil: Layout {
                columns: civil_columns,
                ..layout(&[], "%Y%m%d")
            },
            subsidies: layout(
                &[
                    ("name", "补贴对象姓名"),
                    ("id_number", "身份证号"),
                    ("county", "区县"),
                    ("program", "补贴类别"),
                    ("start_date", "起始日期"),
                    ("end_date", "终止日期"),
                    ("status", "发放状态"),
                    ("stop_reason", "停发原因"),
                ],
                "%Y年%-m月%-d日",
            ),
            subsidies_target: SubsidyTarget::Csv(Encoding::Gb18030),
            insurance_now: layout(
                &[
                    ("name", "姓名"),
                    ("id_number", "证件号码"),
                    ("household_head_id", "户主身份证号码"),
                    ("year", "参保年度"),
                    ("insurance_type", "险种"),
                    ("status", "参保状态"),
                    ("end_reason", "终止原因"),
                    ("end_date", "终止日期"),
                    ("subsidy_type", "资助类别"),
                    ("county_code", "参保地"),
                ],
                "%Y-%m-%d",
            ),
            insurance_before: layout(
                &[
                    ("name", "参保人姓名"),
                    ("id_number", "公民身份号码"),
                    ("year", "参保年份"),
                    ("insurance_type", "险种类型"),
                    ("status", "参保状态"),
                    ("end_reason", "终止原因"),
                    ("end_date", "终止时间"),
                    ("subsidy_type", "资助参保类型"),
                    ("county_code", "参保地代码"),
                ],
                "%Y-%m-%d",
            ),
            education: layout(
                &[
                    ("name", "学生姓名"),
                    ("id_number", "身份证件号"),
                    ("student_number", "全国学籍号"),
                    ("study_mode", "就读方式"),
                    ("student_status", "学籍状态"),
                    ("aided", "是否享受资助"),
                    ("county", "所在区县"),
                ],
                "%Y-%m-%d",
            ),
            poverty: layout(
                &[
                    ("county", "县（市、区）"),
                    ("household_number", "户编号"),
                    ("name", "姓名"),
                    ("id_number", "证件号码"),
                    ("relation", "与户主关系"),
                    ("household_head_id", "户主证件号码"),
                    ("household_type", "户类型"),
                    ("health_status", "健康状况"),
                    ("housing_grade", "住房安全等级"),
                    ("member_status", "人员状态"),
                ],
                "%Y-%m-%d",
            ),
            housing: layout(
                &[
                    ("county", "县（市、区）"),
                    ("name", "户主姓名"),
                    ("id_number", "户主身份证号码"),
                    ("household_type", "农户类型"),
                    ("danger_grade", "危房等级"),
                    ("renovation_year", "改造年度"),
                    ("renovation_status", "验收状态"),
                ],
                "%Y-%m-%d",
            ),
            pension: layout(
                &[
                    ("name", "姓名"),
                    ("sex", "性别"),
                    ("id_number", "公民身份号码"),
                    ("birth_date", "出生日期"),
                    ("pension_type", "险种类型"),
                    ("status", "参保状态"),
                    ("paid_by_government", "代缴类别"),
                    ("county", "行政区划"),
                ],
                "%Y-%m-%d",
            ),
            health: layout(
                &[
                    ("name", "姓名"),
                    ("sex", "性别"),
                    ("birth_date", "出生日期"),
                    ("id_number", "身份证号"),
                    ("sign_status", "签约状态"),
                    ("sign_date", "签约日期"),
                    ("sign_end_date", "到期日期"),
                    ("team", "签约团队"),
                    ("county", "区县"),
                ],
                "%Y-%m-%d",
            ),
            dpf_death: DeathStyle::ReasonBesideStatus,
            civil_death: DeathStyle::ReasonBesideStatus,
            insurance_death: DeathStyle::ReasonBesideStatus,
            j_numbers: 0.0,
            pension_rows: 0.0,
            words: Words::plain(),
        }
    }

    /// The exports of a varied world, drawn from `seed`.
    pub fn varied(seed: u64, as_of_year: i32) -> Styles {
        let mut rng = Rng::for_item(seed, 77, 0);
        let corpus = Corpus::parse();
        let plain = Styles::plain();
        let reworded = |source: &str, layout: &Layout, rng: &mut Rng| {
            let mut layout = corpus.reworded(source, layout, rng);
            layout.columns.extend(corpus.distractors(source, rng));
            for column in &mut layout.columns {
                column.header = decorated(column, rng);
            }
            shuffle(&mut layout.columns, rng);
            layout.date_format = DATE_FORMATS[rng.below(DATE_FORMATS.len() as u64) as usize];
            layout
        };
        let mut dpf = reworded("dpf", &plain.dpf, &mut rng);
        dpf.title = Some(format!("{as_of_year}年持证残疾人名册"));
        let mut civil = reworded("civil", &plain.civil, &mut rng);
        civil.title = Some(format!("{as_of_year}年社会救助对象花名册"));
        let mut subsidies = plain.subsidies.clone();
        subsidies
            .columns
            .insert(2, column("certificate_number", "残疾人证号"));
        let mut subsidies = reworded("civil", &subsidies, &mut rng);
        subsidies.date_cells = true;
        let mut insurance_now = plain.insurance_now.clone();
        let insurance_death = [
            DeathStyle::ReasonBesideStatus,
            DeathStyle::StatusWord("死亡"),
            DeathStyle::DeathDateColumn,
        ][rng.below(3) as usize];
        if insurance_death == DeathStyle::DeathDateColumn {
            insurance_now.columns.push(column("death_date", "死亡日期"));
        }
        let dpf_death = [
            DeathStyle::ReasonBesideStatus,
            DeathStyle::StatusWord(["死亡注销", "已死亡"][rng.below(2) as usize]),
        ][rng.below(2) as usize];
        let civil_death = [
            DeathStyle::ReasonBesideStatus,
            DeathStyle::StatusWord("死亡停发"),
        ][rng.below(2) as usize];
        // The later departments from a stream of their own: the first four look as they did.
        let mut later = Rng::for_item(seed, 78, 0);
        let mut health = reworded("health", &plain.health, &mut later);
        health.date_cells = true;
        // The national 防返贫监测 system's export names households by number, not by head.
        let mut poverty = plain.poverty.clone();
        poverty.columns.retain(|c| c.field != "household_head_id");
        Styles {
            poverty: reworded("poverty", &poverty, &mut later),
            housing: reworded("housing", &plain.housing, &mut later),
            pension: reworded("pension", &plain.pension, &mut later),
            health,
            dpf,
            dpf_per_county: true,
            civil,
            subsidies,
            subsidies_target: SubsidyTarget::Workbook,
            insurance_now: reworded("insurance", &insurance_now, &mut rng),
            insurance_before: reworded("insurance", &plain.insurance_before, &mut rng),
            education: reworded("education", &plain.education, &mut rng),
            dpf_death,
            civil_death,
            insurance_death,
            j_numbers: 0.02,
            pension_rows: 0.03,
            words: Words::drawn(&mut rng),
        }
    }
}

/// Shapes departments write dates in (parsed by recon's date reader).
const DATE_FORMATS: [&str; 5] = [
    "%Y-%m-%d",
    "%Y/%-m/%-d",
    "%Y%m%d",
    "%Y年%-m月%-d日",
    "%Y.%m.%d",
];

fn column(field: &'static str, header: &str) -> Column {
    Column {
        field,
        header: header.to_string(),
        date_format: None,
    }
}

/// A header as some exports dress it, one time in four: a qualifier before it, a note after
/// it (a unit for an amount), a required-field mark, spaces between its characters,
/// half-width brackets for full-width ones. The wording itself is the corpus's; the dressing
/// is what the corpus lacks.
fn decorated(column: &Column, rng: &mut Rng) -> String {
    let header = &column.header;
    if !rng.chance(0.25) {
        return header.to_string();
    }
    let note = match column.field {
        "amount" => ["（元/月）", "(单位：元)"][rng.below(2) as usize],
        _ => ["（必填）", "(选填)", "："][rng.below(3) as usize],
    };
    match rng.below(6) {
        0 => format!(
            "{}{header}",
            ["当前", "人员", "个人"][rng.below(3) as usize]
        ),
        1 => format!("{header}{note}"),
        2 => format!("*{header}"),
        3 if header.chars().count() <= 3 => header
            .chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(" "),
        4 => header.replace('（', "(").replace('）', ")"),
        _ => format!("{header} "),
    }
}

/// Fisher-Yates, from the world's stream.
fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i as u64 + 1) as usize);
    }
}

/// The field of a column that holds no field the config reads: its header is one of the
/// corpus's wordings that must map to nothing (监护人身份证号, 户籍状态…).
pub const DISTRACTOR: &str = "-";

/// The header corpus: per (source, field), the wordings seen for it.
struct Corpus(Vec<(String, String, String)>);

impl Corpus {
    fn parse() -> Corpus {
        Corpus(
            HEADER_CORPUS
                .lines()
                .skip(1)
                .filter_map(|line| {
                    let mut cells = line.splitn(4, ',');
                    let (source, header, field) = (cells.next()?, cells.next()?, cells.next()?);
                    Some((source.into(), header.into(), field.into()))
                })
                .collect(),
        )
    }

    /// Two to four columns of `source` that hold nothing the rules read.
    fn distractors(&self, source: &str, rng: &mut Rng) -> Vec<Column> {
        let mut wordings: Vec<&String> = self
            .0
            .iter()
            .filter(|(s, _, f)| s == source && f == DISTRACTOR)
            .map(|(_, h, _)| h)
            .collect();
        shuffle(&mut wordings, rng);
        let count = 2 + rng.below(3) as usize;
        wordings
            .into_iter()
            .take(count)
            .map(|h| column(DISTRACTOR, h))
            .collect()
    }

    /// `layout` with each header worded another way of its source's corpus, no two alike.
    fn reworded(&self, source: &str, layout: &Layout, rng: &mut Rng) -> Layout {
        let mut taken: Vec<String> = Vec::new();
        let columns = layout
            .columns
            .iter()
            .map(|c| {
                let wordings: Vec<&String> = self
                    .0
                    .iter()
                    .filter(|(s, h, f)| s == source && f == c.field && !taken.contains(h))
                    .map(|(_, h, _)| h)
                    .collect();
                let header = match wordings.len() {
                    0 => c.header.clone(),
                    n => wordings[rng.below(n as u64) as usize].clone(),
                };
                taken.push(header.clone());
                Column {
                    field: c.field,
                    header,
                    date_format: None,
                }
            })
            .collect();
        Layout {
            columns,
            ..layout.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varied_worlds_word_their_headers_per_seed_from_the_corpus() {
        let (a, b) = (Styles::varied(1, 2020), Styles::varied(2, 2020));
        assert_ne!(a.dpf.columns, b.dpf.columns, "two seeds, two wordings");
        let corpus = Corpus::parse();
        // Dressing adds around a wording, spaces within it, half-width brackets for full.
        let bare = |h: &str| -> String {
            h.chars()
                .filter(|c| *c != ' ')
                .map(|c| match c {
                    '（' => '(',
                    '）' => ')',
                    c => c,
                })
                .collect()
        };
        for (source, layout) in [
            ("dpf", &a.dpf),
            ("civil", &a.civil),
            ("insurance", &a.insurance_now),
        ] {
            assert!(
                layout.columns.iter().any(|c| c.field == DISTRACTOR),
                "{source}"
            );
            for c in &layout.columns {
                assert!(
                    corpus.0.iter().any(|(s, h, f)| s == source
                        && f == c.field
                        && bare(&c.header).contains(&bare(h))),
                    "{source} {} {}",
                    c.field,
                    c.header
                );
            }
        }
        assert!(a
            .subsidies
            .columns
            .iter()
            .any(|c| c.field == "certificate_number"));
        assert!(a
            .insurance_now
            .columns
            .iter()
            .any(|c| c.field == "household_head_id"));
    }
}
