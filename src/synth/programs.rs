//! The programs of a household as the spec defines them: certificates, 低保 households with
//! every member listed, 特困, 临时救助, the two subsidies, two years of insurance and the
//! school register. Coverage is left incomplete on purpose, and audit findings are planted.

use chrono::{Datelike, Days, NaiveDate};

use super::world::pick;
use super::world::{
    age_on, CivilRecord, DpfRecord, EducationRecord, Geography, HealthRecord, Household,
    HousingRecord, IdBook, InsuranceRecord, PensionRecord, PovertyRecord,
};
use crate::rng::Rng;

struct Plan<'a> {
    rng: &'a mut Rng,
    geo: &'a Geography,
    /// How well this county covers its people: coverage chances are scaled by it.
    coverage: f64,
}

impl Plan<'_> {
    /// A coverage chance, better or worse by county.
    fn covered(&mut self, base: f64) -> bool {
        self.rng.chance((base * self.coverage).min(0.99))
    }

    fn civil(
        &mut self,
        h: &mut Household,
        person: usize,
        head: usize,
        program: &'static str,
    ) -> usize {
        let as_of = self.geo.as_of;
        let start = match self.rng.below(100) {
            0..=1 => as_of + Days::new(1 + self.rng.below(30)),
            2 => as_of,
            _ => as_of - Days::new(30 + self.rng.below(1500)),
        };
        let (status, end) = match self.rng.below(100) {
            0..=1 => ("在保", Some(as_of)),
            2..=9 => ("终止", Some(as_of - Days::new(1 + self.rng.below(300)))),
            _ => (
                if self.rng.chance(0.5) {
                    "在保"
                } else {
                    "正常"
                },
                None,
            ),
        };
        let stop_reason = if status == "终止" { "其他" } else { "" };
        let county = h.people[person].county.clone();
        h.civil.push(CivilRecord {
            person,
            head,
            county,
            program,
            status,
            start,
            end,
            stop_reason,
        });
        h.civil.len() - 1
    }
}

/// Every record of the household's people.
pub fn assign(rng: &mut Rng, h: &mut Household, geo: &Geography, ids: &mut IdBook) {
    let registry = rng.below(h.family as u64) as usize;
    let coverage = geo.coverage(&h.people[0].county);
    let mut plan = Plan { rng, geo, coverage };
    let registered: Vec<usize> = std::iter::once(registry)
        .chain((plan.rng.chance(0.1) && h.family > 1).then(|| (registry + 1) % h.family))
        .collect();
    for &p in &registered {
        plant_boundary_birthday(&mut plan, h, p, ids);
        certificate(&mut plan, h, p);
    }
    let dibao = (plan.rng.chance(0.25)).then(|| {
        if plan.rng.chance(0.6) {
            "农村低保"
        } else {
            "城市低保"
        }
    });
    if let Some(program) = dibao {
        for p in 0..h.family {
            plan.civil(h, p, 0, program);
        }
    }
    for &p in &registered {
        subsidies(&mut plan, h, p, dibao.is_some());
    }
    for p in 0..h.people.len() {
        if !registered.contains(&p) && plan.rng.chance(0.01) {
            plan.civil(h, p, p, "困难残疾人生活补贴");
        }
        if plan.rng.chance(0.02) {
            plan.civil(h, p, p, "临时救助");
        }
        insurance(&mut plan, h, p, registered.contains(&p));
        education(&mut plan, h, p, registered.contains(&p));
    }
    record_deaths(&mut plan, h);
}

/// Some registry children turn 6 or 16 exactly on the as-of date: one in a hundred (about 0.03 %
/// would by chance), so every world has such cases without piling a province's children onto
/// two birth dates as no real export does (15 % made blocks by region and birth date of
/// thousands of rows at a million persons).
fn plant_boundary_birthday(plan: &mut Plan, h: &mut Household, p: usize, ids: &mut IdBook) {
    let as_of = plan.geo.as_of;
    if age_on(h.people[p].birth, as_of) < 20 && plan.rng.chance(0.01) {
        let years = if plan.rng.chance(0.5) { 6 } else { 16 };
        let birth =
            NaiveDate::from_ymd_opt(as_of.year() - years, as_of.month(), as_of.day().min(28))
                .unwrap_or(as_of);
        let person = &mut h.people[p];
        let male = person.id.as_bytes()[16] % 2 == 1;
        let serial = person.id[14..16].parse().unwrap_or(0);
        person.id = ids.issue(&person.id[..6], birth, male, serial);
        person.birth = birth;
    }
}

