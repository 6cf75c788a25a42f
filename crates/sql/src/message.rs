//! DataFusion's error messages made one line: its multi-line hints joined,
//! the hidden row column left out of the "valid fields" it lists, and the
//! known tables named when a table is not found.

use datafusion::error::DataFusionError;

use crate::ROW_ID;

/// One line for `error`; `tables` are the table names the query may use.
pub fn one_line(error: &DataFusionError, tables: &[String]) -> String {
    let text = error.to_string();
    let mut parts: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(hide_row_id)
        .collect();
    if let Some(missing) = table_not_found(&text) {
        let names: Vec<&str> = tables.iter().map(String::as_str).collect();
        parts.push(format!(
            "the tables are {}{}",
            names.join(", "),
            common::suggest::did_you_mean(&missing, names.iter().copied())
        ));
    }
    parts.join("; ")
}

/// `Valid fields are a, b, input._cauce_row.` without the hidden column.
fn hide_row_id(line: &str) -> String {
    if !line.contains(ROW_ID) {
        return line.to_string();
    }
    let Some((head, fields)) = line.split_once("Valid fields are ") else {
        return line.to_string();
    };
    let kept: Vec<&str> = fields
        .trim_end_matches('.')
        .split(", ")
        .filter(|f| !f.contains(ROW_ID))
        .collect();
    format!("{head}Valid fields are {}.", kept.join(", "))
}

/// The table name in DataFusion's "table 'x' not found".
fn table_not_found(text: &str) -> Option<String> {
    let start = text.find("table '")? + "table '".len();
    let rest = &text[start..];
    let end = rest.find("' not found")?;
    let name = &rest[..end];
    Some(name.rsplit('.').next().unwrap_or(name).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_fields_leave_out_the_row_column_and_unknown_tables_name_the_known_ones() {
        assert_eq!(
            hide_row_id("No field named x. Valid fields are i.a, i._cauce_row, i.b."),
            "No field named x. Valid fields are i.a, i.b."
        );
        let e = DataFusionError::Plan("table 'datafusion.public.airline' not found".into());
        let line = one_line(&e, &["input".into(), "airlines".into()]);
        assert!(line.contains("the tables are input, airlines"), "{line}");
        assert!(line.contains("airlines"), "{line}");
        assert!(!line.contains('\n'));
    }
}
