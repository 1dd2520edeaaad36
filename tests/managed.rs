//! Managed services end to end: uploads and their validation, builds, the
//! execution API on the gateway, workers (`qmarket worker` processes) that
//! build and run WASM services, their limits, cancellation, failover and
//! metering, and who may see which execution.

mod support;

use std::time::{Duration, Instant};

use qmarket_managed::queue::BEAT_SECONDS;
use qmarket_zip_fixtures::{
    central_size_lies, declare_size, folder_zipped, python_project, wasm_project, with_empty_files,
    with_hostile_name, with_program, with_zeros, Zip,
};
use serde_json::{json, Value};
use support::managed::{
    create_managed_service, elapsed_ms, finished_build, managed_platform, poll, upload,
    wasm_command, Consumer, ManagedService, Worker,
};
use support::{create_plan, lifecycle, sign_up, Api};

const MIB: usize = 1 << 20;
const SECOND: Duration = Duration::from_secs(1);

/// What an upload is refused with: exact messages, or (for messages with
/// measured figures) their beginning.
enum Expected {
    Exactly(&'static [&'static str]),
    StartsWith(&'static str),
}

#[test]
fn every_broken_archive_rule_is_refused_with_its_own_message() {
    // Setup: a provider with one managed service per runtime.
    let app = managed_platform();
    let provider = sign_up(&app, "provider");
    let python = create_managed_service(&app, &provider, "PYTHON_TEMPLATE", Value::Null);
    let wasm = create_managed_service(&app, &provider, "WASM", Value::Null);
    let docker = create_managed_service(&app, &provider, "DOCKER", Value::Null);
    let symlinked = python_project().symlink("link", "/etc/passwd").bytes();
    let cases: Vec<(&str, &str, Vec<u8>, Expected)> = vec![
        (
            "the folder zipped instead of its contents",
            &python,
            folder_zipped(),
            Expected::Exactly(&["the archive holds the folder 'myproject/' with the project inside; zip its contents instead: cd myproject && zip -r planqk.zip src environment.yml requirements.txt"]),
        ),
        ("a '..' entry", &python, with_hostile_name(b"../x"), Expected::Exactly(&["entry '../x' has a '..' path component"])),
        ("a '..' inside a path", &python, with_hostile_name(b"a/../../x"), Expected::Exactly(&["entry 'a/../../x' has a '..' path component"])),
        ("an absolute path", &python, with_hostile_name(b"/etc/x"), Expected::Exactly(&["entry '/etc/x' has an absolute path"])),
        ("a drive letter", &python, with_hostile_name(b"C:\\x"), Expected::Exactly(&["entry 'C:\\x' starts with a drive letter"])),
        ("a backslash", &python, with_hostile_name(b"a\\b"), Expected::Exactly(&["entry 'a\\b' has a backslash in its name; folders are separated by '/'"])),
        ("a symlink", &python, symlinked, Expected::Exactly(&["entry 'link' is a symbolic link"])),
        (
            "a bomb whose declared size lies",
            &python,
            declare_size(with_zeros(MIB), "bomb.bin", 100),
            Expected::Exactly(&["entry 'bomb.bin' unpacks to more than the 100 bytes it declares"]),
        ),
        (
            "a bomb whose central directory lies",
            &python,
            central_size_lies(with_zeros(MIB), "bomb.bin", 100),
            Expected::Exactly(&[
                "entry 'bomb.bin' declares an uncompressed size of 100 bytes in the central directory but 1,048,576 bytes in its local header",
                "entry 'bomb.bin' unpacks to more than the 100 bytes it declares",
            ]),
        ),
        (
            "a huge compression ratio",
            &python,
            python_project().file("zeros.bin", &vec![0; 16 * MIB]).bytes(),
            Expected::StartsWith("entry 'zeros.bin' declares a compression ratio of "),
        ),
        (
            "too many entries",
            &python,
            with_empty_files(10_001 - 4),
            Expected::Exactly(&["the archive holds 10,001 entries; at most 10,000 are allowed"]),
        ),
        (
            "no run function",
            &python,
            with_program(b"def main(data, params):\n    return {}\n"),
            Expected::Exactly(&["src/program.py defines no top-level run function (def run(data, params) or async def run(...))"]),
        ),
        (
            "no environment.yml or requirements.txt",
            &python,
            Zip::new().file("src/program.py", qmarket_zip_fixtures::PROGRAM).bytes(),
            Expected::Exactly(&["the root holds neither environment.yml nor requirements.txt"]),
        ),
        (
            "not a ZIP",
            &python,
            b"%PDF-1.7 not an archive".to_vec(),
            Expected::Exactly(&["the upload is not a ZIP archive, or it is truncated: it does not end with a ZIP end-of-central-directory record"]),
        ),
        (
            "no program.wasm",
            &wasm,
            Zip::new().file("main.wasm", b"\0asm\x0d\0\x01\0").bytes(),
            Expected::Exactly(&["the root holds no program.wasm"]),
        ),
        (
            "a core module instead of a component",
            &wasm,
            wasm_project(b"\0asm\x01\0\0\0"),
            Expected::Exactly(&["program.wasm is a core WebAssembly module; a WASI 0.2 command component is needed (build it for wasm32-wasip2)"]),
        ),
        (
            "no Dockerfile",
            &docker,
            Zip::new().file("docker/Dockerfile", b"FROM x\n").file("app.py", b"").bytes(),
            Expected::Exactly(&["the root holds no Dockerfile"]),
        ),
    ];
    for (case, service, zip, expected) in cases {
        // Exec
        let build = upload(&app, &provider, service, zip).expect(202).json();
        // Check: refused by validation, at once, with the rule's message.
        assert_eq!(build["status"], "FAILURE", "{case}: {build}");
        assert!(!build["endedAt"].is_null(), "{case}: {build}");
        let result = &build["validationResult"];
        assert_eq!(result["state"], "ERROR", "{case}: {build}");
        let messages: Vec<&str> = result["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m.as_str().expect("a message is text"))
            .collect();
        match expected {
            Expected::Exactly(wanted) => assert_eq!(messages, wanted, "{case}"),
            Expected::StartsWith(prefix) => assert!(
                messages.len() == 1 && messages[0].starts_with(prefix),
                "{case}: {messages:?}"
            ),
        }
        let current = app
            .get(&format!("/api/services/{service}/build"))
            .bearer(&provider.token)
            .send()
            .expect(200)
            .json();
        assert_eq!(
            current, build,
            "{case}: GET build shows the latest upload's build"
        );
    }
    // A good archive of each kind passes validation and waits for a worker.
    for (service, zip) in [
        (&python, python_project().bytes()),
        (&wasm, wasm_project(&wasm_command())),
        (
            &docker,
            Zip::new().file("Dockerfile", b"FROM python:3.12\n").bytes(),
        ),
    ] {
        let build = upload(&app, &provider, service, zip).expect(202).json();
        assert_eq!(build["status"], "WORKING", "{build}");
        assert_ne!(build["validationResult"]["state"], "ERROR", "{build}");
    }
}

#[test]
fn an_upload_is_bounded_typed_and_only_for_its_owners_managed_services() {
    // Setup
    let app = managed_platform();
    let provider = sign_up(&app, "provider");
    let other = sign_up(&app, "other");
    let managed = create_managed_service(&app, &provider, "WASM", Value::Null);
    let external = support::create_external_service(&app, &provider, "https://example.org");
    let path = format!("/api/services/{managed}/source");
    // Exec + Check: more than 50 MiB is refused while it arrives.
    let oversize = app
        .put(&path)
        .bearer(&provider.token)
        .header("content-type", "application/zip")
        .body(vec![0u8; 50 * MIB + 1])
        .send();
    oversize.expect_problem(413);
    // Not a ZIP content type.
    app.put(&path)
        .bearer(&provider.token)
        .header("content-type", "application/json")
        .body(b"{}".to_vec())
        .send()
        .expect_problem(415);
    // An external service has no source.
    upload(&app, &provider, &external, wasm_project(&wasm_command())).expect_problem(409);
    // Another account's service is not there, for uploads and builds alike.
    upload(&app, &other, &managed, wasm_project(&wasm_command())).expect_problem(404);
    for suffix in ["build", "build/log"] {
        app.get(&format!("/api/services/{managed}/{suffix}"))
            .bearer(&other.token)
            .send()
            .expect_problem(404);
    }
    // No upload yet: no build.
    app.get(&format!("/api/services/{managed}/build"))
        .bearer(&provider.token)
        .send()
        .expect_problem(404);
}

#[test]
fn a_result_of_a_mebibyte_reaches_the_consumer_whole() {
    // Setup
    let app = managed_platform();
    let _worker = Worker::start(&app, "w1");
    let service = ManagedService::deploy_wasm(&app, Value::Null).built(&app);
    let consumer = Consumer::subscribe(&app, "consumer", &service.id, &service.plan_id);
    // Exec: a result far larger than one write of a response body (4 KiB).
    let id = consumer.started(&app, json!({"mode": "big", "mb": 1}));
    let done = consumer.finished(&app, &id, 60 * SECOND);
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    // Check
    let reply = consumer.get(&app, &format!("/{id}/result")).expect(200);
    let result = reply.json();
    let text = result["result"].as_str().expect("the result string");
    assert_eq!(text.len(), 1 << 20);
    assert!(text.bytes().all(|b| b == b'x'));
    assert_eq!(result["_embedded"]["status"]["id"], id.as_str());
}

#[test]
fn a_wasm_service_runs_end_to_end_through_the_gateway_and_is_metered() {
    // Setup: a worker builds the guest; a consumer subscribes.
    let app = managed_platform();
    let _worker = Worker::start(&app, "w1");
    let service = ManagedService::deploy_wasm(&app, Value::Null).built(&app);
    let build_log = service.build_log(&app);
    assert!(
        build_log
            .as_array()
            .expect("a JSON array")
            .iter()
            .any(|line| line["message"] == "program.wasm is a WASI 0.2 command component"),
        "{build_log}"
    );
    let consumer = Consumer::subscribe(&app, "consumer", &service.id, &service.plan_id);
    // Exec: start (PlanQK's client posts to the trailing slash).
    let started = consumer.start(&app, json!({"numbers": [19, 23], "tag": "answer"}));
    let started = started.expect(201);
    let execution = started.json();
    let id = execution["id"].as_str().expect("id").to_string();
    assert_eq!(
        started.header("location"),
        Some(format!("/gateway/{}/{id}", service.id).as_str())
    );
    assert_eq!(execution["status"], "PENDING");
    assert_eq!(execution["type"], "MANAGED");
    assert_eq!(execution["serviceId"], service.id.as_str());
    assert_eq!(execution["applicationId"], consumer.application.id.as_str());
    assert!(execution["startedAt"].is_null() && execution["endedAt"].is_null());
    let done = consumer.finished(&app, &id, 60 * SECOND);
    // Check: the status, the result with its links, the file, the log.
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert!(
        done["startedAt"].is_string() && done["endedAt"].is_string(),
        "{done}"
    );
    let result = consumer
        .get(&app, &format!("/{id}/result"))
        .expect(200)
        .json();
    let base = format!("/gateway/{}/{id}", service.id);
    assert_eq!(result["sum"], 42, "{result}");
    assert_eq!(result["count"], 2, "{result}");
    assert_eq!(result["_embedded"]["status"], done);
    assert_eq!(
        result["_links"],
        json!({
            "self": {"href": format!("{base}/result")},
            "status": {"href": base},
            "answer.txt": {"href": format!("{base}/result/answer.txt")},
            "sum.txt": {"href": format!("{base}/result/sum.txt")},
        })
    );
    let file = consumer
        .get(&app, &format!("/{id}/result/sum.txt"))
        .expect(200);
    assert_eq!(
        file.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(file.text, "42");
    consumer
        .get(&app, &format!("/{id}/result/missing.txt"))
        .expect_problem(404);
    assert_eq!(consumer.log_messages(&app, &id), Vec::<String>::new());
    // Without the trailing slash, a second run; the list is a bare array,
    // newest first.
    let second = app
        .post(&consumer.base)
        .bearer(&consumer.token)
        .json(&json!({"data": {"mode": "log"}, "params": {}}))
        .send()
        .expect(201)
        .json();
    let second_id = second["id"].as_str().expect("id");
    consumer.finished(&app, second_id, 60 * SECOND);
    assert_eq!(
        consumer.log_messages(&app, second_id),
        ["starting", "halfway", "almost done"]
    );
    let severities: Vec<Value> = consumer
        .get(&app, &format!("/{second_id}/log"))
        .json()
        .as_array()
        .expect("log")
        .iter()
        .map(|line| line["severity"].clone())
        .collect();
    assert_eq!(
        severities,
        [json!("INFO"), json!("WARNING"), json!("DEBUG")]
    );
    let listed = consumer.get(&app, "/").expect(200).json();
    let ids: Vec<&str> = listed
        .as_array()
        .expect("a bare JSON array")
        .iter()
        .map(|e| e["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, [second_id, id.as_str()]);
    // Cancelling a finished execution changes nothing and answers it.
    let cancelled = consumer.cancel(&app, &id).expect(200).json();
    assert_eq!(cancelled, done);
    // Metering: a call and the run time of each run, correlated by id.
    let events = service.metering_events(&app);
    let of_first: Vec<&Value> = events
        .iter()
        .filter(|e| e["correlationId"] == id.as_str())
        .collect();
    let units: Vec<&str> = of_first
        .iter()
        .map(|e| e["unit"].as_str().unwrap_or(""))
        .collect();
    assert!(units.contains(&"call"), "{of_first:?}");
    assert!(units.contains(&"second"), "{of_first:?}");
    let call = of_first
        .iter()
        .find(|e| e["unit"] == "call")
        .expect("a call event");
    assert_eq!(call["count"], "1");
    assert_eq!(call["amount"], "0.01");
    assert_eq!(call["subscriptionId"], consumer.subscription["id"]);
    let seconds = of_first
        .iter()
        .find(|e| e["unit"] == "second")
        .expect("a time event");
    let counted: f64 = seconds["count"]
        .as_str()
        .expect("count")
        .parse()
        .expect("a decimal");
    assert!(counted > 0.0 && counted < 60.0, "{seconds}");
    // Whole milliseconds; the decimal is written without trailing zeros
    // (10 ms is "0.01").
    let fraction = seconds["count"]
        .as_str()
        .expect("count")
        .split('.')
        .nth(1)
        .unwrap_or("");
    assert!(
        fraction.len() <= 3 && !fraction.ends_with('0'),
        "at most three fractional digits, no trailing zero: {seconds}"
    );
    // The consumer's bill holds both runs' calls.
    let bill = app
        .get(&format!(
            "/api/subscriptions/{}/usage",
            consumer.subscription["id"]
                .as_str()
                .expect("subscription id")
        ))
        .bearer(&consumer.account.token)
        .send()
        .expect(200)
        .json();
    let call_line = bill["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|line| line["unit"] == "call")
        .expect("a call line")
        .clone();
    assert_eq!(call_line["quantity"], "2", "{bill}");
    assert_eq!(call_line["amount"], "0.02", "{bill}");
}

#[test]
fn a_guest_past_its_deadline_or_its_memory_fails_without_touching_other_executions() {
    // Setup: a 2 s deadline and 128 MiB (the least allowed); two workers so both run at once.
    let app = managed_platform();
    let _workers = [Worker::start(&app, "w1"), Worker::start(&app, "w2")];
    let service = ManagedService::deploy_wasm(
        &app,
        json!({"milliCpus": 500, "memoryInMegabytes": 128, "timeoutSeconds": 2}),
    )
    .built(&app);
    let consumer = Consumer::subscribe(&app, "consumer", &service.id, &service.plan_id);
    // Exec
    let looping = consumer.started(&app, json!({"mode": "loop"}));
    let greedy = consumer.started(&app, json!({"mode": "alloc"}));
    let fine = consumer.started(&app, json!({"numbers": [1, 2]}));
    // Check
    let looped = consumer.finished(&app, &looping, 60 * SECOND);
    assert_eq!(looped["status"], "FAILED", "{looped}");
    let error = consumer
        .get(&app, &format!("/{looping}/result"))
        .expect(200)
        .json();
    assert_eq!(error["code"], "TIMEOUT", "{error}");
    assert!(
        error["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{error}"
    );
    // A loop never ends by itself: it ran its 2 s and was stopped. The
    // upper bound leaves room for a machine busy with other suites (the
    // interruption and the report of the end wait for a core).
    let ran = elapsed_ms(&looped);
    assert!(
        (2000..12_000).contains(&ran),
        "stopped at its 2 s deadline: ran {ran} ms"
    );
    let allocated = consumer.finished(&app, &greedy, 60 * SECOND);
    assert_eq!(allocated["status"], "FAILED", "{allocated}");
    let error = consumer
        .get(&app, &format!("/{greedy}/result"))
        .expect(200)
        .json();
    assert_eq!(error["code"], "MEMORY_LIMIT", "{error}");
    let other = consumer.finished(&app, &fine, 60 * SECOND);
    assert_eq!(other["status"], "SUCCEEDED", "{other}");
    assert_eq!(
        consumer.get(&app, &format!("/{fine}/result")).json()["sum"],
        3
    );
}

#[test]
fn cancel_stops_a_pending_execution_before_it_runs_and_a_running_one_at_its_workers_next_beats() {
    // Setup: no worker yet, so the first execution stays pending.
    let app = managed_platform();
    let mut builder = Worker::start(&app, "builder");
    let service = ManagedService::deploy_wasm(&app, Value::Null).built(&app);
    builder.kill();
    let consumer = Consumer::subscribe(&app, "consumer", &service.id, &service.plan_id);
    let pending = consumer.started(&app, json!({"mode": "tick"}));
    // Exec + Check: cancelled while pending, it never runs and is not billed.
    let cancelled = consumer.cancel(&app, &pending).expect(200).json();
    assert_eq!(cancelled["status"], "CANCELLED", "{cancelled}");
    assert!(cancelled["startedAt"].is_null(), "{cancelled}");
    let worker = Worker::start(&app, "w1");
    let running = consumer.started(&app, json!({"mode": "tick"}));
    consumer.wait_for(&app, &running, 60 * SECOND, |e| e["status"] == "RUNNING");
    // Its log streams while it runs.
    poll(10 * SECOND, || {
        (consumer.log_messages(&app, &running).len() >= 3).then_some(())
    })
    .expect("log lines arrive while the program runs");
    assert_eq!(consumer.status(&app, &running)["status"], "RUNNING");
    let asked = Instant::now();
    let answer = consumer.cancel(&app, &running).expect(200).json();
    assert_eq!(answer["id"], running.as_str());
    assert_eq!(answer["status"], "CANCELLED", "{answer}");
    // The worker learns of the cancel at its next beat (every
    // BEAT_SECONDS) and stops the program: two beats bound it, with room
    // for a busy machine.
    poll(10 * SECOND, || {
        worker
            .log()
            .contains(&format!("finished Execution {running}"))
            .then_some(())
    })
    .expect("the worker ends the cancelled run");
    let stopped_after = asked.elapsed();
    assert!(
        stopped_after < SECOND * (2 * BEAT_SECONDS as u32 + 2),
        "stopped {stopped_after:?} after the cancel"
    );
    let lines = consumer.log_messages(&app, &running).len();
    std::thread::sleep(SECOND);
    assert_eq!(consumer.log_messages(&app, &running).len(), lines);
    assert_eq!(consumer.status(&app, &running)["status"], "CANCELLED");
    assert!(!worker
        .started_jobs()
        .contains(&format!("Execution {pending}")));
    // Billing: the pending one not at all, the running one for its time.
    let events = service.metering_events(&app);
    assert!(
        events
            .iter()
            .all(|e| e["correlationId"] != pending.as_str()),
        "{events:?}"
    );
    let time = events
        .iter()
        .find(|e| e["correlationId"] == running.as_str() && e["unit"] == "second")
        .expect("the cancelled run's time is billed");
    let seconds: f64 = time["count"]
        .as_str()
        .expect("count")
        .parse()
        .expect("decimal");
    assert!(seconds > 0.2, "{time}");
}

#[test]
fn a_worker_killed_mid_run_loses_its_lease_and_another_worker_completes_the_execution() {
    // Setup
    let app = managed_platform();
    let mut first = Worker::start(&app, "first");
    let service = ManagedService::deploy_wasm(&app, Value::Null).built(&app);
    let consumer = Consumer::subscribe(&app, "consumer", &service.id, &service.plan_id);
    let id = consumer.started(&app, json!({"numbers": [5, 6], "pause_ms": 3000}));
    consumer.wait_for(&app, &id, 60 * SECOND, |e| e["status"] == "RUNNING");
    // Exec: SIGKILL mid-run, then a second worker comes up.
    first.kill();
    let second = Worker::start(&app, "second");
    let done = consumer.finished(&app, &id, 60 * SECOND);
    // Check
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(
        consumer.get(&app, &format!("/{id}/result")).json()["sum"],
        11
    );
    assert!(first.started_jobs().contains(&format!("Execution {id}")));
    assert_eq!(
        second.started_jobs(),
        [format!("Execution {id}")],
        "{}",
        second.log()
    );
    assert!(second
        .log()
        .contains(&format!("Execution {id} (attempt 2)")));
    // Billed once, for the attempt that finished.
    let calls = service
        .metering_events(&app)
        .into_iter()
        .filter(|e| e["correlationId"] == id.as_str() && e["unit"] == "call")
        .count();
    assert_eq!(calls, 1);
}

#[test]
fn two_workers_racing_for_a_hundred_executions_run_each_exactly_once() {
    // Setup
    let app = managed_platform();
    let mut workers = vec![Worker::start(&app, "a")];
    let service = ManagedService::deploy_wasm(&app, Value::Null).built(&app);
    workers.push(Worker::start(&app, "b"));
    let consumer = Consumer::subscribe(&app, "consumer", &service.id, &service.plan_id);
    // Exec
    let ids: Vec<(String, i64)> = (0..100)
        .map(|n| {
            (
                consumer.started(&app, json!({"numbers": [n, 1000]})),
                n + 1000,
            )
        })
        .collect();
    // Check: each succeeded with its own sum, and ran once in all.
    for (id, sum) in &ids {
        let done = consumer.finished(&app, id, 120 * SECOND);
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        let result = consumer.get(&app, &format!("/{id}/result")).json();
        assert_eq!(result["sum"], *sum, "{id}");
    }
    let mut runs: Vec<String> = workers
        .iter()
        .flat_map(|w| w.started_jobs())
        .filter(|job| job.starts_with("Execution "))
        .collect();
    runs.sort();
    let mut expected: Vec<String> = ids
        .iter()
        .map(|(id, _)| format!("Execution {id}"))
        .collect();
    expected.sort();
    assert_eq!(runs, expected, "every execution ran exactly once");
    for worker in &workers {
        assert!(!worker.started_jobs().is_empty(), "both workers took part");
    }
    let calls = service
        .metering_events(&app)
        .into_iter()
        .filter(|e| e["unit"] == "call")
        .count();
    assert_eq!(calls, 100);
}

#[test]
fn another_tenants_application_sees_none_of_an_applications_executions() {
    // Setup: two consumers of the same service; a third not subscribed.
    let app = managed_platform();
    let _worker = Worker::start(&app, "w1");
    let service = ManagedService::deploy_wasm(&app, Value::Null).built(&app);
    let owner = Consumer::subscribe(&app, "owner", &service.id, &service.plan_id);
    let other = Consumer::subscribe(&app, "other", &service.id, &service.plan_id);
    let id = owner.started(&app, json!({"numbers": [1], "tag": "t"}));
    owner.finished(&app, &id, 60 * SECOND);
    let theirs = other.started(&app, json!({"numbers": [2]}));
    // Exec + Check: every execution endpoint is 404 for the other tenant.
    for suffix in ["", "/result", "/result/sum.txt", "/log"] {
        other
            .get(&app, &format!("/{id}{suffix}"))
            .expect_problem(404);
    }
    other.cancel(&app, &id).expect_problem(404);
    assert_eq!(owner.status(&app, &id)["status"], "SUCCEEDED");
    let listed: Vec<Value> = other
        .get(&app, "/")
        .expect(200)
        .json()
        .as_array()
        .expect("array")
        .clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], theirs.as_str());
    let mine = owner.get(&app, "/").expect(200).json();
    assert_eq!(mine.as_array().expect("array").len(), 1);
    // An application without a subscription is forbidden; no token, 401.
    let stranger = sign_up(&app, "stranger");
    let application = support::create_application(&app, &stranger);
    let token = support::access_token(&app, &application);
    app.get(&format!("{}/{id}", owner.base))
        .bearer(&token)
        .send()
        .expect_problem(403);
    app.get(&format!("{}/{id}", owner.base))
        .send()
        .expect_problem(401);
    // The provider's other service's gateway path does not reach this one.
    let provider = &service.provider;
    let elsewhere = create_managed_service(&app, provider, "WASM", Value::Null);
    let plan = create_plan(&app, provider, &elsewhere, "0.01");
    lifecycle(&app, provider, &elsewhere, "publish");
    support::subscribe(
        &app,
        &owner.account,
        &owner.application,
        &elsewhere,
        &plan.id,
    );
    app.get(&format!("/gateway/{elsewhere}/{id}"))
        .bearer(&owner.token)
        .send()
        .expect_problem(404);
}

#[test]
fn executions_wait_for_a_successful_build_and_run_on_the_latest_one() {
    // Setup: a service whose first upload fails validation.
    let app = managed_platform();
    let _worker = Worker::start(&app, "w1");
    let provider = sign_up(&app, "provider");
    let id = create_managed_service(&app, &provider, "WASM", Value::Null);
    let plan = create_plan(&app, &provider, &id, "0.01");
    lifecycle(&app, &provider, &id, "publish");
    let consumer = Consumer::subscribe(&app, "consumer", &id, &plan.id);
    upload(&app, &provider, &id, wasm_project(b"not wasm")).expect(202);
    // Exec + Check: nothing to run yet.
    consumer
        .start(&app, json!({"numbers": [1]}))
        .expect_problem(409);
    // A good upload builds, and executions run.
    upload(&app, &provider, &id, wasm_project(&wasm_command())).expect(202);
    let build = finished_build(&app, &provider, &id, 60 * SECOND);
    assert_eq!(build["status"], "SUCCESS", "{build}");
    let execution = consumer.started(&app, json!({"numbers": [4, 5]}));
    assert_eq!(
        consumer.finished(&app, &execution, 60 * SECOND)["status"],
        "SUCCEEDED"
    );
    // A later broken upload leaves executions on the last good build.
    upload(&app, &provider, &id, wasm_project(b"\0asm\x01\0\0\0")).expect(202);
    let execution = consumer.started(&app, json!({"numbers": [6]}));
    assert_eq!(
        consumer.finished(&app, &execution, 60 * SECOND)["status"],
        "SUCCEEDED"
    );
    assert_eq!(
        consumer.get(&app, &format!("/{execution}/result")).json()["sum"],
        6
    );
}

#[test]
fn an_execution_input_over_one_megabyte_is_refused() {
    let app = managed_platform();
    let _worker = Worker::start(&app, "w1");
    let service = ManagedService::deploy_wasm(&app, Value::Null).built(&app);
    let consumer = Consumer::subscribe(&app, "consumer", &service.id, &service.plan_id);
    let big = "x".repeat(1_000_001);
    consumer
        .start(&app, json!({"blob": big}))
        .expect_problem(413);
    app.post(&format!("{}/", consumer.base))
        .bearer(&consumer.token)
        .header("content-type", "application/json")
        .body(b"{not json".to_vec())
        .send()
        .expect_problem(400);
}
