//! The platform as a worker sees it: the worker API over HTTP, with the
//! worker credential.

use std::io::Read;
use std::time::Duration;

use qmarket_core::secret::Secret;
use qmarket_managed::protocol::{
    Assignment, BeatAnswer, BuildReport, ClaimAnswer, ClaimRequest, ExecutionReport, LogBatch,
};
use qmarket_managed::queue::JobKind;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a request to the platform failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The platform could not be reached, or the exchange broke.
    #[error("the platform is unreachable: {0}")]
    Transport(String),
    /// The platform refused: 409 means the attempt is no longer current.
    #[error("the platform answered {status}: {detail}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The problem's detail.
        detail: String,
    },
}

impl ClientError {
    /// Whether the platform says the attempt was taken over.
    pub fn is_not_current(&self) -> bool {
        matches!(self, ClientError::Refused { status: 409, .. })
    }
}

/// A client of one platform.
#[derive(Clone)]
pub struct Platform {
    base: String,
    token: Secret,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// The path of an attempt's endpoint.
fn attempt_path(kind: JobKind, id: &str, attempt: u64, action: &str) -> String {
    let kind = match kind {
        JobKind::Build => "builds",
        JobKind::Execution => "executions",
    };
    format!("/api/workers/{kind}/{id}/attempts/{attempt}/{action}")
}

impl Platform {
    /// The platform at `base` (e.g. `http://127.0.0.1:3000`), reached with
    /// the worker credential `token`.
    pub fn new(base: &str, token: Secret) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(120)))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Platform {
            base: base.trim_end_matches('/').to_string(),
            token,
            agent,
        }
    }

    fn answer(
        &self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Vec<u8>, ClientError> {
        let mut response = response.map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        response
            .body_mut()
            .as_reader()
            .read_to_end(&mut bytes)
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        let detail = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(300).collect());
        Err(ClientError::Refused { status, detail })
    }

    fn post<T: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<Option<R>, ClientError> {
        let json = serde_json::to_vec(body).map_err(|e| ClientError::Transport(e.to_string()))?;
        let bytes = self.answer(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("authorization", format!("Bearer {}", self.token.expose()))
                .header("content-type", "application/json")
                .send(&json[..]),
        )?;
        if bytes.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ClientError::Transport(format!("an answer that is not JSON: {e}")))
    }

    fn put(&self, path: &str, content_type: &str, mut body: impl Read) -> Result<(), ClientError> {
        self.answer(
            self.agent
                .put(format!("{}{path}", self.base))
                .header("authorization", format!("Bearer {}", self.token.expose()))
                .header("content-type", content_type)
                .send(ureq::SendBody::from_reader(&mut body)),
        )
        .map(drop)
    }

    /// Asks for work.
    pub fn claim(&self, request: &ClaimRequest) -> Result<ClaimAnswer, ClientError> {
        self.post("/api/workers/claim", request)?
            .ok_or_else(|| ClientError::Transport("an empty answer to a claim".into()))
    }

    /// Chunk `n` of build `build`'s archive.
    pub fn archive_chunk(&self, build: &str, n: u64) -> Result<Vec<u8>, ClientError> {
        self.answer(
            self.agent
                .get(format!(
                    "{}/api/workers/builds/{build}/archive/{n}",
                    self.base
                ))
                .header("authorization", format!("Bearer {}", self.token.expose()))
                .call(),
        )
    }

    /// Beats for the attempt of `job`.
    pub fn beat(&self, job: &Assignment) -> Result<BeatAnswer, ClientError> {
        self.post(
            &attempt_path(job.kind, &job.id, job.attempt, "beat"),
            &serde_json::json!({}),
        )?
        .ok_or_else(|| ClientError::Transport("an empty answer to a beat".into()))
    }

    /// Sends log lines and interim results of `job`.
    pub fn log(&self, job: &Assignment, batch: &LogBatch) -> Result<(), ClientError> {
        self.post::<_, serde_json::Value>(
            &attempt_path(job.kind, &job.id, job.attempt, "log"),
            batch,
        )
        .map(drop)
    }

    /// Says the program of execution `job` started.
    pub fn started(&self, job: &Assignment) -> Result<(), ClientError> {
        self.post::<_, serde_json::Value>(
            &attempt_path(job.kind, &job.id, job.attempt, "started"),
            &serde_json::json!({}),
        )
        .map(drop)
    }

    /// Uploads the result (JSON) of execution `job`.
    pub fn upload_result(&self, job: &Assignment, json: &[u8]) -> Result<(), ClientError> {
        self.put(
            &attempt_path(job.kind, &job.id, job.attempt, "result"),
            "application/json",
            json,
        )
    }

    /// Uploads result file `name` of execution `job`.
    pub fn upload_file(
        &self,
        job: &Assignment,
        name: &str,
        file: impl Read,
    ) -> Result<(), ClientError> {
        let path = format!(
            "/api/workers/executions/{}/attempts/{}/files/{}",
            job.id,
            job.attempt,
            encode_segment(name)
        );
        self.put(&path, "application/octet-stream", file)
    }

    /// Reports how build `job` ended.
    pub fn finish_build(&self, job: &Assignment, report: &BuildReport) -> Result<(), ClientError> {
        self.post::<_, serde_json::Value>(
            &attempt_path(job.kind, &job.id, job.attempt, "finish"),
            report,
        )
        .map(drop)
    }

    /// Reports how execution `job` ended.
    pub fn finish_execution(
        &self,
        job: &Assignment,
        report: &ExecutionReport,
    ) -> Result<(), ClientError> {
        self.post::<_, serde_json::Value>(
            &attempt_path(job.kind, &job.id, job.attempt, "finish"),
            report,
        )
        .map(drop)
    }
}

/// `name` as one URL path segment.
fn encode_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_one_path_segment() {
        assert_eq!(encode_segment("result.json"), "result.json");
        assert_eq!(encode_segment("a b/c%"), "a%20b%2Fc%25");
    }
}
