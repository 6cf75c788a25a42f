//! The registry overview: every version with its metrics (a table, and each
//! headline metric over the versions), and every alias's history as a
//! timeline of promotions and rollbacks, with links to each version's
//! report.

use maud::{Markup, html};

use crate::Error;
use crate::html::{charts, number, page};
use crate::plot::{Axes, Mark, Series, chart};
use records::registry::{AliasEvent, Overview, VersionRow};

/// Metrics charted over the versions, at most.
const CHARTED: usize = 4;

/// The overview as one self-contained HTML page.
pub fn html(overview: &Overview) -> Result<String, Error> {
    let names = metric_names(&overview.versions);
    let body = html! {
        h2 { "Versions" }
        (versions(overview, &names))
        (metric_charts(overview, &names)?)
        h2 { "Aliases" }
        @if overview.aliases.is_empty() {
            p.note { "No alias has been promoted yet." }
        }
        @for (alias, events) in &overview.aliases {
            (timeline(alias, events)?)
        }
    };
    let subtitle = format!(
        "{} version(s), {} alias(es) in {}",
        overview.versions.len(),
        overview.aliases.len(),
        overview.registry
    );
    Ok(page("Model registry", &subtitle, body))
}

/// Metric names in the versions' order of appearance.
fn metric_names(versions: &[VersionRow]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in versions.iter().flat_map(|v| v.metrics.keys()) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// Metric columns in the versions table, at most: more would not fit a
/// laptop screen; `model-registry show vN` lists them all.
const COLUMNS: usize = 5;

fn versions(overview: &Overview, names: &[String]) -> Markup {
    let hidden = names.len().saturating_sub(COLUMNS);
    let names = &names[..names.len().min(COLUMNS)];
    html! {
        @if overview.versions.is_empty() {
            p.note { "No version has been published yet." }
        } @else {
            div.wide { table {
                tr {
                    th.l { "version" } th.l { "name" } th.l { "algorithm" } th.l { "created" } th.l { "aliases" }
                    @for name in names { th { (name) } }
                }
                @for v in overview.versions.iter().rev() {
                    tr {
                        td.l {
                            @match &v.report {
                                Some(link) => a href=(link) { (v.version) },
                                None => (v.version),
                            }
                        }
                        td.l { (v.name) }
                        td.l { (v.algorithm.clone().unwrap_or_default()) }
                        td.l { (v.created) }
                        td.l { (v.aliases.join(", ")) }
                        @for name in names {
                            td { (v.metrics.get(name).map_or(String::new(), |x| number(*x))) }
                        }
                    }
                }
            } }
            @if hidden > 0 {
                p.note { (hidden) " more metric(s) per version in each version's report and in `model-registry show vN`." }
            }
        }
    }
}

fn metric_charts(overview: &Overview, names: &[String]) -> Result<Markup, Error> {
    let charted: Vec<&String> = names
        .iter()
        .filter(|n| {
            overview
                .versions
                .iter()
                .filter(|v| v.metrics.contains_key(*n))
                .count()
                > 1
        })
        .take(CHARTED)
        .collect();
    if charted.is_empty() {
        return Ok(html! {});
    }
    let mut svgs = Vec::new();
    for name in charted {
        let series = per_model(overview, name);
        let mark = if series.iter().all(|s| s.points.len() < 2) {
            Mark::Dot
        } else {
            Mark::Line
        };
        let direction = overview
            .versions
            .iter()
            .rev()
            .find_map(|v| v.higher_is_better.get(name))
            .map_or("", |&h| {
                if h {
                    " (higher is better)"
                } else {
                    " (lower is better)"
                }
            });
        let title = format!("{name}{direction}");
        let line = chart(
            Axes {
                title: &title,
                x: "version",
                y: name,
                whole_x: true,
                zero_y: false,
                whole_y: false,
            },
            &series,
            mark,
            false,
            false,
            None,
        )?;
        svgs.push((format!("{name} over the versions"), line));
    }
    Ok(html! {
        h3 { "Metrics over the versions" }
        (charts(&svgs))
    })
}

/// `name`'s values over the versions, one series per model name: versions
/// of different models are not one history.
fn per_model(overview: &Overview, name: &str) -> Vec<Series> {
    let mut models: Vec<&str> = Vec::new();
    for v in &overview.versions {
        if v.metrics.contains_key(name) && !models.contains(&v.name.as_str()) {
            models.push(&v.name);
        }
    }
    models
        .iter()
        .map(|model| Series {
            label: if models.len() > 1 {
                (*model).to_string()
            } else {
                String::new()
            },
            points: overview
                .versions
                .iter()
                .filter(|v| v.name == *model)
                .filter_map(|v| Some((v.number as f64, *v.metrics.get(name)?)))
                .collect(),
        })
        .collect()
}

fn timeline(alias: &str, events: &[AliasEvent]) -> Result<Markup, Error> {
    // The version served after each record, as a step line.
    let mut points = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            points.push((e.sequence as f64, events[i - 1].number as f64));
        }
        points.push((e.sequence as f64, e.number as f64));
    }
    let series = [Series {
        label: String::new(),
        points,
    }];
    let title = format!("Version served by '{alias}'");
    // One record is one point: a line through it would draw nothing.
    let mark = if events.len() < 2 {
        Mark::Dot
    } else {
        Mark::Line
    };
    let svg = chart(
        Axes {
            title: &title,
            x: "record",
            y: "version",
            whole_x: true,
            zero_y: false,
            whole_y: true,
        },
        &series,
        mark,
        false,
        false,
        None,
    )?;
    Ok(html! {
        h3 { (alias) " → " (events.last().map_or("", |e| e.version.as_str())) }
        (charts(&[(format!("versions served by {alias}, record by record"), svg)]))
        table {
            tr { th { "record" } th.l { "action" } th.l { "version" } th.l { "previous" } th.l { "at" } th.l { "by" } th.l { "reason" } }
            @for e in events.iter().rev() {
                tr {
                    td { (e.sequence) }
                    td.l { (e.action) }
                    td.l { (e.version) }
                    td.l { (e.previous.clone().unwrap_or_default()) }
                    td.l { (e.at) }
                    td.l { (e.by) }
                    td.l { (e.reason.clone().unwrap_or_default()) }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_overview_lists_versions_charts_metrics_and_a_timeline() {
        let versions = (1..=3)
            .map(|n| VersionRow {
                version: format!("v{n}"),
                number: n,
                name: "penguins".into(),
                algorithm: Some("random_forest".into()),
                created: "2026-12-05".into(),
                metrics: [("accuracy".to_string(), 0.8 + n as f64 / 100.0)].into(),
                higher_is_better: [("accuracy".to_string(), true)].into(),
                aliases: if n == 2 {
                    vec!["latest".into()]
                } else {
                    vec![]
                },
                report: Some(format!("versioned/v{n}/report.html")),
            })
            .collect();
        let event = |sequence: u64, action: &str, number: u64| AliasEvent {
            sequence,
            action: action.into(),
            version: format!("v{number}"),
            number,
            previous: None,
            at: "2026-12-05T10:00:00Z".into(),
            by: "ana@host".into(),
            reason: Some("<why>".into()),
        };
        let overview = Overview {
            registry: "models".into(),
            versions,
            aliases: vec![(
                "latest".into(),
                vec![
                    event(1, "promote", 1),
                    event(2, "promote", 3),
                    event(3, "rollback", 2),
                ],
            )],
        };
        let page = html(&overview).unwrap();
        assert!(page.contains(r#"<a href="versioned/v3/report.html">v3</a>"#));
        assert!(page.contains("accuracy (higher is better)"));
        assert!(page.contains("<h3>latest → v2</h3>"));
        assert!(page.contains("&lt;why&gt;"));
        assert_eq!(
            page.matches("<svg").count(),
            2,
            "one metric chart, one timeline"
        );
        assert!(page.contains("<polyline") || page.contains("<path"));
        let empty = html(&Overview::default()).unwrap();
        assert!(empty.contains("No version has been published yet."));
    }

    /// Issue 29.4: one promotion record draws a point (a line through one
    /// point drew nothing), two models' versions are two series, and the
    /// table keeps to its metric columns.
    #[test]
    fn one_record_many_models_and_many_metrics_read_well() {
        let row = |n: u64, name: &str| VersionRow {
            version: format!("v{n}"),
            number: n,
            name: name.into(),
            metrics: (0..8)
                .map(|m| (format!("metric_{m}"), n as f64 + m as f64 / 10.0))
                .collect(),
            ..VersionRow::default()
        };
        let overview = Overview {
            registry: "models".into(),
            versions: vec![row(1, "a"), row(2, "b"), row(3, "a"), row(4, "b")],
            aliases: vec![(
                "latest".into(),
                vec![AliasEvent {
                    sequence: 1,
                    action: "promote".into(),
                    version: "v4".into(),
                    number: 4,
                    ..AliasEvent::default()
                }],
            )],
        };
        let page = html(&overview).unwrap();
        let marks: Vec<usize> = page
            .split("data-marks=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
            .collect();
        assert!(marks.iter().all(|&m| m > 0), "{marks:?}");
        assert_eq!(*marks.last().unwrap(), 1, "the timeline's one record");
        let texts: Vec<&str> = page
            .split("<text")
            .skip(1)
            .filter_map(|t| t.split_once('>'))
            .map(|(_, rest)| rest.split("</text>").next().unwrap_or("").trim())
            .collect();
        assert!(
            texts.contains(&"a") && texts.contains(&"b"),
            "a legend per model"
        );
        assert!(page.contains("<th>metric_4</th>") && !page.contains("<th>metric_5</th>"));
        assert!(page.contains("3 more metric(s)"));
    }
}
