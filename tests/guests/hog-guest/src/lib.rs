//! Test guest: takes what a guest should not, on demand. The last path
//! segments say what:
//!
//! - `/alloc/<MiB>`: allocates and fills `<MiB>` MiB, then answers `200`.
//! - `/sleep`: waits forever in a host call (a clock), never answering.
//! - `/spin`: loops forever without calling the host, never answering.
//! - `/stall-body`: sends a `200` head and the first body bytes, then waits
//!   forever without finishing the body.
//!
//! Anything else answers `200 ok`.
use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};
use spin_sdk::http_component;
use std::time::Duration;

#[http_component]
fn handle(req: IncomingRequest, out: ResponseOutparam) {
    let path = req.path_with_query().unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default().to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [.., "alloc", mib] => {
            let mib: usize = mib.parse().unwrap_or(0);
            let filled = std::hint::black_box(vec![1u8; mib << 20]);
            let text = format!("allocated {} MiB", filled.len() >> 20);
            respond(out, 200, text.as_bytes());
        }
        [.., "sleep"] => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        [.., "spin"] => {
            let mut n = 0u64;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        [.., "stall-body"] => {
            let response = OutgoingResponse::new(Fields::new());
            let _ = response.set_status_code(200);
            let Ok(body) = response.body() else { return };
            out.set(response);
            if let Ok(stream) = body.write() {
                let _ = stream.blocking_write_and_flush(b"first bytes\n");
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
        }
        _ => respond(out, 200, b"ok"),
    }
}

fn respond(out: ResponseOutparam, status: u16, bytes: &[u8]) {
    let response = OutgoingResponse::new(Fields::new());
    let _ = response.set_status_code(status);
    let Ok(body) = response.body() else { return };
    out.set(response);
    if let Ok(stream) = body.write() {
        let _ = stream.blocking_write_and_flush(bytes);
        drop(stream);
    }
    let _ = spin_sdk::http::OutgoingBody::finish(body, None);
}
