//! The job's normalized records as a `LinkTable`. Identity features come from the record
//! (ID, name, county); a birth date or sex column is independent evidence, while a birth date
//! or sex read from the ID is marked so, to be ignored when the ID turns out to be another
//! person's. Any other feature is the source field of that name.

use std::collections::HashMap;

use super::table::{LinkTable, Origin, TableBuilder, Value, NO_GROUP};
use crate::config::link::Feature;
use crate::config::{Settings, Source};
use crate::model::Value as Cell;
use crate::model::{FieldKind, Record, Records};
use crate::normalize::id_number::{self, IdNumber};
use crate::normalize::name::NameRepair;
use crate::normalize::name::{normalize_name, Name};

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

fn reader(source: &Source, feature: &Feature) -> Reader {
    let field = source.field(&feature.name);
    match feature.name.as_str() {
        "id_number" => Reader::Id,
        "name" => Reader::Name,
        "birth_date" => Reader::BirthDate(field),
        "sex" => Reader::Sex(field),
        "county" => Reader::County,
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
        .map(|s| features.iter().map(|f| reader(s, f)).collect())
        .collect();
    let names = settings.sources.iter().map(|s| s.key.clone()).collect();
    let mut builder = TableBuilder::new(features, names, records.len());
    let groups = distinct_groups(records, settings);
    for (record, group) in records.iter().zip(groups) {
        let readers = &readers[record.source];
        let owned: Vec<Option<Owned>> = readers
            .iter()
            .map(|r| owned_value(*r, record, records))
            .collect();
        let values: Vec<Value> = readers
            .iter()
            .zip(&owned)
            .map(|(r, o)| value(*r, record, records, o.as_ref()))
            .collect();
        let origin = Origin {
            group,
            side: 0,
            source: record.source as u8,
        };
        builder.push(origin, &values);
    }
    builder.finish()
}

/// Per record: its group of distinct rows (a file of a `distinct_rows_in` source, and the
/// value of its `per` field), or `NO_GROUP`.
fn distinct_groups(records: &Records, settings: &Settings) -> Vec<u32> {
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
    let mut numbers: HashMap<(u32, String), u32> = HashMap::new();
    records
        .iter()
        .map(|record| match rule_of[record.source] {
            None => NO_GROUP,
            Some(per) => {
                let value = per.map_or(String::new(), |f| match records.value(record, f) {
                    Cell::Text(t) | Cell::Unparsed(t) => records.text(t).to_string(),
                    Cell::Date(d) => d.to_string(),
                    Cell::Empty => String::new(),
                });
                let next = numbers.len() as u32;
                *numbers.entry((record.row.file, value)).or_insert(next)
            }
        })
        .collect()
}

fn owned_value(reader: Reader, record: &Record, records: &Records) -> Option<Owned> {
    let Reader::Field(field, kind) = reader else {
        return None;
    };
    let text = match records.value(record, field) {
        Cell::Text(t) | Cell::Unparsed(t) => records.text(t),
        _ => return None,
    };
    match kind {
        FieldKind::Id | FieldKind::Certificate | FieldKind::StudentNumber => {
            Some(Owned::Id(id_number::parse_id(text, false).id))
        }
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
        Reader::Id => Value::Id(&record.id, record.id_legacy),
        Reader::Name => Value::Name(records.name(record), record.name_traditional),
        Reader::BirthDate(field) => match field.and_then(|f| records.value(record, f).date()) {
            Some(date) => Value::Date(Some(date), false),
            None => Value::Date(record.birth_date, true),
        },
        Reader::Sex(field) => match field.and_then(text) {
            Some(sex) => Value::Word(Some(sex), false),
            None => Value::Word(record.id.valid().and_then(id_number::sex), true),
        },
        Reader::County => Value::Word(record.county.map(|c| c.code.as_str()), false),
        Reader::Field(field, kind) => match (owned, kind) {
            (Some(Owned::Id(id)), _) => Value::Id(id, false),
            (Some(Owned::Name(name)), _) => {
                Value::Name(&name.text, name.repairs.contains(&NameRepair::Traditional))
            }
            (None, FieldKind::Date) => Value::Date(records.value(record, field).date(), false),
            (None, _) => Value::Word(text(field), false),
        },
        Reader::Missing => Value::Missing,
    }
}
