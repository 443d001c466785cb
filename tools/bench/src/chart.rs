//! `--svg FILE`: a bar chart of the results, drawn with plotters' SVG backend.
//!
//! Left: throughput at the largest message size (Rust raw, Rust typed, C), with the
//! beyond-cache memcpy bandwidth as a dashed line (the limit for one copy). Right: latency
//! p50 of a 64-byte round trip.

use std::path::Path;

use plotters::prelude::*;

use ipc_common::{Error, Result};

use crate::report::{Cell, Row};

const COLORS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(120, 120, 120),
];
const SERIES: [&str; 3] = ["Rust raw", "Rust typed", "C"];

/// One group of bars: a mechanism and its three values.
struct Group {
    name: String,
    values: [Option<f64>; 3],
}

fn groups(rows: &[Row], measure: &str) -> Vec<Group> {
    let value = |c: Option<Cell>| c.map(|c| c.value);
    rows.iter()
        .filter(|r| r.measure == measure)
        .map(|r| Group {
            name: r.mech.clone(),
            values: [value(r.raw), value(r.typed), value(r.c)],
        })
        .collect()
}

fn chart_error(err: impl std::fmt::Display) -> Error {
    Error::new("drawing the SVG chart", err.to_string())
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    title: &str,
    y_desc: &str,
    groups: &[Group],
    limit: Option<(f64, &str)>,
) -> Result<()> {
    let top = groups
        .iter()
        .flat_map(|g| g.values.iter().flatten().copied())
        .chain(limit.map(|(v, _)| v))
        .fold(0.0f64, f64::max)
        * 1.3; // room for the legend above the tallest bar
    let n = groups.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..n as f64, 0f64..top.max(1.0))
        .map_err(chart_error)?;
    let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            // Label only at the middle of each group.
            if (x - i as f64 - 0.5).abs() < 0.01 {
                names.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(y_desc)
        .draw()
        .map_err(chart_error)?;
    for (s, color) in COLORS.iter().enumerate() {
        let bars = groups.iter().enumerate().filter_map(|(i, g)| {
            let v = g.values[s]?;
            let x0 = i as f64 + 0.1 + s as f64 * 0.27;
            Some(Rectangle::new([(x0, 0.0), (x0 + 0.25, v)], color.filled()))
        });
        chart
            .draw_series(bars)
            .map_err(chart_error)?
            .label(SERIES[s])
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    if let Some((value, label)) = limit {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, value), (n as f64, value)],
                BLACK.stroke_width(2),
            )))
            .map_err(chart_error)?
            .label(label)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], BLACK.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(chart_error)?;
    Ok(())
}

/// Writes the chart to `path`. `throughput_measure` names the rows of the left panel.
pub fn write_svg(
    path: &Path,
    rows: &[Row],
    throughput_measure: &str,
    memcpy_mib_s: Option<f64>,
) -> Result<()> {
    let root = SVGBackend::new(path, (1400, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let (left, right) = root.split_horizontally(800);
    panel(
        &left,
        &format!("Throughput, {throughput_measure}"),
        "MiB/s",
        &groups(rows, throughput_measure),
        memcpy_mib_s.map(|v| (v, "memcpy beyond cache")),
    )?;
    panel(
        &right,
        "Latency p50, 64-byte round trip",
        "microseconds",
        &groups(rows, "latency p50 (us)"),
        None,
    )?;
    root.present().map_err(chart_error)?;
    Ok(())
}
