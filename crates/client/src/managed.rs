//! Managed services: uploads, builds, and executions' records.

use serde::{Deserialize, Serialize};

use crate::client::{escape, Body};
use crate::{Client, Error, Other};

/// A build of a managed service's uploaded code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Build {
    /// `bld_…`
    pub id: String,
    /// `WORKING`, `SUCCESS` or `FAILURE`.
    pub status: String,
    /// When it started.
    #[serde(default)]
    pub started_at: Option<String>,
    /// When it ended.
    #[serde(default)]
    pub ended_at: Option<String>,
    /// What the archive check and the build found.
    pub validation_result: ValidationResult,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

impl Build {
    /// Whether it has ended (successfully or not).
    pub fn is_finished(&self) -> bool {
        self.status != "WORKING"
    }

    /// Whether it ended successfully.
    pub fn succeeded(&self) -> bool {
        self.status == "SUCCESS"
    }
}

/// The archive check's and the build's findings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidationResult {
    /// `SUCCESS`, `WARNING` or `ERROR`.
    pub state: String,
    /// One line.
    #[serde(default)]
    pub summary: String,
    /// Each finding.
    #[serde(default)]
    pub messages: Vec<String>,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// A line of a build's or an execution's log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEntry {
    /// The text.
    pub message: String,
    /// `DEBUG`, `NOTICE`, `INFO`, `WARNING` or `ERROR`.
    pub severity: String,
    /// When it was written.
    #[serde(default)]
    pub timestamp: String,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

/// An execution of a managed service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// `exe_…`
    pub id: String,
    /// `UNKNOWN`, `PENDING`, `RUNNING`, `SUCCEEDED`, `FAILED` or `CANCELLED`.
    pub status: String,
    /// When it was asked for.
    #[serde(default)]
    pub created_at: Option<String>,
    /// When its program started.
    #[serde(default)]
    pub started_at: Option<String>,
    /// When it ended.
    #[serde(default)]
    pub ended_at: Option<String>,
    /// The service.
    #[serde(default)]
    pub service_id: String,
    /// The application that started it.
    #[serde(default)]
    pub application_id: String,
    /// Everything else it carries.
    #[serde(flatten)]
    pub other: Other,
}

impl Execution {
    /// Whether it has ended.
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "SUCCEEDED" | "FAILED" | "CANCELLED")
    }
}

fn build_path(service: &str) -> String {
    format!("/api/services/{}/build", escape(service))
}

impl Client {
    /// `PUT /api/services/{id}/source` with a ZIP: starts a build (the
    /// answer is the build, already `FAILURE` when the archive was refused).
    pub fn upload_source(&self, service: &str, zip: Vec<u8>) -> Result<Build, Error> {
        let body = Body {
            content_type: "application/zip",
            bytes: zip,
        };
        self.platform(
            "PUT",
            &format!("/api/services/{}/source", escape(service)),
            &[],
            Some(body),
        )?
        .json()
    }

    /// `GET /api/services/{id}/build`: the build of the latest upload.
    pub fn build(&self, service: &str) -> Result<Build, Error> {
        self.get(&build_path(service), &[])
    }

    /// `GET /api/services/{id}/build/log`, oldest line first.
    pub fn build_log(&self, service: &str) -> Result<Vec<LogEntry>, Error> {
        self.get(&format!("{}/log", build_path(service)), &[])
    }
}
