//! The one error type of the workspace, and the one place that prints it.
//!
//! Every failure reaches the user as
//!
//! ```text
//! PROGRAM: error: WHAT: WHY
//! hint: WHAT TO DO
//! ```
//!
//! in the spirit of TLPI's `errExit`: WHAT says what the program was doing, WHY says what the
//! kernel (or the peer) answered, in words and with the errno name a C programmer knows.

use std::fmt;
use std::io;
use std::process::ExitCode;

use nix::errno::Errno;

/// How a failure maps to an exit code: 1 runtime, 2 usage, 130 signal (as a shell reports SIGINT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Something went wrong while running: exit 1.
    Runtime,
    /// The command line or its values were wrong: exit 2.
    Usage,
    /// SIGINT or SIGTERM arrived and the program stopped cleanly: exit 130.
    Interrupted,
}

/// A failure with its context: what we were doing, why it failed, and what the user can do.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    what: String,
    why: String,
    hint: Option<String>,
    errno: Option<Errno>,
}

/// The result type of every fallible function in the workspace.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A runtime failure: `what` we were doing, `why` it failed.
    pub fn new(what: impl Into<String>, why: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Runtime,
            what: what.into(),
            why: why.into(),
            hint: None,
            errno: None,
        }
    }

    /// A usage error (exit 2), e.g. a value the program cannot accept.
    pub fn usage(what: impl Into<String>, why: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Usage,
            ..Error::new(what, why)
        }
    }

    /// A failed system call: the reason is the errno, described as `strerror` does, plus its name.
    pub fn sys(what: impl Into<String>, errno: Errno) -> Self {
        Error {
            errno: Some(errno),
            ..Error::new(what, describe_errno(errno))
        }
    }

    /// A failed std I/O call: uses the errno when there is one, never a bare `os error N`.
    pub fn io(what: impl Into<String>, err: &io::Error) -> Self {
        match err.raw_os_error() {
            Some(code) => Error::sys(what, Errno::from_raw(code)),
            None => Error::new(what, err.to_string()),
        }
    }

    /// The program stopped because SIGINT or SIGTERM arrived.
    pub fn interrupted() -> Self {
        Error {
            kind: ErrorKind::Interrupted,
            ..Error::new("interrupted", "stopped by a signal (SIGINT or SIGTERM)")
        }
    }

    /// Adds the line `hint: TEXT` telling the user what to do about it.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// What kind of failure this is (decides the exit code).
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The errno behind this error, if it came from a system call.
    pub fn errno(&self) -> Option<Errno> {
        self.errno
    }

    /// The hint, if any.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The exit code for this error: 1, 2 or 130.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ErrorKind::Runtime => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Interrupted => 130,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.why)
    }
}

impl std::error::Error for Error {}

/// `strerror(errno)` plus the errno's name, e.g. `No such file or directory (ENOENT)`.
pub fn describe_errno(errno: Errno) -> String {
    format!("{} ({errno:?})", errno.desc())
}

/// Adds "what we were doing" to errors from nix and std, turning them into [`Error`].
pub trait Context<T> {
    /// Wraps the error with `what` we were doing when it happened.
    fn context(self, what: impl Into<String>) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, Errno> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|errno| Error::sys(what, errno))
    }
}

impl<T> Context<T> for std::result::Result<T, io::Error> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|err| Error::io(what, &err))
    }
}

/// Prints the outcome of `run` once, in the one format, and turns it into the exit code.
///
/// A stop requested by a signal always exits 130, whatever error the interrupted call returned:
/// by the time we get here every guard of `run` has been dropped, so the objects are removed.
pub fn exit_code(result: Result<()>) -> ExitCode {
    let program = crate::program::name();
    let interrupted = crate::signals::stop_requested();
    match result {
        Ok(()) if !interrupted => ExitCode::SUCCESS,
        Ok(()) => {
            eprintln!("{program}: interrupted: stopped cleanly");
            ExitCode::from(130)
        }
        Err(err) if interrupted || err.kind == ErrorKind::Interrupted => {
            eprintln!("{program}: interrupted: stopped cleanly");
            ExitCode::from(130)
        }
        Err(err) => {
            eprintln!("{program}: error: {err}");
            if let Some(hint) = &err.hint {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(err.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_errors_name_the_errno_and_never_say_os_error() {
        let err = Error::io("opening /nope", &io::Error::from_raw_os_error(2));
        let text = err.to_string();
        assert_eq!(text, "opening /nope: No such file or directory (ENOENT)");
        assert!(!text.contains("os error"));
    }

    #[test]
    fn kinds_map_to_the_contract_exit_codes() {
        assert_eq!(Error::new("a", "b").exit_code(), 1);
        assert_eq!(Error::usage("a", "b").exit_code(), 2);
        assert_eq!(Error::interrupted().exit_code(), 130);
    }
}
