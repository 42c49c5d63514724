//! Pure tests of a pair of values, one per comparison level kind. Names are compared character
//! by character, never byte by byte (strsim works on `char`s); IDs digit by digit.

use chrono::Datelike;

use super::table::{day_to_date, readings_of, IdState, IdValue, NameEntry};
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
pub fn name_test(
    test: LevelTest,
    a: &NameEntry,
    b: &NameEntry,
    traditional: bool,
    similarity: &mut Similarity,
) -> bool {
    match test {
        LevelTest::Exact => same_name(a, b),
        LevelTest::Traditional => traditional && same_name(a, b),
        LevelTest::Wildcard => wildcard_equal(&a.chars, &b.chars),
        LevelTest::Homophone => sound_alike(a, b),
        LevelTest::MinorityPart => minority_parts_agree(a, b),
        LevelTest::Else => true,
        other => similarity.holds(other),
    }
}

/// One interned name, or two spellings of it (dots) with the same characters.
fn same_name(a: &NameEntry, b: &NameEntry) -> bool {
    std::ptr::eq(a, b) || a.chars == b.chars
}

/// `?` stands for a character the export's encoding lost: equal wherever neither has one.
fn wildcard_equal(a: &[char], b: &[char]) -> bool {
    if !a.contains(&'?') && !b.contains(&'?') {
        return false;
    }
    // A minority name's middle dot may be dropped where a character was lost too.
    let letters = |name: &[char]| {
        name.iter()
            .copied()
            .filter(|&c| c != '·')
            .collect::<Vec<_>>()
    };
    let (a, b) = (letters(a), letters(b));
    if a.len() == b.len() {
        return a
            .iter()
            .zip(&b)
            .all(|(x, y)| x == y || *x == '?' || *y == '?');
    }
    // Or the `?` is the dot itself, in a dot GBK cannot hold (`•`, `・`): a long name read
    // without it. A short (Han) name's `?` is always a character.
    let undotted = |name: &[char]| -> Option<Vec<char>> {
        let interior = name.len() >= MINORITY_NAME_CHARS
            && name.first() != Some(&'?')
            && name.last() != Some(&'?');
        interior.then(|| name.iter().copied().filter(|&c| c != '?').collect())
    };
    undotted(&a).is_some_and(|a| a == b) || undotted(&b).is_some_and(|b| a == b)
}

/// Fewer characters than any name with a middle dot has, and more than Han names have.
const MINORITY_NAME_CHARS: usize = 5;

/// The syllables that differ but sound alike (晓/小, yan/䶮), when every other syllable is
/// equal; `None` when the names do not sound the same.
pub fn homophone_pairs<'a>(a: &'a NameEntry, b: &'a NameEntry) -> Option<Vec<(&'a str, &'a str)>> {
    let mut pairs = Vec::new();
    for i in differing_syllables(a, b)? {
        if !read_alike(a, b, i) {
            return None;
        }
        pairs.push((a.syllable(i), b.syllable(i)));
    }
    Some(pairs)
}

/// Whether `homophone_pairs` finds at least one pair, without collecting them (a level test
/// runs once a scored pair).
fn sound_alike(a: &NameEntry, b: &NameEntry) -> bool {
    differing_syllables(a, b).is_some_and(|mut differing| {
        differing
            .next()
            .is_some_and(|first| read_alike(a, b, first) && differing.all(|i| read_alike(a, b, i)))
    })
}

/// The positions of the syllables that differ; `None` when the counts differ.
fn differing_syllables<'a>(
    a: &'a NameEntry,
    b: &'a NameEntry,
) -> Option<impl Iterator<Item = usize> + 'a> {
    (a.syllable_count() == b.syllable_count())
        .then(|| (0..a.syllable_count()).filter(|&i| a.syllable(i) != b.syllable(i)))
}

/// Whether syllable `i` of both names has a reading in common.
fn read_alike(a: &NameEntry, b: &NameEntry, i: usize) -> bool {
    readings_of(a.syllable(i)).any(|r| readings_of(b.syllable(i)).any(|s| s == r))
}

