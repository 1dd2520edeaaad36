//! The gateway's limits, read from Spin variables.

use std::time::Duration;

/// Spin variable: how long the gateway waits for an upstream, in milliseconds.
pub const TIMEOUT_VARIABLE: &str = "gateway_timeout_ms";
/// Spin variable: the largest request body forwarded, in bytes.
pub const MAX_BODY_VARIABLE: &str = "gateway_max_body_bytes";
/// The timeout when none (or a bad one) is configured: 30 s.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// The longest timeout accepted: 10 minutes, Spin's own outbound default.
pub const MAX_TIMEOUT_MS: u64 = 600_000;
/// The body limit when none (or a bad one) is configured: 10 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;
/// The largest body limit accepted: bodies are buffered in the component's
/// memory, so the limit must stay well inside what one instance can hold.
pub const MAX_BODY_BYTES_LIMIT: u64 = 256 * 1024 * 1024;

/// The gateway's configured limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayConfig {
    /// The longest wait for an upstream: connecting, its first byte, and
    /// between two bytes of its answer.
    pub timeout: Duration,
    /// The largest request body forwarded.
    pub max_body_bytes: u64,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl GatewayConfig {
    /// The configuration from the variables' values (`None` or blank: the
    /// default). A value that is not a number in range falls back to the
    /// default, and a warning saying so is returned for the log: one bad
    /// setting must not take every paid call down.
    pub fn from_variables(
        timeout_ms: Option<&str>,
        max_body_bytes: Option<&str>,
    ) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let mut config = GatewayConfig::default();
        if let Some(ms) = parse(
            TIMEOUT_VARIABLE,
            timeout_ms,
            1,
            MAX_TIMEOUT_MS,
            &mut warnings,
        ) {
            config.timeout = Duration::from_millis(ms);
        }
        if let Some(bytes) = parse(
            MAX_BODY_VARIABLE,
            max_body_bytes,
            0,
            MAX_BODY_BYTES_LIMIT,
            &mut warnings,
        ) {
            config.max_body_bytes = bytes;
        }
        (config, warnings)
    }
}

fn parse(
    name: &str,
    value: Option<&str>,
    min: u64,
    max: u64,
    warnings: &mut Vec<String>,
) -> Option<u64> {
    let text = value.map(str::trim).filter(|v| !v.is_empty())?;
    match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            warnings.push(format!(
                "variable {name} = {text:?} is not a whole number from {min} to {max}; using the default"
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_blank_variables_give_the_defaults() {
        let (config, warnings) = GatewayConfig::from_variables(None, Some("  "));
        assert_eq!(config, GatewayConfig::default());
        assert_eq!(config.timeout, Duration::from_secs(30));
        assert_eq!(config.max_body_bytes, 10_485_760);
        assert!(warnings.is_empty());
    }

    #[test]
    fn valid_values_are_used() {
        let (config, warnings) = GatewayConfig::from_variables(Some("250"), Some(" 1024 "));
        assert_eq!(config.timeout, Duration::from_millis(250));
        assert_eq!(config.max_body_bytes, 1024);
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_zero_body_limit_is_allowed_but_a_zero_timeout_is_not() {
        let (config, warnings) = GatewayConfig::from_variables(Some("0"), Some("0"));
        assert_eq!(config.max_body_bytes, 0);
        assert_eq!(config.timeout, Duration::from_millis(DEFAULT_TIMEOUT_MS));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains(TIMEOUT_VARIABLE));
    }

    #[test]
    fn bad_values_fall_back_to_the_defaults_with_a_warning_naming_the_variable() {
        for (timeout, body) in [
            ("-5", "ten"),
            ("1.5", "1e6"),
            ("600001", "268435457"),
            ("99999999999999999999999", "0x10"),
        ] {
            let (config, warnings) = GatewayConfig::from_variables(Some(timeout), Some(body));
            assert_eq!(config, GatewayConfig::default(), "{timeout} {body}");
            assert_eq!(warnings.len(), 2, "{timeout} {body}");
            assert!(warnings[0].contains(TIMEOUT_VARIABLE) && warnings[0].contains(timeout));
            assert!(warnings[1].contains(MAX_BODY_VARIABLE) && warnings[1].contains(body));
        }
    }

    #[test]
    fn the_limits_themselves_are_accepted() {
        let (config, warnings) = GatewayConfig::from_variables(Some("600000"), Some("268435456"));
        assert_eq!(config.timeout, Duration::from_secs(600));
        assert_eq!(config.max_body_bytes, MAX_BODY_BYTES_LIMIT);
        assert!(warnings.is_empty());
    }
}
