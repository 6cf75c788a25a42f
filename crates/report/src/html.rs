//! The page every report shares: head, style sheet, header and sections.

use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Readable on a laptop screen and on paper; colours with enough contrast.
const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
  max-width: 1120px; padding: 24px; color: #1a1a1a; background: #fff; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 32px 0 8px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
h3 { font-size: 1rem; margin: 16px 0 6px; }
.sub { color: #555; margin: 0 0 16px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f2f2f2; }
td.l, th.l { text-align: left; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dt { color: #555; } dd { margin: 0; overflow-wrap: anywhere; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.charts figure { margin: 0; border: 1px solid #ddd; }
.bar { background: #0072B2; height: 12px; }
.wide { overflow-x: auto; max-width: 100%; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 0.85rem; }
.note { color: #555; font-size: 0.9rem; }
@media print { body { max-width: none; padding: 0; } figure, table { break-inside: avoid; } }
"#;

/// A whole page: `title` in the tab and as the heading, `subtitle` below it.
pub(crate) fn page(title: &str, subtitle: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title) }
                p.sub { (subtitle) }
                (body)
            }
        }
    }
    .into_string()
}

/// SVG charts side by side, each with a caption for screen readers.
pub(crate) fn charts(svgs: &[(String, String)]) -> Markup {
    html! {
        div.charts {
            @for (caption, svg) in svgs {
                figure role="img" aria-label=(caption) { (PreEscaped(svg)) }
            }
        }
    }
}

/// A number for a table: 4 significant decimals, integers as they are.
pub(crate) fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.is_finite() && (v.abs() >= 1e5 || (v != 0.0 && v.abs() < 1e-3)) {
        format!("{v:.4e}")
    } else {
        format!("{v:.4}")
    }
}
