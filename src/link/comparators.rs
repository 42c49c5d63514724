//! Pure tests of a pair of values, one per comparison level kind. Names are compared character
//! by character, never byte by byte (strsim works on `char`s); IDs digit by digit.

use chrono::Datelike;

use super::table::{day_to_date, IdState, IdValue, NameEntry};
use crate::config::link::LevelTest;

/// Whether an ID level holds. Both IDs are present (not `Missing`).
pub fn id_test(test: LevelTest, a: &IdValue, b: &IdValue) -> bool {
    let damaged = a.state == IdState::Damaged || b.state == IdState::Damaged;
    let (x, y) = (a.digits(), b.digits());
    match test {
        LevelTest::Exact => !damaged && x == y,
        LevelTest::LegacyForm => {
            !damaged && x == y && (a.state == IdState::Legacy || b.state == IdState::Legacy)
        }
        LevelTest::OneSubstitution => both_whole(a, b) && differing(x, y).count() == 1,
        LevelTest::AdjacentTransposition => both_whole(a, b) && is_adjacent_swap(x, y),
        LevelTest::DamagedPrefix => damaged && common_prefix_agrees(x, y, 14),
        LevelTest::DamagedRegion => damaged && common_prefix_agrees(x, y, 6),
        LevelTest::SameRegionAndBirth => x.len() >= 14 && y.len() >= 14 && x[..14] == y[..14],
        LevelTest::SameBirth => x.len() >= 14 && y.len() >= 14 && x[6..14] == y[6..14],
        LevelTest::Levenshtein(k) => {
            !damaged && strsim::levenshtein(a.text(), b.text()) <= k as usize
        }
        LevelTest::Else => true,
        _ => false,
    }
}

fn both_whole(a: &IdValue, b: &IdValue) -> bool {
    a.is_whole() && b.is_whole()
}

fn differing<'a>(x: &'a [u8], y: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    (0..x.len().min(y.len())).filter(move |&i| x[i] != y[i])
}

/// Positions where two IDs of the same length differ, for explanations.
pub fn differing_positions(x: &[u8], y: &[u8]) -> Vec<usize> {
    differing(x, y).collect()
}

fn is_adjacent_swap(x: &[u8], y: &[u8]) -> bool {
    let mut positions = differing(x, y);
    match (positions.next(), positions.next(), positions.next()) {
        (Some(i), Some(j), None) => j == i + 1 && x[i] == y[j] && x[j] == y[i],
        _ => false,
    }
}

/// The digits both IDs have agree, and there are at least `min` of them.
fn common_prefix_agrees(x: &[u8], y: &[u8], min: usize) -> bool {
    let common = x.len().min(y.len());
    common >= min && x[..common] == y[..common]
}

/// Whether a name level holds; `traditional` says either row's name had traditional
/// characters made simplified.
pub fn name_test(test: LevelTest, a: &NameEntry, b: &NameEntry, traditional: bool) -> bool {
    match test {
        LevelTest::Exact => a.chars == b.chars,
        LevelTest::Traditional => traditional && a.chars == b.chars,
        LevelTest::Wildcard => wildcard_equal(&a.chars, &b.chars),
        LevelTest::Homophone => !homophone_pairs(a, b).is_none_or(|p| p.is_empty()),
        LevelTest::MinorityPart => minority_parts_agree(a, b),
        LevelTest::Else => true,
        other => text_test(other, &a.key, &b.key),
    }
}

/// `?` stands for a character the export's encoding lost: equal wherever neither has one.
fn wildcard_equal(a: &[char], b: &[char]) -> bool {
    a.len() == b.len()
        && (a.contains(&'?') || b.contains(&'?'))
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || *x == '?' || *y == '?')
}

/// The syllables that differ but sound alike (晓/小, yan/䶮), when every other syllable is
/// equal; `None` when the names do not sound the same.
pub fn homophone_pairs<'a>(a: &'a NameEntry, b: &'a NameEntry) -> Option<Vec<(&'a str, &'a str)>> {
    if a.syllables.len() != b.syllables.len() {
        return None;
    }
    let mut pairs = Vec::new();
    for (i, (x, y)) in a.syllables.iter().zip(&b.syllables).enumerate() {
        if x == y {
            continue;
        }
        let (rx, ry) = (&a.readings[i], &b.readings[i]);
        if !rx.iter().any(|r| ry.contains(r)) {
            return None;
        }
        pairs.push((x.as_str(), y.as_str()));
    }
    Some(pairs)
}