fn certificate(plan: &mut Plan, h: &mut Household, p: usize) {
    let rng = &mut *plan.rng;
    let category = rng.below(7) as usize;
    let grade = match rng.below(100) {
        0..=14 => 0,
        15..=39 => 1,
        40..=69 => 2,
        _ => 3,
    };
    let poor = rng.chance(0.35);
    let cause = match (poor, rng.below(100)) {
        (false, _) => "",
        (true, 0..=49) => "因残",
        (true, 50..=84) => "因病",
        _ => "因学",
    };
    let dead = h.people[p].death.filter(|d| *d <= plan.geo.as_of);
    let (status, cancel_reason, cancel_date) = match (dead, rng.below(100)) {
        (Some(date), 0..=59) => ("注销", "死亡", Some(date)),
        (_, 95..) => (
            "注销",
            "迁出",
            Some(plan.geo.as_of - Days::new(1 + rng.below(500))),
        ),
        _ => ("正常", "", None),
    };
    h.dpf.push(DpfRecord {
        person: p,
        category,
        grade,
        poor,
        cause,
        status,
        cancel_reason,
        cancel_date,
    });
}

fn subsidies(plan: &mut Plan, h: &mut Household, p: usize, in_dibao: bool) {
    let dpf = h
        .dpf
        .iter()
        .find(|d| d.person == p)
        .cloned()
        .expect("registered");
    let tekun = !in_dibao && plan.rng.chance(0.05);
    if tekun {
        plan.civil(h, p, p, "特困供养");
        if plan.rng.chance(0.15) {
            plan.civil(h, p, p, "农村低保");
        }
    }
    let severe = dpf.grade <= 1;
    let mental = dpf.category == 4 || dpf.category == 5;
    if in_dibao && !tekun && plan.covered(0.85) {
        let record = plan.civil(h, p, p, "困难残疾人生活补贴");
        duplicate_sometimes(plan, h, record);
    }
    let care = match (severe, tekun) {
        (true, false) => plan.covered(0.85),
        (_, true) => plan.rng.chance(0.2),
        (false, false) => plan.rng.chance(if mental { 0.3 } else { 0.03 }),
    };
    if care {
        let record = plan.civil(h, p, p, "重度残疾人护理补贴");
        duplicate_sometimes(plan, h, record);
    }
}

/// The same subsidy paid a second time, in another county.
fn duplicate_sometimes(plan: &mut Plan, h: &mut Household, record: usize) {
    if plan.rng.chance(0.02) {
        let mut copy = h.civil[record].clone();
        copy.county = plan.geo.counties[plan.rng.below(plan.geo.counties.len() as u64) as usize]
            .0
            .clone();
        h.civil.push(copy);
    }
}

fn insurance(plan: &mut Plan, h: &mut Household, p: usize, registered: bool) {
    let year = plan.geo.as_of.year();
    let poor = registered && h.dpf.iter().any(|d| d.person == p && d.poor);
    if plan.rng.chance(0.8) {
        h.insurance.push(InsuranceRecord {
            person: p,
            year: year - 1,
            status: "正常参保",
            end_reason: "",
            end_date: None,
            subsidy: "",
        });
    }
    if plan.covered(0.92) {
        let status = if plan.rng.chance(0.9) {
            "正常参保"
        } else {
            "暂停"
        };
        let subsidy = if poor && plan.covered(0.85) {
            "建档立卡"
        } else {
            ""
        };
        h.insurance.push(InsuranceRecord {
            person: p,
            year,
            status,
            end_reason: "",
            end_date: None,
            subsidy,
        });
    }
}

fn education(plan: &mut Plan, h: &mut Household, p: usize, registered: bool) {
    let age = age_on(h.people[p].birth, plan.geo.as_of);
    if !(6..=18).contains(&age) {
        return;
    }
    if !plan.covered(if registered { 0.9 } else { 0.95 }) {
        return;
    }
    let mode = match plan.rng.below(10) {
        0 => "特教学校",
        1 => "送教上门",
        _ => "随班就读",
    };
    let status = match plan.rng.below(100) {
        0..=2 => "休学",
        3..=6 => "辍学",
        7..=9 => "毕业",
        _ => "在读",
    };
    let poor = h.dpf.iter().any(|d| d.person == p && d.poor);
    let aided = plan.rng.chance(if poor { 0.85 } else { 0.2 });
    h.education.push(EducationRecord {
        person: p,
        mode,
        status,
        aided,
    });
}

/// A death before the as-of date reaches insurance (终止 死亡) and stops most civil payments;
/// some keep being paid (the finding AUD-02 is for).
fn record_deaths(plan: &mut Plan, h: &mut Household) {
    let as_of = plan.geo.as_of;
    for p in 0..h.people.len() {
        let Some(death) = h.people[p].death.filter(|d| *d <= as_of) else {
            continue;
        };
        for record in h
            .insurance
            .iter_mut()
            .filter(|r| r.person == p && r.year == as_of.year())
        {
            if plan.rng.chance(0.7) {
                (record.status, record.end_reason, record.end_date) = ("终止", "死亡", Some(death));
            }
        }
        for record in h
            .civil
            .iter_mut()
            .filter(|r| r.person == p && r.end.is_none())
        {
            if plan.rng.chance(0.5) {
                (record.status, record.stop_reason, record.end) = ("停发", "死亡", Some(death));
            }
        }
    }
}

