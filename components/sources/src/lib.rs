//! Source uploads of managed services and their builds, for providers.
//!
//! | route | what |
//! |---|---|
//! | `PUT /api/services/{id}/source` | uploads a ZIP (≤ 50 MiB), starts a build: 202 |
//! | `GET /api/services/{id}/build` | the current build |
//! | `GET /api/services/{id}/build/log` | its log |
//!
//! An upload is written to the store chunk by chunk as it arrives and
//! checked from there (`qmarket-archive`), so no archive is ever held in
//! memory whole.
#![deny(missing_docs)]

use qmarket_core::{Error, Result, Timestamp};
use qmarket_http::{
    allow, no_endpoint, BodyLimit, BodySource, Buffered, HandlerResult, Method, Request, Response,
    Route,
};
use qmarket_managed::blob::BlobWriter;
use qmarket_managed::build;
use qmarket_model::{Record, Runtime, Service, ServiceType};
use qmarket_store::KeyValue;

#[cfg(test)]
mod tests;

/// The largest source archive accepted.
pub const MAX_ARCHIVE_BYTES: u64 = 50 << 20;
/// The media types a source upload may have.
const ZIP_MEDIA_TYPES: [&str; 2] = ["application/zip", "application/x-zip-compressed"];

const SOURCE: Route = Route::new("/api/services/:svc/source");
const BUILD: Route = Route::new("/api/services/:svc/build");
const BUILD_LOG: Route = Route::new("/api/services/:svc/build/log");

/// Routes one request; `body` is its body, streamed to the store by the
/// upload.
pub fn route(
    req: &Request,
    body: Box<dyn BodySource + '_>,
    kv: &dyn KeyValue,
    now: Timestamp,
) -> HandlerResult {
    let path = req.path.as_str();
    if let Some(params) = SOURCE.matches(path) {
        allow(req, &[Method::Put])?;
        let caller = qmarket_identity::authenticate_api(req, kv, now)?.account_id;
        let service = owned_managed(kv, &caller, params.get("svc")?)?;
        return upload(req, body, kv, &service, now);
    }
    if let Some(params) = BUILD.matches(path) {
        allow(req, &[Method::Get])?;
        let caller = qmarket_identity::authenticate_api(req, kv, now)?.account_id;
        let service = owned_managed(kv, &caller, params.get("svc")?)?;
        let current = current_build(kv, &service)?;
        return Ok(Response::ok(&build::view(kv, &current)?));
    }
    if let Some(params) = BUILD_LOG.matches(path) {
        allow(req, &[Method::Get])?;
        let caller = qmarket_identity::authenticate_api(req, kv, now)?.account_id;
        let service = owned_managed(kv, &caller, params.get("svc")?)?;
        let current = current_build(kv, &service)?;
        return Ok(Response::ok(&build::log(&current.id).lines(kv)?));
    }
    Err(no_endpoint(req))
}

/// Service `id` of `owner`, which must be `MANAGED`.
fn owned_managed(kv: &dyn KeyValue, owner: &str, id: &str) -> Result<Service> {
    let service = Service::load(kv, id)?
        .filter(|s| s.owner_id == owner)
        .ok_or_else(|| Error::not_found("service", id))?;
    if service.kind != ServiceType::Managed {
        return Err(Error::Conflict(format!(
            "service '{id}' is EXTERNAL: it runs on its provider's servers and takes no source code"
        )));
    }
    Ok(service)
}

fn current_build(kv: &dyn KeyValue, service: &Service) -> Result<build::Build> {
    build::latest(kv, &service.id)?.ok_or_else(|| {
        Error::NotFound(format!(
            "service '{}' has no build yet: upload its source with PUT /api/services/{}/source",
            service.id, service.id
        ))
    })
}

/// `PUT …/source`: the archive, chunk by chunk into the store, then checked
/// and recorded as the service's new build.
fn upload(
    req: &Request,
    body: Box<dyn BodySource + '_>,
    kv: &dyn KeyValue,
    service: &Service,
    now: Timestamp,
) -> HandlerResult {
    let media = req.header("content-type").map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    if !media
        .as_deref()
        .is_some_and(|m| ZIP_MEDIA_TYPES.contains(&m))
    {
        return Err(Error::UnsupportedMediaType(format!(
            "the source must be sent as application/zip, not {}",
            media.as_deref().unwrap_or("a body without a content type")
        )));
    }
    let runtime = service
        .managed
        .as_ref()
        .map_or(Runtime::PythonTemplate, |m| m.runtime);
    let id = build::new_build_id()?;
    let mut writer = BlobWriter::new(build::archive_prefix(&id), MAX_ARCHIVE_BYTES);
    let limit = BodyLimit {
        max_bytes: MAX_ARCHIVE_BYTES,
        whose: "the source archive's limit",
    };
    if let Err(e) = body.each(limit, &mut |piece| writer.write(kv, piece)) {
        writer.abandon(kv);
        return Err(e);
    }
    let archive = writer.finish(kv)?;
    let validation = qmarket_archive::validate(archive.reader(kv), build::archive_runtime(runtime))
        .map_err(|e| Error::Unavailable(format!("the stored archive could not be read: {e}")))?;
    let view = build::record(kv, id, service, archive, (&validation).into(), now)?;
    Ok(Response::json(202, &view)
        .with_header("location", format!("/api/services/{}/build", service.id)))
}

/// The Spin entry point.
// The export is generated only for wasm: natively the crate is a plain
// library, since component export names cannot be linked into a native cdylib.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(req: spin_sdk::http::IncomingRequest) -> spin_sdk::http::Response {
    let head = qmarket_spin::request_head(&req);
    if head.method == Method::Put {
        return qmarket_spin::serve_streamed(head, req, |head, body, kv| {
            route(head, body, kv, Timestamp::now())
        });
    }
    qmarket_spin::serve(req, |request, kv| {
        route(
            request,
            Box::new(Buffered(Vec::new())),
            kv,
            Timestamp::now(),
        )
    })
}
