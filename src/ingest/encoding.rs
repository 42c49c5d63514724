//! Text encodings of CSV exports: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030
//! (a superset of GBK). Valid UTF-8 is never decoded as anything else; bytes that are neither
//! are an error, as is binary content. A file is read a block at a time, never whole: a
//! province's insurance export is gigabytes, and reading it holds one block of its bytes and
//! one chunk of its text.

use std::borrow::Cow;
use std::io::Read;
use std::ops::ControlFlow;

use encoding_rs::{Decoder, DecoderResult, Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};

use super::quoting::Quoting;
use super::ReadError;

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

/// Bytes read at a time (a block holds at least a byte order mark). Tests read a few bytes at a
/// time, so that characters, marks, quotes and records fall across blocks and chunks.
#[cfg(not(test))]
const BLOCK_BYTES: usize = 4 << 20;
#[cfg(test)]
const BLOCK_BYTES: usize = 5;
/// Text `text_chunks` hands on at a time, at least (but at the end of the text).
#[cfg(not(test))]
const CHUNK_BYTES: usize = 32 << 20;
#[cfg(test)]
const CHUNK_BYTES: usize = 16;

/// What reading a file through found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Survey {
    pub encoding: TextEncoding,
    /// Line feeds in the file: a CSV has at most one row more.
    pub line_feeds: usize,
}

/// Reads the bytes `open` gives to their end, a block at a time, handing each block to `raw`
/// (for a checksum), and tells their encoding, or why they are not text. Bytes that are not
/// UTF-8, or UTF-8 that may be GBK in disguise, are opened and read once more as GB18030.
pub fn survey<R: Read>(
    open: impl Fn() -> std::io::Result<R>,
    mut raw: impl FnMut(&[u8]),
) -> Result<Survey, ReadError> {
    let (mut line_feeds, mut nul) = (0, false);
    let mut read: Option<(Option<TextEncoding>, TextFacts)> = None;
    read_blocks(open(), |block, last| {
        raw(block);
        line_feeds += block.iter().filter(|&&b| b == b'\n').count();
        nul |= block.contains(&0);
        let (_, facts) = read.get_or_insert_with(|| {
            let (by_bom, decoder, bom) = decoder_of(block);
            (by_bom, TextFacts::new(decoder, bom))
        });
        facts.feed(block, last);
        ControlFlow::Continue(())
    })?;
    let Some((by_bom, facts)) = read else {
        return Err(ReadError::Empty);
    };
    let as_gb18030 = || -> Result<TextFacts, ReadError> {
        let mut facts = TextFacts::new(GB18030, 0);
        read_blocks(open(), |block, last| {
            facts.feed(block, last);
            ControlFlow::Continue(())
        })?;
        Ok(facts)
    };
    let found = |encoding| Survey {
        encoding,
        line_feeds,
    };
    let (encoding, text) = match (by_bom, facts.malformed_at) {
        (Some(TextEncoding::Utf16), Some(_)) => return Err(ReadError::NotUtf16),
        (Some(_), Some(at)) => return Err(ReadError::NotUtf8AfterBom(at + 3)),
        (Some(encoding), None) => return Ok(found(encoding)),
        _ if nul => return Err(ReadError::Binary("NUL bytes")),
        (None, None) if facts.cjk || !facts.two_byte => (TextEncoding::Utf8, facts),
        // A short GBK text can happen to be valid UTF-8 (`苹` is `C6 BB`, which UTF-8 reads as
        // `ƻ`): such text has two-byte UTF-8 letters and no Chinese at all, while Chinese
        // exports always have Chinese headers. It is GBK when GB18030 reads Chinese in it.
        (None, None) => match as_gb18030()? {
            gbk if gbk.malformed_at.is_none() && gbk.han => (TextEncoding::Gb18030, gbk),
            _ => (TextEncoding::Utf8, facts),
        },
        (None, Some(utf8_at)) => match as_gb18030()? {
            gbk if gbk.malformed_at.is_none() => (TextEncoding::Gb18030, gbk),
            gbk => {
                let place = |at: u64| -> Result<String, ReadError> {
                    Ok(format!("line {}, byte {}", line_of(&open, at)?, at + 1))
                };
                let gbk_place = gbk.malformed_at.map(place).transpose()?.unwrap_or_default();
                return Err(ReadError::TwoEncodings {
                    utf8_at: place(utf8_at)?,
                    gbk_at: gbk_place,
                });
            }
        },
    };
    match text.control * 100 > text.sampled {
        true => Err(ReadError::Binary("control characters")),
        false => Ok(found(encoding)),
    }
}

