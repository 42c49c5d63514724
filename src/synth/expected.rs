//! The gaps a correct run must report, computed on the clean world by code of its own: the
//! catalogue's rules written out by hand, not through the config-driven engine, so each
//! checks the other.

use chrono::{Datelike, NaiveDate};

use super::world::{age_on, CivilRecord, DpfRecord, HealthRecord, Household, PensionRecord};

const TWO_SUBSIDIES: [&str; 2] = ["困难残疾人生活补贴", "重度残疾人护理补贴"];
const DIBAO: [&str; 2] = ["城市低保", "农村低保"];

/// A gap: rule, and the subject record (`Dpf(i)` or `Civil(i)` within the household).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    Dpf(usize),
    Civil(usize),
    Poverty(usize),
}

fn civil_active(r: &CivilRecord, as_of: NaiveDate) -> bool {
    matches!(r.status, "在保" | "正常") && r.start <= as_of && r.end.is_none_or(|e| as_of <= e)
}

struct View<'a> {
    h: &'a Household,
    as_of: NaiveDate,
}

impl View<'_> {
    fn active_programs(&self, p: usize) -> Vec<&'static str> {
        self.h
            .civil
            .iter()
            .filter(|r| r.person == p && civil_active(r, self.as_of))
            .map(|r| r.program)
            .collect()
    }

    /// Deceased by what the sources say: DPF 注销 死亡, insurance 终止 死亡, civil 停发/终止 死亡.
    fn deceased(&self, p: usize) -> bool {
        let by = |date: Option<NaiveDate>| date.is_none_or(|d| d <= self.as_of);
        self.h
            .dpf
            .iter()
            .any(|d| d.person == p && d.cancel_reason == "死亡" && by(d.cancel_date))
            || self.h.insurance.iter().any(|r| {
                r.person == p && r.status == "终止" && r.end_reason == "死亡" && by(r.end_date)
            })
            || self.h.civil.iter().any(|r| {
                r.person == p
                    && matches!(r.status, "停发" | "终止")
                    && r.stop_reason == "死亡"
                    && by(r.end)
            })
    }

    fn certified(&self, p: usize) -> Option<&DpfRecord> {
        self.h
            .dpf
            .iter()
            .find(|d| d.person == p && d.status == "正常")
    }
}

/// Every gap of the household, by rule id and subject.
pub fn gaps(h: &Household, as_of: NaiveDate) -> Vec<(&'static str, Subject)> {
    let view = View { h, as_of };
    let mut gaps = Vec::new();
    for (i, d) in h.dpf.iter().enumerate() {
        if d.status != "正常" || view.deceased(d.person) {
            continue;
        }
        gaps.extend(
            (coverage(&view, d).into_iter())
                .chain(other_departments(&view, d))
                .map(|rule| (rule, Subject::Dpf(i))),
        );
    }
    for (i, r) in h.civil.iter().enumerate() {
        if civil_active(r, as_of) {
            gaps.extend(
                audit(&view, i, r)
                    .into_iter()
                    .chain(household_coverage(&view, r))
                    .map(|rule| (rule, Subject::Civil(i))),
            );
        }
    }
    one_per_household(h, &mut gaps, "HOU-01");
    for (i, r) in h.poverty.iter().enumerate() {
        // DPF-01: a followed family's member recorded as 残疾, with no certificate.
        let followed = matches!(r.kind, "脱贫户" | "监测户");
        let certified = view.certified(r.person).is_some();
        if followed && r.health == "残疾" && !certified && !view.deceased(r.person) {
            gaps.push(("DPF-01", Subject::Poverty(i)));
        }
    }
    gaps
}

/// A household rule lists the family once: under the head's registry row when the head is a
/// subject, else the first (the family's registry rows stand in one file, in their order).
fn one_per_household(h: &Household, gaps: &mut Vec<(&'static str, Subject)>, rule: &str) {
    let of_rule = |(r, _): &&(&str, Subject)| *r == rule;
    let Some(&(_, kept)) = (gaps.iter().filter(of_rule))
        .find(|(_, s)| matches!(s, Subject::Dpf(i) if h.dpf[*i].person == 0))
        .or_else(|| gaps.iter().find(|g| of_rule(g)))
    else {
        return;
    };
    gaps.retain(|&(r, s)| r != rule || s == kept);
}

fn pension_active(r: &PensionRecord) -> bool {
    matches!(r.status, "正常参保" | "待遇领取")
}

fn contract_in_force(r: &HealthRecord, as_of: NaiveDate) -> bool {
    r.status == "已签约" && r.start <= as_of && as_of <= r.end
}

/// PEN-01, PEN-02, HLT-01 and HOU-01 for a living certified person.
fn other_departments(view: &View, d: &DpfRecord) -> Vec<&'static str> {
    let (h, p, as_of) = (view.h, d.person, view.as_of);
    let age = age_on(h.people[p].birth, as_of);
    let pension: Vec<&PensionRecord> = (h.pension.iter())
        .filter(|r| r.person == p && pension_active(r))
        .collect();
    let employee = pension.iter().any(|r| r.scheme.contains("职工"));
    let bracket = d.poor && d.grade <= 1 && (16..=59).contains(&age);
    // The family's house as 防返贫监测 grades it (every member's row carries it), and its
    // 危房改造 record under the head.
    let dangerous = (h.poverty.iter()).any(|r| matches!(r.house, "C级" | "D级"));
    let renovating = (h.housing.iter()).any(|r| r.status != "已退出");
    let signed = (h.health.iter()).any(|r| r.person == p && contract_in_force(r, as_of));
    let mut rules = Vec::new();
    let mut flag = |rule, yes: bool| {
        if yes {
            rules.push(rule);
        }
    };
    flag("PEN-01", bracket && pension.is_empty());
    flag(
        "PEN-02",
        bracket
            && !pension.is_empty()
            && !employee
            && pension.iter().all(|r| r.paid_by_government.is_empty()),
    );
    flag("HLT-01", d.poor && !signed);
    flag("HOU-01", d.poor && dangerous && !renovating);
    rules
}

