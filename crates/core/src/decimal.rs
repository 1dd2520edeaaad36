//! Exact fixed-point decimals for money and quantities.
//!
//! Every value is an `i128` count of `10^-SCALE` units, so sums and products
//! are exact integer arithmetic: a quantity (scale 6) times a unit price
//! (scale 10) is an amount (scale 16) with nothing rounded. Inputs arrive as
//! JSON numbers or numeric strings and are read from their text (the workspace
//! enables `serde_json/arbitrary_precision`), never through a float.
//! Exponents, `NaN`, infinities, signs other than a leading `-`, and more
//! fractional digits than the scale are refused.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A decimal with exactly `SCALE` fractional digits of precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Fixed<const SCALE: u32>(i128);

/// A metered quantity: at most 6 fractional digits.
pub type Quantity = Fixed<6>;
/// A unit price: at most 10 fractional digits.
pub type Price = Fixed<10>;
/// Quantity × price: 16 fractional digits, exact.
pub type Amount = Fixed<16>;

/// Which values besides positive ones a field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// Strictly greater than zero (quantities).
    Positive,
    /// Zero or more (prices).
    NonNegative,
}

/// Why a text is not an acceptable decimal, in words fit for a problem detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecimalError(String);

impl<const SCALE: u32> Fixed<SCALE> {
    /// Zero.
    pub const ZERO: Self = Fixed(0);

    /// From a raw count of `10^-SCALE` units.
    pub const fn from_units(units: i128) -> Self {
        Fixed(units)
    }

    /// The raw count of `10^-SCALE` units.
    pub const fn units(self) -> i128 {
        self.0
    }

    /// Parses plain decimal notation (`123`, `-0.5`, `0.00001`) with at most
    /// `SCALE` fractional and `max_integer_digits` integer digits.
    pub fn parse(text: &str, max_integer_digits: usize, sign: Sign) -> Result<Self, DecimalError> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty()
            || !all_digits(int_part)
            || !all_digits(frac_part)
            || (digits.contains('.') && frac_part.is_empty())
        {
            return Err(DecimalError(format!(
                "'{}' is not a plain decimal number (digits, optional '.', no exponent)",
                crate::excerpt(text, 40)
            )));
        }
        if frac_part.len() > SCALE as usize {
            return Err(DecimalError(format!(
                "has {} fractional digits; at most {SCALE} are allowed",
                frac_part.len()
            )));
        }
        let significant = int_part.trim_start_matches('0');
        if significant.len() > max_integer_digits {
            return Err(DecimalError(format!(
                "is too large; at most {max_integer_digits} integer digits are allowed"
            )));
        }
        let mut units: i128 = 0;
        for b in significant.bytes().chain(frac_part.bytes()) {
            units = units * 10 + i128::from(b - b'0');
        }
        units *= 10i128.pow(SCALE - frac_part.len() as u32);
        if negative {
            units = -units;
        }
        match sign {
            Sign::Positive if units <= 0 => Err(DecimalError("must be greater than 0".into())),
            Sign::NonNegative if units < 0 => Err(DecimalError("must not be negative".into())),
            _ => Ok(Fixed(units)),
        }
    }

    /// Reads a decimal from a JSON number or numeric string.
    pub fn from_json(
        value: &Value,
        max_integer_digits: usize,
        sign: Sign,
    ) -> Result<Self, DecimalError> {
        match value {
            Value::Number(n) => Self::parse(&n.to_string(), max_integer_digits, sign),
            Value::String(s) => Self::parse(s, max_integer_digits, sign),
            Value::Null => Err(DecimalError("must not be null".into())),
            Value::Bool(_) => Err(DecimalError(
                "must be a decimal number, not a boolean".into(),
            )),
            Value::Array(_) | Value::Object(_) => Err(DecimalError(
                "must be a decimal number or numeric string".into(),
            )),
        }
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Fixed)
    }

    /// `self - other` (negative when `other` is larger), or `None` on
    /// overflow.
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        self.0.checked_sub(other.0).map(Fixed)
    }

    /// `self - other`, or zero when `other` is larger.
    pub fn saturating_sub_to_zero(self, other: Self) -> Self {
        Fixed(self.0.saturating_sub(other.0).max(0))
    }
}

impl Quantity {
    /// `self × price`, exact, or `None` on overflow.
    pub fn times(self, price: Price) -> Option<Amount> {
        self.0.checked_mul(price.0).map(Fixed)
    }

    /// How many whole packages of `size` units hold `self` units, a partial
    /// package counted as a whole one (`None` when `size` is not positive
    /// or the result overflows). `2501` in packages of `1000` is `3`.
    pub fn packages_of(self, size: Quantity) -> Option<Quantity> {
        if size.0 <= 0 || self.0 < 0 {
            return None;
        }
        let whole = self.0 / size.0 + i128::from(self.0 % size.0 != 0);
        whole.checked_mul(10i128.pow(6)).map(Fixed)
    }
}

impl<const SCALE: u32> fmt::Display for Fixed<SCALE> {
    /// Canonical text: no trailing fractional zeros, no exponent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = 10u128.pow(SCALE);
        let abs = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        let int = abs / scale;
        let frac = abs % scale;
        if frac == 0 {
            return write!(f, "{sign}{int}");
        }
        let digits = format!("{frac:0width$}", width = SCALE as usize);
        write!(f, "{sign}{int}.{}", digits.trim_end_matches('0'))
    }
}