/// Minority names (艾力·吐尔逊): the parts of the name with fewer parts are all among the
/// other's, or the parts are the same in another order.
fn minority_parts_agree(a: &NameEntry, b: &NameEntry) -> bool {
    if !a.is_dotted() && !b.is_dotted() {
        return false;
    }
    let (a, b) = (a.parts(), b.parts());
    let (few, many) = match a.len() <= b.len() {
        true => (&a, &b),
        false => (&b, &a),
    };
    let sorted = |parts: &[&str]| {
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
    Similarity::new(a, b).holds(test)
}

/// The string similarities of one pair, each computed once however many levels ask for it
/// (`jaro_winkler >= 0.92`, `>= 0.88`, `>= 0.7`…), on bytes when both strings are ASCII and
/// on characters otherwise.
pub struct Similarity<'a> {
    a: &'a str,
    b: &'a str,
    units: Option<Units<'a>>,
    jaro_winkler: Option<f64>,
    jaro: Option<f64>,
    levenshtein: Option<f64>,
    osa: Option<f64>,
}

enum Units<'a> {
    Bytes(&'a [u8], &'a [u8]),
    Chars(Vec<char>, Vec<char>),
    CharSlices(&'a [char], &'a [char]),
}

impl<'a> Similarity<'a> {
    pub fn new(a: &'a str, b: &'a str) -> Similarity<'a> {
        Similarity {
            a,
            b,
            units: None,
            jaro_winkler: None,
            jaro: None,
            levenshtein: None,
            osa: None,
        }
    }

    /// Two names, already split into characters.
    pub fn of_names(a: &'a NameEntry, b: &'a NameEntry) -> Similarity<'a> {
        Similarity {
            a: a.key(),
            b: b.key(),
            units: Some(Units::CharSlices(&a.chars, &b.chars)),
            jaro_winkler: None,
            jaro: None,
            levenshtein: None,
            osa: None,
        }
    }

    pub fn holds(&mut self, test: LevelTest) -> bool {
        let (a, b) = (self.a, self.b);
        match test {
            LevelTest::Exact => a == b,
            LevelTest::JaroWinkler(t) => self.measure(Measure::JaroWinkler) >= t,
            LevelTest::Jaro(t) => self.measure(Measure::Jaro) >= t,
            LevelTest::Levenshtein(k) => self.measure(Measure::Levenshtein) <= f64::from(k),
            // Adjacent transpositions count one edit (the restricted form, optimal string
            // alignment).
            LevelTest::DamerauLevenshtein(k) => self.measure(Measure::Osa) <= f64::from(k),
            LevelTest::SameCity => {
                a.chars().count() >= 4 && a.chars().take(4).eq(b.chars().take(4))
            }
            LevelTest::Else => true,
            _ => false,
        }
    }

    fn measure(&mut self, measure: Measure) -> f64 {
        let (a, b) = (self.a, self.b);
        let units = self
            .units
            .get_or_insert_with(|| match a.is_ascii() && b.is_ascii() {
                true => Units::Bytes(a.as_bytes(), b.as_bytes()),
                false => Units::Chars(a.chars().collect(), b.chars().collect()),
            });
        let slot = match measure {
            Measure::JaroWinkler => &mut self.jaro_winkler,
            Measure::Jaro => &mut self.jaro,
            Measure::Levenshtein => &mut self.levenshtein,
            Measure::Osa => &mut self.osa,
        };
        *slot.get_or_insert_with(|| match units {
            Units::Bytes(x, y) => measure.of(x, y),
            Units::Chars(x, y) => measure.of(x, y),
            Units::CharSlices(x, y) => measure.of(x, y),
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Measure {
    JaroWinkler,
    Jaro,
    Levenshtein,
    Osa,
}

impl Measure {
    fn of<T: PartialEq>(self, a: &[T], b: &[T]) -> f64 {
        match self {
            Measure::JaroWinkler => jaro(a, b, true),
            Measure::Jaro => jaro(a, b, false),
            Measure::Levenshtein => edits(a, b, false) as f64,
            Measure::Osa => edits(a, b, true) as f64,
        }
    }
}

/// Jaro similarity (and Jaro-Winkler's prefix boost above 0.7), as strsim computes them.
/// Strings of up to 64 units keep their match flags in two words.
fn jaro<T: PartialEq>(a: &[T], b: &[T], winkler: bool) -> f64 {
    if a.is_empty() || b.is_empty() {
        return f64::from(u8::from(a.is_empty() && b.is_empty()));
    }
    if a.len() > 64 || b.len() > 64 {
        let (x, y): (Vec<&T>, Vec<&T>) = (a.iter().collect(), b.iter().collect());
        return match winkler {
            true => strsim::generic_jaro_winkler(&x, &y),
            false => strsim::generic_jaro(&x, &y),
        };
    }
    let range = (a.len().max(b.len()) / 2).saturating_sub(1);
    let (mut a_used, mut b_used) = (0u64, 0u64);
    for (i, x) in a.iter().enumerate() {
        let (low, high) = (i.saturating_sub(range), (i + range + 1).min(b.len()));
        if let Some(j) = (low..high).find(|&j| b_used & (1 << j) == 0 && b[j] == *x) {
            b_used |= 1 << j;
            a_used |= 1 << i;
        }
    }
    let matches = a_used.count_ones() as usize;
    if matches == 0 {
        return 0.0;
    }
    let flagged = |s: &'_ [T], used: u64| (0..s.len()).filter(move |&i| used & (1 << i) != 0);
    let transpositions = flagged(a, a_used)
        .zip(flagged(b, b_used))
        .filter(|&(i, j)| a[i] != b[j])
        .count()
        / 2;
    let m = matches as f64;
    let sim =
        (m / a.len() as f64 + m / b.len() as f64 + (matches - transpositions) as f64 / m) / 3.0;
    if !winkler || sim <= 0.7 {
        return sim;
    }
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    sim + 0.1 * prefix as f64 * (1.0 - sim)
}

/// Levenshtein distance, or with `transpositions` the optimal string alignment distance;
/// three rows of the table, reused.
fn edits<T: PartialEq>(a: &[T], b: &[T], transpositions: bool) -> usize {
    const SMALL: usize = 32;
    let width = b.len() + 1;
    let mut small = [0usize; 3 * SMALL];
    let mut large = Vec::new();
    let rows: &mut [usize] = match width <= SMALL {
        true => &mut small,
        false => {
            large.resize(3 * width, 0);
            &mut large
        }
    };
    let (mut before, mut previous, mut current) = (0, width, 2 * width);
    for (j, cell) in rows[previous..previous + width].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[current] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[previous + j] + 1)
                .min(rows[current + j - 1] + 1)
                .min(rows[previous + j - 1] + cost);
            if transpositions && i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[before + j - 2] + 1);
            }
            rows[current + j] = best;
        }
        (before, previous, current) = (previous, current, before);
    }
    rows[previous + b.len()]
}

