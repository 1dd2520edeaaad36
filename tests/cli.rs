//! The `qmarket` command line against a platform started by each test:
//! PlanQK's external-service tutorial done with the command line only, a
//! managed project from `init` to `deploy` to `run` (on a worker and on this
//! machine), profiles and their file, exit codes, `--json`, completions,
//! and the README's walkthrough, run as it is written.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use support::cli::{text, Cli};
use support::managed::{managed_platform, Worker};
use support::{platform, sign_up, start_service, Api, Call};

/// What the tutorial's service needs to meter: an access token and the id
/// of its API product, given to it once they exist (the tutorial's
/// environment variables).
type MeteringSetup = Arc<Mutex<Option<(String, String)>>>;

/// The tutorial's service: for each of `calls` requests it reports one
/// call of its product to the PlanQK metering path with the request's
/// `x-correlation-id`, then answers `{"metered": <status>}`.
fn start_metered_service(
    metering_url: String,
    calls: usize,
) -> (String, MeteringSetup, std::sync::mpsc::Receiver<String>) {
    let setup: MeteringSetup = Arc::new(Mutex::new(None));
    let known = setup.clone();
    let (url, seen) = start_service(calls, move |correlation| {
        let configured = known.lock().expect("the setup").clone();
        let Some((token, product)) = configured else {
            return json!({"metered": "not configured"}).to_string();
        };
        let reply = Call::new("POST", metering_url.clone())
            .header("X-Auth-Token", &token)
            .json(&json!({"correlationId": correlation, "productId": product, "count": 1}))
            .send();
        json!({"metered": reply.status}).to_string()
    });
    (url, setup, seen)
}

