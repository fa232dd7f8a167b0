//! The SVG charts of the replay report: the price path zoomed to the
//! execution window (fills, arrival price, each run's market VWAP), an
//! overview of the whole file, and the cumulative filled quantity per run,
//! all on a UTC clock-time axis.
//!
//! Stable hooks (see `report.rs` for the page's): `svg#price-chart` with
//! `polyline#price-path`, `circle.fill-marker[data-plugin]`,
//! `line#arrival-line` and `line.vwap-line[data-plugin]`;
//! `svg#overview-chart` with `polyline#overview-path` and
//! `rect#overview-window`; `svg#filled-chart` with one
//! `polyline.filled-path[data-plugin]` per run; time labels
//! `text.time-tick`.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;
use tesser_core::Tick;

use super::replay::PluginRun;
use super::report::escape;

/// Most points of a drawn price path.
pub const MAX_POINTS: usize = 2000;

/// Colours of the runs, in order.
pub const PALETTE: [&str; 8] = [
    "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#e377c2", "#8c564b",
];

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 40.0;
const PRICE_HEIGHT: f64 = 420.0;
const FILLED_HEIGHT: f64 = 220.0;
const OVERVIEW_HEIGHT: f64 = 110.0;

/// Indices of the `len` items drawn: evenly spaced, first and last
/// included, at most `max`.
#[must_use]
pub fn downsample(len: usize, max: usize) -> Vec<usize> {
    if len <= max {
        return (0..len).collect();
    }
    let stride = (len - 1).div_ceil(max.max(2) - 1);
    let mut indices: Vec<usize> = (0..len).step_by(stride).collect();
    if indices.last() != Some(&(len - 1)) {
        indices.push(len - 1);
    }
    indices
}

/// `(year, month, day)` of a day count since 1970-01-01 (proleptic
/// Gregorian; Howard Hinnant's `civil_from_days`).
#[must_use]
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// `YYYY-MM-DD` of a Unix time in ms (UTC).
#[must_use]
pub fn utc_date(ms: i64) -> String {
    let (year, month, day) = civil_from_days(ms.div_euclid(86_400_000));
    format!("{year:04}-{month:02}-{day:02}")
}

/// `HH:MM:SS` of a Unix time in ms (UTC), with `.mmm` when `millis`.
#[must_use]
pub fn utc_clock(ms: i64, millis: Millis) -> String {
    let of_day = ms.rem_euclid(86_400_000);
    let (h, m, s) = (of_day / 3_600_000, of_day / 60_000 % 60, of_day / 1000 % 60);
    match millis {
        Millis::Shown => format!("{h:02}:{m:02}:{s:02}.{:03}", of_day % 1000),
        Millis::Hidden => format!("{h:02}:{m:02}:{s:02}"),
    }
}

/// Whether a clock label shows milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Millis {
    /// `HH:MM:SS.mmm`.
    Shown,
    /// `HH:MM:SS`.
    Hidden,
}

/// Round tick steps of a time axis, ms.
const STEPS: [i64; 19] = [
    1, 10, 100, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
    900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 86_400_000,
];

/// The tick times of an axis over `[t0, t1]`: a round step giving at most
/// about eight ticks.
#[must_use]
pub fn time_ticks(t0: i64, t1: i64) -> (Vec<i64>, i64) {
    let span = (t1 - t0).max(1);
    let step = STEPS
        .iter()
        .copied()
        .find(|step| span / step <= 8)
        .unwrap_or(86_400_000);
    let first = t0.div_euclid(step) * step + if t0.rem_euclid(step) == 0 { 0 } else { step };
    let ticks = (0..)
        .map(|i| first + i * step)
        .take_while(|t| *t <= t1)
        .collect();
    (ticks, step)
}

/// Chart coordinates over a time range and a value range (drawing only:
/// f64 never feeds a figure).
struct Scale {
    t0: i64,
    t1: i64,
    v0: f64,
    v1: f64,
    height: f64,
}

impl Scale {
    fn x(&self, t: i64) -> f64 {
        #[allow(clippy::cast_precision_loss)] // drawing only
        let offset = (t - self.t0) as f64;
        #[allow(clippy::cast_precision_loss)] // drawing only
        let span = (self.t1 - self.t0).max(1) as f64;
        LEFT + offset / span * (WIDTH - LEFT - RIGHT)
    }

