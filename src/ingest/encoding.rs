//! Text encodings of CSV exports: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030
//! (a superset of GBK). Valid UTF-8 is never decoded as anything else; bytes that are neither
//! are an error, as is binary content. UTF-8 is checked with `simdutf8`: a province's exports
//! are gigabytes of it.

use std::borrow::Cow;

use encoding_rs::{GB18030, UTF_16BE, UTF_16LE};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16,
    Gb18030,
}

impl TextEncoding {
    pub fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 with BOM",
            TextEncoding::Utf16 => "UTF-16",
            TextEncoding::Gb18030 => "GBK/GB18030",
        }
    }
}

/// Decodes a CSV file's bytes (UTF-8 is borrowed, not copied), or says why they are not text.
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, TextEncoding), String> {
    if bytes.is_empty() {
        return Err("the file is empty (0 bytes)".into());
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return simdutf8::compat::from_utf8(rest)
            .map(|s| (Cow::Borrowed(s), TextEncoding::Utf8Bom))
            .map_err(|e| {
                format!(
                    "starts with a UTF-8 BOM but is not UTF-8 (byte {})",
                    e.valid_up_to() + 3
                )
            });
    }
    for (bom, encoding) in [(b"\xFF\xFE", UTF_16LE), (b"\xFE\xFF", UTF_16BE)] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            let (text, had_errors) = encoding.decode_without_bom_handling(rest);
            return match had_errors {
                false => Ok((text, TextEncoding::Utf16)),
                true => Err("starts with a UTF-16 BOM but is not UTF-16".into()),
            };
        }
    }
    if bytes.contains(&0) {
        return Err("binary content (NUL bytes): not a CSV text file".into());
    }
    let gb18030 = || GB18030.decode_without_bom_handling_and_without_replacement(bytes);
    let (text, encoding) = match simdutf8::basic::from_utf8(bytes) {
        Ok(text) if !is_gbk_in_disguise(text) => (Cow::Borrowed(text), TextEncoding::Utf8),
        _ => match gb18030() {
            Some(text) => (text, TextEncoding::Gb18030),
            None => return Err("neither UTF-8 nor GBK/GB18030 text".into()),
        },
    };
    if looks_binary(&text) {
        return Err("binary content (control characters): not a CSV text file".into());
    }
    Ok((text, encoding))
}

/// A short GBK text can happen to be valid UTF-8 (`苹` is `C6 BB`, which UTF-8 reads as `ƻ`).
/// Such text has two-byte UTF-8 letters and no Chinese at all; Chinese exports always have
/// Chinese headers, so valid UTF-8 that holds any CJK character is always read as UTF-8.
fn is_gbk_in_disguise(text: &str) -> bool {
    // CJK first: an export's header has it, so its rows are not scanned.
    let has_cjk = || text.chars().any(|c| c >= '\u{2E80}');
    let has_two_byte = || text.chars().any(|c| ('\u{80}'..'\u{800}').contains(&c));
    !has_cjk()
        && has_two_byte()
        && GB18030
            .decode_without_bom_handling_and_without_replacement(text.as_bytes())
            .is_some_and(|g| g.chars().any(|c| c >= '\u{4E00}'))
}

fn looks_binary(text: &str) -> bool {
    let sample = text.chars().take(8192);
    let (mut total, mut control) = (0usize, 0usize);
    for c in sample {
        total += 1;
        if c.is_control() && !matches!(c, '\r' | '\n' | '\t') {
            control += 1;
        }
    }
    control * 100 > total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_told_apart() {
        let text = "姓名,身份证号\n张三,1\n";
        assert_eq!(decode(text.as_bytes()).unwrap().1, TextEncoding::Utf8);
        let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        let (decoded, encoding) = decode(&bom).unwrap();
        assert_eq!((decoded.as_ref(), encoding), (text, TextEncoding::Utf8Bom));
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let (decoded, encoding) = decode(&gbk).unwrap();
        assert_eq!((decoded.as_ref(), encoding), (text, TextEncoding::Gb18030));
        assert!(decode(b"").unwrap_err().contains("empty"));
        assert!(decode(b"PK\x03\x04\x00\x00")
            .unwrap_err()
            .contains("binary"));
    }

    proptest::proptest! {
        /// Valid UTF-8 with any Chinese in it (every export has Chinese headers) is never
        /// taken for GB18030, whatever else it holds.
        #[test]
        fn utf8_is_always_read_as_utf8(head in "[\u{4e00}-\u{9fa5}]{1,4}", rest in "[\\PC\n]{0,200}") {
            let text = format!("{head}{rest}");
            let (decoded, encoding) = decode(text.as_bytes()).unwrap();
            proptest::prop_assert_eq!(encoding, TextEncoding::Utf8);
            proptest::prop_assert_eq!(decoded.as_ref(), text.as_str());
        }

        /// Chinese text written as GB18030 comes back unchanged.
        #[test]
        fn gb18030_round_trips(text in "[\u{4e00}-\u{9fa5},\n0-9]{1,100}") {
            let (bytes, _, _) = GB18030.encode(&text);
            let (decoded, _) = decode(&bytes).unwrap();
            proptest::prop_assert_eq!(decoded.as_ref(), text.as_str());
        }

        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
        }
    }

    #[test]
    fn utf16_with_a_bom_is_read() {
        let text = "姓名\t身份证号\n张三\t1\n";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let (decoded, encoding) = decode(&bytes).unwrap();
        assert_eq!((decoded.as_ref(), encoding), (text, TextEncoding::Utf16));
    }

    #[test]
    fn rare_characters_survive_gb18030() {
        let text = "姓名\n王䶮\n李𫖯\n";
        let (bytes, _, _) = GB18030.encode(text);
        assert_eq!(decode(&bytes).unwrap().0, text);
    }
}
