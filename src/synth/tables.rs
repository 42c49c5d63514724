//! The synthetic exports as tables: each writes its rows, value by field, in its layout's
//! columns, into a CSV (in an encoding, `?` for what GBK cannot hold) or a sheet of a
//! workbook, and says where each row landed (the table as recon names it, and the 1-based
//! data row), for the truth. Workbooks are written in constant memory; one past a million rows
//! goes on in a new file.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use super::layout::{Encoding, Layout, Styles, SubsidyTarget, DISTRACTOR, SUBSIDY_BOOK};
use super::noise::{DateCell, IdCell, Noisy};
use super::SynthError;

/// A value of a row.
pub enum Value {
    Text(String),
    /// An ID typed into a number cell (XLSX only; a CSV writes its digits).
    Number(f64),
    Date(Option<NaiveDate>),
}

impl From<IdCell> for Value {
    fn from(cell: IdCell) -> Value {
        match cell {
            IdCell::Text(text) => Value::Text(text),
            IdCell::Number(number) => Value::Number(number),
        }
    }
}

/// The fields of a row that no column of its own holds: another household member, for the
/// columns about someone else (a guardian's name, a bank account holder's ID).
pub const OTHER_NAME: &str = "other_name";
pub const OTHER_ID: &str = "other_id";

/// A value for a column that holds nothing the rules read, by what its header says: someone
/// else's name or ID, a phone, an account, a date, a count, a word.
fn distractor_value(header: &str, row: &[(&'static str, Value)], noisy: &mut Noisy) -> String {
    let other = |field: &str| match row.iter().find(|(f, _)| *f == field) {
        Some((_, Value::Text(text))) => text.clone(),
        _ => String::new(),
    };
    let digits = |noisy: &mut Noisy, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + noisy.rng.below(10) as u8))
            .collect()
    };
    if header.contains("拼音") {
        "xing ming".into()
    } else if header.contains("类型") {
        "居民身份证".into()
    } else if header.contains("姓名") || header.contains("曾用名") {
        other(OTHER_NAME)
    } else if header.contains("身份证") || header.contains("证件号") {
        other(OTHER_ID)
    } else if header.contains("电话") {
        format!("13{}", digits(noisy, 9))
    } else if header.contains("账号") {
        format!("62{}", digits(noisy, 17))
    } else if header.contains("编号") || header.contains("卡号") || header.contains("辅号") {
        digits(noisy, 12)
    } else if header.contains("日期") || header.contains("年月") {
        format!(
            "20{}-0{}-1{}",
            10 + noisy.rng.below(10),
            1 + noisy.rng.below(9),
            noisy.rng.below(10)
        )
    } else if header.contains("人数") {
        (1 + noisy.rng.below(5)).to_string()
    } else {
        ["正常", "已婚", "城关镇", "集中供养", "一班", "无"][noisy.rng.below(6) as usize].into()
    }
}

/// Rows a workbook's sheet holds before the next file takes over (Excel holds 1,048,576).
const ROWS_PER_BOOK: u32 = 1_000_000;

/// A workbook being written, its sheets in constant memory. `{n}` in its name is its number,
/// for a register split over several files.
struct Book {
    dir: PathBuf,
    name: String,
    number: u32,
    as_of: NaiveDate,
    workbook: Workbook,
}

type SharedBook = Rc<RefCell<Book>>;

impl Book {
    fn open(dir: &Path, name: String, as_of: NaiveDate) -> Result<SharedBook, SynthError> {
        let book = Book {
            dir: dir.to_path_buf(),
            name,
            number: 1,
            as_of,
            workbook: new_workbook(as_of)?,
        };
        Ok(Rc::new(RefCell::new(book)))
    }

    fn file_name(&self) -> String {
        self.name.replace("{n}", &format!("{:02}", self.number))
    }

    fn save(&mut self) -> Result<(), SynthError> {
        let path = self.dir.join(self.file_name());
        self.workbook.save(&path).map_err(SynthError::from)
    }

    /// Saves this file and goes on in the next one.
    fn next_file(&mut self) -> Result<(), SynthError> {
        self.save()?;
        self.number += 1;
        self.workbook = new_workbook(self.as_of)?;
        Ok(())
    }
}

