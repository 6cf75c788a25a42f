//! Printing a binary's result to stdout without panicking when the reader
//! has gone away (`trainer --json | head`): a closed pipe is not an error
//! worth a panic, there is simply nobody left to read.

use std::io::Write;
use std::process::ExitCode;

/// Writes `text` and a newline to stdout; write errors (a closed pipe) are ignored.
pub fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
}

/// Ends a stage binary: success, or the error as one line on stderr
/// (`etl: error: …`), also recorded in the log file, and exit code 1.
pub fn exit<E: std::fmt::Display>(binary: &str, result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(binary, &e),
    }
}

/// Reports a fatal error as [`exit`] does and returns exit code 1.
pub fn fail(binary: &str, error: &dyn std::fmt::Display) -> ExitCode {
    crate::logging::record_failure(error);
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{binary}: error: {error}");
    ExitCode::FAILURE
}
