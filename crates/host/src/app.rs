//! A loaded application: manifest, variables, stores, routes and one
//! pre-instantiated component per component id.

use crate::engine::{self, DEFAULT_MAX_MEMORY_BYTES, MAX_MEMORY_BYTES_LIMIT};
use crate::freshness;
use crate::key_value::{KeyValueAccess, KeyValueStores, KvSetupError};
use crate::manifest::Manifest;
use crate::outbound::{
    OutboundClient, OutboundPolicy, PoolOptions, DEFAULT_MAX_CONNECTIONS_PER_HOST,
};
use crate::routes::Router;
use crate::runtime_config::RuntimeConfig;
use crate::state::RequestState;
use crate::stdio::PrefixedOutput;
use crate::variables::{AppVariables, ComponentVariables, VariableSource};
use crate::Error;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::component::{HasSelf, Linker};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// Where the state directory goes when none is given: next to the manifest.
pub const DEFAULT_STATE_DIR: &str = ".spin";

/// What to run and how.
#[derive(Debug, Clone, Default)]
pub struct HostOptions {
    /// The `spin.toml` to run.
    pub manifest: PathBuf,
    /// A Spin-format runtime configuration file.
    pub runtime_config: Option<PathBuf>,
    /// Where durable state lives; `.spin/` next to the manifest by default.
    pub state_dir: Option<PathBuf>,
    /// Where variable values come from.
    pub variables: VariableSource,
    /// Where compiled components are cached; [`engine::default_cache_dir`] by default.
    pub cache_dir: Option<PathBuf>,
    /// The linear memory one component instance (so one request) may grow
    /// to, in bytes; [`DEFAULT_MAX_MEMORY_BYTES`] by default, at most
    /// [`MAX_MEMORY_BYTES_LIMIT`].
    pub max_memory_bytes: Option<usize>,
    /// Loads a component whose Wasm file is older than a source its build
    /// watches, instead of refusing it (see [`crate::freshness`]).
    pub allow_stale_components: bool,
    /// At most this many outbound connections to one `host:port` at a time;
    /// [`DEFAULT_MAX_CONNECTIONS_PER_HOST`] by default.
    pub max_outbound_connections_per_host: Option<usize>,
}

/// One component, ready to be instantiated per request.
pub(crate) struct LoadedComponent {
    pub(crate) id: Arc<str>,
    pub(crate) pre: ProxyPre<RequestState>,
    pub(crate) environment: Vec<(String, String)>,
    pub(crate) outbound: Arc<OutboundPolicy>,
    pub(crate) key_value: KeyValueAccess,
    pub(crate) variables: Arc<ComponentVariables>,
    pub(crate) output: PrefixedOutput,
}

/// A loaded application, ready to serve.
pub struct App {
    name: String,
    state_dir: PathBuf,
    pub(crate) router: Router,
    pub(crate) components: HashMap<String, Arc<LoadedComponent>>,
    routes: Vec<(String, String)>,
    warnings: Vec<String>,
    pub(crate) max_memory_bytes: usize,
    /// The pooled client every component's outbound requests go through.
    pub(crate) outbound: Arc<OutboundClient>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("name", &self.name)
            .field("state_dir", &self.state_dir)
            .field("routes", &self.routes)
            .finish()
    }
}

impl App {
    /// Loads and validates everything; any problem stops start-up, except
    /// those kept as [`App::warnings`].
    pub fn load(options: &HostOptions) -> Result<Self, Error> {
        let max_memory_bytes = options.max_memory_bytes.unwrap_or(DEFAULT_MAX_MEMORY_BYTES);
        if max_memory_bytes > MAX_MEMORY_BYTES_LIMIT {
            return Err(Error::Options(format!(
                "the memory limit {max_memory_bytes} bytes is above the largest supported, {MAX_MEMORY_BYTES_LIMIT}"
            )));
        }
        let manifest = Manifest::from_file(&options.manifest)?;
        let runtime_config = match &options.runtime_config {
            Some(path) => RuntimeConfig::from_file(path)?,
            None => RuntimeConfig::default(),
        };
        let state_dir = options
            .state_dir
            .clone()
            .unwrap_or_else(|| manifest.dir.join(DEFAULT_STATE_DIR));
        std::fs::create_dir_all(&state_dir).map_err(|source| Error::StateDir {
            path: state_dir.clone(),
            source,
        })?;

        let app_variables = AppVariables::resolve(&manifest.variables, &options.variables)?;
        let mut component_variables = app_variables.component_values(&manifest)?;

        let (router, duplicates) = Router::build(
            manifest
                .routes
                .iter()
                .map(|r| (r.route.as_str(), r.component.as_str())),
        )?;
        let warnings = duplicates
            .into_iter()
            .map(|dup| {
                format!(
                    "route `{}` of component `{}` is replaced by component `{}`",
                    dup.route, dup.replaced, dup.effective
                )
            })
            .collect();

        let stores = Arc::new(KeyValueStores::open(&runtime_config, &state_dir)?);
        let pool = PoolOptions {
            pooling: runtime_config
                .outbound_http
                .is_none_or(|o| o.connection_pooling),
            max_connections: runtime_config.outbound_http.and_then(|o| o.max_connections),
            max_connections_per_host: options
                .max_outbound_connections_per_host
                .unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_HOST),
        };
        let outbound =
            Arc::new(OutboundClient::new(pool).map_err(|e| {
                Error::Options(format!("cannot set up TLS for outbound HTTP: {e}"))
            })?);
        for component in manifest.components.values() {
            if let Some(label) = component
                .key_value_stores
                .iter()
                .find(|l| !stores.is_defined(l))
            {
                return Err(KvSetupError::UndefinedLabel {
                    component: component.id.clone(),
                    label: label.clone(),
                }
                .into());
            }
        }