/// Date levels on days from the common era.
pub fn date_test(test: LevelTest, a: i32, b: i32) -> bool {
    match test {
        LevelTest::Exact => a == b,
        LevelTest::WithinDays(k) => a.abs_diff(b) <= k,
        LevelTest::SameYear => {
            matches!((day_to_date(a), day_to_date(b)), (Some(x), Some(y)) if x.year() == y.year())
        }
        LevelTest::Levenshtein(k) => match (date_digits(a), date_digits(b)) {
            (Some(x), Some(y)) => edits(&x, &y, false) <= k as usize,
            _ => false,
        },
        LevelTest::Else => true,
        _ => false,
    }
}

/// `YYYYMMDD` as digits, without formatting a string.
fn date_digits(day: i32) -> Option<[u8; 8]> {
    let date = day_to_date(day)?;
    let number = (date.year().clamp(0, 9999) as u32) * 10_000 + date.month() * 100 + date.day();
    let mut digits = [0u8; 8];
    for (i, digit) in digits.iter_mut().enumerate() {
        *digit = (number / 10u32.pow(7 - i as u32) % 10) as u8;
    }
    Some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::id_number::{parse_id, IdNumber};
    use proptest::prelude::*;

    fn id(text: &str) -> IdValue {
        let parsed = parse_id(text, false);
        let legacy = parsed
            .repairs
            .contains(&crate::model::id_number::IdRepair::Legacy15);
        IdValue::new(&parsed.id, legacy)
    }

    fn name(text: &str) -> NameEntry {
        use super::super::table::{Origin, TableBuilder, Value};
        let feature = crate::config::link::Feature {
            name: "name".into(),
            kind: crate::config::link::FeatureKind::Name,
        };
        let mut builder = TableBuilder::new(&[feature], vec!["test".into()], 1);
        let normalized = crate::model::name::normalize_name(text);
        let origin = Origin {
            group: 0,
            side: 0,
            source: 0,
        };
        builder.push(origin, &[Value::Name(&normalized.text, false)]);
        match builder.finish().columns.remove(0) {
            super::super::table::Column::Name(mut n) => n.entries.remove(1),
            _ => unreachable!(),
        }
    }

    const ID: &str = "11010519491231002X";

    fn nt(test: LevelTest, a: &NameEntry, b: &NameEntry) -> bool {
        name_test(test, a, b, false, &mut Similarity::of_names(a, b))
    }

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
        assert!(!nt(LevelTest::Exact, &a, &b));
        assert!(nt(LevelTest::Homophone, &a, &b));
        assert_eq!(homophone_pairs(&a, &b), Some(vec![("晓", "小")]));
        assert!(nt(LevelTest::Homophone, &name("王yan"), &name("王䶮")));
        assert!(!nt(LevelTest::Homophone, &a, &name("王建明")));
        assert!(!nt(LevelTest::Homophone, &a, &a));
        // Every differing syllable must sound alike, and the syllable counts agree.
        assert!(!nt(LevelTest::Homophone, &a, &name("王小建")));
        assert!(!nt(LevelTest::Homophone, &name("王晓"), &a));
        assert!(nt(LevelTest::Homophone, &a, &name("汪小明")));
        assert!(nt(LevelTest::Exact, &name("張偉"), &name("张伟")));
        assert!(nt(LevelTest::Wildcard, &name("李?明"), &name("李䶮明")));
        assert!(!nt(LevelTest::Wildcard, &name("李?明"), &name("王䶮明")));
        assert!(nt(
            LevelTest::Wildcard,
            &name("帕提古丽热合?"),
            &name("帕提古丽·热合䶮")
        ));
        assert!(!nt(
            LevelTest::Wildcard,
            &name("帕提古丽热合"),
            &name("帕提古丽·热合")
        ));
        assert!(nt(
            LevelTest::MinorityPart,
            &name("阿依古丽·买买提"),
            &name("阿依古丽")
        ));
        assert!(nt(
            LevelTest::MinorityPart,
            &name("艾力·吐尔逊"),
            &name("吐尔逊·艾力")
        ));
        assert!(!nt(LevelTest::MinorityPart, &name("王伟"), &name("王伟明")));
        assert!(nt(LevelTest::JaroWinkler(0.8), &a, &name("王晓敏")));
        // Dots dropped or varied: the same name.
        assert!(nt(
            LevelTest::Exact,
            &name("艾力吐尔逊"),
            &name("艾力•吐尔逊")
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
        /// The similarities agree with strsim's, on ASCII and on Chinese text.
        #[test]
        fn similarities_match_strsim(a in "([a-d]|[张王晓小明]){0,7}", b in "([a-d]|[张王晓小明]){0,7}") {
            let mut s = Similarity::new(&a, &b);
            prop_assert!((s.measure(Measure::JaroWinkler) - strsim::jaro_winkler(&a, &b)).abs() < 1e-12);
            prop_assert!((s.measure(Measure::Jaro) - strsim::jaro(&a, &b)).abs() < 1e-12);
            prop_assert_eq!(s.measure(Measure::Levenshtein) as usize, strsim::levenshtein(&a, &b));
            prop_assert_eq!(s.measure(Measure::Osa) as usize, strsim::osa_distance(&a, &b));
        }

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
                digits: String::from_utf8(bytes).unwrap().into(),
                defect: crate::model::id_number::IdDefect::CheckCharacter,
            }, false);
            prop_assert!(id_test(LevelTest::OneSubstitution, &id(ID), &typo));
            prop_assert!(!id_test(LevelTest::AdjacentTransposition, &id(ID), &typo));
            prop_assert!(!id_test(LevelTest::Exact, &id(ID), &typo));
        }
    }
}