/// The 1-based line of byte `at` (0-based) of the file `open` opens.
fn line_of<R: Read>(open: &impl Fn() -> std::io::Result<R>, at: u64) -> Result<u64, ReadError> {
    let (mut seen, mut line) = (0u64, 1u64);
    read_blocks(open(), |block, _| {
        let before = block.len().min((at - seen.min(at)) as usize);
        line += block[..before].iter().filter(|&&b| b == b'\n').count() as u64;
        seen += block.len() as u64;
        match seen > at {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        }
    })?;
    Ok(line)
}

/// Decodes a CSV file's bytes in memory (UTF-8 is borrowed, not copied), or says why they are
/// not text.
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, TextEncoding), ReadError> {
    let encoding = survey(|| Ok(bytes), |_| ())?.encoding;
    let (_, decoder, bom) = decoder_of(bytes);
    let rest = &bytes[bom..];
    let text = match encoding {
        TextEncoding::Utf8 | TextEncoding::Utf8Bom => simdutf8::basic::from_utf8(rest)
            .map(Cow::Borrowed)
            .map_err(|_| ReadError::NotUtf8)?,
        TextEncoding::Utf16 => decoder.decode_without_bom_handling(rest).0,
        TextEncoding::Gb18030 => GB18030.decode_without_bom_handling(bytes).0,
    };
    Ok((text, encoding))
}

/// A CSV file's text, read from `input` a block at a time and decoded as `encoding` (which
/// `survey` found), handed to `each` in chunks of whole records until it breaks: a chunk ends
/// at a line feed outside quotes, or at the end of the text, so a quoted field with line
/// breaks stays whole. The file is read and decoded on a thread of its own, a chunk ahead of
/// `each`, which parses on the rayon pool. A chunk's buffer goes back to the reader once
/// parsed: a fresh one of tens of megabytes costs the system its pages cleared every time.
pub fn text_chunks(
    input: impl Read + Send,
    (encoding, quoting): (TextEncoding, Quoting),
    mut each: impl FnMut(&str) -> ControlFlow<()>,
) -> Result<(), ReadError> {
    let (sender, chunks) = std::sync::mpsc::sync_channel::<String>(1);
    let (give_back, parsed) = std::sync::mpsc::sync_channel::<String>(2);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let recycled = || parsed.try_recv().ok();
            decoded_chunks(input, (encoding, quoting), recycled, |chunk| {
                match sender.send(chunk) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(_) => ControlFlow::Break(()),
                }
            })
        });
        for chunk in chunks.iter() {
            if each(&chunk).is_break() {
                break;
            }
            // Dropped instead when the reader holds enough.
            let _ = give_back.try_send(chunk);
        }
        // The reader stops at its next chunk once nobody receives them.
        drop(chunks);
        reader.join().unwrap_or(Err(ReadError::ReaderStopped))
    })
}

