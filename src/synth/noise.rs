//! Noise on exported cells, at documented rates per record: `realistic`, and `hard` at twice
//! those rates; `clean` has none. Each change is tagged, so an evaluation can tell which noise
//! caused which error.

use crate::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoiseLevel {
    Clean,
    Realistic,
    Hard,
}

impl NoiseLevel {
    pub fn parse(text: &str) -> Option<NoiseLevel> {
        match text {
            "clean" => Some(NoiseLevel::Clean),
            "realistic" => Some(NoiseLevel::Realistic),
            "hard" => Some(NoiseLevel::Hard),
            _ => None,
        }
    }

    fn scale(self) -> f64 {
        match self {
            NoiseLevel::Clean => 0.0,
            NoiseLevel::Realistic => 1.0,
            NoiseLevel::Hard => 2.0,
        }
    }
}

/// Rates per record at `realistic` (percent), in the order they are tried; one ID noise and
/// one name noise at most per record.
pub const ID_NOISE: [(&str, f64); 7] = [
    ("id_digit_substituted", 0.5),
    ("id_digits_swapped", 0.3),
    ("id_legacy15", 0.5),
    ("id_cosmetic", 2.0),
    ("id_excel_damage", 0.3),
    ("id_blank", 0.5),
    ("id_of_relative", 0.2),
];
pub const NAME_NOISE: [(&str, f64); 4] = [
    ("name_homophone", 0.5),
    ("name_traditional", 0.5),
    ("name_spaces", 0.3),
    ("name_dot_variant", 30.0),
];

/// Percent of dates written in another shape than the file's own (or as an Excel serial).
pub const DATE_NOISE: f64 = 1.0;

const HOMOPHONES: [(char, char); 10] = [
    ('晓', '小'),
    ('明', '铭'),
    ('伟', '玮'),
    ('丽', '莉'),
    ('华', '桦'),
    ('军', '君'),
    ('英', '颖'),
    ('芳', '方'),
    ('敏', '民'),
    ('静', '靜'),
];
const TRADITIONAL: [(char, char); 14] = [
    ('张', '張'),
    ('刘', '劉'),
    ('陈', '陳'),
    ('杨', '楊'),
    ('黄', '黃'),
    ('赵', '趙'),
    ('吴', '吳'),
    ('孙', '孫'),
    ('马', '馬'),
    ('华', '華'),
    ('国', '國'),
    ('军', '軍'),
    ('兰', '蘭'),
    ('丽', '麗'),
];

/// What a workbook writes for a date: a date cell, or text.
pub enum DateCell {
    Native(chrono::NaiveDate),
    Text(String),
}

/// What the export writes for an ID: text, or a number cell (XLSX only).
pub enum IdCell {
    Text(String),
    Number(f64),
}

pub struct Noisy<'a> {
    pub rng: Rng,
    pub level: NoiseLevel,
    pub tags: Vec<&'a str>,
}

impl<'a> Noisy<'a> {
    fn roll(&mut self, percent: f64) -> bool {
        self.rng.chance(percent / 100.0 * self.level.scale())
    }

