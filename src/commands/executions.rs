//! `qmarket executions`: executions of a managed service, after `run`
//! (also `run --detach`).

use clap::{Args, Subcommand};
use qmarket_client::{Execution, Gateway};
use serde_json::{json, Value};

use crate::context::Context;
use crate::exit::Failure;
use crate::follow;
use crate::output::{self, Rows};

/// Executions.
#[derive(Debug, Subcommand)]
pub enum ExecutionsCommand {
    /// List your application's executions of a service, newest first.
    #[command(after_help = "Example:\n  qmarket executions list --service svc_…")]
    List(Target),
    /// Show an execution's status.
    #[command(after_help = "Example:\n  qmarket executions show --service svc_… exe_…")]
    Show(One),
    /// Follow an execution until it ends (its log as it comes), then print
    /// its result.
    #[command(after_help = "Example:\n  qmarket executions follow --service svc_… exe_…")]
    Follow(One),
    /// Cancel an execution (a finished one stays as it is).
    #[command(after_help = "Example:\n  qmarket executions cancel --service svc_… exe_…")]
    Cancel(One),
}

/// Whose executions.
#[derive(Debug, Args)]
pub struct Target {
    /// The managed service (`svc_…`).
    #[arg(long)]
    service: String,
    /// The application (`app_…`) [default: the one the profile keeps that
    /// is subscribed to the service].
    #[arg(long)]
    application: Option<String>,
}

/// One execution.
#[derive(Debug, Args)]
pub struct One {
    #[command(flatten)]
    target: Target,
    /// The execution (`exe_…`).
    id: String,
}

impl Target {
    fn gateway(&self, context: &Context) -> anyhow::Result<Gateway> {
        let client = context.client()?;
        let credentials =
            context.credentials_for_service(&client, &self.service, self.application.as_deref())?;
        let token = client.issue_token(&credentials)?;
        Ok(client.gateway(token.access_token))
    }
}

/// Prints `execution` (one record).
pub fn print_execution(context: &Context, execution: &Execution) -> anyhow::Result<()> {
    if context.json {
        return output::json(execution);
    }
    output::fields(&[
        ("execution", execution.id.clone()),
        ("status", execution.status.clone()),
        ("service", execution.service_id.clone()),
        ("created", output::or_dash(execution.created_at.as_deref())),
        ("started", output::or_dash(execution.started_at.as_deref())),
        ("ended", output::or_dash(execution.ended_at.as_deref())),
    ]);
    Ok(())
}

/// The result as people read it: without the links and the embedded status.
fn readable(result: &Value) -> Value {
    let mut shown = result.clone();
    if let Some(object) = shown.as_object_mut() {
        object.remove("_links");
        object.remove("_embedded");
    }
    shown
}

/// Follows execution `id` of `service` to its end, then prints its result
/// (and its result files' names); fails unless it succeeded.
pub fn follow_to_result(
    context: &Context,
    gateway: &Gateway,
    service: &str,
    id: &str,
) -> anyhow::Result<()> {
    let ended = follow::execution(gateway, service, id)?;
    let result = gateway.execution_result(service, &ended.id)?;
    if context.json {
        output::json(&json!({"execution": ended, "result": result}))?;
    } else {
        output::json(&readable(&result))?;
        let files = result["_links"]
            .as_object()
            .into_iter()
            .flat_map(|links| links.keys())
            .filter(|name| *name != "self" && *name != "status");
        for file in files {
            eprintln!(
                "result file: {file} (GET /gateway/{service}/{}/result/{file})",
                ended.id
            );
        }
    }
    if ended.status != "SUCCEEDED" {
        return Err(Failure::Unsuccessful(format!("{} ended {}", ended.id, ended.status)).into());
    }
    Ok(())
}

impl ExecutionsCommand {
    /// Runs the subcommand.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        match self {
            ExecutionsCommand::List(target) => {
                let executions = target.gateway(context)?.executions(&target.service)?;
                if context.json {
                    return output::json(&executions);
                }
                let mut rows = Rows::new(&["ID", "STATUS", "CREATED", "ENDED"]);
                for execution in &executions {
                    rows.row(vec![
                        execution.id.clone(),
                        execution.status.clone(),
                        output::or_dash(execution.created_at.as_deref()),
                        output::or_dash(execution.ended_at.as_deref()),
                    ]);
                }
                rows.print("No executions.");
                Ok(())
            }
            ExecutionsCommand::Show(one) => {
                let execution = one
                    .target
                    .gateway(context)?
                    .execution(&one.target.service, &one.id)?;
                print_execution(context, &execution)
            }
            ExecutionsCommand::Follow(one) => {
                let gateway = one.target.gateway(context)?;
                follow_to_result(context, &gateway, &one.target.service, &one.id)
            }
            ExecutionsCommand::Cancel(one) => {
                let execution = one
                    .target
                    .gateway(context)?
                    .cancel_execution(&one.target.service, &one.id)?;
                print_execution(context, &execution)
            }
        }
    }
}
