//! Rate limits on the endpoints anyone may call without an account: sign-up
//! and the OAuth2 token endpoint, per client address and minute.

use std::time::Duration;

use qmarket_core::{Error, Result, Timestamp};
use qmarket_store::{Admission, FixedWindow, KeyValue};

/// Spin variable: sign-ups per client address per minute.
pub const SIGNUP_RATE_VARIABLE: &str = "signup_rate_limit";
/// Spin variable: token requests per client address per minute.
pub const TOKEN_RATE_VARIABLE: &str = "token_rate_limit";
/// Sign-ups per client address per minute unless configured.
pub const DEFAULT_SIGNUP_RATE: u64 = 20;
/// Token requests per client address per minute unless configured.
pub const DEFAULT_TOKEN_RATE: u64 = 120;

/// The limits in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sign-ups.
    pub signup: FixedWindow,
    /// Token requests.
    pub token: FixedWindow,
}

fn per_minute(name: &'static str, limit: u64) -> FixedWindow {
    FixedWindow {
        name,
        limit,
        window: Duration::from_secs(60),
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            signup: per_minute("ratelimit/signup", DEFAULT_SIGNUP_RATE),
            token: per_minute("ratelimit/token", DEFAULT_TOKEN_RATE),
        }
    }
}

impl Limits {
    /// The limits the variables set (a missing or malformed value keeps its
    /// default, with a warning for a malformed one).
    pub fn from_variables(signup: Option<&str>, token: Option<&str>) -> Self {
        let read = |name: &str, value: Option<&str>, default: u64| match value.map(str::trim) {
            None | Some("") => default,
            Some(text) => text.parse().unwrap_or_else(|_| {
                eprintln!("identity: variable '{name}' is not a whole number; using {default}");
                default
            }),
        };
        let defaults = Limits::default();
        Limits {
            signup: FixedWindow {
                limit: read(SIGNUP_RATE_VARIABLE, signup, DEFAULT_SIGNUP_RATE),
                ..defaults.signup
            },
            token: FixedWindow {
                limit: read(TOKEN_RATE_VARIABLE, token, DEFAULT_TOKEN_RATE),
                ..defaults.token
            },
        }
    }
}

/// Counts a request of `client` against `limit`: 429 (with the seconds to
/// wait) when it is over.
pub fn admit(kv: &dyn KeyValue, limit: &FixedWindow, client: &str, now: Timestamp) -> Result<()> {
    match limit.admit(kv, client, now)? {
        Admission::Admitted => Ok(()),
        Admission::Refused {
            retry_after_seconds,
        } => Err(Error::TooManyRequests {
            detail: format!(
                "too many requests from this client: at most {} per minute; retry in {retry_after_seconds} s",
                limit.limit
            ),
            retry_after_seconds,
        }),
    }
}
