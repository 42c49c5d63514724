//! National student numbers (全国学籍号): `G` + the ID number recovers a blank ID; `J` + an
//! ID-shaped number means the child had no ID and is never read as one, but its digits are
//! still the child's registration region and birth date.

use chrono::NaiveDate;

use super::id_number::{birth_date, parse_id, IdNumber, ParsedId};

/// What a `J` number says of a child with no ID: the region of registration and the birth date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub region: String,
    pub birth_date: NaiveDate,
}

/// The ID a student number carries, if it is a `G` number.
pub fn id_from_student_number(raw: &str) -> Option<ParsedId> {
    let cleaned = super::text::clean_word(raw);
    let rest = cleaned.strip_prefix(['G', 'g'])?;
    let parsed = parse_id(rest, false);
    matches!(parsed.id, IdNumber::Valid(_)).then_some(parsed)
}

/// The region and birth date a `J` number carries: `J`, six region digits, eight of the birth
/// date, then a sequence and a check character (which is not checked: it is not an ID).
pub fn registration_of_j_number(raw: &str) -> Option<Registration> {
    let cleaned = super::text::clean_word(raw);
    let rest = cleaned.strip_prefix(['J', 'j'])?;
    let digits_at = |range: std::ops::Range<usize>| {
        rest.get(range)
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
    };
    if rest.chars().count() != 18 || digits_at(0..17).is_none() {
        return None;
    }
    Some(Registration {
        region: digits_at(0..6)?.to_string(),
        birth_date: birth_date(rest)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn j_numbers_carry_a_region_and_a_birth_date() {
        let found = registration_of_j_number(" j420325201001011234 ").unwrap();
        assert_eq!(found.region, "420325");
        assert_eq!(
            found.birth_date,
            NaiveDate::from_ymd_opt(2010, 1, 1).unwrap()
        );
        assert!(
            registration_of_j_number("J42032520101301123X").is_none(),
            "no 13th month"
        );
        assert!(registration_of_j_number("G420325201001011234").is_none());
        assert!(
            registration_of_j_number("J4203252010010112").is_none(),
            "too short"
        );
    }

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
        /// Any `J` + region + a real date + four more characters gives that region and date back.
        #[test]
        fn j_numbers_give_back_their_region_and_date(
            region in "[1-6][0-9]{5}", days in 0i64..40_000, tail in "[0-9]{3}[0-9X]",
        ) {
            let date = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(days);
            let number = format!("J{region}{}{tail}", date.format("%Y%m%d"));
            let found = registration_of_j_number(&number).unwrap();
            prop_assert_eq!(found.region, region);
            prop_assert_eq!(found.birth_date, date);
            prop_assert!(id_from_student_number(&number).is_none());
        }

        #[test]
        fn only_g_numbers_yield_ids(prefix in "[A-Z]", raw in "\\PC{0,20}") {
            let value = format!("{prefix}{raw}");
            if id_from_student_number(&value).is_some() {
                prop_assert_eq!(prefix, "G");
            }
        }
    }
}
