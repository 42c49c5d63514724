//! Counties: a code (current or legacy, 6 or 12 digits) or a name (with or without its
//! province and city, traditional or simplified, with or without the 县/市/区 suffix) is
//! resolved against the reference data compiled in from `data/`.

use std::collections::HashMap;

use super::text::clean_word;

const COUNTIES_CSV: &str = include_str!("../../data/counties.csv");
const CITIES_CSV: &str = include_str!("../../data/cities.csv");
const PROVINCES_CSV: &str = include_str!("../../data/provinces.csv");
const LEGACY_CSV: &str = include_str!("../../data/legacy_codes.csv");

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct County {
    /// Its place among the bundled counties, from 1.
    number: std::num::NonZeroU16,
    pub code: String,
    pub name: String,
    /// Province and city names, used to tell apart counties that share a name.
    pub context: Vec<String>,
}

/// Why a county value could not be resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountyProblem {
    Unknown,
    Ambiguous,
}

/// A county of the bundled reference data in 2 bytes, as a record keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CountyRef(std::num::NonZeroU16);

impl CountyRef {
    pub fn of(county: &County) -> CountyRef {
        CountyRef(county.number)
    }

    /// Its place among the bundled counties, from 1.
    pub fn number(self) -> usize {
        usize::from(self.0.get())
    }

    pub fn county(self) -> &'static County {
        &Regions::bundled().counties[self.number() - 1]
    }
}

/// Where a file's rows lie: how many of its rows' counties are in each prefecture (the code's
/// first four digits) and province (two).
#[derive(Debug, Default)]
pub struct Area {
    rows: u64,
    by_prefix: HashMap<String, u64>,
}

impl Area {
    pub fn add(&mut self, county: &County) {
        self.rows += 1;
        for len in [4, 2] {
            *self
                .by_prefix
                .entry(county.code[..len].to_string())
                .or_default() += 1;
        }
    }

    /// Whether more than half of the rows lie in the prefecture or province `prefix`.
    fn holds_most(&self, prefix: &str) -> bool {
        self.by_prefix
            .get(prefix)
            .is_some_and(|&n| 2 * n > self.rows)
    }
}

pub struct Regions {
    by_code: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
    legacy: HashMap<String, String>,
    counties: Vec<County>,
}

fn csv_rows(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split(',')
                .map(|f| f.trim_matches('"').to_string())
                .collect()
        })
}

fn short_name(name: &str) -> Option<&str> {
    let short = name.trim_end_matches(['县', '市', '区', '旗']);
    (short != name && short.chars().count() >= 2).then_some(short)
}