    fn y(&self, value: Decimal) -> f64 {
        let v = value.to_f64().unwrap_or(self.v0);
        TOP + (self.v1 - v) / (self.v1 - self.v0).max(f64::EPSILON) * (self.height - TOP - BOTTOM)
    }
}

/// The plot frame and the value labels at the top and bottom.
fn frame(svg: &mut String, scale: &Scale, high: &str, low: &str) {
    let _ = write!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="#fafafa" stroke="#ccc"/>"##,
        WIDTH - LEFT - RIGHT,
        scale.height - TOP - BOTTOM
    );
    for (label, anchor) in [(high, TOP + 4.0), (low, scale.height - BOTTOM)] {
        let _ = write!(
            svg,
            r#"<text class="axis" x="{}" y="{anchor:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            escape(label)
        );
    }
}

/// The UTC time axis under a chart, with its title.
fn time_axis(svg: &mut String, scale: &Scale) {
    let (ticks, step) = time_ticks(scale.t0, scale.t1);
    let millis = if step < 1000 {
        Millis::Shown
    } else {
        Millis::Hidden
    };
    let bottom = scale.height - BOTTOM;
    for t in ticks {
        let x = scale.x(t);
        let _ = write!(
            svg,
            r##"<line x1="{x:.2}" y1="{TOP}" x2="{x:.2}" y2="{bottom:.1}" stroke="#e4e4e4"/><text class="axis time-tick" data-ms="{t}" x="{x:.2}" y="{:.1}" text-anchor="middle">{}</text>"##,
            bottom + 14.0,
            utc_clock(t, millis)
        );
    }
    let _ = write!(
        svg,
        r#"<text class="axis" x="{}" y="{:.1}" text-anchor="end">time (UTC, {})</text>"#,
        WIDTH - RIGHT,
        scale.height - 4.0,
        utc_date(scale.t0)
    );
}

/// The time range the zoomed charts show: from the first submission to
/// the last run's window end, padded by 3 % on each side, within the file.
#[must_use]
pub fn execution_window(trades: &[Tick], runs: &[PluginRun]) -> (i64, i64) {
    let (first, last) = (
        trades.first().map_or(0, |t| t.timestamp_ms),
        trades.last().map_or(0, |t| t.timestamp_ms),
    );
    let start = runs.iter().map(|r| r.submitted_ms).min().unwrap_or(first);
    let end = runs
        .iter()
        .map(|r| r.window_end_ms)
        .chain(runs.iter().flat_map(|r| r.fills.iter().map(|f| f.time)))
        .max()
        .unwrap_or(last)
        .max(start + 1000);
    let pad = (end - start) * 3 / 100;
    ((start - pad).max(first), (end + pad).min(last.max(end)))
}

