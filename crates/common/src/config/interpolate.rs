//! `${VAR}` and `${VAR:-default}` substitution in config text, done on the raw
//! text before YAML parsing so that line numbers in later errors stay right.
//!
//! Rules (a subset of POSIX shell parameter expansion):
//! - `${VAR}` is replaced by the variable's value; unset is an error.
//! - `${VAR:-default}` uses `default` when `VAR` is unset or empty.
//! - `$$` is a literal `$`; a `$` not followed by `{` or `$` is kept as is.
//! - Lines whose first non-blank character is `#` (YAML comments) are left alone.

use std::path::Path;

use crate::error::{Error, Result};

/// Substitutes environment references in `text`, looking variables up with `lookup`.
pub(crate) fn interpolate(
    text: &str,
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_start().starts_with('#') {
            out.push_str(line);
            continue;
        }
        interpolate_line(line, index + 1, path, lookup, &mut out)?;
    }
    Ok(out)
}

fn interpolate_line(
    line: &str,
    line_no: usize,
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<()> {
    let mut rest = line;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let column = line.len() - rest.len() + pos + 1;
            let syntax = |message: String| Error::ConfigSyntax {
                path: path.to_path_buf(),
                line: line_no,
                column,
                key: String::new(),
                message,
            };
            let end = body
                .find('}')
                .ok_or_else(|| syntax("unterminated '${' (expected '}')".to_string()))?;
            let expr = &body[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (expr, None),
            };
            if !is_var_name(name) {
                return Err(syntax(format!(
                    "invalid environment variable name '{name}' in '${{{expr}}}'"
                )));
            }
            let value = match (lookup(name), default) {
                (Some(v), Some(d)) if v.is_empty() => d.to_string(),
                (Some(v), _) => v,
                (None, Some(d)) => d.to_string(),
                (None, None) => {
                    return Err(Error::ConfigEnv {
                        path: path.to_path_buf(),
                        line: line_no,
                        var: name.to_string(),
                    });
                }
            };
            out.push_str(&value);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(())
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "BUCKET" => Some("prod-data".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn run(text: &str) -> Result<String> {
        interpolate(text, Path::new("c.yaml"), &env)
    }

    #[test]
    fn substitutes_set_variables_and_defaults() {
        let text = "a: s3://${BUCKET}/raw\nb: ${MISSING:-data/raw}\nc: ${EMPTY:-fallback}\n";
        assert_eq!(
            run(text).unwrap(),
            "a: s3://prod-data/raw\nb: data/raw\nc: fallback\n"
        );
    }

    #[test]
    fn empty_value_without_default_stays_empty() {
        assert_eq!(run("a: '${EMPTY}'").unwrap(), "a: ''");
    }

    #[test]
    fn missing_variable_names_it_and_its_line() {
        let err = run("a: 1\nb: ${NOPE}\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yaml:2: environment variable 'NOPE' is not set (use '${NOPE:-default}' to give a default)"
        );
    }

    #[test]
    fn comments_dollar_escapes_and_lone_dollars_are_kept() {
        assert_eq!(
            run("# uses ${NOPE}\nprice: $5 and $${BUCKET}\n").unwrap(),
            "# uses ${NOPE}\nprice: $5 and ${BUCKET}\n"
        );
    }

    #[test]
    fn unterminated_reference_is_a_syntax_error_with_column() {
        let err = run("a: 1\nkey: ${BUCKET\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.yaml:2:6: unterminated '${' (expected '}')"
        );
    }

    #[test]
    fn invalid_name_is_rejected() {
        let err = run("a: ${1X}").unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid environment variable name '1X'")
        );
    }
}
