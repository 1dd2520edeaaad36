//! `qmarket run`: an execution of a managed service, on the platform or on
//! this machine.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use qmarket_project::{run_locally, LocalRun, LocalRunEvents, LogLine, Outcome, Project};
use serde_json::{json, Value};

use crate::commands::executions::{follow_to_result, print_execution};
use crate::context::Context;
use crate::exit::{usage, Failure};
use crate::output;

/// Where local runs keep environments, over the user's cache directory.
const CACHE_DIR_ENV: &str = "QMARKET_CACHE_DIR";

/// Run a managed service once, on the platform or (--local) here.
///
/// On the platform: start an execution, follow its log, print its result), or with
/// --local on this machine, with the runtime a worker uses. Without
/// --data/--params, the project's input/data.json and input/params.json
/// are used.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  qmarket run --project sampler --data '{\"theta\": 0.5}' --params '{\"shots\": 10}'\n  \
                        qmarket run --local --project sampler"
)]
pub struct RunCommand {
    /// The project's folder.
    #[arg(long, default_value = ".", value_name = "DIR")]
    project: PathBuf,
    /// The service to run [default: the project's].
    #[arg(long, conflicts_with = "local")]
    service: Option<String>,
    /// The application to run it with (`app_…`) [default: the one the
    /// profile keeps that is subscribed to the service].
    #[arg(long, conflicts_with = "local")]
    application: Option<String>,
    /// The `data` of the request, as JSON.
    #[arg(long, value_name = "JSON", conflicts_with = "data_file")]
    data: Option<String>,
    /// The `data` of the request, from a JSON file.
    #[arg(long, value_name = "FILE")]
    data_file: Option<PathBuf>,
    /// The `params` of the request, as JSON.
    #[arg(long, value_name = "JSON", conflicts_with = "params_file")]
    params: Option<String>,
    /// The `params` of the request, from a JSON file.
    #[arg(long, value_name = "FILE")]
    params_file: Option<PathBuf>,
    /// Only start the execution and print it; do not follow it.
    #[arg(long, conflicts_with = "local")]
    detach: bool,
    /// Run on this machine instead: the project is packed, checked, built
    /// and run as a worker would (nothing is sent to the platform).
    #[arg(long)]
    local: bool,
    /// Where a local run's result files go [default: DIR/.qmarket/output].
    #[arg(long, value_name = "DIR", requires = "local")]
    output_dir: Option<PathBuf>,
}

/// One key of the request: given as JSON text, in a file, or the project's
/// example input, or `{}`.
fn input(
    text: &Option<String>,
    file: &Option<PathBuf>,
    example: Option<PathBuf>,
    flag: &str,
) -> anyhow::Result<Value> {
    let (text, origin) = match (text, file.clone().or(example)) {
        (Some(text), _) => (text.clone(), format!("--{flag}")),
        (None, Some(path)) => (
            std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?,
            path.display().to_string(),
        ),
        (None, None) => return Ok(json!({})),
    };
    serde_json::from_str(&text).map_err(|e| usage(format!("{origin} is not JSON: {e}")))
}

fn severity_name(line: &LogLine) -> String {
    format!("{:?}", line.severity).to_ascii_uppercase()
}

/// Prints a local run's log lines on stderr as they come.
struct LocalPrinter;

impl LocalRunEvents for LocalPrinter {
    fn build_log(&mut self, line: &LogLine) {
        eprintln!(
            "{}",
            output::log_line(&severity_name(line), &format!("build: {}", line.message))
        );
    }

    fn run_log(&mut self, line: &LogLine) {
        eprintln!("{}", output::log_line(&severity_name(line), &line.message));
    }

    fn interim(&mut self, result: &Value) {
        eprintln!("{}", output::log_line("INTERIM", &result.to_string()));
    }
}

impl RunCommand {
    /// Runs the service once.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let project = match Project::load(&self.project) {
            Ok(project) => Some(project),
            Err(_) if self.service.is_some() => None,
            Err(e) => return Err(e.into()),
        };
        let example = |name: &str| project.as_ref().and_then(|p| p.example_input(name));
        let request = json!({
            "data": input(&self.data, &self.data_file, example("data"), "data")?,
            "params": input(&self.params, &self.params_file, example("params"), "params")?,
        });
        match project {
            Some(project) if self.local => self.run_here(context, &project, &request),
            project => {
                let service = self
                    .service
                    .clone()
                    .or_else(|| project.and_then(|p| p.file.service_id))
                    .ok_or_else(|| {
                        usage("no service to run: deploy the project first (`qmarket deploy`), or pass --service")
                    })?;
                self.run_on_platform(context, &service, &request)
            }
        }
    }

    fn run_on_platform(
        &self,
        context: &Context,
        service: &str,
        request: &Value,
    ) -> anyhow::Result<()> {
        let client = context.client()?;
        let credentials =
            context.credentials_for_service(&client, service, self.application.as_deref())?;
        let token = client.issue_token(&credentials)?;
        let gateway = client.gateway(token.access_token);
        let started = gateway.start_execution(service, request)?;
        if self.detach {
            return print_execution(context, &started);
        }
        eprintln!(
            "Started {} of {service} (Ctrl-C stops following it, not the execution).",
            started.id
        );
        follow_to_result(context, &gateway, service, &started.id)
    }

    fn run_here(
        &self,
        context: &Context,
        project: &Project,
        request: &Value,
    ) -> anyhow::Result<()> {
        let cache_dir = std::env::var_os(CACHE_DIR_ENV)
            .map(PathBuf::from)
            .or_else(qmarket_project::default_cache_dir)
            .ok_or_else(|| {
                usage(format!(
                    "this system has no cache directory: set {CACHE_DIR_ENV}"
                ))
            })?;
        let output_dir = self
            .output_dir
            .clone()
            .unwrap_or_else(|| project.dir.join(".qmarket").join("output"));
        eprintln!(
            "Running {} here ({}), as a worker would.",
            project.file.name,
            crate::commands::deploy::runtime_name(project.file.runtime)
        );
        let outcome = run_locally(
            &LocalRun {
                project,
                input: request,
                cache_dir: &cache_dir,
                output_dir: &output_dir,
            },
            &mut LocalPrinter,
        )?;
        let files: Vec<&Path> = outcome.files.iter().map(PathBuf::as_path).collect();
        let (status, shown) = match &outcome.outcome {
            Outcome::Succeeded { result } => ("SUCCEEDED", result.clone()),
            Outcome::Failed { code, detail } => ("FAILED", json!({"code": code, "detail": detail})),
            Outcome::Cancelled => ("CANCELLED", json!({})),
        };
        if context.json {
            output::json(&json!({"status": status, "result": shown, "files": files}))?;
        } else {
            output::json(&shown)?;
            for file in &files {
                eprintln!("result file: {}", file.display());
            }
        }
        if status != "SUCCEEDED" {
            return Err(Failure::Unsuccessful(format!("the local run ended {status}")).into());
        }
        Ok(())
    }
}
