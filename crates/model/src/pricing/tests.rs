//! `P(q)` at every tier boundary, worked out by hand in the comments.
#![allow(clippy::unwrap_used)]

use super::*;

fn q(text: &str) -> Quantity {
    text.parse().unwrap()
}

fn p(text: &str) -> Price {
    text.parse().unwrap()
}

fn tier(up_to: Option<&str>, price: &str) -> Tier {
    Tier {
        up_to: up_to.map(q),
        unit_price: p(price),
    }
}

/// 1,000 units at 0, the next 9,000 at 0.0001, beyond at 0.00005.
fn graduated_tiers() -> Vec<Tier> {
    vec![
        tier(Some("1000"), "0"),
        tier(Some("10000"), "0.0001"),
        tier(None, "0.00005"),
    ]
}

/// Up to 1,000 units at 0.001 each, up to 10,000 at 0.0005, beyond at 0.0002.
fn volume_tiers() -> Vec<Tier> {
    vec![
        tier(Some("1000"), "0.001"),
        tier(Some("10000"), "0.0005"),
        tier(None, "0.0002"),
    ]
}

fn pricing<'a>(model: PricingModel, tiers: &'a [Tier], free: &str) -> Pricing<'a> {
    Pricing {
        model,
        unit_price: tiers.first().map_or(p("0.5"), |t| t.unit_price),
        tiers,
        package_size: (model == PricingModel::Package).then(|| q("1000")),
        free_allowance: q(free),
    }
}

/// Asserts `P(quantity)` for each `(quantity, amount)` row.
fn assert_amounts(pricing: &Pricing, rows: &[(&str, &str)]) {
    for (quantity, amount) in rows {
        let charge = pricing.charge(q(quantity)).unwrap();
        assert_eq!(charge.amount.to_string(), *amount, "P({quantity})");
        let bands: Amount = sum(charge.bands.iter().map(|b| b.amount)).unwrap();
        assert_eq!(bands, charge.amount, "the bands of P({quantity}) add up");
    }
}

#[test]
fn graduated_tiers_price_the_units_inside_each_tier_at_every_boundary() {
    let tiers = graduated_tiers();
    assert_amounts(
        &pricing(PricingModel::Graduated, &tiers, "0"),
        &[
            ("0", "0"),
            ("999", "0"),
            ("1000", "0"),
            // 1 × 0.0001
            ("1001", "0.0001"),
            // 0.5 × 0.0001
            ("1000.5", "0.00005"),
            // 8,999 × 0.0001
            ("9999", "0.8999"),
            // 9,000 × 0.0001
            ("10000", "0.9"),
            // 0.9 + 1 × 0.00005
            ("10001", "0.90005"),
            // 0.9 + 0.000001 × 0.00005
            ("10000.000001", "0.90000000005"),
            // 0.9 + 2,000 × 0.00005
            ("12000", "1"),
        ],
    );
}

#[test]
fn graduated_bands_show_each_tiers_range_quantity_and_amount() {
    let tiers = graduated_tiers();
    let charge = pricing(PricingModel::Graduated, &tiers, "0")
        .charge(q("12000"))
        .unwrap();
    let shown: Vec<String> = charge
        .bands
        .iter()
        .map(|b| {
            let up_to = b.up_to.map_or("null".to_string(), |u| u.to_string());
            format!("{}..{up_to}: {} = {}", b.from, b.quantity, b.amount)
        })
        .collect();
    assert_eq!(
        shown,
        [
            "0..1000: 1000 = 0",
            "1000..10000: 9000 = 0.9",
            "10000..null: 2000 = 0.1"
        ]
    );
    assert_eq!(charge.free_quantity, Quantity::ZERO);
}

#[test]
fn a_free_allowance_comes_before_the_graduated_tiers() {
    let tiers = graduated_tiers();
    let priced = pricing(PricingModel::Graduated, &tiers, "500");
    assert_amounts(
        &priced,
        &[
            ("499.5", "0"),
            ("500", "0"),
            // 1,000 billable units, all in the free first tier
            ("1500", "0"),
            // 1,001 billable: 1 × 0.0001
            ("1501", "0.0001"),
            // 10,000 billable: 9,000 × 0.0001
            ("10500", "0.9"),
            // 10,001 billable: 0.9 + 0.00005
            ("10501", "0.90005"),
        ],
    );
    let charge = priced.charge(q("499.5")).unwrap();
    assert_eq!(charge.free_quantity, q("499.5"));
    let charge = priced.charge(q("1501")).unwrap();
    assert_eq!(charge.free_quantity, q("500"));
    assert_eq!(charge.bands[0].quantity, q("1000"));
    assert_eq!(charge.bands[1].quantity, q("1"));
}

