//! Test guest: key-value operations through `fermyon:spin/key-value` and
//! `wasi:keyvalue` (store, atomics, batch). The path after the route is
//! `/<op>/<store>[/<key>]`:
//!
//! - `GET|PUT|DELETE /spin/<store>/<key>`: Spin get / set (body) / delete
//! - `GET /spin-exists/<store>/<key>`, `GET /spin-keys/<store>`
//! - `GET|PUT /wasi/<store>/<key>`: wasi:keyvalue get / set
//! - `POST /incr/<store>/<key>?by=<n>`: atomics increment, answers the new value
//! - `POST /cas/<store>/<key>[?interfere=1]`: compare-and-swap to the body;
//!   with `interfere`, the key is changed between reading and swapping
//! - `POST /batch/<store>` with `k=v` lines: set-many, get-many (plus a
//!   missing key), delete-many; answers what get-many returned
//!
//! Store errors answer 403 (access denied), 404 (no such store) or 503.
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::{Error as SpinError, Store};
use spin_sdk::wit::wasi::keyvalue::{atomics, batch, store as wasi};

fn spin_error(e: SpinError) -> Response {
    let status = match e {
        SpinError::AccessDenied => 403,
        SpinError::NoSuchStore => 404,
        _ => 503,
    };
    Response::new(status, format!("{e:?}"))
}

fn wasi_error(e: wasi::Error) -> Response {
    let status = match e {
        wasi::Error::AccessDenied => 403,
        wasi::Error::NoSuchStore => 404,
        wasi::Error::Other(_) => 503,
    };
    Response::new(status, format!("{e:?}"))
}

fn show(value: Option<Vec<u8>>) -> String {
    match value {
        Some(v) => String::from_utf8_lossy(&v).into_owned(),
        None => "<none>".to_string(),
    }
}

fn run(req: &Request) -> Result<Response, Response> {
    let path_info = req
        .header("spin-path-info")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let mut parts = path_info.trim_start_matches('/').splitn(3, '/');
    let op = parts.next().unwrap_or_default();
    let label = parts.next().unwrap_or_default();
    let key = parts.next().unwrap_or_default();
    let query = req.query();
    let method = req.method().clone();

    match (op, method) {
        ("spin", Method::Get) => {
            let store = Store::open(label).map_err(spin_error)?;
            match store.get(key).map_err(spin_error)? {
                Some(v) => Ok(Response::new(200, v)),
                None => Ok(Response::new(404, "")),
            }
        }
        ("spin", Method::Put) => {
            let store = Store::open(label).map_err(spin_error)?;
            store.set(key, req.body()).map_err(spin_error)?;
            Ok(Response::new(204, ()))
        }
        ("spin", Method::Delete) => {
            let store = Store::open(label).map_err(spin_error)?;
            store.delete(key).map_err(spin_error)?;
            Ok(Response::new(204, ()))
        }
        ("spin-exists", Method::Get) => {
            let store = Store::open(label).map_err(spin_error)?;
            Ok(Response::new(
                200,
                store.exists(key).map_err(spin_error)?.to_string(),
            ))
        }
        ("spin-keys", Method::Get) => {
            let store = Store::open(label).map_err(spin_error)?;
            let mut keys = store.get_keys().map_err(spin_error)?;
            keys.sort();
            Ok(Response::new(200, keys.join("\n")))
        }
        ("wasi", Method::Get) => {
            let bucket = wasi::open(label).map_err(wasi_error)?;
            match bucket.get(key).map_err(wasi_error)? {
                Some(v) => Ok(Response::new(200, v)),
                None => Ok(Response::new(404, "")),
            }
        }
        ("wasi", Method::Put) => {
            let bucket = wasi::open(label).map_err(wasi_error)?;
            bucket.set(key, req.body()).map_err(wasi_error)?;
            Ok(Response::new(204, ()))
        }
        ("incr", Method::Post) => {
            let by = query
                .strip_prefix("by=")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            let bucket = wasi::open(label).map_err(wasi_error)?;
            let value = atomics::increment(&bucket, key, by).map_err(wasi_error)?;
            Ok(Response::new(200, value.to_string()))
        }
        ("cas", Method::Post) => {
            let bucket = wasi::open(label).map_err(wasi_error)?;
            let cas = atomics::Cas::new(&bucket, key).map_err(wasi_error)?;
            let before = cas.current().map_err(wasi_error)?;
            if query.contains("interfere=1") {
                bucket.set(key, b"interference").map_err(wasi_error)?;
            }
            match atomics::swap(cas, req.body()) {
                Ok(()) => Ok(Response::new(200, format!("swapped from {}", show(before)))),
                Err(atomics::CasError::CasFailed(retry)) => {
                    let now = retry.current().map_err(wasi_error)?;
                    Ok(Response::new(409, format!("cas failed; now {}", show(now))))
                }
                Err(atomics::CasError::StoreError(e)) => Err(wasi_error(e)),
            }
        }
        ("batch", Method::Post) => {
            let bucket = wasi::open(label).map_err(wasi_error)?;
            let body = String::from_utf8_lossy(req.body()).into_owned();
            let pairs: Vec<(String, Vec<u8>)> = body
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect();
            let keys: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
            batch::set_many(&bucket, &pairs).map_err(wasi_error)?;
            let mut wanted = keys.clone();
            wanted.push("missing".to_string());
            let got = batch::get_many(&bucket, &wanted).map_err(wasi_error)?;
            batch::delete_many(&bucket, &keys).map_err(wasi_error)?;
            let lines: Vec<String> = got
                .into_iter()
                .map(|(k, v)| format!("{k}={}", show(v)))
                .collect();
            Ok(Response::new(200, lines.join("\n")))
        }
        _ => Ok(Response::new(405, "")),
    }
}

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    Ok(match run(&req) {
        Ok(response) | Err(response) => response,
    })
}