#[test]
fn the_seed_tutorial_done_with_the_cli_meters_each_call_and_bills_it() {
    // Setup: a platform, a provider's account (its token from sign-up, as
    // the console would give it), and the tutorial's service.
    let app = platform();
    let provider = sign_up(&app, "provider");
    let (upstream, setup, seen) =
        start_metered_service(app.url("/qc-catalog/external-services/metering"), 2);
    let cli = Cli::new();
    let spec = cli.cwd().join("api-spec.yaml");
    std::fs::write(
        &spec,
        "openapi: 3.0.3\ninfo: {title: Quantum walk, version: '1'}\npaths:\n  /run:\n    post:\n      responses:\n        '200': {description: the walk}\n",
    )
    .unwrap();

    // Exec: the tutorial, step by step, with the command line only.
    let login = cli.login(app.base_url(), &provider.token);
    login.assert_stdout_contains("Logged in");
    let service = cli.json(&[
        "services",
        "create",
        "external",
        "--name",
        "Quantum walk",
        "--url",
        &upstream,
        "--backend",
        "SIMULATOR",
        "--api-spec",
        "api-spec.yaml",
    ]);
    let service_id = text(&service, "/id");
    assert_eq!(service["lifecycle"], "CREATED");
    let spec_stored = cli.json(&["services", "api-spec", "get", &service_id]);
    assert_eq!(
        spec_stored["info"]["title"], "Quantum walk",
        "{spec_stored}"
    );
    let plan = cli.json(&[
        "plans",
        "create",
        "--service",
        &service_id,
        "--name",
        "Pay per use",
        "--product",
        "API=0.00001/call",
    ]);
    let product_id = text(&plan, "/products/0/id");
    assert_eq!(plan["products"][0]["unitPrice"], "0.00001");
    let metering_token = cli.json(&["access-tokens", "create", "--name", "metering"]);
    *setup.lock().unwrap() = Some((text(&metering_token, "/value"), product_id.clone()));
    let published = cli.json(&["services", "publish-internal", &service_id]);
    assert_eq!(published["lifecycle"], "ACCESSIBLE");
    let application = cli.json(&["applications", "create", "--name", "Lab notebook"]);
    let application_id = text(&application, "/id");
    // One plan: subscribe needs no --plan.
    let subscription = cli.json(&[
        "subscribe",
        "--application",
        &application_id,
        "--service",
        &service_id,
    ]);
    let subscription_id = text(&subscription, "/id");
    assert_eq!(subscription["testMode"], true);
    assert_eq!(subscription["pricingPlanId"], plan["id"]);
    let token = cli.json(&["token"]);
    assert_eq!(token["token_type"], "Bearer");
    assert!(!text(&token, "/access_token").is_empty());
    let mut printed = Vec::new();
    for _ in 0..2 {
        let call = cli.json(&["call", &service_id, "/run", "-d", r#"{"data": {}}"#]);
        assert_eq!(call["status"], 200, "{call}");
        assert_eq!(
            call["body"],
            json!({"metered": 200}),
            "the service metered: {call}"
        );
        printed.push(text(&call, "/correlationId"));
    }

    // Check: the ids the service received are the ones the command line
    // printed; the events carry them; the bill adds them up exactly.
    let received: Vec<String> = seen.try_iter().collect();
    assert_eq!(received, printed);
    let events = cli.json(&[
        "metering",
        "events",
        "--service",
        &service_id,
        "--test-mode",
    ]);
    let correlations: Vec<&str> = events
        .as_array()
        .expect("a JSON array of events")
        .iter()
        .filter_map(|e| e["correlationId"].as_str())
        .collect();
    assert_eq!(correlations, vec![printed[1].as_str(), printed[0].as_str()]);
    assert_eq!(events[0]["productId"], product_id.as_str());
    assert_eq!(events[0]["amount"], "0.00001");
    let live = cli.json(&["metering", "events", "--service", &service_id, "--live"]);
    assert_eq!(live, json!([]));
    let table = cli
        .run(&["metering", "events", "--service", &service_id])
        .expect(0);
    table.assert_stdout_contains(&printed[0]);
    table.assert_stdout_contains("test");
    let usage = cli.json(&["usage", &subscription_id]);
    assert_eq!(usage["testMode"], true);
    assert_eq!(usage["lines"][0]["quantity"], "2");
    assert_eq!(usage["total"], "0.00002");
    let bill = cli.json(&["bill"]);
    assert_eq!(bill["total"], "0.00002", "{bill}");
    assert_eq!(
        bill["subscriptions"][0]["usage"]["subscriptionId"],
        subscription_id.as_str()
    );
    let readable = cli.run(&["usage", &subscription_id]).expect(0);
    readable.assert_stdout_contains("Total: 0.00002 EUR");

    // The calls behind the bill (recorded just after each answer), the
    // month's invoice, and a spend cap that stops the next call.
    let calls = (0..50)
        .find_map(|attempt| {
            if attempt > 0 {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let calls = cli.json(&["calls", &subscription_id]);
            (calls.as_array().map_or(0, Vec::len) == 2).then_some(calls)
        })
        .expect("both calls are listed within 5 s");
    assert_eq!(calls[0]["correlationId"], printed[1].as_str());
    assert_eq!(calls[1]["amount"], "0.00001", "{calls}");
    cli.run(&["calls", &subscription_id])
        .expect(0)
        .assert_stdout_contains("1 call API");
    let invoices = cli.json(&["invoices", &subscription_id]);
    assert_eq!(invoices[0]["status"], "OPEN", "{invoices}");
    assert_eq!(invoices[0]["total"], "0.00002");
    let month = text(&invoices, "/0/month");
    cli.run(&["invoices", &subscription_id, "--month", &month])
        .expect(0)
        .assert_stdout_contains("Total: 0.00002 EUR");
    // The month's events as CSV, one row per call, as the platform wrote
    // them; and the provider's revenue, this test-mode subscription apart.
    let csv = cli
        .run(&[
            "invoices",
            &subscription_id,
            "--month",
            &month,
            "--events-csv",
        ])
        .expect(0)
        .stdout;
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "id",
            "timestamp",
            "productId",
            "productName",
            "unit",
            "count",
            "amount",
            "correlationId"
        ]
    );
    let csv_calls: Vec<(&str, &str)> = rows[1..].iter().map(|r| (r[7], r[6])).collect();
    assert_eq!(
        csv_calls,
        [
            (printed[0].as_str(), "0.00001"),
            (printed[1].as_str(), "0.00001")
        ]
    );
    cli.run(&["invoices", &subscription_id, "--events-csv"])
        .expect(2)
        .assert_stderr_contains("--month");
    let revenue = cli.json(&["revenue", "--service", &service_id, "--month", &month]);
    assert_eq!(revenue["testModeTotal"], "0.00002", "{revenue}");
    assert_eq!(revenue["total"], "0");
    assert_eq!(
        revenue["subscriptions"][0]["subscriptionId"],
        subscription_id.as_str()
    );
    assert_eq!(revenue["subscriptions"][0]["pricingPlanName"], plan["name"]);
    let readable = cli.run(&["revenue", "--service", &service_id]).expect(0);
    readable.assert_stdout_contains(&subscription_id);
    readable.assert_stdout_contains("Test mode (not billed): 0.00002 EUR");
    let cap = cli.json(&["spend-cap", &subscription_id, "--set", "0.00002"]);
    assert_eq!(cap["reached"], true, "{cap}");
    cli.run(&["call", &service_id, "/run", "-d", "{}"])
        .expect(3)
        .assert_stdout_contains("402");
    cli.run(&["spend-cap", &subscription_id, "--remove"])
        .expect(0)
        .assert_stdout_contains("monthly cap:   none");
}

#[test]
fn a_consumer_finds_a_published_service_and_leaves_it_again() {
    // Setup: a provider publishes a service with a plan.
    let app = platform();
    let provider_cli = Cli::new();
    provider_cli.login(app.base_url(), &sign_up(&app, "provider").token);
    let (upstream, _seen) = start_service(0, |_| String::new());
    let service = provider_cli.json(&[
        "services",
        "create",
        "external",
        "--name",
        "Grover search",
        "--url",
        &upstream,
        "--description",
        "Finds the marked item",
        "--backend",
        "IBM",
    ]);
    let service_id = text(&service, "/id");
    provider_cli.json(&[
        "plans",
        "create",
        "--service",
        &service_id,
        "--name",
        "Per call",
        "--type",
        "COMMERCIAL",
        "--product",
        "API=0.5/call",
    ]);
    assert_eq!(
        provider_cli.json(&["services", "publish", &service_id])["lifecycle"],
        "PUBLISHED"
    );

    // Exec: a consumer searches, looks, subscribes, and unsubscribes.
    let consumer = Cli::new();
    consumer.login(app.base_url(), &sign_up(&app, "consumer").token);
    let found = consumer.json(&["marketplace", "search", "marked", "--backend", "IBM"]);
    let missing = consumer.json(&["marketplace", "search", "no such words"]);
    let shown = consumer.json(&["marketplace", "show", &service_id]);
    let application = consumer.json(&["applications", "create", "--name", "Notebook"]);
    let application_id = text(&application, "/id");
    let subscription = consumer.json(&[
        "subscribe",
        "--application",
        &application_id,
        "--service",
        &service_id,
    ]);
    let listed = consumer.json(&["applications", "show", &application_id]);
    // The service is down: the gateway's 502 is printed, and exits 3.
    let down = consumer.run(&["call", &service_id, "/search"]).expect(3);
    let unsubscribed = consumer
        .run(&["unsubscribe", &text(&subscription, "/id")])
        .expect(0);
    let after = consumer.json(&["applications", "show", &application_id]);
    consumer
        .run(&["applications", "delete", &application_id])
        .expect(0);
    let left = consumer.json(&["applications", "list"]);

    // Check
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["id"], service_id.as_str());
    assert_eq!(missing, json!([]));
    assert_eq!(shown["pricingPlans"][0]["products"][0]["unitPrice"], "0.5");
    assert!(
        shown.get("url").is_none(),
        "the marketplace shows no URL: {shown}"
    );
    assert_eq!(subscription["testMode"], false);
    assert_eq!(listed["subscriptions"][0]["serviceId"], service_id.as_str());
    down.assert_stdout_contains("status: 502");
    down.assert_stdout_contains("correlation id: ");
    unsubscribed.assert_stdout_contains("Ended");
    assert_eq!(after["subscriptions"], json!([]));
    assert_eq!(left, json!([]));
}

