//! Readers that turn a CSV or spreadsheet file into rows of cells: every cell as text, with its
//! origin (text, number, date) kept so that later stages know an ID was in a number cell. A
//! file is read twice: its head (the first rows, to find and map the header), then its rows in
//! chunks, so a whole file is never held, as bytes, text or cells. CSV text comes a chunk of
//! whole records at a time, cut into pieces that are parsed in parallel.

use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::{ControlFlow, Range};
use std::path::Path;

use calamine::{Data, DataRef, Reader, Sheets};
use rayon::prelude::*;

use super::encoding::{text_chunks, TextEncoding};
use super::quoting::Quoting;
use super::ReadError;
use crate::model::date::from_excel_serial;
use crate::model::{Cell, CellOrigin, RejectReason};

/// The first rows of one part of a file (a CSV, or a sheet holding data).
pub struct Head {
    pub sheet: Option<String>,
    pub rows: Vec<Vec<Cell>>,
}

pub struct FileHead {
    pub parts: Vec<Head>,
    pub encoding: Option<TextEncoding>,
}

/// A CSV's head, read from `input` (whose encoding `survey` found): rows up to the first
/// non-blank one and `more` after it. Only the text those rows are in is read.
pub fn csv_head(
    input: impl Read + Send,
    encoding: TextEncoding,
    more: usize,
    max_fields: usize,
) -> Result<FileHead, ReadError> {
    let mut rows = Vec::new();
    let (mut first_nonblank, mut delimiter, mut failure) = (None, None, None);
    text_chunks(input, (encoding, Quoting::default()), |text| {
        let delimiter = *delimiter.get_or_insert_with(|| delimiter_of(text));
        let read = each_row(text, (delimiter, max_fields), None, |row| {
            let index = rows.len();
            if first_nonblank.is_none() && row.iter().any(|c| !c.is_blank()) {
                first_nonblank = Some(index);
            }
            rows.push(row);
            match first_nonblank.is_some_and(|first| index >= first + more) {
                true => ControlFlow::Break(()),
                false => ControlFlow::Continue(()),
            }
        });
        match read {
            Err(e) => {
                failure = Some(ReadError::CsvLine {
                    line: rows.len() + 1,
                    record: Box::new(e),
                });
                ControlFlow::Break(())
            }
            Ok(()) if first_nonblank.is_some_and(|first| rows.len() > first + more) => {
                ControlFlow::Break(())
            }
            Ok(()) => ControlFlow::Continue(()),
        }
    })?;
    match failure {
        Some(failure) => Err(failure),
        None => Ok(FileHead {
            parts: vec![Head { sheet: None, rows }],
            encoding: Some(encoding),
        }),
    }
}

/// A row the reader could not read, with the reason.
fn unreadable(reason: RejectReason) -> Vec<Cell> {
    vec![Cell {
        text: Default::default(),
        origin: CellOrigin::Unreadable(reason),
    }]
}

/// The delimiter: a tab when the first line has tabs and no commas.
fn delimiter_of(text: &str) -> u8 {
    let first_line = text.lines().next().unwrap_or("");
    match first_line.contains('\t') && !first_line.contains(',') {
        true => b'\t',
        false => b',',
    }
}

fn csv_reader(delimiter: u8, bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes)
}

/// The next record's fields as cells, read into `record` (reused, so reading a row allocates
/// only its cells); `None` at the end. The text is UTF-8 (it was decoded), so each record is,
/// which `simdutf8` confirms quickly; each field is a slice of it.
fn next_row(
    reader: &mut csv::Reader<&[u8]>,
    record: &mut csv::ByteRecord,
    max_fields: usize,
) -> Result<Option<Vec<Cell>>, ReadError> {
    let refused = |e: csv::Error| ReadError::CsvRecord(e.to_string());
    if !reader.read_byte_record(record).map_err(refused)? {
        return Ok(None);
    }
    if record.len() > max_fields {
        return Ok(Some(unreadable(RejectReason::TooManyFields)));
    }
    let text = simdutf8::basic::from_utf8(record.as_slice())
        .map_err(|_| ReadError::CsvRecord("a field is not UTF-8 text".into()))?;
    let fields = (0..record.len()).filter_map(|i| record.range(i));
    Ok(Some(
        fields.map(|range| Cell::typed(&text[range])).collect(),
    ))
}

