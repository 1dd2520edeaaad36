//! Invoices and the events behind them, a subscription's gateway calls with
//! what they cost, its spend cap, and a service's revenue.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::client::escape;
use crate::{Client, Error, Other, Page, PageRequest, UsageLine, Window};

/// A subscription's invoice of one month.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    /// The subscription.
    pub subscription_id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// `OPEN` or `FINAL`.
    pub status: String,
    /// When it becomes (or became) final.
    pub final_at: String,
    /// `EUR`.
    pub currency: String,
    /// One line per product.
    pub lines: Vec<UsageLine>,
    /// The exact sum of the lines' amounts.
    pub total: String,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// A gateway call of a subscription, with the metering events it caused.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    /// The call's `x-correlation-id`.
    pub correlation_id: String,
    /// The request method.
    pub method: String,
    /// The path after `/gateway/{serviceId}`.
    pub path: String,
    /// The status the consumer got.
    pub status: u16,
    /// From admission to the answer's last byte.
    pub duration_ms: u64,
    /// When the gateway admitted it.
    pub started_at: String,
    /// The events reported for it.
    pub events: Vec<CallEvent>,
    /// What its events cost.
    pub amount: String,
    /// `EUR`.
    pub currency: String,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// A metering event as a call shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallEvent {
    /// The product's name.
    pub product_name: String,
    /// Units counted.
    pub count: String,
    /// The unit.
    pub unit: String,
    /// What the bill charges for it.
    pub amount: String,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// A subscription's monthly spend cap and the month's spending.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpendCap {
    /// The subscription.
    pub subscription_id: String,
    /// EUR per month, if a cap is set.
    pub monthly_cap: Option<String>,
    /// `EUR`.
    pub currency: String,
    /// The current month, `YYYY-MM`.
    pub month: String,
    /// The month's bill so far.
    pub spent: String,
    /// Whether the gateway refuses calls for the rest of the month.
    pub reached: bool,
}

/// A service's revenue of one month: its subscriptions' invoice totals.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revenue {
    /// The service.
    pub service_id: String,
    /// `YYYY-MM`.
    pub month: String,
    /// `OPEN` or `FINAL`, as the month's invoices.
    pub status: String,
    /// When the month is, or becomes, final.
    pub final_at: String,
    /// `EUR`.
    pub currency: String,
    /// One entry per subscription, newest subscription first.
    pub subscriptions: Vec<RevenueLine>,
    /// The exact sum of the live subscriptions' totals.
    pub total: String,
    /// The exact sum of the test-mode subscriptions' totals (not revenue).
    pub test_mode_total: String,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// One subscription's invoice total in a [`Revenue`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevenueLine {
    /// The subscription.
    pub subscription_id: String,
    /// The subscribed application.
    pub application_id: String,
    /// The plan it is billed under.
    pub pricing_plan_id: String,
    /// That plan's name.
    pub pricing_plan_name: String,
    /// Whether its usage is test usage.
    pub test_mode: bool,
    /// Its invoice total of the month.
    pub total: String,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

impl Client {
    /// `GET /api/subscriptions/{id}/invoices`, newest month first.
    pub fn invoices(&self, subscription: &str, page: &PageRequest) -> Result<Page<Invoice>, Error> {
        let [limit, cursor] = page.query();
        self.get(&invoices_path(subscription), &[limit, cursor])
    }

    /// `GET /api/subscriptions/{id}/invoices/{month}`.
    pub fn invoice(&self, subscription: &str, month: &str) -> Result<Invoice, Error> {
        self.get(&invoice_path(subscription, month), &[])
    }

    /// `GET /api/subscriptions/{id}/invoices/{month}/events.csv`: the
    /// month's events, each priced at its margin, as the platform wrote
    /// them (the rows' amounts add up to the invoice's total).
    pub fn invoice_events_csv(&self, subscription: &str, month: &str) -> Result<Vec<u8>, Error> {
        let path = format!("{}/events.csv", invoice_path(subscription, month));
        Ok(self.platform("GET", &path, &[], None)?.success()?.body)
    }

    /// `GET /api/services/{id}/revenue`: the month `month` (`YYYY-MM`), or
    /// the current one.
    pub fn revenue(&self, service: &str, month: Option<&str>) -> Result<Revenue, Error> {
        self.get(
            &format!("/api/services/{}/revenue", escape(service)),
            &[("month", month.map(str::to_string))],
        )
    }

    /// `GET /api/subscriptions/{id}/calls`, newest first.
    pub fn calls(
        &self,
        subscription: &str,
        window: &Window,
        page: &PageRequest,
    ) -> Result<Page<Call>, Error> {
        let [limit, cursor] = page.query();
        self.get(
            &format!("/api/subscriptions/{}/calls", escape(subscription)),
            &[
                ("from", window.from.clone()),
                ("to", window.to.clone()),
                limit,
                cursor,
            ],
        )
    }

    /// `GET /api/subscriptions/{id}/spend-cap`.
    pub fn spend_cap(&self, subscription: &str) -> Result<SpendCap, Error> {
        self.get(&spend_cap_path(subscription), &[])
    }

    /// `PUT /api/subscriptions/{id}/spend-cap` with `monthly_cap` EUR.
    pub fn set_spend_cap(&self, subscription: &str, monthly_cap: &str) -> Result<SpendCap, Error> {
        self.send(
            "PUT",
            &spend_cap_path(subscription),
            &json!({ "monthlyCap": monthly_cap }),
        )
    }

    /// `DELETE /api/subscriptions/{id}/spend-cap`.
    pub fn remove_spend_cap(&self, subscription: &str) -> Result<(), Error> {
        self.delete(&spend_cap_path(subscription))
    }
}

fn invoices_path(subscription: &str) -> String {
    format!("/api/subscriptions/{}/invoices", escape(subscription))
}

fn invoice_path(subscription: &str, month: &str) -> String {
    format!("{}/{}", invoices_path(subscription), escape(month))
}

fn spend_cap_path(subscription: &str) -> String {
    format!("/api/subscriptions/{}/spend-cap", escape(subscription))
}
