//! The shared vocabulary of every stage: where a row came from, what a cell means (the
//! parsers of IDs, certificates, student numbers, names, dates, counties and vocabulary
//! words, in the submodules), what a cell holds once normalized, what a person record is, and
//! why a row was rejected. A province holds tens of
//! millions of rows, so records are compact: texts are interned `Word`s, IDs hold no heap,
//! counties point into the reference data, and values sit in a column per source and field
//! (only for the fields the config reads), each by its number among the field's values.

pub mod certificate;
mod codes;
pub mod date;
pub mod defect;
mod flags;
pub mod id_number;
mod interner;
pub mod name;
pub mod region;
pub mod student_number;
pub mod text;
pub mod words;

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use chrono::NaiveDate;

pub use codes::{Coded, Codes};
pub use flags::Flags;
use id_number::IdNumber;
use interner::Interner;
use region::{County, CountyRef};

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
    /// A sum of money (`1,200.00元`), compared by rules as a number.
    Amount,
}

impl FieldKind {
    /// An ID, or a number that holds one (a certificate, a student number): parsed as an ID.
    pub fn is_id_like(self) -> bool {
        matches!(
            self,
            FieldKind::Id | FieldKind::Certificate | FieldKind::StudentNumber
        )
    }

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
            "amount" => FieldKind::Amount,
            _ => return None,
        })
    }
}

/// A field the stages read by what it means. The config names fields (`[fields.<name>]`); a
/// field whose name is a role's is that role, and stages ask for the role, never the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldRole {
    IdNumber,
    Name,
    BirthDate,
    Sex,
    County,
    HouseholdHeadId,
    HouseholdNumber,
    Relation,
    Township,
    Village,
    DisabilityCategory,
    DisabilityGrade,
    CertificateNumber,
}

impl FieldRole {
    pub const ALL: [FieldRole; 13] = [
        FieldRole::IdNumber,
        FieldRole::Name,
        FieldRole::BirthDate,
        FieldRole::Sex,
        FieldRole::County,
        FieldRole::HouseholdHeadId,
        FieldRole::HouseholdNumber,
        FieldRole::Relation,
        FieldRole::Township,
        FieldRole::Village,
        FieldRole::DisabilityCategory,
        FieldRole::DisabilityGrade,
        FieldRole::CertificateNumber,
    ];

    /// The field's name in the config.
    pub fn field_name(self) -> &'static str {
        match self {
            FieldRole::IdNumber => "id_number",
            FieldRole::Name => "name",
            FieldRole::BirthDate => "birth_date",
            FieldRole::Sex => "sex",
            FieldRole::County => "county",
            FieldRole::HouseholdHeadId => "household_head_id",
            FieldRole::HouseholdNumber => "household_number",
            FieldRole::Relation => "relation",
            FieldRole::Township => "township",
            FieldRole::Village => "village",
            FieldRole::DisabilityCategory => "disability_category",
            FieldRole::DisabilityGrade => "disability_grade",
            FieldRole::CertificateNumber => "certificate_number",
        }
    }

    /// The role of the config's field (or link feature) of this name, if it has one.
    pub fn of_name(name: &str) -> Option<FieldRole> {
        FieldRole::ALL.into_iter().find(|r| r.field_name() == name)
    }

    /// The field in the words county staff use.
    pub fn label(self) -> &'static str {
        match self {
            FieldRole::IdNumber => "身份证号",
            FieldRole::Name => "姓名",
            FieldRole::BirthDate => "出生日期",
            FieldRole::Sex => "性别",
            FieldRole::County => "区县",
            FieldRole::HouseholdHeadId => "户主身份证号",
            FieldRole::HouseholdNumber => "户编号",
            FieldRole::Relation => "与户主关系",
            FieldRole::Township => "乡镇（街道）",
            FieldRole::Village => "村（社区）",
            FieldRole::DisabilityCategory => "残疾类别",
            FieldRole::DisabilityGrade => "残疾等级",
            FieldRole::CertificateNumber => "残疾证号",
        }
    }
}

