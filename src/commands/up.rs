//! `qmarket up`: runs the platform (a `spin.toml`) on the embedded host.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use qmarket_host::outbound::DEFAULT_MAX_CONNECTIONS_PER_HOST;
use qmarket_host::timeouts::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_REQUEST_DEADLINE,
};
use qmarket_host::{App, HostOptions, Server, Timeouts, VariableSource, DEFAULT_MAX_MEMORY_BYTES};

/// Run the platform: serve a Spin application (spin.toml) on the embedded host.
///
/// Like `spin up`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket up --listen 127.0.0.1:3000 --from spin.toml")]
pub struct UpCommand {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The application manifest.
    #[arg(short = 'f', long = "from", default_value = "spin.toml")]
    from: PathBuf,
    /// A Spin-format runtime configuration file (key-value stores,
    /// outbound HTTP).
    #[arg(long)]
    runtime_config_file: Option<PathBuf>,
    /// Where durable state lives (default: .spin next to the manifest).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Seconds a client may take to send a request head.
    #[arg(long, value_name = "SECONDS", value_parser = seconds,
          default_value_t = DEFAULT_HEADER_READ_TIMEOUT.as_secs_f64())]
    header_read_timeout: f64,
    /// Seconds a connection may stay idle between requests.
    #[arg(long, value_name = "SECONDS", value_parser = seconds,
          default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs_f64())]
    idle_timeout: f64,
    /// Seconds one request may take, from its head to its answer's last
    /// byte; a component that has not answered by then gets a 504.
    #[arg(long, value_name = "SECONDS", value_parser = seconds,
          default_value_t = DEFAULT_REQUEST_DEADLINE.as_secs_f64())]
    request_deadline: f64,
    /// MiB of linear memory one component instance (one request) may use.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_MEMORY_BYTES >> 20)]
    max_memory_mib: usize,
    /// Serve components even when their .wasm is older than a source
    /// their build watches (by default that stops start-up).
    #[arg(long)]
    allow_stale_components: bool,
    /// Outbound connections to one host:port at a time (pooled
    /// connections included).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS_PER_HOST)]
    max_connections_per_host: usize,
}

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(s),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}

impl UpCommand {
    /// Serves until SIGINT or SIGTERM.
    pub fn run(self) -> anyhow::Result<()> {
        let options = HostOptions {
            manifest: self.from,
            runtime_config: self.runtime_config_file,
            state_dir: self.state_dir,
            variables: VariableSource {
                env: Vec::new(),
                inherit_process_env: true,
            },
            cache_dir: None,
            max_memory_bytes: Some(self.max_memory_mib.saturating_mul(1 << 20)),
            allow_stale_components: self.allow_stale_components,
            max_outbound_connections_per_host: Some(self.max_connections_per_host),
        };
        let timeouts = Timeouts {
            header_read: Duration::from_secs_f64(self.header_read_timeout),
            idle: Duration::from_secs_f64(self.idle_timeout),
            request_deadline: Duration::from_secs_f64(self.request_deadline),
            ..Timeouts::default()
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(serve(options, timeouts, self.listen))
    }
}

async fn serve(options: HostOptions, timeouts: Timeouts, listen: SocketAddr) -> anyhow::Result<()> {
    let manifest = options.manifest.display().to_string();
    let app = App::load(&options).with_context(|| format!("cannot start {manifest}"))?;
    let server = Server::bind(app, listen).await?.with_timeouts(timeouts);
    let base = format!("http://{}", server.local_addr());
    eprintln!("Serving {base}");
    eprintln!("Available Routes:");
    for (route, component) in server.app().routes() {
        eprintln!("  {component}: {base}{route}");
    }
    server.run(crate::shutdown_signal()).await?;
    eprintln!("Stopped");
    Ok(())
}
