//! `qmarket services`: a provider's services.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use qmarket_client::{
    collect, NewService, Resources, SecurityConfiguration, Service, ServiceFields, ServicePatch,
};
use qmarket_core::secret::Secret;
use serde_json::Value;

use crate::context::{Context, ListArgs};
use crate::exit::usage;
use crate::output::{self, Rows};

/// A provider's services.
#[derive(Debug, Subcommand)]
pub enum ServicesCommand {
    /// Create a service: external (runs on your servers) or managed (code
    /// the platform runs).
    #[command(
        subcommand,
        after_help = "Example:\n  qmarket services create external --name walk --url https://walk.example.org"
    )]
    Create(CreateCommand),
    /// List your services.
    #[command(after_help = "Example:\n  qmarket services list --all")]
    List(ListArgs),
    /// Show a service.
    #[command(after_help = "Example:\n  qmarket services show svc_…")]
    Show {
        /// The service's id (`svc_…`).
        id: String,
    },
    /// Change a service: only the flags given change.
    #[command(
        after_help = "Example:\n  qmarket services update svc_… --url https://walk2.example.org"
    )]
    Update(UpdateArgs),
    /// Delete a service (refused while it has subscriptions).
    #[command(after_help = "Example:\n  qmarket services delete svc_…")]
    Delete {
        /// The service's id.
        id: String,
    },
    /// Publish for your own applications only (lifecycle ACCESSIBLE):
    /// their usage is metered in test mode.
    #[command(after_help = "Example:\n  qmarket services publish-internal svc_…")]
    PublishInternal {
        /// The service's id.
        id: String,
    },
    /// Publish to the marketplace (lifecycle PUBLISHED; needs a plan).
    #[command(after_help = "Example:\n  qmarket services publish svc_…")]
    Publish {
        /// The service's id.
        id: String,
    },
    /// Take a service back from the marketplace (lifecycle CREATED).
    #[command(after_help = "Example:\n  qmarket services unpublish svc_…")]
    Unpublish {
        /// The service's id.
        id: String,
    },
    /// A service's OpenAPI document.
    #[command(
        subcommand,
        after_help = "Example:\n  qmarket services api-spec get svc_…"
    )]
    ApiSpec(ApiSpecCommand),
}

/// The two kinds of service.
#[derive(Debug, Subcommand)]
pub enum CreateCommand {
    /// An external service: the gateway forwards calls to its URL.
    #[command(
        after_help = "Example:\n  qmarket services create external --name walk \
                            --url https://walk.example.org --backend SIMULATOR --api-spec api-spec.yaml"
    )]
    External(ExternalArgs),
    /// A managed service: upload its code with `qmarket deploy` (which
    /// also creates it from a project).
    #[command(
        after_help = "Example:\n  qmarket services create managed --name sampler \
                            --runtime PYTHON_TEMPLATE --memory-mb 1024"
    )]
    Managed(ManagedArgs),
}

/// What every new service has.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Its name.
    #[arg(long)]
    name: String,
    /// What it does.
    #[arg(long)]
    description: Option<String>,
    /// The quantum backend it uses (NONE, SIMULATOR, IBM, IONQ, …).
    #[arg(long, default_value = "NONE")]
    backend: String,
    /// Its OpenAPI document, a JSON or YAML file.
    #[arg(long, value_name = "FILE")]
    api_spec: Option<PathBuf>,
}

impl CommonArgs {
    /// The OpenAPI document of `--api-spec`, if given.
    fn api_specification(&self) -> anyhow::Result<Option<Value>> {
        self.api_spec.as_deref().map(api_specification).transpose()
    }
}

/// An external service.
#[derive(Debug, Args)]
pub struct ExternalArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Where it runs (http:// or https://).
    #[arg(long)]
    url: String,
    #[command(flatten)]
    auth: BasicAuthArgs,
}

/// HTTP Basic credentials for the gateway to send to the service.
#[derive(Debug, Args)]
pub struct BasicAuthArgs {
    /// Authenticate at the service with HTTP Basic as this user; the
    /// password is read from standard input.
    #[arg(long, value_name = "USER")]
    basic_auth: Option<String>,
}