/// Minority names (艾力·吐尔逊): the parts of the name with fewer parts are all among the
/// other's, or the parts are the same in another order.
fn minority_parts_agree(a: &NameEntry, b: &NameEntry) -> bool {
    if a.parts.len() == 1 && b.parts.len() == 1 {
        return false;
    }
    let (few, many) = match a.parts.len() <= b.parts.len() {
        true => (&a.parts, &b.parts),
        false => (&b.parts, &a.parts),
    };
    let sorted = |parts: &[String]| {
        let mut p = parts.to_vec();
        p.sort();
        p.concat()
    };
    few.iter()
        .all(|p| p.chars().count() >= 2 && many.contains(p))
        || sorted(few) == sorted(many)
        || (few.len() == 1 && many.iter().any(|m| *m == few[0]))
}

/// String similarity levels, on characters.
pub fn text_test(test: LevelTest, a: &str, b: &str) -> bool {
    match test {
        LevelTest::Exact => a == b,
        LevelTest::JaroWinkler(t) => strsim::jaro_winkler(a, b) >= t,
        LevelTest::Jaro(t) => strsim::jaro(a, b) >= t,
        LevelTest::Levenshtein(k) => strsim::levenshtein(a, b) <= k as usize,
        LevelTest::DamerauLevenshtein(k) => strsim::damerau_levenshtein(a, b) <= k as usize,
        LevelTest::SameCity => a.chars().count() >= 4 && a.chars().take(4).eq(b.chars().take(4)),
        LevelTest::Else => true,
        _ => false,
    }
}

