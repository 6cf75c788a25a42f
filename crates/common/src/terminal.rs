//! Printing a binary's result to stdout without panicking when the reader
//! has gone away (`trainer --json | head`): a closed pipe is not an error
//! worth a panic, there is simply nobody left to read. A fatal error is
//! printed as one line, whatever the server that caused it answered.

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
    let message = one_line(&error.to_string());
    crate::logging::record_failure(&message);
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{binary}: error: {message}");
    ExitCode::FAILURE
}

/// `message` on one line: an S3 XML error body (`<Error><Code>NoSuchBucket
/// </Code><Message>…</Message>…</Error>`, which object_store quotes whole)
/// becomes `NoSuchBucket: …`, and line breaks with the spaces around them
/// become one space.
pub fn one_line(message: &str) -> String {
    let message = match s3_error_body(message) {
        Some((range, summary)) => {
            format!(
                "{}{summary}{}",
                &message[..range.start],
                &message[range.end..]
            )
        }
        None => message.to_string(),
    };
    if !message.contains(['\n', '\r']) {
        return message;
    }
    let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default().to_string();
    lines.fold(first, |joined, line| joined + " " + line)
}

/// Where an S3 XML error document sits in `message`, and its `Code: Message`.
fn s3_error_body(message: &str) -> Option<(std::ops::Range<usize>, String)> {
    let start = message.find("<?xml").or_else(|| message.find("<Error>"))?;
    let end = message[start..].find("</Error>")? + start + "</Error>".len();
    let element = |name: &str| {
        let body = &message[start..end];
        let open = body.find(&format!("<{name}>"))? + name.len() + 2;
        let close = body[open..].find(&format!("</{name}>"))? + open;
        Some(body[open..close].trim().to_string())
    };
    let summary = match (element("Code"), element("Message")) {
        (Some(code), Some(text)) => format!("{code}: {text}"),
        (Some(code), None) => code,
        (None, Some(text)) => text,
        (None, None) => return None,
    };
    Some((start..end, summary))
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn s3_error_body_becomes_code_and_message() {
        let raw = "s3://no-such-bucket/x.csv: Generic S3 error: Error performing list request: \
                   Server returned non-2xx status code: 404 Not Found: \
                   <?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Error><Code>NoSuchBucket</Code>\
                   <Message>The specified bucket does not exist</Message>\
                   <BucketName>no-such-bucket</BucketName><RequestId>7s4h</RequestId></Error>";
        assert_eq!(
            one_line(raw),
            "s3://no-such-bucket/x.csv: Generic S3 error: Error performing list request: \
             Server returned non-2xx status code: 404 Not Found: \
             NoSuchBucket: The specified bucket does not exist"
        );
    }

    #[test]
    fn line_breaks_become_single_spaces() {
        assert_eq!(one_line("a: b\n   c\r\n\n d "), "a: b c d");
        assert_eq!(one_line("already one line"), "already one line");
        // Text that only looks like XML, without an error document, is kept.
        assert_eq!(
            one_line("column '<Error>' missing"),
            "column '<Error>' missing"
        );
    }
}
