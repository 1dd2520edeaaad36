//! Start-up validation, variables, outbound HTTP, the `qmarket up` command
//! and the platform manifest.

mod host_support;

use host_support::{get, guests_manifest, start, wasm, Scratch, Upstream};
use qmarket_host::{LogSink, TestApp, TestAppOptions};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn manifest_with(scratch: &Scratch, extra: &str) -> std::path::PathBuf {
    let text = format!(
        r#"spin_manifest_version = 2
[application]
name = "scratch"
[[trigger.http]]
route = "/..."
component = "vars"
[component.vars]
source = "{}"
{extra}
"#,
        wasm("vars-guest").display()
    );
    scratch.write("spin.toml", &text)
}

fn start_error(options: TestAppOptions) -> String {
    match TestApp::start(options) {
        Ok(app) => panic!("start-up should fail, but {app:?} started"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_route_replaced_by_another_components_route_is_logged_as_a_warning() {
    let scratch = Scratch::new();
    let manifest = manifest_with(
        &scratch,
        &format!(
            "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"echo\"\n[component.echo]\nsource = \"{}\"\nenvironment = {{ COMPONENT = \"echo\" }}\n",
            wasm("echo-guest").display()
        ),
    );
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let kept = lines.clone();
    let app = start(TestAppOptions {
        log_sink: Some(LogSink::new(move |line| {
            kept.lock().unwrap().push(line.to_string())
        })),
        ..TestAppOptions::new(&manifest)
    });
    assert_eq!(
        get(&app.url("/anything")).lines()["component"],
        "echo",
        "the later route wins"
    );
    let lines = lines.lock().unwrap();
    assert!(
        lines.contains(
            &"warning: route `/...` of component `vars` is replaced by component `echo`"
                .to_string()
        ),
        "{lines:?}"
    );
}

#[test]
fn a_missing_required_variable_stops_start_up_naming_it() {
    let scratch = Scratch::new();
    let manifest = manifest_with(
        &scratch,
        "[component.vars.variables]\nkey = \"{{ api_key }}\"\n[variables]\napi_key = { required = true }\n",
    );
    let err = start_error(TestAppOptions::new(&manifest));
    assert!(
        err.contains("api_key") && err.contains("SPIN_VARIABLE_API_KEY"),
        "{err}"
    );

    let app = start(TestAppOptions {
        env: vec![("SPIN_VARIABLE_API_KEY".into(), "s3cret".into())],
        ..TestAppOptions::new(&manifest)
    });
    assert_eq!(get(&app.url("/vars/key")).text(), "s3cret");
}

#[test]
fn component_variables_expand_templates_and_the_environment_overrides_defaults() {
    let app = start(TestAppOptions::new(guests_manifest()));
    assert_eq!(get(&app.url("/vars/greeting")).text(), "Hello, world!");
    assert_eq!(get(&app.url("/vars/api_token")).text(), "t0ken");
    let undefined = get(&app.url("/vars/who"));
    assert_eq!(
        undefined.status, 404,
        "app variables are not component variables"
    );
    assert!(
        undefined.text().contains("Undefined"),
        "{}",
        undefined.text()
    );

    let app = start(TestAppOptions {
        env: vec![("SPIN_VARIABLE_WHO".into(), "qmarket".into())],
        ..TestAppOptions::new(guests_manifest())
    });
    assert_eq!(get(&app.url("/vars/greeting")).text(), "Hello, qmarket!");
}

#[test]
fn an_unknown_manifest_feature_is_a_clear_start_up_error() {
    let scratch = Scratch::new();
    let manifest = manifest_with(&scratch, "files = [\"static/**\"]\n");
    let err = start_error(TestAppOptions::new(manifest));
    assert!(
        err.contains("`files`") && err.contains("not supported"),
        "{err}"
    );

    let manifest = manifest_with(&scratch, "[[trigger.redis]]\ncomponent = \"vars\"\n");
    let err = start_error(TestAppOptions::new(manifest));
    assert!(err.contains("`redis` trigger"), "{err}");
}

#[test]
fn a_component_listing_an_undefined_store_fails_start_up() {
    let scratch = Scratch::new();
    let manifest = manifest_with(&scratch, "key_value_stores = [\"sessions\"]\n");
    let err = start_error(TestAppOptions::new(manifest));
    assert!(
        err.contains("sessions") && err.contains("not defined"),
        "{err}"
    );
}

#[test]
fn a_missing_component_file_is_a_clear_start_up_error() {
    let scratch = Scratch::new();
    let manifest = scratch.write(
        "spin.toml",
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"gone\"\n[component.gone]\nsource = \"gone.wasm\"\n",
    );
    let err = start_error(TestAppOptions::new(manifest));
    assert!(err.contains("gone") && err.contains("cannot read"), "{err}");
}

#[test]
fn a_denied_outbound_host_surfaces_http_request_denied_in_the_guest() {
    let upstream = Upstream::start("hello from upstream", Duration::ZERO);
    let app = start(TestAppOptions::new(guests_manifest()));
    let reply = get(&app.url(&format!("/outbound?url=http://{}/", upstream.addr)));
    assert_eq!(reply.status, 502);
    assert!(
        reply.text().contains("HttpRequestDenied"),
        "{}",
        reply.text()
    );
}

#[test]
fn an_allowed_outbound_host_from_a_templated_entry_is_reached() {
    let upstream = Upstream::start("hello from upstream", Duration::ZERO);
    let app = start(TestAppOptions {
        env: vec![(
            "SPIN_VARIABLE_UPSTREAM_PORT".into(),
            upstream.addr.port().to_string(),
        )],
        ..TestAppOptions::new(guests_manifest())
    });
    let reply = get(&app.url(&format!("/outbound?url=http://{}/", upstream.addr)));
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "hello from upstream");
    assert_eq!(reply.headers["x-upstream-status"], "200");
}

#[test]
fn the_guests_first_byte_timeout_is_honoured() {
    let upstream = Upstream::start("late", Duration::from_secs(3));
    let app = start(TestAppOptions {
        env: vec![(
            "SPIN_VARIABLE_UPSTREAM_PORT".into(),
            upstream.addr.port().to_string(),
        )],
        ..TestAppOptions::new(guests_manifest())
    });
    let started = std::time::Instant::now();
    let reply = get(&app.url(&format!(
        "/outbound?url=http://{}/&first_byte_ms=200",
        upstream.addr
    )));
    assert_eq!(reply.status, 502, "{}", reply.text());
    assert!(reply.text().contains("Timeout"), "{}", reply.text());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_platform_manifest_answers_health() {
    let app = start(TestAppOptions::new(host_support::root().join("spin.toml")));
    let reply = get(&app.url("/api/health"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    let body: serde_json::Value = serde_json::from_slice(&reply.bytes).expect("JSON");
    assert_eq!(body["status"], "UP");
}

#[test]
fn qmarket_up_logs_requests_with_their_costs_forwards_guest_output_and_stops_on_sigterm() {
    /// Kills the host if the test fails before it stops it.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let scratch = Scratch::new();
    let port = host_support::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_qmarket"))
        .args(["up", "--listen", &format!("127.0.0.1:{port}"), "-f"])
        .arg(guests_manifest())
        .arg("--state-dir")
        .arg(scratch.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qmarket runs");
    let mut child = Running(child);
    let stderr = child.0.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str| -> String {
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => continue,
                Err(e) => panic!("no stderr line containing {needle:?}: {e}"),
            }
        }
    };
    wait_for("Serving http://");

    let reply = get(&format!("http://127.0.0.1:{port}/echo/exact?secret=1"));
    assert_eq!(reply.status, 200);
    assert_eq!(wait_for("[echo-exact]"), "[echo-exact] echo /echo/exact");
    let log = wait_for("GET /echo/exact");
    assert!(log.starts_with("GET /echo/exact echo-exact 200 "), "{log}");
    assert!(!log.contains("secret"), "{log}");
    // What the request cost: the echo guest touches no store and calls out
    // to no one.
    for field in ["done=", "inst=", "store=", "out=", "guest="] {
        assert!(log.contains(field), "{field} in {log}");
    }
    assert!(log.contains(" reads=0 writes=0 outbound=0"), "{log}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.0.wait().expect("qmarket exits");
    assert!(status.success(), "{status}");
}

#[test]
fn a_component_older_than_a_source_its_build_watches_stops_start_up() {
    // Setup: a copy of a guest, and a "source" touched after it.
    let scratch = Scratch::new();
    let wasm_copy = scratch.path().join("vars.wasm");
    std::fs::copy(wasm("vars-guest"), &wasm_copy).expect("copies the guest");
    std::fs::create_dir(scratch.path().join("src")).expect("creates src");
    let source = scratch.write("src/lib.rs", "// edited after the build\n");
    let set_age = |path: &std::path::Path, seconds_ago: u64| {
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| {
                f.set_modified(std::time::SystemTime::now() - Duration::from_secs(seconds_ago))
            })
            .expect("sets the modification time");
    };
    set_age(&wasm_copy, 60);
    set_age(&source, 10);
    let manifest = scratch.write(
        "spin.toml",
        "spin_manifest_version = 2\n[application]\nname = \"stale\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"vars\"\n\
         [component.vars]\nsource = \"vars.wasm\"\n\
         [component.vars.build]\ncommand = \"cargo build\"\nwatch = [\"src/**/*.rs\"]\n",
    );

    // Exec
    let stale = start_error(TestAppOptions::new(&manifest));
    set_age(&wasm_copy, 0);
    let rebuilt = TestApp::start(TestAppOptions::new(&manifest));

    // Check
    assert!(
        stale.contains("`vars`")
            && stale.contains("src/lib.rs")
            && stale.contains("scripts/build-wasm.sh"),
        "{stale}"
    );
    assert!(rebuilt.is_ok(), "a rebuilt component starts: {rebuilt:?}");
}

/// The test guests allowed to call `upstream`, with `options` otherwise.
fn calling(upstream: SocketAddr, options: TestAppOptions) -> TestApp {
    start(TestAppOptions {
        env: vec![(
            "SPIN_VARIABLE_UPSTREAM_PORT".into(),
            upstream.port().to_string(),
        )],
        ..options
    })
}

fn fetch_through(app: &TestApp, upstream: SocketAddr) -> u16 {
    get(&app.url(&format!("/outbound?url=http://{upstream}/"))).status
}

#[test]
fn outbound_connections_are_kept_alive_and_reused() {
    let upstream = host_support::KeepAliveUpstream::start(Duration::ZERO, None);
    let app = calling(upstream.addr, TestAppOptions::new(guests_manifest()));
    for _ in 0..20 {
        assert_eq!(fetch_through(&app, upstream.addr), 200);
    }
    assert_eq!(upstream.answered(), 20);
    assert_eq!(upstream.accepted(), 1, "one connection for 20 requests");
}

#[test]
fn a_connection_the_upstream_closed_while_idle_is_not_reused() {
    // The upstream drops connections idle for 100 ms, without a word: each
    // request after a pause finds its pooled connection gone.
    let upstream =
        host_support::KeepAliveUpstream::start(Duration::ZERO, Some(Duration::from_millis(100)));
    let app = calling(upstream.addr, TestAppOptions::new(guests_manifest()));
    for _ in 0..5 {
        assert_eq!(fetch_through(&app, upstream.addr), 200);
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(upstream.answered(), 5);
    assert_eq!(upstream.accepted(), 5, "a new connection after each close");
}

#[test]
fn connections_to_one_host_stay_within_their_bound() {
    let upstream = host_support::KeepAliveUpstream::start(Duration::from_millis(200), None);
    let app = calling(
        upstream.addr,
        TestAppOptions {
            max_outbound_connections_per_host: Some(2),
            ..TestAppOptions::new(guests_manifest())
        },
    );
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| fetch_through(&app, upstream.addr)))
            .collect();
        calls.into_iter().map(|c| c.join().expect("call")).collect()
    });
    assert_eq!(statuses, [200; 8]);
    assert_eq!(upstream.most_open(), 2, "the bound is used, never passed");
}

#[test]
fn without_pooling_every_request_gets_a_connection_of_its_own() {
    let upstream = host_support::KeepAliveUpstream::start(Duration::ZERO, None);
    let scratch = Scratch::new();
    let config = scratch.write(
        "runtime-config.toml",
        "[outbound_http]\nconnection_pooling = false\n",
    );
    let app = calling(
        upstream.addr,
        TestAppOptions {
            runtime_config: Some(config),
            ..TestAppOptions::new(guests_manifest())
        },
    );
    for _ in 0..5 {
        assert_eq!(fetch_through(&app, upstream.addr), 200);
    }
    assert_eq!(upstream.accepted(), 5);
}
