//! `qmarket`: the platform's command line. `qmarket up` runs a `spin.toml`
//! on the embedded Spin-compatible host and `qmarket worker` builds and runs
//! managed services for a platform; every other command drives a platform
//! over its HTTP API, for providers (services, plans, metering, managed
//! projects) and consumers (marketplace, applications, subscriptions, the
//! gateway, usage and bills).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod context;
mod exit;
mod follow;
mod output;

use commands::access_tokens::AccessTokensCommand;
use commands::applications::ApplicationsCommand;
use commands::bill::BillCommand;
use commands::call::CallCommand;
use commands::calls::CallsCommand;
use commands::completions::CompletionsCommand;
use commands::deploy::DeployCommand;
use commands::executions::ExecutionsCommand;
use commands::init::InitCommand;
use commands::invoices::InvoicesCommand;
use commands::login::{LoginCommand, LogoutCommand, WhoamiCommand};
use commands::marketplace::MarketplaceCommand;
use commands::metering::MeteringCommand;
use commands::plans::PlansCommand;
use commands::revenue::RevenueCommand;
use commands::run::RunCommand;
use commands::services::ServicesCommand;
use commands::spend_cap::SpendCapCommand;
use commands::subscribe::{SubscribeCommand, UnsubscribeCommand};
use commands::token::TokenCommand;
use commands::up::UpCommand;
use commands::usage::UsageCommand;
use commands::worker::WorkerCommand;
use context::{Context, GlobalArgs};

/// The qmarket platform and its command line.
#[derive(Parser)]
#[command(
    name = "qmarket",
    version,
    about = "The qmarket platform: run it, and use it from a terminal as a provider or a consumer",
    after_help = exit::EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Up(UpCommand),
    Worker(WorkerCommand),
    Login(LoginCommand),
    Logout(LogoutCommand),
    Whoami(WhoamiCommand),
    /// Personal access tokens: for the platform API and for metering.
    #[command(
        subcommand,
        after_help = "Example:\n  qmarket access-tokens create --name metering"
    )]
    AccessTokens(AccessTokensCommand),
    /// Your services (provider): create, change, publish.
    #[command(subcommand, after_help = "Example:\n  qmarket services list")]
    Services(ServicesCommand),
    /// Pricing plans of your services (provider).
    #[command(
        subcommand,
        after_help = "Example:\n  qmarket plans list --service svc_…"
    )]
    Plans(PlansCommand),
    /// Usage your services reported (provider).
    #[command(
        subcommand,
        after_help = "Example:\n  qmarket metering events --service svc_… --test-mode"
    )]
    Metering(MeteringCommand),
    /// Published services of every provider, with their plans.
    #[command(subcommand, after_help = "Example:\n  qmarket marketplace search walk")]
    Marketplace(MarketplaceCommand),
    /// Your applications (consumer): OAuth2 clients that call services.
    #[command(
        subcommand,
        after_help = "Example:\n  qmarket applications create --name notebook"
    )]
    Applications(ApplicationsCommand),
    Subscribe(SubscribeCommand),
    Unsubscribe(UnsubscribeCommand),
    Token(TokenCommand),
    Call(CallCommand),
    Usage(UsageCommand),
    Bill(BillCommand),
    Invoices(InvoicesCommand),
    Calls(CallsCommand),
    SpendCap(SpendCapCommand),
    Revenue(RevenueCommand),
    Init(InitCommand),
    Deploy(DeployCommand),
    Run(RunCommand),
    /// Executions of a managed service (consumer): list, show, follow, cancel.
    #[command(
        subcommand,
        after_help = "Example:\n  qmarket executions follow --service svc_… exe_…"
    )]
    Executions(ExecutionsCommand),
    Completions(CompletionsCommand),
}

impl Command {
    fn run(self, context: &Context) -> anyhow::Result<()> {
        match self {
            Command::Up(command) => command.run(),
            Command::Worker(command) => command.run(),
            Command::Login(command) => command.run(context),
            Command::Logout(command) => command.run(context),
            Command::Whoami(command) => command.run(context),
            Command::AccessTokens(command) => command.run(context),
            Command::Services(command) => command.run(context),
            Command::Plans(command) => command.run(context),
            Command::Metering(command) => command.run(context),
            Command::Marketplace(command) => command.run(context),
            Command::Applications(command) => command.run(context),
            Command::Subscribe(command) => command.run(context),
            Command::Unsubscribe(command) => command.run(context),
            Command::Token(command) => command.run(context),
            Command::Call(command) => command.run(context),
            Command::Usage(command) => command.run(context),
            Command::Bill(command) => command.run(context),
            Command::Invoices(command) => command.run(context),
            Command::Calls(command) => command.run(context),
            Command::SpendCap(command) => command.run(context),
            Command::Revenue(command) => command.run(context),
            Command::Init(command) => command.run(context),
            Command::Deploy(command) => command.run(context),
            Command::Run(command) => command.run(context),
            Command::Executions(command) => command.run(context),
            Command::Completions(command) => command.run(),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::from(exit::SUCCESS)
            };
        }
    };
    let context = Context::new(&cli.global);
    match cli.command.run(&context) {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(error) => {
            eprintln!("error: {error:#}");
            exit::code_of(&error)
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command and subcommand, with its path (`qmarket services create`).
    fn every_command() -> Vec<(String, clap::Command)> {
        fn walk(path: String, command: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
            out.push((path.clone(), command.clone()));
            for sub in command.get_subcommands() {
                walk(format!("{path} {}", sub.get_name()), sub, out);
            }
        }
        let mut out = Vec::new();
        walk("qmarket".into(), &Cli::command(), &mut out);
        out
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_a_description_and_an_example_in_its_help() {
        for (path, command) in every_command().into_iter().skip(1) {
            let about = command
                .get_about()
                .map(|a| a.to_string())
                .unwrap_or_default();
            assert!(!about.is_empty(), "`{path}` has no description");
            let after = command
                .get_after_help()
                .map(|a| a.to_string())
                .unwrap_or_default();
            assert!(
                after.starts_with("Example") && after.contains(&path),
                "`{path}` has no example of itself in its help: {after:?}"
            );
        }
    }
}