#[test]
fn a_provider_changes_a_plan_until_it_has_subscriptions_and_then_only_its_name() {
    // Setup: a service with a graduated plan made from a file.
    let app = platform();
    let cli = Cli::new();
    cli.login(app.base_url(), &sign_up(&app, "provider").token);
    let (upstream, _seen) = start_service(0, |_| String::new());
    let service = cli.json(&[
        "services", "create", "external", "--name", "Tiers", "--url", &upstream,
    ]);
    let service_id = text(&service, "/id");
    let file = |name: &str, body: Value| {
        std::fs::write(cli.cwd().join(name), body.to_string()).unwrap();
        name.to_string()
    };
    let plan_file = file(
        "plan.json",
        json!({"name": "Growing", "type": "COMMERCIAL", "products": [{
            "name": "API", "unit": "call", "pricingModel": "GRADUATED", "freeAllowance": "10",
            "tiers": [{"upTo": "1000", "unitPrice": "0"}, {"upTo": null, "unitPrice": "0.0001"}]
        }]}),
    );
    let plan = cli.json(&[
        "plans",
        "create",
        "--service",
        &service_id,
        "--file",
        &plan_file,
    ]);
    let plan_id = text(&plan, "/id");
    let shown = cli
        .run(&["plans", "show", "--service", &service_id, &plan_id])
        .expect(0);
    shown.assert_stdout_contains(
        "graduated: 0 up to 1000, 0.0001 beyond (EUR/call), first 10 call a month free",
    );
    shown.assert_stdout_contains("Limits: none");

    // Exec + Check: a new name, then limits from a file.
    let update = |change: &[&str]| {
        let mut args = vec!["plans", "update", "--service", &service_id, &plan_id];
        args.extend_from_slice(change);
        cli.run(&args)
    };
    let renamed = update(&["--name", "Pay as you grow", "--json"])
        .expect(0)
        .json();
    assert_eq!(renamed["name"], "Pay as you grow");
    assert_eq!(renamed["products"], plan["products"]);
    let limits_file = file(
        "limits.json",
        json!({"limits": {"quota": {"requests": 5, "per": "DAY"}}}),
    );
    update(&["--file", &limits_file])
        .expect(0)
        .assert_stdout_contains("Limits: 5 calls per day");
    let stored = cli.json(&["plans", "show", "--service", &service_id, &plan_id]);
    assert_eq!(
        stored["limits"],
        json!({"quota": {"requests": 5, "per": "DAY"}})
    );
    assert_eq!(stored["name"], "Pay as you grow");

    // Once subscribed, new prices are refused with the platform's reason
    // and nothing changes; a new name is still taken.
    cli.json(&["services", "publish-internal", &service_id]);
    let application = cli.json(&["applications", "create", "--name", "Own test"]);
    cli.json(&[
        "subscribe",
        "--application",
        &text(&application, "/id"),
        "--service",
        &service_id,
    ]);
    let repriced_file = file(
        "repriced.json",
        json!({"products": [{"name": "API", "unit": "call", "unitPrice": "0.001"}]}),
    );
    update(&["--file", &repriced_file])
        .expect(3)
        .assert_stderr_contains(
            "has subscriptions, so its type, products and limits can no longer change",
        );
    let unchanged = cli.json(&["plans", "show", "--service", &service_id, &plan_id]);
    assert_eq!(unchanged["products"], plan["products"]);
    let final_name = update(&["--name", "Grandfathered", "--json"])
        .expect(0)
        .json();
    assert_eq!(final_name["name"], "Grandfathered");
    assert_eq!(final_name["products"], plan["products"]);
    update(&[]).expect(2);
}

