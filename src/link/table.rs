//! The linker's view of the rows: one compact column per feature the link settings read. IDs
//! are kept as digits with their state, names and words are interned (each distinct name is
//! analysed once: its characters, `·`-separated parts and pinyin), dates are days. Built from
//! normalized records for the job, or from CSV columns for `recon link`.

use chrono::{Datelike, NaiveDate};
use pinyin::ToPinyinMulti;
use rayon::prelude::*;

use std::sync::Arc;

use crate::config::link::{Feature, FeatureKind};
use crate::model::id_number::IdNumber;
use crate::model::{Coded, Codes, FastMap, Flags};

/// An ID's digits and what they are worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IdValue {
    pub digits: [u8; 18],
    pub len: u8,
    pub state: IdState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdState {
    Missing,
    Valid,
    /// Valid, upgraded from a 15-digit legacy ID.
    Legacy,
    /// Fails its check; kept for comparison.
    Invalid,
    /// Through an Excel number cell: only the leading digits survive.
    Damaged,
}

impl IdValue {
    pub const MISSING: IdValue = IdValue {
        digits: [0; 18],
        len: 0,
        state: IdState::Missing,
    };

    pub fn new(id: &IdNumber, legacy: bool) -> IdValue {
        let (text, state) = match id {
            IdNumber::Missing => return IdValue::MISSING,
            IdNumber::Valid(t) if legacy => (t, IdState::Legacy),
            IdNumber::Valid(t) => (t, IdState::Valid),
            IdNumber::Invalid { digits, .. } => (digits, IdState::Invalid),
            IdNumber::Damaged { prefix } => (prefix, IdState::Damaged),
        };
        let len = text.as_bytes().len();
        if len > 18 || len == 0 {
            return IdValue::MISSING;
        }
        IdValue {
            digits: text.first_18(),
            len: len as u8,
            state,
        }
    }

    pub fn digits(&self) -> &[u8] {
        &self.digits[..self.len as usize]
    }

    pub fn is_valid(&self) -> bool {
        matches!(self.state, IdState::Valid | IdState::Legacy)
    }

    /// All 18 characters are known (valid or not).
    pub fn is_whole(&self) -> bool {
        self.len == 18 && self.state != IdState::Damaged
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(self.digits()).unwrap_or("")
    }
}

/// A distinct name, analysed once. Kept small (a province has a million distinct names): the
/// parts are read off the text, and the syllables off the characters where they are the same.
#[derive(Clone, Debug, Default)]
pub struct NameEntry {
    /// As normalized, `·` kept.
    pub text: Box<str>,
    /// The characters without `·`.
    pub chars: Box<[char]>,
    /// Those characters as a string, where `·` makes it other than `text`.
    undotted: Option<Box<str>>,
    /// The syllables written one after another, where they are other than `key` (Latin
    /// letters lowercased), and where each ends in them.
    syllable_text: Option<Box<str>>,
    syllable_ends: Box<[u16]>,
}

impl NameEntry {
    fn new(text: &str) -> NameEntry {
        let chars: Box<[char]> = text.chars().filter(|c| *c != '·').collect();
        let key: String = chars.iter().collect();
        let syllables = syllables_of(&chars);
        let joined = syllables.concat();
        let mut end = 0;
        let syllable_ends = (syllables.iter())
            .map(|syllable| {
                end += syllable.len();
                u16::try_from(end).unwrap_or(u16::MAX)
            })
            .collect();
        NameEntry {
            text: text.into(),
            undotted: (key != text).then(|| key.as_str().into()),
            syllable_text: (joined != key).then(|| joined.into()),
            chars,
            syllable_ends,
        }
    }

    /// The characters without `·`, as a string.
    pub fn key(&self) -> &str {
        self.undotted.as_deref().unwrap_or(&self.text)
    }

    /// The `·`-separated parts (one part for a name without a dot).
    pub fn parts(&self) -> Vec<&str> {
        self.text.split('·').collect()
    }

    /// Whether the name has `·`-separated parts.
    pub fn is_dotted(&self) -> bool {
        self.undotted.is_some()
    }

