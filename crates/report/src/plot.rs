//! Charts as inline SVG strings (plotters' SVG backend; the browser lays
//! out the text, so no font library is needed). One function per kind of
//! chart the reports draw; colours are the Okabe–Ito palette, which stays
//! distinguishable with the common colour-vision deficiencies.

use plotters::prelude::*;

use crate::Error;
use crate::curves::Histogram;

/// Okabe–Ito: blue, orange, bluish green, reddish purple, sky blue,
/// vermillion, yellow, black.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xF0, 0xE4, 0x42),
    RGBColor(0x00, 0x00, 0x00),
];
const GREY: RGBColor = RGBColor(0x88, 0x88, 0x88);
const SIZE: (u32, u32) = (520, 380);
const FONT: &str = "sans-serif";

/// One named line (or set of points).
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// What a chart shows beside its series.
#[derive(Debug, Clone, Copy)]
pub struct Axes<'a> {
    /// Title above the chart.
    pub title: &'a str,
    /// Label of the horizontal axis.
    pub x: &'a str,
    /// Label of the vertical axis.
    pub y: &'a str,
    /// The horizontal axis counts (versions, rounds, candidates): ticks
    /// only at whole numbers.
    pub whole_x: bool,
    /// The vertical axis starts at 0 (shares, counts).
    pub zero_y: bool,
    /// The vertical axis counts (versions): ticks only at whole numbers.
    pub whole_y: bool,
}

/// How series are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Lines through the points.
    Line,
    /// Dots at the points.
    Dot,
}

/// The range of `values` padded by 5% (a unit range around a constant).
fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    if high <= low {
        return (low - 0.5, high + 0.5);
    }
    let pad = (high - low) * 0.05;
    (low - pad, high + pad)
}

/// Series on shared axes. `unit` fixes both axes to [0, 1] (rates and
/// probabilities); `diagonal` draws the y = x reference (a random
/// classifier's ROC, perfect calibration, perfect predictions); `marker`
/// draws a dashed vertical line at that x (a booster's best round).
pub fn chart(
    axes: Axes<'_>,
    series: &[Series],
    mark: Mark,
    unit: bool,
    diagonal: bool,
    marker: Option<f64>,
) -> Result<String, Error> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let points = || series.iter().flat_map(|s| s.points.iter()).filter(finite);
    let (x0, x1, y0, y1) = if unit {
        (0.0, 1.0, 0.0, 1.02)
    } else {
        let (x0, x1) = span(points().map(|p| p.0));
        let (y0, y1) = span(points().map(|p| p.1));
        let y0 = if axes.zero_y { 0.0 } else { y0 };
        if diagonal {
            let (low, high) = (x0.min(y0), x1.max(y1));
            (low, high, low, high)
        } else {
            (x0, x1, y0, y1)
        }
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(Error::plot)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(axes.title, (FONT, 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(58)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(Error::plot)?;
        let whole = |x: &f64| {
            if x.fract() == 0.0 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        };
        let x_tick = |x: &f64| tick(*x, x1 - x0);
        let y_tick = |y: &f64| tick(*y, y1 - y0);
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(WHITE.mix(0.0))
            .x_desc(axes.x)
            .y_desc(axes.y)
            .label_style((FONT, 13))
            .y_label_formatter(&y_tick);
        if axes.whole_x {
            mesh.x_labels(((x1 - x0).ceil() as usize + 1).min(12))
                .x_label_formatter(&whole);
        } else {
            mesh.x_label_formatter(&x_tick);
        }
        if axes.whole_y {
            mesh.y_labels(((y1 - y0).ceil() as usize + 1).min(12))
                .y_label_formatter(&whole);
        }
        mesh.draw().map_err(Error::plot)?;
        if diagonal {
            let (low, high) = (x0.max(y0), x1.min(y1));
            chart
                .draw_series(DashedLineSeries::new(
                    [(low, low), (high, high)],
                    4,
                    4,
                    GREY.stroke_width(1),
                ))
                .map_err(Error::plot)?;
        }
        if let Some(x) = marker {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x, y0), (x, y1)],
                    4,
                    4,
                    GREY.stroke_width(1),
                ))
                .map_err(Error::plot)?;
        }
        for (i, s) in series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let drawn = match mark {
                Mark::Line => chart
                    .draw_series(LineSeries::new(
                        s.points.iter().filter(finite).copied(),
                        colour.stroke_width(2),
                    ))
                    .map_err(Error::plot)?,
                Mark::Dot => chart
                    .draw_series(
                        s.points
                            .iter()
                            .filter(finite)
                            .map(|&p| Circle::new(p, 2, colour.mix(0.6).filled())),
                    )
                    .map_err(Error::plot)?,
            };
            drawn.label(s.label.as_str()).legend(move |(x, y)| {
                Rectangle::new([(x, y - 4), (x + 14, y + 4)], colour.filled())
            });
        }
        if series.len() > 1 || series.iter().any(|s| !s.label.is_empty()) {
            legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        root.present().map_err(Error::plot)?;
    }
    let drawn = series
        .iter()
        .map(|s| s.points.iter().filter(finite).count())
        .sum();
    Ok(with_marks(svg, drawn))
}

