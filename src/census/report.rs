//! `report.html`: the summary for people, static (no script), with tables and inline SVG bar
//! charts, rendered from `templates/census/report.html.j2`. Every figure shown is one of
//! `summary.json`'s; each bar carries it in `data-value` so a test (or a reader's script) can
//! match the picture to the numbers.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::select::human_bytes;
use super::summary::Summary;

const TEMPLATE: &str = include_str!("../../templates/census/report.html.j2");

/// Width in pixels of the longest bar; labels and values take the rest of the chart.
const BAR_SPACE: f64 = 360.0;
const ROW_HEIGHT: u64 = 22;

/// One bar chart.
#[derive(Debug, Serialize)]
struct Chart {
    /// The summary field it draws (`by_format`, …).
    field: &'static str,
    title: &'static str,
    height: u64,
    bars: Vec<Bar>,
}

#[derive(Debug, Serialize)]
struct Bar {
    label: String,
    value: u64,
    /// The value for people (`12.3 MB` for bytes).
    shown: String,
    width: f64,
    y: u64,
}

fn chart(
    field: &'static str,
    title: &'static str,
    rows: impl IntoIterator<Item = (String, u64)>,
    bytes: bool,
) -> Chart {
    let rows: Vec<(String, u64)> = rows.into_iter().collect();
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let bars: Vec<Bar> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, value))| Bar {
            shown: if bytes {
                human_bytes(value)
            } else {
                value.to_string()
            },
            width: (value as f64 / max * BAR_SPACE)
                .round()
                .max(if value > 0 { 1.0 } else { 0.0 }),
            y: i as u64 * ROW_HEIGHT,
            label,
            value,
        })
        .collect();
    Chart {
        field,
        title,
        height: (bars.len() as u64).max(1) * ROW_HEIGHT,
        bars,
    }
}

/// The charts of the report, from the summary.
fn charts(summary: &Summary) -> Vec<Chart> {
    vec![
        chart(
            "by_area",
            "Packages with weights, by archive area",
            summary
                .by_area
                .iter()
                .map(|(area, count)| (area.clone(), count.with_weights)),
            false,
        ),
        chart(
            "by_format",
            "Packages with weights, by format",
            summary
                .by_format
                .iter()
                .map(|(format, count)| (format.clone(), count.packages)),
            false,
        ),
        chart(
            "provenance",
            "Packages with weights: provenance.json present or not",
            [
                ("present".to_string(), summary.provenance.present),
                ("absent".to_string(), summary.provenance.absent),
            ],
            false,
        ),
        chart(
            "categories",
            "Packages with weights, by ML-Policy category (where known)",
            summary.categories.clone(),
            false,
        ),
        chart(
            "download_checksums",
            "Weight downloads, by the checksum they verify",
            summary.download_checksums.clone(),
            false,
        ),
        chart(
            "top_by_model_size",
            "Largest packages by size of their weights",
            summary
                .top_by_model_size
                .iter()
                .map(|top| (top.package.clone(), top.model_bytes)),
            true,
        ),
    ]
}

/// Renders `summary` into `dir/report.html`.
pub fn write(summary: &Summary, shards: &[String], dir: &Path) -> Result<()> {
    let mut env = crate::templates::environment();
    env.add_filter("bytes", |value: u64| human_bytes(value));
    // The name ends in .html: minijinja escapes every value for HTML.
    env.add_template("report.html", TEMPLATE)?;
    let html = env
        .get_template("report.html")?
        .render(minijinja::context! {
            summary => summary,
            charts => charts(summary),
            shards => shards,
            bar_space => BAR_SPACE,
            times => minijinja::context! {
                fetch => format!("{:.1}", summary.timings.fetch_seconds),
                check => format!("{:.1}", summary.timings.check_seconds),
                fetch_per_package => format!("{:.2}", summary.timings.fetch_seconds_per_package),
                check_per_package => format!("{:.2}", summary.timings.check_seconds_per_package),
            },
        })?;
    let path = dir.join("report.html");
    std::fs::write(&path, html).with_context(|| format!("cannot write {}", path.display()))
}