    /// The ID as exported; `relative` is another household member's ID, `xlsx` whether the
    /// file is a spreadsheet (Excel damage then is a number cell, else scientific notation).
    pub fn id(&mut self, id: &str, relative: Option<&str>, xlsx: bool) -> IdCell {
        let Some(&(tag, _)) = ID_NOISE.iter().find(|(_, rate)| self.roll(*rate)) else {
            return IdCell::Text(id.to_string());
        };
        let text = match tag {
            "id_digit_substituted" => {
                let at = self.rng.below(17) as usize;
                let digit = (id.as_bytes()[at] - b'0' + 1 + self.rng.below(9) as u8) % 10;
                format!("{}{}{}", &id[..at], digit, &id[at + 1..])
            }
            "id_digits_swapped" => {
                let at = (6..16)
                    .find(|&i| id.as_bytes()[i] != id.as_bytes()[i + 1])
                    .unwrap_or(14);
                format!(
                    "{}{}{}{}",
                    &id[..at],
                    &id[at + 1..at + 2],
                    &id[at..at + 1],
                    &id[at + 2..]
                )
            }
            "id_legacy15" if id[6..8] == *"19" => format!("{}{}", &id[..6], &id[8..17]),
            "id_cosmetic" => match self.rng.below(3) {
                0 => format!("'{}", id.to_lowercase()),
                1 => format!(" {} {}\t", &id[..6], &id[6..]),
                _ => id
                    .chars()
                    .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap_or(c))
                    .collect(),
            },
            "id_excel_damage" if xlsx => {
                self.tags.push(tag);
                return IdCell::Number(id[..17].parse::<f64>().unwrap_or(0.0) * 10.0);
            }
            "id_excel_damage" => {
                format!("{:.5E}", id[..17].parse::<f64>().unwrap_or(0.0) * 10.0).replace("E", "E+")
            }
            "id_blank" => String::new(),
            "id_of_relative" => match relative {
                Some(other) => other.to_string(),
                None => return IdCell::Text(id.to_string()),
            },
            _ => return IdCell::Text(id.to_string()),
        };
        self.tags.push(tag);
        IdCell::Text(text)
    }

    /// A date in the file's `format`, or now and then in another shape departments use.
    pub fn date(&mut self, date: Option<chrono::NaiveDate>, format: &str) -> String {
        let Some(date) = date else {
            return String::new();
        };
        if !self.roll(DATE_NOISE) {
            return date.format(format).to_string();
        }
        self.other_shape(date)
    }

    /// A date for a date cell, or now and then text in a shape departments type.
    pub fn date_cell(&mut self, date: Option<chrono::NaiveDate>) -> Option<DateCell> {
        let date = date?;
        Some(match self.roll(DATE_NOISE) {
            true => DateCell::Text(self.other_shape(date)),
            false => DateCell::Native(date),
        })
    }

    fn other_shape(&mut self, date: chrono::NaiveDate) -> String {
        self.tags.push("date_format");
        match self.rng.below(4) {
            0 => date.format("%Y/%-m/%-d").to_string(),
            1 => date.format("%Y%m%d").to_string(),
            2 => date.format("%Y年%-m月%-d日").to_string(),
            _ => (date - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).expect("epoch"))
                .num_days()
                .to_string(),
        }
    }

    /// The name as exported.
    pub fn name(&mut self, name: &str) -> String {
        let swap = |table: &[(char, char)], name: &str| -> Option<String> {
            let hit = name.chars().any(|c| table.iter().any(|(a, _)| *a == c));
            hit.then(|| {
                name.chars()
                    .map(|c| table.iter().find(|(a, _)| *a == c).map_or(c, |(_, b)| *b))
                    .collect()
            })
        };
        for &(tag, rate) in &NAME_NOISE {
            let minority = name.contains('·');
            if (tag == "name_dot_variant") != minority || !self.roll(rate) {
                continue;
            }
            let changed = match tag {
                "name_homophone" => swap(&HOMOPHONES, name),
                "name_traditional" => swap(&TRADITIONAL, name),
                "name_spaces" => Some(name.chars().map(String::from).collect::<Vec<_>>().join(" ")),
                _ => Some(name.replace('·', ["．", "•", ".", ""][self.rng.below(4) as usize])),
            };
            if let Some(changed) = changed {
                self.tags.push(tag);
                return changed;
            }
        }
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::id_number::{parse_id, IdNumber};

    const ID: &str = "11010519491231002X";

    fn noisy(level: NoiseLevel, index: u64) -> Noisy<'static> {
        Noisy {
            rng: Rng::for_item(9, 2, index),
            level,
            tags: Vec::new(),
        }
    }

    #[test]
    fn clean_changes_nothing() {
        for i in 0..500 {
            let mut n = noisy(NoiseLevel::Clean, i);
            assert!(matches!(n.id(ID, Some("x"), true), IdCell::Text(t) if t == ID));
            assert_eq!(n.name("阿依古丽·买买提"), "阿依古丽·买买提");
            assert!(n.tags.is_empty());
        }
    }

    #[test]
    fn every_id_noise_does_what_its_tag_says() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..20_000 {
            let mut n = noisy(NoiseLevel::Hard, i);
            let cell = n.id(ID, Some("110105194912310037"), false);
            let IdCell::Text(text) = cell else {
                panic!("a number cell in a CSV")
            };
            let parsed = parse_id(&text, false).id;
            match n.tags.first().copied() {
                None | Some("id_cosmetic") | Some("id_legacy15") => {
                    assert_eq!(parsed, IdNumber::Valid(ID.into()), "{text}")
                }
                Some("id_excel_damage") => assert!(parsed.is_damaged(), "{text}"),
                Some("id_blank") => assert_eq!(parsed, IdNumber::Missing),
                Some("id_of_relative") => assert_eq!(text, "110105194912310037"),
                Some(_) => assert!(parsed.valid().is_none(), "{text}"),
            }
            seen.extend(n.tags.first().copied());
        }
        assert_eq!(seen.len(), ID_NOISE.len(), "{seen:?}");
    }
}
