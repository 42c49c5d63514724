//! National student numbers (全国学籍号): `G` + the ID number recovers a blank ID; `J` + an
//! ID-shaped number means the child had no ID and is never read as one.

use super::id_number::{parse_id, IdNumber, ParsedId};

/// The ID a student number carries, if it is a `G` number.
pub fn id_from_student_number(raw: &str) -> Option<ParsedId> {
    let cleaned = super::text::clean_word(raw);
    let rest = cleaned.strip_prefix(['G', 'g'])?;
    let parsed = parse_id(rest, false);
    matches!(parsed.id, IdNumber::Valid(_)).then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn g_numbers_carry_the_id_and_j_numbers_do_not() {
        let parsed = id_from_student_number("G11010519491231002X").unwrap();
        assert_eq!(parsed.id.valid(), Some("11010519491231002X"));
        assert!(id_from_student_number("g11010519491231002x").is_some());
        assert!(id_from_student_number("J11010519491231002X").is_none());
        assert!(id_from_student_number("G110105194912310021").is_none());
        assert!(id_from_student_number("").is_none());
    }

    proptest! {
        #[test]
        fn only_g_numbers_yield_ids(prefix in "[A-Z]", raw in "\\PC{0,20}") {
            let value = format!("{prefix}{raw}");
            if id_from_student_number(&value).is_some() {
                prop_assert_eq!(prefix, "G");
            }
        }
    }
}
