//! Citizen ID numbers (GB 11643-1999): cosmetic repair, 15 -> 18 upgrade, check character, and
//! the *damaged* state of IDs that went through an Excel number cell (never trusted as an ID).

use chrono::NaiveDate;

use super::text::{fold_width, is_blank};

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// What an ID cell turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdNumber {
    Missing,
    /// 18 characters, a real birth date and a matching check character.
    Valid(IdText),
    /// Looks like an ID but fails: a typo, a wrong length. Kept for reports, never linked.
    Invalid {
        digits: IdText,
        defect: IdDefect,
    },
    /// Excel kept only 15 significant digits (number cell or scientific notation): the
    /// surviving leading digits are kept, the tail is unknown.
    Damaged {
        prefix: IdText,
    },
}

/// An ID's characters, held without a heap allocation: up to 23 bytes (24 with the length), a
/// longer value cut at a character boundary (it is invalid anyway).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdText {
    bytes: [u8; IdText::CAPACITY],
    len: u8,
}

impl IdText {
    const CAPACITY: usize = 23;

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// Its bytes, not checked as text again: the linker reads an ID's on every comparison.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// Its first 18 bytes, zeros past its length: an ID's, copied whole, not byte by byte.
    pub fn first_18(&self) -> [u8; 18] {
        let mut first = [0; 18];
        first.copy_from_slice(&self.bytes[..18]);
        first
    }
}

impl From<&str> for IdText {
    fn from(text: &str) -> IdText {
        let mut end = text.len().min(IdText::CAPACITY);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0; IdText::CAPACITY];
        bytes[..end].copy_from_slice(&text.as_bytes()[..end]);
        IdText {
            bytes,
            len: end as u8,
        }
    }
}

impl From<String> for IdText {
    fn from(text: String) -> IdText {
        IdText::from(text.as_str())
    }
}

impl std::ops::Deref for IdText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for IdText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for IdText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdDefect {
    CheckCharacter,
    BirthDate,
    Length,
    Characters,
}

/// Repairs that did not change the ID's meaning, counted in the data-quality report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdRepair {
    Cosmetic,
    LowercaseX,
    Legacy15,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedId {
    pub id: IdNumber,
    pub repairs: Vec<IdRepair>,
}

impl IdNumber {
    pub fn valid(&self) -> Option<&str> {
        match self {
            IdNumber::Valid(id) => Some(id.as_str()),
            _ => None,
        }
    }

    pub fn is_damaged(&self) -> bool {
        matches!(self, IdNumber::Damaged { .. })
    }

    /// A short code for reports: `valid`, `missing`, `damaged`, `invalid_check`…
    pub fn state(&self) -> &'static str {
        match self {
            IdNumber::Missing => "missing",
            IdNumber::Valid(_) => "valid",
            IdNumber::Damaged { .. } => "damaged_excel",
            IdNumber::Invalid { defect, .. } => defect.code(),
        }
    }
}

impl IdDefect {
    pub fn code(self) -> &'static str {
        match self {
            IdDefect::CheckCharacter => "invalid_check_character",
            IdDefect::BirthDate => "invalid_birth_date",
            IdDefect::Length => "invalid_length",
            IdDefect::Characters => "invalid_characters",
        }
    }
}

impl IdRepair {
    pub fn code(self) -> &'static str {
        match self {
            IdRepair::Cosmetic => "id_cosmetic_repaired",
            IdRepair::LowercaseX => "id_lowercase_x",
            IdRepair::Legacy15 => "id_legacy_15_upgraded",
        }
    }
}

/// An ASCII or full-width digit.
pub fn is_digit(c: char) -> bool {
    fold_width(c).is_ascii_digit()
}

/// The check character of the first 17 digits.
pub fn check_character(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Birth date of an 18-character ID (digits 7-14), if it is a real date.
pub fn birth_date(id18: &str) -> Option<NaiveDate> {
    let digits = id18.get(6..14)?;
    let n: u32 = digits.parse().ok()?;
    let date = NaiveDate::from_ymd_opt((n / 10000) as i32, n / 100 % 100, n % 100)?;
    (1880..=2100)
        .contains(&chrono::Datelike::year(&date))
        .then_some(date)
}

/// `男` for an odd sequence digit, `女` for an even one.
pub fn sex(id18: &str) -> Option<&'static str> {
    let digit = id18.as_bytes().get(16)?.checked_sub(b'0')?;
    Some(if digit % 2 == 1 { "男" } else { "女" })
}

