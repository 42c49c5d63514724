//! Why a pair is or is not one person: a short reason in the words county staff use
//! (身份证号相差1位；姓名同音（晓/小）；区县相同), a sentence for the decision, and the
//! match-weight waterfall of Splink's charts: the prior, then each comparison's level, m, u,
//! weight and term-frequency adjustment, adding up to the pair's match weight. Values are
//! masked unless asked otherwise.

use super::comparators::{differing_positions, homophone_pairs};
use super::comparison::{Comparer, Levels};
use super::model::{probability, Model};
use super::pairs::{Decision, ReviewReason};
use super::predict::Scorer;
use super::table::{Column, LinkTable};
use crate::config::link::{FeatureKind, LevelTest};
use crate::mask::{mask_id, mask_name};
use crate::model::FieldRole;

/// The Chinese name of a field, for reasons.
pub fn field_label(name: &str) -> &str {
    FieldRole::of_name(name).map_or(name, |role| role.label())
}

/// What each comparison found, joined by `；`. Null levels are left out, except a missing ID.
pub fn reason(comparer: &Comparer, levels: &Levels, a: usize, b: usize, masked: bool) -> String {
    let settings = comparer.settings;
    let phrases: Vec<String> = settings
        .comparisons
        .iter()
        .enumerate()
        .filter_map(|(c, comparison)| {
            let label = field_label(&comparison.name);
            match levels.get(c) {
                Some(level) => Some(phrase(comparer, c, level, a, b, masked)),
                None if settings.exclusive_id == Some(comparison.feature)
                    && comparison.implied_by.is_none() =>
                {
                    Some(format!("{label}缺失或不可用，无法比对"))
                }
                None => None,
            }
        })
        .collect();
    phrases.join("；")
}

fn phrase(comparer: &Comparer, c: usize, level: usize, a: usize, b: usize, masked: bool) -> String {
    let comparison = &comparer.settings.comparisons[c];
    let label = field_label(&comparison.name);
    let table = comparer.table;
    let test = comparison.levels[level].test;
    match (&table.columns[comparison.feature], test) {
        (Column::Id(ids), _) => id_phrase(label, test, ids.get(a).digits(), ids.get(b).digits()),
        (Column::Name(names), LevelTest::Homophone) => {
            let (x, y) = (
                &names.entries[names.values[a] as usize],
                &names.entries[names.values[b] as usize],
            );
            let pairs = homophone_pairs(x, y).unwrap_or_default();
            match masked || pairs.is_empty() {
                true => format!("{label}同音"),
                false => {
                    let shown: Vec<String> =
                        pairs.iter().map(|(p, q)| format!("{p}/{q}")).collect();
                    format!("{label}同音（{}）", shown.join("，"))
                }
            }
        }
        (_, test) => level_phrase(
            label,
            comparer.table.features[comparison.feature].kind,
            test,
        ),
    }
}

fn id_phrase(label: &str, test: LevelTest, x: &[u8], y: &[u8]) -> String {
    let positions = differing_positions(x, y);
    let at = |i: usize| i + 1;
    match test {
        LevelTest::Exact => format!("{label}相同"),
        LevelTest::LegacyForm => format!("{label}相同（15位旧号码升位）"),
        LevelTest::OneSubstitution if !positions.is_empty() => {
            format!("{label}相差1位（第{}位）", at(positions[0]))
        }
        LevelTest::AdjacentTransposition if positions.len() == 2 => {
            format!(
                "{label}相邻两位颠倒（第{}、{}位）",
                at(positions[0]),
                at(positions[1])
            )
        }
        LevelTest::DamagedPrefix | LevelTest::DamagedRegion => {
            format!("{label}被Excel损坏，前{}位相同", x.len().min(y.len()))
        }
        LevelTest::SameRegionAndBirth => format!("{label}地区码和出生日期相同，顺序码不同"),
        LevelTest::SameBirth => format!("{label}出生日期相同，其余不同"),
        test => level_phrase(label, FeatureKind::Id, test),
    }
}