/// Date levels on days from the common era.
pub fn date_test(test: LevelTest, a: i32, b: i32) -> bool {
    let (Some(x), Some(y)) = (day_to_date(a), day_to_date(b)) else {
        return false;
    };
    match test {
        LevelTest::Exact => a == b,
        LevelTest::WithinDays(k) => a.abs_diff(b) <= k,
        LevelTest::SameYear => x.year() == y.year(),
        LevelTest::Levenshtein(k) => {
            let text = |d: chrono::NaiveDate| d.format("%Y%m%d").to_string();
            strsim::levenshtein(&text(x), &text(y)) <= k as usize
        }
        LevelTest::Else => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::id_number::{parse_id, IdNumber};
    use proptest::prelude::*;

    fn id(text: &str) -> IdValue {
        let parsed = parse_id(text, false);
        let legacy = parsed
            .repairs
            .contains(&crate::normalize::id_number::IdRepair::Legacy15);
        IdValue::new(&parsed.id, legacy)
    }

    fn name(text: &str) -> NameEntry {
        use super::super::table::{Origin, TableBuilder, Value};
        let feature = crate::config::link::Feature {
            name: "name".into(),
            kind: crate::config::link::FeatureKind::Name,
        };
        let mut builder = TableBuilder::new(&[feature], vec!["test".into()]);
        let normalized = crate::normalize::name::normalize_name(text);
        let origin = Origin {
            group: 0,
            side: 0,
            source: 0,
        };
        builder.push(origin, &[Value::Name(&normalized)]);
        match builder.finish().columns.remove(0) {
            super::super::table::Column::Name(mut n) => n.entries.remove(1),
            _ => unreachable!(),
        }
    }

    const ID: &str = "11010519491231002X";

    #[test]
    fn id_levels() {
        let a = id(ID);
        assert!(id_test(LevelTest::Exact, &a, &id(ID)));
        assert!(id_test(
            LevelTest::OneSubstitution,
            &a,
            &id("11010519491231003X")
        ));
        assert!(!id_test(
            LevelTest::OneSubstitution,
            &a,
            &id("11010519491231004Y")
        ));
        assert!(id_test(
            LevelTest::AdjacentTransposition,
            &a,
            &id("11010519491231020X")
        ));
        assert!(!id_test(
            LevelTest::AdjacentTransposition,
            &a,
            &id("11010519491231200X")
        ));
        let damaged = IdValue::new(
            &IdNumber::Damaged {
                prefix: "110105194912310".into(),
            },
            false,
        );
        assert!(id_test(LevelTest::DamagedPrefix, &a, &damaged));
        assert!(!id_test(LevelTest::Exact, &a, &damaged));
        let region = IdValue::new(
            &IdNumber::Damaged {
                prefix: "110105".into(),
            },
            false,
        );
        assert!(!id_test(LevelTest::DamagedPrefix, &a, &region));
        assert!(id_test(LevelTest::DamagedRegion, &a, &region));
        assert!(id_test(LevelTest::SameBirth, &a, &id("42032519491231002X")));
        // A 15-digit legacy ID and its 18-digit form.
        let legacy = id("110105491231002");
        let upgraded = legacy.text().to_string();
        assert!(id_test(LevelTest::LegacyForm, &legacy, &id(&upgraded)));
        assert!(!id_test(
            LevelTest::LegacyForm,
            &id(&upgraded),
            &id(&upgraded)
        ));
    }

    #[test]
    fn name_levels() {
        let (a, b) = (name("王晓明"), name("王小明"));
        assert!(!name_test(LevelTest::Exact, &a, &b, false));
        assert!(name_test(LevelTest::Homophone, &a, &b, false));
        assert_eq!(homophone_pairs(&a, &b), Some(vec![("晓", "小")]));
        assert!(name_test(
            LevelTest::Homophone,
            &name("王yan"),
            &name("王䶮"),
            false
        ));
        assert!(!name_test(LevelTest::Homophone, &a, &name("王建明"), false));
        assert!(!name_test(LevelTest::Homophone, &a, &a, false));
        assert!(name_test(
            LevelTest::Exact,
            &name("張偉"),
            &name("张伟"),
            false
        ));
        assert!(name_test(
            LevelTest::Wildcard,
            &name("李?明"),
            &name("李䶮明"),
            false
        ));
        assert!(!name_test(
            LevelTest::Wildcard,
            &name("李?明"),
            &name("王䶮明"),
            false
        ));
        assert!(name_test(
            LevelTest::MinorityPart,
            &name("阿依古丽·买买提"),
            &name("阿依古丽"),
            false
        ));
        assert!(name_test(
            LevelTest::MinorityPart,
            &name("艾力·吐尔逊"),
            &name("吐尔逊·艾力"),
            false
        ));
        assert!(!name_test(
            LevelTest::MinorityPart,
            &name("王伟"),
            &name("王伟明"),
            false
        ));
        assert!(name_test(
            LevelTest::JaroWinkler(0.8),
            &a,
            &name("王晓敏"),
            false
        ));
        // Dots dropped or varied: the same name.
        assert!(name_test(
            LevelTest::Exact,
            &name("艾力吐尔逊"),
            &name("艾力•吐尔逊"),
            false
        ));
    }

    #[test]
    fn dates_and_words() {
        let day = |y, m, d| {
            super::super::table::date_to_day(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap())
        };
        assert!(date_test(
            LevelTest::WithinDays(3),
            day(2000, 1, 1),
            day(1999, 12, 30)
        ));
        assert!(date_test(
            LevelTest::Levenshtein(1),
            day(2000, 1, 1),
            day(2000, 1, 7)
        ));
        assert!(!date_test(
            LevelTest::SameYear,
            day(2000, 1, 1),
            day(1999, 12, 31)
        ));
        assert!(text_test(LevelTest::SameCity, "421181", "421102"));
        assert!(!text_test(LevelTest::SameCity, "421181", "420325"));
    }

    proptest! {
        /// Character-level: a name is one edit from itself with one character changed, however
        /// many bytes the characters take.
        #[test]
        fn one_character_is_one_edit(given in "[\u{4e00}-\u{9fa5}]{2,3}", c in "[\u{4e00}-\u{9fa5}]") {
            let mut chars: Vec<char> = given.chars().collect();
            prop_assume!(chars[1] != c.chars().next().unwrap());
            chars[1] = c.chars().next().unwrap();
            let changed: String = chars.iter().collect();
            prop_assert!(text_test(LevelTest::Levenshtein(1), &given, &changed));
            prop_assert!(!text_test(LevelTest::Levenshtein(0), &given, &changed));
        }

        /// A substituted digit is exactly one substitution and never a transposition.
        #[test]
        fn a_substitution_is_recognised(pos in 0usize..17, delta in 1u8..10) {
            let mut bytes = ID.as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let typo = IdValue::new(&IdNumber::Invalid {
                digits: String::from_utf8(bytes).unwrap(),
                defect: crate::normalize::id_number::IdDefect::CheckCharacter,
            }, false);
            prop_assert!(id_test(LevelTest::OneSubstitution, &id(ID), &typo));
            prop_assert!(!id_test(LevelTest::AdjacentTransposition, &id(ID), &typo));
            prop_assert!(!id_test(LevelTest::Exact, &id(ID), &typo));
        }
    }
}
