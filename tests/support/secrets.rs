//! The secret-leak scanner behind every [`Call::send`](super::Call::send).
//!
//! The contract says secrets (token values, consumer secrets, upstream
//! passwords) never appear in any response after the one that created them,
//! nor in logs. The scanner learns each secret when it first passes by — from
//! the response that issues it (`accessToken.value`, a `pat_…` token's
//! `value`, `consumerSecret`, OAuth's `access_token`), from the request body
//! that hands it to the platform (an upstream `password`, with its Basic
//! credentials), or from the secret variables a platform is started with —
//! and then checks every later response (headers and body) and every host
//! log line against all it knows.
//!
//! One registry serves the whole test binary: secrets are random, so a value
//! of one test turning up anywhere else is a leak all the same.

use std::sync::Mutex;

use base64::Engine as _;
use serde_json::Value;

use super::Reply;

/// Values shorter than this are too common to tell apart from ordinary text;
/// every secret the platform issues is far longer.
pub const MIN_SECRET_LEN: usize = 6;

/// Where a secret came from, which decides where it may legitimately show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// Issued by the platform and shown once, in the response that created it.
    Issued,
    /// Upstream credentials a provider gave the platform. The gateway sends
    /// them to the provider's service, so a test upstream that echoes its
    /// request may return them — see [`Exemption::UpstreamEcho`].
    UpstreamCredential,
    /// A secret variable the platform was started with (admin token,
    /// encryption key).
    Configured,
}

/// A registered secret.
#[derive(Debug, Clone)]
struct Secret {
    value: String,
    kind: SecretKind,
    origin: String,
}

impl Secret {
    /// The first few characters and the length: enough to tell secrets
    /// apart in a failure message, never the secret.
    fn redacted(&self) -> String {
        let shown: String = self
            .value
            .chars()
            .take(self.value.len() / 4)
            .take(4)
            .collect();
        format!("{shown}… ({} chars)", self.value.chars().count())
    }
}

/// A registered secret found where it must not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// Which secret: its origin and a redacted form.
    pub secret: String,
    /// Where it was found (a response's header or body, a log line).
    pub place: String,
}

impl std::fmt::Display for Leak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "secret leaked: {} appeared in {}",
            self.secret, self.place
        )
    }
}

/// The one narrow allowance the scan makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Exemption {
    /// Everything is scanned.
    #[default]
    None,
    /// The response is a test upstream's own answer relayed by the gateway,
    /// and that upstream echoes what it received — which includes the Basic
    /// credentials the gateway adds. Only [`SecretKind::UpstreamCredential`]
    /// secrets are let through, only on `/gateway/` calls, and never in a
    /// `application/problem+json` answer (those are the platform's own).
    UpstreamEcho,
}

#[derive(Default)]
struct State {
    secrets: Vec<Secret>,
    /// Every host log line seen so far.
    log: Vec<String>,
    /// How many of `log` have been checked against every secret.
    log_scanned: usize,
    /// Leaks found in log lines that no call has reported yet.
    pending: Vec<Leak>,
}

/// Known secrets and the host log lines to check against them.
pub struct SecretRegistry {
    state: Mutex<State>,
}

