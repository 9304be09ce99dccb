//! Charts of the results: each chart's data as JSON and the chart drawn from it as SVG
//! (plotters), side by side, for BENCHMARKS.md. A full run writes them into
//! `docs/charts`, which BENCHMARKS.md shows; a `--quick` run (the smoke test) into
//! `target/bench-charts`, so it draws every chart without touching the committed ones.
//! `bench charts` draws every SVG of `docs/charts` again from its JSON.

use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::common::{machine_line, repo_root};

/// One line of a chart: its name and its `(x, y)` points.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) points: Vec<(f64, f64)>,
}

/// A line chart and where its figures come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Chart {
    pub(crate) title: String,
    /// The command that measured the figures.
    pub(crate) command: String,
    pub(crate) machine: String,
    pub(crate) x_label: String,
    pub(crate) y_label: String,
    pub(crate) log_x: bool,
    pub(crate) log_y: bool,
    pub(crate) series: Vec<Series>,
    /// Where the legend goes: where no line runs.
    legend: Legend,
}

/// Where a chart's legend goes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Legend {
    LowerRight,
    MiddleLeft,
}

impl Legend {
    fn position(self) -> SeriesLabelPosition {
        match self {
            Legend::LowerRight => SeriesLabelPosition::LowerRight,
            Legend::MiddleLeft => SeriesLabelPosition::MiddleLeft,
        }
    }
}

/// Colours of the series, in order (plain first, ours second, the JS stack third).
const COLOURS: [RGBColor; 4] = [
    RGBColor(90, 90, 90),
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
];

impl Chart {
    pub(crate) fn new(title: &str, command: &str, x_label: &str, y_label: &str) -> Self {
        Self {
            title: title.to_owned(),
            command: command.to_owned(),
            machine: machine_line(),
            x_label: x_label.to_owned(),
            y_label: y_label.to_owned(),
            log_x: false,
            log_y: false,
            series: Vec::new(),
            legend: Legend::LowerRight,
        }
    }

    /// The legend in the middle of the left side (default: lower right).
    pub(crate) fn legend_middle_left(mut self) -> Self {
        self.legend = Legend::MiddleLeft;
        self
    }

    pub(crate) fn log_x(mut self) -> Self {
        self.log_x = true;
        self
    }

    pub(crate) fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    pub(crate) fn series(mut self, name: &str, points: Vec<(f64, f64)>) -> Self {
        self.series.push(Series {
            name: name.to_owned(),
            points,
        });
        self
    }

    /// Writes `NAME.json` and `NAME.svg` into the charts directory (`docs/charts`, or
    /// `target/bench-charts` when `quick`) and says where.
    pub(crate) fn save(&self, name: &str, quick: bool) -> Result<(), String> {
        let dir = charts_dir(quick);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let json = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        let data = dir.join(format!("{name}.json"));
        std::fs::write(&data, json + "\n").map_err(|e| format!("{}: {e}", data.display()))?;
        let svg = dir.join(format!("{name}.svg"));
        self.draw(&svg)?;
        println!(
            "chart: {CHARTS}/{name}.svg (data: {name}.json)",
            CHARTS = charts_path(quick)
        );
        Ok(())
    }

    fn draw(&self, path: &Path) -> Result<(), String> {
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        // Log axes get a margin of a factor of 1.5 each side; a linear x axis spans the
        // points, a linear y axis starts at 0.
        let bounds = |f: fn(&(f64, f64)) -> f64, log: bool, from_zero: bool| {
            let (lo, hi) = points()
                .map(f)
                .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
            if lo > hi {
                return (0.0, 1.0);
            }
            let pad = (hi - lo) * 0.05 + f64::EPSILON;
            match (log, from_zero) {
                (true, _) => (lo.max(f64::MIN_POSITIVE) / 1.5, hi * 1.5),
                (false, true) => (lo.min(0.0), hi + 2.0 * pad),
                (false, false) => (lo - pad, hi + pad),
            }
        };
        let x = bounds(|p| p.0, self.log_x, false);
        let y = bounds(|p| p.1, self.log_y, true);
        match (self.log_x, self.log_y) {
            (false, false) => self.draw_on(path, x.0..x.1, y.0..y.1),
            (true, false) => self.draw_on(path, (x.0..x.1).log_scale(), y.0..y.1),
            (false, true) => self.draw_on(path, x.0..x.1, (y.0..y.1).log_scale()),
            (true, true) => self.draw_on(path, (x.0..x.1).log_scale(), (y.0..y.1).log_scale()),
        }
    }

