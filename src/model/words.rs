//! What a cell of a value kind means: its canonical word (是/否, 男/女, a grade, a category, a
//! year), a date, an ID field's valid form or its damage, or present but not understood.

use super::id_number::{self, IdNumber};
use super::text::clean_word;
use super::{certificate, date, Cell, CellOrigin, FieldKind, Ids, Value, Words};

/// A cell's value once cleaned, before its text is interned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cleaned {
    Empty,
    Text(String),
    Date(chrono::NaiveDate),
    /// Present but not understood (a date cell saying `长期`).
    Unparsed(String),
    /// An ID cell Excel stored as a number, which lost its last digits.
    DamagedId(String),
    /// A valid ID (of an ID kind's field).
    Id(IdNumber),
}

impl Cleaned {
    /// The value, its text interned in `words` (an ID in `ids`).
    pub fn interned(self, words: &mut Words, ids: &mut Ids) -> Value {
        match self {
            Cleaned::Id(id) => Value::Id(ids.intern(&id)),
            Cleaned::Empty => Value::Empty,
            Cleaned::Text(t) => Value::Text(words.intern(&t)),
            Cleaned::Date(d) => Value::Date(d),
            Cleaned::Unparsed(t) => Value::Unparsed(words.intern(&t)),
            Cleaned::DamagedId(t) => Value::DamagedId(words.intern(&t)),
        }
    }
}

/// A sum of money as exports write it: `1200`, `1,200.00`, `1200元`, `￥1200`, `1200元/月`.
/// Words for numbers (`壹仟贰佰`) and negative sums are not understood.
pub fn parse_amount(text: &str) -> Option<f64> {
    let digits: String = text
        .trim_start_matches(['¥', '￥'])
        .trim_end_matches("/月")
        .trim_end_matches("元")
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' '))
        .collect();
    let well_formed = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
        && !digits.starts_with('.')
        && !digits.ends_with('.');
    well_formed.then(|| digits.parse().ok()).flatten()
}

/// A vocabulary word in the canonical form cells of `kind` are put in.
pub fn canonical_word(kind: FieldKind, raw: &str) -> String {
    match normalize_value(kind, &Cell::typed(raw)) {
        Cleaned::Text(t) => t,
        Cleaned::Id(id) => id.valid().unwrap_or_default().to_string(),
        _ => clean_word(raw),
    }
}

/// A cell of a value kind (not name, ID or county) -> its canonical value.
pub fn normalize_value(kind: FieldKind, cell: &Cell) -> Cleaned {
    let word = clean_word(cell.text.trim_start().trim_start_matches('\''));
    if word.is_empty() {
        return Cleaned::Empty;
    }
    let known = |v: Option<&str>| {
        v.map_or(Cleaned::Unparsed(word.clone()), |v| {
            Cleaned::Text(v.to_string())
        })
    };
    match kind {
        FieldKind::Date => {
            date::parse_date(&word).map_or(Cleaned::Unparsed(word.clone()), Cleaned::Date)
        }
        FieldKind::Year => known(parse_year(&word)),
        FieldKind::Grade => known(certificate::normalize_grade(&word)),
        FieldKind::Category => known(certificate::normalize_category(&word)),
        FieldKind::YesNo => known(match word.to_ascii_lowercase().as_str() {
            "是" | "y" | "yes" | "1" | "true" | "有" | "√" | "已享受" | "享受" | "已资助" => {
                Some("是")
            }
            "否" | "n" | "no" | "0" | "false" | "无" | "×" | "✗" | "未享受" | "不享受"
            | "未资助" => Some("否"),
            _ => None,
        }),
        FieldKind::Sex => known(match word.to_ascii_lowercase().as_str() {
            "男" | "1" | "m" | "male" => Some("男"),
            "女" | "2" | "f" | "female" => Some("女"),
            _ => None,
        }),
        FieldKind::Amount => parse_amount(&word).map_or(Cleaned::Unparsed(word.clone()), |a| {
            Cleaned::Text(a.to_string())
        }),
        FieldKind::Id => {
            match id_number::parse_id(&cell.text, cell.origin == CellOrigin::Number).id {
                id @ IdNumber::Valid(_) => Cleaned::Id(id),
                IdNumber::Damaged { .. } => Cleaned::DamagedId(word),
                _ => Cleaned::Unparsed(word),
            }
        }
        _ => Cleaned::Text(word),
    }
}

