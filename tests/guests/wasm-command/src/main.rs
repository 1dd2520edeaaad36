//! A WASI 0.2 command for the tests of qmarket's WASM runtime.
//!
//! It reads `{data, params}` from stdin and does what `data` asks:
//!
//! - `{"numbers": [..], "tag": "a", "pause_ms": 200}` prints `{"sum", "count", "files"}`,
//!   writes `$OUTPUT_DIRECTORY/sum.txt` (and `<tag>.txt` when tagged), waits `pause_ms`
//!   and lists the output directory into `files`;
//! - `{"mode": "loop"}` spins forever, `"sleep"` sleeps for an hour;
//! - `{"mode": "alloc", "limit_mb": n}` allocates (and touches) 1 MiB blocks until it
//!   dies, or until it holds `limit_mb` of them and then prints `{"allocated_mb": n}`;
//! - `"tick"` writes `tick <n>` to stderr every 100 ms, forever;
//! - `"fail"` writes `ERROR: failing on purpose` to stderr and exits 3; `"panic"` panics;
//! - `"log"` writes three stderr lines 300 ms apart, then prints the wall-clock time
//!   (`{"finished_at_ms"}`) just before it ends; `"interim"` announces an interim result;
//! - `{"mode": "net", "port": p}` tries a TCP connection to `127.0.0.1:p` and a lookup
//!   of `localhost` through wasi:sockets; `{"mode": "fs", "paths": [..]}` tries to read `/etc/passwd`, `/`, `.`, an
//!   escape out of the output directory and the given paths; `"env"` prints its
//!   arguments and environment; each reports what happened;
//! - `"text"` prints something that is not JSON; `{"mode": "big", "mb": n}` prints a
//!   JSON string of `n` MiB.

use std::io::{Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

fn main() {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .expect("stdin is readable");
    let input: Value = serde_json::from_str(&input).expect("stdin holds JSON");
    let data = &input["data"];
    let result = match data["mode"].as_str().unwrap_or("sum") {
        "sum" => sum(data),
        "loop" => spin(),
        "sleep" => {
            std::thread::sleep(Duration::from_secs(3600));
            json!({"slept": true})
        }
        "alloc" => alloc(data["limit_mb"].as_u64()),
        "tick" => tick(),
        "fail" => {
            eprintln!("ERROR: failing on purpose");
            std::process::exit(3);
        }
        "panic" => panic!("panicking on purpose"),
        "log" => log(),
        "interim" => {
            eprintln!("PlanQK:Job:InterimResult: {}", json!({"step": 1}));
            json!({"done": true})
        }
        "net" => net(data["port"].as_u64().unwrap_or(1)),
        "fs" => fs(data["paths"].as_array().cloned().unwrap_or_default()),
        "env" => json!({
            "args": arguments(),
            "env": std::env::vars().collect::<Vec<_>>(),
        }),
        "text" => {
            println!("this is not JSON");
            return;
        }
        "big" => json!("x".repeat((data["mb"].as_u64().unwrap_or(1) as usize) << 20)),
        other => {
            eprintln!("ERROR: unknown mode {other}");
            std::process::exit(2);
        }
    };
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, &result).expect("stdout is writable");
    stdout.flush().expect("stdout is writable");
}

/// The program's arguments, read through WASI preview 1 (the adapter
/// turns that into `wasi:cli/environment`). Debian's toolchain, which
/// scripts/build-wasm.sh falls back to, links std with a preview 1 libc and
/// the preview 1 adapter, and there `std::env::args` (which calls
/// `wasi:cli/environment.get-arguments` directly) traps with "cannot leave
/// component instance": the list it returns is allocated through a realloc
/// that calls an import.
#[cfg(target_arch = "wasm32")]
fn arguments() -> Vec<String> {
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn args_sizes_get(count: *mut usize, bytes: *mut usize) -> u16;
        fn args_get(pointers: *mut *mut u8, bytes: *mut u8) -> u16;
    }
    let (mut count, mut size) = (0usize, 0usize);
    // SAFETY: the calls write only into the buffers given, sized as
    // args_sizes_get said (preview 1's contract).
    unsafe {
        assert_eq!(args_sizes_get(&mut count, &mut size), 0);
        let mut pointers = vec![std::ptr::null_mut::<u8>(); count];
        let mut bytes = vec![0u8; size];
        assert_eq!(args_get(pointers.as_mut_ptr(), bytes.as_mut_ptr()), 0);
        bytes
            .split(|&b| b == 0)
            .take(count)
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect()
    }
}

/// Outside WebAssembly std's arguments are fine.
#[cfg(not(target_arch = "wasm32"))]
fn arguments() -> Vec<String> {
    std::env::args().collect()
}

fn output_directory() -> String {
    std::env::var("OUTPUT_DIRECTORY").expect("OUTPUT_DIRECTORY is set")
}