    fn draw_on<X, Y>(&self, path: &Path, x: X, y: Y) -> Result<(), String>
    where
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(x, y)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&|v| axis_label(*v))
            .y_label_formatter(&|v| axis_label(*v))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(|e| fail(&e))?;
        for (series, colour) in self.series.iter().zip(COLOURS.iter().cycle()) {
            let colour = *colour;
            chart
                .draw_series(LineSeries::new(
                    series.points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(|e| fail(&e))?
                .label(&series.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(
                    series
                        .points
                        .iter()
                        .map(|p| Circle::new(*p, 3, colour.filled())),
                )
                .map_err(|e| fail(&e))?;
        }
        chart
            .configure_series_labels()
            .position(self.legend.position())
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))
    }
}

/// `bench charts`: draws the SVG of every chart in `docs/charts` again from its JSON
/// (after a change to how charts look, without measuring again).
pub(crate) fn redraw() -> Result<(), String> {
    let dir = charts_dir(false);
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    for data in entries {
        let text =
            std::fs::read_to_string(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        let chart: Chart =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", data.display()))?;
        let svg = data.with_extension("svg");
        chart.draw(&svg)?;
        println!(
            "chart: {}",
            svg.strip_prefix(repo_root()).unwrap_or(&svg).display()
        );
    }
    Ok(())
}

/// An axis label: `100,000`, `2.5`, `0.75` (no `100000.0`).
fn axis_label(value: f64) -> String {
    if value.abs() >= 1000.0 || value.fract() == 0.0 {
        let digits = format!("{:.0}", value.abs());
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if value < 0.0 { format!("-{out}") } else { out }
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').to_owned()
    }
}

/// The charts directory, relative to the repository root.
fn charts_path(quick: bool) -> &'static str {
    if quick {
        "target/bench-charts"
    } else {
        "docs/charts"
    }
}

fn charts_dir(quick: bool) -> PathBuf {
    repo_root().join(charts_path(quick))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::Chart;

    #[test]
    fn axis_labels_are_short() {
        let labels: Vec<String> = [100_000.0, 1_000.0, 120.0, 2.5, 0.75, 0.0, -20_000.0]
            .into_iter()
            .map(super::axis_label)
            .collect();
        assert_eq!(
            labels,
            ["100,000", "1,000", "120", "2.5", "0.75", "0", "-20,000"]
        );
    }

    #[test]
    fn draws_every_series_and_its_legend() {
        let chart = Chart::new("t", "bench x", "users", "requests/s")
            .log_x()
            .series("plain axum", vec![(1.0, 100.0), (1000.0, 90.0)])
            .series("ours", vec![(1.0, 80.0), (1000.0, 70.0)]);
        let path = std::env::temp_dir().join(format!("bench-chart-{}.svg", std::process::id()));
        chart.draw(&path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        // One polyline per series, and both names in the legend.
        // Each series: its line and its mark in the legend, in its colour.
        for colour in ["#5A5A5A", "#1F77B4"] {
            let stroke = format!("stroke=\"{colour}\" stroke-width=\"2\"");
            assert_eq!(svg.matches(&stroke).count(), 2, "{colour}");
        }
        assert!(svg.contains(">\nplain axum\n</text>"), "{svg}");
        assert!(svg.contains(">\nours\n</text>"), "{svg}");
    }
}