    /// How many syllables: each Chinese character, and each run of Latin letters (a clerk's
    /// pinyin for a character the system lacks: 王yan).
    pub fn syllable_count(&self) -> usize {
        self.syllable_ends.len()
    }

    pub fn syllable(&self, i: usize) -> &str {
        let text = self.syllable_text.as_deref().unwrap_or(self.key());
        let start = match i {
            0 => 0,
            _ => usize::from(self.syllable_ends[i - 1]),
        };
        text.get(start..usize::from(self.syllable_ends[i]))
            .unwrap_or("")
    }

    /// The first reading of each syllable joined, surnames read as surnames: a key for
    /// blocking on sound.
    fn sound(&self) -> String {
        (0..self.syllable_count())
            .map(|i| {
                let syllable = self.syllable(i);
                let surname = syllable
                    .chars()
                    .next()
                    .and_then(surname_reading)
                    .filter(|_| i == 0);
                let first = || readings_of(syllable).next().unwrap_or(syllable);
                surname.unwrap_or_else(first)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Each character on its own, but runs of Latin letters together.
fn syllables_of(chars: &[char]) -> Vec<String> {
    let mut syllables: Vec<String> = Vec::new();
    let mut latin = false;
    for &c in chars {
        let is_latin = c.is_ascii_alphabetic();
        match syllables.last_mut() {
            Some(last) if is_latin && latin => last.push(c.to_ascii_lowercase()),
            _ => syllables.push(c.to_ascii_lowercase().to_string()),
        }
        latin = is_latin;
    }
    syllables
}

/// Every reading of a syllable, tones dropped: a character's from the pinyin tables (none for a
/// character without one), a run of Latin letters as itself. Read when asked, not stored with
/// each of a province's millions of names.
pub fn readings_of(syllable: &str) -> impl Iterator<Item = &str> {
    let mut chars = syllable.chars();
    let character = match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_ascii_alphabetic() => Some(c),
        _ => None,
    };
    let pinyin = character.and_then(|c| c.to_pinyin_multi());
    let itself = character.is_none().then_some(syllable);
    pinyin
        .into_iter()
        .flatten()
        .map(|p| p.plain())
        .chain(itself)
}

/// Surnames read otherwise than their common reading (pinyin gives one reading a character).
fn surname_reading(c: char) -> Option<&'static str> {
    Some(match c {
        '单' => "shan",
        '曾' => "zeng",
        '解' => "xie",
        '仇' => "qiu",
        '朴' => "piao",
        '覃' => "qin",
        '区' => "ou",
        '查' => "zha",
        '盖' => "ge",
        '缪' => "miao",
        '翟' => "zhai",
        '种' => "chong",
        _ => return None,
    })
}

#[derive(Debug)]
pub enum Column {
    Id(IdColumn),
    Name(NameColumn),
    Date(DateColumn),
    /// Text and county codes, interned.
    Words(WordColumn),
}

/// An ID column. Each row keeps a number: a person's rows repeat their ID and a family's rows
/// their head's, so a row costs 4 bytes. The run's IDs are read where the records keep them
/// (`IdColumn::with_run_ids`), not copied: a province has tens of millions. An ID that is not
/// one of the run's (a household head's damaged ID, read from its cell) is kept by the column.
#[derive(Debug)]
pub struct IdColumn {
    /// Per row: 0 for no ID; `1 + n` for the run's ID numbered `n` (`Reader::Id`'s numbers:
    /// twice the ID's, plus one for a 15-digit one); past those, `1 + 2 × run IDs + i` for
    /// `own[i]`.
    of_row: Vec<u32>,
    /// The run's IDs (none for a table built without records).
    run: Arc<Vec<IdNumber>>,
    own: Vec<IdValue>,
    /// Each ID's index in `own`, while the column is built.
    numbers: FastMap<IdValue, u32>,
}

impl IdColumn {
    fn with_capacity(rows: usize) -> IdColumn {
        IdColumn {
            of_row: Vec::with_capacity(rows),
            run: Arc::default(),
            own: Vec::new(),
            numbers: FastMap::default(),
        }
    }

    /// Row `row`'s ID.
    pub fn get(&self, row: usize) -> IdValue {
        let code = self.of_row[row] as usize;
        let run = 2 * self.run.len();
        match code {
            0 => IdValue::MISSING,
            c if c <= run => IdValue::new(&self.run[(c - 1) / 2], (c - 1) % 2 == 1),
            c => self.own[c - 1 - run],
        }
    }

    /// Adds a row's ID by the run's number for it (`Reader::Id`'s), when it is one of the
    /// run's IDs (true then).
    fn push_run_id(&mut self, number: Option<usize>) -> bool {
        match number.filter(|&n| n < 2 * self.run.len()) {
            Some(n) => {
                self.of_row.push(1 + n as u32);
                true
            }
            None => false,
        }
    }

    fn push(&mut self, id: IdValue) {
        let first_own = 1 + 2 * self.run.len() as u32;
        let IdColumn {
            of_row,
            own,
            numbers,
            ..
        } = self;
        let at = match id.state {
            IdState::Missing => 0,
            _ => *numbers.entry(id).or_insert_with(|| {
                own.push(id);
                first_own + own.len() as u32 - 1
            }),
        };
        of_row.push(at);
    }

    /// Lets go of what only building needed.
    fn finish(&mut self) {
        self.numbers = FastMap::default();
        self.own.shrink_to_fit();
    }
}

#[derive(Debug, Default)]
pub struct NameColumn {
    /// Index into `entries`; 0 is no name.
    pub values: Vec<u32>,
    /// The row's name had traditional characters made simplified.
    pub traditional: Flags,
    pub entries: Vec<NameEntry>,
    /// Per entry, the hashes blocking and term frequencies read: computed once a name, and
    /// kept apart from the entries so that reading them for every row stays in cache.
    pub hashes: Vec<NameHashes>,
}

impl NameColumn {
    /// The keys (`NameHashes::key`) of the names some row had in traditional characters.
    pub fn traditional_keys(&self) -> crate::model::FastSet<u64> {
        (0..self.values.len())
            .into_par_iter()
            .filter(|&row| self.traditional[row])
            .map(|row| self.hashes[self.values[row] as usize].key)
            .collect()
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct NameHashes {
    /// Of the entry's `key`.
    pub key: u64,
    /// Of the entry's `sound`.
    pub sound: u64,
}

/// A stable hash of bytes (FNV-1a), the same on every machine and run.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

pub const NO_DATE: i32 = i32::MIN;
pub const NO_GROUP: u32 = u32::MAX;

/// Per row, its group of distinct rows (`NO_GROUP` for none), in the bytes the count of groups
/// needs (a run has a few files and years, and tens of millions of rows).
#[derive(Clone, Debug, Default)]
pub struct Groups(Codes);

impl Groups {
    pub fn get(&self, row: usize) -> u32 {
        self.0.get(row).wrapping_sub(1)
    }

    pub fn push(&mut self, group: u32) {
        self.0.push(group.wrapping_add(1));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<u32> for Groups {
    fn from_iter<I: IntoIterator<Item = u32>>(groups: I) -> Groups {
        let mut collected = Groups::default();
        groups.into_iter().for_each(|group| collected.push(group));
        collected
    }
}

/// A date column: a row's day by its number among the column's distinct days (a province's
/// birth dates are some tens of thousands, so two bytes a row where a day takes four).
#[derive(Debug)]
pub struct DateColumn {
    /// Days from the common era; `NO_DATE` for none.
    days: Coded<i32>,
    /// The value was read from the row's ID number rather than a column of its own.
    pub from_id: Flags,
}

impl DateColumn {
    fn with_capacity(rows: usize) -> DateColumn {
        DateColumn {
            days: Coded::with_capacity(rows),
            from_id: Flags::with_capacity(rows),
        }
    }

    /// The row's day from the common era, `NO_DATE` for none.
    pub fn day(&self, row: usize) -> i32 {
        self.days.get(row)
    }

    /// Every row's day, in row order.
    pub fn days(&self) -> impl Iterator<Item = i32> + '_ {
        self.days.iter()
    }

    fn push(&mut self, day: i32, from_id: bool) {
        self.days.push(day);
        self.from_id.push(from_id);
    }

    /// Lets go of what only building needed.
    fn finish(&mut self) {
        self.days.seal();
    }
}

#[derive(Debug, Default)]
pub struct WordColumn {
    /// Index into `words`; 0 is no value.
    pub values: Codes,
    pub from_id: Flags,
    pub words: Vec<String>,
}

/// The rows the linker reads.
#[derive(Debug)]
pub struct LinkTable {
    pub features: Vec<Feature>,
    pub columns: Vec<Column>,
    /// Rows of one group are each a different person (a registry file, an enrollment year);
    /// `NO_GROUP` for rows under no such constraint.
    pub group: Groups,
    /// For linking two lists: 0 for the left list, 1 for the right; 0 everywhere when
    /// deduplicating.
    pub side: Vec<u8>,
    /// The department (or list) each row comes from, an index into `source_names`.
    pub source: Vec<u8>,
    pub source_names: Vec<String>,
}

/// Where a row comes from, for the builder.
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    pub group: u32,
    pub side: u8,
    pub source: u8,
}

impl Column {
    /// How many distinct values the column keeps apart from its rows (none for dates).
    pub fn distinct(&self) -> usize {
        match self {
            Column::Id(ids) => ids.own.len(),
            Column::Name(names) => names.entries.len(),
            Column::Date(_) => 0,
            Column::Words(words) => words.words.len(),
        }
    }
}

impl LinkTable {
    pub fn len(&self) -> usize {
        self.side.len()
    }

    pub fn is_empty(&self) -> bool {
        self.side.is_empty()
    }

    /// The ID column of `feature` (`None` for a feature of another kind).
    pub fn ids(&self, feature: usize) -> Option<&IdColumn> {
        match &self.columns[feature] {
            Column::Id(ids) => Some(ids),
            _ => None,
        }
    }

    /// The row's value of a feature as text, for explanations (`None` when blank).
    pub fn display(&self, feature: usize, row: usize) -> Option<String> {
        match &self.columns[feature] {
            Column::Id(v) => Some(v.get(row))
                .filter(|id| id.state != IdState::Missing)
                .map(|id| id.text().to_string()),
            Column::Name(n) => {
                (n.values[row] != 0).then(|| n.entries[n.values[row] as usize].text.to_string())
            }
            Column::Date(d) => day_to_date(d.day(row)).map(|d| d.to_string()),
            Column::Words(w) => {
                (w.values.get(row) != 0).then(|| w.words[w.values.get(row) as usize].clone())
            }
        }
    }
}

pub fn date_to_day(date: NaiveDate) -> i32 {
    date.num_days_from_ce()
}

pub fn day_to_date(day: i32) -> Option<NaiveDate> {
    (day != NO_DATE)
        .then(|| NaiveDate::from_num_days_from_ce_opt(day))
        .flatten()
}

/// One row's value of one feature, as handed to the builder.
pub enum Value<'a> {
    Id(&'a IdNumber, bool),
    /// A name as normalized, and whether it had traditional characters.
    Name(&'a str, bool),
    Date(Option<NaiveDate>, bool),
    Word(Option<&'a str>, bool),
    /// The row's source has no such field.
    Missing,
}

type Interned = FastMap<String, u32>;

/// Builds one column of a `LinkTable` value by value, interning IDs, names and words.
pub struct ColumnBuilder {
    column: Column,
    interned: Interned,
    /// Per number the run gave a name or a word, its key in this column once seen
    /// (`UNSEEN` before): a value is interned once, not once a row.
    by_number: Vec<u32>,
}

const UNSEEN: u32 = u32::MAX;

impl ColumnBuilder {
    /// A builder for about `rows` values (room reserved at once, so the column never copies
    /// itself as it grows).
    pub fn new(feature: &Feature, rows: usize) -> ColumnBuilder {
        let column = match feature.kind {
            FeatureKind::Id => Column::Id(IdColumn::with_capacity(rows)),
            FeatureKind::Name => Column::Name(NameColumn {
                values: Vec::with_capacity(rows),
                traditional: Flags::with_capacity(rows),
                entries: vec![NameEntry::default()],
                hashes: Vec::new(),
            }),
            FeatureKind::Date => Column::Date(DateColumn::with_capacity(rows)),
            FeatureKind::County | FeatureKind::Text => Column::Words(WordColumn {
                values: Codes::with_capacity(rows),
                from_id: Flags::with_capacity(rows),
                words: vec![String::new()],
            }),
        };
        ColumnBuilder {
            column,
            interned: Interned::default(),
            by_number: Vec::new(),
        }
    }

    /// An ID column reading the run's IDs (`Records::ids`) where they are.
    pub fn with_run_ids(mut self, ids: Arc<Vec<IdNumber>>) -> ColumnBuilder {
        if let Column::Id(column) = &mut self.column {
            column.run = ids;
        }
        self
    }

    /// Adds the next row's ID by the number the run gave it (`Reader::Id`'s), when this is an
    /// ID column reading the run's IDs and the ID is one of them (true then): its number is
    /// all it needs, and a household head's ID is not parsed again on each family's rows.
    pub fn push_run_id(&mut self, number: Option<usize>) -> bool {
        match &mut self.column {
            Column::Id(ids) => ids.push_run_id(number),
            _ => false,
        }
    }

    /// Adds the next row's value, which the run numbered `number` (`None`: a value it did not
    /// number). A column's values are all numbered one way: by word, or by ID.
    pub fn push_numbered(&mut self, number: Option<usize>, value: &Value) {
        if matches!(self.column, Column::Id(_)) {
            if !self.push_run_id(number) {
                self.push(value);
            }
            return;
        }
        let known = number
            .and_then(|n| self.by_number.get(n).copied())
            .filter(|&key| key != UNSEEN);
        match (&mut self.column, value, known) {
            (Column::Name(names), Value::Name(_, traditional), Some(key)) => {
                names.values.push(key);
                names.traditional.push(*traditional);
            }
            (Column::Words(words), Value::Word(_, from_id), Some(key)) => {
                words.values.push(key);
                words.from_id.push(*from_id && key != 0);
            }
            _ => {
                self.push(value);
                self.remember(number);
            }
        }
    }

    /// Notes the key of the value just pushed as that of the run's `number`.
    fn remember(&mut self, number: Option<usize>) {
        if let (Some(number), Some(key)) = (number, self.last_key()) {
            if self.by_number.len() <= number {
                self.by_number.resize(number + 1, UNSEEN);
            }
            self.by_number[number] = key;
        }
    }

    /// The key of the last name or word pushed.
    fn last_key(&self) -> Option<u32> {
        match &self.column {
            Column::Name(names) => names.values.last().copied(),
            Column::Words(words) => words.values.last(),
            _ => None,
        }
    }

    /// Adds the next row's value.
    pub fn push(&mut self, value: &Value) {
        let interned = &mut self.interned;
        match (&mut self.column, value) {
            (Column::Id(ids), Value::Id(id, legacy)) => ids.push(IdValue::new(id, *legacy)),
            (Column::Name(names), Value::Name(name, traditional)) => {
                let key = if name.is_empty() {
                    0
                } else {
                    intern(interned, &mut names.entries, name, |t| NameEntry {
                        text: t.into(),
                        ..NameEntry::default()
                    })
                };
                names.values.push(key);
                names.traditional.push(*traditional);
            }
            (Column::Date(dates), Value::Date(date, from_id)) => {
                dates.push(
                    date.map_or(NO_DATE, date_to_day),
                    *from_id && date.is_some(),
                );
            }
            (Column::Words(words), Value::Word(word, from_id)) => {
                let key = match word.filter(|w| !w.is_empty()) {
                    None => 0,
                    Some(w) => intern(interned, &mut words.words, w, str::to_string),
                };
                words.values.push(key);
                words.from_id.push(*from_id && key != 0);
            }
            (column, _) => push_missing(column),
        }
    }

    /// The column, with every distinct name analysed (in parallel).
    pub fn finish(mut self) -> Column {
        match &mut self.column {
            Column::Id(ids) => ids.finish(),
            Column::Date(dates) => dates.finish(),
            _ => {}
        }
        if let Column::Name(names) = &mut self.column {
            let analysed: Vec<NameEntry> = names.entries[1..]
                .par_iter()
                .map(|e| NameEntry::new(&e.text))
                .collect();
            names.entries.truncate(1);
            names.entries.extend(analysed);
            names.hashes = names
                .entries
                .par_iter()
                .map(|e| NameHashes {
                    key: hash_bytes(e.key().as_bytes()),
                    sound: hash_bytes(e.sound().as_bytes()),
                })
                .collect();
        }
        self.column
    }
}

/// Where each row comes from, for a table built column by column.
#[derive(Default)]
pub struct Origins {
    pub group: Groups,
    pub side: Vec<u8>,
    pub source: Vec<u8>,
}

/// Builds a `LinkTable` row by row.
pub struct TableBuilder {
    features: Vec<Feature>,
    source_names: Vec<String>,
    origins: Origins,
    columns: Vec<ColumnBuilder>,
}

impl TableBuilder {
    pub fn new(features: &[Feature], source_names: Vec<String>, rows: usize) -> TableBuilder {
        TableBuilder {
            features: features.to_vec(),
            source_names,
            origins: Origins::default(),
            columns: features
                .iter()
                .map(|f| ColumnBuilder::new(f, rows))
                .collect(),
        }
    }

    /// Adds a row; `values` holds one value per feature, in the features' order.
    pub fn push(&mut self, origin: Origin, values: &[Value]) {
        self.origins.group.push(origin.group);
        self.origins.side.push(origin.side);
        self.origins.source.push(origin.source);
        for (column, value) in self.columns.iter_mut().zip(values) {
            column.push(value);
        }
    }

    pub fn finish(self) -> LinkTable {
        let columns = self
            .columns
            .into_iter()
            .map(ColumnBuilder::finish)
            .collect();
        LinkTable::new(&self.features, self.source_names, self.origins, columns)
    }
}

impl LinkTable {
    /// A table of finished columns, one per feature in order, and the rows' origins.
    pub fn new(
        features: &[Feature],
        source_names: Vec<String>,
        origins: Origins,
        columns: Vec<Column>,
    ) -> LinkTable {
        LinkTable {
            features: features.to_vec(),
            columns,
            group: origins.group,
            side: origins.side,
            source: origins.source,
            source_names,
        }
    }
}

fn intern<T>(
    interned: &mut Interned,
    store: &mut Vec<T>,
    text: &str,
    make: impl FnOnce(&str) -> T,
) -> u32 {
    if let Some(&key) = interned.get(text) {
        return key;
    }
    let key = store.len() as u32;
    store.push(make(text));
    interned.insert(text.to_string(), key);
    key
}

/// A value of the wrong shape for its column counts as missing.
fn push_missing(column: &mut Column) {
    match column {
        Column::Id(ids) => ids.push(IdValue::MISSING),
        Column::Name(names) => {
            names.values.push(0);
            names.traditional.push(false);
        }
        Column::Date(dates) => {
            dates.push(NO_DATE, false);
        }
        Column::Words(words) => {
            words.values.push(0);
            words.from_id.push(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Groups read back as pushed, no group too.
        #[test]
        fn groups_read_back_as_pushed(
            pushed in prop::collection::vec(prop_oneof![Just(NO_GROUP), 0u32..300, any::<u32>()], 0..100),
        ) {
            let groups: Groups = pushed.iter().copied().collect();
            prop_assert_eq!(groups.len(), pushed.len());
            prop_assert_eq!((0..groups.len()).map(|r| groups.get(r)).collect::<Vec<_>>(), pushed);
        }

        /// A date column reads back each row's day, none included.
        #[test]
        fn dates_read_back_as_pushed(
            pushed in prop::collection::vec(prop_oneof![Just(NO_DATE), 700_000i32..700_400, any::<i32>()], 0..100),
        ) {
            let mut dates = DateColumn::with_capacity(0);
            pushed.iter().for_each(|&day| dates.push(day, false));
            dates.finish();
            prop_assert_eq!(dates.days().collect::<Vec<_>>(), pushed.clone());
            prop_assert_eq!((0..pushed.len()).map(|r| dates.day(r)).collect::<Vec<_>>(), pushed);
        }

        /// A column built from the run's numbers (of words, of IDs) reads as the column built
        /// from the values.
        #[test]
        fn values_found_by_number_are_the_values_interned(
            rows in prop::collection::vec((0usize..6, any::<bool>(), any::<bool>()), 0..60),
            kind in prop::sample::select(vec![FeatureKind::Name, FeatureKind::Text, FeatureKind::Id]),
        ) {
            const TEXTS: [&str; 6] = ["", "王小明", "李四", "王小明 ", "张三", "在读"];
            const IDS: [&str; 6] = ["", "11010519491231002X", "4201051949", "11010519491231002x", "420105194912310020", "110105194912310"];
            let ids = IDS.map(|t| crate::model::id_number::parse_id(t, false).id);
            let feature = Feature { name: "f".into(), kind };
            let (mut by_value, mut by_number) =
                (ColumnBuilder::new(&feature, rows.len()), ColumnBuilder::new(&feature, rows.len()));
            for &(n, flag, known) in &rows {
                let (value, number) = match kind {
                    FeatureKind::Name => (Value::Name(TEXTS[n], flag), n),
                    FeatureKind::Id => (Value::Id(&ids[n], flag), n * 2 + usize::from(flag)),
                    _ => (Value::Word(Some(TEXTS[n]), flag), n),
                };
                by_value.push(&value);
                by_number.push_numbered(known.then_some(number), &value);
            }
            // IDs numbered apart may share a value (`…002X` and `…002x`): each row reads its own.
            let described = |column: Column| match column {
                Column::Id(ids) => format!("{:?}", (0..rows.len()).map(|r| ids.get(r)).collect::<Vec<_>>()),
                Column::Name(n) => format!("{:?} {:?} {:?}", n.values, n.traditional,
                    n.entries.iter().map(|e| e.text.to_string()).collect::<Vec<_>>()),
                Column::Words(w) => format!("{:?} {:?} {:?}", w.values, w.from_id, w.words),
                _ => unreachable!(),
            };
            prop_assert_eq!(described(by_number.finish()), described(by_value.finish()));
        }

        /// An ID column reading the run's IDs reads as one built from the values, and keeps
        /// only the IDs that are not the run's (given without a number).
        #[test]
        fn an_id_column_reads_the_runs_ids_in_place(
            rows in prop::collection::vec((0usize..7, any::<bool>(), any::<bool>()), 0..40),
        ) {
            const IDS: [&str; 7] = ["", "11010519491231002X", "4201051949", "420105194912310020", "110105194912310", "110105194912310028", "4201"];
            let parsed = IDS.map(|t| crate::model::id_number::parse_id(t, false).id);
            let mut run = crate::model::Ids::default();
            let numbers = parsed.map(|id| run.intern(&id).number());
            let feature = Feature { name: "f".into(), kind: FeatureKind::Id };
            let (mut in_place, mut by_value) =
                (ColumnBuilder::new(&feature, rows.len()).with_run_ids(run.shared()), ColumnBuilder::new(&feature, rows.len()));
            for &(n, legacy, numbered) in &rows {
                let value = Value::Id(&parsed[n], legacy);
                in_place.push_numbered(numbered.then_some(numbers[n] * 2 + usize::from(legacy)), &value);
                by_value.push(&value);
            }
            let (Column::Id(in_place), Column::Id(by_value)) = (in_place.finish(), by_value.finish()) else {
                unreachable!()
            };
            for r in 0..rows.len() {
                prop_assert_eq!(in_place.get(r), by_value.get(r));
            }
            let own: std::collections::HashSet<IdValue> = rows
                .iter()
                .filter(|&&(n, _, numbered)| !numbered && n != 0)
                .map(|&(n, legacy, _)| IdValue::new(&parsed[n], legacy))
                .collect();
            prop_assert_eq!(in_place.own.len(), own.len());
            prop_assert!(Arc::ptr_eq(&in_place.run, &run.shared()));
        }
    }

    #[test]
    fn names_are_analysed_once() {
        let entry = NameEntry::new("阿依古丽·买买提");
        assert_eq!(entry.parts(), vec!["阿依古丽", "买买提"]);
        assert_eq!(entry.chars.len(), 7);
        assert_eq!(entry.key(), "阿依古丽买买提");
        let zeng = NameEntry::new("曾小明");
        assert!(zeng.sound().starts_with("zeng "), "{}", zeng.sound());
        assert!(readings_of(NameEntry::new("晓").syllable(0)).any(|r| r == "xiao"));
        assert_eq!(readings_of(NameEntry::new("王?明").syllable(1)).count(), 0);
        assert_eq!(readings_of("yan").collect::<Vec<_>>(), ["yan"]);
        let pinyin = NameEntry::new("王Yan");
        let syllables: Vec<&str> = (0..pinyin.syllable_count())
            .map(|i| pinyin.syllable(i))
            .collect();
        assert_eq!(syllables, vec!["王", "yan"]);
        assert_eq!(pinyin.sound(), NameEntry::new("王䶮").sound());
    }

    proptest! {
        /// A name's key, parts and syllables read off its compact entry are those of its text.
        #[test]
        fn a_name_entry_reads_as_its_text(text in "[王晓小艾力·?a-zA-Z]{0,12}") {
            let entry = NameEntry::new(&text);
            let chars: Vec<char> = text.chars().filter(|c| *c != '·').collect();
            prop_assert_eq!(&*entry.chars, &chars[..]);
            prop_assert_eq!(entry.key(), chars.iter().collect::<String>());
            prop_assert_eq!(entry.parts(), text.split('·').collect::<Vec<_>>());
            prop_assert_eq!(entry.is_dotted(), text.contains('·'));
            let syllables: Vec<&str> = (0..entry.syllable_count()).map(|i| entry.syllable(i)).collect();
            prop_assert_eq!(syllables, syllables_of(&chars));
        }
    }

    proptest! {
        /// An ID column reads every row's ID as pushed, and holds each distinct ID once.
        #[test]
        fn an_id_column_reads_each_row_as_pushed(ids in prop::collection::vec(prop::option::of("[0-3]{6}|[0-3]{18}"), 0..40)) {
            let values: Vec<IdValue> = ids
                .iter()
                .map(|id| match id {
                    Some(text) if text.len() == 18 => IdNumber::Valid(text.clone().into()),
                    Some(text) => IdNumber::Damaged { prefix: text.clone().into() },
                    None => IdNumber::Missing,
                })
                .map(|id| IdValue::new(&id, false))
                .collect();
            let mut column = IdColumn::with_capacity(values.len());
            for value in &values {
                column.push(*value);
            }
            column.finish();
            for (row, value) in values.iter().enumerate() {
                prop_assert_eq!(&column.get(row), value);
            }
            let distinct: std::collections::HashSet<&IdValue> =
                values.iter().filter(|v| v.state != IdState::Missing).collect();
            prop_assert_eq!(column.own.len(), distinct.len());
        }
    }

    #[test]
    fn ids_keep_their_state() {
        let valid = IdValue::new(&IdNumber::Valid("11010519491231002X".into()), false);
        assert!(valid.is_valid() && valid.is_whole());
        assert_eq!(valid.text(), "11010519491231002X");
        let damaged = IdValue::new(
            &IdNumber::Damaged {
                prefix: "420325".into(),
            },
            false,
        );
        assert!(!damaged.is_whole() && damaged.len == 6);
        assert_eq!(
            IdValue::new(&IdNumber::Missing, false).state,
            IdState::Missing
        );
    }
}