fn new_workbook(as_of: NaiveDate) -> Result<Workbook, SynthError> {
    let mut workbook = Workbook::new();
    // Dated by the world's as-of date, so a seed always gives the same bytes.
    let created =
        ExcelDateTime::from_ymd(as_of.year() as u16, as_of.month() as u8, as_of.day() as u8)?;
    workbook.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    Ok(workbook)
}

enum Out {
    Csv {
        file: BufWriter<File>,
        encoding: Encoding,
    },
    Sheet {
        book: SharedBook,
        name: &'static str,
        index: usize,
        /// The book holds this sheet only (it may go on in a next file).
        alone: bool,
    },
}

/// One table of an export.
pub struct Table {
    /// The table's name as recon names it: the file, or `file[sheet]` in a book of several.
    name: String,
    layout: Layout,
    out: Out,
    rows: u32,
}

impl Table {
    fn csv(
        dir: &Path,
        name: &str,
        encoding: Encoding,
        layout: &Layout,
    ) -> Result<Table, SynthError> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(|e| SynthError::io(&path, e))?;
        let mut table = Table {
            name: name.to_string(),
            layout: layout.clone(),
            out: Out::Csv {
                file: BufWriter::new(file),
                encoding,
            },
            rows: 0,
        };
        if encoding == Encoding::Utf8Bom {
            table.write_bytes(b"\xEF\xBB\xBF")?;
        }
        if let Some(title) = &layout.title {
            table.write_line(&[title.as_str()])?;
        }
        let headers: Vec<&str> = layout.columns.iter().map(|c| c.header.as_str()).collect();
        table.write_line(&headers)?;
        Ok(table)
    }

    /// A sheet of `book`; `alone` when no other sheet shares the book.
    fn sheet(
        book: &SharedBook,
        name: &'static str,
        layout: &Layout,
        alone: bool,
    ) -> Result<Table, SynthError> {
        let index = {
            let mut book = book.borrow_mut();
            let sheet = book.workbook.add_worksheet_with_constant_memory()?;
            sheet.set_name(name)?;
            book.workbook.worksheets().len() - 1
        };
        let table = Table {
            name: String::new(),
            layout: layout.clone(),
            out: Out::Sheet {
                book: book.clone(),
                name,
                index,
                alone,
            },
            rows: 0,
        };
        table.write_sheet_head()?;
        Ok(table)
    }

    /// The title (if any) and header of a sheet.
    fn write_sheet_head(&self) -> Result<(), SynthError> {
        let Out::Sheet { book, index, .. } = &self.out else {
            return Ok(());
        };
        let mut book = book.borrow_mut();
        let sheet = book.workbook.worksheet_from_index(*index)?;
        let mut row = 0;
        if let Some(title) = &self.layout.title {
            sheet.write_string(0, 0, title)?;
            row = 1;
        }
        for (c, column) in self.layout.columns.iter().enumerate() {
            sheet.write_string(row, c as u16, &column.header)?;
        }
        Ok(())
    }

    /// The name recon gives this table now.
    fn current_name(&self) -> String {
        match &self.out {
            Out::Csv { .. } => self.name.clone(),
            Out::Sheet {
                book, name, alone, ..
            } => {
                let file = book.borrow().file_name();
                match alone {
                    true => file,
                    false => format!("{file}[{name}]"),
                }
            }
        }
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), SynthError> {
        let Out::Csv { file, .. } = &mut self.out else {
            unreachable!("bytes are written to CSV tables only");
        };
        file.write_all(bytes)
            .map_err(|e| SynthError::io(Path::new(&self.name), e))
    }

    fn write_line(&mut self, cells: &[&str]) -> Result<(), SynthError> {
        let Out::Csv { encoding, .. } = &self.out else {
            unreachable!("lines are written to CSV tables only");
        };
        let mut line = cells.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",");
        line.push_str("\r\n");
        let bytes = match encoding {
            Encoding::Utf8 | Encoding::Utf8Bom => line.into_bytes(),
            Encoding::Gbk => encode_lossy(encoding_rs::GBK, &line),
            Encoding::Gb18030 => encoding_rs::GB18030.encode(&line).0.into_owned(),
        };
        self.write_bytes(&bytes)
    }

    /// Writes a row (values by field, in the layout's columns): the table and 1-based data
    /// row it landed in. A name a GBK export cannot hold is tagged, as its `?` will be.
    pub fn write(
        &mut self,
        row: &[(&'static str, Value)],
        noisy: &mut Noisy,
    ) -> Result<(String, u32), SynthError> {
        let value = |field: &str| row.iter().find(|(f, _)| *f == field).map(|(_, v)| v);
        if let Out::Sheet {
            book, alone: true, ..
        } = &self.out
        {
            if self.rows == ROWS_PER_BOOK {
                book.borrow_mut().next_file()?;
                self.reopen_sheet()?;
            }
        }
        let mut cells = Vec::with_capacity(self.layout.columns.len());
        for column in &self.layout.columns {
            cells.push(match value(column.field) {
                None if column.field == DISTRACTOR => {
                    Cell::Text(distractor_value(&column.header, row, noisy))
                }
                None => Cell::Text(String::new()),
                Some(Value::Text(text)) => Cell::Text(text.clone()),
                Some(Value::Number(number)) => Cell::Number(*number),
                Some(Value::Date(date)) => self.date_cell(*date, column.date_format, noisy),
            });
            let lossy = matches!(
                self.out,
                Out::Csv {
                    encoding: Encoding::Gbk,
                    ..
                }
            ) && column.field == "name"
                && matches!(value("name"), Some(Value::Text(name)) if encoding_rs::GBK.encode(name).2);
            if lossy {
                noisy.tags.push("name_rare_lost");
            }
        }
        self.rows += 1;
        match &self.out {
            Out::Csv { .. } => {
                let texts: Vec<String> = cells.into_iter().map(Cell::into_text).collect();
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                self.write_line(&refs)?;
            }
            Out::Sheet { book, index, .. } => {
                let head = u32::from(self.layout.title.is_some()) + 1;
                let mut book = book.borrow_mut();
                let sheet = book.workbook.worksheet_from_index(*index)?;
                let at = head + self.rows - 1;
                let date_format = Format::new().set_num_format("yyyy-mm-dd");
                for (c, cell) in cells.iter().enumerate() {
                    let c = c as u16;
                    match cell {
                        Cell::Text(text) => sheet.write_string(at, c, text),
                        Cell::Number(number) => sheet.write_number(at, c, *number),
                        Cell::Date(date) => {
                            let date = ExcelDateTime::from_ymd(
                                date.year() as u16,
                                date.month() as u8,
                                date.day() as u8,
                            )?;
                            sheet.write_datetime_with_format(at, c, &date, &date_format)
                        }
                    }?;
                }
            }
        }
        Ok((self.current_name(), self.rows))
    }

    /// A sheet begun again in its book's next file.
    fn reopen_sheet(&mut self) -> Result<(), SynthError> {
        let Out::Sheet { book, name, .. } = &self.out else {
            return Ok(());
        };
        let (book, name) = (book.clone(), *name);
        *self = Table::sheet(&book, name, &self.layout, true)?;
        Ok(())
    }

    /// A date as the table writes it: a date cell in a workbook that has them, else text in
    /// the layout's format (now and then in another shape, as the noise decides).
    fn date_cell(
        &self,
        date: Option<NaiveDate>,
        format: Option<&'static str>,
        noisy: &mut Noisy,
    ) -> Cell {
        match (&self.out, self.layout.date_cells) {
            (Out::Sheet { .. }, true) => match noisy.date_cell(date) {
                Some(DateCell::Native(date)) => Cell::Date(date),
                Some(DateCell::Text(text)) => Cell::Text(text),
                None => Cell::Text(String::new()),
            },
            _ => Cell::Text(noisy.date(date, format.unwrap_or(self.layout.date_format))),
        }
    }
}

/// A cell as written.
enum Cell {
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl Cell {
    fn into_text(self) -> String {
        match self {
            Cell::Text(text) => text,
            Cell::Number(number) => number.to_string(),
            Cell::Date(date) => date.to_string(),
        }
    }
}

fn quote(cell: &str) -> String {
    match cell.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", cell.replace('"', "\"\"")),
        false => cell.to_string(),
    }
}

/// GBK cannot hold every character: an export writes `?` for those, as real ones do.
fn encode_lossy(encoding: &'static encoding_rs::Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    if !unmappable {
        return bytes.into_owned();
    }
    let mut out = Vec::with_capacity(text.len());
    let mut buffer = [0; 4];
    for c in text.chars() {
        let (bytes, _, unmappable) = encoding.encode(c.encode_utf8(&mut buffer));
        out.extend_from_slice(if unmappable { b"?" } else { &bytes });
    }
    out
}

