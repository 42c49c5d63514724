//! Person names: full-width folding, spaces removed, every middle-dot variant made `·`,
//! traditional -> simplified, `?` (a character the export's encoding could not hold) kept as
//! an unknown character, Private Use Area characters flagged.

use super::text::{fold_width, is_blank};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Name {
    /// The cleaned name; `?` stands for an unknown character.
    pub text: String,
    pub repairs: Vec<NameRepair>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameRepair {
    Spaces,
    WidthFolded,
    DotVariant,
    Traditional,
    UnknownCharacter,
    PrivateUseCharacter,
    ControlCharacter,
}

impl NameRepair {
    pub fn code(self) -> &'static str {
        match self {
            NameRepair::Spaces => "name_spaces_removed",
            NameRepair::WidthFolded => "name_full_width",
            NameRepair::DotVariant => "name_dot_variant",
            NameRepair::Traditional => "name_traditional",
            NameRepair::UnknownCharacter => "name_unknown_character",
            NameRepair::PrivateUseCharacter => "name_private_use_character",
            NameRepair::ControlCharacter => "name_control_characters",
        }
    }
}

const DOT_VARIANTS: [char; 8] = ['•', '．', '.', '・', '‧', '∙', '⋅', '･'];

impl Name {
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The name without middle dots, so `阿依古丽·买买提` and `阿依古丽买买提` compare equal.
    pub fn key(&self) -> String {
        self.text.chars().filter(|c| *c != '·').collect()
    }
}

pub fn normalize_name(raw: &str) -> Name {
    let mut repairs = Vec::new();
    let mut folded = String::with_capacity(raw.len());
    for c in raw.chars() {
        if is_blank(c) {
            repairs.push(NameRepair::Spaces);
            continue;
        }
        if c.is_control() {
            repairs.push(NameRepair::ControlCharacter);
            continue;
        }
        let f = fold_width(c);
        if f != c && !matches!(c, '？' | '．') {
            repairs.push(NameRepair::WidthFolded);
        }
        let f = match c {
            '？' => '?',
            _ if DOT_VARIANTS.contains(&c) => {
                repairs.push(NameRepair::DotVariant);
                '·'
            }
            _ => f,
        };
        if f == '?' {
            repairs.push(NameRepair::UnknownCharacter);
        }
        if ('\u{E000}'..='\u{F8FF}').contains(&f) {
            repairs.push(NameRepair::PrivateUseCharacter);
        }
        folded.push(f);
    }
    let text = fast2s::convert(&folded);
    if text != folded {
        repairs.push(NameRepair::Traditional);
    }
    repairs.sort();
    repairs.dedup();
    Name { text, repairs }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(normalize_name(" 王 小明 ").text, "王小明");
        assert_eq!(normalize_name("張偉").text, "张伟");
        assert_eq!(
            normalize_name("張偉").repairs,
            vec![NameRepair::Traditional]
        );
        assert_eq!(normalize_name("阿依古丽•买买提").text, "阿依古丽·买买提");
        assert_eq!(
            normalize_name("阿依古丽．买买提").key(),
            normalize_name("阿依古丽买买提").key()
        );
        let unknown = normalize_name("李？明");
        assert_eq!(unknown.text, "李?明");
        assert!(unknown.repairs.contains(&NameRepair::UnknownCharacter));
        assert!(normalize_name("王\u{E000}")
            .repairs
            .contains(&NameRepair::PrivateUseCharacter));
    }

    proptest! {
        #[test]
        fn normalizing_twice_changes_nothing(raw in "\\PC{0,12}") {
            let once = normalize_name(&raw);
            let twice = normalize_name(&once.text);
            prop_assert_eq!(&twice.text, &once.text);
        }

        /// Any text at all: a name with no control character and no blank in it.
        #[test]
        fn any_text_makes_a_clean_name(raw in any::<String>()) {
            let name = normalize_name(&raw);
            prop_assert!(!name.text.chars().any(|c| c.is_control() || c.is_whitespace()), "{:?}", name.text);
        }

        #[test]
        fn inserted_spaces_and_dot_variants_do_not_change_the_key(
            given in "[\u{4e00}-\u{4e5f}]{1,3}", sep in "[ ．•.·]?", pad in " {0,2}"
        ) {
            let plain = normalize_name(&format!("阿{given}买提")).key();
            let noisy = normalize_name(&format!("{pad}阿{given}{sep}买提{pad}")).key();
            prop_assert_eq!(plain, noisy);
        }
    }
}
