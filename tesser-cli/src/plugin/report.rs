//! The self-contained HTML report of `tesser plugin replay --report`: inline
//! CSS and SVG, no scripts or external resources.
//!
//! Stable hooks for tools and tests: the charts are described in `chart.rs`;
//! the legend entries are `.legend-item[data-plugin]`; the figures are
//! `table#figures` with one `tr[data-plugin]` per plugin and cells
//! `td[data-figure=<json key>]`; the fill model the lab assumed is
//! `section#fill-model`.

use std::fmt::Write as _;
use std::path::Path;

use rust_decimal::Decimal;
use tesser_core::Tick;
use tesser_paper::PaperConfig;

use super::chart::{self, MAX_POINTS, Millis, PALETTE, execution_window, utc_clock, utc_date};
use super::replay::PluginRun;

/// The style rules the lab's HTML pages share: page, heading, tables.
pub const BASE_STYLE: &str = "body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; }
table { border-collapse: collapse; margin-top: 16px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; }
";

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

/// What the paper exchange assumed, as the report states it.
fn fill_model(paper: &PaperConfig) -> String {
    format!(
        r#"<section id="fill-model"><h2>Fill model</h2><ul>
<li>Only trade prints are known: no quotes, no order book.</li>
<li>Nothing fills when it is placed; an order can fill from the next print on.</li>
<li>A resting limit order fills only on a <b>trade-through</b>: a print strictly below a buy's price (above a sell's), at the limit price, as maker. A print <i>at</i> the limit fills nothing (the order may be last in the queue there).</li>
<li><b>Queue position</b> is not modelled beyond that; a print's size bounds what it fills, shared among the open orders in price-time priority.</li>
<li>Market, IOC and FOK orders take liquidity at the print's price, as taker.</li>
<li><b>Fees</b>: maker {maker} bps, taker {taker} bps of notional (<code>[paper]</code> in the config).</li>
<li><b>Latency</b>: {latency}.</li>
</ul></section>"#,
        maker = paper.maker_fee_bps,
        taker = paper.taker_fee_bps,
        latency = if paper.latency_ms > 0 {
            format!(
                "{} ms of data time; an order reaches the book that long after it is sent (<code>--latency-ms</code>)",
                paper.latency_ms
            )
        } else {
            "none; an order is on the book at once and can fill from the next print (<code>--latency-ms</code> sets a delay)".to_owned()
        },
    )
}

/// The report: the price chart over the execution window (fills, arrival
/// price, market VWAPs), an overview of the whole file, the cumulative
/// filled quantity per run, the figures and the fill model. `trades` must
/// not be empty.
#[must_use]
pub fn render(data: &Path, trades: &[Tick], runs: &[PluginRun], paper: &PaperConfig) -> String {
    let title = format!(
        "Plugin replay: {} {} {} on {}",
        runs.first().map_or("", |r| r.side),
        runs.first().map(|r| r.target).unwrap_or_default(),
        trades[0].symbol,
        data.display()
    );
    let window = execution_window(trades, runs);
    let (first, last) = (
        trades[0].timestamp_ms,
        trades[trades.len() - 1].timestamp_ms,
    );
    let mut note = String::new();
    let _ = write!(
        note,
        "{} trades from {} {} to {} UTC; the order was submitted at the first trade. The charts show the execution window, {} to {} UTC; the overview below shows the whole file. Positive bps are a cost (a buy above, a sell below the reference). Price paths are drawn from at most {} trades.",
        trades.len(),
        utc_date(first),
        utc_clock(first, Millis::Hidden),
        utc_clock(last, Millis::Hidden),
        utc_clock(window.0, Millis::Hidden),
        utc_clock(window.1, Millis::Hidden),
        MAX_POINTS
    );
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
{base}h2 {{ font-size: 16px; margin-top: 24px; }}
td[data-figure="plugin"], td[data-figure="status"], td[data-figure="reason"] {{ text-align: left; }}
.swatch {{ display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 5px; }}
#legend {{ list-style: none; padding: 0; display: flex; gap: 24px; }}
.axis {{ font-size: 11px; fill: #666; }}
p.note, #fill-model {{ color: #555; font-size: 13px; }}
</style></head>
<body>
<h1>{title}</h1>
<p class="note">{note}</p>
{legend}
<h2>Price over the execution window</h2>
<p class="note">Dashed black: arrival price. Dotted, in each plugin's colour: the market VWAP over its own window.</p>
{price}
<h2>Filled quantity over time</h2>
{filled}
<h2>The whole file</h2>
{overview}
{table}
{model}
</body></html>
"#,
        base = BASE_STYLE,
        title = escape(&title),
        note = escape(&note),
        legend = legend(runs),
        price = chart::price_chart(trades, runs, window),
        filled = chart::filled_chart(runs, window),
        overview = chart::overview_chart(trades, window),
        table = figures_table(runs),
        model = fill_model(paper),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