/// The price chart over `[t0, t1]`: the price path, every fill, the
/// arrival price and each run's market VWAP over its window.
#[must_use]
pub fn price_chart(trades: &[Tick], runs: &[PluginRun], (t0, t1): (i64, i64)) -> String {
    let shown: Vec<&Tick> = trades
        .iter()
        .filter(|t| t.timestamp_ms >= t0 && t.timestamp_ms <= t1)
        .collect();
    let levels = runs
        .iter()
        .flat_map(|r| r.fills.iter().map(|f| f.price))
        .chain(runs.iter().map(|r| r.arrival_price))
        .chain(runs.iter().filter_map(|r| r.market_vwap));
    let prices = shown.iter().map(|t| t.price).chain(levels);
    let (low, high) = prices.fold((Decimal::MAX, Decimal::MIN), |(lo, hi), p| {
        (lo.min(p), hi.max(p))
    });
    let (low, high) = if low > high {
        (Decimal::ZERO, Decimal::ONE)
    } else {
        (low, high)
    };
    let scale = Scale {
        t0,
        t1,
        v0: low.to_f64().unwrap_or(0.0),
        v1: high.to_f64().unwrap_or(1.0),
        height: PRICE_HEIGHT,
    };
    let mut svg = format!(
        r#"<svg id="price-chart" viewBox="0 0 {WIDTH} {PRICE_HEIGHT}" width="{WIDTH}" height="{PRICE_HEIGHT}" role="img" aria-label="price path over the execution window, with fills, arrival price and market VWAP">"#
    );
    frame(&mut svg, &scale, &high.to_string(), &low.to_string());
    time_axis(&mut svg, &scale);
    let points: Vec<String> = downsample(shown.len(), MAX_POINTS)
        .into_iter()
        .map(|i| {
            let t = shown[i];
            format!("{:.2},{:.2}", scale.x(t.timestamp_ms), scale.y(t.price))
        })
        .collect();
    let _ = write!(
        svg,
        r##"<polyline id="price-path" fill="none" stroke="#555" stroke-width="1" points="{}"/>"##,
        points.join(" ")
    );
    if let Some(run) = runs.first() {
        let y = scale.y(run.arrival_price);
        let _ = write!(
            svg,
            r##"<line id="arrival-line" data-price="{}" x1="{LEFT}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#222" stroke-dasharray="6 4"/><text class="axis" x="{:.1}" y="{:.2}">arrival {}</text>"##,
            run.arrival_price,
            WIDTH - RIGHT,
            LEFT + 4.0,
            y - 4.0,
            run.arrival_price
        );
    }
    for (i, run) in runs.iter().enumerate() {
        let Some(vwap) = run.market_vwap else {
            continue;
        };
        let colour = PALETTE[i % PALETTE.len()];
        let y = scale.y(vwap);
        let _ = write!(
            svg,
            r#"<line class="vwap-line" data-plugin="{}" data-price="{vwap}" x1="{:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="{colour}" stroke-dasharray="2 3" stroke-width="1.5"><title>{}: market VWAP {vwap} over its window</title></line>"#,
            escape(&run.plugin),
            scale.x(run.submitted_ms.max(t0)),
            scale.x(run.window_end_ms.min(t1)),
            escape(&run.plugin)
        );
    }
    for (i, run) in runs.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let name = escape(&run.plugin);
        let _ = write!(svg, r#"<g class="fills" data-plugin="{name}">"#);
        for fill in &run.fills {
            let _ = write!(
                svg,
                r#"<circle class="fill-marker" data-plugin="{name}" data-price="{}" data-quantity="{}" cx="{:.2}" cy="{:.2}" r="4" fill="{colour}" fill-opacity="0.75"><title>{name}: {} {} @ {} at {} UTC</title></circle>"#,
                fill.price,
                fill.quantity,
                scale.x(fill.time),
                scale.y(fill.price),
                fill.side,
                fill.quantity,
                fill.price,
                utc_clock(fill.time, Millis::Shown)
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

/// The whole file's price path, small, with the zoomed window shaded.
#[must_use]
pub fn overview_chart(trades: &[Tick], (t0, t1): (i64, i64)) -> String {
    let (first, last) = (
        trades.first().map_or(0, |t| t.timestamp_ms),
        trades.last().map_or(0, |t| t.timestamp_ms),
    );
    let (low, high) = trades
        .iter()
        .fold((Decimal::MAX, Decimal::MIN), |(lo, hi), t| {
            (lo.min(t.price), hi.max(t.price))
        });
    let scale = Scale {
        t0: first,
        t1: last.max(first + 1),
        v0: low.to_f64().unwrap_or(0.0),
        v1: high.to_f64().unwrap_or(1.0),
        height: OVERVIEW_HEIGHT,
    };
    let mut svg = format!(
        r#"<svg id="overview-chart" viewBox="0 0 {WIDTH} {OVERVIEW_HEIGHT}" width="{WIDTH}" height="{OVERVIEW_HEIGHT}" role="img" aria-label="the whole file, with the execution window shaded">"#
    );
    frame(&mut svg, &scale, &high.to_string(), &low.to_string());
    time_axis(&mut svg, &scale);
    let (x0, x1) = (scale.x(t0), scale.x(t1));
    let _ = write!(
        svg,
        r##"<rect id="overview-window" data-from-ms="{t0}" data-to-ms="{t1}" x="{x0:.2}" y="{TOP}" width="{:.2}" height="{}" fill="#1f77b4" fill-opacity="0.15" stroke="#1f77b4"/>"##,
        (x1 - x0).max(1.0),
        OVERVIEW_HEIGHT - TOP - BOTTOM
    );
    let points: Vec<String> = downsample(trades.len(), MAX_POINTS / 2)
        .into_iter()
        .map(|i| {
            let t = &trades[i];
            format!("{:.2},{:.2}", scale.x(t.timestamp_ms), scale.y(t.price))
        })
        .collect();
    let _ = write!(
        svg,
        r##"<polyline id="overview-path" fill="none" stroke="#777" stroke-width="1" points="{}"/>"##,
        points.join(" ")
    );
    svg.push_str("</svg>");
    svg
}

/// The cumulative filled quantity of each run over `[t0, t1]`: its
/// execution schedule, as steps.
#[must_use]
pub fn filled_chart(runs: &[PluginRun], (t0, t1): (i64, i64)) -> String {
    let target = runs
        .iter()
        .map(|r| r.target.max(r.filled))
        .max()
        .unwrap_or(Decimal::ONE);
    let scale = Scale {
        t0,
        t1,
        v0: 0.0,
        v1: target.to_f64().unwrap_or(1.0),
        height: FILLED_HEIGHT,
    };
    let mut svg = format!(
        r#"<svg id="filled-chart" viewBox="0 0 {WIDTH} {FILLED_HEIGHT}" width="{WIDTH}" height="{FILLED_HEIGHT}" role="img" aria-label="cumulative filled quantity per plugin">"#
    );
    frame(&mut svg, &scale, &target.to_string(), "0");
    time_axis(&mut svg, &scale);
    for (i, run) in runs.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let mut fills: Vec<(i64, Decimal)> =
            run.fills.iter().map(|f| (f.time, f.quantity)).collect();
        fills.sort_by_key(|(time, _)| *time);
        let mut total = Decimal::ZERO;
        let mut points = vec![format!(
            "{:.2},{:.2}",
            scale.x(run.submitted_ms.max(t0)),
            scale.y(total)
        )];
        for (time, quantity) in fills {
            let x = scale.x(time.clamp(t0, t1));
            points.push(format!("{x:.2},{:.2}", scale.y(total)));
            total += quantity;
            points.push(format!("{x:.2},{:.2}", scale.y(total)));
        }
        points.push(format!(
            "{:.2},{:.2}",
            scale.x(run.window_end_ms.clamp(t0, t1)),
            scale.y(total)
        ));
        let _ = write!(
            svg,
            r#"<polyline class="filled-path" data-plugin="{}" data-filled="{}" fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            escape(&run.plugin),
            total.normalize(),
            points.join(" ")
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_ends_and_bounds_points() {
        assert_eq!(downsample(3, MAX_POINTS), vec![0, 1, 2]);
        for len in [2000, 2001, 2673, 20_000, 1_000_003] {
            let idx = downsample(len, MAX_POINTS);
            assert!(idx.len() <= MAX_POINTS, "{len}: {}", idx.len());
            assert_eq!(idx[0], 0);
            assert_eq!(*idx.last().unwrap(), len - 1);
        }
    }

    #[test]
    fn utc_labels() {
        // 2019-07-01T00:00:03.172Z, the Kraken hour's first trade.
        assert_eq!(utc_date(1_561_939_203_172), "2019-07-01");
        assert_eq!(utc_clock(1_561_939_203_172, Millis::Hidden), "00:00:03");
        assert_eq!(utc_clock(1_561_939_203_172, Millis::Shown), "00:00:03.172");
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(951_782_400_000), "2000-02-29");
        assert_eq!(utc_date(-86_400_000), "1969-12-31");
    }

    #[test]
    fn time_ticks_are_round_and_few() {
        let (ticks, step) = time_ticks(1_561_939_203_172, 1_561_942_791_213);
        assert_eq!(step, 600_000);
        assert_eq!(ticks.first(), Some(&1_561_939_800_000));
        assert!(ticks.len() <= 8 && ticks.len() >= 4, "{ticks:?}");
        assert!(ticks.iter().all(|t| t % step == 0));
        let (ticks, step) = time_ticks(1_000, 1_450);
        assert_eq!(step, 100);
        assert_eq!(ticks, vec![1_000, 1_100, 1_200, 1_300, 1_400]);
    }
}
