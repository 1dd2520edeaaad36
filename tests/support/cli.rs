//! The `qmarket` command line as the end-to-end tests run it: a process per
//! command, with a config directory (profiles) and a cache directory of its
//! own, and nothing of the machine's `QMARKET_*` environment.
//!
//! Every run goes through the secret-leak scan of [`super::secrets`], like
//! every HTTP call of the tests: its output (stdout and stderr) is a reply
//! that must not show a secret known from before, and the secrets it issues
//! (`--json` output of `applications create`, `access-tokens create`,
//! `token`) are learnt from it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::secrets::Exemption;
use super::{scan_exchange, Reply};

/// What one run printed and how it ended.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The command line, for messages.
    pub line: String,
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Ran {
    /// Panics with the output unless the exit code is `expected`.
    #[track_caller]
    pub fn expect(self, expected: i32) -> Ran {
        assert_eq!(
            self.code, expected,
            "`{}` exited {}\nstdout:\n{}\nstderr:\n{}",
            self.line, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Panics with the output unless stdout contains `text`.
    #[track_caller]
    pub fn assert_stdout_contains(&self, text: &str) {
        assert!(
            self.stdout.contains(text),
            "`{}` printed no {text:?}:\n{}",
            self.line,
            self.stdout
        );
    }

    /// Panics with the output unless stderr contains `text`.
    #[track_caller]
    pub fn assert_stderr_contains(&self, text: &str) {
        assert!(
            self.stderr.contains(text),
            "`{}` said no {text:?} on stderr:\n{}",
            self.line,
            self.stderr
        );
    }

    /// Stdout parsed as JSON (panics when it is not).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` printed no JSON ({e}):\n{}\nstderr:\n{}",
                self.line, self.stdout, self.stderr
            )
        })
    }
}

/// `qmarket` with a config directory and a cache directory of its own.
pub struct Cli {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
    cwd: PathBuf,
}

impl Default for Cli {
    fn default() -> Self {
        Self::new()
    }
}

impl Cli {
    /// A command line with no profile yet.
    pub fn new() -> Cli {
        let home = tempfile::tempdir().expect("a home for the command line");
        let cwd = home.path().join("work");
        std::fs::create_dir_all(&cwd).expect("a working directory");
        Cli {
            home,
            env: Vec::new(),
            cwd,
        }
    }

    /// The binary under test.
    pub fn program() -> &'static str {
        env!("CARGO_BIN_EXE_qmarket")
    }

    /// Where its profiles file lives.
    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join("config")
    }

    /// Where its commands run (relative paths start here).
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// This command line with `name=value` in every run's environment.
    pub fn with_env(mut self, name: &str, value: &str) -> Cli {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// The environment every run gets: the machine's, less its `QMARKET_*`
    /// variables, plus this command line's own.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        for (name, _) in std::env::vars() {
            if name.starts_with("QMARKET_") {
                command.env_remove(name);
            }
        }
        command
            .current_dir(&self.cwd)
            .env("QMARKET_CONFIG_DIR", self.config_dir())
            .env("QMARKET_CACHE_DIR", self.home.path().join("cache"))
            .envs(self.env.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .stdin(Stdio::null());
        command
    }

    /// Runs `qmarket args…` to its end and scans its output for secrets.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Ran {
        self.run_with_stdin(args, None)
    }

    /// Like [`Self::run`], with `input` on standard input.
    #[track_caller]
    pub fn run_with_stdin(&self, args: &[&str], input: Option<&str>) -> Ran {
        use std::io::Write;
        let mut command = self.command(Self::program());
        command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if input.is_some() {
            command.stdin(Stdio::piped());
        }
        let mut child = command.spawn().expect("qmarket starts");
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(text.as_bytes())
                .expect("stdin takes the input");
        }
        let output = child.wait_with_output().expect("qmarket ends");
        let ran = Ran {
            line: format!("qmarket {}", args.join(" ")),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        let as_reply = Reply {
            status: u16::try_from(ran.code).unwrap_or(u16::MAX),
            headers: Vec::new(),
            text: format!("{}\n{}", ran.stdout, ran.stderr),
        };
        scan_exchange(&ran.line, None, &as_reply, Exemption::None);
        // Secrets are learnt from stdout alone: it is the JSON.
        let printed = Reply {
            text: ran.stdout.clone(),
            ..as_reply
        };
        super::secrets::registry().learn_from_reply(&ran.line, &printed);
        ran
    }

    /// Runs `qmarket args… --json`, expects success, answers the JSON.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        self.run(&all).expect(0).json()
    }

    /// `qmarket login` to `app` with `token`.
    #[track_caller]
    pub fn login(&self, url: &str, token: &str) -> Ran {
        self.run(&["login", "--url", url, "--token", token])
            .expect(0)
    }
}

/// The string at `pointer` (`/id`) of `value` (panics when there is none).
#[track_caller]
pub fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
        .to_string()
}
