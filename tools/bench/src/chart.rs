//! `--svg FILE`: a bar chart of the results, drawn with plotters' SVG backend.
//!
//! Left: throughput at the largest message size (Rust raw, Rust typed, C), with the
//! beyond-cache memcpy bandwidth as a line (the limit for one copy), on a linear axis. Right:
//! latency p50 of a 64-byte round trip on a log axis (ticks 0.1, 1, 10, 100 us), so the ring's
//! 0.2-0.5 us stays visible next to the 10-70 us of the mechanisms that sleep in the kernel.
//! The mechanism names under the bars are turned a quarter (shm-sem-1 and shm-sem-8 side by
//! side would overlap).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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

/// How a panel's y axis maps values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    Linear,
    /// Drawn as log10(value) on a linear axis, labelled with the values at whole decades.
    Log,
}

impl Scale {
    fn y(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log => v.max(1e-9).log10(),
        }
    }
}

/// The label of a log-axis tick at `y` (= log10 of the value): `0.1`, `1`, `10`, `100` at whole
/// decades, nothing between them.
fn log_tick(y: f64) -> String {
    if (y - y.round()).abs() > 0.01 {
        return String::new();
    }
    let value = 10f64.powi(y.round() as i32);
    if value >= 1.0 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
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
    scale: Scale,
) -> Result<()> {
    let values = || {
        groups
            .iter()
            .flat_map(|g| g.values.iter().flatten().copied())
            .chain(limit.map(|(v, _)| v))
    };
    let max = values().fold(0.0f64, f64::max);
    let (bottom, top) = match scale {
        // Room for the legend above the tallest bar.
        Scale::Linear => (0.0, (max * 1.3).max(1.0)),
        // Whole decades from below the smallest value to above the largest, and the legend.
        Scale::Log => {
            let min = values().filter(|v| *v > 0.0).fold(f64::MAX, f64::min);
            let low = if min == f64::MAX {
                -1.0
            } else {
                min.log10().floor()
            };
            let high = scale.y(max.max(1.0)).ceil().max(low + 1.0);
            (low, high + 0.8)
        }
    };
    let n = groups.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(80)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..n as f64, bottom..top)
        .map_err(chart_error)?;
    let decades = (top - bottom).floor() as usize + 1;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        // The names are drawn below, turned a quarter (plotters centres its turned labels on the
        // tick, which would cross into the bars).
        .x_label_formatter(&|_| String::new())
        // No light lines between decades on the log axis: they would fall at even steps of
        // log10, not at 2, 3, ... 9.
        .y_max_light_lines(if scale == Scale::Log { 0 } else { 10 })
        .y_labels(if scale == Scale::Log { decades } else { 10 })
        .y_label_formatter(&|y| match scale {
            Scale::Linear => format!("{y:.0}"),
            Scale::Log => log_tick(*y),
        })
        .y_desc(y_desc)
        .draw()
        .map_err(chart_error)?;
    for (s, color) in COLORS.iter().enumerate() {
        let bars = groups.iter().enumerate().filter_map(|(i, g)| {
            let v = g.values[s]?;
            let x0 = i as f64 + 0.1 + s as f64 * 0.27;
            Some(Rectangle::new(
                [(x0, bottom), (x0 + 0.25, scale.y(v))],
                color.filled(),
            ))
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
                vec![(0.0, scale.y(value)), (n as f64, scale.y(value))],
                BLACK.stroke_width(2),
            )))
            .map_err(chart_error)?
            .label(label)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], BLACK.stroke_width(2)));
    }
    // Each mechanism's name under its group, running down from the axis.
    let (left, top_px) = area.get_base_pixel();
    let name_style = TextStyle::from(
        ("sans-serif", 13)
            .into_font()
            .transform(FontTransform::Rotate90),
    )
    .pos(Pos::new(HPos::Left, VPos::Bottom));
    for (i, g) in groups.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, bottom));
        area.draw(&Text::new(
            g.name.clone(),
            (x - left, y - top_px + 6),
            name_style.clone(),
        ))
        .map_err(chart_error)?;
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
    let root = SVGBackend::new(path, (1400, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let (left, right) = root.split_horizontally(800);
    panel(
        &left,
        &format!("Throughput, {throughput_measure}"),
        "MiB/s",
        &groups(rows, throughput_measure),
        memcpy_mib_s.map(|v| (v, "memcpy beyond cache")),
        Scale::Linear,
    )?;
    panel(
        &right,
        "Latency p50, 64-byte round trip",
        "microseconds (log scale)",
        &groups(rows, "latency p50 (us)"),
        None,
        Scale::Log,
    )?;
    root.present().map_err(chart_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_name_whole_decades_only() {
        assert_eq!(log_tick(-1.0), "0.1");
        assert_eq!(log_tick(0.0), "1");
        assert_eq!(log_tick(2.0), "100");
        assert_eq!(log_tick(0.5), "");
        assert!((Scale::Log.y(1000.0) - 3.0).abs() < 1e-9);
    }
}
