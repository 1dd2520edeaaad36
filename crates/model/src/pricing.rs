//! How a product prices a month's usage: the amount `P(q)` of a quantity
//! `q` used by one subscription in one calendar month, with the breakdown
//! that shows how it was reached.
//!
//! - `PER_UNIT`: every unit at `unitPrice`.
//! - `GRADUATED`: each tier prices the units that fall into it (the first
//!   1,000 at the first tier's price, the next ones at the second's, …).
//! - `VOLUME`: the tier the quantity reaches prices all of it.
//! - `PACKAGE`: `unitPrice` per started package of `packageSize` units.
//!
//! A free allowance (any model) comes first: the first `freeAllowance`
//! units of a month cost nothing, and the model prices what lies beyond,
//! so tier bounds count units beyond the allowance. A tier's `upTo` is
//! inclusive: with `upTo: 1000`, the 1,000th unit is in that tier and the
//! quantity `1000` reaches it (not the next) for `VOLUME`.
//!
//! Everything is exact decimal arithmetic (`qmarket_core::decimal`).
//! Amounts of a part of a month are differences `P(b) − P(a)` of month-to-date
//! quantities, so a month's parts always add up to the month exactly
//! ([`Charge::minus`]); for `VOLUME` a difference may be negative, since
//! reaching a cheaper tier lowers the price of every unit of the month.
//!
//! ```
//! use qmarket_model::{PricingModel, Pricing, Tier};
//! let q = |s: &str| s.parse().unwrap();
//! let tiers = [
//!     Tier { up_to: Some(q("1000")), unit_price: "0".parse().unwrap() },
//!     Tier { up_to: Some(q("10000")), unit_price: "0.0001".parse().unwrap() },
//!     Tier { up_to: None, unit_price: "0.00005".parse().unwrap() },
//! ];
//! let pricing = Pricing {
//!     model: PricingModel::Graduated,
//!     unit_price: "0".parse().unwrap(),
//!     tiers: &tiers,
//!     package_size: None,
//!     free_allowance: q("0"),
//! };
//! // 1,000 × 0 + 9,000 × 0.0001 + 2,000 × 0.00005
//! assert_eq!(pricing.charge(q("12000")).unwrap().amount.to_string(), "1");
//! ```

use qmarket_core::decimal::{Amount, Price, Quantity};
use qmarket_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// How a product's month-to-date quantity is priced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PricingModel {
    /// Every unit at the unit price.
    #[default]
    PerUnit,
    /// Each tier prices the units that fall into it.
    Graduated,
    /// The tier the quantity reaches prices every unit.
    Volume,
    /// The unit price per started package of `packageSize` units.
    Package,
}

impl PricingModel {
    /// The model's name as the API writes it (`PER_UNIT`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            PricingModel::PerUnit => "PER_UNIT",
            PricingModel::Graduated => "GRADUATED",
            PricingModel::Volume => "VOLUME",
            PricingModel::Package => "PACKAGE",
        }
    }

    /// Whether the model is priced by tiers.
    pub fn is_tiered(self) -> bool {
        matches!(self, PricingModel::Graduated | PricingModel::Volume)
    }

    /// Every model, in the order the API lists them.
    pub const ALL: [PricingModel; 4] = [
        PricingModel::PerUnit,
        PricingModel::Graduated,
        PricingModel::Volume,
        PricingModel::Package,
    ];
}

/// One tier of a `GRADUATED` or `VOLUME` product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    /// The last unit (beyond the free allowance) in this tier, inclusive;
    /// `None` for the last tier, which is unbounded.
    pub up_to: Option<Quantity>,
    /// EUR per unit in this tier.
    pub unit_price: Price,
}

/// What prices a product, borrowed from it (see
/// [`crate::Product::pricing`]).
#[derive(Debug, Clone, Copy)]
pub struct Pricing<'a> {
    /// The model.
    pub model: PricingModel,
    /// EUR per unit (`PER_UNIT`) or per package (`PACKAGE`).
    pub unit_price: Price,
    /// The tiers (`GRADUATED`, `VOLUME`), ascending, the last unbounded.
    pub tiers: &'a [Tier],
    /// Units per package (`PACKAGE`).
    pub package_size: Option<Quantity>,
    /// Units per month that cost nothing.
    pub free_allowance: Quantity,
}

/// An amount and how it was reached, for a month-to-date quantity or the
/// difference of two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The units priced, free ones included.
    pub quantity: Quantity,
    /// The units that fell into the free allowance.
    pub free_quantity: Quantity,
    /// One band per tier (one band for `PER_UNIT` and `PACKAGE`), in order.
    pub bands: Vec<Band>,
    /// The exact sum of the bands' amounts.
    pub amount: Amount,
}

/// The part of a charge one tier (or the one price of a product without
/// tiers) accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Band {
    /// The tier's first unit lies just above this (units beyond the free
    /// allowance; `0` for the first tier).
    pub from: Quantity,
    /// The tier's last unit, inclusive; `null` when unbounded.
    pub up_to: Option<Quantity>,
    /// Units priced in this band.
    pub quantity: Quantity,
    /// EUR per unit (per package for `PACKAGE`).
    pub unit_price: Price,
    /// Packages charged (`PACKAGE` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<Quantity>,
    /// The band's exact amount.
    pub amount: Amount,
}

fn overflow() -> Error {
    Error::Internal("a price computation overflows".into())
}

