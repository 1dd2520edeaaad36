//! `qmarket worker`: builds and runs managed services for a platform.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use qmarket_core::secret::Secret;

/// The environment variable the worker credential may come from.
const TOKEN_ENV: &str = "QMARKET_WORKER_TOKEN";

/// Build and run managed services for a platform.
///
/// Any number of workers, on any machine that reaches it.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  QMARKET_WORKER_TOKEN=… qmarket worker --platform http://127.0.0.1:3000"
)]
pub struct WorkerCommand {
    /// The platform's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    platform: String,
    /// The worker credential (the platform's `worker_token` variable);
    /// read from QMARKET_WORKER_TOKEN when not given.
    #[arg(long)]
    token: Option<String>,
    /// Where archives, environments and executions' directories live.
    #[arg(long, default_value = ".qmarket-worker")]
    work_dir: PathBuf,
    /// A name for this worker in logs (default: host name and process id).
    #[arg(long)]
    name: Option<String>,
    /// Milliseconds between claims while there is no work.
    #[arg(long, default_value_t = 100)]
    poll_ms: u64,
    /// The container engine of DOCKER services (a path, or `podman` or
    /// `docker`); default: the first of those two that works here.
    #[arg(long, env = "QMARKET_CONTAINER_ENGINE")]
    container_engine: Option<PathBuf>,
}

impl WorkerCommand {
    /// Works until SIGINT or SIGTERM.
    pub fn run(self) -> anyhow::Result<()> {
        let token = self
            .token
            .or_else(|| std::env::var(TOKEN_ENV).ok())
            .filter(|t| !t.is_empty())
            .context("no worker credential: pass --token or set QMARKET_WORKER_TOKEN")?;
        std::fs::create_dir_all(&self.work_dir)
            .with_context(|| format!("cannot create {}", self.work_dir.display()))?;
        let work_dir = self.work_dir.canonicalize()?;
        let name = self.name.unwrap_or_else(|| {
            let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
            format!("{}-{}", host.trim(), std::process::id())
        });
        let config = qmarket_worker::Config {
            platform: self.platform,
            token: Secret::new(token),
            work_dir: work_dir.clone(),
            name,
            idle_poll: Duration::from_millis(self.poll_ms),
        };
        let runtimes =
            qmarket_worker::default_runtimes(&work_dir, self.container_engine.as_deref());
        let stop = Arc::new(AtomicBool::new(false));
        {
            let stop = stop.clone();
            let signals = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the signal handler")?;
            std::thread::spawn(move || {
                signals.block_on(crate::shutdown_signal());
                stop.store(true, Ordering::Relaxed);
            });
        }
        eprintln!(
            "worker {} serving {} ({:?})",
            config.name,
            config.platform,
            runtimes.kinds()
        );
        qmarket_worker::run(&config, &runtimes, &stop);
        eprintln!("worker {} stopped", config.name);
        Ok(())
    }
}
