//! Dates in every shape department exports use: `2020-03-01`, `2020/3/1`, `20200301`,
//! `2020年3月1日`, `2020.3.1`, with or without a time, and Excel serial numbers.

use chrono::{Days, NaiveDate};

/// Day 0 of Excel's 1900 date system, counted so that serials after 1900-02-28 are right.
fn excel_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid epoch")
}

/// An Excel serial date (days since 1899-12-30), for serials from 1900-03-01 to 9999-12-31.
pub fn from_excel_serial(serial: f64) -> Option<NaiveDate> {
    if !(61.0..2_958_466.0).contains(&serial) {
        return None;
    }
    excel_epoch().checked_add_days(Days::new(serial.floor() as u64))
}

/// Parses a date cell. `None` for text that is no date of a known shape. Serial numbers are
/// read only with five digits before any fraction (1927-2173), so `2020` is never a date.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let cleaned = super::text::clean_word(raw);
    let date_part = cleaned
        .split(['T', ' '])
        .next()
        .unwrap_or("")
        .trim_end_matches("00:00:00");
    if date_part.is_empty() {
        return None;
    }
    if date_part.bytes().all(|b| b.is_ascii_digit()) {
        return match date_part.len() {
            8 => ymd(&date_part[..4], &date_part[4..6], &date_part[6..]),
            5 => from_excel_serial(date_part.parse().ok()?),
            _ => None,
        };
    }
    if let Some((whole, fraction)) = date_part.split_once('.') {
        let is_serial =
            whole.len() == 5 && (whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit());
        if is_serial {
            return from_excel_serial(date_part.parse().ok()?);
        }
    }
    let unified: String = date_part
        .chars()
        .map(|c| match c {
            '年' | '月' | '/' | '.' | '-' => '-',
            '日' | '号' => ' ',
            c => c,
        })
        .collect();
    let mut parts = unified.trim().split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    ymd(y, m, d)
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn every_shape() {
        for raw in [
            "2020-03-01",
            "2020/3/1",
            "20200301",
            "2020年3月1日",
            "2020.3.1",
            "2020-03-01 00:00:00",
            "43891",
            "2020-3-1T08:00",
            "２０２０-03-01",
        ] {
            assert_eq!(parse_date(raw), d(2020, 3, 1), "{raw}");
        }
        assert_eq!(parse_date("2020年03月"), None);
        assert_eq!(parse_date("2020-02-30"), None);
        assert_eq!(parse_date("长期"), None);
        assert_eq!(parse_date("2020"), None);
        assert_eq!(parse_date("2020.3"), None);
        assert_eq!(parse_date(""), None);
        assert_eq!(from_excel_serial(43891.5), d(2020, 3, 1));
    }

    proptest! {
        #[test]
        fn every_shape_round_trips(day in 0i64..60000) {
            let date = NaiveDate::from_ymd_opt(1928, 1, 1).unwrap() + chrono::Duration::days(day);
            let serial = (date - excel_epoch()).num_days();
            for raw in [
                date.format("%Y-%m-%d").to_string(),
                date.format("%Y/%-m/%-d").to_string(),
                date.format("%Y%m%d").to_string(),
                date.format("%Y年%-m月%-d日").to_string(),
                serial.to_string(),
            ] {
                prop_assert_eq!(parse_date(&raw), Some(date), "{}", raw);
            }
        }

        #[test]
        fn never_panics(raw in any::<String>()) {
            let _ = parse_date(&raw);
        }
    }
}
