//! Conditions in the words county staff use: `有效记录，救助类别为城市低保/农村低保`. A field is
//! named by its first alias, which is the header departments use for it.

use chrono::{Datelike, NaiveDate};

use crate::config::{Bound, Check, Condition, Rule, Settings};
use crate::model::SourceId;

/// The conditions on rows of `source`, joined by `，`.
pub fn describe(
    settings: &Settings,
    source: SourceId,
    conditions: &[Condition],
    as_of: NaiveDate,
) -> String {
    let parts: Vec<String> = conditions
        .iter()
        .map(|c| describe_one(settings, source, c, as_of))
        .collect();
    match parts.is_empty() {
        true => "任意记录".into(),
        false => parts.join("，"),
    }
}

/// What a rule flags, from its definition: its subjects, then what makes one a finding.
pub fn rule_in_words(settings: &Settings, rule: &Rule, as_of: NaiveDate) -> String {
    let subject = &settings.sources[rule.subject].label;
    let subjects = format!(
        "对象：{subject}记录（{}）",
        describe(settings, rule.subject, &rule.when, as_of)
    );
    let finding = |source: SourceId, conditions: &[Condition], has: &str| {
        let label = &settings.sources[source].label;
        let wanted = describe(settings, source, conditions, as_of);
        format!("疑点：此人在{label}中{has}{wanted}的记录")
    };
    let finding = match &rule.check {
        Check::Requires { source, conditions } => finding(*source, conditions, "无"),
        Check::Forbids { source, conditions } => finding(*source, conditions, "有"),
        Check::Duplicate { field, conditions } => format!(
            "疑点：此人另有{}相同、{}的记录",
            field_label(settings, rule.subject, *field),
            describe(settings, rule.subject, conditions, as_of)
        ),
        Check::Always => "每条对象记录均为疑点".to_string(),
    };
    match rule.per_household {
        true => format!("{subjects}；{finding}；每户列一条（户主为对象时列在户主名下）"),
        false => format!("{subjects}；{finding}"),
    }
}

/// A field by the header departments use for it (its first alias).
pub fn field_label(settings: &Settings, source: SourceId, field: usize) -> String {
    let field = &settings.sources[source].fields[field];
    field
        .aliases
        .first()
        .cloned()
        .unwrap_or_else(|| field.name.clone())
}

/// A word list as a sentence shows it: a word that holds an earlier one, or is held by it
/// (城市低保 after 低保, 护理补贴 after 重度残疾人护理补贴), says nothing more; at most three,
/// then 等.
fn shown_words(words: &[String]) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for word in words {
        if !kept
            .iter()
            .any(|k| word.contains(k) || k.contains(word.as_str()))
        {
            kept.push(word);
        }
    }
    match kept.len() > 3 {
        true => format!("{}等", kept[..3].join("/")),
        false => kept.join("/"),
    }
}