/// `text_chunks`' chunks, made where they are read, each in a buffer `recycled` gives back
/// when it has one.
fn decoded_chunks(
    input: impl Read,
    (encoding, quoting): (TextEncoding, Quoting),
    mut recycled: impl FnMut() -> Option<String>,
    mut each: impl FnMut(String) -> ControlFlow<()>,
) -> Result<(), ReadError> {
    // A chunk's text and what follows its last record: room for a chunk and two blocks.
    let mut buffer = || {
        let mut text = recycled().unwrap_or_default();
        text.clear();
        text.reserve(CHUNK_BYTES + 2 * BLOCK_BYTES);
        text
    };
    let mut decoder: Option<BlockDecoder> = None;
    let mut pending = buffer();
    let mut cut = RecordCut {
        quoting,
        ..RecordCut::default()
    };
    let mut malformed_at = None;
    read_blocks(Ok(input), |block, last| {
        let decoder = decoder.get_or_insert_with(|| match encoding {
            TextEncoding::Gb18030 => BlockDecoder::new(GB18030, 0),
            _ => {
                let (_, decoder, bom) = decoder_of(block);
                BlockDecoder::new(decoder, bom)
            }
        });
        if let Err(at) = decoder.feed(block, last, &mut pending) {
            malformed_at = Some(at);
            return ControlFlow::Break(());
        }
        cut.scan(pending.as_bytes());
        let end = match last {
            true => pending.len(),
            false if pending.len() >= CHUNK_BYTES => cut.at,
            false => 0,
        };
        if end == 0 {
            return ControlFlow::Continue(());
        }
        // The text after the cut starts the next chunk.
        let mut next = buffer();
        next.push_str(&pending[end..]);
        let mut chunk = std::mem::replace(&mut pending, next);
        chunk.truncate(end);
        cut.moved(end);
        each(chunk)
    })?;
    match malformed_at {
        Some(at) => Err(ReadError::ChangedWhileRead {
            encoding: encoding.label(),
            byte: at,
        }),
        None => Ok(()),
    }
}

/// Where text may be cut between records: after its last line feed outside quotes.
#[derive(Default)]
struct RecordCut {
    /// Bytes read so far, and the quoting after them.
    scanned: usize,
    quoting: Quoting,
    /// Just after the last line feed outside quotes among them (0: none).
    at: usize,
}

impl RecordCut {
    fn scan(&mut self, text: &[u8]) {
        let new = &text[self.scanned..];
        // Most text has no quotes: its last line feed is the cut.
        if !self.quoting.is_quoted() && memchr::memchr(b'"', new).is_none() {
            if let Some(last) = memchr::memrchr(b'\n', new) {
                self.at = self.scanned + last + 1;
            }
            self.scanned = text.len();
            return;
        }
        let at = &mut self.at;
        self.scanned = self.quoting.read(text, self.scanned, false, |end| {
            *at = end;
            ControlFlow::Continue(())
        });
    }

    /// The first `n` bytes were handed on.
    fn moved(&mut self, n: usize) {
        // All of the text may go on unscanned: the last chunk, cut at its end.
        self.scanned = self.scanned.saturating_sub(n);
        self.at = self.at.saturating_sub(n);
    }
}

/// What a file's first bytes call for: the encoding their byte order mark names (if any), the
/// decoder (UTF-8 unless the mark is UTF-16's) and the mark's length.
fn decoder_of(first: &[u8]) -> (Option<TextEncoding>, &'static Encoding, usize) {
    match first {
        [0xEF, 0xBB, 0xBF, ..] => (Some(TextEncoding::Utf8Bom), UTF_8, 3),
        [0xFF, 0xFE, ..] => (Some(TextEncoding::Utf16), UTF_16LE, 2),
        [0xFE, 0xFF, ..] => (Some(TextEncoding::Utf16), UTF_16BE, 2),
        _ => (None, UTF_8, 0),
    }
}

/// Hands `each` the bytes of `input` a full block at a time, until `each` breaks; the last
/// block (which may be shorter, or empty) says so. An empty input hands none.
fn read_blocks(
    input: std::io::Result<impl Read>,
    mut each: impl FnMut(&[u8], bool) -> ControlFlow<()>,
) -> Result<(), ReadError> {
    let mut input = input?;
    let mut block = vec![0; BLOCK_BYTES].into_boxed_slice();
    let (mut filled, mut handed) = (0, false);
    loop {
        let read = input.read(&mut block[filled..])?;
        filled += read;
        let last = read == 0;
        if filled == block.len() || (last && (filled > 0 || handed)) {
            handed = true;
            if each(&block[..filled], last).is_break() {
                return Ok(());
            }
            filled = 0;
        }
        if last {
            return Ok(());
        }
    }
}

