//! Printing a binary's result to stdout without panicking when the reader
//! has gone away (`trainer --json | head`): a closed pipe is not an error
//! worth a panic, there is simply nobody left to read.

use std::io::Write;

/// Writes `text` and a newline to stdout; write errors (a closed pipe) are ignored.
pub fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
}
