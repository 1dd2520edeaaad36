//! The limits a pricing plan puts on the gateway calls of each of its
//! subscriptions, and what a consumer caps a subscription's spending at.

use qmarket_core::decimal::Amount;
use qmarket_core::Timestamp;
use serde::{Deserialize, Serialize};

/// A plan's limits; absent ones do not apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlanLimits {
    /// Requests per second, minute or hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Requests per day or month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
}

impl PlanLimits {
    /// Whether no limit applies.
    pub fn is_empty(&self) -> bool {
        self.rate_limit.is_none() && self.quota.is_none()
    }
}

/// At most `requests` calls per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RateLimit {
    /// Calls admitted per window (≥ 1).
    pub requests: u64,
    /// The window.
    pub per: RateWindow,
}

/// The fixed window of a rate limit (aligned to the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RateWindow {
    /// One second.
    Second,
    /// One minute.
    Minute,
    /// One hour.
    Hour,
}

impl RateWindow {
    /// The window's length in seconds.
    pub fn seconds(self) -> u64 {
        match self {
            RateWindow::Second => 1,
            RateWindow::Minute => 60,
            RateWindow::Hour => 3600,
        }
    }

    /// The word for it ("second").
    pub fn word(self) -> &'static str {
        match self {
            RateWindow::Second => "second",
            RateWindow::Minute => "minute",
            RateWindow::Hour => "hour",
        }
    }
}

/// At most `requests` calls per UTC calendar day or month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Quota {
    /// Calls admitted per period (≥ 1).
    pub requests: u64,
    /// The period.
    pub per: QuotaPeriod,
}

/// The calendar period of a quota (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QuotaPeriod {
    /// A UTC day.
    Day,
    /// A UTC calendar month.
    Month,
}

impl QuotaPeriod {
    /// The word for it ("day").
    pub fn word(self) -> &'static str {
        match self {
            QuotaPeriod::Day => "day",
            QuotaPeriod::Month => "month",
        }
    }
}

/// What a subscriber caps a subscription's monthly spending at: once the
/// month's open invoice reaches it, the gateway refuses calls (402) until the
/// next month or a higher cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpendCap {
    /// EUR per calendar month.
    pub monthly_cap: Amount,
    /// When it was set.
    pub updated_at: Timestamp,
}

/// Written when a subscription's spending in a month reached its cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapReached {
    /// What the month's invoice came to when it was noticed.
    pub spent: Amount,
    /// The cap it reached.
    pub cap: Amount,
    /// When it was noticed.
    pub at: Timestamp,
}