/// Decodes a file's bytes block after block, without replacing what is malformed.
struct BlockDecoder {
    decoder: Decoder,
    /// Bytes of a byte order mark still to skip.
    skip: usize,
    /// Bytes decoded so far (after the mark).
    offset: u64,
}

impl BlockDecoder {
    fn new(encoding: &'static Encoding, bom: usize) -> BlockDecoder {
        BlockDecoder {
            decoder: encoding.new_decoder_without_bom_handling(),
            skip: bom,
            offset: 0,
        }
    }

    /// Appends the text of the next bytes (`last`: the input ends with them) to `text`, or
    /// tells the offset of the first malformed byte.
    fn feed(&mut self, block: &[u8], last: bool, text: &mut String) -> Result<(), u64> {
        let skipped = self.skip.min(block.len());
        let mut rest = &block[skipped..];
        self.skip -= skipped;
        loop {
            let most = self
                .decoder
                .max_utf8_buffer_length_without_replacement(rest.len());
            text.reserve(most.unwrap_or(rest.len() * 3 + 16));
            let (result, read) = self
                .decoder
                .decode_to_string_without_replacement(rest, text, last);
            match result {
                DecoderResult::InputEmpty => {
                    self.offset += read as u64;
                    return Ok(());
                }
                DecoderResult::OutputFull => {
                    self.offset += read as u64;
                    rest = &rest[read..];
                }
                DecoderResult::Malformed(bad, after) => {
                    return Err(self.offset + read as u64 - u64::from(bad) - u64::from(after));
                }
            }
        }
    }
}

/// What one decoding of a file's bytes found: where it is malformed, whether it holds CJK
/// characters (from U+2E80), Chinese ones (from U+4E00) and two-byte UTF-8 letters, and how
/// many of its first characters are control characters (but line breaks and tabs).
struct TextFacts {
    decoder: BlockDecoder,
    /// The last block's text.
    text: String,
    malformed_at: Option<u64>,
    cjk: bool,
    han: bool,
    two_byte: bool,
    sampled: usize,
    control: usize,
}

/// Characters looked at for control characters: more than one in a hundred is binary.
const SAMPLED_CHARS: usize = 8192;

impl TextFacts {
    fn new(encoding: &'static Encoding, bom: usize) -> TextFacts {
        TextFacts {
            decoder: BlockDecoder::new(encoding, bom),
            text: String::new(),
            malformed_at: None,
            cjk: false,
            han: false,
            two_byte: false,
            sampled: 0,
            control: 0,
        }
    }

    fn feed(&mut self, block: &[u8], last: bool) {
        if self.malformed_at.is_some() {
            return;
        }
        self.text.clear();
        if let Err(at) = self.decoder.feed(block, last, &mut self.text) {
            self.malformed_at = Some(at);
            return;
        }
        for c in self.text.chars().take(SAMPLED_CHARS - self.sampled) {
            self.sampled += 1;
            self.control += usize::from(c.is_control() && !matches!(c, '\r' | '\n' | '\t'));
        }
        // Once a Chinese character is seen, nothing more is asked of the text.
        for c in self.text.chars() {
            if self.han {
                break;
            }
            self.cjk |= c >= '\u{2E80}';
            self.han |= c >= '\u{4E00}';
            self.two_byte |= ('\u{80}'..'\u{800}').contains(&c);
        }
    }
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
        assert!(matches!(decode(b"").unwrap_err(), ReadError::Empty));
        let binary = decode(b"PK\x03\x04\x00\x00").unwrap_err();
        assert!(matches!(binary, ReadError::Binary(_)), "{binary}");
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

