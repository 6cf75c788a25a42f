//! "Did you mean …?" for names a user typed: a column, a key, a class.
//! Candidates are ranked by Jaro–Winkler similarity (`strsim`, the measure
//! clap uses for mistyped flags), case-insensitively.

/// The candidate most like `typed`, if any is close enough to be a likely typo.
pub fn closest<'a, I>(typed: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let typed = typed.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&typed, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `" (did you mean 'x'?)"`, or nothing when no candidate is close.
pub fn did_you_mean<'a, I>(typed: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    closest(typed, candidates)
        .map(|c| format!(" (did you mean '{c}'?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let columns = ["species", "island", "bill_length_mm", "id"];
        assert_eq!(closest("specie", columns), Some("species"));
        assert_eq!(closest("idd", columns), Some("id"));
        assert_eq!(closest("Island", columns), Some("island"));
        assert_eq!(closest("zzzz", columns), None);
        assert_eq!(
            did_you_mean("bill_lenght_mm", columns),
            " (did you mean 'bill_length_mm'?)"
        );
        assert_eq!(did_you_mean("qqq", columns), "");
    }
}