impl Pricing<'_> {
    /// `P(quantity)`: the amount of `quantity` units used in one month, with
    /// its breakdown.
    pub fn charge(&self, quantity: Quantity) -> Result<Charge> {
        let billable = quantity.saturating_sub_to_zero(self.free_allowance);
        let free_quantity = quantity
            .checked_sub(billable)
            .ok_or_else(overflow)?
            .max(Quantity::ZERO);
        let bands = match self.model {
            PricingModel::PerUnit => vec![Band {
                from: Quantity::ZERO,
                up_to: None,
                quantity: billable,
                unit_price: self.unit_price,
                packages: None,
                amount: billable.times(self.unit_price).ok_or_else(overflow)?,
            }],
            PricingModel::Package => {
                let size = self.package_size.ok_or_else(|| {
                    Error::Internal("a PACKAGE product has no package size".into())
                })?;
                let packages = billable.packages_of(size).ok_or_else(overflow)?;
                vec![Band {
                    from: Quantity::ZERO,
                    up_to: None,
                    quantity: billable,
                    unit_price: self.unit_price,
                    packages: Some(packages),
                    amount: packages.times(self.unit_price).ok_or_else(overflow)?,
                }]
            }
            PricingModel::Graduated => self.tier_bands(|from, up_to| {
                // The part of `billable` inside (from, up_to].
                let top = up_to.map_or(billable, |u| billable.min(u));
                top.saturating_sub_to_zero(from)
            })?,
            PricingModel::Volume => {
                let reached = self
                    .tiers
                    .iter()
                    .position(|t| t.up_to.is_none_or(|u| billable <= u))
                    .unwrap_or(0);
                let mut n = 0;
                self.tier_bands(|_, _| {
                    n += 1;
                    if n - 1 == reached {
                        billable
                    } else {
                        Quantity::ZERO
                    }
                })?
            }
        };
        let amount = sum(bands.iter().map(|b| b.amount))?;
        Ok(Charge {
            quantity,
            free_quantity,
            bands,
            amount,
        })
    }

    /// One band per tier, holding `units(from, up_to)` units.
    fn tier_bands(
        &self,
        mut units: impl FnMut(Quantity, Option<Quantity>) -> Quantity,
    ) -> Result<Vec<Band>> {
        if self.tiers.is_empty() {
            return Err(Error::Internal("a tiered product has no tiers".into()));
        }
        let mut from = Quantity::ZERO;
        let mut bands = Vec::with_capacity(self.tiers.len());
        for tier in self.tiers {
            let quantity = units(from, tier.up_to);
            bands.push(Band {
                from,
                up_to: tier.up_to,
                quantity,
                unit_price: tier.unit_price,
                packages: None,
                amount: quantity.times(tier.unit_price).ok_or_else(overflow)?,
            });
            from = tier.up_to.unwrap_or(from);
        }
        Ok(bands)
    }

    /// `P(to) − P(from)`: the amount of the units between two month-to-date
    /// quantities of the same month, band by band.
    pub fn charge_between(&self, from: Quantity, to: Quantity) -> Result<Charge> {
        self.charge(to)?.minus(&self.charge(from)?)
    }
}

fn sum(amounts: impl IntoIterator<Item = Amount>) -> Result<Amount> {
    amounts
        .into_iter()
        .try_fold(Amount::ZERO, |s, a| s.checked_add(a))
        .ok_or_else(overflow)
}

impl Charge {
    /// Nothing, in the band layout of `pricing` (to add charges to).
    pub fn zero(pricing: &Pricing) -> Result<Charge> {
        pricing.charge(Quantity::ZERO)
    }

    /// `self − earlier`, band by band (both charges of the same product).
    pub fn minus(&self, earlier: &Charge) -> Result<Charge> {
        self.combine(earlier, |a, b| a.checked_sub(b), |a, b| a.checked_sub(b))
    }

    /// `self + other`, band by band (both charges of the same product).
    pub fn plus(&self, other: &Charge) -> Result<Charge> {
        self.combine(other, |a, b| a.checked_add(b), |a, b| a.checked_add(b))
    }

    fn combine(
        &self,
        other: &Charge,
        units: impl Fn(Quantity, Quantity) -> Option<Quantity>,
        money: impl Fn(Amount, Amount) -> Option<Amount>,
    ) -> Result<Charge> {
        if self.bands.len() != other.bands.len() {
            return Err(Error::Internal(
                "charges of different products combined".into(),
            ));
        }
        let bands = self
            .bands
            .iter()
            .zip(&other.bands)
            .map(|(a, b)| {
                Ok(Band {
                    quantity: units(a.quantity, b.quantity).ok_or_else(overflow)?,
                    packages: match (a.packages, b.packages) {
                        (Some(x), Some(y)) => Some(units(x, y).ok_or_else(overflow)?),
                        _ => None,
                    },
                    amount: money(a.amount, b.amount).ok_or_else(overflow)?,
                    ..a.clone()
                })
            })
            .collect::<Result<Vec<Band>>>()?;
        Ok(Charge {
            quantity: units(self.quantity, other.quantity).ok_or_else(overflow)?,
            free_quantity: units(self.free_quantity, other.free_quantity).ok_or_else(overflow)?,
            amount: money(self.amount, other.amount).ok_or_else(overflow)?,
            bands,
        })
    }
}

#[cfg(test)]
mod tests;
