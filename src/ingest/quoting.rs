//! Where CSV records end, as the csv crate reads them: at a line feed outside a quoted field. A
//! quote opens a quoted field only at a field's start (after a delimiter or a line break);
//! inside one, two quotes stand for a quote and one closes it. A quote anywhere else is a
//! character like any other, so a stray one (`5"`) does not hide the line feeds after it.
//!
//! A quote opened by mistake at a field's start (`"见附件` never closed) would swallow every row
//! after it. When recovering, a line inside a quoted field that holds as many delimiters as
//! half a row (commas or tabs) is taken for a row: the quote was a mistake, and the record
//! ended at the line feed before it.

use std::ops::ControlFlow;

/// Whether CSV text read from a record's start is inside a quoted field.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quoting {
    quoted: bool,
    /// When set: a line inside a quoted field with at least this many delimiters is a row.
    row_delimiters: Option<usize>,
}

impl Quoting {
    /// Quoting that recovers from a quote left open, for rows of `fields` fields.
    pub fn recovering(fields: usize) -> Quoting {
        Quoting {
            quoted: false,
            row_delimiters: Some((fields / 2).max(2)),
        }
    }

    pub fn is_quoted(self) -> bool {
        self.quoted
    }

    /// Whether the line starting at `text[at..]` is a row, by its delimiters; `None` when the
    /// line is not all there yet.
    fn is_row_at(self, text: &[u8], at: usize, complete: bool) -> Option<bool> {
        let Some(needed) = self.row_delimiters else {
            return Some(false);
        };
        let line = match memchr::memchr(b'\n', &text[at..]) {
            Some(end) => &text[at..at + end],
            None if complete => &text[at..],
            None => return None,
        };
        let count = |d: u8| line.iter().filter(|b| **b == d).count();
        Some(count(b',').max(count(b'\t')) >= needed)
    }

    /// Reads `text[from..]` (`text` starts at a record's start), handing `line_feed` the
    /// position after each line feed outside quotes until it breaks. Returns where reading
    /// stopped: after the line feed it broke at, at the end, or before a quote whose meaning the
    /// next byte decides when that byte is not there yet (`complete`: it never will be).
    pub fn read(
        &mut self,
        text: &[u8],
        from: usize,
        complete: bool,
        mut line_feed: impl FnMut(usize) -> ControlFlow<()>,
    ) -> usize {
        let mut escaped = None;
        for i in memchr::memchr2_iter(b'"', b'\n', &text[from..]).map(|i| from + i) {
            if escaped == Some(i) {
                continue;
            }
            match (text[i], self.quoted) {
                (b'\n', false) => {
                    if line_feed(i + 1).is_break() {
                        return i + 1;
                    }
                }
                (b'\n', true) => match self.is_row_at(text, i + 1, complete) {
                    None => return i,
                    Some(true) => {
                        self.quoted = false;
                        if line_feed(i + 1).is_break() {
                            return i + 1;
                        }
                    }
                    Some(false) => {}
                },
                (_, true) => match text.get(i + 1) {
                    Some(b'"') => escaped = Some(i + 1),
                    None if !complete => return i,
                    _ => self.quoted = false,
                },
                (_, false) => {
                    self.quoted = i == 0 || matches!(text[i - 1], b',' | b'\t' | b'\n' | b'\r');
                }
            }
        }
        text.len()
    }
}
