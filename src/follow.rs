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

/// What one look at the work showed.
struct Seen<T> {
    record: T,
    status: String,
    finished: bool,
    log: Vec<LogEntry>,
}

/// Looks at the work every [`POLL_EVERY`] until it has ended, printing
/// its new log lines each time; answers the ended record.
fn until_finished<T>(
    label: &str,
    mut look: impl FnMut() -> anyhow::Result<Seen<T>>,
) -> anyhow::Result<T> {
    let progress = Progress::start(label);
    let mut shown = 0;
    loop {
        let seen = match look() {
            Ok(seen) => seen,
            Err(e) => {
                progress.finish();
                return Err(e);
            }
        };
        shown = print_new(&progress, &seen.log, shown);
        if seen.finished {
            progress.finish();
            return Ok(seen.record);
        }
        progress.message(format!("{label}: {}", seen.status));
        std::thread::sleep(POLL_EVERY);
    }
}

/// Follows build `build_id` of `service` until it ends, printing its log;
/// answers the ended build.
pub fn build(client: &Client, service: &str, build_id: &str) -> anyhow::Result<Build> {
    until_finished(&format!("building {build_id}"), || {
        let build = client.build(service)?;
        if build.id != build_id {
            return Err(Failure::Unsuccessful(format!(
                "a newer upload ({}) replaced build {build_id}",
                build.id
            ))
            .into());
        }
        // The log is read after the status: once the build has ended, it
        // holds every line.
        Ok(Seen {
            log: client.build_log(service)?,
            status: build.status.clone(),
            finished: build.is_finished(),
            record: build,
        })
    })
}

/// Follows execution `id` of `service` until it ends, printing its log;
/// answers the ended execution.
pub fn execution(gateway: &Gateway, service: &str, id: &str) -> anyhow::Result<Execution> {
    until_finished(&format!("running {id}"), || {
        let execution = gateway.execution(service, id)?;
        Ok(Seen {
            log: gateway.execution_log(service, id)?,
            status: execution.status.clone(),
            finished: execution.is_finished(),
            record: execution,
        })
    })
}
