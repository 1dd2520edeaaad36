//! The `from` / `to` query parameters of listings and usage bills.
//!
//! Both take an RFC 3339 timestamp (`2026-11-22T10:15:30Z`) or a UTC date
//! (`2026-11-22`). A date as `from` means the start of that day; a date as
//! `to` means the whole day is included (the window ends at the next
//! midnight). Windows are half-open: `from` ≤ t < `to`.

use chrono::{NaiveDate, TimeZone, Utc};
use qmarket_core::time::DAY_MILLIS;
use qmarket_core::{Error, Result, Timestamp};

/// The longest usage window, in days.
pub const MAX_USAGE_DAYS: i64 = 366;

/// A half-open time window `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First instant inside.
    pub from: Timestamp,
    /// First instant after.
    pub to: Timestamp,
}

/// Which end of a window a parameter gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    From,
    To,
}

fn parse_bound(field: &str, text: &str, end: End) -> Result<Timestamp> {
    let text = text.trim();
    if let Some(t) = Timestamp::parse(text) {
        return Ok(t);
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        Error::invalid_field(
            field,
            "must be an RFC 3339 timestamp (2026-11-22T10:15:30Z) or a date (2026-11-22)",
        )
    })?;
    let start = date_start(date).ok_or_else(|| Error::invalid_field(field, "is out of range"))?;
    Ok(match end {
        End::From => start,
        End::To => Timestamp::from_millis(start.millis() + DAY_MILLIS),
    })
}

fn date_start(date: NaiveDate) -> Option<Timestamp> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    Some(Timestamp::from_millis(
        Utc.from_utc_datetime(&midnight).timestamp_millis(),
    ))
}

/// The UTC month of `t` as `yyyymm` (the partition of usage logs).
pub fn month_of(t: Timestamp) -> Result<u32> {
    t.checked_utc_month()
        .ok_or_else(|| Error::Internal("timestamp out of range".into()))
}

/// The month after `month` (`yyyymm`).
pub(crate) fn next_month(month: u32) -> u32 {
    if month % 100 == 12 {
        (month / 100 + 1) * 100 + 1
    } else {
        month + 1
    }
}

/// The month before `month` (`yyyymm`).
pub(crate) fn previous_month(month: u32) -> u32 {
    if month % 100 == 1 {
        (month / 100 - 1) * 100 + 12
    } else {
        month - 1
    }
}

/// Month `month` (`yyyymm`) as the API writes it: `2026-12`.
pub fn month_text(month: u32) -> String {
    format!("{:04}-{:02}", month / 100, month % 100)
}

/// Reads a month as the API writes it (`2026-12`) into `yyyymm`; a 400
/// naming `field` otherwise.
pub fn parse_month(field: &str, text: &str) -> Result<u32> {
    let invalid = || Error::invalid_field(field, "must be a month such as 2026-12 (YYYY-MM)");
    let (year, month) = text.split_once('-').ok_or_else(invalid)?;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(year, 4) || !digits(month, 2) {
        return Err(invalid());
    }
    let (year, month) = (
        year.parse::<u32>().map_err(|_| invalid())?,
        month.parse::<u32>().map_err(|_| invalid())?,
    );
    if !(1..=12).contains(&month) || year < 1970 {
        return Err(invalid());
    }
    Ok(year * 100 + month)
}

/// The whole UTC month `month` (`yyyymm`): `[first midnight, next month's)`.
pub fn month_window(month: u32) -> Result<Window> {
    let start = |m: u32| {
        i32::try_from(m / 100)
            .ok()
            .and_then(|year| Timestamp::checked_first_of(year, m % 100))
            .ok_or_else(|| Error::Internal(format!("month {m} out of range")))
    };
    Ok(Window {
        from: start(month)?,
        to: start(next_month(month))?,
    })
}

/// The calendar month (UTC) that contains `now`.
pub fn current_month(now: Timestamp) -> Result<Window> {
    month_window(month_of(now)?)
}

fn floor_day(t: Timestamp) -> Timestamp {
    Timestamp::from_millis(t.day() * DAY_MILLIS)
}

fn ceil_day(t: Timestamp) -> Timestamp {
    let floor = floor_day(t);
    if floor == t {
        t
    } else {
        Timestamp::from_millis(floor.millis() + DAY_MILLIS)
    }
}

impl Window {
    /// The window of a usage bill: whole UTC days (`from` rounded down, `to`
    /// rounded up to midnight), at most [`MAX_USAGE_DAYS`]; the current
    /// calendar month when neither is given, its missing end taken from it
    /// when only one is.
    pub fn for_usage(from: Option<&str>, to: Option<&str>, now: Timestamp) -> Result<Self> {
        let month = current_month(now)?;
        let from = match from {
            Some(text) => floor_day(parse_bound("from", text, End::From)?),
            None => month.from,
        };
        let to = match to {
            Some(text) => ceil_day(parse_bound("to", text, End::To)?),
            None => month.to,
        };
        let window = Window { from, to };
        if window.from >= window.to {
            return Err(Error::invalid_field("to", "must be after from"));
        }
        if window.days() > MAX_USAGE_DAYS {
            return Err(Error::invalid_field(
                "to",
                format!("the window spans more than {MAX_USAGE_DAYS} days"),
            ));
        }
        Ok(window)
    }