/// Every table of a world, and the truth files beside them.
pub struct Exports {
    dir: PathBuf,
    books: Vec<SharedBook>,
    dpf_layout: Layout,
    /// The registry: one table, or one per county (by county code).
    dpf: BTreeMap<String, Table>,
    dpf_per_county: bool,
    pub civil: Table,
    /// The subsidies: one table (key `""`), or one sheet per subsidy of one workbook.
    subsidies: BTreeMap<&'static str, Table>,
    pub insurance_now: Table,
    pub insurance_before: Table,
    pub education: Table,
    pub poverty: Table,
    pub housing: Table,
    pub pension: Table,
    pub health: Table,
    /// What every file's name begins with: its province's, in a nation.
    prefix: String,
}

/// The truth of a world: each data row's person and noise, the persons, the gaps a correct
/// run reports, and what each column of each table holds.
pub struct Truth {
    pub records: BufWriter<File>,
    pub persons: BufWriter<File>,
    pub expected: BufWriter<File>,
    columns: BufWriter<File>,
}

impl Truth {
    pub fn open(truth: &Path) -> Result<Truth, SynthError> {
        Ok(Truth {
            records: truth_file(
                truth,
                "records.csv",
                "source_file,source_row,person_key,noise",
            )?,
            persons: truth_file(
                truth,
                "persons.csv",
                "person_key,name,id_number,birth_date,county_code,death_date",
            )?,
            expected: truth_file(
                truth,
                "expected_gaps.csv",
                "rule_id,county_code,source_file,source_row,person_key",
            )?,
            columns: truth_file(truth, "columns.csv", "table,header,field")?,
        })
    }

