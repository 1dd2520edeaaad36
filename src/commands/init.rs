//! `qmarket init`: a new managed-service project.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::context::Context;
use crate::output;

/// Create a managed-service project from PlanQK's Python template.
///
/// The project holds src/program.py with run(data, params), src/libs/return_objects.py,
/// environment.yml, requirements.txt, an input/ example and qmarket.json.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  qmarket init sampler && cd sampler && qmarket run --local")]
pub struct InitCommand {
    /// The service's name (also the folder's, unless --dir is given).
    name: String,
    /// Where to write the project (it must be empty or missing).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl InitCommand {
    /// Writes the template.
    pub fn run(self, context: &Context) -> anyhow::Result<()> {
        let dir = self.dir.unwrap_or_else(|| PathBuf::from(&self.name));
        let files = qmarket_project::init(&dir, &self.name)?;
        if context.json {
            return output::json(&json!({"dir": dir, "files": files}));
        }
        println!("Created project `{}` in {}:", self.name, dir.display());
        for file in &files {
            println!("  {}", file.display());
        }
        println!();
        println!(
            "Try it here with `qmarket run --local --project {}`,",
            dir.display()
        );
        println!(
            "then put it on the platform with `qmarket deploy --project {}`.",
            dir.display()
        );
        Ok(())
    }
}