    /// The window of an event listing: exact instants; unbounded ends when
    /// not given.
    pub fn for_listing(from: Option<&str>, to: Option<&str>) -> Result<Self> {
        let window = Window {
            from: match from {
                Some(text) => parse_bound("from", text, End::From)?,
                None => Timestamp::from_millis(i64::MIN),
            },
            to: match to {
                Some(text) => parse_bound("to", text, End::To)?,
                None => Timestamp::from_millis(i64::MAX),
            },
        };
        if window.from >= window.to {
            return Err(Error::invalid_field("to", "must be after from"));
        }
        Ok(window)
    }

    /// Whether `t` lies inside.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.from <= t && t < self.to
    }

    /// The UTC days (days since the epoch) the window covers, for day counters.
    pub fn day_range(&self) -> std::ops::Range<i64> {
        self.from.day()..ceil_day(self.to).day()
    }

    /// The UTC months (`yyyymm`) the window touches, in order.
    pub fn months(&self) -> Result<Vec<u32>> {
        let first = month_of(self.from)?;
        let last = month_of(Timestamp::from_millis(self.to.millis() - 1))?;
        let mut months = vec![first];
        while *months.last().unwrap_or(&last) < last {
            let next = next_month(*months.last().unwrap_or(&last));
            months.push(next);
        }
        Ok(months)
    }

    fn days(&self) -> i64 {
        let r = self.day_range();
        r.end - r.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_http::StatusOf;

    fn t(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn the_default_usage_window_is_the_current_calendar_month() {
        let w = Window::for_usage(None, None, t("2026-12-15T10:00:00Z")).unwrap();
        assert_eq!(w.from, t("2026-12-01T00:00:00Z"));
        assert_eq!(w.to, t("2027-01-01T00:00:00Z"));
        assert_eq!(w.day_range().end - w.day_range().start, 31);
    }

    #[test]
    fn usage_windows_round_out_to_whole_days_and_dates_include_their_day() {
        let now = t("2026-12-15T10:00:00Z");
        let w = Window::for_usage(
            Some("2026-11-03T10:00:00Z"),
            Some("2026-11-05T00:00:01Z"),
            now,
        )
        .unwrap();
        assert_eq!(w.from, t("2026-11-03T00:00:00Z"));
        assert_eq!(w.to, t("2026-11-06T00:00:00Z"));
        let w = Window::for_usage(Some("2026-11-03"), Some("2026-11-03"), now).unwrap();
        assert_eq!(w.from, t("2026-11-03T00:00:00Z"));
        assert_eq!(w.to, t("2026-11-04T00:00:00Z"));
    }

    #[test]
    fn bad_windows_are_400s() {
        let now = t("2026-12-15T10:00:00Z");
        for (from, to) in [
            (Some("yesterday"), None),
            (None, Some("2026-13-01")),
            (Some("2026-11-05"), Some("2026-11-04")),
            (Some("2025-01-01"), Some("2026-12-01")),
        ] {
            let err = Window::for_usage(from, to, now).unwrap_err();
            assert_eq!(err.status(), 400, "{from:?} {to:?}");
        }
        assert!(Window::for_usage(Some("2025-12-01"), Some("2026-11-30"), now).is_ok());
    }

    #[test]
    fn a_window_names_the_months_it_touches() {
        let now = t("2026-12-15T10:00:00Z");
        let w = Window::for_usage(Some("2026-11-30"), Some("2027-01-01"), now).unwrap();
        assert_eq!(w.months().unwrap(), [202611, 202612, 202701]);
        let w = Window::for_usage(None, None, now).unwrap();
        assert_eq!(w.months().unwrap(), [202612]);
        assert_eq!(month_of(t("2026-01-31T23:59:59.999Z")).unwrap(), 202601);
    }

    #[test]
    fn months_are_read_and_written_as_yyyy_mm() {
        assert_eq!(parse_month("month", "2026-12").unwrap(), 202612);
        assert_eq!(month_text(202601), "2026-01");
        for bad in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-12",
            "2026/12",
            "2026-12-01",
            "",
            "abcd-ef",
        ] {
            assert_eq!(
                parse_month("month", bad).unwrap_err().status(),
                400,
                "{bad}"
            );
        }
        let december = month_window(202612).unwrap();
        assert_eq!(december.from, t("2026-12-01T00:00:00Z"));
        assert_eq!(december.to, t("2027-01-01T00:00:00Z"));
        assert_eq!(previous_month(202601), 202512);
        assert_eq!(next_month(202612), 202701);
    }

    #[test]
    fn listing_windows_are_exact_and_open_ended_by_default() {
        let w = Window::for_listing(Some("2026-11-03T10:00:00Z"), None).unwrap();
        assert!(!w.contains(t("2026-11-03T09:59:59.999Z")));
        assert!(w.contains(t("2026-11-03T10:00:00Z")));
        let w = Window::for_listing(None, Some("2026-11-03")).unwrap();
        assert!(w.contains(t("2026-11-03T23:59:59.999Z")));
        assert!(!w.contains(t("2026-11-04T00:00:00Z")));
    }
}
