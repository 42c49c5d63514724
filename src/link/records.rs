//! The job's normalized records as a `LinkTable`. Identity features come from the record
//! (ID, name, county); a birth date or sex column is independent evidence, while a birth date
//! or sex read from the ID is marked so, to be ignored when the ID turns out to be another
//! person's. Any other feature is the source field of that name.

use rayon::prelude::*;

use super::table::{ColumnBuilder, Groups, LinkTable, Origins, Value, NO_GROUP};
use crate::config::link::{Feature, FeatureKind};
use crate::config::{Settings, Source};
use crate::model::id_number::{self, IdNumber};
use crate::model::name::NameRepair;
use crate::model::name::{normalize_name, Name};
use crate::model::Value as Cell;
use crate::model::{FastMap, FieldKind, FieldRole, Record, Records, Word};

/// Where a source's rows get one feature's value.
#[derive(Clone, Copy)]
enum Reader {
    Id,
    Name,
    BirthDate(Option<usize>),
    Sex(Option<usize>),
    County,
    Field(usize, FieldKind),
    Missing,
}

/// How rows of source `id` read `feature`: a field no file of the source holds is missing.
fn reader(id: usize, source: &Source, feature: &Feature, records: &Records) -> Reader {
    let field = source
        .field(&feature.name)
        .filter(|&f| records.stores(id, f));
    match FieldRole::of_name(&feature.name) {
        Some(FieldRole::IdNumber) => Reader::Id,
        Some(FieldRole::Name) => Reader::Name,
        Some(FieldRole::BirthDate) => Reader::BirthDate(field),
        Some(FieldRole::Sex) => Reader::Sex(field),
        Some(FieldRole::County) => Reader::County,
        _ => field.map_or(Reader::Missing, |f| Reader::Field(f, source.fields[f].kind)),
    }
}

/// Values a reader makes that the record does not hold (parsed field values).
enum Owned {
    Id(IdNumber),
    Name(Name),
}

pub fn table(records: &Records, settings: &Settings) -> LinkTable {
    let features = &settings.link.features;
    let readers: Vec<Vec<Reader>> = settings
        .sources
        .iter()
        .enumerate()
        .map(|(id, s)| features.iter().map(|f| reader(id, s, f, records)).collect())
        .collect();
    let names = settings.sources.iter().map(|s| s.key.clone()).collect();
    let fill = |f: usize| {
        let mut column = ColumnBuilder::new(&features[f], records.len());
        if features[f].kind == FeatureKind::Id {
            column = column.with_run_ids(records.ids.shared());
        }
        for record in records.iter() {
            let reader = readers[record.source()][f];
            let number = run_number(reader, record, records);
            // One of the run's IDs needs no value: its cell is not read again.
            if column.push_run_id(number) {
                continue;
            }
            let owned = owned_value(reader, record, records);
            let value = value(reader, record, records, owned.as_ref());
            column.push_numbered(number, &value);
        }
        column.finish()
    };
    // Each feature's column is read on its own, the columns side by side (each interns its
    // own values in row order), the rows' groups beside them.
    let (columns, group) = rayon::join(
        || {
            (0..features.len())
                .into_par_iter()
                .map(fill)
                .collect::<Vec<_>>()
        },
        || distinct_groups(records, settings),
    );
    for (feature, column) in features.iter().zip(&columns) {
        let distinct = column.distinct();
        tracing::debug!(feature = feature.name, distinct, "link column built");
    }
    let origins = Origins {
        group,
        side: vec![0; records.len()],
        source: records.iter().map(|r| r.source).collect(),
    };
    LinkTable::new(features, names, origins, columns)
}

/// Per record: its group of distinct rows (a file of a `distinct_rows_in` source, and the
/// value of its `per` field), or `NO_GROUP`.
fn distinct_groups(records: &Records, settings: &Settings) -> Groups {
    let rule_of: Vec<Option<Option<usize>>> = settings
        .sources
        .iter()
        .map(|s| {
            let rule = settings
                .link
                .distinct_rows_in
                .iter()
                .find(|d| d.source == s.key)?;
            Some(rule.per.as_deref().and_then(|f| s.field(f)))
        })
        .collect();
    // A group is a file and a value of its `per` field (a word read or not understood, the
    // same text either way).
    let mut numbers: FastMap<(u32, Cell), u32> = FastMap::default();
    records
        .iter()
        .map(|record| match rule_of[record.source()] {
            None => NO_GROUP,
            Some(per) => {
                let value = per.map_or(Cell::Empty, |f| records.value(record, f));
                let key = match value {
                    Cell::Unparsed(t) | Cell::DamagedId(t) => (record.row.file, Cell::Text(t)),
                    value => (record.row.file, value),
                };
                let next = numbers.len() as u32;
                *numbers.entry(key).or_insert(next)
            }
        })
        .collect()
}