/// One input file, by its position in the run's sorted input list.
pub type FileId = u32;

/// A source's index in the config's list of sources.
pub type SourceId = usize;

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
    /// Inline up to 24 bytes (an ID, a name, a date, a status word), so reading a row
    /// allocates for its long cells only.
    pub text: compact_str::CompactString,
    pub origin: CellOrigin,
}

impl Cell {
    /// Blank: only spaces. A row the reader could not read is never blank.
    pub fn is_blank(&self) -> bool {
        !matches!(self.origin, CellOrigin::Unreadable(_)) && self.text.trim().is_empty()
    }

    /// A cell typed as text (a CSV's cells, a workbook's text cells, a config's words).
    pub fn typed(text: &str) -> Cell {
        Cell {
            text: text.into(),
            origin: CellOrigin::Text,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CellOrigin {
    #[default]
    Text,
    Number,
    Date,
    /// Not a cell: the reader could not read this row, for this reason.
    Unreadable(RejectReason),
}

/// A text of the run, interned: equal texts share one `Word`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Word(u32);

/// A fast hash for short texts (names, words): a word at a time, multiply and rotate. Not for
/// keys an adversary picks; here every key is the run's own data.
#[derive(Default)]
pub struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
pub type FastSet<K> = std::collections::HashSet<K, BuildHasherDefault<FastHasher>>;

/// Texts said of many rows (a gap's detail, a near miss's reason), each distinct one kept
/// once and shared: a province's million findings say far fewer things.
#[derive(Default)]
pub struct SharedTexts(FastSet<std::sync::Arc<str>>);

impl SharedTexts {
    /// The kept text that reads as `text`, kept now if none was.
    pub fn share(&mut self, text: &str) -> std::sync::Arc<str> {
        if let Some(same) = self.0.get(text) {
            return same.clone();
        }
        let kept: std::sync::Arc<str> = text.into();
        self.0.insert(kept.clone());
        kept
    }
}

/// The run's interned texts. `Word::default()` is the empty text.
#[derive(Debug)]
pub struct Words(Interner<Box<str>>);

impl Default for Words {
    fn default() -> Words {
        let mut words = Words(Interner::default());
        words.intern("");
        words
    }
}

impl Words {
    pub fn intern(&mut self, text: &str) -> Word {
        Word(self.0.intern(text, |text| text.into()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn text(&self, word: Word) -> &str {
        self.0.get(word.0)
    }

    pub fn get(&self, text: &str) -> Option<Word> {
        self.0.find(text).map(Word)
    }

    /// Takes in another table's words: what each of its words is here.
    pub fn absorb(&mut self, other: &Words) -> Vec<Word> {
        let numbers = self.0.absorb(&other.0, |text: &str| text.into());
        numbers.into_iter().map(Word).collect()
    }
}

/// A record's ID, by its number among the run's distinct IDs (`Records::id`): a person's rows
/// repeat one ID, and a number is 4 bytes where an ID is 26. `IdRef::default()` is a missing ID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdRef(u32);

impl IdRef {
    pub fn renumbered(self, map: &[IdRef]) -> IdRef {
        map[self.0 as usize]
    }

    /// Its number among the run's IDs.
    pub fn number(self) -> usize {
        self.0 as usize
    }
}

/// The run's distinct IDs (including invalid and damaged ones).
#[derive(Debug)]
pub struct Ids(Interner<IdNumber>);

impl Default for Ids {
    fn default() -> Ids {
        let mut ids = Ids(Interner::default());
        ids.intern(&IdNumber::Missing);
        ids
    }
}

impl Ids {
    pub fn intern(&mut self, id: &IdNumber) -> IdRef {
        IdRef(self.0.intern(id, |id| *id))
    }

    pub fn get(&self, id: IdRef) -> &IdNumber {
        self.0.get(id.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The IDs by their numbers (`IdRef::number`), read in place.
    pub fn shared(&self) -> std::sync::Arc<Vec<IdNumber>> {
        self.0.shared()
    }

    /// Takes in another table's IDs: what each of its IDs is here.
    pub fn absorb(&mut self, other: &Ids) -> Vec<IdRef> {
        let numbers = self.0.absorb(&other.0, |id: &IdNumber| *id);
        numbers.into_iter().map(IdRef).collect()
    }
}

/// A normalized field value: 8 bytes, its text interned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Value {
    #[default]
    Empty,
    Text(Word),
    Date(NaiveDate),
    /// Present but not understood (a date cell saying `长期`): never equal to any word.
    Unparsed(Word),
    /// An ID Excel stored as a number, which kept only its first 15 digits (the word is the
    /// cell's text): present, never equal to any word, and read by the linker as damaged.
    DamagedId(Word),
    /// A valid ID in a field of an ID kind (a household head's), among the run's IDs: one
    /// dictionary for the records' own IDs and the IDs they name, parsed once.
    Id(IdRef),
}

impl Value {
    pub fn is_empty(&self) -> bool {
        matches!(self, Value::Empty)
    }

    pub fn text(&self) -> Option<Word> {
        match self {
            Value::Text(t) => Some(*t),
            _ => None,
        }
    }

    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    pub fn id(&self) -> Option<IdRef> {
        match self {
            Value::Id(id) => Some(*id),
            _ => None,
        }
    }

    /// The same value, its word or ID renumbered by `words` or `ids` (another table's).
    pub fn renumbered(self, words: &[Word], ids: &[IdRef]) -> Value {
        match self {
            Value::Text(w) => Value::Text(w.renumbered(words)),
            Value::Unparsed(w) => Value::Unparsed(w.renumbered(words)),
            Value::DamagedId(w) => Value::DamagedId(w.renumbered(words)),
            Value::Id(id) => Value::Id(id.renumbered(ids)),
            other => other,
        }
    }
}

impl Word {
    pub fn renumbered(self, map: &[Word]) -> Word {
        map[self.0 as usize]
    }

    /// Its number among the run's words (below `Words::len`).
    pub fn number(self) -> usize {
        self.0 as usize
    }
}

/// A `Value` in 4 bytes, as a field's distinct values are kept: three bits of kind, 29 of
/// word, ID or day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct PackedValue(u32);

const KIND_BITS: u32 = 29;
const PAYLOAD: u32 = (1 << KIND_BITS) - 1;
/// Days are counted from 1800-01-01 (day 657,072 of the common era): 29 bits reach far past 4700.
const FIRST_DAY: i32 = 657_072;

impl From<Value> for PackedValue {
    fn from(value: Value) -> PackedValue {
        let (kind, payload) = match value {
            Value::Empty => (0, 0),
            Value::Text(w) => (1, w.0),
            Value::Date(d) => (
                2,
                (chrono::Datelike::num_days_from_ce(&d) - FIRST_DAY).clamp(0, PAYLOAD as i32)
                    as u32,
            ),
            Value::Unparsed(w) => (3, w.0),
            Value::DamagedId(w) => (4, w.0),
            Value::Id(id) => (5, id.0),
        };
        PackedValue(kind << KIND_BITS | (payload & PAYLOAD))
    }
}

impl From<PackedValue> for Value {
    fn from(packed: PackedValue) -> Value {
        let payload = packed.0 & PAYLOAD;
        match packed.0 >> KIND_BITS {
            1 => Value::Text(Word(payload)),
            2 => NaiveDate::from_num_days_from_ce_opt(payload as i32 + FIRST_DAY)
                .map_or(Value::Empty, Value::Date),
            3 => Value::Unparsed(Word(payload)),
            4 => Value::DamagedId(Word(payload)),
            5 => Value::Id(IdRef(payload)),
            _ => Value::Empty,
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

/// A normalized person row of one source. Its field values are in `Records`.
#[derive(Clone, Debug)]
pub struct Record {
    pub row: RowRef,
    /// Its source's number (`Record::source` reads it): a config has at most 255 sources.
    pub source: u8,
    /// Its ID among `Records::ids` (`Records::id` reads it).
    pub id: IdRef,
    /// Where its ID came from, and how its ID and name were read (`Record::id_source`,
    /// `Record::id_legacy` and `Record::name_traditional` read them).
    pub marks: Marks,
    /// The normalized name (`·` kept); the empty word when blank.
    pub name: Word,
    /// The responsible county: the row's county column, else the ID's region code.
    pub county: Option<CountyRef>,
    pub birth_date: Option<NaiveDate>,
    /// Its number among its source's records: where its stored values are in `Records`.
    pub ordinal: u32,
}

/// Where a record's ID came from, whether it was a 15-digit legacy ID (upgraded), and whether
/// the name had traditional characters (made simplified), in one byte: with the county's two
/// and the source's one, a record takes 28 bytes, not 32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marks(u8);

impl Marks {
    /// In the order they are declared, so that `as u8` numbers them.
    const ID_SOURCES: [IdSource; 5] = [
        IdSource::IdColumn,
        IdSource::Certificate,
        IdSource::StudentNumber,
        IdSource::HouseholdHead,
        IdSource::None,
    ];

    pub fn new(id_source: IdSource, id_legacy: bool, name_traditional: bool) -> Marks {
        Marks(id_source as u8 | u8::from(id_legacy) << 3 | u8::from(name_traditional) << 4)
    }
}

impl Record {
    pub fn source(&self) -> SourceId {
        usize::from(self.source)
    }

    pub fn id_source(&self) -> IdSource {
        Marks::ID_SOURCES[usize::from(self.marks.0 & 7).min(4)]
    }

    /// The ID was a 15-digit legacy ID, upgraded.
    pub fn id_legacy(&self) -> bool {
        self.marks.0 & 1 << 3 != 0
    }

    /// The name had traditional characters, made simplified.
    pub fn name_traditional(&self) -> bool {
        self.marks.0 & 1 << 4 != 0
    }

    /// The responsible county.
    pub fn county(&self) -> Option<&'static County> {
        self.county.map(CountyRef::county)
    }

    /// The responsible county's code, empty when none was found.
    pub fn county_code(&self) -> &'static str {
        self.county().map_or("", |c| c.code.as_str())
    }
}

/// Every record of a run, with their values and the words they use. Only the fields the
/// config reads are stored (`stored[source][field]` is the field's slot); the others read as
/// empty.
#[derive(Debug, Default)]
pub struct Records {
    list: Vec<Record>,
    /// Per source, per stored field: the values of the source's records, in their order.
    /// Each value by its number among the field's distinct values, in the bytes their count
    /// needs (a status has a handful, a date some thousands, a household head's ID millions).
    columns: Vec<Vec<Coded<PackedValue>>>,
    /// Per source: its records so far.
    counts: Vec<u32>,
    pub words: Words,
    pub ids: Ids,
    stored: Vec<Vec<Option<u8>>>,
}

impl Records {
    /// An empty set of records storing, per source, the fields marked true.
    pub fn new(stored: &[Vec<bool>]) -> Records {
        let slots: Vec<Vec<Option<u8>>> = stored
            .iter()
            .map(|fields| {
                let mut next = 0u8;
                fields
                    .iter()
                    .map(|&keep| {
                        keep.then(|| {
                            next += 1;
                            next - 1
                        })
                    })
                    .collect()
            })
            .collect();
        let columns = (slots.iter())
            .map(|fields| fields.iter().flatten().map(|_| Coded::default()).collect())
            .collect();
        Records {
            columns,
            counts: vec![0; slots.len()],
            stored: slots,
            ..Records::default()
        }
    }

    /// Room for `rows[source]` more records of each source, reserved at once: a vector that
    /// grows by doubling copies itself, and for a province the copy is gigabytes. Reserved
    /// room nobody writes to costs no memory.
    pub fn reserve(&mut self, rows: &[usize]) {
        self.list.reserve(rows.iter().sum());
        for (columns, &rows) in self.columns.iter_mut().zip(rows) {
            columns.iter_mut().for_each(|c| c.reserve(rows));
        }
    }

    /// Adds a record with its values (one per source field, in the source's order).
    pub fn push(&mut self, mut record: Record, values: &[Value]) {
        let source = record.source();
        record.ordinal = self.counts[source];
        self.counts[source] += 1;
        let stored = (values.iter().zip(&self.stored[source])).filter_map(|(v, s)| s.map(|_| v));
        for (column, value) in self.columns[source].iter_mut().zip(stored) {
            column.push(PackedValue::from(*value));
        }
        self.list.push(record);
    }

    /// Whether records of `source` keep the values of `field` (the config reads it and a
    /// file holds it).
    pub fn stores(&self, source: SourceId, field: usize) -> bool {
        self.stored[source].get(field).copied().flatten().is_some()
    }

    /// Sets field `field` of record `index` (nothing when records of its source keep no such
    /// field).
    pub fn set(&mut self, index: usize, field: usize, value: Value) {
        let record = &self.list[index];
        if let Some(slot) = self.stored[record.source()].get(field).copied().flatten() {
            let column = &mut self.columns[record.source()][usize::from(slot)];
            column.set(record.ordinal as usize, PackedValue::from(value));
        }
    }

    /// Sets the county of record `index`.
    pub fn set_county(&mut self, index: usize, county: CountyRef) {
        self.list[index].county = Some(county);
    }

    /// Field `field` of a record (empty when the config reads no such field).
    pub fn value(&self, record: &Record, field: usize) -> Value {
        match self.stored[record.source()].get(field).copied().flatten() {
            Some(slot) => self.columns[record.source()][usize::from(slot)]
                .get(record.ordinal as usize)
                .into(),
            None => Value::Empty,
        }
    }

    pub fn text(&self, word: Word) -> &str {
        self.words.text(word)
    }

    /// A value as a cell would show it (`None` when empty): its word, its date, its ID.
    pub fn shown(&self, value: Value) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match value {
            Value::Text(w) | Value::Unparsed(w) | Value::DamagedId(w) => {
                Some(Cow::Borrowed(self.text(w)))
            }
            Value::Id(id) => self.ids.get(id).valid().map(Cow::Borrowed),
            Value::Date(d) => Some(Cow::Owned(d.to_string())),
            Value::Empty => None,
        }
    }

    /// A record's ID.
    pub fn id(&self, record: &Record) -> &IdNumber {
        self.ids.get(record.id)
    }

    /// A record's name as normalized (`·` kept).
    pub fn name(&self, record: &Record) -> &str {
        self.words.text(record.name)
    }

    /// Ends adding records: the run's words stay findable by their text, its IDs are read by
    /// their number only, and what adding needed is let go (hundreds of MiB for a province).
    pub fn seal(&mut self) {
        self.words.0.seal(interner::State::Findable);
        self.ids.0.seal(interner::State::ReadOnly);
        (self.columns.iter_mut().flatten()).for_each(Coded::seal);
        if tracing::enabled!(tracing::Level::DEBUG) {
            self.log_footprint();
        }
    }

    /// What the records hold, for finding where a province's memory goes.
    fn log_footprint(&self) {
        let mut rows = vec![0usize; self.stored.len()];
        self.list.iter().for_each(|r| rows[r.source()] += 1);
        for (source, rows) in rows.into_iter().enumerate() {
            let stored = self.stored[source].iter().flatten().count();
            let columns = &self.columns[source];
            let distinct: Vec<usize> = columns.iter().map(Coded::distinct).collect();
            let bytes: usize = columns.iter().map(Coded::bytes).sum();
            tracing::debug!(
                source,
                rows,
                stored,
                ?distinct,
                bytes,
                "records of a source"
            );
        }
        let words = self.words.len() as u32;
        let word_bytes: usize = (0..words).map(|w| self.words.0.get(w).len()).sum();
        let ids = self.ids.len();
        tracing::debug!(words, word_bytes, ids, "records sealed");
    }

    /// A record's name without middle dots, so `阿依古丽·买买提` and `阿依古丽买买提` agree.
    pub fn name_key(&self, record: &Record) -> String {
        self.name(record).chars().filter(|c| *c != '·').collect()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Record> {
        self.list.iter()
    }

    pub fn as_slice(&self) -> &[Record] {
        &self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A province holds tens of millions of records: a field that pushes a record past 28
    /// bytes costs 4 more a row.
    #[test]
    fn a_records_marks_read_back() {
        for id_source in Marks::ID_SOURCES {
            for (legacy, traditional) in
                [(false, false), (true, false), (false, true), (true, true)]
            {
                let record = Record {
                    row: RowRef { file: 0, row: 1 },
                    source: 0,
                    id: IdRef::default(),
                    marks: Marks::new(id_source, legacy, traditional),
                    name: Word::default(),
                    county: None,
                    birth_date: None,
                    ordinal: 0,
                };
                assert_eq!(record.id_source(), id_source);
                assert_eq!(
                    (record.id_legacy(), record.name_traditional()),
                    (legacy, traditional)
                );
            }
        }
    }

    #[test]
    fn a_record_fits_in_28_bytes() {
        assert!(
            std::mem::size_of::<Record>() <= 28,
            "{}",
            std::mem::size_of::<Record>()
        );
    }

    proptest! {
        /// Records of sources storing different fields, pushed in any order and some values set
        /// afterwards, read back their own values, and empty for a field not stored.
        #[test]
        fn records_read_back_their_values(
            rows in prop::collection::vec((0usize..2, prop::collection::vec(0u32..300, 3)), 0..60),
            sets in prop::collection::vec((any::<prop::sample::Index>(), 0usize..3, 0u32..70_000), 0..10),
        ) {
            let stored = [vec![true, false, true], vec![true, true, true]];
            let mut records = Records::new(&stored);
            let value = |n: u32| match n % 3 {
                0 => Value::Empty,
                1 => Value::Text(Word(n)),
                _ => Value::Id(IdRef(n)),
            };
            let mut expected: Vec<Vec<Value>> = Vec::new();
            for (source, numbers) in &rows {
                let values: Vec<Value> = numbers.iter().map(|&n| value(n)).collect();
                let record = Record {
                    row: RowRef { file: 0, row: expected.len() as u32 },
                    source: *source as u8,
                    id: IdRef::default(),
                    marks: Marks::new(IdSource::None, false, false),
                    name: Word::default(),
                    county: None,
                    birth_date: None,
                    ordinal: 0,
                };
                records.push(record, &values);
                let kept = values.iter().zip(&stored[*source]);
                expected.push(kept.map(|(v, keep)| if *keep { *v } else { Value::Empty }).collect());
            }
            let sets = if expected.is_empty() { Vec::new() } else { sets };
            for (at, field, n) in sets {
                let index = at.index(expected.len());
                records.set(index, field, value(n));
                if stored[records[index].source()][field] {
                    expected[index][field] = value(n);
                }
            }
            records.seal();
            for (index, values) in expected.iter().enumerate() {
                let read: Vec<Value> = (0..3).map(|f| records.value(&records[index], f)).collect();
                prop_assert_eq!(&read, values);
            }
        }

        #[test]
        fn values_pack_and_unpack(word in 0u32..PAYLOAD, day in 0i32..900_000) {
            let date = NaiveDate::from_num_days_from_ce_opt(FIRST_DAY + day).unwrap();
            for value in [Value::Empty, Value::Text(Word(word)), Value::Unparsed(Word(word)), Value::DamagedId(Word(word)), Value::Id(IdRef(word)), Value::Date(date)] {
                prop_assert_eq!(Value::from(PackedValue::from(value)), value);
            }
        }

        #[test]
        fn absorbed_words_keep_their_texts_and_equal_texts_one_word(
            run in prop::collection::vec("[a-c]{0,3}|[甲乙]{1,2}", 0..40),
            chunk in prop::collection::vec("[a-c]{0,3}|[甲乙]{1,2}", 0..40),
        ) {
            let mut words = Words::default();
            let interned: Vec<Word> = run.iter().map(|t| words.intern(t)).collect();
            let mut part = Words::default();
            let in_part: Vec<Word> = chunk.iter().map(|t| part.intern(t)).collect();
            let map = words.absorb(&part);
            for (text, word) in run.iter().zip(&interned) {
                prop_assert_eq!(words.text(*word), text.as_str());
                prop_assert_eq!(words.get(text), Some(*word));
            }
            for (text, word) in chunk.iter().zip(&in_part) {
                let absorbed = word.renumbered(&map);
                prop_assert_eq!(words.text(absorbed), text.as_str());
                prop_assert_eq!(words.intern(text), absorbed);
            }
            let distinct: std::collections::HashSet<&String> = run.iter().chain(&chunk).collect();
            prop_assert_eq!(words.len(), 1 + distinct.iter().filter(|t| !t.is_empty()).count());
        }

        #[test]
        fn absorbed_ids_keep_their_values_and_equal_ids_one_number(
            run in prop::collection::vec("[0-9]{0,3}|4201051949123100[0-9X]{2}", 0..40),
            chunk in prop::collection::vec("[0-9]{0,3}|4201051949123100[0-9X]{2}", 0..40),
            damaged in any::<bool>(),
        ) {
            let parse = |text: &String| id_number::parse_id(text, damaged).id;
            let mut ids = Ids::default();
            let numbered: Vec<IdRef> = run.iter().map(|t| ids.intern(&parse(t))).collect();
            let mut part = Ids::default();
            let in_part: Vec<IdRef> = chunk.iter().map(|t| part.intern(&parse(t))).collect();
            let map = ids.absorb(&part);
            for (text, id) in run.iter().zip(&numbered) {
                prop_assert_eq!(ids.get(*id), &parse(text));
            }
            for (text, id) in chunk.iter().zip(&in_part) {
                let absorbed = id.renumbered(&map);
                prop_assert_eq!(ids.get(absorbed), &parse(text));
                prop_assert_eq!(ids.intern(&parse(text)), absorbed);
            }
            prop_assert_eq!(ids.get(IdRef::default()), &IdNumber::Missing);
        }
    }
}

impl<'a> IntoIterator for &'a Records {
    type Item = &'a Record;
    type IntoIter = std::slice::Iter<'a, Record>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl std::ops::Index<usize> for Records {
    type Output = Record;
    fn index(&self, index: usize) -> &Record {
        &self.list[index]
    }
}

/// An input row that could not be used, with the reason. Counted, never dropped silently.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reject {
    pub row: RowRef,
    pub column: String,
    pub reason: RejectReason,
    pub detail: String,
}

/// Why a row was rejected; its code is what `rejects.csv` and `links.csv` print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// A quote opened in the row never closes (CSV).
    UnterminatedQuote,
    /// More fields than `[run] max_fields`.
    TooManyFields,
    EmptyRow,
    /// Fewer fields than the header, or values right of it.
    RaggedRow,
    /// A cell longer than `[run] max_field_chars`.
    FieldTooLong,
    /// Neither a name nor an ID, certificate or student number.
    NoIdentity,
    /// Another scheme's row (the source's `set_aside`).
    OutOfScope,
    /// A totals row (合计).
    SummaryRow,
}

impl RejectReason {
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::UnterminatedQuote => "unterminated_quote",
            RejectReason::TooManyFields => "too_many_fields",
            RejectReason::EmptyRow => "empty_row",
            RejectReason::RaggedRow => "ragged_row",
            RejectReason::FieldTooLong => "field_too_long",
            RejectReason::NoIdentity => "no_identity",
            RejectReason::OutOfScope => "out_of_scope",
            RejectReason::SummaryRow => "summary_row",
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}
