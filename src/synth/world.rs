//! The synthetic world, one household at a time: people with valid IDs, names and deaths, and
//! the clean records every department holds about them. A household is generated from its own
//! random stream, so the world is the same whatever order or thread builds it.

use chrono::{Datelike, Days, NaiveDate};

use crate::model::id_number::check_character;
use crate::rng::Rng;

/// Surnames with rough frequency weights (per mille), from public surname statistics.
const SURNAMES: [(&str, u32); 40] = [
    ("王", 72),
    ("李", 70),
    ("张", 67),
    ("刘", 54),
    ("陈", 45),
    ("杨", 31),
    ("黄", 22),
    ("赵", 22),
    ("吴", 20),
    ("周", 19),
    ("徐", 13),
    ("孙", 13),
    ("马", 12),
    ("朱", 12),
    ("胡", 11),
    ("郭", 11),
    ("何", 10),
    ("高", 10),
    ("林", 10),
    ("罗", 9),
    ("郑", 9),
    ("梁", 8),
    ("谢", 7),
    ("宋", 7),
    ("唐", 7),
    ("许", 7),
    ("韩", 6),
    ("冯", 6),
    ("邓", 6),
    ("曹", 6),
    ("彭", 6),
    ("曾", 5),
    ("肖", 5),
    ("田", 5),
    ("董", 5),
    ("袁", 5),
    ("潘", 5),
    ("于", 4),
    ("蒋", 4),
    ("欧阳", 1),
];
const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华红建国志文斌辉玉萍海燕晓鹏飞春梅云龙金凤婷浩宇欣怡子轩佳琪";
const MINORITY: [&str; 6] = [
    "阿依古丽·买买提",
    "艾力·吐尔逊",
    "古丽娜尔·阿不都",
    "买买提·依明",
    "帕提古丽·热合曼",
    "阿不都·艾山",
];
/// Characters outside GBK: a GBK export loses them.
const RARE: [&str; 2] = ["䶮", "𫖯"];

pub const CATEGORIES: [&str; 7] = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"];
pub const GRADES: [&str; 4] = ["一级", "二级", "三级", "四级"];

#[derive(Clone, Debug)]
pub struct Person {
    /// `T` + the person's index: the truth's person key.
    pub key: String,
    pub name: String,
    pub id: String,
    pub birth: NaiveDate,
    pub county: String,
    pub death: Option<NaiveDate>,
}

#[derive(Clone, Debug)]
pub struct DpfRecord {
    pub person: usize,
    pub category: usize,
    pub grade: usize,
    pub poor: bool,
    pub cause: &'static str,
    pub status: &'static str,
    pub cancel_reason: &'static str,
    pub cancel_date: Option<NaiveDate>,
}

#[derive(Clone, Debug)]
pub struct CivilRecord {
    pub person: usize,
    pub head: usize,
    pub county: String,
    pub program: &'static str,
    pub status: &'static str,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    pub stop_reason: &'static str,
}

#[derive(Clone, Debug)]
pub struct InsuranceRecord {
    pub person: usize,
    pub year: i32,
    pub status: &'static str,
    pub end_reason: &'static str,
    pub end_date: Option<NaiveDate>,
    pub subsidy: &'static str,
}

#[derive(Clone, Debug)]
pub struct EducationRecord {
    pub person: usize,
    pub mode: &'static str,
    pub status: &'static str,
    pub aided: bool,
}

/// A member's row in the 防返贫监测 registry (乡村振兴): every living member of a followed
/// family, under the head (person 0), with the family's house grade.
#[derive(Clone, Debug)]
pub struct PovertyRecord {
    pub person: usize,
    pub kind: &'static str,
    pub health: &'static str,
    pub house: &'static str,
}

/// The family's 危房改造 record (住建), under its head (person 0).
#[derive(Clone, Debug)]
pub struct HousingRecord {
    pub grade: &'static str,
    pub status: &'static str,
    pub year: i32,
}

/// A pension enrollment (人社): the scheme, its status, and who pays the contribution.
#[derive(Clone, Debug)]
pub struct PensionRecord {
    pub person: usize,
    pub scheme: &'static str,
    pub status: &'static str,
    pub paid_by_government: &'static str,
}