/// 一户多残 or 老残一体: another living member of the family who is certified or 60 or older,
/// where the exports show them in the household (the head, whom the person's registry row
/// names, when a row holds the head's ID; a member whose registry, 低保, 防返贫监测 or this
/// year's insurance row names the head): a member no export lists under the head is no one's
/// to find.
fn household_in_need(view: &View, p: usize) -> bool {
    let h = view.h;
    let has_rows = |m: usize| {
        h.dpf.iter().any(|d| d.person == m)
            || h.civil.iter().any(|r| r.person == m)
            || h.insurance.iter().any(|r| r.person == m)
            || h.education.iter().any(|e| e.person == m)
            || h.pension.iter().any(|r| r.person == m)
            || h.health.iter().any(|r| r.person == m)
            || (m == 0 && !h.housing.is_empty())
    };
    let listed = |m: usize| {
        (m == 0 && has_rows(m))
            || h.dpf.iter().any(|d| d.person == m)
            || h.poverty.iter().any(|r| r.person == m)
            || h.civil.iter().any(|r| r.person == m && r.head == 0)
            || (h.insurance.iter()).any(|r| r.person == m && r.year == view.as_of.year())
    };
    (0..h.family)
        .filter(|&m| m != p && listed(m) && !view.deceased(m))
        .any(|m| view.certified(m).is_some() || age_on(h.people[m].birth, view.as_of) >= 60)
}

/// EDU-03: a living uncertified child of 6 to 15 on an active 低保 record (the family's: every
/// member is listed under its head) with a living certified member of the family, not in school.
fn household_coverage(view: &View, r: &CivilRecord) -> Option<&'static str> {
    let (h, p) = (view.h, r.person);
    let living_certified = |m: usize| view.certified(m).is_some() && !view.deceased(m);
    let child = (6..=15).contains(&age_on(h.people[p].birth, view.as_of));
    let parent = (0..h.family).any(|m| m != p && living_certified(m));
    let enrolled = h
        .education
        .iter()
        .any(|e| e.person == p && e.status == "在读");
    (DIBAO.contains(&r.program)
        && p < h.family
        && child
        && !view.deceased(p)
        && view.certified(p).is_none()
        && parent
        && !enrolled)
        .then_some("EDU-03")
}

fn coverage(view: &View, d: &DpfRecord) -> Vec<&'static str> {
    let (h, p, as_of) = (view.h, d.person, view.as_of);
    let programs = view.active_programs(p);
    let has = |names: &[&str]| programs.iter().any(|p| names.contains(p));
    let insured: Vec<_> = h
        .insurance
        .iter()
        .filter(|r| r.person == p && r.year == as_of.year() && r.status == "正常参保")
        .collect();
    let enrolled: Vec<_> = h
        .education
        .iter()
        .filter(|e| e.person == p && e.status == "在读")
        .collect();
    let age = age_on(h.people[p].birth, as_of);
    let (severe, tekun, subsistence) = (
        d.grade <= 1,
        has(&["特困供养"]),
        has(&["城市低保", "农村低保", "特困供养"]),
    );
    let mut rules = Vec::new();
    let mut flag = |rule, yes: bool| {
        if yes {
            rules.push(rule);
        }
    };
    flag("MED-01", d.poor && insured.is_empty());
    flag(
        "MED-02",
        d.poor && !insured.is_empty() && insured.iter().all(|r| r.subsidy.is_empty()),
    );
    flag(
        "CIV-01",
        has(&DIBAO) && !tekun && !has(&["困难残疾人生活补贴"]),
    );
    flag("CIV-02", severe && !tekun && !has(&["重度残疾人护理补贴"]));
    flag("CIV-03", d.poor && d.cause == "因残" && !subsistence);
    flag("CIV-04", d.poor && severe && age >= 16 && !subsistence);
    flag(
        "CIV-05",
        d.poor && !subsistence && household_in_need(view, p),
    );
    flag("EDU-01", (6..=15).contains(&age) && enrolled.is_empty());
    flag(
        "EDU-02",
        d.poor && !enrolled.is_empty() && enrolled.iter().all(|e| !e.aided),
    );
    rules
}

fn audit(view: &View, index: usize, r: &CivilRecord) -> Vec<&'static str> {
    let p = r.person;
    let programs = view.active_programs(p);
    let subsidy = TWO_SUBSIDIES.contains(&r.program);
    let certified = view.certified(p);
    let same_program = view
        .h
        .civil
        .iter()
        .enumerate()
        .filter(|(j, o)| {
            *j != index && o.person == p && o.program == r.program && civil_active(o, view.as_of)
        })
        .count();
    let mut rules = Vec::new();
    let mut flag = |rule, yes: bool| {
        if yes {
            rules.push(rule);
        }
    };
    flag("AUD-01", subsidy && certified.is_none());
    flag("AUD-02", view.deceased(p));
    flag(
        "AUD-03",
        r.program == "特困供养" && programs.iter().any(|p| DIBAO.contains(p)),
    );
    flag(
        "AUD-04",
        r.program == "重度残疾人护理补贴"
            && certified.is_some_and(|d| d.grade >= 2 && d.category != 4 && d.category != 5),
    );
    flag("AUD-05", same_program > 0);
    flag("AUD-06", subsidy && programs.contains(&"特困供养"));
    rules
}
