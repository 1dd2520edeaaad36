//! Following work on the platform until it ends: a managed service's build
//! and an execution, their log lines printed as they come.

use std::time::Duration;

use qmarket_client::{Build, Client, Execution, Gateway, LogEntry};

use crate::exit::Failure;
use crate::output::{log_line, Progress};

/// How often the platform is asked again.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// Prints the lines of `log` after the first `shown`; returns how many
/// have been shown now.
fn print_new(progress: &Progress, log: &[LogEntry], shown: usize) -> usize {
    for line in log.iter().skip(shown) {
        progress.line(&log_line(&line.severity, &line.message));
    }
    shown.max(log.len())
}

/// Follows build `build_id` of `service` until it ends, printing its log;
/// answers the ended build.
pub fn build(client: &Client, service: &str, build_id: &str) -> anyhow::Result<Build> {
    let progress = Progress::start(format!("building {build_id}"));
    let mut shown = 0;
    let ended = loop {
        let build = client.build(service)?;
        if build.id != build_id {
            progress.finish();
            return Err(Failure::Unsuccessful(format!(
                "a newer upload ({}) replaced build {build_id}",
                build.id
            ))
            .into());
        }
        // The log is read after the status: once the build has ended, it
        // holds every line.
        shown = print_new(&progress, &client.build_log(service)?, shown);
        if build.is_finished() {
            break build;
        }
        progress.message(format!("building {build_id}: {}", build.status));
        std::thread::sleep(POLL_EVERY);
    };
    progress.finish();
    Ok(ended)
}

/// Follows execution `id` of `service` until it ends, printing its log;
/// answers the ended execution.
pub fn execution(gateway: &Gateway, service: &str, id: &str) -> anyhow::Result<Execution> {
    let progress = Progress::start(format!("running {id}"));
    let mut shown = 0;
    let ended = loop {
        let execution = gateway.execution(service, id)?;
        shown = print_new(&progress, &gateway.execution_log(service, id)?, shown);
        if execution.is_finished() {
            break execution;
        }
        progress.message(format!("running {id}: {}", execution.status));
        std::thread::sleep(POLL_EVERY);
    };
    progress.finish();
    Ok(ended)
}