/// `2020`, `2020年`, `2020.0`, `2020年度` -> `2020`.
fn parse_year(word: &str) -> Option<&str> {
    let digits = word
        .trim_end_matches("年度")
        .trim_end_matches('年')
        .trim_end_matches(".0");
    (digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_and_crosses_are_yes_and_no() {
        assert_eq!(
            normalize_value(FieldKind::YesNo, &Cell::typed("√")),
            Cleaned::Text("是".into())
        );
        assert_eq!(
            normalize_value(FieldKind::YesNo, &Cell::typed("×")),
            Cleaned::Text("否".into())
        );
    }

    #[test]
    fn values() {
        assert_eq!(
            normalize_value(FieldKind::Year, &Cell::typed("2020年度")),
            Cleaned::Text("2020".into())
        );
        assert_eq!(
            normalize_value(FieldKind::YesNo, &Cell::typed("Y")),
            Cleaned::Text("是".into())
        );
        assert_eq!(
            normalize_value(FieldKind::Grade, &Cell::typed("2级")),
            Cleaned::Text("二级".into())
        );
        assert_eq!(
            normalize_value(FieldKind::Date, &Cell::typed("长期")),
            Cleaned::Unparsed("长期".into())
        );
        assert_eq!(
            normalize_value(FieldKind::Text, &Cell::typed(" 農村低保 ")),
            Cleaned::Text("农村低保".into())
        );
        assert_eq!(
            normalize_value(FieldKind::Text, &Cell::typed("  ")),
            Cleaned::Empty
        );
        assert_eq!(canonical_word(FieldKind::Grade, "1"), "一级");
    }

    #[test]
    fn amounts_as_exports_write_them() {
        let amount = |text: &str| normalize_value(FieldKind::Amount, &Cell::typed(text));
        for (text, value) in [
            ("1200", "1200"),
            ("1,200.00", "1200"),
            ("1，200.50元", "1200.5"),
            ("￥80", "80"),
            ("１２０元/月", "120"),
            ("0", "0"),
        ] {
            assert_eq!(amount(text), Cleaned::Text(value.into()), "{text}");
        }
        for text in ["壹佰", "-50", "1.2.3", "约100", "."] {
            assert_eq!(amount(text), Cleaned::Unparsed(clean_word(text)), "{text}");
        }
    }

    /// A valid ID in an ID field is one of the run's IDs: the same number as the same ID
    /// read as a record's own, in any of its written forms; a damaged or invalid one stays
    /// the cell's text.
    #[test]
    fn an_id_field_names_the_runs_ids() {
        let (mut words, mut ids) = (Words::default(), Ids::default());
        let own = ids.intern(&id_number::parse_id("420682196808220018", false).id);
        let read = |text: &str, origin, words: &mut Words, ids: &mut Ids| {
            let cell = Cell {
                text: text.into(),
                origin,
            };
            normalize_value(FieldKind::Id, &cell).interned(words, ids)
        };
        for written in [
            "420682196808220018",
            " 420682196808220018 ",
            "'420682196808220018",
        ] {
            let value = read(written, CellOrigin::Text, &mut words, &mut ids);
            assert_eq!(value, Value::Id(own), "{written}");
        }
        let damaged = read(
            "420682196808220000",
            CellOrigin::Number,
            &mut words,
            &mut ids,
        );
        assert!(matches!(damaged, Value::DamagedId(_)), "{damaged:?}");
        let invalid = read("420682196808220019", CellOrigin::Text, &mut words, &mut ids);
        assert!(
            matches!(invalid, Value::Unparsed(w) if words.text(w) == "420682196808220019"),
            "{invalid:?}"
        );
        assert_eq!(ids.len(), 2, "the missing ID and the one valid ID");
    }

    proptest::proptest! {
        /// A sum in cents, written with thousands separators, two decimals and 元, reads back
        /// as the same number.
        #[test]
        fn written_amounts_read_back(cents in 0u64..10_000_000_000) {
            let whole = (cents / 100).to_string();
            let mut grouped = String::new();
            for (i, digit) in whole.chars().enumerate() {
                if i > 0 && (whole.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(digit);
            }
            let text = format!("{grouped}.{:02}元", cents % 100);
            let read = parse_amount(&text).unwrap();
            proptest::prop_assert!((read * 100.0 - cents as f64).abs() < 0.5, "{text} -> {read}");
        }
    }
}