impl Regions {
    /// The reference data compiled into the binary, read once: records point into it.
    pub fn bundled() -> &'static Regions {
        static REGIONS: std::sync::OnceLock<Regions> = std::sync::OnceLock::new();
        REGIONS.get_or_init(Regions::read)
    }

    fn read() -> Regions {
        let names = |text| -> HashMap<String, String> {
            csv_rows(text)
                .map(|r| (r[0].clone(), r[1].clone()))
                .collect()
        };
        let (cities, provinces) = (names(CITIES_CSV), names(PROVINCES_CSV));
        let mut regions = Regions {
            by_code: HashMap::new(),
            by_name: HashMap::new(),
            legacy: csv_rows(LEGACY_CSV)
                .map(|r| (r[0].clone(), r[1].clone()))
                .collect(),
            counties: Vec::new(),
        };
        for row in csv_rows(COUNTIES_CSV) {
            let context = [cities.get(&row[2]), provinces.get(&row[3])]
                .into_iter()
                .flatten()
                .filter(|n| n.as_str() != "市辖区" && n.as_str() != "省直辖县级行政区划")
                .cloned()
                .collect();
            let index = regions.counties.len();
            regions.by_code.insert(row[0].clone(), index);
            regions
                .by_name
                .entry(row[1].clone())
                .or_default()
                .push(index);
            if let Some(short) = short_name(&row[1]) {
                regions
                    .by_name
                    .entry(short.to_string())
                    .or_default()
                    .push(index);
            }
            regions.counties.push(County {
                number: std::num::NonZeroU16::new(index as u16 + 1)
                    .expect("fewer counties than u16"),
                code: row[0].clone(),
                name: row[1].clone(),
                context,
            });
        }
        for row in csv_rows(LEGACY_CSV).filter(|r| !r[2].is_empty()) {
            if let Some(&index) = regions.by_code.get(&row[1]) {
                regions
                    .by_name
                    .entry(row[2].clone())
                    .or_default()
                    .push(index);
            }
        }
        regions
    }

    /// The counties of a province (by its two-digit code) that IDs can carry: development
    /// zones (`xxxx7x`) excluded.
    pub fn province_counties(&self, province: &str) -> Vec<&County> {
        self.counties
            .iter()
            .filter(|c| c.code.starts_with(province) && c.code.as_bytes()[4] != b'7')
            .collect()
    }

    /// The older codes an ID issued in `code`'s county may still carry.
    pub fn legacy_codes_of(&self, code: &str) -> Vec<&str> {
        let mut old: Vec<&str> = self
            .legacy
            .iter()
            .filter(|(_, new)| new.as_str() == code)
            .map(|(old, _)| old.as_str())
            .collect();
        old.sort();
        old
    }

    /// A county by its code; legacy codes are mapped to the current one.
    pub fn by_code(&self, code: &str) -> Option<&County> {
        let current = self.legacy.get(code).map_or(code, String::as_str);
        self.by_code.get(current).map(|&i| &self.counties[i])
    }

    /// Resolves a county cell: a code, a name, or both. `id_region` (the ID's first six
    /// digits) only breaks ties between counties that share a name.
    pub fn resolve(&self, cell: &str, id_region: Option<&str>) -> Result<&County, CountyProblem> {
        self.resolve_noting_ties(cell, id_region).0
    }

    /// `resolve`, and whether the cell named several counties (then `id_region` may have
    /// chosen; otherwise any region gives the same answer).
    pub fn resolve_noting_ties(
        &self,
        cell: &str,
        id_region: Option<&str>,
    ) -> (Result<&County, CountyProblem>, bool) {
        let text = clean_word(cell);
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        if digits.len() == 6 || digits.len() == 9 || digits.len() == 12 {
            return (
                self.by_code(&digits[..6]).ok_or(CountyProblem::Unknown),
                false,
            );
        }
        let name_part = &text[digits.len()..];
        let candidates = self.name_candidates(name_part);
        match candidates.as_slice() {
            [] => (Err(CountyProblem::Unknown), false),
            [one] => (Ok(&self.counties[*one]), false),
            many => (self.disambiguate(many, name_part, id_region), true),
        }
    }

    /// The one county a cell that names several (`resolve` found it ambiguous) names in the
    /// prefecture where most of its file's rows lie, else in such a province: 朝阳区 in a
    /// file of Beijing's districts is Beijing's. `None` when no area holds most of the rows,
    /// or it holds more than one of the counties named.
    pub fn resolve_in_area(&self, cell: &str, area: &Area) -> Option<&County> {
        let text = clean_word(cell);
        let digits = text.chars().take_while(char::is_ascii_digit).count();
        let candidates = self.name_candidates(&text[digits..]);
        [4, 2].into_iter().find_map(|len| {
            let inside: Vec<&County> = (candidates.iter())
                .map(|&i| &self.counties[i])
                .filter(|c| area.holds_most(&c.code[..len]))
                .collect();
            match inside.as_slice() {
                [one] => Some(*one),
                _ => None,
            }
        })
    }

    /// Counties whose name (or short name) ends the text, longest match first.
    fn name_candidates(&self, text: &str) -> Vec<usize> {
        let chars: Vec<char> = text.chars().collect();
        (0..chars.len())
            .map(|start| chars[start..].iter().collect::<String>())
            .find_map(|tail| {
                self.by_name
                    .get(&tail)
                    .filter(|_| tail.chars().count() >= 2)
            })
            .cloned()
            .unwrap_or_default()
    }

    fn disambiguate(
        &self,
        candidates: &[usize],
        text: &str,
        id_region: Option<&str>,
    ) -> Result<&County, CountyProblem> {
        let by_context: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| {
                self.counties[i]
                    .context
                    .iter()
                    .any(|c| text.contains(c.as_str()))
            })
            .collect();
        if let [one] = by_context.as_slice() {
            return Ok(&self.counties[*one]);
        }
        let region = id_region
            .and_then(|r| self.by_code(r))
            .map(|c| c.code.clone());
        for prefix_len in [4, 2] {
            let Some(prefix) = region.as_deref().and_then(|r| r.get(..prefix_len)) else {
                break;
            };
            let near: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| self.counties[i].code.starts_with(prefix))
                .collect();
            if let [one] = near.as_slice() {
                return Ok(&self.counties[*one]);
            }
        }
        Err(CountyProblem::Ambiguous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_legacy() {
        let regions = Regions::bundled();
        assert_eq!(regions.resolve("421181", None).unwrap().name, "麻城市");
        assert_eq!(regions.resolve("422101", None).unwrap().code, "421181");
        assert_eq!(
            regions.resolve("421181000000", None).unwrap().code,
            "421181"
        );
        assert_eq!(regions.resolve("麻城市", None).unwrap().code, "421181");
        assert_eq!(regions.resolve("麻城", None).unwrap().code, "421181");
        assert_eq!(
            regions.resolve("湖北省黄冈市蕲春县", None).unwrap().code,
            "421126"
        );
        assert_eq!(regions.resolve("蘄春縣", None).unwrap().code, "421126");
        assert_eq!(
            regions.resolve("421126 蕲春县", None).unwrap().code,
            "421126"
        );
        assert_eq!(regions.resolve("郧县", None).unwrap().code, "420304");
        assert_eq!(regions.resolve("十堰市郧县", None).unwrap().name, "郧阳区");
        assert_eq!(regions.resolve("420321", None).unwrap().name, "郧阳区");
        assert_eq!(
            regions.resolve("不存在县", None).err(),
            Some(CountyProblem::Unknown)
        );
    }

    #[test]
    fn shared_names_need_context() {
        let regions = Regions::bundled();
        assert_eq!(
            regions.resolve("鼓楼区", None).err(),
            Some(CountyProblem::Ambiguous)
        );
        let nanjing = regions.resolve("南京市鼓楼区", None).unwrap();
        assert!(nanjing.code.starts_with("3201"), "{}", nanjing.code);
        let fuzhou = regions.resolve("鼓楼区", Some("350102")).unwrap();
        assert!(fuzhou.code.starts_with("3501"), "{}", fuzhou.code);
    }

    proptest::proptest! {
        /// A shared name read by its file's area is a county of that name, in a prefecture or
        /// province holding most of the file's rows, and the only one of the name there.
        #[test]
        fn a_name_read_by_area_is_the_one_it_names_where_most_rows_lie(
            picks in proptest::collection::vec((0usize..8, 0usize..30), 1..40),
            pick in 0usize..1_000,
        ) {
            let regions = Regions::bundled();
            let mut shared: Vec<(&String, &Vec<usize>)> =
                regions.by_name.iter().filter(|(_, c)| c.len() > 1).collect();
            shared.sort();
            let (name, named) = shared[pick % shared.len()];
            // Rows in counties listed near the ones named (often their prefecture's).
            let mut area = Area::default();
            for (c, offset) in picks {
                let near = (named[c % named.len()] + offset).saturating_sub(15);
                area.add(&regions.counties[near.min(regions.counties.len() - 1)]);
            }
            if let Some(found) = regions.resolve_in_area(name, &area) {
                proptest::prop_assert!(named.iter().any(|&i| regions.counties[i] == *found));
                let len = [4, 2].into_iter().find(|&len| area.holds_most(&found.code[..len]));
                proptest::prop_assert!(len.is_some());
                let len = len.unwrap();
                let there = named
                    .iter()
                    .filter(|&&i| regions.counties[i].code[..len] == found.code[..len])
                    .count();
                proptest::prop_assert_eq!(there, 1);
            }
        }
    }

    /// A name several counties share is the one in the area holding most of its file's rows:
    /// the prefecture, else the province; no area with most of them, or two of the counties
    /// in it, leave it ambiguous.
    #[test]
    fn shared_names_are_read_where_the_file_lies() {
        let regions = Regions::bundled();
        let area = |codes: &[&str]| {
            let mut area = Area::default();
            codes
                .iter()
                .for_each(|c| area.add(regions.by_code(c).unwrap()));
            area
        };
        let beijing = area(&["110101", "110102", "110106", "220104"]);
        assert_eq!(
            regions.resolve_in_area("朝阳区", &beijing).unwrap().code,
            "110105"
        );
        let changchun = area(&["220102", "220103", "110101"]);
        assert_eq!(
            regions.resolve_in_area("朝阳区", &changchun).unwrap().code,
            "220104"
        );
        let split = area(&["110101", "220102"]);
        assert_eq!(regions.resolve_in_area("朝阳区", &split), None);
        // Shanxi has a 城区 in several of its prefectures: the file's prefecture chooses.
        let shanxi = area(&["140302", "140303", "140311", "140403"]);
        let chengqu = regions.resolve_in_area("城区", &shanxi).unwrap();
        assert!(chengqu.code.starts_with("1403"), "{}", chengqu.code);
        assert_eq!(
            regions.resolve_in_area("城区", &area(&["140302", "140502"])),
            None
        );
    }
}
