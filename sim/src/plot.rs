//! SVG plots of scenario reports and sweeps (plotters, no system fonts needed).
//!
//! One run gives `delivery.svg` (share of messages delivered by each time after sending, so
//! loss shows as a curve that stays below 1), `latency_cdf.svg` (the same over delivered
//! messages only) and `bytes.svg` (bytes sent per node over the run). A sweep gives one plot
//! per metric against the varied key, with a 95 % confidence interval over seeds and, for
//! first-spy precision, the Crowds bound as a line.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::scenario::Report;

/// Why a plot could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("plot {path}: {message}")]
pub struct PlotError {
    path: String,
    message: String,
}

fn failed(path: &Path, error: impl std::fmt::Display) -> PlotError {
    PlotError {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

/// One curve: a label and its points.
pub struct Curve {
    /// The legend's text.
    pub label: String,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// What frames a chart: its title, axes and where the legend goes.
struct Frame<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    x: Range<f64>,
    y: Range<f64>,
    legend: SeriesLabelPosition,
}

/// The chart every plot draws on.
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws a framed chart into `path`: the frame, then what `series` draws, then the legend.
fn draw(
    path: &Path,
    frame: Frame<'_>,
    series: impl FnOnce(&mut Chart<'_, '_>) -> Result<(), PlotError>,
) -> Result<(), PlotError> {
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| failed(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(frame.title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(frame.x, frame.y)
        .map_err(|e| failed(path, e))?;
    chart
        .configure_mesh()
        .x_desc(frame.x_label)
        .y_desc(frame.y_label)
        .draw()
        .map_err(|e| failed(path, e))?;
    series(&mut chart)?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(frame.legend)
        .draw()
        .map_err(|e| failed(path, e))?;
    root.present().map_err(|e| failed(path, e))
}

/// The legend's sample of a line in `color`.
fn legend_line(color: RGBAColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
}

/// Draws `curves` as lines on one chart.
pub fn lines(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[Curve],
) -> Result<(), PlotError> {
    let (x_max, y_max) = curves
        .iter()
        .flat_map(|c| c.points.iter())
        .fold((0.0f64, 0.0f64), |(x, y), p| (x.max(p.0), y.max(p.1)));
    let frame = Frame {
        title,
        x_label,
        y_label,
        x: 0.0..x_max.max(1e-9) * 1.05,
        y: 0.0..y_max.max(1e-9) * 1.05,
        legend: SeriesLabelPosition::LowerRight,
    };
    draw(path, frame, |chart| {
        for (i, curve) in curves.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    curve.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(|e| failed(path, e))?
                .label(curve.label.clone())
                .legend(legend_line(color));
        }
        Ok(())
    })
}

/// One series of a sweep plot: for each x, the mean and the half-width of its confidence
/// interval.
pub struct Interval {
    /// The legend's text.
    pub label: String,
    /// (x, mean, half-width).
    pub points: Vec<(f64, f64, f64)>,
}

/// Draws means with error bars, plus `reference` lines (e.g. an analytic bound).
pub fn intervals(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Interval],
    reference: &[Curve],
) -> Result<(), PlotError> {
    let xs = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(reference.iter().flat_map(|c| c.points.iter().map(|p| p.0)));
    let (x_min, x_max) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let y_max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1 + p.2))
        .chain(reference.iter().flat_map(|c| c.points.iter().map(|p| p.1)))
        .fold(0.0f64, f64::max);
    let (x_min, x_max) = if x_min > x_max {
        (0.0, 1.0)
    } else {
        (x_min, x_max)
    };
    let pad = ((x_max - x_min) * 0.05).max(1e-3);
    let frame = Frame {
        title,
        x_label,
        y_label,
        x: x_min - pad..x_max + pad,
        y: 0.0..y_max.max(1e-9) * 1.1,
        legend: SeriesLabelPosition::UpperLeft,
    };
    draw(path, frame, |chart| {
        for (i, s) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().map(|p| (p.0, p.1)),
                    color.stroke_width(2),
                ))
                .map_err(|e| failed(path, e))?
                .label(s.label.clone())
                .legend(legend_line(color));
            chart
                .draw_series(s.points.iter().map(|&(x, m, h)| {
                    ErrorBar::new_vertical(x, m - h, m, m + h, color.filled(), 8)
                }))
                .map_err(|e| failed(path, e))?;
        }
        for (i, c) in reference.iter().enumerate() {
            let color = Palette99::pick(series.len() + i).to_rgba();
            chart
                .draw_series(DashedLineSeries::new(
                    c.points.iter().copied(),
                    6,
                    4,
                    color.stroke_width(2),
                ))
                .map_err(|e| failed(path, e))?
                .label(c.label.clone())
                .legend(legend_line(color));
        }
        Ok(())
    })
}