impl Default for SecretRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretRegistry {
    /// An empty registry.
    pub const fn new() -> Self {
        Self {
            state: Mutex::new(State {
                secrets: Vec::new(),
                log: Vec::new(),
                log_scanned: 0,
                pending: Vec::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A test that panicked while holding the lock leaves valid state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `value` as a secret from `origin` (which must not contain
    /// the value). Returns whether it is scanned for: values shorter than
    /// [`MIN_SECRET_LEN`] are not, and a value already known keeps its first
    /// origin. Log lines already seen are checked for the new secret.
    pub fn register(&self, value: &str, kind: SecretKind, origin: impl Into<String>) -> bool {
        if value.chars().count() < MIN_SECRET_LEN {
            return false;
        }
        let mut state = self.state();
        if state.secrets.iter().any(|s| s.value == value) {
            return true;
        }
        let secret = Secret {
            value: value.to_string(),
            kind,
            origin: origin.into(),
        };
        state.secrets.push(secret);
        let state = &mut *state;
        let secret = state.secrets.last().expect("just pushed");
        let found: Vec<Leak> = state.log[..state.log_scanned]
            .iter()
            .filter(|line| line.contains(value))
            .map(|line| log_leak(secret, line, &state.secrets))
            .collect();
        state.pending.extend(found);
        true
    }

    /// Whether some recorded host log line contains `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self.state().log.iter().any(|line| line.contains(needle))
    }

    /// Whether `value` is a registered secret.
    pub fn knows(&self, value: &str) -> bool {
        self.state().secrets.iter().any(|s| s.value == value)
    }

    /// Every registered secret found in `reply`'s headers or body; `place`
    /// names the call (`response to GET /api/me`).
    pub fn scan_reply(&self, reply: &Reply, place: &str, exemption: Exemption) -> Vec<Leak> {
        let relayed = exemption == Exemption::UpstreamEcho
            && reply.header("content-type") != Some("application/problem+json");
        let state = self.state();
        let mut leaks = Vec::new();
        for secret in &state.secrets {
            if relayed && secret.kind == SecretKind::UpstreamCredential {
                continue;
            }
            for (name, value) in &reply.headers {
                if value.contains(&secret.value) {
                    leaks.push(Leak {
                        secret: describe(secret),
                        place: format!("header `{name}` of the {place} (status {})", reply.status),
                    });
                }
            }
            if let Some(at) = reply.text.find(&secret.value) {
                leaks.push(Leak {
                    secret: describe(secret),
                    place: format!(
                        "the body of the {place} (status {}, at byte {at})",
                        reply.status
                    ),
                });
            }
        }
        leaks
    }

    /// Keeps a host log line for the next [`Self::scan_log`].
    pub fn record_log_line(&self, line: &str) {
        self.state().log.push(line.to_string());
    }

    /// Checks the log lines recorded since the last call against every
    /// secret; returns those leaks and any found when a secret was
    /// registered after its line was logged.
    pub fn scan_log(&self) -> Vec<Leak> {
        let mut state = self.state();
        let state = &mut *state;
        let mut leaks = std::mem::take(&mut state.pending);
        for line in &state.log[state.log_scanned..] {
            for secret in &state.secrets {
                if line.contains(&secret.value) {
                    leaks.push(log_leak(secret, line, &state.secrets));
                }
            }
        }
        state.log_scanned = state.log.len();
        leaks
    }

    /// Registers the secrets a request hands to the platform: every
    /// `password` in a JSON body (an upstream's security configuration),
    /// with the Basic credentials made from it and its sibling `username`.
    pub fn learn_from_request(&self, call: &str, body: Option<&[u8]>) {
        let Some(body) = body.and_then(|b| serde_json::from_slice::<Value>(b).ok()) else {
            return;
        };
        walk(&body, &mut |object| {
            let Some(password) = object.get("password").and_then(Value::as_str) else {
                return;
            };
            let origin = format!("the upstream password sent with {call}");
            self.register(password, SecretKind::UpstreamCredential, origin.clone());
            if let Some(username) = object.get("username").and_then(Value::as_str) {
                let basic = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                self.register(
                    &basic,
                    SecretKind::UpstreamCredential,
                    format!("the Basic credentials of {origin}"),
                );
            }
        });
    }

    /// Registers the secrets a response issues: `consumerSecret`,
    /// `access_token`, and the `value` of a personal access token (an object
    /// whose `id` starts with `pat_`).
    pub fn learn_from_reply(&self, call: &str, reply: &Reply) {
        let body = reply.json();
        walk(&body, &mut |object| {
            let id = object.get("id").and_then(Value::as_str).unwrap_or("?");
            if let Some(secret) = object.get("consumerSecret").and_then(Value::as_str) {
                self.register(
                    secret,
                    SecretKind::Issued,
                    format!("the consumerSecret of {id} (from {call})"),
                );
            }
            if let Some(token) = object.get("access_token").and_then(Value::as_str) {
                self.register(
                    token,
                    SecretKind::Issued,
                    format!("an OAuth access_token (from {call})"),
                );
            }
            if id.starts_with("pat_") {
                if let Some(value) = object.get("value").and_then(Value::as_str) {
                    self.register(
                        value,
                        SecretKind::Issued,
                        format!("the value of personal access token {id} (from {call})"),
                    );
                }
            }
        });
    }
}

fn describe(secret: &Secret) -> String {
    format!("{} [{}]", secret.origin, secret.redacted())
}

/// A leak in a log line, quoting the line with every known secret masked.
fn log_leak(secret: &Secret, line: &str, known: &[Secret]) -> Leak {
    let masked = known.iter().fold(line.to_string(), |line, s| {
        line.replace(&s.value, "<secret>")
    });
    let quoted: String = masked.chars().take(160).collect();
    Leak {
        secret: describe(secret),
        place: format!("the host log line {quoted:?}"),
    }
}

/// Calls `visit` on every JSON object inside `value`.
fn walk(value: &Value, visit: &mut dyn FnMut(&serde_json::Map<String, Value>)) {
    match value {
        Value::Object(object) => {
            visit(object);
            object.values().for_each(|v| walk(v, visit));
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

/// The registry every [`Call::send`](super::Call::send) of this test binary uses.
pub fn registry() -> &'static SecretRegistry {
    static REGISTRY: SecretRegistry = SecretRegistry::new();
    &REGISTRY
}

/// Panics at the caller with every leak, when there are any.
#[track_caller]
pub fn fail_on(leaks: &[Leak]) {
    if !leaks.is_empty() {
        let lines: Vec<String> = leaks.iter().map(Leak::to_string).collect();
        panic!("{}", lines.join("\n"));
    }
}