    pub fn finish(mut self) -> Result<(), SynthError> {
        let truth = |e| SynthError::io(Path::new("truth"), e);
        for file in [
            &mut self.records,
            &mut self.persons,
            &mut self.expected,
            &mut self.columns,
        ] {
            file.flush().map_err(truth)?;
        }
        Ok(())
    }
}

impl Exports {
    /// The tables of one province's exports in `data`, every file's name beginning with
    /// `prefix`.
    pub fn open(
        data: &Path,
        prefix: &str,
        as_of: NaiveDate,
        styles: &Styles,
    ) -> Result<Exports, SynthError> {
        let named = |name: &str| format!("{prefix}{name}");
        let mut books = Vec::new();
        let subsidies = match &styles.subsidies_target {
            SubsidyTarget::Csv(encoding) => BTreeMap::from([(
                "",
                Table::csv(
                    data,
                    &named("民政_两项补贴.csv"),
                    *encoding,
                    &styles.subsidies,
                )?,
            )]),
            SubsidyTarget::Workbook => {
                let book = Book::open(data, named(SUBSIDY_BOOK), as_of)?;
                let mut sheets = BTreeMap::new();
                for (program, sheet) in [
                    ("困难残疾人生活补贴", "生活补贴"),
                    ("重度残疾人护理补贴", "护理补贴"),
                ] {
                    sheets.insert(
                        program,
                        Table::sheet(&book, sheet, &styles.subsidies, false)?,
                    );
                }
                books.push(book);
                sheets
            }
        };
        let education_book = Book::open(data, named("教育_学籍_{n}.xlsx"), as_of)?;
        let education = Table::sheet(&education_book, "学籍", &styles.education, true)?;
        books.push(education_book);
        let housing_book = Book::open(data, named("住建_农村危房改造_{n}.xlsx"), as_of)?;
        let housing = Table::sheet(&housing_book, "危房改造", &styles.housing, true)?;
        books.push(housing_book);
        let health_book = Book::open(data, named("卫健_家庭医生签约_{n}.xlsx"), as_of)?;
        let health = Table::sheet(&health_book, "签约居民", &styles.health, true)?;
        books.push(health_book);
        let mut dpf = BTreeMap::new();
        if !styles.dpf_per_county {
            let table = Table::csv(
                data,
                &named("残联_持证残疾人.csv"),
                Encoding::Utf8Bom,
                &styles.dpf,
            )?;
            dpf.insert(String::new(), table);
        }
        Ok(Exports {
            dir: data.to_path_buf(),
            books,
            dpf_layout: styles.dpf.clone(),
            dpf,
            dpf_per_county: styles.dpf_per_county,
            civil: Table::csv(
                data,
                &named("民政_救助对象.csv"),
                Encoding::Gbk,
                &styles.civil,
            )?,
            subsidies,
            insurance_now: Table::csv(
                data,
                &named("医保_参保登记_本年度.csv"),
                Encoding::Utf8,
                &styles.insurance_now,
            )?,
            insurance_before: Table::csv(
                data,
                &named("医保_参保登记_上年度.csv"),
                Encoding::Utf8,
                &styles.insurance_before,
            )?,
            education,
            poverty: Table::csv(
                data,
                &named("乡村振兴_防返贫监测.csv"),
                Encoding::Utf8Bom,
                &styles.poverty,
            )?,
            housing,
            pension: Table::csv(
                data,
                &named("人社_城乡居民养老保险.csv"),
                Encoding::Gbk,
                &styles.pension,
            )?,
            health,
            prefix: prefix.to_string(),
        })
    }

