//! Errors and exit status (README, "Exit status").
//!
//! Errors travel as [`anyhow::Error`]; where one arises, the code marks it with the [`Kind`] of
//! failure it is ([`ResultExt::input`], [`Kind::msg`], …). The binaries' `main` is the one place
//! that prints an error ([`print`]) and turns it into the process exit status ([`exit_status`]).
//!
//! | status | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the job ran and found problems ([`Kind::Problems`]: an incomplete model, nothing to draft) |
//! | 2 | bad usage or bad input ([`Kind::Input`]: a command-line error, a malformed manifest or policy table, a `PATH` that cannot be read) |
//! | 3 | an I/O failure ([`Kind::Io`]: a write that fails), an internal error ([`Kind::Internal`], a panic), or an error nobody marked |
//!
//! An unmarked error exits 3: when the code does not know whose fault a failure is, it does not
//! blame the input. `dh_mlmodel` maps every error to 255, as debhelper's `error()` does.

use std::fmt;
use std::io::Write;
use std::process::ExitCode;

/// What kind of failure an error is; it decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The job ran and found problems the user has to solve in the tree: exit 1.
    Problems,
    /// Bad usage or bad input (the message names file:line:column where it can): exit 2.
    Input,
    /// An I/O failure that is not the input's fault, e.g. a write that fails: exit 3.
    Io,
    /// A bug: exit 3. Printed as `internal error: … (please report this)`.
    Internal,
}

impl Kind {
    /// An error of this kind saying `message`.
    pub fn msg<M>(self, message: M) -> anyhow::Error
    where
        M: fmt::Display + fmt::Debug + Send + Sync + 'static,
    {
        self.mark(anyhow::Error::msg(message))
    }

    /// `error`, marked with this kind unless it is marked already: the mark nearest to where the
    /// error arose wins.
    pub fn mark(self, error: impl Into<anyhow::Error>) -> anyhow::Error {
        let error = error.into();
        if kind_of(&error).is_some() {
            return error;
        }
        anyhow::Error::new(Error { kind: self, error })
    }

    /// The exit status of an error of this kind.
    pub fn exit_status(self) -> ExitStatus {
        match self {
            Kind::Problems => ExitStatus::Problems,
            Kind::Input => ExitStatus::Input,
            Kind::Io | Kind::Internal => ExitStatus::Failure,
        }
    }
}

/// The exit status of `dh-mlmodel`. The variants are ordered by severity, so with several
/// targets the highest status wins: `a.max(b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// 0: success (a scan without findings included).
    Success,
    /// 1: the job found problems.
    Problems,
    /// 2: bad usage or bad input.
    Input,
    /// 3: an I/O or internal error.
    Failure,
}

