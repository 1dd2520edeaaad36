//! Timestamps: milliseconds since the Unix epoch, shown as RFC 3339 UTC.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time with millisecond precision, serialised as
/// `2026-11-22T10:15:30.123Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Milliseconds in one day.
pub const DAY_MILLIS: i64 = 86_400_000;

impl Timestamp {
    /// The current time from the system clock.
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_millis())
    }

    /// From milliseconds since the epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This time plus `seconds` (negative to go back).
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Timestamp(self.0.saturating_add(seconds.saturating_mul(1000)))
    }

    /// Days since the epoch (UTC), for day buckets.
    pub fn day(self) -> i64 {
        self.0.div_euclid(DAY_MILLIS)
    }

    /// The UTC date as the number `yyyymmdd` (for keys per day).
    pub fn utc_date(self) -> u32 {
        let date = self.utc().date_naive();
        date.year_ce().1 * 10_000 + date.month() * 100 + date.day()
    }

    /// The UTC calendar month as the number `yyyymm` (for keys per month
    /// of the present: 0 for a time no such number can name).
    pub fn utc_month(self) -> u32 {
        self.checked_utc_month().unwrap_or(0)
    }

    /// The UTC calendar month as the number `yyyymm`; `None` before the
    /// year 0 or beyond the calendar's range.
    pub fn checked_utc_month(self) -> Option<u32> {
        let date = DateTime::<Utc>::from_timestamp_millis(self.0)?.date_naive();
        u32::try_from(date.year())
            .ok()
            .map(|year| year * 100 + date.month())
    }

    /// Midnight UTC of the first day of this time's month.
    pub fn month_start(self) -> Self {
        let date = self.utc().date_naive();
        Self::first_of(date.year(), date.month())
    }

    /// Midnight UTC of the first day of the month after this time's.
    pub fn next_month_start(self) -> Self {
        let date = self.utc().date_naive();
        match date.month() {
            12 => Self::first_of(date.year() + 1, 1),
            month => Self::first_of(date.year(), month + 1),
        }
    }

    fn utc(self) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp_millis(self.0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    fn first_of(year: i32, month: u32) -> Self {
        Self::checked_first_of(year, month).unwrap_or(Timestamp(i64::MIN))
    }

    /// Midnight UTC of the first day of `month` (1–12) of `year`; `None`
    /// for a month no calendar date names.
    pub fn checked_first_of(year: i32, month: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Timestamp(t.and_utc().timestamp_millis()))
    }

    /// Parses an RFC 3339 timestamp with any offset; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| Timestamp(t.timestamp_millis()))
    }

    /// RFC 3339 in UTC with milliseconds and `Z`.
    pub fn to_rfc3339(self) -> String {
        DateTime::<Utc>::from_timestamp_millis(self.0)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{}' is not an RFC 3339 timestamp such as 2026-11-22T10:15:30.123Z",
                crate::excerpt(&text, 40)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_utc_with_milliseconds() {
        let t = Timestamp::from_millis(1_795_342_530_123);
        assert_eq!(t.to_rfc3339(), "2026-11-22T10:15:30.123Z");
    }

    #[test]
    fn parses_offsets_into_utc() {
        let t = Timestamp::parse("2026-11-22T11:15:30.123+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T10:15:30.123Z");
        assert_eq!(Timestamp::parse("yesterday"), None);
        assert_eq!(Timestamp::parse("2026-11-22"), None);
    }

    #[test]
    fn round_trips_through_json() {
        let t = Timestamp::from_millis(1_795_342_530_123);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-11-22T10:15:30.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }

    #[test]
    fn days_count_from_the_epoch_in_utc() {
        assert_eq!(Timestamp::from_millis(0).day(), 0);
        assert_eq!(Timestamp::from_millis(DAY_MILLIS - 1).day(), 0);
        assert_eq!(Timestamp::from_millis(-1).day(), -1);
    }
}
