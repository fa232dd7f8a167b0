//! Calendar days (`YYYY-MM-DD`) and inclusive ranges of them (`FROM..TO`),
//! in the proleptic Gregorian calendar, without a date library.

use std::fmt;
use std::str::FromStr;

/// One calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    /// Days since 1970-01-01 (negative before it).
    epoch_day: i64,
}

impl Day {
    /// The day `year-month-day`, or `None` when there is no such day.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Self> {
        if !(1..=9999).contains(&year)
            || !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
        {
            return None;
        }
        Some(Self {
            epoch_day: days_from_civil(year, month, day),
        })
    }

    /// The day after this one.
    pub fn next(self) -> Self {
        Self {
            epoch_day: self.epoch_day + 1,
        }
    }

    /// Year, month and day of the month.
    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.epoch_day)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl FromStr for Day {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("invalid date `{text}`: write it as YYYY-MM-DD, e.g. 2024-01-31");
        let bytes = text.as_bytes();
        if bytes.len() != 10
            || bytes[4] != b'-'
            || bytes[7] != b'-'
            || !text
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let year = text[0..4].parse().map_err(|_| invalid())?;
        let month = text[5..7].parse().map_err(|_| invalid())?;
        let day = text[8..10].parse().map_err(|_| invalid())?;
        Self::from_ymd(year, month, day)
            .ok_or_else(|| format!("there is no day {text}: check the month and the day"))
    }
}

/// An inclusive range of days: `2024-01-01` or `2024-01-01..2024-01-31`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    /// The first day.
    pub first: Day,
    /// The last day, not before `first`.
    pub last: Day,
}

impl DayRange {
    /// How many days the range holds.
    pub fn len(self) -> usize {
        usize::try_from(self.last.epoch_day - self.first.epoch_day + 1).unwrap_or(0)
    }

    /// The days, first to last.
    pub fn days(self) -> impl Iterator<Item = Day> {
        std::iter::successors(Some(self.first), move |day| {
            Some(day.next()).filter(|next| *next <= self.last)
        })
    }
}

impl FromStr for DayRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (first, last) = match text.split_once("..") {
            Some((from, to)) => (from.trim().parse::<Day>()?, to.trim().parse::<Day>()?),
            None => {
                let day = text.trim().parse::<Day>()?;
                (day, day)
            }
        };
        if last < first {
            return Err(format!(
                "the range {text} ends before it starts: write FROM..TO with FROM on or before TO"
            ));
        }
        Ok(Self { first, last })
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid civil date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day count since 1970-01-01 (inverse of
/// [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=31 and 1..=12).
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_days() {
        for text in [
            "1970-01-01",
            "2024-02-29",
            "2024-12-31",
            "2000-02-29",
            "1999-03-01",
        ] {
            assert_eq!(
                text.parse::<Day>().map(|d| d.to_string()),
                Ok(text.to_owned())
            );
        }
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-1-01",
            "24-01-01",
            "2100-02-29",
        ] {
            assert!(bad.parse::<Day>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_are_inclusive_and_cross_months_and_years() {
        let range: DayRange = "2023-12-30..2024-01-02".parse().expect("range");
        let days: Vec<String> = range.days().map(|d| d.to_string()).collect();
        assert_eq!(
            days,
            ["2023-12-30", "2023-12-31", "2024-01-01", "2024-01-02"]
        );
        assert_eq!(range.len(), 4);
        let one: DayRange = "2024-02-29".parse().expect("one day");
        assert_eq!(one.len(), 1);
        assert!("2024-01-02..2024-01-01".parse::<DayRange>().is_err());
    }
}
