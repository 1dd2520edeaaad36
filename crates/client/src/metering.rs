//! Metering events (the provider's) and usage bills (the subscriber's and
//! the provider's).

use serde::{Deserialize, Serialize};

use crate::client::escape;
use crate::{Client, Error, Other, Page, PageRequest};

/// A usage event as the service's owner sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeteringEvent {
    /// `evt_…`
    pub id: String,
    /// When the usage happened.
    pub timestamp: String,
    /// The product used.
    pub product_id: String,
    /// Its name.
    #[serde(default)]
    pub product_name: String,
    /// Its unit.
    #[serde(default)]
    pub unit: String,
    /// EUR per unit.
    #[serde(default)]
    pub unit_price: String,
    /// `EUR`.
    #[serde(default)]
    pub currency: String,
    /// How many units.
    pub count: String,
    /// count × unit price, exact.
    #[serde(default)]
    pub amount: String,
    /// The call it belongs to (opaque).
    pub correlation_id: String,
    /// The subscription billed.
    #[serde(default)]
    pub subscription_id: String,
    /// The application that called.
    #[serde(default)]
    pub application_id: String,
    /// Whether it is test usage.
    #[serde(default)]
    pub test_mode: bool,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// A window of time: RFC 3339 timestamps or `YYYY-MM-DD`, `to` exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    /// The start.
    pub from: Option<String>,
    /// The end (exclusive).
    pub to: Option<String>,
}

/// Which metering events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// When.
    pub window: Window,
    /// Only test usage (`Some(true)`) or only live usage (`Some(false)`).
    pub test_mode: Option<bool>,
}

/// A subscription's usage bill over a window.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// The subscription.
    pub subscription_id: String,
    /// The window's start.
    #[serde(default)]
    pub from: Option<String>,
    /// The window's end.
    #[serde(default)]
    pub to: Option<String>,
    /// `EUR`.
    pub currency: String,
    /// Whether it is test usage.
    #[serde(default)]
    pub test_mode: bool,
    /// One line per product used.
    pub lines: Vec<UsageLine>,
    /// The exact sum of the lines' amounts.
    pub total: String,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// One product on a bill.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageLine {
    /// The product.
    pub product_id: String,
    /// Its name.
    pub product_name: String,
    /// Its unit.
    pub unit: String,
    /// EUR per unit.
    pub unit_price: String,
    /// Units used.
    pub quantity: String,
    /// quantity × unit price, exact.
    pub amount: String,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

impl Client {
    /// `GET /api/services/{id}/metering-events`, newest first.
    pub fn metering_events(
        &self,
        service: &str,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> Result<Page<MeteringEvent>, Error> {
        let [limit, cursor] = page.query();
        self.get(
            &format!("/api/services/{}/metering-events", escape(service)),
            &[
                ("from", filter.window.from.clone()),
                ("to", filter.window.to.clone()),
                ("testMode", filter.test_mode.map(|t| t.to_string())),
                limit,
                cursor,
            ],
        )
    }

    /// `GET /api/subscriptions/{id}/usage`: the bill over `window`.
    pub fn usage(&self, subscription: &str, window: &Window) -> Result<Usage, Error> {
        self.get(
            &format!("/api/subscriptions/{}/usage", escape(subscription)),
            &[("from", window.from.clone()), ("to", window.to.clone())],
        )
    }
}