/// A tick label on an axis `span` wide: as many decimals as the ticks'
/// spacing (about a tenth of the span) needs and no more, so 0.1 + 0.2
/// reads `0.3` and a count `200`, not `0.30000000000000004` and `200.0`.
pub(crate) fn tick(value: f64, span: f64) -> String {
    let step = span.abs() / 10.0;
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10().floor()).clamp(0.0, 6.0) as usize
    } else {
        2
    };
    let text = format!("{value:.decimals$}");
    // `-0` and `-0.00` read as zero.
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_string()
    } else {
        text
    }
}

/// The series' legend, boxed, at `position`.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), Error> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(GREY)
        .draw()
        .map_err(Error::plot)
}

/// `svg` with the number of data marks it draws (points, bars) as the
/// root's `data-marks` attribute: what a check of the rendered page holds a
/// chart to (axes and grids draw lines and paths too, so counting elements
/// cannot tell an empty chart from a drawn one).
fn with_marks(svg: String, marks: usize) -> String {
    svg.replacen("<svg ", &format!("<svg data-marks=\"{marks}\" "), 1)
}

/// A histogram's bars.
pub fn histogram(axes: Axes<'_>, histogram: &Histogram) -> Result<String, Error> {
    let (Some(&x0), Some(&x1)) = (histogram.edges.first(), histogram.edges.last()) else {
        return Err(Error::Plot("a histogram without bins".into()));
    };
    if !(x0.is_finite() && x1.is_finite() && x1 > x0) {
        return Err(Error::Plot(format!("a histogram over [{x0}, {x1}]")));
    }
    let top = histogram.counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.05;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(Error::plot)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(axes.title, (FONT, 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(58)
            .build_cartesian_2d(x0..x1, 0.0..top)
            .map_err(Error::plot)?;
        let x_tick = |x: &f64| tick(*x, x1 - x0);
        let y_tick = |y: &f64| tick(*y, top);
        chart
            .configure_mesh()
            .light_line_style(WHITE.mix(0.0))
            .x_desc(axes.x)
            .y_desc(axes.y)
            .label_style((FONT, 13))
            .x_label_formatter(&x_tick)
            .y_label_formatter(&y_tick)
            .draw()
            .map_err(Error::plot)?;
        let bars = histogram
            .edges
            .windows(2)
            .zip(&histogram.counts)
            .map(|(edge, &count)| {
                Rectangle::new(
                    [(edge[0], 0.0), (edge[1], count as f64)],
                    PALETTE[0].filled(),
                )
            });
        chart.draw_series(bars).map_err(Error::plot)?;
        root.present().map_err(Error::plot)?;
    }
    let drawn = histogram.counts.iter().filter(|&&c| c > 0).count();
    Ok(with_marks(svg, drawn))
}

/// A chart frame with one segment per category on x (labelled with the
/// category, cut to 12 characters) and `0..top` on y: what the bar charts
/// draw into.
fn category_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    axes: Axes<'_>,
    categories: &[String],
    top: f64,
) -> Result<CategoryChart<'a, 'b>, Error> {
    let n = categories.len().max(1) as u32;
    let mut chart = ChartBuilder::on(root)
        .caption(axes.title, (FONT, 18))
        .margin(12)
        .x_label_area_size(42)
        .y_label_area_size(58)
        .build_cartesian_2d((0..n - 1).into_segmented(), 0.0..top)
        .map_err(Error::plot)?;
    let label = |v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(i) => categories
            .get(*i as usize)
            .map(|c| c.chars().take(12).collect())
            .unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .disable_x_mesh()
        .x_desc(axes.x)
        .y_desc(axes.y)
        .label_style((FONT, 13))
        .x_label_formatter(&label)
        .y_label_formatter(&|y: &f64| tick(*y, top))
        .draw()
        .map_err(Error::plot)?;
    Ok(chart)
}