    /// The registry table of a county's people (its own file when the registry is split).
    pub fn dpf(&mut self, county: &str) -> Result<&mut Table, SynthError> {
        let key = match self.dpf_per_county {
            true => county.to_string(),
            false => String::new(),
        };
        if !self.dpf.contains_key(&key) {
            let name = format!("{}残联_持证残疾人_{county}.csv", self.prefix);
            let table = Table::csv(&self.dir, &name, Encoding::Utf8Bom, &self.dpf_layout)?;
            self.dpf.insert(key.clone(), table);
        }
        Ok(self.dpf.get_mut(&key).expect("inserted above"))
    }

    /// The subsidy table of `program`.
    pub fn subsidies(&mut self, program: &str) -> &mut Table {
        let key = match self.subsidies.contains_key(program) {
            true => program,
            false => "",
        };
        self.subsidies.get_mut(key).expect("a subsidy table")
    }

    /// Flushes every table and saves the workbooks; the truth's `columns.csv` says what each
    /// column of each table holds (`-`: nothing the rules read).
    pub fn finish(mut self, truth: &mut Truth) -> Result<(), SynthError> {
        let mut tables: Vec<&mut Table> = self.dpf.values_mut().collect();
        tables.extend(self.subsidies.values_mut());
        tables.extend([
            &mut self.civil,
            &mut self.insurance_now,
            &mut self.insurance_before,
            &mut self.education,
            &mut self.poverty,
            &mut self.housing,
            &mut self.pension,
            &mut self.health,
        ]);
        let columns = &mut truth.columns;
        for table in tables {
            for column in &table.layout.columns {
                writeln!(
                    columns,
                    "{},{},{}",
                    table.current_name(),
                    quote(&column.header),
                    column.field
                )
                .map_err(|e| SynthError::io(Path::new("truth/columns.csv"), e))?;
            }
            if let Out::Csv { file, .. } = &mut table.out {
                file.flush()
                    .map_err(|e| SynthError::io(Path::new(&table.name), e))?;
            }
        }
        drop((
            self.dpf,
            self.subsidies,
            self.education,
            self.housing,
            self.health,
        ));
        for book in &self.books {
            book.borrow_mut().save()?;
        }
        Ok(())
    }
}

fn truth_file(dir: &Path, name: &str, header: &str) -> Result<BufWriter<File>, SynthError> {
    let path = dir.join(name);
    let mut file = BufWriter::new(File::create(&path).map_err(|e| SynthError::io(&path, e))?);
    writeln!(file, "{header}").map_err(|e| SynthError::io(&path, e))?;
    Ok(file)
}
