//! The visits chart as SVG, drawn on the server: one bar per bucket, visits
//! in a light bar with the bucket's unique visitors inside it. This module
//! computes the geometry; `templates/chart.svg` draws it (and escapes it).
//! Colours and sizes are SVG attributes rather than CSS, so the standalone
//! `/chart.svg` looks like the inline one, and no inline style is needed
//! under the page's Content-Security-Policy.

use askama::Template;

use crate::stats::{model::SeriesPoint, range::Granularity};

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 28.0;
const MAX_LABELS: usize = 8;

#[derive(Template)]
#[template(path = "chart.svg")]
pub struct BarChart {
    pub title: String,
    width: f64,
    height: f64,
    left: f64,
    right_edge: f64,
    bars: Vec<Bar>,
    grid: Vec<GridLine>,
}

struct Bar {
    tooltip: String,
    label: Option<String>,
    label_x: f64,
    visits: Rect,
    unique: Rect,
}

struct Rect {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

struct GridLine {
    y: f64,
    value: i64,
}

impl BarChart {
    /// `series` must hold every bucket, empty ones as zeros.
    pub fn new(series: &[SeriesPoint], granularity: Granularity, title: String) -> Self {
        let plot_width = WIDTH - LEFT - RIGHT;
        let plot_height = HEIGHT - TOP - BOTTOM;
        let max = series.iter().map(|p| p.visits).max().unwrap_or(0).max(1);
        let slot = plot_width / series.len().max(1) as f64;
        let baseline = TOP + plot_height;
        let height_of = |value: i64| value as f64 / max as f64 * plot_height;
        let label_every = series.len().div_ceil(MAX_LABELS).max(1);

        let bars = series
            .iter()
            .enumerate()
            .map(|(i, point)| {
                let x = LEFT + i as f64 * slot;
                let label = granularity.label(point.start);
                let bar = |value: i64, inset: f64| Rect {
                    x: x + slot * inset,
                    y: baseline - height_of(value),
                    width: slot * (1.0 - 2.0 * inset),
                    height: height_of(value),
                };
                Bar {
                    tooltip: format!(
                        "{label}: {} visits, {} unique visitors",
                        point.visits, point.unique_visitors
                    ),
                    label: (i % label_every == 0).then_some(label),
                    label_x: x + slot / 2.0,
                    visits: bar(point.visits, 0.1),
                    unique: bar(point.unique_visitors, 0.25),
                }
            })
            .collect();
        let grid = [0, max / 2, max]
            .into_iter()
            .map(|value| GridLine {
                y: baseline - height_of(value),
                value,
            })
            .collect();
        Self {
            title,
            width: WIDTH,
            height: HEIGHT,
            left: LEFT,
            right_edge: WIDTH - RIGHT,
            bars,
            grid,
        }
    }
}
