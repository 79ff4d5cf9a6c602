//! The visits chart as SVG, drawn on the server: one bar per bucket, visits
//! in a light bar with the bucket's unique visitors inside it. This module
//! computes the geometry; `templates/chart.svg` draws it (and escapes it).
//! Colours and sizes are SVG attributes rather than CSS, so the standalone
//! `/chart.svg` looks like the inline one, and no inline style is needed
//! under the page's Content-Security-Policy.
//!
//! An SVG scales as a whole, text included: the wide chart squeezed into a
//! phone's 320–390 px had 4–5 px labels over a thin strip of plot. So the
//! chart is drawn in two layouts by the same code ([`ChartLayout`]): wide,
//! and narrow with its own viewBox (fewer units across, so its text comes out
//! larger), a taller plot and fewer labels. The page inlines both and
//! `static/style.css` shows one by a media query; this needs no JavaScript
//! and no inline style, and each drawing stays a complete standalone SVG
//! (`/chart.svg` serves the wide one). Labels
//! and legend in HTML around a plot stretched to any width were the other
//! way; they would have made `/chart.svg` a plot without axes.

use askama::Template;
use chrono_tz::Tz;

use crate::stats::{model::SeriesPoint, range::Granularity};

/// The two drawings of a chart, for wide and for narrow screens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartLayout {
    Wide,
    Narrow,
}

/// The sizes of a layout, in viewBox units. Font sizes are chosen for the
/// widths the layout is shown at (`static/style.css`): the wide one from
/// 48rem (about 680 px of chart, so 13 units are at least 11 px), the narrow
/// one below (at 320 px the chart is about 254 px wide: 15 of 340 units
/// make 11.2 px; at 390 px, 14.3 px with a plot 210 px tall).
struct Geometry {
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    font_size: f64,
    max_labels: usize,
}

impl ChartLayout {
    /// Its name in the SVG's class (`chart-wide`, `chart-narrow`) and ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wide => "wide",
            Self::Narrow => "narrow",
        }
    }

    fn geometry(self) -> Geometry {
        match self {
            Self::Wide => Geometry {
                width: 800.0,
                height: 270.0,
                left: 52.0,
                right: 10.0,
                top: 32.0,
                bottom: 30.0,
                font_size: 13.0,
                max_labels: 8,
            },
            Self::Narrow => Geometry {
                width: 340.0,
                height: 310.0,
                left: 50.0,
                right: 10.0,
                top: 36.0,
                bottom: 34.0,
                font_size: 15.0,
                max_labels: 4,
            },
        }
    }
}

#[derive(Template)]
#[template(path = "chart.svg")]
pub struct BarChart {
    pub title: String,
    layout: &'static str,
    width: f64,
    height: f64,
    font_size: f64,
    left: f64,
    right_edge: f64,
    legend: Vec<LegendItem>,
    label_y: f64,
    bars: Vec<Bar>,
    grid: Vec<GridLine>,
    /// The period before's visits, bucket beside bucket, as a dashed line:
    /// its points (`x,y x,y …`), empty when there is none.
    previous: String,
}

struct LegendItem {
    x: f64,
    y: f64,
    size: f64,
    text_x: f64,
    text_y: f64,
    colour: &'static str,
    text: &'static str,
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
    label_y: f64,
    value: i64,
}

impl BarChart {
    /// `series` must hold every bucket, empty ones as zeros; `previous`,
    /// the period before's visits by bucket (none, or as many as drawn).
    pub fn new(
        series: &[SeriesPoint],
        previous: &[i64],
        granularity: Granularity,
        zone: Tz,
        title: String,
        layout: ChartLayout,
    ) -> Self {
        let g = layout.geometry();
        let plot_width = g.width - g.left - g.right;
        let plot_height = g.height - g.top - g.bottom;
        let previous = &previous[..previous.len().min(series.len())];
        let max = series
            .iter()
            .map(|p| p.visits)
            .chain(previous.iter().copied())
            .max()
            .unwrap_or(0)
            .max(1);
        let slot = plot_width / series.len().max(1) as f64;
        let baseline = g.top + plot_height;
        let height_of = |value: i64| value as f64 / max as f64 * plot_height;
        let label_every = series.len().div_ceil(g.max_labels).max(1);

        let bars = series
            .iter()
            .enumerate()
            .map(|(i, point)| {
                let x = g.left + i as f64 * slot;
                let label = granularity.label_in(point.start, zone);
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
            .map(|value| {
                let y = baseline - height_of(value);
                GridLine {
                    y,
                    label_y: y + g.font_size * 0.35,
                    value,
                }
            })
            .collect();
        let previous = previous
            .iter()
            .enumerate()
            .map(|(i, visits)| {
                let x = g.left + (i as f64 + 0.5) * slot;
                format!("{x:.1},{:.1}", baseline - height_of(*visits))
            })
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            title,
            previous,
            layout: layout.as_str(),
            width: g.width,
            height: g.height,
            font_size: g.font_size,
            left: g.left,
            right_edge: g.width - g.right,
            legend: legend(&g),
            label_y: g.height - g.font_size * 0.8,
            bars,
            grid,
        }
    }
}

/// The legend's swatches and words in a row above the plot, spaced by an
/// estimate of the words' width (0.6 em a character is generous for the
/// sans-serif fonts the chart asks for).
fn legend(g: &Geometry) -> Vec<LegendItem> {
    let size = g.font_size * 0.8;
    let text_y = g.font_size * 1.2;
    let mut x = g.left;
    [("#b9cdf3", "visits"), ("#2f6fde", "unique visitors")]
        .into_iter()
        .map(|(colour, text)| {
            let item = LegendItem {
                x,
                y: text_y - size,
                size,
                text_x: x + size + g.font_size * 0.3,
                text_y,
                colour,
                text,
            };
            x = item.text_x + text.len() as f64 * g.font_size * 0.6 + g.font_size;
            item
        })
        .collect()
}