impl BasicAuthArgs {
    fn configuration(&self) -> anyhow::Result<Option<SecurityConfiguration>> {
        let Some(user) = &self.basic_auth else {
            return Ok(None);
        };
        let mut password = String::new();
        std::io::stdin()
            .read_to_string(&mut password)
            .context("cannot read the password from standard input")?;
        let password = password.trim_end_matches(['\r', '\n']);
        if password.is_empty() {
            return Err(usage("--basic-auth needs the password on standard input"));
        }
        Ok(Some(SecurityConfiguration::basic(
            user,
            Secret::new(password),
        )))
    }
}

/// What one execution of a managed service may use.
#[derive(Debug, Args)]
pub struct ResourceArgs {
    /// Thousandths of a CPU core per execution (platform default 1000).
    #[arg(long, value_name = "N")]
    milli_cpus: Option<u32>,
    /// Memory per execution, MiB (platform default 2048).
    #[arg(long, value_name = "MIB")]
    memory_mb: Option<u32>,
    /// The longest an execution may run, seconds (platform default 3600).
    #[arg(long, value_name = "SECONDS")]
    timeout_seconds: Option<u32>,
}

impl ResourceArgs {
    fn resources(&self) -> Option<Resources> {
        let resources = Resources {
            milli_cpus: self.milli_cpus,
            memory_in_megabytes: self.memory_mb,
            timeout_seconds: self.timeout_seconds,
        };
        (!resources.is_empty()).then_some(resources)
    }
}

/// A managed service.
#[derive(Debug, Args)]
pub struct ManagedArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// How the platform runs it.
    #[arg(long, default_value = "PYTHON_TEMPLATE",
          value_parser = ["PYTHON_TEMPLATE", "WASM", "DOCKER"])]
    runtime: String,
    #[command(flatten)]
    resources: ResourceArgs,
}

/// A change of a service.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The service's id.
    id: String,
    /// A new name.
    #[arg(long)]
    name: Option<String>,
    /// A new description.
    #[arg(long)]
    description: Option<String>,
    /// A new quantum backend.
    #[arg(long)]
    backend: Option<String>,
    /// A new URL (external services).
    #[arg(long)]
    url: Option<String>,
    /// A new OpenAPI document, a JSON or YAML file.
    #[arg(long, value_name = "FILE")]
    api_spec: Option<PathBuf>,
    #[command(flatten)]
    auth: BasicAuthArgs,
    /// Stop authenticating at the service.
    #[arg(long, conflicts_with = "basic_auth")]
    no_auth: bool,
    /// A new runtime (managed services).
    #[arg(long, value_parser = ["PYTHON_TEMPLATE", "WASM", "DOCKER"])]
    runtime: Option<String>,
    #[command(flatten)]
    resources: ResourceArgs,
}

/// A service's OpenAPI document.
#[derive(Debug, Subcommand)]
pub enum ApiSpecCommand {
    /// Print it (JSON).
    #[command(after_help = "Example:\n  qmarket services api-spec get svc_… > api-spec.json")]
    Get {
        /// The service's id.
        id: String,
    },
    /// Replace it with a JSON or YAML file.
    #[command(after_help = "Example:\n  qmarket services api-spec put svc_… api-spec.yaml")]
    Put {
        /// The service's id.
        id: String,
        /// The OpenAPI 3 document (`.yaml`/`.yml` are sent as YAML).
        file: PathBuf,
    },
}

