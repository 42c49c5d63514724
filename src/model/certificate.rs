//! Disability certificate numbers (第二代残疾人证号): the 18-character ID, then the category
//! digit (1 视力 … 7 多重), then the grade digit (1-4, 1 most severe).

use super::id_number::{parse_id, ParsedId};

pub const CATEGORIES: [&str; 7] = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"];
pub const GRADES: [&str; 4] = ["一级", "二级", "三级", "四级"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub id: ParsedId,
    pub category: Option<&'static str>,
    pub grade: Option<&'static str>,
}

/// Splits a certificate number into its ID, category and grade. A bare 18-character value is
/// read as the ID alone.
pub fn parse_certificate(raw: &str, from_number_cell: bool) -> Certificate {
    let chars: Vec<char> = raw
        .chars()
        .map(super::text::fold_width)
        .filter(|c| !super::text::is_blank(*c) && *c != '\'')
        .collect();
    if chars.len() != 20 {
        return Certificate {
            id: parse_id(raw, from_number_cell),
            category: None,
            grade: None,
        };
    }
    let id_part: String = chars[..18].iter().collect();
    let digit = |c: char, max: u32| c.to_digit(10).filter(|d| (1..=max).contains(d));
    Certificate {
        id: parse_id(&id_part, from_number_cell),
        category: digit(chars[18], 7).map(|d| CATEGORIES[d as usize - 1]),
        grade: digit(chars[19], 4).map(|d| GRADES[d as usize - 1]),
    }
}

/// A grade cell (`一级`, `1级`, `1`, `壹级`, `I级`) -> `一级`…`四级`.
pub fn normalize_grade(raw: &str) -> Option<&'static str> {
    let cleaned = super::text::clean_word(raw);
    let core = cleaned
        .trim_end_matches("残疾")
        .trim_end_matches('级')
        .trim_start_matches('第');
    let index = match core {
        "1" | "一" | "壹" | "I" => 0,
        "2" | "二" | "贰" | "II" => 1,
        "3" | "三" | "叁" | "III" => 2,
        "4" | "四" | "肆" | "IV" => 3,
        _ => return None,
    };
    Some(GRADES[index])
}

/// A category cell (`肢体`, `肢体残疾`, `4`) -> `视力`…`多重`.
pub fn normalize_category(raw: &str) -> Option<&'static str> {
    let cleaned = super::text::clean_word(raw);
    let core = cleaned.trim_end_matches("残疾");
    if let Some(d) = core.parse::<usize>().ok().filter(|d| (1..=7).contains(d)) {
        return Some(CATEGORIES[d - 1]);
    }
    CATEGORIES.iter().copied().find(|c| *c == core)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::id_number::IdNumber;
    use proptest::prelude::*;

    #[test]
    fn certificate_parts() {
        let cert = parse_certificate("11010519491231002X42", false);
        assert_eq!(cert.id.id, IdNumber::Valid("11010519491231002X".into()));
        assert_eq!((cert.category, cert.grade), (Some("肢体"), Some("二级")));
        let bare = parse_certificate("11010519491231002X", false);
        assert_eq!(
            (bare.id.id.valid(), bare.grade),
            (Some("11010519491231002X"), None)
        );
        assert_eq!(parse_certificate("11010519491231002X99", false).grade, None);
    }

    #[test]
    fn grades_and_categories() {
        for raw in ["一级", "1级", "1", "壹级", " 一 级 ", "I级", "一级残疾"] {
            assert_eq!(normalize_grade(raw), Some("一级"), "{raw}");
        }
        assert_eq!(normalize_grade("五级"), None);
        assert_eq!(normalize_category("精神残疾"), Some("精神"));
        assert_eq!(normalize_category("6"), Some("精神"));
        assert_eq!(normalize_category("其他"), None);
    }

    proptest! {
        #[test]
        fn category_and_grade_digits_round_trip(cat in 1usize..=7, grade in 1usize..=4) {
            let cert = parse_certificate(&format!("11010519491231002X{cat}{grade}"), false);
            prop_assert_eq!(cert.category, Some(CATEGORIES[cat - 1]));
            prop_assert_eq!(cert.grade, Some(GRADES[grade - 1]));
            prop_assert!(cert.id.id.valid().is_some());
        }

        #[test]
        fn never_panics(raw in "\\PC{0,25}") {
            let _ = parse_certificate(&raw, false);
            let _ = normalize_grade(&raw);
            let _ = normalize_category(&raw);
        }
    }
}
