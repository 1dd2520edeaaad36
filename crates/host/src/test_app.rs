//! A running application for tests: its own tokio runtime on a background
//! thread, an ephemeral loopback port and a temporary state directory, so
//! plain `#[test]` functions can use a blocking HTTP client.

use crate::{App, Error, HostOptions, LogSink, Server, Timeouts, VariableSource};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// How to start a [`TestApp`].
#[derive(Debug, Clone, Default)]
pub struct TestAppOptions {
    /// The `spin.toml` to run.
    pub manifest: PathBuf,
    /// A Spin-format runtime configuration file.
    pub runtime_config: Option<PathBuf>,
    /// Variable values as environment entries (`("SPIN_VARIABLE_TOKEN", "x")`,
    /// or the plain variable name). The process environment is not read.
    pub env: Vec<(String, String)>,
    /// A state directory to use (and keep); a temporary one otherwise.
    pub state_dir: Option<PathBuf>,
    /// Where the host's log lines go (request log, host errors, guest
    /// stdout and stderr); the process's stderr when `None`.
    pub log_sink: Option<LogSink>,
    /// The server's time limits.
    pub timeouts: Timeouts,
    /// The memory limit of one component instance, in bytes (see
    /// [`HostOptions::max_memory_bytes`]).
    pub max_memory_bytes: Option<usize>,
    /// The bound on outbound connections per host (see
    /// [`HostOptions::max_outbound_connections_per_host`]).
    pub max_outbound_connections_per_host: Option<usize>,
}

impl TestAppOptions {
    /// Options for `manifest` with everything else defaulted.
    pub fn new(manifest: impl Into<PathBuf>) -> Self {
        Self {
            manifest: manifest.into(),
            ..Self::default()
        }
    }
}

struct Running {
    shutdown: tokio::sync::oneshot::Sender<()>,
    thread: JoinHandle<Result<(), Error>>,
}

/// An application served on `127.0.0.1` until stopped or dropped.
pub struct TestApp {
    options: TestAppOptions,
    state_dir: PathBuf,
    // Declared after `running` is stopped in `Drop`, so the directory outlives the host.
    temp_dir: Option<tempfile::TempDir>,
    running: Option<Running>,
    addr: SocketAddr,
    base_url: String,
}

impl TestApp {
    /// Loads the application and serves it on an ephemeral loopback port.
    pub fn start(options: TestAppOptions) -> Result<Self, Error> {
        let (state_dir, temp_dir) = match &options.state_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("qmarket-state-")
                    .tempdir()
                    .map_err(|source| Error::StateDir {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let mut app = Self {
            options,
            state_dir,
            temp_dir,
            running: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            base_url: String::new(),
        };
        app.launch(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        Ok(app)
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The base URL joined with `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The address being served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state directory (temporary unless given in the options).
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Whether the host is serving.
    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Stops serving (in-flight requests finish); the state directory stays.
    pub fn stop(&mut self) -> Result<(), Error> {
        match self.running.take() {
            None => Ok(()),
            Some(running) => {
                let _ = running.shutdown.send(());
                running
                    .thread
                    .join()
                    .map_err(|_| Error::Runtime("the host thread panicked".into()))?
            }
        }
    }

    /// Stops (if running) and starts again on the same state directory,
    /// on the same port when it is still free. [`Self::base_url`] reflects
    /// the port in use.
    pub fn restart(&mut self) -> Result<(), Error> {
        self.stop()?;
        let previous = self.addr;
        match self.launch(previous) {
            Err(Error::Bind { .. }) => self.launch(SocketAddr::from(([127, 0, 0, 1], 0))),
            other => other,
        }
    }

    fn launch(&mut self, addr: SocketAddr) -> Result<(), Error> {
        let host_options = HostOptions {
            manifest: self.options.manifest.clone(),
            runtime_config: self.options.runtime_config.clone(),
            state_dir: Some(self.state_dir.clone()),
            variables: VariableSource {
                env: self.options.env.clone(),
                inherit_process_env: false,
            },
            cache_dir: None,
            max_memory_bytes: self.options.max_memory_bytes,
            // Tests must never run components older than their sources.
            allow_stale_components: false,
            max_outbound_connections_per_host: self.options.max_outbound_connections_per_host,
        };
        let log_sink = self.options.log_sink.clone().unwrap_or_default();
        let timeouts = self.options.timeouts;
        let (ready_tx, ready_rx) = mpsc::channel::<Result<SocketAddr, Error>>();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("qmarket-test-host".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(Error::Runtime(e.to_string())));
                        return Ok(());
                    }
                };
                runtime.block_on(async move {
                    let server = match App::load(&host_options) {
                        Ok(app) => Server::bind(app, addr)
                            .await
                            .map(|server| server.with_log_sink(log_sink).with_timeouts(timeouts)),
                        Err(e) => Err(e),
                    };
                    match server {
                        Ok(server) => {
                            let _ = ready_tx.send(Ok(server.local_addr()));
                            server
                                .run(async {
                                    let _ = shutdown_rx.await;
                                })
                                .await
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            Ok(())
                        }
                    }
                })
            })
            .map_err(|e| Error::Runtime(format!("cannot spawn the host thread: {e}")))?;

        let ready = ready_rx
            .recv()
            .map_err(|_| Error::Runtime("the host thread exited before serving".into()));
        match ready {
            Ok(Ok(addr)) => {
                self.addr = addr;
                self.base_url = format!("http://{addr}");
                self.running = Some(Running {
                    shutdown: shutdown_tx,
                    thread,
                });
                Ok(())
            }
            Ok(Err(e)) | Err(e) => {
                let _ = thread.join();
                Err(e)
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.stop();
        // Removing the temporary state directory happens after the host stopped.
        drop(self.temp_dir.take());
    }
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("base_url", &self.base_url)
            .field("state_dir", &self.state_dir)
            .field("running", &self.is_running())
            .finish()
    }
}