/// A CSV's rows after the first `skip`, read from `input` (whose encoding `survey` found) a
/// chunk of text at a time, handed to `each` in order, a window of parsed pieces at a time; a
/// piece holds about `piece_rows` rows. `fields` is the header's count, `max_fields` the most a
/// row may have.
pub fn csv_rows(
    input: impl Read + Send,
    encoding: TextEncoding,
    (skip, fields, max_fields): (usize, usize, usize),
    piece_rows: usize,
    mut each: impl FnMut(Vec<Vec<Cell>>),
) -> Result<(), ReadError> {
    let window = rayon::current_num_threads() * 4;
    let (mut delimiter, mut to_skip, mut failure) = (None, skip, None);
    text_chunks(input, (encoding, Quoting::recovering(fields)), |text| {
        let delimiter = *delimiter.get_or_insert_with(|| delimiter_of(text));
        let mut start = 0;
        if to_skip > 0 {
            let mut reader = csv_reader(delimiter, text.as_bytes());
            let mut record = csv::ByteRecord::new();
            while to_skip > 0 {
                match next_row(&mut reader, &mut record, max_fields) {
                    Ok(Some(_)) => to_skip -= 1,
                    Ok(None) => break,
                    Err(e) => {
                        failure = Some(ReadError::CsvLine {
                            line: skip - to_skip + 1,
                            record: Box::new(e),
                        });
                        return ControlFlow::Break(());
                    }
                }
            }
            start = reader.position().byte() as usize;
        }
        let quoting = Quoting::recovering(fields);
        let pieces = split_records(text.as_bytes(), start, piece_rows.max(1) * 64, quoting);
        for group in pieces.chunks(window) {
            let parsed: Vec<Result<Vec<Vec<Cell>>, ReadError>> = group
                .par_iter()
                .map(|piece| piece_rows_of(&text[piece.clone()], (delimiter, max_fields), fields))
                .collect();
            for rows in parsed {
                match rows {
                    Ok(rows) => each(rows),
                    Err(e) => {
                        failure = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    failure.map_or(Ok(()), Err)
}

/// The rows of a piece of whole records, in order.
fn piece_rows_of(
    text: &str,
    (delimiter, max_fields): (u8, usize),
    fields: usize,
) -> Result<Vec<Vec<Cell>>, ReadError> {
    let mut rows = Vec::new();
    each_row(text, (delimiter, max_fields), Some(fields), |row| {
        rows.push(row);
        ControlFlow::Continue(())
    })?;
    Ok(rows)
}

/// Hands `each` the rows of `text` (whole records) until it breaks. A line of more than
/// `max_fields` fields is passed over unparsed (the CSV parser would hold every field's
/// bounds): an unreadable row, `too_many_fields`. With `fields` (the header's), a record that
/// spans lines is a quoted field with line breaks (an address), unless it has another number
/// of fields, its quote never closes, or a line inside it holds half a row's delimiters: then
/// a quote opened by mistake swallowed the rows after it, so its first line is an unreadable
/// row (`unterminated_quote`) and reading starts again on the next line.
fn each_row(
    text: &str,
    (delimiter, max_fields): (u8, usize),
    fields: Option<usize>,
    mut each: impl FnMut(Vec<Cell>) -> ControlFlow<()>,
) -> Result<(), ReadError> {
    let mut offset = 0;
    'from_offset: loop {
        let rest = &text[offset..];
        let mut reader = csv_reader(delimiter, rest.as_bytes());
        let mut record = csv::ByteRecord::new();
        loop {
            let start = reader.position().byte() as usize;
            let line = rest[start..].split('\n').next().unwrap_or_default();
            let too_wide = line.len() > max_fields
                && line.bytes().filter(|b| *b == delimiter).count() >= max_fields;
            if too_wide {
                if each(unreadable(RejectReason::TooManyFields)).is_break() {
                    return Ok(());
                }
                offset += start + line.len() + 1;
                match offset < text.len() {
                    true => continue 'from_offset,
                    false => return Ok(()),
                }
            }
            let Some(row) = next_row(&mut reader, &mut record, max_fields)
                .map_err(|e| ReadError::Csv(Box::new(e)))?
            else {
                return Ok(());
            };
            let raw = &rest[start..reader.position().byte() as usize];
            if let Some(restart) = fields.and_then(|f| swallowing_quote(raw, &row, f, delimiter)) {
                if each(unreadable(RejectReason::UnterminatedQuote)).is_break() {
                    return Ok(());
                }
                offset += start + restart;
                continue 'from_offset;
            }
            if each(row).is_break() {
                return Ok(());
            }
        }
    }
}

/// Where reading must start again (from `raw`'s start) when the record `raw` was read by a
/// quote opened by mistake: after its first line.
fn swallowing_quote(raw: &str, row: &[Cell], fields: usize, delimiter: u8) -> Option<usize> {
    // The record's text, without the line breaks around it.
    let lead = raw.len() - raw.trim_start_matches(['\r', '\n']).len();
    let body = raw[lead..].trim_end_matches(['\r', '\n']);
    let line_break = body.find('\n');
    let swallowed = |after: &str| {
        let delimiters = |line: &str| line.bytes().filter(|b| *b == delimiter).count();
        after
            .lines()
            .any(|line| delimiters(line) >= (fields / 2).max(2))
    };
    let damaged = quote_left_open(body)
        || line_break.is_some_and(|at| row.len() != fields || swallowed(&body[at + 1..]));
    damaged.then(|| lead + line_break.map_or(body.len(), |at| at + 1))
}

/// Whether a quoted field of `record` (read from its start) is still open at its end.
fn quote_left_open(record: &str) -> bool {
    let mut quoting = Quoting::default();
    quoting.read(record.as_bytes(), 0, true, |_| ControlFlow::Continue(()));
    quoting.is_quoted()
}

/// Ranges of whole records of about `piece_bytes` each, from `start` (a record's start) to the
/// end: a piece ends at a line feed outside quotes, so a quoted field with line breaks stays
/// whole.
pub fn split_records(
    text: &[u8],
    start: usize,
    piece_bytes: usize,
    mut quoting: Quoting,
) -> Vec<Range<usize>> {
    let mut pieces = Vec::new();
    let mut piece_start = start;
    while piece_start < text.len() {
        let target = piece_start + piece_bytes;
        let end = quoting.read(text, piece_start, true, |end| match end >= target {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        });
        pieces.push(piece_start..end);
        piece_start = end;
    }
    pieces
}

/// Every sheet of an XLSX/XLS workbook that holds at least one non-empty cell, with its first
/// rows (up to the first non-blank one and `more` after it). An XLSX sheet is streamed, so only
/// those rows are parsed.
pub fn workbook_head(path: &Path, more: usize, max_fields: usize) -> Result<FileHead, ReadError> {
    let mut workbook = open_workbook(path)?;
    let mut parts = Vec::new();
    for name in workbook.sheet_names() {
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        let mut first = None;
        each_sheet_row(&mut workbook, (&name, max_fields), |row| {
            if first.is_none() && !is_blank(&row) {
                first = Some(rows.len());
            }
            rows.push(row);
            match first.is_some_and(|first| rows.len() > first + more) {
                true => ControlFlow::Break(()),
                false => ControlFlow::Continue(()),
            }
        })?;
        if first.is_some() {
            parts.push(Head {
                sheet: Some(name),
                rows,
            });
        }
    }
    Ok(FileHead {
        parts,
        encoding: None,
    })
}

fn open_workbook(path: &Path) -> Result<Sheets<BufReader<File>>, ReadError> {
    calamine::open_workbook_auto(path).map_err(|e| ReadError::Workbook(e.to_string()))
}

fn sheet_error(sheet: &str, problem: impl std::fmt::Display) -> ReadError {
    ReadError::Sheet {
        sheet: sheet.to_string(),
        problem: problem.to_string(),
    }
}

fn is_blank(row: &[Cell]) -> bool {
    row.iter().all(|c| c.is_blank())
}

/// A sheet's rows after the first `skip`, handed to `each` in chunks of `chunk_rows`. The
/// sheet is parsed on a thread of its own while `each` works on the chunk before (parsing a
/// sheet is sequential; `each` has the rayon pool).
pub fn sheet_rows(
    path: &Path,
    (sheet, max_fields): (&str, usize),
    skip: usize,
    chunk_rows: usize,
    mut each: impl FnMut(Vec<Vec<Cell>>),
) -> Result<(), ReadError> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Vec<Cell>>>(2);
    std::thread::scope(|scope| {
        let parser = scope.spawn(move || {
            parse_sheet(path, (sheet, max_fields), skip, chunk_rows, |chunk| {
                sender.send(chunk).is_ok()
            })
        });
        receiver.into_iter().for_each(&mut each);
        parser
            .join()
            .unwrap_or_else(|_| Err(sheet_error(sheet, "the reader stopped")))
    })
}

/// Parses a sheet's rows after the first `skip`, handing them to `send` in chunks of
/// `chunk_rows`, until `send` says it wants no more (false).
pub fn parse_sheet(
    path: &Path,
    (sheet, max_fields): (&str, usize),
    skip: usize,
    chunk_rows: usize,
    mut send: impl FnMut(Vec<Vec<Cell>>) -> bool,
) -> Result<(), ReadError> {
    let chunk_rows = chunk_rows.max(1);
    let mut workbook = open_workbook(path)?;
    let (mut chunk, mut seen) = (Vec::with_capacity(chunk_rows), 0);
    let mut wanted = true;
    each_sheet_row(&mut workbook, (sheet, max_fields), |row| {
        seen += 1;
        if seen > skip {
            chunk.push(row);
        }
        if chunk.len() == chunk_rows {
            wanted = send(std::mem::replace(
                &mut chunk,
                Vec::with_capacity(chunk_rows),
            ));
        }
        match wanted {
            true => ControlFlow::Continue(()),
            false => ControlFlow::Break(()),
        }
    })?;
    if wanted && !chunk.is_empty() {
        send(chunk);
    }
    Ok(())
}

/// Every row of a sheet, from its first row (sheet row 1, column A) to its last with a value,
/// blank rows included, each cell at its column; `each` may stop early. An XLSX sheet is
/// streamed (Excel writes rows in order and calls a file with rows out of order damaged, so
/// such a sheet is an error); other workbooks are read whole.
fn each_sheet_row(
    workbook: &mut Sheets<BufReader<File>>,
    (sheet, max_fields): (&str, usize),
    mut each: impl FnMut(Vec<Cell>) -> ControlFlow<()>,
) -> Result<(), ReadError> {
    let error = |e: &dyn std::fmt::Display| sheet_error(sheet, e);
    let Sheets::Xlsx(xlsx) = workbook else {
        return whole_sheet_rows(workbook, (sheet, max_fields), each);
    };
    let mut cells = xlsx.worksheet_cells_reader(sheet).map_err(|e| error(&e))?;
    let mut rows = SheetRows::new(max_fields);
    while let Some(cell) = cells.next_cell().map_err(|e| error(&e))? {
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        let (row, column) = cell.get_position();
        if rows.is_behind(row) {
            let message = format!(
                "row {} comes after row {}: the sheet's rows are out of order (open and save it again in Excel or WPS)",
                row + 1,
                rows.next
            );
            return Err(error(&message));
        }
        if rows
            .place(row, column, cell_of_ref(cell.get_value()), &mut each)
            .is_break()
        {
            return Ok(());
        }
    }
    let _ = rows.flush(&mut each);
    Ok(())
}

/// A sheet read whole, its rows placed as `each_sheet_row` places them.
fn whole_sheet_rows(
    workbook: &mut Sheets<BufReader<File>>,
    (sheet, max_fields): (&str, usize),
    mut each: impl FnMut(Vec<Cell>) -> ControlFlow<()>,
) -> Result<(), ReadError> {
    let range = workbook
        .worksheet_range(sheet)
        .map_err(|e| sheet_error(sheet, e))?;
    let Some((first_row, first_column)) = range.start() else {
        return Ok(());
    };
    let blank_rows = (0..first_row).map(|_| Vec::new());
    let rows = range.rows().map(|row| {
        let filled = row.iter().rposition(|d| !matches!(d, Data::Empty));
        let width = first_column as usize + filled.map_or(0, |last| last + 1);
        if width > max_fields {
            return unreadable(RejectReason::TooManyFields);
        }
        let mut cells = vec![Cell::default(); first_column as usize];
        cells.extend(row.iter().take(width - first_column as usize).map(cell_of));
        cells
    });
    for row in blank_rows.chain(rows) {
        if each(row).is_break() {
            break;
        }
    }
    Ok(())
}

/// Rows built from a stream of cells in row order: each row is handed on when a cell of a
/// later row comes, with the blank rows between.
struct SheetRows {
    /// The row being filled (sheet row 1 is 0), and its cells: `None` once a cell stands past
    /// `max_fields` (the row is then unreadable, and its cells are not kept).
    current: Option<(u32, Option<Vec<Cell>>)>,
    /// The index of the next row to hand on.
    next: u32,
    max_fields: usize,
}

impl SheetRows {
    fn new(max_fields: usize) -> SheetRows {
        SheetRows {
            current: None,
            next: 0,
            max_fields,
        }
    }

    /// Whether a cell of `row` comes too late: its row was handed on already.
    fn is_behind(&self, row: u32) -> bool {
        match &self.current {
            Some((at, _)) => row < *at,
            None => row < self.next,
        }
    }

    fn place(
        &mut self,
        row: u32,
        column: u32,
        cell: Cell,
        each: &mut impl FnMut(Vec<Cell>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        if self.current.as_ref().is_some_and(|(at, _)| *at != row) {
            self.flush(each)?;
        }
        if self.current.is_none() {
            while self.next < row {
                self.next += 1;
                each(Vec::new())?;
            }
            self.current = Some((row, Some(Vec::new())));
        }
        let cells = &mut self.current.as_mut().expect("a row being filled").1;
        let column = column as usize;
        if column >= self.max_fields {
            *cells = None;
        }
        if let Some(cells) = cells {
            if cells.len() <= column {
                cells.resize(column + 1, Cell::default());
            }
            cells[column] = cell;
        }
        ControlFlow::Continue(())
    }

    /// Hands on the row being filled.
    fn flush(&mut self, each: &mut impl FnMut(Vec<Cell>) -> ControlFlow<()>) -> ControlFlow<()> {
        match self.current.take() {
            Some((row, cells)) => {
                self.next = row + 1;
                each(cells.unwrap_or_else(|| unreadable(RejectReason::TooManyFields)))
            }
            None => ControlFlow::Continue(()),
        }
    }
}

/// A streamed cell: shared strings are borrowed until here, so only the cell's own text is
/// copied.
fn cell_of_ref(data: &DataRef) -> Cell {
    match data {
        DataRef::SharedString(s) => Cell::typed(s),
        DataRef::String(s) => Cell::typed(s),
        other => cell_of(&Data::from(other.clone())),
    }
}

fn cell_of(data: &Data) -> Cell {
    let number = |text: String| Cell {
        text: text.into(),
        origin: CellOrigin::Number,
    };
    match data {
        Data::Empty => Cell::default(),
        Data::String(s) => Cell::typed(s),
        Data::Int(i) => number(i.to_string()),
        Data::Float(f) => number(float_text(*f)),
        Data::Bool(b) => Cell {
            text: if *b { "是" } else { "否" }.into(),
            origin: CellOrigin::Text,
        },
        Data::DateTime(dt) => match from_excel_serial(dt.as_f64()) {
            Some(date) => Cell {
                text: compact_str::format_compact!("{}", date.format("%Y-%m-%d")),
                origin: CellOrigin::Date,
            },
            None => number(float_text(dt.as_f64())),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell {
            text: s.as_str().into(),
            origin: CellOrigin::Date,
        },
        Data::Error(e) => Cell {
            text: compact_str::format_compact!("#{e:?}"),
            origin: CellOrigin::Text,
        },
    }
}

/// The shortest text that reads back as the same float, without an exponent: an ID in a
/// number cell shows as `420325199003071000`, as Excel shows it reformatted as text.
fn float_text(f: f64) -> String {
    f.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Rows as `SheetRows` hands them on, as texts, for cells given in stream order.
    fn streamed(cells: &[(u32, u32, String)], stop_after: usize) -> Result<Vec<Vec<String>>, u32> {
        let mut rows = SheetRows::new(16);
        let mut out = Vec::new();
        let mut each = |row: Vec<Cell>| {
            out.push(row.iter().map(|c| c.text.to_string()).collect::<Vec<_>>());
            match out.len() >= stop_after {
                true => ControlFlow::Break(()),
                false => ControlFlow::Continue(()),
            }
        };
        for (row, column, text) in cells {
            if rows.is_behind(*row) {
                return Err(*row);
            }
            if rows
                .place(*row, *column, Cell::typed(text), &mut each)
                .is_break()
            {
                return Ok(out);
            }
        }
        let _ = rows.flush(&mut each);
        Ok(out)
    }

    #[test]
    fn a_row_of_an_earlier_row_is_out_of_order() {
        let cells = [(3, 0, "a".into()), (1, 0, "b".into())];
        assert_eq!(streamed(&cells, usize::MAX), Err(1));
        let cells = [(1, 2, "a".into()), (1, 0, "b".into())];
        assert_eq!(
            streamed(&cells, usize::MAX).unwrap(),
            vec![vec![], vec!["b".to_string(), String::new(), "a".into()]]
        );
    }

    proptest! {
        /// Cells streamed row after row, in any column order within a row, make the rows of
        /// the grid they fill, from sheet row 1 to the last row with a value, blank rows and
        /// leading blank cells included; stopping after `stop` rows gives exactly those first.
        #[test]
        fn streamed_cells_make_the_grid(
            grid in proptest::collection::btree_map((0u32..12, 0u32..6), "[a-c]{1,2}", 0..30),
            shuffle in any::<u64>(),
            stop in 1usize..15,
        ) {
            let mut cells: Vec<(u32, u32, String)> =
                grid.iter().map(|(&(r, c), t)| (r, c, t.clone())).collect();
            // Shuffle columns within each row; rows stay in order.
            cells.sort_by_key(|&(r, c, _)| (r, (u64::from(c) ^ shuffle).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
            let last_row = grid.keys().map(|&(r, _)| r + 1).max().unwrap_or(0);
            let expected: Vec<Vec<String>> = (0..last_row)
                .map(|r| {
                    let width = grid.keys().filter(|&&(row, _)| row == r).map(|&(_, c)| c + 1).max().unwrap_or(0);
                    (0..width).map(|c| grid.get(&(r, c)).cloned().unwrap_or_default()).collect()
                })
                .collect();
            prop_assert_eq!(streamed(&cells, usize::MAX).unwrap(), expected.clone());
            let first: Vec<Vec<String>> = expected.into_iter().take(stop).collect();
            prop_assert_eq!(streamed(&cells, stop).unwrap(), first);
        }

        /// However the text is cut, the pieces hold the same records as the whole, quoted line
        /// breaks included.
        #[test]
        fn pieces_hold_whole_records(
            rows in proptest::collection::vec(("[a-c,\"]{0,4}", "(\"\"|[a-c\\n]){0,3}", any::<bool>()), 0..30),
            size in 1usize..40,
        ) {
            let text: String = rows
                .iter()
                .map(|(a, b, quote)| match quote {
                    true => format!("{a},\"{b}\"\n"),
                    false => format!("{a},x\n"),
                })
                .collect();
            let whole: Vec<Vec<String>> = csv_reader(delimiter_of(&text), text.as_bytes())
                .records()
                .map(|r| r.unwrap().iter().map(String::from).collect())
                .collect();
            let mut pieced = Vec::new();
            for piece in split_records(text.as_bytes(), 0, size, Quoting::default()) {
                let part = &text[piece];
                for r in csv_reader(delimiter_of(&text), part.as_bytes()).records() {
                    pieced.push(r.unwrap().iter().map(String::from).collect::<Vec<_>>());
                }
            }
            prop_assert_eq!(pieced, whole);
        }

        /// Any bytes at all, read as a CSV (its encoding found first) or as a workbook: rows or
        /// an error, never a panic.
        #[test]
        fn any_bytes_read_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
            if let Ok(survey) = crate::ingest::encoding::survey(|| Ok(bytes.as_slice()), |_| ()) {
                let _ = csv_head(bytes.as_slice(), survey.encoding, 10, 64);
                let _ = csv_rows(bytes.as_slice(), survey.encoding, (1, 9, 64), 7, |_| ());
            }
            let dir = tempfile::tempdir().unwrap();
            for name in ["x.xlsx", "x.xls"] {
                let path = dir.path().join(name);
                std::fs::write(&path, &bytes).unwrap();
                let _ = workbook_head(&path, 10, 64);
            }
        }

        /// A real workbook cut short anywhere: an error, never a panic.
        #[test]
        fn a_truncated_workbook_reads_without_panic(cut in 0usize..6000) {
            let book = include_bytes!("../../sample_data/dpf_registry_macheng.xlsx");
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("cut.xlsx");
            std::fs::write(&path, &book[..cut.min(book.len())]).unwrap();
            if let Ok(head) = workbook_head(&path, 10, 64) {
                for part in head.parts {
                    let _ = sheet_rows(&path, (part.sheet.as_deref().unwrap_or(""), 64), 1, 5, |_| ());
                }
            }
        }

        /// Lines of nine fields, some with a quote opened by mistake, a quoted comma, a quote
        /// inside a field: read in pieces of any size, every line is one row (read, or
        /// unreadable), so no row is ever lost.
        #[test]
        fn every_line_is_one_row_whatever_its_quotes(
            lines in proptest::collection::vec(
                proptest::collection::vec(prop_oneof!["", "[a-c]{1,3}", "\"[a-c]{1,2}", "[a-c]\"[a-c]", "\"[a-c],[a-c]\""], 9),
                1..40,
            ),
            piece_rows in 1usize..8,
            crlf in any::<bool>(),
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let text: String = lines.iter().map(|fields| fields.join(",") + end).collect();
            let mut rows = 0;
            csv_rows(text.as_bytes(), TextEncoding::Utf8, (0, 9, 64), piece_rows, |part| rows += part.len())
                .unwrap();
            prop_assert_eq!(rows, lines.len(), "{}", text);
        }
    }
}