/// A family-doctor contract (卫健), in force from `start` to `end`.
#[derive(Clone, Debug)]
pub struct HealthRecord {
    pub person: usize,
    pub status: &'static str,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// One household and every record the departments hold about its people.
#[derive(Clone, Debug, Default)]
pub struct Household {
    pub people: Vec<Person>,
    /// The first `family` people are the family; the rest are neighbours.
    pub family: usize,
    pub dpf: Vec<DpfRecord>,
    pub civil: Vec<CivilRecord>,
    pub insurance: Vec<InsuranceRecord>,
    pub education: Vec<EducationRecord>,
    pub poverty: Vec<PovertyRecord>,
    pub housing: Vec<HousingRecord>,
    pub pension: Vec<PensionRecord>,
    pub health: Vec<HealthRecord>,
    /// In a nation, the family's county in another province when it moved for work.
    pub away: Option<Away>,
}

/// Where a family that moved lives now, and which of its records are held there: its
/// medical insurance (insured where they work), its children's school, and a subsidy that the
/// new province pays as well (paid twice). Its registry stays at home.
#[derive(Clone, Debug)]
pub struct Away {
    pub county: String,
    pub insured: bool,
    pub schooled: bool,
}

/// Where the world lives: counties (with weights and legacy codes) and the as-of date.
pub struct Geography {
    pub counties: Vec<(String, Vec<String>)>,
    weights: Vec<u32>,
    pub as_of: NaiveDate,
    /// In a nation, the other provinces' counties, where families move.
    pub elsewhere: Vec<String>,
}

impl Geography {
    /// A county's coverage factor, from 0.8 to 1.1: counties differ in how well they cover.
    pub fn coverage(&self, county: &str) -> f64 {
        let index = self
            .counties
            .iter()
            .position(|(c, _)| c == county)
            .unwrap_or(0);
        0.8 + 0.03 * ((index * 7) % 11) as f64
    }

    pub fn new(counties: Vec<(String, Vec<String>)>, as_of: NaiveDate) -> Geography {
        // Uneven: the first counties are several times bigger than the last.
        let weights = (0..counties.len() as u32)
            .map(|i| 40 + 400 / (i + 1))
            .collect();
        Geography {
            counties,
            weights,
            as_of,
            elsewhere: Vec::new(),
        }
    }
}

/// One of `items`, by their weights.
pub(super) fn pick<'a, T>(rng: &mut Rng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.below(total as u64) as u32;
    for (item, weight) in items {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    &items[0].0
}

fn name(rng: &mut Rng, surname: &str) -> String {
    if rng.chance(0.01) {
        return MINORITY[rng.below(MINORITY.len() as u64) as usize].to_string();
    }
    let given: Vec<char> = GIVEN.chars().collect();
    let mut text = surname.to_string();
    for _ in 0..(1 + rng.below(2)) {
        text.push(given[rng.below(given.len() as u64) as usize]);
    }
    if rng.chance(0.003) {
        text.pop();
        text.push_str(RARE[rng.below(2) as usize]);
    }
    text
}

fn date_between(rng: &mut Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(1) as u64;
    from + Days::new(rng.below(span))
}

/// Age in whole years on `on`: the generator's own, so the truth never borrows the engine's.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    on.year() - birth.year() - i32::from((on.month(), on.day()) < (birth.month(), birth.day()))
}

/// Every ID issued so far (its first 17 digits): two people never share an ID in the world.
#[derive(Default)]
pub struct IdBook(std::collections::HashSet<u64>);

impl IdBook {
    /// A new ID for a region and birth date; the serial picks the first sequence number tried,
    /// the sex its parity.
    pub fn issue(&mut self, region: &str, birth: NaiveDate, male: bool, serial: u64) -> String {
        let mut seq = (serial % 500) * 2 + u64::from(male);
        for _ in 0..500 {
            let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
            if self.0.insert(first17.parse().unwrap_or(0)) {
                let check = check_character(first17.as_bytes()) as char;
                return format!("{first17}{check}");
            }
            seq = (seq + 2) % 1000;
        }
        format!("{region}{}{seq:03}X", birth.format("%Y%m%d"))
    }
}