fn level_phrase(label: &str, kind: FeatureKind, test: LevelTest) -> String {
    match test {
        LevelTest::Exact => format!("{label}相同"),
        LevelTest::LegacyForm => format!("{label}相同（15位旧号码升位）"),
        LevelTest::OneSubstitution => format!("{label}相差1位"),
        LevelTest::AdjacentTransposition => format!("{label}相邻两位颠倒"),
        LevelTest::DamagedPrefix | LevelTest::DamagedRegion => {
            format!("{label}被Excel损坏，前几位相同")
        }
        LevelTest::SameRegionAndBirth => format!("{label}地区码和出生日期相同"),
        LevelTest::SameBirth => format!("{label}出生日期相同"),
        LevelTest::Traditional => format!("{label}繁简不同（转为简体后相同）"),
        LevelTest::Wildcard => format!("{label}除无法显示的生僻字（?）外相同"),
        LevelTest::Homophone => format!("{label}同音"),
        LevelTest::MinorityPart => format!("{label}为同一少数民族姓名的部分或换序"),
        LevelTest::JaroWinkler(t) | LevelTest::Jaro(t) => format!("{label}相近（相似度≥{t}）"),
        LevelTest::Levenshtein(k) | LevelTest::DamerauLevenshtein(k) => {
            format!("{label}相差不超过{k}个字符")
        }
        LevelTest::WithinDays(k) => format!("{label}相差不超过{k}天"),
        LevelTest::SameYear => format!("{label}年份相同"),
        LevelTest::SameCity => format!("{label}不同，但属同一地市"),
        LevelTest::Else if kind == FeatureKind::Id => format!("{label}不同"),
        LevelTest::Else => format!("{label}不同"),
    }
}

/// The decision on a pair, as a sentence.
pub fn decision_text(decision: Decision) -> &'static str {
    match decision {
        Decision::Linked => "已关联为同一人",
        Decision::Review(ReviewReason::Vetoed) => {
            "未关联：有一项比较否决了关联（如同一身份证号而姓名不同，疑为家人的身份证号）"
        }
        Decision::Review(ReviewReason::Ambiguous) => "未关联：另有他人同样匹配，需人工确认",
        Decision::Review(ReviewReason::BelowAccept) => {
            "未关联：匹配概率低于自动关联的阈值，需人工确认"
        }
        Decision::NotLinked => {
            "未关联：匹配概率过低，或会把两个不同的有效身份证号、同一名单的两行并为一人"
        }
    }
}

/// One bar of the waterfall.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub comparison: String,
    pub level: String,
    pub values: (String, String),
    pub m: Option<f64>,
    pub u: Option<f64>,
    pub weight: f64,
    pub tf_adjustment: f64,
    /// The match weight so far.
    pub cumulative: f64,
}

/// The prior, then every comparison: how the pair's match weight adds up.
pub fn waterfall(
    comparer: &Comparer,
    scorer: &Scorer,
    model: &Model,
    a: usize,
    b: usize,
    masked: bool,
) -> Vec<Bar> {
    let mut total = scorer.prior_weight();
    let mut bars = vec![Bar {
        comparison: "prior".into(),
        level: format!("λ = {:.3e}", model.probability_two_random_records_match),
        values: (String::new(), String::new()),
        m: None,
        u: None,
        weight: total,
        tf_adjustment: 0.0,
        cumulative: total,
    }];
    for step in scorer.steps(comparer, a, b) {
        let comparison = &comparer.settings.comparisons[step.comparison];
        total += step.weight + step.tf_adjustment;
        let shown = |row: usize| shown_value(comparer.table, comparison.feature, row, masked);
        bars.push(Bar {
            comparison: comparison.name.clone(),
            level: step
                .level
                .map_or("null".into(), |l| comparison.levels[l].label.clone()),
            values: (shown(a), shown(b)),
            m: step.level.map(|l| model.m(step.comparison, l)),
            u: step.level.map(|l| model.u(step.comparison, l)),
            weight: step.weight,
            tf_adjustment: step.tf_adjustment,
            cumulative: total,
        });
    }
    bars
}

fn shown_value(table: &LinkTable, feature: usize, row: usize, masked: bool) -> String {
    let Some(text) = table.display(feature, row) else {
        return "—".into();
    };
    if !masked {
        return text;
    }
    match table.features[feature].kind {
        FeatureKind::Id => mask_id(&text),
        FeatureKind::Date => format!("{}-**-**", text.get(..4).unwrap_or("")),
        FeatureKind::County => text,
        FeatureKind::Name | FeatureKind::Text => mask_name(&text),
    }
}

/// The waterfall as a text table, ending with the match weight and probability.
pub fn format_waterfall(bars: &[Bar]) -> String {
    let mut text = format!(
        "  {:<18} {:<26} {:<20} {:<20} {:>9} {:>9} {:>8} {:>6} {:>9}\n",
        "comparison", "level", "this row", "candidate", "m", "u", "weight", "tf", "total"
    );
    for bar in bars {
        let p = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.3e}"));
        text.push_str(&format!(
            "  {:<18} {:<26} {:<20} {:<20} {:>9} {:>9} {:>8.2} {:>6.2} {:>9.2}\n",
            bar.comparison,
            bar.level,
            bar.values.0,
            bar.values.1,
            p(bar.m),
            p(bar.u),
            bar.weight,
            bar.tf_adjustment,
            bar.cumulative
        ));
    }
    if let Some(last) = bars.last() {
        text.push_str(&format!(
            "  match weight {:.2}, match probability {:.6}\n",
            last.cumulative,
            probability(last.cumulative)
        ));
    }
    text
}