        let engine = engine::engine()?;
        let cache_dir = options.cache_dir.clone().or_else(engine::default_cache_dir);
        let linker = build_linker(engine)?;

        let mut components = HashMap::new();
        for decl in manifest.components.values() {
            let fail = |message: String| Error::Component {
                id: decl.id.clone(),
                path: decl.source.clone(),
                message,
            };
            if let (false, Some(watch)) = (options.allow_stale_components, &decl.build_watch) {
                freshness::check(&decl.id, &decl.source, watch)?;
            }
            let component =
                engine::load_component(engine, &decl.id, &decl.source, cache_dir.as_deref())?;
            let instance_pre = linker
                .instantiate_pre(&component)
                .map_err(|e| fail(format!("{e:#}")))?;
            let pre = ProxyPre::new(instance_pre).map_err(|e| {
                fail(format!(
                    "not an HTTP component (no wasi:http/incoming-handler export): {e:#}"
                ))
            })?;

            let allowed_hosts = decl
                .allowed_outbound_hosts
                .iter()
                .map(|h| {
                    app_variables.expand(h, &format!("allowed_outbound_hosts of `{}`", decl.id))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let outbound =
                OutboundPolicy::parse(&allowed_hosts).map_err(|source| Error::Outbound {
                    component: decl.id.clone(),
                    source,
                })?;

            components.insert(
                decl.id.clone(),
                Arc::new(LoadedComponent {
                    id: Arc::from(decl.id.as_str()),
                    pre,
                    environment: decl
                        .environment
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    outbound: Arc::new(outbound),
                    key_value: KeyValueAccess {
                        stores: stores.clone(),
                        allowed: decl.key_value_stores.clone().into(),
                    },
                    variables: Arc::new(component_variables.remove(&decl.id).unwrap_or_default()),
                    output: PrefixedOutput::new(&decl.id),
                }),
            );
        }

        Ok(Self {
            name: manifest.name,
            state_dir,
            router,
            components,
            routes: manifest
                .routes
                .into_iter()
                .map(|r| (r.route, r.component))
                .collect(),
            warnings,
            max_memory_bytes,
            outbound,
        })
    }

    /// What loading found wrong but did not stop for (a route that a later
    /// route of another component replaces), one line each. The server logs
    /// them when it starts.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The application name from the manifest.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The state directory in use.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// `(route, component)` pairs as written in the manifest.
    pub fn routes(&self) -> &[(String, String)] {
        &self.routes
    }
}

fn build_linker(engine: &wasmtime::Engine) -> Result<Linker<RequestState>, Error> {
    let link = |e: wasmtime::Error| Error::Engine(format!("cannot set up the linker: {e:#}"));
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(link)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(link)?;
    use crate::bindings::{fermyon::spin, wasi::keyvalue};
    spin::key_value::add_to_linker::<_, HasSelf<RequestState>>(&mut linker, |s| s).map_err(link)?;
    spin::variables::add_to_linker::<_, HasSelf<RequestState>>(&mut linker, |s| s).map_err(link)?;
    keyvalue::store::add_to_linker::<_, HasSelf<RequestState>>(&mut linker, |s| s).map_err(link)?;
    keyvalue::atomics::add_to_linker::<_, HasSelf<RequestState>>(&mut linker, |s| s)
        .map_err(link)?;
    keyvalue::batch::add_to_linker::<_, HasSelf<RequestState>>(&mut linker, |s| s).map_err(link)?;
    Ok(linker)
}
