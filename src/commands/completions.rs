//! `qmarket completions`: shell completion scripts.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

/// Print a completion script for a shell.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  qmarket completions bash > /etc/bash_completion.d/qmarket\n  \
                        qmarket completions zsh > \"${fpath[1]}/_qmarket\""
)]
pub struct CompletionsCommand {
    /// The shell.
    shell: Shell,
}

impl CompletionsCommand {
    /// Writes the script to stdout.
    pub fn run(self) -> anyhow::Result<()> {
        let mut command = crate::Cli::command();
        clap_complete::generate(self.shell, &mut command, "qmarket", &mut std::io::stdout());
        Ok(())
    }
}