/// The number the run gave a value, when it gave one: the record's ID (with whether it was a
/// 15-digit one, which the linker tells apart), its county, or the word of a name or of a
/// field (an ID field's with whether its cell was a number, which normalize read as damaged).
fn run_number(reader: Reader, record: &Record, records: &Records) -> Option<usize> {
    match reader {
        Reader::Id => Some(record.id.number() * 2 + usize::from(record.id_legacy())),
        Reader::Name => Some(record.name.number()),
        Reader::County => record.county.map(|c| c.number()),
        // A valid ID by its number among the run's IDs, as `Reader::Id` numbers it (ID columns
        // read the run's IDs in place); other ID text is rare and read anew.
        Reader::Field(field, kind) if kind.is_id_like() => {
            records.value(record, field).id().map(|id| id.number() * 2)
        }
        Reader::Field(field, kind) if kind != FieldKind::Date => {
            records.value(record, field).text().map(Word::number)
        }
        _ => None,
    }
}

fn owned_value(reader: Reader, record: &Record, records: &Records) -> Option<Owned> {
    let Reader::Field(field, kind) = reader else {
        return None;
    };
    // Normalize parsed an ID field with its cell's origin: read it as normalize did.
    let (text, from_number_cell) = match records.value(record, field) {
        Cell::Text(t) | Cell::Unparsed(t) => (records.text(t), false),
        Cell::DamagedId(t) => (records.text(t), true),
        _ => return None,
    };
    match kind {
        _ if kind.is_id_like() => Some(Owned::Id(id_number::parse_id(text, from_number_cell).id)),
        FieldKind::Name => Some(Owned::Name(normalize_name(text))),
        _ => None,
    }
}

fn value<'a>(
    reader: Reader,
    record: &'a Record,
    records: &'a Records,
    owned: Option<&'a Owned>,
) -> Value<'a> {
    let text = |field: usize| records.value(record, field).text().map(|w| records.text(w));
    match reader {
        Reader::Id => Value::Id(records.id(record), record.id_legacy()),
        Reader::Name => Value::Name(records.name(record), record.name_traditional()),
        Reader::BirthDate(field) => match field.and_then(|f| records.value(record, f).date()) {
            Some(date) => Value::Date(Some(date), false),
            None => Value::Date(record.birth_date, true),
        },
        Reader::Sex(field) => match field.and_then(text) {
            Some(sex) => Value::Word(Some(sex), false),
            None => Value::Word(records.id(record).valid().and_then(id_number::sex), true),
        },
        Reader::County => Value::Word(record.county().map(|c| c.code.as_str()), false),
        Reader::Field(field, kind) => match (owned, kind, records.value(record, field)) {
            (_, _, Cell::Id(id)) => Value::Id(records.ids.get(id), false),
            (Some(Owned::Id(id)), _, _) => Value::Id(id, false),
            (Some(Owned::Name(name)), _, _) => {
                Value::Name(&name.text, name.repairs.contains(&NameRepair::Traditional))
            }
            (None, FieldKind::Date, cell) => Value::Date(cell.date(), false),
            (None, _, _) => Value::Word(text(field), false),
        },
        Reader::Missing => Value::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::table::IdState;

    /// A household head's ID that Excel stored as a number lost its last digits: the linker
    /// reads it as damaged, as normalize did, even when the digits left happen to end in a
    /// right check character (read again as text, it would pass for a valid ID).
    #[test]
    fn a_head_id_from_a_number_cell_stays_damaged() {
        let damaged_but_checks = (0..1000)
            .map(|sequence| {
                let id17 = format!("42032519700512{sequence:03}");
                let check = id_number::check_character(id17.as_bytes()) as char;
                format!("{id17}{check}")
            })
            .filter(|id| !id.ends_with('X'))
            .find(|id| {
                let as_number = id.parse::<f64>().unwrap().to_string();
                as_number != *id && id_number::parse_id(&as_number, false).id.valid().is_some()
            })
            .expect("an ID whose number form passes the check");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("民政_救助对象.xlsx");
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        let header = [
            "救助对象姓名",
            "身份证号码",
            "行政区划代码",
            "救助类别",
            "户主身份证号",
            "与户主关系",
            "审批日期",
            "状态",
        ];
        for (column, text) in header.iter().enumerate() {
            sheet.write_string(0, column as u16, *text).unwrap();
        }
        let row = [
            "李四",
            "",
            "420325",
            "农村低保",
            "",
            "之子",
            "2018-03-01",
            "正常",
        ];
        for (column, text) in row.iter().enumerate() {
            sheet.write_string(1, column as u16, *text).unwrap();
        }
        let head: f64 = damaged_but_checks.parse().unwrap();
        sheet.write_number(1, 4, head).unwrap();
        workbook.save(&path).unwrap();

        let config = crate::config::load(None).unwrap();
        let settings = &config.settings;
        let files = crate::ingest::discover(&[path]).unwrap().files;
        let mut tables = crate::ingest::load(&files, settings, false).unwrap().tables;
        let regions = crate::model::region::Regions::bundled();
        let records = crate::normalize::run(&mut tables, settings, regions)
            .unwrap()
            .0
            .records;
        let table = table(&records, settings);
        let feature = (settings.link.features.iter())
            .position(|f| f.name == "household_head_id")
            .unwrap();
        let ids = table.ids(feature).expect("an ID column");
        assert_eq!(ids.get(0).state, IdState::Damaged);
    }
}