#[test]
fn a_managed_project_goes_from_init_to_deploy_to_run_on_a_worker() {
    // Setup: a platform with a worker, a provider logged in.
    let app = managed_platform();
    let _worker = Worker::start(&app, "w1");
    let cli = Cli::new();
    cli.login(app.base_url(), &sign_up(&app, "provider").token);

    // Exec: init, deploy (creates the service, follows the build), plan,
    // internal publication, an application, run.
    let init = cli.run(&["init", "sampler"]).expect(0);
    let project = cli.cwd().join("sampler");
    let deploy = cli
        .run(&["deploy", "--project", "sampler", "--json"])
        .expect(0);
    let deployed = deploy.json();
    let project_file: Value =
        serde_json::from_str(&std::fs::read_to_string(project.join("qmarket.json")).unwrap())
            .unwrap();
    let service_id = text(&deployed, "/serviceId");
    cli.json(&[
        "plans",
        "create",
        "--service",
        &service_id,
        "--name",
        "Per run",
        "--product",
        "Run=0.01/call",
    ]);
    cli.json(&["services", "publish-internal", &service_id]);
    let application_id = text(
        &cli.json(&["applications", "create", "--name", "Lab"]),
        "/id",
    );
    cli.json(&[
        "subscribe",
        "--application",
        &application_id,
        "--service",
        &service_id,
    ]);
    let run = cli
        .run(&["run", "--project", "sampler", "--json"])
        .expect(0);
    let ran = run.json();
    let custom = cli.json(&[
        "run",
        "--service",
        &service_id,
        "--data",
        r#"{"theta": 3.141592653589793}"#,
        "--params",
        r#"{"shots": 20, "seed": 1}"#,
    ]);
    let detached = cli.json(&["run", "--project", "sampler", "--detach"]);
    let detached_id = text(&detached, "/id");
    let followed = cli.json(&[
        "executions",
        "follow",
        "--service",
        &service_id,
        &detached_id,
    ]);
    let listed = cli.json(&["executions", "list", "--service", &service_id]);
    let cancelled_after_the_end = cli.json(&[
        "executions",
        "cancel",
        "--service",
        &service_id,
        &detached_id,
    ]);
    let failed = cli
        .run(&[
            "run",
            "--project",
            "sampler",
            "--data",
            r#"{"theta": "up"}"#,
        ])
        .expect(5);

    // Check: the template, the build followed to its end with its log, the
    // service's id kept in the project, the results.
    init.assert_stdout_contains("src/program.py");
    assert_eq!(deployed["build"]["status"], "SUCCESS", "{deployed}");
    assert_eq!(deployed["build"]["validationResult"]["state"], "SUCCESS");
    deploy.assert_stderr_contains("build succeeded");
    assert_eq!(project_file["serviceId"], service_id.as_str());
    assert_eq!(ran["execution"]["status"], "SUCCEEDED", "{ran}");
    assert_eq!(ran["result"]["result"]["probabilityOne"], 0.25, "{ran}");
    let counts = &ran["result"]["result"]["counts"];
    assert_eq!(
        counts["0"].as_u64().unwrap() + counts["1"].as_u64().unwrap(),
        1000,
        "the example's 1000 shots: {counts}"
    );
    assert!(ran["result"]["_links"]["counts.json"].is_object(), "{ran}");
    // The program's log, followed as it came.
    run.assert_stderr_contains("sampled 1000 shots");
    assert_eq!(
        custom["result"]["result"]["counts"],
        json!({"0": 0, "1": 20})
    );
    assert_eq!(detached["status"], "PENDING", "{detached}");
    assert!(detached_id.starts_with("exe_"));
    assert_eq!(followed["execution"]["status"], "SUCCEEDED", "{followed}");
    assert_eq!(followed["result"]["metadata"]["shots"], 1000);
    let listed_ids: Vec<&str> = listed
        .as_array()
        .expect("a JSON array of executions")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert!(listed_ids.contains(&detached_id.as_str()), "{listed}");
    assert_eq!(cancelled_after_the_end["status"], "SUCCEEDED");
    failed.assert_stdout_contains("data.theta must be a number");
    failed.assert_stderr_contains("FAILED");
}

