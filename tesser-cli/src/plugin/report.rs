//! The self-contained HTML report of `tesser plugin replay --report`: inline
//! CSS and SVG, no scripts or external resources.
//!
//! Stable hooks for tools and tests: the chart is `svg#price-chart` with the
//! price path `polyline#price-path` (at most [`MAX_POINTS`] points) and one
//! `circle.fill-marker[data-plugin]` per fill; the legend entries are
//! `.legend-item[data-plugin]`; the figures are `table#figures` with one
//! `tr[data-plugin]` per plugin and cells `td[data-figure=<json key>]`.

use std::fmt::Write as _;
use std::path::Path;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;
use tesser_core::Tick;

use super::replay::PluginRun;

/// Most points of the drawn price path.
pub const MAX_POINTS: usize = 2000;

const PALETTE: [&str; 8] = [
    "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#e377c2", "#8c564b",
];

const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 40.0;

/// Escapes text for HTML content and attribute values.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Indices of the trades drawn: evenly spaced, first and last included, at
/// most [`MAX_POINTS`].
#[must_use]
pub fn downsample(len: usize) -> Vec<usize> {
    if len <= MAX_POINTS {
        return (0..len).collect();
    }
    let stride = (len - 1).div_ceil(MAX_POINTS - 1);
    let mut indices: Vec<usize> = (0..len).step_by(stride).collect();
    if indices.last() != Some(&(len - 1)) {
        indices.push(len - 1);
    }
    indices
}

/// Chart coordinates (drawing only: f64 never feeds a figure).
struct Scale {
    t0: f64,
    t1: f64,
    p0: f64,
    p1: f64,
}

impl Scale {
    fn x(&self, t: i64) -> f64 {
        #[allow(clippy::cast_precision_loss)] // drawing only
        let t = t as f64;
        LEFT + (t - self.t0) / (self.t1 - self.t0).max(1.0) * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, price: Decimal) -> f64 {
        let p = price.to_f64().unwrap_or(self.p0);
        TOP + (self.p1 - p) / (self.p1 - self.p0).max(f64::EPSILON) * (HEIGHT - TOP - BOTTOM)
    }
}

