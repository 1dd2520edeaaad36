//! When a month's bills become final: at the end of the month plus a grace
//! period for late usage reports (2 days unless configured). From then on
//! its invoices are `FINAL` and no report may add usage to it.
//!
//! Finality is a function of the clock, never a stored flag, so reading an
//! invoice writes nothing and every component agrees on it.

use qmarket_core::{Error, Result, Timestamp};
use serde::Serialize;

use crate::window::{month_text, month_window};

/// The grace period when none is configured, in days.
pub const DEFAULT_GRACE_DAYS: i64 = 2;
/// The longest grace period that may be configured, in days.
pub const MAX_GRACE_DAYS: i64 = 60;

/// How long after its end a month still accepts usage reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grace {
    seconds: i64,
}

impl Default for Grace {
    fn default() -> Self {
        Grace {
            seconds: DEFAULT_GRACE_DAYS * 86_400,
        }
    }
}

/// Whether a month's invoices may still change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvoiceStatus {
    /// The month, or its grace period, has not ended: late reports may
    /// still add usage.
    Open,
    /// Nothing can change any more.
    Final,
}

impl Grace {
    /// A grace period of `days` whole days (0 to [`MAX_GRACE_DAYS`]).
    pub fn days(days: i64) -> Result<Self> {
        if !(0..=MAX_GRACE_DAYS).contains(&days) {
            return Err(Error::Internal(format!(
                "a grace period of {days} days is outside 0 to {MAX_GRACE_DAYS}"
            )));
        }
        Ok(Grace {
            seconds: days * 86_400,
        })
    }

    /// The grace period a configuration value gives (whole days; the
    /// default when it is missing or empty). A value that is not a whole
    /// number from 0 to [`MAX_GRACE_DAYS`] is a configuration error (500).
    pub fn from_setting(value: Option<&str>) -> Result<Self> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(Grace::default()),
            Some(text) => text.parse::<i64>().map_err(|_| ()).and_then(|d| Grace::days(d).map_err(|_| ())).map_err(|()| {
                Error::Internal(format!(
                    "invoice_grace_days '{}' is not a whole number of days from 0 to {MAX_GRACE_DAYS}",
                    text.chars().take(20).collect::<String>()
                ))
            }),
        }
    }

    /// When month `month` (`yyyymm`) becomes final.
    pub fn final_at(self, month: u32) -> Result<Timestamp> {
        Ok(month_window(month)?.to.plus_seconds(self.seconds))
    }

    /// Month `month`'s status at `now`, and when it is (or becomes) final.
    pub fn status(self, month: u32, now: Timestamp) -> Result<(InvoiceStatus, Timestamp)> {
        let final_at = self.final_at(month)?;
        let status = if now >= final_at {
            InvoiceStatus::Final
        } else {
            InvoiceStatus::Open
        };
        Ok((status, final_at))
    }

    /// Refuses (422 on `timestamp`) usage at `timestamp`, in month
    /// `month`, once that month is final at `now`.
    pub(crate) fn admit(self, month: u32, now: Timestamp) -> Result<()> {
        match self.status(month, now)? {
            (InvoiceStatus::Open, _) => Ok(()),
            (InvoiceStatus::Final, since) => Err(Error::unprocessable_field(
                "timestamp",
                format!(
                    "falls in {}, whose invoices are final since {since}; usage of a final month can no longer be reported",
                    month_text(month)
                ),
            )),
        }
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
    fn a_month_is_open_until_two_days_after_its_end() {
        let grace = Grace::default();
        assert_eq!(grace.final_at(202611).unwrap(), t("2026-12-03T00:00:00Z"));
        let open = grace.status(202611, t("2026-12-02T23:59:59.999Z")).unwrap();
        assert_eq!(open.0, InvoiceStatus::Open);
        let closed = grace.status(202611, t("2026-12-03T00:00:00Z")).unwrap();
        assert_eq!(closed.0, InvoiceStatus::Final);
    }

    #[test]
    fn a_late_report_for_a_final_month_is_422_naming_the_month_and_since_when() {
        let err = Grace::default()
            .admit(202611, t("2026-12-03T00:00:00Z"))
            .unwrap_err();
        assert_eq!(err.status(), 422);
        assert_eq!(err.field_errors()[0].field, "timestamp");
        let detail = err.to_string();
        assert!(detail.contains("2026-11"), "{detail}");
        assert!(detail.contains("2026-12-03T00:00:00.000Z"), "{detail}");
        assert!(Grace::default()
            .admit(202611, t("2026-12-02T12:00:00Z"))
            .is_ok());
    }

    #[test]
    fn the_grace_period_is_read_from_its_setting() {
        assert_eq!(Grace::from_setting(None).unwrap(), Grace::default());
        assert_eq!(Grace::from_setting(Some("")).unwrap(), Grace::default());
        assert_eq!(
            Grace::from_setting(Some("40")).unwrap(),
            Grace::days(40).unwrap()
        );
        assert_eq!(
            Grace::from_setting(Some("0"))
                .unwrap()
                .final_at(202611)
                .unwrap(),
            t("2026-12-01T00:00:00Z")
        );
        for bad in ["-1", "61", "2.5", "two"] {
            assert_eq!(
                Grace::from_setting(Some(bad)).unwrap_err().status(),
                500,
                "{bad}"
            );
        }
    }
}