/// Household `index` of the world: a registry person with their family around them, and one
/// or more neighbours in the same county who are in no registry.
pub fn household(geo: &Geography, ids: &mut IdBook, seed: u64, index: u64) -> Household {
    let mut rng = Rng::for_item(seed, 1, index);
    let county_index = *pick(
        &mut rng,
        &geo.counties
            .iter()
            .enumerate()
            .map(|(i, _)| i)
            .zip(geo.weights.iter().copied())
            .collect::<Vec<_>>(),
    );
    let (county, legacy) = &geo.counties[county_index];
    let surname = *pick(&mut rng, &SURNAMES);
    let as_of = geo.as_of;
    let mut h = Household::default();
    let mut add = |rng: &mut Rng, h: &mut Household, born_from: i32, born_to: i32, family: bool| {
        let serial = index * 32 + h.people.len() as u64;
        let birth = date_between(
            rng,
            NaiveDate::from_ymd_opt(born_from, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(born_to, 12, 31).unwrap(),
        );
        let region = match (rng.chance(0.03), legacy.first()) {
            (true, Some(old)) => old.clone(),
            _ if rng.chance(0.02) => geo.counties[rng.below(geo.counties.len() as u64) as usize]
                .0
                .clone(),
            _ => county.clone(),
        };
        let male = rng.chance(0.5);
        let death = rng
            .chance(0.03)
            .then(|| date_between(rng, as_of - Days::new(700), as_of + Days::new(60)));
        let surname_here = if family {
            surname
        } else {
            *pick(rng, &SURNAMES)
        };
        h.people.push(Person {
            key: format!("T{serial}"),
            name: name(rng, surname_here),
            id: ids.issue(&region, birth, male, serial),
            birth,
            county: county.clone(),
            death,
        });
    };
    let year = as_of.year();
    add(&mut rng, &mut h, year - 80, year - 25, true);
    if rng.chance(0.7) {
        add(&mut rng, &mut h, year - 80, year - 25, false);
    }
    for _ in 0..rng.below(3) {
        add(&mut rng, &mut h, year - 22, year - 1, true);
    }
    if rng.chance(0.3) {
        add(&mut rng, &mut h, year - 95, year - 60, true);
    }
    if rng.chance(0.2) {
        add(&mut rng, &mut h, year - 12, year - 1, true);
    }
    h.family = h.people.len();
    // Neighbours: the registry is a minority of the people the departments hold.
    for _ in 0..(6 + rng.below(11)) {
        add(&mut rng, &mut h, year - 90, year - 1, false);
    }
    super::programs::assign(&mut rng, &mut h, geo, ids);
    // The other departments from a stream of their own: the four departments' records of a
    // seed stay what they were before these departments were added.
    super::programs::other_departments(&mut Rng::for_item(seed, 3, index), &mut h, geo);
    move_away(&mut Rng::for_item(seed, 5, index), &mut h, geo);
    h
}

/// The share of a nation's families that moved to another province.
const MOVED: f64 = 0.06;

/// In a nation, sometimes: the family moved to another province's county, where it is
/// insured, its children go to school, or one of its subsidies is paid a second time. From a
/// stream of its own, so a province alone is the world it was.
fn move_away(rng: &mut Rng, h: &mut Household, geo: &Geography) {
    if geo.elsewhere.is_empty() || !rng.chance(MOVED) {
        return;
    }
    let county = geo.elsewhere[rng.below(geo.elsewhere.len() as u64) as usize].clone();
    let family = h.family;
    let paid = h.civil.iter().position(|r| r.person < family);
    if let Some(record) = paid.filter(|_| rng.chance(0.3)) {
        let mut copy = h.civil[record].clone();
        copy.county = county.clone();
        h.civil.push(copy);
    }
    h.away = Some(Away {
        county,
        insured: rng.chance(0.7),
        schooled: rng.chance(0.5),
    });
}
