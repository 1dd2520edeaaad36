//! The names and fixed values of the headers the console sends and reads.

/// Request: the media types the client accepts.
pub const ACCEPT: &str = "accept";
/// Response: the methods a resource answers (on a 405).
pub const ALLOW: &str = "allow";
/// Response: how long a cache may keep the answer.
pub const CACHE_CONTROL: &str = "cache-control";
/// Response: what the page may load and run.
pub const CONTENT_SECURITY_POLICY: &str = "content-security-policy";
/// Response: the body's media type.
pub const CONTENT_TYPE: &str = "content-type";
/// Response: what the page's requests tell other sites of it.
pub const REFERRER_POLICY: &str = "referrer-policy";
/// Response: the request headers the answer depends on.
pub const VARY: &str = "vary";
/// Response: browsers must not guess another media type.
pub const X_CONTENT_TYPE_OPTIONS: &str = "x-content-type-options";

/// A file whose name carries its content hash never changes: cache it for a year.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The app's page names the current hashed files: revalidate it every time.
pub const NO_CACHE: &str = "no-cache";
/// Only the console's own scripts, styles and API calls; no framing, no
/// plugins, no inline script. Images may be data URIs (icons).
pub const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";
/// Requests leave no trace of the console's addresses (they hold ids).
pub const NO_REFERRER: &str = "no-referrer";
/// The value of [`X_CONTENT_TYPE_OPTIONS`].
pub const NOSNIFF: &str = "nosniff";