/// Whether `path` names a YAML file.
fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// The OpenAPI document in `path`: a JSON object, or YAML text as the
/// platform takes it.
fn api_specification(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if is_yaml(path) {
        return Ok(Value::String(text));
    }
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// Prints `service` (one record).
fn print_service(context: &Context, service: &Service) -> anyhow::Result<()> {
    if context.json {
        return output::json(service);
    }
    output::fields(&service_fields(service));
    Ok(())
}

/// The fields of `service` as people read them.
pub fn service_fields(service: &Service) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("id", service.id.clone()),
        ("name", service.name.clone()),
        ("type", service.kind.clone()),
        ("lifecycle", service.lifecycle.clone()),
        ("quantum backend", service.quantum_backend.clone()),
        ("description", output::or_dash(Some(&service.description))),
    ];
    if let Some(url) = &service.url {
        fields.push(("url", url.clone()));
    }
    if let Some(runtime) = &service.runtime {
        fields.push(("runtime", runtime.clone()));
    }
    if let Some(resources) = &service.resources {
        let shown = |v: Option<u32>| v.map_or("-".to_string(), |v| v.to_string());
        fields.push((
            "resources",
            format!(
                "{} milli-CPUs, {} MiB, {} s",
                shown(resources.milli_cpus),
                shown(resources.memory_in_megabytes),
                shown(resources.timeout_seconds)
            ),
        ));
    }
    fields
}

impl ServicesCommand {
    /// Runs the subcommand.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        let service = match self {
            ServicesCommand::Create(CreateCommand::External(args)) => {
                let mut new =
                    NewService::external(&args.common.name, &args.url, &args.common.backend);
                new.fields.description = args.common.description.clone();
                new.fields.security_configuration = args.auth.configuration()?;
                new.fields.api_specification = args.common.api_specification()?;
                client.create_service(&new)?
            }
            ServicesCommand::Create(CreateCommand::Managed(args)) => {
                let mut new =
                    NewService::managed(&args.common.name, &args.runtime, &args.common.backend);
                new.fields.description = args.common.description.clone();
                new.fields.resources = args.resources.resources();
                new.fields.api_specification = args.common.api_specification()?;
                client.create_service(&new)?
            }
            ServicesCommand::List(list) => {
                let listing = collect(list.max(), |page| client.services(page))?;
                if context.json {
                    return output::json(&listing.items);
                }
                let mut rows = Rows::new(&["ID", "NAME", "TYPE", "LIFECYCLE", "BACKEND"]);
                for service in &listing.items {
                    rows.row(vec![
                        service.id.clone(),
                        service.name.clone(),
                        service.kind.clone(),
                        service.lifecycle.clone(),
                        service.quantum_backend.clone(),
                    ]);
                }
                rows.print("No services.");
                output::more_hint(listing.more);
                return Ok(());
            }
            ServicesCommand::Show { id } => client.service(&id)?,
            ServicesCommand::Update(args) => {
                let security_configuration = if args.no_auth {
                    Some(SecurityConfiguration {
                        kind: "NONE".into(),
                        username: None,
                        password: None,
                    })
                } else {
                    args.auth.configuration()?
                };
                let patch = ServicePatch {
                    name: args.name,
                    fields: ServiceFields {
                        description: args.description,
                        quantum_backend: args.backend,
                        url: args.url,
                        security_configuration,
                        api_specification: args
                            .api_spec
                            .as_deref()
                            .map(api_specification)
                            .transpose()?,
                        runtime: args.runtime,
                        resources: args.resources.resources(),
                    },
                };
                client.update_service(&args.id, &patch)?
            }
            ServicesCommand::Delete { id } => {
                client.delete_service(&id)?;
                if context.json {
                    return output::json(&serde_json::json!({"deleted": id}));
                }
                println!("Deleted {id}.");
                return Ok(());
            }
            ServicesCommand::PublishInternal { id } => client.publish_internal(&id)?,
            ServicesCommand::Publish { id } => client.publish(&id)?,
            ServicesCommand::Unpublish { id } => client.unpublish(&id)?,
            ServicesCommand::ApiSpec(ApiSpecCommand::Get { id }) => {
                return output::json(&client.api_spec(&id)?);
            }
            ServicesCommand::ApiSpec(ApiSpecCommand::Put { id, file }) => {
                let document = std::fs::read(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let stored = client.put_api_spec(&id, document, is_yaml(&file))?;
                if context.json {
                    return output::json(&stored);
                }
                println!("Replaced the API specification of {id}.");
                return Ok(());
            }
        };
        print_service(context, &service)
    }
}
