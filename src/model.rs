//! The shared vocabulary of every stage: where a row came from, what a cell holds once
//! normalized, what a person record is, and why a row was rejected.

use chrono::NaiveDate;

use crate::config::SourceId;
use crate::normalize::id_number::IdNumber;
use crate::normalize::name::Name;

/// How a field's cells are read and normalized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldKind {
    Text,
    Name,
    Id,
    Certificate,
    StudentNumber,
    County,
    CountyCode,
    Date,
    Year,
    Grade,
    Category,
    YesNo,
    Sex,
}

impl FieldKind {
    pub fn parse(text: &str) -> Option<FieldKind> {
        Some(match text {
            "text" => FieldKind::Text,
            "name" => FieldKind::Name,
            "id" => FieldKind::Id,
            "certificate" => FieldKind::Certificate,
            "student_number" => FieldKind::StudentNumber,
            "county" => FieldKind::County,
            "county_code" => FieldKind::CountyCode,
            "date" => FieldKind::Date,
            "year" => FieldKind::Year,
            "grade" => FieldKind::Grade,
            "category" => FieldKind::Category,
            "yes_no" => FieldKind::YesNo,
            "sex" => FieldKind::Sex,
            _ => return None,
        })
    }
}

/// One input file, by its position in the run's sorted input list.
pub type FileId = u32;

/// A data row: the file and its 1-based data row number (header excluded; XLSX data row n is
/// sheet row n+1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowRef {
    pub file: FileId,
    pub row: u32,
}

/// A cell as read: its text, and whether it came from a numeric spreadsheet cell (then an ID
/// in it has lost digits) or a date cell (then the text is already `YYYY-MM-DD`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub origin: CellOrigin,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CellOrigin {
    #[default]
    Text,
    Number,
    Date,
}

/// A normalized field value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Value {
    #[default]
    Empty,
    Text(String),
    Date(NaiveDate),
    /// Present but not understood (a date cell saying `长期`): never equal to any word.
    Unparsed(String),
}

impl Value {
    pub fn is_empty(&self) -> bool {
        matches!(self, Value::Empty)
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }
}

/// Where a record's ID came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdSource {
    IdColumn,
    Certificate,
    StudentNumber,
    /// A household head's own row: the 户主身份证号 column.
    HouseholdHead,
    None,
}

impl IdSource {
    pub fn code(self) -> &'static str {
        match self {
            IdSource::IdColumn => "id",
            IdSource::Certificate => "certificate",
            IdSource::StudentNumber => "student_number",
            IdSource::HouseholdHead => "household_head",
            IdSource::None => "none",
        }
    }
}

/// A normalized person row of one source.
#[derive(Clone, Debug)]
pub struct Record {
    pub row: RowRef,
    pub source: SourceId,
    pub id: IdNumber,
    pub id_source: IdSource,
    /// The ID was a 15-digit legacy ID, upgraded.
    pub id_legacy: bool,
    pub name: Name,
    /// The responsible county: the row's county column, else the ID's region code.
    pub county: Option<CountyRef>,
    pub birth_date: Option<NaiveDate>,
    /// Normalized values, indexed like the source's fields.
    pub values: Vec<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountyRef {
    pub code: String,
    pub name: String,
}

/// An input row that could not be used, with the reason. Counted, never dropped silently.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reject {
    pub row: RowRef,
    pub column: String,
    pub reason: &'static str,
    pub detail: String,
}