#[test]
fn a_project_runs_once_on_this_machine_with_the_workers_runtime() {
    // Setup
    let cli = Cli::new();
    cli.run(&["init", "sampler"]).expect(0);

    // Exec
    let local = cli
        .run(&["run", "--local", "--project", "sampler", "--json"])
        .expect(0);

    // Check: the result, the result file, the build's and the program's log.
    let ran = local.json();
    assert_eq!(ran["status"], "SUCCEEDED", "{ran}");
    assert_eq!(ran["result"]["result"]["probabilityOne"], 0.25);
    assert_eq!(ran["result"]["metadata"]["shots"], 1000);
    let file = text(&ran, "/files/0");
    assert!(file.ends_with("counts.json"), "{ran}");
    let counts: Value = serde_json::from_str(
        &std::fs::read_to_string(cli.cwd().join(&file)).expect("the result file"),
    )
    .unwrap();
    assert_eq!(counts, ran["result"]["result"]["counts"]);
    local.assert_stderr_contains("build: checking the program's modules");
    local.assert_stderr_contains("sampled 1000 shots");
}

#[test]
fn a_deploy_whose_archive_breaks_the_rules_shows_the_validation_messages_and_exits_5() {
    // Setup: a project without its program (no worker is needed: the
    // platform refuses such an upload at once).
    let app = managed_platform();
    let cli = Cli::new();
    cli.login(app.base_url(), &sign_up(&app, "provider").token);
    cli.run(&["init", "broken"]).expect(0);
    std::fs::remove_file(cli.cwd().join("broken/src/program.py")).unwrap();

    // Exec
    let deploy = cli.run(&["deploy", "--project", "broken"]).expect(5);

    // Check
    deploy.assert_stdout_contains("FAILURE");
    deploy.assert_stdout_contains("ERROR");
    deploy.assert_stdout_contains("src/program.py");
}