        /// An export written as GB18030 comes back unchanged. It starts with its Chinese
        /// header: a few Chinese characters alone can be valid UTF-8 by chance (`鋩丟` is, and
        /// reads as `䀁G`), a header's GBK bytes never are.
        #[test]
        fn gb18030_round_trips(body in "[\u{4e00}-\u{9fa5},\n0-9]{1,100}") {
            let text = format!("姓名,身份证号\n{body}");
            let (bytes, _, _) = GB18030.encode(&text);
            let (decoded, _) = decode(&bytes).unwrap();
            proptest::prop_assert_eq!(decoded.as_ref(), text.as_str());
        }

        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
        }
    }

    /// Text in every encoding a CSV may come in, as bytes, with the encoding it is.
    fn encoded(text: &str, pick: u8) -> (Vec<u8>, TextEncoding) {
        match pick % 4 {
            0 => (text.as_bytes().to_vec(), TextEncoding::Utf8),
            1 => (
                [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
                TextEncoding::Utf8Bom,
            ),
            2 => (GB18030.encode(text).0.into_owned(), TextEncoding::Gb18030),
            _ => {
                let units = text.encode_utf16().flat_map(u16::to_le_bytes);
                (
                    [0xFF, 0xFE].into_iter().chain(units).collect(),
                    TextEncoding::Utf16,
                )
            }
        }
    }

    proptest::proptest! {
        /// Read a few bytes at a time, a CSV's text comes out whole and in order, in chunks that
        /// each hold whole records (quoted line breaks included), and its line feeds counted.
        #[test]
        fn chunks_are_the_text_in_whole_records(
            // Quotes anywhere in the unquoted text: stray (`a"b`) or opening a field that never
            // closes; inside quoted fields, escaped quotes and line breaks.
            fields in proptest::collection::vec(("[\u{4e00}-\u{4e10}a,\"]{0,5}", "(\"\"|[\u{4e00}a\n,]){0,4}", proptest::prelude::any::<bool>()), 1..20),
            pick in 0u8..4,
        ) {
            let text: String = std::iter::once("姓名,备注\n".to_string())
                .chain(fields.iter().map(|(a, b, quoted)| match quoted {
                    true => format!("{a},\"{b}\"\n"),
                    false => format!("{a},{}\r\n", b.replace('\n', "")),
                }))
                .collect();
            let (bytes, encoding) = encoded(&text, pick);
            let survey = survey(|| Ok(bytes.as_slice()), |_| ()).unwrap();
            proptest::prop_assert_eq!(survey.encoding, encoding);
            proptest::prop_assert_eq!(survey.line_feeds, bytes.iter().filter(|&&b| b == b'\n').count());
            let records = |text: &str| -> Vec<csv::StringRecord> {
                csv::ReaderBuilder::new().has_headers(false).flexible(true)
                    .from_reader(text.as_bytes()).records().map(Result::unwrap).collect()
            };
            let (mut whole, mut chunked) = (String::new(), Vec::new());
            text_chunks(bytes.as_slice(), (encoding, Quoting::default()), |chunk| {
                whole.push_str(chunk);
                chunked.extend(records(chunk));
                ControlFlow::Continue(())
            }).unwrap();
            proptest::prop_assert_eq!(&whole, &text);
            proptest::prop_assert_eq!(chunked, records(&text));
        }

        /// Read a few bytes at a time, bytes are found to be what the rules say of their whole
        /// (restated plainly in `whole_says`), and their text is the whole decoded at once.
        #[test]
        fn blocks_tell_what_the_whole_tells(
            // The second kind is Chinese whose GBK bytes are also UTF-8 (`一` is `D2 BB`).
            text in proptest::prop_oneof![
                "[\u{4e00}-\u{4e05}a\u{2e80}\u{80}\u{1}\n]{0,40}",
                "[一为之苹a,\n]{1,10}",
            ],
            pick in 0u8..4,
            damage in proptest::option::of((0usize..200, proptest::prelude::any::<u8>())),
        ) {
            let (mut bytes, _) = encoded(&text, pick);
            if let Some((at, byte)) = damage.filter(|(at, _)| *at < bytes.len()) {
                bytes[at] = byte;
            }
            let found = survey(|| Ok(bytes.as_slice()), |_| ()).map(|s| s.encoding);
            proptest::prop_assert_eq!(found.as_ref().ok().copied(), whole_says(&bytes));
            if let Ok(encoding) = found {
                let mut read = String::new();
                text_chunks(bytes.as_slice(), (encoding, Quoting::default()), |chunk| {
                    read.push_str(chunk);
                    ControlFlow::Continue(())
                })
                .unwrap();
                let (decoder, bom) = match encoding {
                    TextEncoding::Gb18030 => (GB18030, 0),
                    _ => {
                        let (_, decoder, bom) = decoder_of(&bytes);
                        (decoder, bom)
                    }
                };
                proptest::prop_assert_eq!(read, decoder.decode_without_bom_handling(&bytes[bom..]).0);
            }
        }
    }

    /// The encoding rules on a whole text at once: a byte order mark decides; else NUL bytes
    /// are binary; valid UTF-8 is UTF-8 unless it has no CJK, has two-byte letters and reads
    /// as Chinese in GB18030; else GB18030 if it reads; and text with over 1 % control
    /// characters among its first 8,192 is binary.
    fn whole_says(bytes: &[u8]) -> Option<TextEncoding> {
        let strict = |encoding: &'static Encoding, bytes| {
            encoding.decode_without_bom_handling_and_without_replacement(bytes)
        };
        match bytes {
            [] => return None,
            [0xEF, 0xBB, 0xBF, rest @ ..] => {
                return strict(UTF_8, rest).map(|_| TextEncoding::Utf8Bom)
            }
            [0xFF, 0xFE, rest @ ..] => return strict(UTF_16LE, rest).map(|_| TextEncoding::Utf16),
            [0xFE, 0xFF, rest @ ..] => return strict(UTF_16BE, rest).map(|_| TextEncoding::Utf16),
            _ if bytes.contains(&0) => return None,
            _ => {}
        }
        let gb = strict(GB18030, bytes);
        let (encoding, text) = match std::str::from_utf8(bytes) {
            Ok(text) => {
                let cjk = text.chars().any(|c| c >= '\u{2E80}');
                let two_byte = text.chars().any(|c| ('\u{80}'..'\u{800}').contains(&c));
                match gb.filter(|gb| !cjk && two_byte && gb.chars().any(|c| c >= '\u{4E00}')) {
                    Some(gb) => (TextEncoding::Gb18030, gb.into_owned()),
                    None => (TextEncoding::Utf8, text.to_string()),
                }
            }
            Err(_) => (TextEncoding::Gb18030, gb?.into_owned()),
        };
        let first: Vec<char> = text.chars().take(8192).collect();
        let control = first
            .iter()
            .filter(|c| c.is_control() && !matches!(c, '\r' | '\n' | '\t'));
        (control.count() * 100 <= first.len()).then_some(encoding)
    }

    /// A stray quote inside a field (`5"`) is a character: the line feeds after it still cut.
    #[test]
    fn a_stray_quote_hides_no_line_feed() {
        let text = "身高,备注\n".to_string() + &"5\"3,a\"b\"\"c\n".repeat(20);
        let mut chunks = 0;
        text_chunks(
            text.as_bytes(),
            (TextEncoding::Utf8, Quoting::default()),
            |chunk| {
                assert!(chunk.ends_with('\n'));
                chunks += 1;
                ControlFlow::Continue(())
            },
        )
        .unwrap();
        assert!(chunks > 10, "{chunks} chunks");
    }

    #[test]
    fn reading_stops_when_asked() {
        let text = "a\nb\nc\n".repeat(20);
        let mut seen = 0;
        text_chunks(
            text.as_bytes(),
            (TextEncoding::Utf8, Quoting::default()),
            |chunk| {
                seen += chunk.len();
                ControlFlow::Break(())
            },
        )
        .unwrap();
        assert!(seen >= CHUNK_BYTES && seen < text.len());
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
