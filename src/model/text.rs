//! Cosmetic cleaning shared by every normalizer: full-width folding, white space, and
//! traditional -> simplified. Nothing here decides what a value means.

/// Folds full-width ASCII (U+FF01..U+FF5E) and the ideographic space to their half-width forms.
pub fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// True for characters that exports put around or inside values by accident.
pub fn is_blank(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{FEFF}' | '\u{3000}')
}

/// A vocabulary value (status, program, reason…): width folded, blanks removed, simplified.
pub fn clean_word(raw: &str) -> String {
    let folded: String = raw
        .chars()
        .map(fold_width)
        .filter(|c| !is_blank(*c))
        .collect();
    match folded.is_ascii() {
        true => folded,
        false => fast2s::convert(&folded),
    }
}

/// A header: like a word, and the bracket forms `（）` and `()` made the same.
pub fn clean_header(raw: &str) -> String {
    clean_word(raw.trim_start_matches('\''))
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    let fits = text.len() >= first.len() + last.len();
    if !fits || !text.starts_with(first) || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_and_simplified() {
        assert_eq!(clean_word(" 農村　低保 "), "农村低保");
        assert_eq!(clean_word("ＡＢ１"), "AB1");
        assert_eq!(clean_header("县（市、区）"), "县(市、区)");
    }

    #[test]
    fn globs() {
        assert!(glob_matches("*姓名", "救助对象姓名"));
        assert!(!glob_matches("*姓名", "姓名拼音"));
        assert!(glob_matches("户主*身份*", "户主身份证号"));
        assert!(glob_matches("*学籍*状态*", "学籍当前状态"));
        assert!(!glob_matches("*学籍*状态*", "状态学籍"));
        assert!(glob_matches("姓名", "姓名"));
        assert!(!glob_matches("a*a", "a"));
        assert!(!glob_matches("*注销*日期*", "补贴whilethe注销"));
    }

    proptest::proptest! {
        #[test]
        fn globs_never_panic(pattern in "[*a注销]{0,6}", text in "[a注销日期]{0,8}") {
            let _ = glob_matches(&pattern, &text);
        }

        #[test]
        fn a_star_around_a_text_matches_it(text in "\\PC{0,8}") {
            let (pattern, haystack) = (format!("*{text}*"), format!("x{text}y"));
            proptest::prop_assert!(glob_matches(&pattern, &haystack));
        }
    }
}