#[test]
fn each_exit_code_names_a_kind_of_failure() {
    // Setup
    let app = platform();
    let provider = sign_up(&app, "provider");
    let cli = Cli::new();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let absent = "svc_0000000000000000000000000a";
    let problem = app
        .get(&format!("/api/services/{absent}"))
        .bearer(&provider.token)
        .send()
        .expect(404)
        .json();

    // Exec and check: 2 a wrong command line or nothing configured.
    let unknown_flag = cli.run(&["services", "list", "--no-such-flag"]).expect(2);
    unknown_flag.assert_stderr_contains("--no-such-flag");
    let not_logged_in = cli.run(&["services", "list"]).expect(2);
    not_logged_in.assert_stderr_contains("qmarket login");
    cli.run(&[
        "plans",
        "create",
        "--service",
        absent,
        "--name",
        "x",
        "--product",
        "API",
    ])
    .expect(2);
    // 4: nothing answers.
    let unreachable = cli
        .run(&["login", "--url", &closed, "--token", "whatever"])
        .expect(4);
    unreachable.assert_stderr_contains("cannot reach");
    // 3: the platform refuses, and its problem's detail is printed.
    let refused_login = cli.run(&["login", "--url", app.base_url(), "--token", "not-a-token"]);
    assert_eq!(refused_login.code, 3, "{}", refused_login.stderr);
    cli.login(app.base_url(), &provider.token);
    let refused = cli.run(&["services", "show", absent]).expect(3);
    // 1: anything else, such as a file that is not there.
    let missing = cli
        .run(&[
            "plans",
            "create",
            "--service",
            absent,
            "--file",
            "no-plan.json",
        ])
        .expect(1);
    missing.assert_stderr_contains("no-plan.json");
    let detail = problem["detail"].as_str().expect("a detail");
    refused.assert_stderr_contains(detail);
    // 0
    cli.run(&["services", "list"]).expect(0);
    // --help of every level is no failure.
    cli.run(&["services", "create", "external", "--help"])
        .expect(0);
}

#[test]
fn a_profile_file_is_readable_only_by_its_owner_and_never_shows_the_token() {
    // Setup
    let app = platform();
    let provider = sign_up(&app, "provider");
    let cli = Cli::new();

    // Exec: log in with the token on standard input, then keep an
    // application's credentials in the same file.
    let login = cli
        .run_with_stdin(
            &["login", "--url", app.base_url()],
            Some(&format!("{}\n", provider.token)),
        )
        .expect(0);
    cli.json(&["applications", "create", "--name", "Notebook"]);
    let whoami = cli.run(&["whoami"]).expect(0);

    // Check
    let file = cli.config_dir().join("profiles.toml");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", file.display());
    let dir_mode = std::fs::metadata(cli.config_dir())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    for ran in [&login, &whoami] {
        assert!(!ran.stdout.contains(&provider.token) && !ran.stderr.contains(&provider.token));
    }
    whoami.assert_stdout_contains(&provider.id);
}