fn describe_one(
    settings: &Settings,
    source: SourceId,
    condition: &Condition,
    as_of: NaiveDate,
) -> String {
    let field_label = |f: usize| field_label(settings, source, f);
    match condition {
        Condition::FieldIn {
            field,
            words,
            negate: false,
        } => format!("{}为{}", field_label(*field), shown_words(words)),
        Condition::FieldIn {
            field,
            words,
            negate: true,
        } => format!("{}不为{}", field_label(*field), shown_words(words)),
        Condition::FieldEmpty { field, empty: true } => format!("{}为空", field_label(*field)),
        Condition::FieldEmpty {
            field,
            empty: false,
        } => format!("{}不为空", field_label(*field)),
        Condition::FieldIsAsOfYear { field } => {
            format!("{}为{}", field_label(*field), as_of.year())
        }
        Condition::Active(true) => format!("截至{as_of}有效"),
        Condition::Active(false) => format!("截至{as_of}无效"),
        Condition::Age { min, max } => match (min, max) {
            (Some(a), Some(b)) => format!("{a}至{b}周岁"),
            (Some(a), None) => format!("{a}周岁以上"),
            (None, Some(b)) => format!("{b}周岁以下"),
            (None, None) => "任意年龄".into(),
        },
        Condition::Any(conditions) | Condition::All(conditions) => {
            let parts: Vec<String> = conditions
                .iter()
                .map(|c| describe_one(settings, source, c, as_of))
                .collect();
            let joint = match condition {
                Condition::Any(_) => "或",
                _ => "且",
            };
            format!("（{}）", parts.join(joint))
        }
        Condition::Compare {
            field,
            bound,
            below,
        } => {
            let bound = match bound {
                Bound::Amount(a) => format!("{a}元"),
                Bound::Field(other) => field_label(*other),
                Bound::Standard(name) => format!("{name}标准"),
            };
            let relation = if *below { "低于" } else { "不低于" };
            format!("{}{relation}{bound}", field_label(*field))
        }
        Condition::Household {
            conditions,
            at_least,
            at_most,
            others,
        } => {
            let members = match conditions.is_empty() {
                true => "成员".to_string(),
                false => format!("{}的成员", describe(settings, source, conditions, as_of)),
            };
            let count = match (at_least, at_most) {
                (n, Some(m)) if n == m => format!("{n}人"),
                (0, Some(m)) => format!("至多{m}人"),
                (n, Some(m)) => format!("{n}至{m}人"),
                (n, None) => format!("至少{n}人"),
            };
            let whom = if *others {
                "同户其他"
            } else {
                "同户（含本人）"
            };
            match (at_least, at_most) {
                (0, Some(0)) => format!("{whom}无{members}"),
                _ => format!("{whom}{members}{count}"),
            }
        }
        Condition::Living(true) => "在世".into(),
        Condition::Living(false) => "已死亡".into(),
        Condition::Linked {
            source: other,
            conditions,
            negate,
        } => {
            let label = &settings.sources[*other].label;
            let inner = describe(settings, *other, conditions, as_of);
            match negate {
                false => format!("{label}有{inner}的记录"),
                true => format!("{label}无{inner}的记录"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Check, DEFAULT_CONFIG};

    #[test]
    fn requirements_read_as_sentences() {
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        let as_of = NaiveDate::from_ymd_opt(2020, 6, 30).unwrap();
        let Check::Requires { source, conditions } = &settings.rule("CIV-02").unwrap().check else {
            panic!()
        };
        assert_eq!(
            describe(&settings, *source, conditions, as_of),
            "截至2020-06-30有效，救助类别为重度残疾人护理补贴/重度残疾人护理补助"
        );
        let Check::Requires { source, conditions } = &settings.rule("MED-02").unwrap().check else {
            panic!()
        };
        assert_eq!(
            describe(&settings, *source, conditions, as_of),
            "截至2020-06-30有效，资助类别不为空"
        );
    }

    /// A rule reads as its subjects and what makes one a finding, from its definition, groups
    /// and amount comparisons included.
    #[test]
    fn rules_read_from_their_definitions() {
        let extra = r#"
[sources.civil.fields.monthly_amount]
kind = "amount"
aliases = ["发放金额"]

[[rule]]
id = "PAY-02"
name = "x"
flags = "x"
basis = "x"
kind = "audit"
subject = "civil"
when = [{ any = [{ field = "monthly_amount", at_least = 500 }, { all = [{ field = "program", in = "care_subsidy" }, { age_max = 15 }] }] }]
"#;
        let settings = Settings::from_toml(&(DEFAULT_CONFIG.to_string() + extra)).unwrap();
        let as_of = NaiveDate::from_ymd_opt(2020, 6, 30).unwrap();
        let words = |id: &str| rule_in_words(&settings, settings.rule(id).unwrap(), as_of);
        assert_eq!(
            words("MED-01"),
            "对象：残联 持证残疾人库记录（截至2020-06-30有效，是否建档立卡为是，在世）；疑点：此人在医保 参保登记中无截至2020-06-30有效的记录"
        );
        assert_eq!(
            words("PAY-02"),
            "对象：民政 救助对象记录（（发放金额不低于500元或（救助类别为重度残疾人护理补贴/重度残疾人护理补助且15周岁以下）））；每条对象记录均为疑点"
        );
    }

    #[test]
    fn word_lists_are_shown_short() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let settings = Settings::from_toml(DEFAULT_CONFIG).unwrap();
        assert_eq!(
            shown_words(&settings.options.vocabulary["subsistence"]),
            "低保/最低生活保障/特困等"
        );
        assert_eq!(shown_words(&words(&["一级", "二级"])), "一级/二级");
    }
}
