//! The pricing fields of a product as sent (`unitPrice`, `pricingModel`,
//! `tiers`, `packageSize`, `freeAllowance`), and how they are checked.

use qmarket_core::decimal::{Price, Quantity, Sign};
use qmarket_model::{PlanType, PricingModel, Tier};
use serde_json::Value;

use crate::validation::Violations;

/// The most integer digits of a unit price.
pub const MAX_PRICE_INTEGER_DIGITS: usize = 9;
/// The most integer digits of a tier bound, package size or free allowance.
pub const MAX_QUANTITY_INTEGER_DIGITS: usize = 12;
/// The most tiers a product may have.
pub const MAX_TIERS: usize = 20;

/// A product's pricing, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckedPricing {
    pub model: PricingModel,
    pub unit_price: Price,
    pub tiers: Vec<Tier>,
    pub package_size: Option<Quantity>,
    pub free_allowance: Quantity,
}

/// The pricing fields of product `products[i]` as sent.
pub(crate) struct PricingFields<'a> {
    pub unit_price: Option<&'a Value>,
    pub pricing_model: Option<&'a Value>,
    pub tiers: Option<&'a Value>,
    pub package_size: Option<&'a Value>,
    pub free_allowance: Option<&'a Value>,
}

/// Checks the pricing fields of product number `i` of a plan of `kind`,
/// adding a violation (named `products[i].…`) for each invalid one.
pub(crate) fn check(
    v: &mut Violations,
    kind: PlanType,
    i: usize,
    fields: &PricingFields,
) -> CheckedPricing {
    let field = |name: &str| format!("products[{i}].{name}");
    let model = match given(fields.pricing_model) {
        None => PricingModel::PerUnit,
        Some(value) => match PricingModel::ALL
            .into_iter()
            .find(|m| value.as_str() == Some(m.as_str()))
        {
            Some(model) => model,
            None => {
                v.add(
                    field("pricingModel"),
                    "must be one of PER_UNIT, GRADUATED, VOLUME, PACKAGE",
                );
                PricingModel::PerUnit
            }
        },
    };
    let price = |v: &mut Violations, name: String, value: &Value| match Price::from_json(
        value,
        MAX_PRICE_INTEGER_DIGITS,
        Sign::NonNegative,
    ) {
        Ok(price) => {
            if kind == PlanType::Free && price != Price::ZERO {
                v.add(name, "must be 0 in a FREE plan");
            }
            price
        }
        Err(e) => {
            v.add(name, e.to_string());
            Price::ZERO
        }
    };
    let tiers = match (model.is_tiered(), given(fields.tiers)) {
        (true, None) => {
            v.add(
                field("tiers"),
                format!("is required for a {} product", model.as_str()),
            );
            Vec::new()
        }
        (true, Some(value)) => check_tiers(v, &field("tiers"), value, &price),
        (false, None) => Vec::new(),
        (false, Some(_)) => {
            v.add(
                field("tiers"),
                "applies only to GRADUATED and VOLUME products",
            );
            Vec::new()
        }
    };
    let unit_price = match (given(fields.unit_price), tiers.first()) {
        (Some(value), None) => price(v, field("unitPrice"), value),
        (None, None) if model.is_tiered() => Price::ZERO,
        (None, None) => {
            v.add(field("unitPrice"), "is required");
            Price::ZERO
        }
        // A tiered product's unit price is its first tier's, shown to
        // clients that display one price.
        (None, Some(first)) => first.unit_price,
        (Some(value), Some(first)) => {
            let sent = price(v, field("unitPrice"), value);
            if sent != first.unit_price {
                v.add(
                    field("unitPrice"),
                    format!(
                        "of a {} product is its first tier's price ({}); leave it out or send that",
                        model.as_str(),
                        first.unit_price
                    ),
                );
            }
            first.unit_price
        }
    };
    let package_size = match (model, given(fields.package_size)) {
        (PricingModel::Package, None) => {
            v.add(field("packageSize"), "is required for a PACKAGE product");
            None
        }
        (PricingModel::Package, Some(value)) => {
            quantity(v, field("packageSize"), value, Sign::Positive)
        }
        (_, None) => None,
        (_, Some(_)) => {
            v.add(field("packageSize"), "applies only to PACKAGE products");
            None
        }
    };
    let free_allowance = given(fields.free_allowance)
        .and_then(|value| quantity(v, field("freeAllowance"), value, Sign::NonNegative))
        .unwrap_or(Quantity::ZERO);
    CheckedPricing {
        model,
        unit_price,
        tiers,
        package_size,
        free_allowance,
    }
}