impl<const SCALE: u32> FromStr for Fixed<SCALE> {
    type Err = DecimalError;

    /// Parses any decimal the type can hold (used for stored values).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text, 38 - SCALE as usize, Sign::NonNegative)
            .or_else(|_| Self::parse(text, 38 - SCALE as usize, Sign::Positive))
            .or_else(|e| {
                text.strip_prefix('-')
                    .ok_or(e.clone())
                    .and_then(|t| Self::parse(t, 38 - SCALE as usize, Sign::NonNegative))
                    .map(|v| Fixed(-v.0))
            })
    }
}

impl<const SCALE: u32> Serialize for Fixed<SCALE> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de, const SCALE: u32> Deserialize<'de> for Fixed<SCALE> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn price(v: Value) -> Result<String, DecimalError> {
        Price::from_json(&v, 9, Sign::NonNegative).map(|p| p.to_string())
    }

    #[test]
    fn numbers_and_strings_are_read_exactly() {
        assert_eq!(price(json!("0.00001")).unwrap(), "0.00001");
        let n: Value = serde_json::from_str("0.1234567891").unwrap();
        assert_eq!(price(n).unwrap(), "0.1234567891");
        assert_eq!(price(json!(3)).unwrap(), "3");
        assert_eq!(price(json!("0")).unwrap(), "0");
        assert_eq!(price(json!("10.50")).unwrap(), "10.5");
    }

    #[test]
    fn exponents_nan_and_words_are_refused() {
        for bad in [
            "1e5", "NaN", "inf", "-inf", "abc", "", "1.", ".5", "+1", "0x10", "1 000", "--1", " 1",
            "1 ", "\t1", "1\n",
        ] {
            assert!(price(json!(bad)).is_err(), "{bad} accepted");
        }
        let e: Value = serde_json::from_str("1e400").unwrap();
        assert!(price(e).is_err());
    }

    #[test]
    fn too_many_fractional_digits_are_refused() {
        let err = price(json!("0.123456789012")).unwrap_err();
        assert!(err.to_string().contains("12 fractional digits"), "{err}");
    }

    #[test]
    fn negative_prices_and_non_positive_counts_are_refused() {
        assert!(price(json!("-1")).is_err());
        assert!(Quantity::from_json(&json!(0), 9, Sign::Positive).is_err());
        assert!(Quantity::from_json(&json!("-0.5"), 9, Sign::Positive).is_err());
        let q = Quantity::from_json(&json!("2.5"), 9, Sign::Positive).unwrap();
        assert_eq!(q.to_string(), "2.5");
    }

    #[test]
    fn booleans_arrays_and_null_are_refused() {
        for bad in [json!(true), json!([1]), json!({"a": 1}), Value::Null] {
            assert!(price(bad).is_err());
        }
    }

    #[test]
    fn too_many_integer_digits_are_refused() {
        assert!(price(json!("1234567890")).is_err());
        assert!(price(json!("000000000000001")).is_ok());
    }

    #[test]
    fn quantity_times_price_is_exact() {
        let q: Quantity = "3".parse().unwrap();
        let p: Price = "0.00001".parse().unwrap();
        assert_eq!(q.times(p).unwrap().to_string(), "0.00003");
        let q: Quantity = "999999999.999999".parse().unwrap();
        let p: Price = "999999999.9999999999".parse().unwrap();
        assert_eq!(
            q.times(p).unwrap().to_string(),
            "999999999999998999.9000000000000001"
        );
    }

    #[test]
    fn sums_of_tenths_are_exact() {
        let tenth: Amount = "0.1".parse().unwrap();
        let mut sum = Amount::ZERO;
        for _ in 0..10 {
            sum = sum.checked_add(tenth).unwrap();
        }
        assert_eq!(sum.to_string(), "1");
    }

    #[test]
    fn differences_may_be_negative_and_saturate_to_zero_on_request() {
        let a: Amount = "0.1".parse().unwrap();
        let b: Amount = "0.3".parse().unwrap();
        assert_eq!(a.checked_sub(b).unwrap().to_string(), "-0.2");
        let q: Quantity = "2.5".parse().unwrap();
        let r: Quantity = "4".parse().unwrap();
        assert_eq!(q.saturating_sub_to_zero(r), Quantity::ZERO);
        assert_eq!(r.saturating_sub_to_zero(q).to_string(), "1.5");
    }

    #[test]
    fn partial_packages_count_as_whole_ones() {
        let size: Quantity = "1000".parse().unwrap();
        let packages = |q: &str| {
            q.parse::<Quantity>()
                .unwrap()
                .packages_of(size)
                .unwrap()
                .to_string()
        };
        assert_eq!(packages("0"), "0");
        assert_eq!(packages("0.000001"), "1");
        assert_eq!(packages("1000"), "1");
        assert_eq!(packages("1000.000001"), "2");
        assert_eq!(packages("2501"), "3");
        let half: Quantity = "0.5".parse().unwrap();
        assert_eq!(
            "1.2"
                .parse::<Quantity>()
                .unwrap()
                .packages_of(half)
                .unwrap()
                .to_string(),
            "3"
        );
        assert_eq!(size.packages_of(Quantity::ZERO), None);
    }

    #[test]
    fn stored_values_round_trip_through_json() {
        let a: Amount = "-12.0000000000000001".parse().unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"-12.0000000000000001\"");
        assert_eq!(serde_json::from_str::<Amount>(&json).unwrap(), a);
    }
}
