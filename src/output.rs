//! What commands print: tables for people, JSON for scripts (`--json`),
//! and log lines and progress on stderr.

use std::time::Duration;

use anyhow::Context as _;
use comfy_table::{presets, ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// Prints `value` as pretty JSON on stdout.
pub fn json(value: &impl Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("the answer cannot be printed")?;
    println!("{text}");
    Ok(())
}

/// A table of records: a header row, then one row each.
pub struct Rows {
    table: Table,
}

impl Rows {
    /// A table with `header`.
    pub fn new(header: &[&str]) -> Rows {
        let mut table = Table::new();
        table
            .load_preset(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(header.to_vec());
        for column in table.column_iter_mut() {
            column.set_padding((0, 2));
        }
        Rows { table }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) -> &mut Rows {
        self.table.add_row(cells);
        self
    }

    /// Prints it on stdout (or a line saying there is nothing).
    pub fn print(&self, nothing: &str) {
        if self.table.row_count() == 0 {
            println!("{nothing}");
        } else {
            for line in self.table.lines() {
                println!("{}", line.trim_end());
            }
        }
    }
}

/// Prints `fields` as aligned `name: value` lines on stdout.
pub fn fields(fields: &[(&str, String)]) {
    let width = fields.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    for (name, value) in fields {
        println!("{:width$}  {value}", format!("{name}:"), width = width + 1);
    }
}

/// Says on stderr that a listing was cut short.
pub fn more_hint(more: bool) {
    if more {
        eprintln!("(there are more: pass --all, or a larger --limit)");
    }
}

/// A spinner on stderr while something runs on the platform (drawn only
/// on a terminal), with log lines printed above it.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A spinner saying `message`.
    pub fn start(message: impl Into<String>) -> Progress {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar }
    }

    /// Changes what the spinner says.
    pub fn message(&self, message: impl Into<String>) {
        self.bar.set_message(message.into());
    }

    /// Prints `line` on stderr above the spinner (also when none is drawn).
    pub fn line(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A log line as printed: severity, then message.
pub fn log_line(severity: &str, message: &str) -> String {
    format!("{severity:<7} {message}")
}

/// `value` or `-` when there is none.
pub fn or_dash(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => "-".to_string(),
    }
}