/// The departments beyond the first four: the 防返贫监测 rows of a followed family (most
/// families of a poor certified person), its 危房改造, pension enrollments and family-doctor
/// contracts. Coverage is incomplete here too, so each of their rules has gaps to find.
pub fn other_departments(rng: &mut Rng, h: &mut Household, geo: &Geography) {
    let coverage = geo.coverage(&h.people[0].county);
    let mut plan = Plan { rng, geo, coverage };
    let poor = h.dpf.iter().any(|d| d.poor);
    poverty(&mut plan, h, poor);
    for p in 0..h.people.len() {
        if h.people[p].death.is_some_and(|d| d <= geo.as_of) {
            continue;
        }
        pension(&mut plan, h, p);
        health(&mut plan, h, p, poor);
    }
}

fn poverty(plan: &mut Plan, h: &mut Household, poor: bool) {
    if !plan.rng.chance(if poor { 0.9 } else { 0.08 }) {
        return;
    }
    let kind = *pick(plan.rng, &[("脱贫户", 75), ("监测户", 20), ("一般农户", 5)]);
    let house = *pick(
        plan.rng,
        &[("A级", 45), ("B级", 30), ("C级", 15), ("D级", 10)],
    );
    for p in 0..h.family {
        // The registry drops a member who died (自然减少).
        if h.people[p].death.is_some_and(|d| d <= plan.geo.as_of) {
            continue;
        }
        let certified = h.dpf.iter().any(|d| d.person == p);
        let health = match (certified, plan.rng.below(100)) {
            (true, 0..=89) | (false, 0..=3) => "残疾",
            (_, 4..=79) | (true, 90..=94) => "健康",
            (_, 80..=94) | (true, 95..) => "长期慢性病",
            _ => "患有大病",
        };
        h.poverty.push(PovertyRecord {
            person: p,
            kind,
            health,
            house,
        });
    }
    let dangerous = matches!(house, "C级" | "D级");
    if (dangerous && plan.covered(0.75)) || plan.rng.chance(0.01) {
        let status = *pick(plan.rng, &[("已竣工验收", 85), ("在建", 10), ("已退出", 5)]);
        let year = plan.geo.as_of.year() - plan.rng.below(3) as i32;
        h.housing.push(HousingRecord {
            grade: if dangerous { house } else { "D级" },
            status,
            year,
        });
    }
}

fn pension(plan: &mut Plan, h: &mut Household, p: usize) {
    let age = age_on(h.people[p].birth, plan.geo.as_of);
    let certified = h.dpf.iter().find(|d| d.person == p && d.status == "正常");
    let poor_severe = certified.is_some_and(|d| d.poor && d.grade <= 1);
    let enrolled = match age {
        ..16 => false,
        16..=59 if poor_severe => plan.covered(0.9),
        16..=59 => plan.rng.chance(0.6),
        _ => plan.rng.chance(0.8),
    };
    if !enrolled {
        return;
    }
    let employee = age < 60 && !poor_severe && plan.rng.chance(0.05);
    let status = match (age, plan.rng.chance(0.9)) {
        (60.., _) => "待遇领取",
        (_, true) => "正常参保",
        (_, false) => "暂停",
    };
    let paid_by_government = match (employee, poor_severe, age) {
        (false, true, ..60) if plan.covered(0.85) => "重度残疾人",
        (false, false, ..60) if certified.is_some_and(|d| d.poor) => "建档立卡贫困人口",
        _ => "",
    };
    h.pension.push(PensionRecord {
        person: p,
        scheme: if employee {
            "企业职工基本养老保险"
        } else {
            "城乡居民基本养老保险"
        },
        status,
        paid_by_government,
    });
}

fn health(plan: &mut Plan, h: &mut Household, p: usize, poor_family: bool) {
    let certified_poor = h.dpf.iter().any(|d| d.person == p && d.poor);
    let signed = match (certified_poor, p < h.family && poor_family) {
        (true, _) => plan.covered(0.85),
        (false, true) => plan.rng.chance(0.5),
        (false, false) => plan.rng.chance(0.15),
    };
    if !signed {
        return;
    }
    let as_of = plan.geo.as_of;
    // A one-year contract signed in the last fourteen months (some ran out and were renewed),
    // now and then one that begins after the as-of date.
    let start = match plan.rng.below(100) {
        0 => as_of + Days::new(1 + plan.rng.below(30)),
        _ => as_of - Days::new(plan.rng.below(420)),
    };
    let status = if plan.rng.chance(0.93) {
        "已签约"
    } else {
        "解约"
    };
    let end = start + Days::new(364);
    h.health.push(HealthRecord {
        person: p,
        status,
        start,
        end,
    });
    if end < as_of && plan.rng.chance(0.6) {
        h.health.push(HealthRecord {
            person: p,
            status: "已签约",
            start: end + Days::new(1),
            end: end + Days::new(365),
        });
    }
}