/// Parses an ID cell. `from_number_cell` is true when the value came from a numeric
/// spreadsheet cell, where anything longer than 15 digits has lost its tail.
pub fn parse_id(raw: &str, from_number_cell: bool) -> ParsedId {
    let mut repairs = Vec::new();
    let cleaned: String = raw
        .chars()
        .map(fold_width)
        .filter(|c| !is_blank(*c) && !matches!(c, '\'' | '"' | '‘' | '’' | '`'))
        .map(|c| if c == '×' { 'X' } else { c })
        .collect();
    if cleaned.is_empty() {
        return ParsedId {
            id: IdNumber::Missing,
            repairs,
        };
    }
    if cleaned != raw {
        repairs.push(IdRepair::Cosmetic);
    }
    if let Some(prefix) = scientific_mantissa(&cleaned) {
        return ParsedId {
            id: IdNumber::Damaged {
                prefix: prefix.into(),
            },
            repairs,
        };
    }
    let digits = cleaned.strip_suffix(".0").unwrap_or(&cleaned);
    if from_number_cell && digits.len() > 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
        return ParsedId {
            id: IdNumber::Damaged {
                prefix: digits[..15].into(),
            },
            repairs,
        };
    }
    let mut text = digits.to_string();
    if text.ends_with('x') {
        text.make_ascii_uppercase();
        repairs.push(IdRepair::LowercaseX);
    }
    if text.len() == 15 && text.bytes().all(|b| b.is_ascii_digit()) {
        text = upgrade_legacy(&text);
        repairs.push(IdRepair::Legacy15);
    }
    ParsedId {
        id: classify18(text),
        repairs,
    }
}

fn classify18(text: String) -> IdNumber {
    let bytes = text.as_bytes();
    let defect = if bytes.len() != 18 {
        Some(if text.chars().all(|c| c.is_ascii_alphanumeric()) {
            IdDefect::Length
        } else {
            IdDefect::Characters
        })
    } else if !bytes[..17].iter().all(u8::is_ascii_digit)
        || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
    {
        Some(IdDefect::Characters)
    } else if birth_date(&text).is_none() {
        Some(IdDefect::BirthDate)
    } else if check_character(&bytes[..17]) != bytes[17] {
        Some(IdDefect::CheckCharacter)
    } else {
        None
    };
    match defect {
        None => IdNumber::Valid(text.into()),
        Some(defect) => IdNumber::Invalid {
            digits: text.into(),
            defect,
        },
    }
}

/// `4.20325E+17` -> the mantissa's digits (`420325`): all that survived.
fn scientific_mantissa(text: &str) -> Option<String> {
    let (mantissa, exponent) = text.split_once(['E', 'e'])?;
    let exponent_ok = exponent.trim_start_matches('+').parse::<u32>().is_ok();
    let mantissa_ok =
        !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    (exponent_ok && mantissa_ok).then(|| mantissa.replace('.', ""))
}

