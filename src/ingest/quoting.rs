//! Where CSV records end, as the csv crate reads them: at a line feed outside a quoted field. A
//! quote opens a quoted field only at a field's start (after a delimiter or a line break);
//! inside one, two quotes stand for a quote and one closes it. A quote anywhere else is a
//! character like any other, so a stray one (`5"`) does not hide the line feeds after it.

use std::ops::ControlFlow;

/// Whether CSV text read from a record's start is inside a quoted field.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quoting {
    quoted: bool,
}

impl Quoting {
    pub fn is_quoted(self) -> bool {
        self.quoted
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
                (b'\n', true) => {}
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