impl ExitStatus {
    /// The numeric status.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Problems => 1,
            ExitStatus::Input => 2,
            ExitStatus::Failure => 3,
        }
    }

    /// The status of a finished command: its own, or that of its error.
    pub fn of(result: &anyhow::Result<ExitStatus>) -> ExitStatus {
        match result {
            Ok(status) => *status,
            Err(err) => exit_status(err),
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

/// A marked error. It is transparent: it displays as the error it wraps and continues that
/// error's chain of causes, so marking never changes a message.
struct Error {
    kind: Kind,
    error: anyhow::Error,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: ", self.kind)?;
        fmt::Debug::fmt(&self.error, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// The kind `err` was marked with, if any (the innermost mark).
pub fn kind_of(err: &anyhow::Error) -> Option<Kind> {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<Error>())
        .map(|marked| marked.kind)
        .last()
}

/// The exit status for `err`; 3 when nobody marked it.
pub fn exit_status(err: &anyhow::Error) -> ExitStatus {
    kind_of(err).map_or(ExitStatus::Failure, Kind::exit_status)
}

/// Marks the error of a `Result` where it arises.
pub trait ResultExt<T> {
    /// Marks the error with `kind` (unless it is marked already).
    fn mark(self, kind: Kind) -> anyhow::Result<T>;

    /// Bad usage or bad input: exit 2.
    fn input(self) -> anyhow::Result<T>
    where
        Self: Sized,
    {
        self.mark(Kind::Input)
    }

    /// An I/O failure: exit 3.
    fn io(self) -> anyhow::Result<T>
    where
        Self: Sized,
    {
        self.mark(Kind::Io)
    }

    /// A bug: exit 3, printed as an internal error.
    fn internal(self) -> anyhow::Result<T>
    where
        Self: Sized,
    {
        self.mark(Kind::Internal)
    }
}

impl<T, E: Into<anyhow::Error>> ResultExt<T> for Result<T, E> {
    fn mark(self, kind: Kind) -> anyhow::Result<T> {
        self.map_err(|err| kind.mark(err))
    }
}

/// The text printed for `err`, one line per line of message, each `TOOL: error: …`.
pub fn render(tool: &str, err: &anyhow::Error) -> String {
    let mut text = format!("{err:#}");
    if kind_of(err) == Some(Kind::Internal) && !text.starts_with("internal error") {
        text = format!("internal error: {text} (please report this)");
    }
    let mut out = String::new();
    for line in text.lines() {
        let line = crate::terminal::escape_controls(line);
        out.push_str(&format!("{tool}: error: {line}\n"));
    }
    out
}

/// Prints `err` on standard error (see [`render`]).
pub fn print(tool: &str, err: &anyhow::Error) {
    let _ = std::io::stderr()
        .lock()
        .write_all(render(tool, err).as_bytes());
}

/// Makes a panic, in any thread, print one line `TOOL: error: internal error: … (please report
/// this)` and end the process with status `code` at once, instead of Rust's message and 101.
///
/// The hook exits itself rather than leaving the panic to unwind to `main`: a panic in a rayon
/// worker would otherwise surface only once the whole parallel job finished, and a thread that
/// is never joined would not surface at all. Destructors do not run, as with any `exit`.
pub fn install_panic_hook(tool: &'static str, code: i32) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static PANICKED: AtomicBool = AtomicBool::new(false);
    std::panic::set_hook(Box::new(move |info| {
        if PANICKED.swap(true, Ordering::SeqCst) {
            // Another thread is reporting its panic and ending the process.
            loop {
                std::thread::park();
            }
        }
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("panic");
        let message = message.lines().collect::<Vec<_>>().join(" ");
        let location = info
            .location()
            .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr().lock(),
            "{tool}: error: internal error: {message}{location} (please report this)"
        );
        std::process::exit(code);
    }));
}

/// The name of the test hook's environment variable (see [`panic_if_asked`]).
pub const TEST_PANIC_VAR: &str = "DH_MLMODEL_TEST_PANIC";

/// Internal test hook, not a user interface: panics when [`TEST_PANIC_VAR`] is `main` (in the
/// calling thread) or `worker` (in a rayon worker thread), so the tests can check that a panic
/// prints one line and exits with the error status.
pub fn panic_if_asked() {
    match std::env::var(TEST_PANIC_VAR).as_deref() {
        Ok("main") => panic!("{TEST_PANIC_VAR}=main"),
        Ok("worker") => {
            use rayon::prelude::*;
            (0..4).into_par_iter().for_each(|i| {
                if i == 3 {
                    panic!("{TEST_PANIC_VAR}=worker");
                }
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn marks_survive_context_and_the_innermost_wins() {
        let err: anyhow::Result<()> = Err(Kind::Input.msg("bad"));
        let err = err.context("outer").io().unwrap_err();
        assert_eq!(kind_of(&err), Some(Kind::Input));
        assert_eq!(exit_status(&err), ExitStatus::Input);
        assert_eq!(format!("{err:#}"), "outer: bad");
    }

    #[test]
    fn marking_keeps_the_message_and_its_causes() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let err = Err::<(), _>(io)
            .context("cannot read x")
            .input()
            .context("while loading")
            .unwrap_err();
        assert_eq!(format!("{err:#}"), "while loading: cannot read x: gone");
        assert_eq!(kind_of(&err), Some(Kind::Input));
    }

    #[test]
    fn unmarked_errors_exit_3_and_statuses_order_by_severity() {
        assert_eq!(exit_status(&anyhow::anyhow!("?")), ExitStatus::Failure);
        assert_eq!(
            ExitStatus::Problems.max(ExitStatus::Input),
            ExitStatus::Input
        );
        assert_eq!(ExitStatus::Success.max(ExitStatus::Problems).code(), 1);
        assert_eq!(ExitStatus::of(&Err(Kind::Problems.msg("x"))).code(), 1);
        assert_eq!(ExitStatus::of(&Ok(ExitStatus::Success)).code(), 0);
        assert_eq!(Kind::Io.exit_status().code(), 3);
        assert_eq!(Kind::Internal.exit_status().code(), 3);
    }

    #[test]
    fn every_line_is_prefixed_and_internal_errors_say_so() {
        let err = Kind::Input.msg("a:1:2: one\na:3:4: two");
        assert_eq!(
            render("dh-mlmodel", &err),
            "dh-mlmodel: error: a:1:2: one\ndh-mlmodel: error: a:3:4: two\n"
        );
        let err = Kind::Internal.msg("oops");
        assert_eq!(
            render("dh-mlmodel", &err),
            "dh-mlmodel: error: internal error: oops (please report this)\n"
        );
    }
}