/// The chart [`category_chart`] makes.
type CategoryChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordu32>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// Bars for named quantities (row counts by outcome).
pub fn bars(axes: Axes<'_>, values: &[(String, f64)]) -> Result<String, Error> {
    let top = values.iter().map(|v| v.1).fold(0.0, f64::max).max(1.0) * 1.1;
    let labels: Vec<String> = values.iter().map(|v| v.0.clone()).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(Error::plot)?;
        let mut chart = category_chart(&root, axes, &labels, top)?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, (_, v))| {
                let i = i as u32;
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), *v),
                    ],
                    PALETTE[i as usize % PALETTE.len()].filled(),
                );
                bar.set_margin(0, 0, 8, 8);
                bar
            }))
            .map_err(Error::plot)?;
        root.present().map_err(Error::plot)?;
    }
    let drawn = values.iter().filter(|v| v.1 > 0.0).count();
    Ok(with_marks(svg, drawn))
}

/// Two bars per category, side by side (`first` then `second`, in the
/// first two colours with a legend), labelled with the categories.
pub fn paired_bars(
    axes: Axes<'_>,
    categories: &[String],
    first: (&str, &[f64]),
    second: (&str, &[f64]),
) -> Result<String, Error> {
    let n = categories.len().max(1) as u32;
    let top = first
        .1
        .iter()
        .chain(second.1)
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.15;
    // Each category's segment is split between its two bars (pixels).
    let half = ((SIZE.0 - 100) / n / 2).max(2);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(Error::plot)?;
        let mut chart = category_chart(&root, axes, categories, top)?;
        for (side, (name, values)) in [first, second].into_iter().enumerate() {
            let colour = PALETTE[side];
            chart
                .draw_series(values.iter().enumerate().map(|(i, v)| {
                    let i = i as u32;
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(i), 0.0),
                            (SegmentValue::Exact(i + 1), *v),
                        ],
                        colour.filled(),
                    );
                    let (left, right) = if side == 0 { (4, half) } else { (half, 4) };
                    bar.set_margin(0, 0, left, right);
                    bar
                }))
                .map_err(Error::plot)?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 4), (x + 14, y + 4)], colour.filled())
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(Error::plot)?;
    }
    let drawn = first.1.iter().chain(second.1).filter(|v| **v > 0.0).count();
    Ok(with_marks(svg, drawn))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const AXES: Axes<'static> = Axes {
        title: "t",
        x: "x",
        y: "y",
        whole_x: false,
        zero_y: false,
        whole_y: false,
    };

    /// Issue 29.4: tick labels are short numbers, never a float's full
    /// expansion (`0.30000000000000004`) or a count with a decimal (`200.0`).
    #[test]
    fn tick_labels_are_rounded_to_the_axis() {
        assert_eq!(tick(0.1 + 0.2, 1.0), "0.3");
        assert_eq!(tick(0.7999999999999999, 1.02), "0.8");
        assert_eq!(tick(200.0, 1200.0), "200");
        assert_eq!(tick(-0.0000001, 1.0), "0.0");
        assert_eq!(tick(3.25, 0.5), "3.25");
        let svg = chart(
            AXES,
            &[Series {
                label: String::new(),
                points: vec![(0.0, 0.0), (0.3, 0.7), (1.0, 1.0)],
            }],
            Mark::Line,
            true,
            true,
            None,
        )
        .unwrap();
        assert!(!svg.contains("0000000"), "{svg}");
    }

    /// Issue 28.4: a chart says how many data marks it draws, so that a
    /// check of the page can tell an empty chart (axes only) from a drawn one.
    #[test]
    fn charts_count_the_marks_they_draw() {
        let marks = |svg: &str| {
            let at = svg.find("data-marks=\"").unwrap() + 12;
            svg[at..]
                .split('"')
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        };
        let line = |points: Vec<(f64, f64)>| Series {
            label: "s".into(),
            points,
        };
        let drawn = chart(
            AXES,
            &[line(vec![(0.0, 1.0), (1.0, 2.0), (2.0, f64::NAN)])],
            Mark::Dot,
            false,
            false,
            None,
        )
        .unwrap();
        assert_eq!(marks(&drawn), 2);
        assert!(drawn.contains("#0072B2"), "the series' colour is drawn");
        let bars = bars(AXES, &[("a".into(), 3.0), ("b".into(), 0.0)]).unwrap();
        assert_eq!(marks(&bars), 1);
        let histogram = histogram(
            AXES,
            &Histogram {
                edges: vec![0.0, 1.0, 2.0],
                counts: vec![0, 0],
            },
        )
        .unwrap();
        assert_eq!(marks(&histogram), 0, "no bar: an empty chart");
    }
}
