//! `qmarket deploy`: a managed-service project onto the platform.

use std::path::PathBuf;

use clap::Args;
use qmarket_client::{Build, NewService, ServiceFields, ServicePatch};
use qmarket_project::{pack, Project};
use serde_json::json;

use crate::context::Context;
use crate::exit::Failure;
use crate::{follow, output};

/// Deploy a managed-service project: upload it and follow its build.
///
/// Creates its service on the first deploy (the id is written into qmarket.json), zip the project's contents
/// (at the archive's root, as the platform expects), upload them, and
/// follow the build until it ends, with its log and validation messages.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket deploy --project sampler")]
pub struct DeployCommand {
    /// The project's folder.
    #[arg(long, default_value = ".", value_name = "DIR")]
    project: PathBuf,
    /// Only upload: do not wait for the build.
    #[arg(long)]
    detach: bool,
}

/// The API's name of a runtime (`PYTHON_TEMPLATE`).
pub fn runtime_name(runtime: qmarket_project::Runtime) -> String {
    serde_json::to_value(runtime)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn print_build(build: &Build) {
    output::fields(&[
        ("build", build.id.clone()),
        ("status", build.status.clone()),
        (
            "validation",
            format!(
                "{}: {}",
                build.validation_result.state, build.validation_result.summary
            ),
        ),
    ]);
    for message in &build.validation_result.messages {
        println!("  - {message}");
    }
}

impl DeployCommand {
    /// Creates or updates the service, uploads, follows the build.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let client = context.client()?;
        let mut project = Project::load(&self.project)?;
        let runtime = runtime_name(project.file.runtime);
        let service_id = match &project.file.service_id {
            Some(id) => {
                let patch = ServicePatch {
                    name: None,
                    fields: ServiceFields {
                        runtime: Some(runtime),
                        resources: Some(project.file.resources.clone()),
                        ..ServiceFields::default()
                    },
                };
                client.update_service(id, &patch)?;
                id.clone()
            }
            None => {
                let mut new = NewService::managed(
                    &project.file.name,
                    &runtime,
                    &project.file.quantum_backend,
                );
                new.fields.description = project.file.description.clone();
                let wanted = project.file.resources.clone();
                new.fields.resources = (!wanted.is_empty()).then_some(wanted);
                let service = client.create_service(&new)?;
                project.file.service_id = Some(service.id.clone());
                project.save()?;
                eprintln!(
                    "Created service {} ({}); its id is kept in {}.",
                    service.id,
                    service.name,
                    project.dir.join(qmarket_project::PROJECT_FILE).display()
                );
                service.id
            }
        };
        let packed = pack(&project.dir)?;
        eprintln!(
            "Uploading {} files ({} KiB zipped) to {service_id}.",
            packed.files.len(),
            packed.zip.len().div_ceil(1024)
        );
        let started = client.upload_source(&service_id, packed.zip)?;
        let build = if self.detach || started.is_finished() {
            started
        } else {
            follow::build(&client, &service_id, &started.id)?
        };
        if context.json {
            output::json(&json!({"serviceId": service_id, "build": build}))?;
        } else {
            print_build(&build);
        }
        if build.is_finished() && !build.succeeded() {
            return Err(Failure::Unsuccessful(format!(
                "the build of {service_id} ended {}",
                build.status
            ))
            .into());
        }
        Ok(())
    }
}
