//! A minimal, fast HTTP/1.1 upstream for `bench/gateway.sh`: answers every
//! request with `200 {"ok":true}`, keeps connections alive, and reads (and
//! discards) request bodies announced by `content-length`. `GET /connections`
//! answers how many connections it has accepted so far.
//!
//! `cargo run --release -p qmarket-gateway --example bench_upstream -- 127.0.0.1:18081`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};

/// Connections accepted so far.
static ACCEPTED: AtomicU64 = AtomicU64::new(0);

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}";

fn serve(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        let mut length = 0usize;
        let mut close = false;
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let counting = line.starts_with("GET /connections ");
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                if name == "content-length" {
                    length = value.trim().parse().unwrap_or(0);
                } else if name == "connection" && value.to_ascii_lowercase().contains("close") {
                    close = true;
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        if counting {
            let count = ACCEPTED.load(Ordering::Relaxed).to_string();
            write!(
                writer,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{count}",
                count.len()
            )?;
        } else {
            writer.write_all(RESPONSE)?;
        }
        if close {
            return Ok(());
        }
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".into());
    let listener = TcpListener::bind(&addr)?;
    eprintln!("bench upstream on http://{}", listener.local_addr()?);
    for stream in listener.incoming().flatten() {
        ACCEPTED.fetch_add(1, Ordering::Relaxed);
        std::thread::spawn(move || {
            let _ = serve(stream);
        });
    }
    Ok(())
}
