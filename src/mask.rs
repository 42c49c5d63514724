//! The only way an ID number reaches a masked report or a message: the region code and the
//! last four characters. Names never reach the terminal at all.

/// `420325199003071016` -> `420325********1016`. Short values keep only their first character.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 12 {
        return chars.first().map_or(String::new(), |c| {
            format!("{c}{}", "*".repeat(chars.len() - 1))
        });
    }
    let hidden = chars.len() - 10;
    format!(
        "{}{}{}",
        chars[..6].iter().collect::<String>(),
        "*".repeat(hidden),
        chars[chars.len() - 4..].iter().collect::<String>()
    )
}

/// `张三丰` -> `张**`.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map_or(String::new(), |first| {
        format!("{first}{}", "*".repeat(chars.count()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(mask_id("420325199003071016"), "420325********1016");
        assert_eq!(mask_id("123"), "1**");
        assert_eq!(mask_id(""), "");
    }

    proptest! {
        #[test]
        fn a_masked_id_never_holds_the_birth_date(id in "[0-9]{17}[0-9X]") {
            let masked = mask_id(&id);
            prop_assert!(!masked.contains(&id[6..14]));
            prop_assert_eq!(masked.chars().count(), 18);
        }
    }
}