#[test]
fn environment_variables_and_profiles_choose_the_platform_and_the_token() {
    // Setup: two accounts, one profile each.
    let app = platform();
    let ada = sign_up(&app, "ada");
    let grace = sign_up(&app, "grace");
    let cli = Cli::new();
    cli.login(app.base_url(), &ada.token);
    cli.run(&[
        "login",
        "--url",
        app.base_url(),
        "--token",
        &grace.token,
        "--profile",
        "grace",
    ])
    .expect(0);
    let me = |cli: &Cli, args: &[&str]| {
        let mut all = vec!["whoami"];
        all.extend_from_slice(args);
        text(&cli.json(&all), "/id")
    };

    // Exec and check
    assert_eq!(me(&cli, &[]), ada.id);
    assert_eq!(me(&cli, &["--profile", "grace"]), grace.id);
    let by_variable = Cli::new()
        .with_env("QMARKET_URL", app.base_url())
        .with_env("QMARKET_TOKEN", &grace.token);
    assert_eq!(me(&by_variable, &[]), grace.id);
    // The account `whoami` shows when `name` is `value` in the environment
    // of `cli`'s runs.
    let me_with = |name: &str, value: &str| {
        let output = cli
            .command(Cli::program())
            .args(["whoami", "--json"])
            .env(name, value)
            .output()
            .expect("qmarket runs");
        let shown: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        text(&shown, "/id")
    };
    assert_eq!(me_with("QMARKET_PROFILE", "grace"), grace.id);
    assert_eq!(me_with("QMARKET_TOKEN", &grace.token), grace.id);
    let unknown_profile = cli.run(&["whoami", "--profile", "nobody"]).expect(2);
    unknown_profile.assert_stderr_contains("`nobody`");
    let logged_out = cli.run(&["logout", "--profile", "grace"]).expect(0);
    logged_out.assert_stdout_contains("removed");
    cli.run(&["whoami", "--profile", "grace"]).expect(2);
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    let cli = Cli::new();
    for shell in ["bash", "zsh", "fish"] {
        let script = cli.run(&["completions", shell]).expect(0);
        for command in ["deploy", "marketplace", "publish-internal"] {
            assert!(script.stdout.contains(command), "{shell} lacks {command}");
        }
    }
}

/// The README's walkthrough: the fenced block between its markers.
fn readme_walkthrough() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- cli-walkthrough:start -->")
        .expect("the walkthrough's start marker");
    let end = readme
        .find("<!-- cli-walkthrough:end -->")
        .expect("the walkthrough's end marker");
    let block = &readme[start..end];
    let open = block.find("```sh\n").expect("a ```sh block") + "```sh\n".len();
    let close = block[open..].find("```").expect("the block's end") + open;
    block[open..close].to_string()
}

#[test]
fn the_readme_walkthrough_runs_verbatim() {
    // Setup: a platform, an account, a service to call.
    let app = platform();
    let account = sign_up(&app, "reader");
    let (service_url, _seen) = start_service(1, |_| json!({"walked": true}).to_string());
    let cli = Cli::new();
    let bin_dir = std::path::Path::new(Cli::program())
        .parent()
        .expect("the binary's folder");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    // Exec: the block as it is, with bash, stopping at the first failure.
    let output = cli
        .command("bash")
        .args(["-euo", "pipefail", "-c", &readme_walkthrough()])
        .env("PATH", path)
        .env("PLATFORM", app.base_url())
        .env("PAT", &account.token)
        .env("SERVICE_URL", &service_url)
        .output()
        .expect("bash runs");

    // Check
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the walkthrough failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("Logged in"), "{stdout}");
    assert!(stdout.contains("Total: 0.00001 EUR"), "{stdout}");
    assert!(!stdout.contains(&account.token) && !stderr.contains(&account.token));
}