/// The empirical CDF of sorted `latencies`, scaled to `reach` (the delivery ratio: 1 for the
/// latency CDF), as (milliseconds, share) points.
fn cdf(latencies: &[Duration], reach: f64) -> Vec<(f64, f64)> {
    let n = latencies.len().max(1) as f64;
    let mut points = vec![(0.0, 0.0)];
    points.extend(
        (latencies.iter().enumerate())
            .map(|(i, d)| (d.as_secs_f64() * 1000.0, reach * (i + 1) as f64 / n)),
    );
    points
}

/// Writes the plots of one run into `dir`; returns the files written.
pub fn plot_run(report: &Report, dir: &Path) -> Result<Vec<String>, PlotError> {
    let mut written = Vec::new();
    let kinds = [
        ("posts", &report.latencies.chat, report.chat.delivery_ratio),
        (
            "anonymous messages",
            &report.latencies.anon,
            report.anon.delivery_ratio,
        ),
        (
            "voice frames",
            &report.latencies.calls,
            report
                .calls
                .as_ref()
                .map_or(1.0, |c| 1.0 - c.frames_lost_ratio),
        ),
    ];
    let present: Vec<_> = kinds.iter().filter(|k| !k.1.is_empty()).collect();
    if !present.is_empty() {
        let delivery: Vec<Curve> = (present.iter())
            .map(|(label, l, ratio)| Curve {
                label: format!("{label} ({:.1} % delivered)", 100.0 * ratio),
                points: cdf(l, *ratio),
            })
            .collect();
        let file = dir.join("delivery.svg");
        lines(
            &file,
            &format!("{}: share delivered within a time", report.scenario),
            "milliseconds after sending",
            "share of messages delivered",
            &delivery,
        )?;
        written.push("delivery.svg".to_string());
        let latency: Vec<Curve> = (present.iter())
            .map(|(label, l, _)| Curve {
                label: label.to_string(),
                points: cdf(l, 1.0),
            })
            .collect();
        let file = dir.join("latency_cdf.svg");
        lines(
            &file,
            &format!("{}: latency of delivered messages (CDF)", report.scenario),
            "milliseconds",
            "share of deliveries",
            &latency,
        )?;
        written.push("latency_cdf.svg".to_string());
    }
    let bytes = Curve {
        label: "mean bytes sent per node".into(),
        points: (report.timeline.iter())
            .map(|s| (s.t_s, s.bytes_per_node / 1024.0))
            .collect(),
    };
    lines(
        &dir.join("bytes.svg"),
        &format!("{}: traffic per node", report.scenario),
        "seconds into the workload",
        "KiB sent per node (cumulative)",
        &[bytes],
    )?;
    written.push("bytes.svg".to_string());
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cdf_climbs_to_its_reach() {
        let l = [Duration::from_millis(10), Duration::from_millis(30)];
        assert_eq!(cdf(&l, 0.5), vec![(0.0, 0.0), (10.0, 0.25), (30.0, 0.5)]);
    }

    #[test]
    fn plots_are_svg_files_with_their_labels() {
        let dir = std::env::temp_dir().join(format!("peerster-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("x.svg");
        let series = [Interval {
            label: "crowds".into(),
            points: vec![(0.5, 0.6, 0.05), (0.9, 0.4, 0.03)],
        }];
        let bound = [Curve {
            label: "Crowds bound".into(),
            points: vec![(0.5, 0.62), (0.9, 0.39)],
        }];
        intervals(&file, "precision", "p_stem", "precision", &series, &bound).unwrap();
        let svg = std::fs::read_to_string(&file).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.contains("Crowds bound") && svg.contains("p_stem"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
