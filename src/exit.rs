//! How `qmarket` ends: its exit codes, and the failures that choose them.

use std::process::ExitCode;

/// Done.
pub const SUCCESS: u8 = 0;
/// Anything not named below (a local file that cannot be read, …).
pub const FAILURE: u8 = 1;
/// The command line is wrong: an unknown flag, a missing argument, no
/// platform or credentials configured.
pub const USAGE: u8 = 2;
/// The platform refused the request (4xx/5xx); its problem's `detail` is
/// printed. `call` also ends so when the service answers 4xx/5xx.
pub const REFUSED: u8 = 3;
/// The platform could not be reached, or its answer broke off or was not
/// what the API describes.
pub const UNREACHABLE: u8 = 4;
/// A build or an execution ended without success (FAILURE, FAILED,
/// CANCELLED), or a local run's build or program failed.
pub const UNSUCCESSFUL: u8 = 5;

/// The exit codes as `--help` shows them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done
  1  another failure (a local file, …)
  2  usage: a wrong command line, or no platform or credentials configured
  3  the platform refused the request (its problem's detail is printed);
     `call`: the service answered 4xx or 5xx
  4  the platform could not be reached, or its answer was broken
  5  a build or an execution ended without success";

/// A failure of the command line itself, which the platform never saw.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The command line asks for something that cannot be done as asked.
    #[error("{0}")]
    Usage(String),
    /// A service answered the gateway call with a 4xx or 5xx.
    #[error("{0}")]
    Refused(String),
    /// The work was done and ended without success.
    #[error("{0}")]
    Unsuccessful(String),
}

/// A usage failure.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Failure::Usage(message.into()).into()
}

/// The exit code of `error`, by the first cause that decides one.
pub fn code_of(error: &anyhow::Error) -> ExitCode {
    for cause in error.chain() {
        if let Some(failure) = cause.downcast_ref::<Failure>() {
            return ExitCode::from(match failure {
                Failure::Usage(_) => USAGE,
                Failure::Refused(_) => REFUSED,
                Failure::Unsuccessful(_) => UNSUCCESSFUL,
            });
        }
        if let Some(error) = cause.downcast_ref::<qmarket_client::Error>() {
            return ExitCode::from(match error {
                qmarket_client::Error::Refused(_) => REFUSED,
                qmarket_client::Error::Transport { .. }
                | qmarket_client::Error::UnexpectedAnswer { .. } => UNREACHABLE,
                qmarket_client::Error::InvalidRequest(_) => USAGE,
            });
        }
        if let Some(error) = cause.downcast_ref::<qmarket_project::ProjectError>() {
            return ExitCode::from(match error {
                qmarket_project::ProjectError::BuildFailed(_)
                | qmarket_project::ProjectError::Refused(_) => UNSUCCESSFUL,
                qmarket_project::ProjectError::NotAProject { .. }
                | qmarket_project::ProjectError::NotEmpty(_) => USAGE,
                _ => FAILURE,
            });
        }
    }
    ExitCode::from(FAILURE)
}