#[test]
fn volume_prices_every_unit_at_the_tier_the_quantity_reaches() {
    let tiers = volume_tiers();
    assert_amounts(
        &pricing(PricingModel::Volume, &tiers, "0"),
        &[
            ("0", "0"),
            // 999 × 0.001
            ("999", "0.999"),
            // 1,000 × 0.001: 1,000 is still in the first tier
            ("1000", "1"),
            // 1,000.000001 × 0.0005
            ("1000.000001", "0.5000000005"),
            // 1,001 × 0.0005
            ("1001", "0.5005"),
            // 9,999 × 0.0005
            ("9999", "4.9995"),
            // 10,000 × 0.0005
            ("10000", "5"),
            // 10,001 × 0.0002
            ("10001", "2.0002"),
        ],
    );
}

#[test]
fn a_free_allowance_comes_before_the_volume_tiers() {
    let tiers = volume_tiers();
    assert_amounts(
        &pricing(PricingModel::Volume, &tiers, "100"),
        &[
            ("100", "0"),
            // 0.5 billable × 0.001
            ("100.5", "0.0005"),
            // 1,000 billable × 0.001
            ("1100", "1"),
            // 1,001 billable × 0.0005
            ("1101", "0.5005"),
        ],
    );
}

#[test]
fn packages_are_charged_whole_with_partial_ones_rounded_up() {
    let none: [Tier; 0] = [];
    let priced = pricing(PricingModel::Package, &none, "0");
    assert_amounts(
        &priced,
        &[
            ("0", "0"),
            // 1 package of 1,000 at 0.5
            ("0.000001", "0.5"),
            ("1", "0.5"),
            ("999", "0.5"),
            ("1000", "0.5"),
            // 2 packages
            ("1000.000001", "1"),
            ("2000", "1"),
            // 3 packages
            ("2501", "1.5"),
        ],
    );
    assert_eq!(
        priced.charge(q("2501")).unwrap().bands[0].packages,
        Some(q("3"))
    );
}

#[test]
fn a_free_allowance_comes_before_the_packages() {
    let none: [Tier; 0] = [];
    assert_amounts(
        &pricing(PricingModel::Package, &none, "1000"),
        &[
            ("1000", "0"),
            // 0.5 billable: 1 package
            ("1000.5", "0.5"),
            ("2000", "0.5"),
            // 1,001 billable: 2 packages
            ("2001", "1"),
        ],
    );
}

#[test]
fn per_unit_pricing_is_quantity_times_price_beyond_the_allowance() {
    let none: [Tier; 0] = [];
    let per_unit = |free| Pricing {
        model: PricingModel::PerUnit,
        unit_price: p("0.00001"),
        tiers: &none,
        package_size: None,
        free_allowance: q(free),
    };
    // 3 × 0.00001
    assert_amounts(&per_unit("0"), &[("3", "0.00003"), ("0.5", "0.000005")]);
    // (10.5 − 10) × 0.00001
    assert_amounts(
        &per_unit("10"),
        &[("3", "0"), ("10", "0"), ("10.5", "0.000005")],
    );
    assert_eq!(per_unit("10").charge(q("3")).unwrap().free_quantity, q("3"));
}

#[test]
fn a_part_of_a_month_is_the_difference_of_its_month_to_date_amounts() {
    let tiers = graduated_tiers();
    // P(1001) − P(999): one unit at 0 and one at 0.0001
    let part = pricing(PricingModel::Graduated, &tiers, "0")
        .charge_between(q("999"), q("1001"))
        .unwrap();
    assert_eq!(part.amount.to_string(), "0.0001");
    assert_eq!(part.quantity, q("2"));
    let units: Vec<String> = part.bands.iter().map(|b| b.quantity.to_string()).collect();
    assert_eq!(units, ["1", "1", "0"]);
}

#[test]
fn a_part_of_a_volume_month_can_be_negative() {
    let tiers = volume_tiers();
    // P(1001) − P(999) = 1,001 × 0.0005 − 999 × 0.001 = 0.5005 − 0.999
    let part = pricing(PricingModel::Volume, &tiers, "0")
        .charge_between(q("999"), q("1001"))
        .unwrap();
    assert_eq!(part.amount.to_string(), "-0.4985");
    assert_eq!(part.bands[0].quantity.to_string(), "-999");
    assert_eq!(part.bands[0].amount.to_string(), "-0.999");
    assert_eq!(part.bands[1].quantity.to_string(), "1001");
    assert_eq!(part.bands[1].amount.to_string(), "0.5005");
}

#[test]
fn the_parts_of_a_month_add_up_to_the_month_exactly_in_every_model() {
    let graduated = graduated_tiers();
    let volume = volume_tiers();
    let none: [Tier; 0] = [];
    for priced in [
        pricing(PricingModel::Graduated, &graduated, "250"),
        pricing(PricingModel::Volume, &volume, "250"),
        pricing(PricingModel::Package, &none, "250"),
    ] {
        let step = q("333.333333");
        let mut before = Quantity::ZERO;
        let mut parts = Charge::zero(&priced).unwrap();
        for _ in 0..40 {
            let after = before.checked_add(step).unwrap();
            parts = parts
                .plus(&priced.charge_between(before, after).unwrap())
                .unwrap();
            before = after;
        }
        assert_eq!(parts, priced.charge(before).unwrap(), "{:?}", priced.model);
    }
}