/// `value` unless it is absent or `null`.
fn given(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

fn quantity(v: &mut Violations, field: String, value: &Value, sign: Sign) -> Option<Quantity> {
    match Quantity::from_json(value, MAX_QUANTITY_INTEGER_DIGITS, sign) {
        Ok(q) => Some(q),
        Err(e) => {
            v.add(field, e.to_string());
            None
        }
    }
}

/// Checks `[{upTo, unitPrice}]`: 1 to [`MAX_TIERS`] tiers, `upTo` strictly
/// increasing, only the last one `null`.
fn check_tiers(
    v: &mut Violations,
    field: &str,
    value: &Value,
    price: &dyn Fn(&mut Violations, String, &Value) -> Price,
) -> Vec<Tier> {
    let Some(items) = value.as_array() else {
        v.add(field, "must be an array of {upTo, unitPrice}");
        return Vec::new();
    };
    if items.is_empty() || items.len() > MAX_TIERS {
        v.add(
            field,
            format!("must hold 1 to {MAX_TIERS} tiers, not {}", items.len()),
        );
        return Vec::new();
    }
    let mut tiers = Vec::with_capacity(items.len());
    let mut previous: Option<Quantity> = None;
    for (n, item) in items.iter().enumerate() {
        let at = |name: &str| format!("{field}[{n}].{name}");
        let Some(object) = item.as_object() else {
            v.add(
                format!("{field}[{n}]"),
                "must be an object {upTo, unitPrice}",
            );
            continue;
        };
        if let Some(unknown) = object
            .keys()
            .find(|k| k.as_str() != "upTo" && k.as_str() != "unitPrice")
        {
            v.add(
                at(&unknown.chars().take(100).collect::<String>()),
                "is not a field of a tier (expected upTo, unitPrice)",
            );
        }
        let last = n + 1 == items.len();
        let up_to = match object.get("upTo") {
            None => {
                v.add(
                    at("upTo"),
                    "is required (null for the last, unbounded tier)",
                );
                None
            }
            Some(Value::Null) => {
                if !last {
                    v.add(at("upTo"), "may be null only in the last tier");
                }
                None
            }
            Some(bound) => {
                let up_to = quantity(v, at("upTo"), bound, Sign::Positive);
                if last {
                    v.add(at("upTo"), "must be null: the last tier is unbounded");
                }
                if let (Some(up_to), Some(before)) = (up_to, previous) {
                    if up_to <= before {
                        v.add(
                            at("upTo"),
                            format!("must be greater than the previous tier's upTo ({before})"),
                        );
                    }
                }
                previous = up_to.or(previous);
                up_to
            }
        };
        let unit_price = match object.get("unitPrice") {
            None | Some(Value::Null) => {
                v.add(at("unitPrice"), "is required");
                Price::ZERO
            }
            Some(value) => price(v, at("unitPrice"), value),
        };
        tiers.push(Tier { up_to, unit_price });
    }
    tiers
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_http::StatusOf;
    use serde_json::json;

    fn checked(model: Value, body: Value) -> Result<CheckedPricing, Vec<String>> {
        let mut v = Violations::default();
        let fields = PricingFields {
            unit_price: body.get("unitPrice"),
            pricing_model: Some(&model),
            tiers: body.get("tiers"),
            package_size: body.get("packageSize"),
            free_allowance: body.get("freeAllowance"),
        };
        let pricing = check(&mut v, PlanType::Commercial, 0, &fields);
        match v.finish() {
            Ok(()) => Ok(pricing),
            Err(e) => {
                assert_eq!(e.status(), 400);
                Err(e.field_errors().iter().map(|f| f.field.clone()).collect())
            }
        }
    }

    fn tiers() -> Value {
        json!([{"upTo": "1000", "unitPrice": "0"}, {"upTo": 10000, "unitPrice": "0.0001"}, {"upTo": null, "unitPrice": "0.00005"}])
    }

    #[test]
    fn a_product_without_a_model_is_priced_per_unit() {
        let p = checked(Value::Null, json!({"unitPrice": "0.00001"})).unwrap();
        assert_eq!(p.model, PricingModel::PerUnit);
        assert_eq!(p.unit_price.to_string(), "0.00001");
        assert_eq!(p.free_allowance, Quantity::ZERO);
    }

    #[test]
    fn a_tiered_products_unit_price_is_its_first_tiers_price() {
        for model in ["GRADUATED", "VOLUME"] {
            let p = checked(json!(model), json!({"tiers": tiers()})).unwrap();
            assert_eq!(p.tiers.len(), 3);
            assert_eq!(p.tiers[1].up_to.unwrap().to_string(), "10000");
            assert_eq!(p.tiers[2].up_to, None);
            assert_eq!(p.unit_price, Price::ZERO);
            assert!(checked(json!(model), json!({"tiers": tiers(), "unitPrice": 0})).is_ok());
        }
    }

    #[test]
    fn a_package_product_needs_a_positive_package_size() {
        let p = checked(
            json!("PACKAGE"),
            json!({"unitPrice": "0.5", "packageSize": "1000", "freeAllowance": "10.5"}),
        )
        .unwrap();
        assert_eq!(p.package_size.unwrap().to_string(), "1000");
        assert_eq!(p.free_allowance.to_string(), "10.5");
    }

    #[test]
    fn every_invalid_pricing_field_is_named_by_its_path() {
        let rows: Vec<(Value, Value, &str)> = vec![
            (
                json!("TIERED"),
                json!({"unitPrice": 1}),
                "products[0].pricingModel",
            ),
            (
                json!(3),
                json!({"unitPrice": 1}),
                "products[0].pricingModel",
            ),
            (json!("GRADUATED"), json!({}), "products[0].tiers"),
            (json!("VOLUME"), json!({"tiers": []}), "products[0].tiers"),
            (
                json!("VOLUME"),
                json!({"tiers": {"upTo": null}}),
                "products[0].tiers",
            ),
            (
                json!("PER_UNIT"),
                json!({"unitPrice": 1, "tiers": tiers()}),
                "products[0].tiers",
            ),
            (
                json!("PACKAGE"),
                json!({"unitPrice": 1, "packageSize": 5, "tiers": tiers()}),
                "products[0].tiers",
            ),
            (
                json!("GRADUATED"),
                json!({"tiers": [{"upTo": 10, "unitPrice": 1}, {"upTo": 10, "unitPrice": 1}, {"upTo": null, "unitPrice": 1}]}),
                "products[0].tiers[1].upTo",
            ),
            (
                json!("GRADUATED"),
                json!({"tiers": [{"upTo": 10, "unitPrice": 1}, {"upTo": 5, "unitPrice": 1}, {"upTo": null, "unitPrice": 1}]}),
                "products[0].tiers[1].upTo",
            ),
            (
                json!("GRADUATED"),
                json!({"tiers": [{"upTo": 10, "unitPrice": 1}, {"upTo": 20, "unitPrice": 1}]}),
                "products[0].tiers[1].upTo",
            ),
            (
                json!("GRADUATED"),
                json!({"tiers": [{"upTo": null, "unitPrice": 1}, {"upTo": null, "unitPrice": 1}]}),
                "products[0].tiers[0].upTo",
            ),
            (
                json!("GRADUATED"),
                json!({"tiers": [{"unitPrice": 1}]}),
                "products[0].tiers[0].upTo",
            ),
            (
                json!("VOLUME"),
                json!({"tiers": [{"upTo": 0, "unitPrice": 1}, {"upTo": null, "unitPrice": 1}]}),
                "products[0].tiers[0].upTo",
            ),
            (
                json!("VOLUME"),
                json!({"tiers": [{"upTo": "1e3", "unitPrice": 1}, {"upTo": null, "unitPrice": 1}]}),
                "products[0].tiers[0].upTo",
            ),
            (
                json!("VOLUME"),
                json!({"tiers": [{"upTo": "0.0000001", "unitPrice": 1}, {"upTo": null, "unitPrice": 1}]}),
                "products[0].tiers[0].upTo",
            ),
            (
                json!("VOLUME"),
                json!({"tiers": [{"upTo": null, "unitPrice": "-1"}]}),
                "products[0].tiers[0].unitPrice",
            ),
            (
                json!("VOLUME"),
                json!({"tiers": [{"upTo": null, "unitPrice": "0.00000000001"}]}),
                "products[0].tiers[0].unitPrice",
            ),
            (
                json!("VOLUME"),
                json!({"tiers": [{"upTo": null}]}),
                "products[0].tiers[0].unitPrice",
            ),
            (
                json!("VOLUME"),
                json!({"tiers": [{"upTo": null, "unitPrice": 1, "price": 1}]}),
                "products[0].tiers[0].price",
            ),
            (
                json!("VOLUME"),
                json!({"tiers": [5]}),
                "products[0].tiers[0]",
            ),
            (
                json!("GRADUATED"),
                json!({"tiers": tiers(), "unitPrice": "0.1"}),
                "products[0].unitPrice",
            ),
            (json!("PER_UNIT"), json!({}), "products[0].unitPrice"),
            (
                json!("PACKAGE"),
                json!({"unitPrice": 1}),
                "products[0].packageSize",
            ),
            (
                json!("PACKAGE"),
                json!({"unitPrice": 1, "packageSize": 0}),
                "products[0].packageSize",
            ),
            (
                json!("PACKAGE"),
                json!({"unitPrice": 1, "packageSize": "-5"}),
                "products[0].packageSize",
            ),
            (
                json!("PACKAGE"),
                json!({"unitPrice": 1, "packageSize": "1234567890123"}),
                "products[0].packageSize",
            ),
            (
                json!("PER_UNIT"),
                json!({"unitPrice": 1, "packageSize": 10}),
                "products[0].packageSize",
            ),
            (
                json!("PER_UNIT"),
                json!({"unitPrice": 1, "freeAllowance": "-1"}),
                "products[0].freeAllowance",
            ),
            (
                json!("PER_UNIT"),
                json!({"unitPrice": 1, "freeAllowance": "abc"}),
                "products[0].freeAllowance",
            ),
            (
                json!("PER_UNIT"),
                json!({"unitPrice": 1, "freeAllowance": "0.1234567"}),
                "products[0].freeAllowance",
            ),
        ];
        for (model, body, field) in rows {
            let fields =
                checked(model.clone(), body.clone()).expect_err(&format!("{model} {body}"));
            assert!(
                fields.iter().any(|f| f == field),
                "{model} {body}: {fields:?}"
            );
        }
    }

    #[test]
    fn at_most_twenty_tiers_are_accepted() {
        let tiers = |n: usize| {
            let mut tiers: Vec<Value> = (1..n)
                .map(|k| json!({"upTo": k * 10, "unitPrice": "0.1"}))
                .collect();
            tiers.push(json!({"upTo": null, "unitPrice": "0.1"}));
            Value::Array(tiers)
        };
        assert!(checked(json!("GRADUATED"), json!({"tiers": tiers(20)})).is_ok());
        assert_eq!(
            checked(json!("GRADUATED"), json!({"tiers": tiers(21)})).unwrap_err(),
            ["products[0].tiers"]
        );
    }

    #[test]
    fn tier_prices_of_a_free_plan_must_be_zero() {
        let mut v = Violations::default();
        let body = json!({"tiers": [{"upTo": 10, "unitPrice": 0}, {"upTo": null, "unitPrice": 1}]});
        let model = json!("GRADUATED");
        let fields = PricingFields {
            unit_price: None,
            pricing_model: Some(&model),
            tiers: body.get("tiers"),
            package_size: None,
            free_allowance: None,
        };
        check(&mut v, PlanType::Free, 2, &fields);
        let err = v.finish().unwrap_err();
        assert_eq!(
            err.field_errors()[0].field,
            "products[2].tiers[1].unitPrice"
        );
    }
}