fn chart(trades: &[Tick], runs: &[PluginRun]) -> String {
    let (first, last) = (&trades[0], &trades[trades.len() - 1]);
    let mut low = trades.iter().map(|t| t.price).min().unwrap_or_default();
    let mut high = trades.iter().map(|t| t.price).max().unwrap_or_default();
    for fill in runs.iter().flat_map(|r| &r.fills) {
        low = low.min(fill.price);
        high = high.max(fill.price);
    }
    #[allow(clippy::cast_precision_loss)] // drawing only
    let scale = Scale {
        t0: first.timestamp_ms as f64,
        t1: last.timestamp_ms as f64,
        p0: low.to_f64().unwrap_or(0.0),
        p1: high.to_f64().unwrap_or(1.0),
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="price-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="price path with fills">"#
    );
    let _ = write!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="#fafafa" stroke="#ccc"/>"##,
        WIDTH - LEFT - RIGHT,
        HEIGHT - TOP - BOTTOM
    );
    for (price, anchor) in [(high, TOP + 4.0), (low, HEIGHT - BOTTOM)] {
        let _ = write!(
            svg,
            r#"<text class="axis" x="{}" y="{anchor:.1}" text-anchor="end">{price}</text>"#,
            LEFT - 6.0
        );
    }
    let _ = write!(
        svg,
        r#"<text class="axis" x="{LEFT}" y="{}">{} ms</text><text class="axis" x="{}" y="{}" text-anchor="end">+{} ms</text>"#,
        HEIGHT - 15.0,
        first.timestamp_ms,
        WIDTH - RIGHT,
        HEIGHT - 15.0,
        last.timestamp_ms - first.timestamp_ms
    );
    let points: Vec<String> = downsample(trades.len())
        .into_iter()
        .map(|i| {
            let t = &trades[i];
            format!("{:.2},{:.2}", scale.x(t.timestamp_ms), scale.y(t.price))
        })
        .collect();
    let _ = write!(
        svg,
        r##"<polyline id="price-path" fill="none" stroke="#555" stroke-width="1" points="{}"/>"##,
        points.join(" ")
    );
    for (i, run) in runs.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let name = escape(&run.plugin);
        let _ = write!(svg, r#"<g class="fills" data-plugin="{name}">"#);
        for fill in &run.fills {
            let _ = write!(
                svg,
                r#"<circle class="fill-marker" data-plugin="{name}" data-price="{}" data-quantity="{}" cx="{:.2}" cy="{:.2}" r="4" fill="{colour}" fill-opacity="0.75"><title>{name}: {} {} @ {} (t={})</title></circle>"#,
                fill.price,
                fill.quantity,
                scale.x(fill.time),
                scale.y(fill.price),
                fill.side,
                fill.quantity,
                fill.price,
                fill.time
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

fn cell(key: &str, value: &str) -> String {
    format!(r#"<td data-figure="{key}">{}</td>"#, escape(value))
}

fn figures_table(runs: &[PluginRun]) -> String {
    let opt = |v: Option<Decimal>| v.map_or_else(|| "-".to_owned(), |d| d.to_string());
    let mut html = String::from(
        r#"<table id="figures"><thead><tr><th>plugin</th><th>status</th><th>filled</th><th>unfilled</th><th>arrival price</th><th>avg price</th><th>shortfall (bps)</th><th>market VWAP</th><th>vs VWAP (bps)</th><th>fill ratio</th><th>child orders</th><th>duration (ms)</th><th>fills</th><th>reason</th></tr></thead><tbody>"#,
    );
    for (i, run) in runs.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let children = run
            .child_orders
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            html,
            r#"<tr data-plugin="{}"><td data-figure="plugin"><span class="swatch" style="background:{colour}"></span>{}</td>"#,
            escape(&run.plugin),
            escape(&run.plugin)
        );
        html += &cell("status", &run.status);
        html += &cell("filled", &format!("{}/{}", run.filled, run.target));
        html += &cell("unfilled", &run.unfilled.to_string());
        html += &cell("arrival_price", &run.arrival_price.to_string());
        html += &cell("avg_price", &opt(run.avg_price));
        html += &cell("shortfall_bps", &opt(run.shortfall_bps));
        html += &cell("market_vwap", &opt(run.market_vwap));
        html += &cell("vwap_slippage_bps", &opt(run.vwap_slippage_bps));
        html += &cell("fill_ratio", &opt(run.fill_ratio));
        html += &cell(
            "child_orders",
            if children.is_empty() { "0" } else { &children },
        );
        html += &cell("duration_ms", &run.duration_ms.to_string());
        html += &cell("fills", &run.fills.len().to_string());
        html += &cell("reason", run.reason.as_deref().unwrap_or(""));
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

fn legend(runs: &[PluginRun]) -> String {
    let mut html = String::from(r#"<ul id="legend">"#);
    for (i, run) in runs.iter().enumerate() {
        let _ = write!(
            html,
            r#"<li class="legend-item" data-plugin="{}"><span class="swatch" style="background:{}"></span>{} ({} fills)</li>"#,
            escape(&run.plugin),
            PALETTE[i % PALETTE.len()],
            escape(&run.plugin),
            run.fills.len()
        );
    }
    html.push_str("</ul>");
    html
}

/// The report: a price chart of `trades` with every fill of every run, and
/// the figures. `trades` must not be empty.
#[must_use]
pub fn render(data: &Path, trades: &[Tick], runs: &[PluginRun]) -> String {
    let title = format!(
        "Plugin replay: {} {} {} on {}",
        runs.first().map_or("", |r| r.side),
        runs.first().map(|r| r.target).unwrap_or_default(),
        trades[0].symbol,
        data.display()
    );
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 20px; }}
table {{ border-collapse: collapse; margin-top: 16px; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; font-variant-numeric: tabular-nums; }}
th {{ background: #f0f0f0; }}
td[data-figure="plugin"], td[data-figure="status"], td[data-figure="reason"] {{ text-align: left; }}
.swatch {{ display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 5px; }}
#legend {{ list-style: none; padding: 0; display: flex; gap: 24px; }}
.axis {{ font-size: 11px; fill: #666; }}
p.note {{ color: #666; font-size: 13px; }}
</style></head>
<body>
<h1>{title}</h1>
<p class="note">{trades} trades; the order was submitted at the first trade. Positive bps are a cost (a buy above, a sell below the reference). The price path is drawn from at most {max} trades.</p>
{legend}
{chart}
{table}
</body></html>
"#,
        title = escape(&title),
        trades = trades.len(),
        max = MAX_POINTS,
        legend = legend(runs),
        chart = chart(trades, runs),
        table = figures_table(runs),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_ends_and_bounds_points() {
        assert_eq!(downsample(3), vec![0, 1, 2]);
        for len in [2000, 2001, 2673, 20_000, 1_000_003] {
            let idx = downsample(len);
            assert!(idx.len() <= MAX_POINTS, "{len}: {}", idx.len());
            assert_eq!(idx[0], 0);
            assert_eq!(*idx.last().unwrap(), len - 1);
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