/// 15-digit legacy ID -> 18 digits: insert `19`, append the check character.
pub fn upgrade_legacy(id15: &str) -> String {
    let mut id = format!("{}19{}", &id15[..6], &id15[6..]);
    let check = check_character(id.as_bytes());
    id.push(check as char);
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A valid ID built from parts, with the check character computed independently below.
    fn make_id(region: u32, date: &str, seq: u32) -> String {
        let first17 = format!("{region:06}{date}{seq:03}");
        let sum: u32 = first17
            .chars()
            .zip([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
            .map(|(c, w)| c.to_digit(10).unwrap() * w)
            .sum();
        let check = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize];
        format!("{first17}{check}")
    }

    #[test]
    fn known_ids() {
        // GB 11643 worked example.
        assert_eq!(
            parse_id("11010519491231002X", false).id,
            IdNumber::Valid("11010519491231002X".into())
        );
        assert_eq!(
            parse_id("11010519491231002x", false).repairs,
            vec![IdRepair::LowercaseX]
        );
        assert_eq!(
            parse_id("11010519491231002×", false).id.valid(),
            Some("11010519491231002X")
        );
        let wrong = parse_id("110105194912310021", false).id;
        assert!(matches!(
            wrong,
            IdNumber::Invalid {
                defect: IdDefect::CheckCharacter,
                ..
            }
        ));
    }

    #[test]
    fn cosmetic_damage_is_repaired() {
        let id = make_id(420325, "19900307", 101);
        let full_width: String = id
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
            .collect();
        for raw in [
            format!("'{id}"),
            format!(" {id}\t"),
            full_width,
            format!("{} {}", &id[..6], &id[6..]),
        ] {
            let parsed = parse_id(&raw, false);
            assert_eq!(parsed.id, IdNumber::Valid(id.as_str().into()), "{raw}");
            assert_eq!(parsed.repairs, vec![IdRepair::Cosmetic]);
        }
    }

    #[test]
    fn legacy_15_is_upgraded() {
        let id18 = make_id(422101, "19650412", 213);
        let id15 = format!("{}{}", &id18[..6], &id18[8..17]);
        let parsed = parse_id(&id15, false);
        assert_eq!(parsed.id, IdNumber::Valid(id18.into()));
        assert_eq!(parsed.repairs, vec![IdRepair::Legacy15]);
        // A 15-digit number fits in a float exactly: a number cell does not damage it.
        assert!(parse_id(&id15, true).id.valid().is_some());
    }

    #[test]
    fn excel_damage_is_never_valid() {
        assert_eq!(
            parse_id("4.20325E+17", false).id,
            IdNumber::Damaged {
                prefix: "420325".into()
            }
        );
        let id = make_id(420325, "19900307", 101);
        let rounded = format!("{}000", &id[..15]);
        assert!(parse_id(&rounded, true).id.is_damaged());
        assert!(parse_id(&id, true).id.is_damaged());
    }

    #[test]
    fn birth_and_sex() {
        let id = make_id(420325, "19900307", 101);
        assert_eq!(birth_date(&id), NaiveDate::from_ymd_opt(1990, 3, 7));
        assert_eq!(sex(&id), Some("男"));
        assert_eq!(sex(&make_id(420325, "19900307", 102)), Some("女"));
        let bad_date = make_id(420325, "19900231", 101);
        assert!(matches!(
            parse_id(&bad_date, false).id,
            IdNumber::Invalid {
                defect: IdDefect::BirthDate,
                ..
            }
        ));
    }

    fn arb_id() -> impl Strategy<Value = String> {
        (110000u32..660000, 0i64..40000, 0u32..1000).prop_map(|(region, day, seq)| {
            let date = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(day);
            make_id(region, &date.format("%Y%m%d").to_string(), seq)
        })
    }

    proptest! {
        #[test]
        fn every_generated_id_is_valid(id in arb_id()) {
            prop_assert_eq!(parse_id(&id, false).id, IdNumber::Valid(id.into()));
        }

        /// An ID's text reads back as its bytes (cut at a character boundary past 23), and
        /// its first 18 bytes are those bytes, zeros after them.
        #[test]
        fn id_text_reads_back_as_its_bytes(text in "[0-9Xx\u{4e00}-\u{4e10}]{0,30}") {
            let id = IdText::from(text.as_str());
            prop_assert!(text.as_bytes().starts_with(id.as_bytes()));
            prop_assert_eq!(id.as_bytes().len() == text.len(), text.len() <= 23);
            prop_assert!(id.as_bytes().len() + 3 > text.len().min(23));
            prop_assert_eq!(id.as_str().as_bytes(), id.as_bytes());
            let mut padded = id.as_bytes().to_vec();
            padded.resize(23, 0);
            prop_assert_eq!(&id.first_18()[..], &padded[..18]);
        }

        /// Any text at all, from a text or a number cell: an ID state, never a panic.
        #[test]
        fn any_cell_parses_without_panic(raw in any::<String>(), number in any::<bool>()) {
            let _ = parse_id(&raw, number);
        }

        #[test]
        fn one_substituted_digit_is_never_valid(id in arb_id(), pos in 0usize..17, delta in 1u8..10) {
            let mut bytes = id.clone().into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert!(parse_id(&typo, false).id.valid().is_none());
        }

        #[test]
        fn cosmetic_noise_never_changes_the_id(id in arb_id(), pad in "[ \t']{0,3}", lower in any::<bool>()) {
            let raw = format!("{pad}{}{pad}", if lower { id.to_lowercase() } else { id.clone() });
            prop_assert_eq!(parse_id(&raw, false).id, IdNumber::Valid(id.into()));
        }

        #[test]
        fn parse_never_panics(raw in "\\PC{0,30}", number in any::<bool>()) {
            let _ = parse_id(&raw, number);
        }

        #[test]
        fn number_cells_of_18_digits_are_damaged(id in arb_id()) {
            prop_assume!(!id.ends_with('X'));
            prop_assert!(parse_id(&id, true).id.is_damaged());
        }
    }
}