fn sum(data: &Value) -> Value {
    let numbers: Vec<i64> = data["numbers"]
        .as_array()
        .map(|n| n.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    let sum: i64 = numbers.iter().sum();
    let out = output_directory();
    std::fs::write(format!("{out}/sum.txt"), sum.to_string()).expect("sum.txt is writable");
    if let Some(tag) = data["tag"].as_str() {
        std::fs::write(format!("{out}/{tag}.txt"), tag).expect("the tag file is writable");
    }
    if let Some(pause) = data["pause_ms"].as_u64() {
        std::thread::sleep(Duration::from_millis(pause));
    }
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .expect("the output directory is listable")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    json!({"sum": sum, "count": numbers.len(), "files": files})
}

fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn alloc(limit_mb: Option<u64>) -> Value {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        if limit_mb == Some(blocks.len() as u64) {
            return json!({"allocated_mb": blocks.len()});
        }
        // Filled, so the pages are really used, not only reserved.
        blocks.push(vec![1u8; 1 << 20]);
    }
}

/// Writes a numbered line to stderr every 100 ms until stopped.
fn tick() -> ! {
    for n in 0u64.. {
        eprintln!("tick {n}");
        std::thread::sleep(Duration::from_millis(100));
    }
    unreachable!("u64 ticks outlast any deadline")
}

fn log() -> Value {
    for (i, line) in ["starting", "WARNING: halfway", "DEBUG: almost done"]
        .iter()
        .enumerate()
    {
        eprintln!("{line}");
        if i < 2 {
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    json!({"finished_at_ms": now.as_millis() as u64})
}

/// Tries a TCP connection to `127.0.0.1:port` and a lookup of `localhost`
/// through wasi:sockets, and says how each ended.
#[cfg(target_arch = "wasm32")]
fn net(port: u64) -> Value {
    use wasi::sockets::network::{IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};
    use wasi::sockets::{instance_network, ip_name_lookup, tcp_create_socket};

    let network = instance_network::instance_network();
    let connect = match tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4) {
        Err(e) => json!({"ok": false, "error": format!("create: {e:?}")}),
        Ok(socket) => {
            let address = IpSocketAddress::Ipv4(Ipv4SocketAddress {
                port: port as u16,
                address: (127, 0, 0, 1),
            });
            match socket.start_connect(&network, address) {
                Err(e) => json!({"ok": false, "error": format!("start-connect: {e:?}")}),
                Ok(()) => {
                    socket.subscribe().block();
                    match socket.finish_connect() {
                        Ok(_) => json!({"ok": true}),
                        Err(e) => json!({"ok": false, "error": format!("finish-connect: {e:?}")}),
                    }
                }
            }
        }
    };
    let lookup = match ip_name_lookup::resolve_addresses(&network, "localhost") {
        Err(e) => json!({"ok": false, "error": format!("resolve-addresses: {e:?}")}),
        Ok(stream) => loop {
            match stream.resolve_next_address() {
                Ok(Some(address)) => break json!({"ok": true, "address": format!("{address:?}")}),
                Ok(None) => break json!({"ok": false, "error": "no address"}),
                Err(ip_name_lookup::ErrorCode::WouldBlock) => stream.subscribe().block(),
                Err(e) => {
                    break json!({"ok": false, "error": format!("resolve-next-address: {e:?}")})
                }
            }
        },
    };
    json!({"connect": connect, "lookup": lookup})
}

/// Outside WebAssembly there is no wasi:sockets to probe.
#[cfg(not(target_arch = "wasm32"))]
fn net(_port: u64) -> Value {
    json!({"connect": {"ok": false, "error": "not WebAssembly"}, "lookup": {"ok": false, "error": "not WebAssembly"}})
}

fn fs(extra: Vec<Value>) -> Value {
    let out = output_directory();
    let mut paths = vec![
        "/etc/passwd".to_string(),
        "/".to_string(),
        ".".to_string(),
        format!("{out}/../etc/passwd"),
        format!("{out}/.."),
    ];
    paths.extend(extra.iter().filter_map(Value::as_str).map(str::to_string));
    let attempts: Vec<Value> = paths
        .iter()
        .map(|path| match read(path) {
            Ok(what) => json!({"path": path, "ok": true, "read": what}),
            Err(e) => json!({"path": path, "ok": false, "error": e.to_string()}),
        })
        .collect();
    json!({"attempts": attempts})
}

/// Reads a file's first bytes or a directory's entry count.
fn read(path: &str) -> std::io::Result<String> {
    if std::fs::metadata(path)?.is_dir() {
        Ok(format!("{} entries", std::fs::read_dir(path)?.count()))
    } else {
        let mut start = vec![0u8; 64];
        let n = std::fs::File::open(path)?.read(&mut start)?;
        Ok(String::from_utf8_lossy(&start[..n]).into_owned())
    }
}
