//! Timing helpers and the printed report.

use std::time::Instant;

use crate::Plan;
use crate::cold::ColdStart;
use crate::dispatch::CallFigures;
use crate::replay::ReplayFigures;
use crate::scale::ScaleFigures;

/// The median of `samples` (sorted in place); 0 for none.
pub fn median(samples: &mut [f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        f64::midpoint(samples[mid - 1], samples[mid])
    }
}

/// Nanoseconds per call of `f`, run `calls` times.
///
/// # Errors
/// The first error `f` returns.
pub fn ns_per_call(calls: u64, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let start = Instant::now();
    for _ in 0..calls {
        f()?;
    }
    #[allow(clippy::cast_precision_loss)] // reason: a count of calls, far below 2^52.
    Ok(start.elapsed().as_secs_f64() * 1e9 / calls as f64)
}

/// Everything measured, ready to print; a group left out by `--only` is
/// `None`.
#[derive(Debug, Default)]
pub struct Report {
    /// F, W, N, J.
    pub calls: Option<CallFigures>,
    /// I, microseconds.
    pub instantiate_us: Option<f64>,
    /// S.
    pub scale: Option<ScaleFigures>,
    /// R.
    pub replay: Option<ReplayFigures>,
    /// C.
    pub cold: Option<ColdStart>,
    /// Figure L, one row per language.
    pub languages: Option<Vec<crate::languages::LanguageFigures>>,
}

fn verdict(holds: bool) -> &'static str {
    if holds { "yes" } else { "NO" }
}

impl Report {
    /// Prints the table, then one `key=value` line per figure.
    pub fn print(&self, plan: &Plan) {
        let mut keys: Vec<(&str, String)> = Vec::new();
        println!();
        println!("| figure | what | median | ratio | target | met |");
        println!("|---|---|---:|---:|---|---|");
        if let Some(c) = &self.calls {
            println!(
                "| F | no-op component call, our engine config | {:.0} ns | 1.00 × F | | |",
                c.floor_ns
            );
            // The target of issue 16: the wasm side of a tick (W − N) costs
            // at most two no-op calls.
            let w_target_ns = c.native_ns + 2.0 * c.floor_ns;
            println!(
                "| W | tick → orchestrator → plugin_chase.wasm → decoded result, no order | {:.0} ns | {:.2} × F; N + 2 × F = {:.0} ns | ≤ N + 2 × F | {} |",
                c.wasm_ns,
                c.wasm_ns / c.floor_ns,
                w_target_ns,
                verdict(c.wasm_ns <= w_target_ns)
            );
            println!(
                "| N | the same tick into the chase compiled into the host | {:.0} ns | {:.2} × F | | |",
                c.native_ns,
                c.native_ns / c.floor_ns
            );
            println!(
                "| J | upstream ABI: JSON strings + snapshot after every callback | {:.0} ns | {:.2} × W | ≥ 5 × W | {} |",
                c.json_ns,
                c.json_ns / c.wasm_ns,
                verdict(c.json_ns >= 5.0 * c.wasm_ns)
            );
            keys.push(("F_ns", format!("{:.1}", c.floor_ns)));
            keys.push(("W_ns", format!("{:.1}", c.wasm_ns)));
            keys.push(("N_ns", format!("{:.1}", c.native_ns)));
            keys.push(("J_ns", format!("{:.1}", c.json_ns)));
        }
        if let Some(us) = self.instantiate_us {
            println!(
                "| I | one instance from the cached component | {us:.2} µs | | ≤ 10 µs | {} |",
                verdict(us <= 10.0)
            );
            keys.push(("I_us", format!("{us:.2}")));
        }
        if let Some(s) = &self.scale {
            println!(
                "| S | {} concurrent chase instances: resident memory | {:.0} MiB | {:.1} KiB/instance | ≤ 1024 MiB | {} |",
                s.instances,
                s.rss_mib,
                s.kib_per_instance,
                verdict(s.rss_mib <= 1024.0)
            );
            #[allow(clippy::cast_precision_loss)] // reason: ten thousand instances.
            let per_instance = s.fanout_us * 1e3 / s.instances.max(1) as f64;
            println!(
                "| S | one tick fanned out to all of them | {:.0} µs | {per_instance:.0} ns/instance | | |",
                s.fanout_us
            );
            keys.push(("S_rss_mib", format!("{:.0}", s.rss_mib)));
            keys.push(("S_fanout_us", format!("{:.0}", s.fanout_us)));
        }
        if let Some(r) = &self.replay {
            #[allow(clippy::cast_precision_loss)] // reason: counts far below 2^52.
            let us_per_clip = |trades_per_s: f64| {
                plan.replay_trades as f64 / trades_per_s * 1e6 / r.child_orders.max(1) as f64
            };
            println!(
                "| R_busy | replay of {} trades, data → orchestrator → chase → risk → paper (store in memory) | {:.0} trades/s | {} child orders, {} fills; {:.1} µs per clip | ≥ 300,000/s | {} |",
                plan.replay_trades,
                r.trades_per_s,
                r.child_orders,
                r.fills,
                us_per_clip(r.trades_per_s),
                verdict(r.trades_per_s >= 3e5)
            );
            println!(
                "| R_native | the same, the chase compiled into the host | {:.0} trades/s | {:.2} × R_busy; {:.1} µs per clip | | |",
                r.native_trades_per_s,
                r.native_trades_per_s / r.trades_per_s,
                us_per_clip(r.native_trades_per_s)
            );
            println!(
                "| R_floor | reader → paper exchange, no orchestrator | {:.0} trades/s | | | |",
                r.floor_trades_per_s
            );
            println!(
                "| R_idle | one plugin resting one order, hearing every trade | {:.0} trades/s | R_floor / R_idle = {:.2} | ≥ 1,000,000/s, ≤ 1.3 | {} |",
                r.idle_trades_per_s,
                r.floor_trades_per_s / r.idle_trades_per_s,
                verdict(
                    r.idle_trades_per_s >= 1e6 && r.floor_trades_per_s / r.idle_trades_per_s <= 1.3
                )
            );
            #[allow(clippy::cast_precision_loss)] // reason: counts far below 2^52.
            let entries_per_clip = r.guest_entries as f64 / r.child_orders.max(1) as f64;
            println!(
                "| E_clip | R_busy's entries into the guest per child order (events, take-result, snapshot) | {entries_per_clip:.1} | {} entries, {} trades | | |",
                r.guest_entries, plan.replay_trades
            );
            println!(
                "| J_clip | R_busy's work per child order, state in a SQLite file (WAL), {} trades | {:.1} µs | | ≤ 50 µs | {} |",
                r.journal_trades,
                r.journal_us_per_clip,
                verdict(r.journal_us_per_clip <= 50.0)
            );
            keys.push(("R_trades_per_s", format!("{:.0}", r.trades_per_s)));
            keys.push(("R_busy_trades_per_s", format!("{:.0}", r.trades_per_s)));
            keys.push(("R_idle_trades_per_s", format!("{:.0}", r.idle_trades_per_s)));
            keys.push((
                "R_floor_trades_per_s",
                format!("{:.0}", r.floor_trades_per_s),
            ));
            keys.push((
                "R_native_trades_per_s",
                format!("{:.0}", r.native_trades_per_s),
            ));
            keys.push(("J_clip_us", format!("{:.1}", r.journal_us_per_clip)));
            keys.push(("E_clip_entries", format!("{entries_per_clip:.1}")));
        }
        if let Some(cold) = &self.cold {
            let speedup = cold.compile_ms / cold.cached_ms.max(f64::MIN_POSITIVE);
            println!(
                "| C | first load (compile) / load from the on-disk cache | {:.1} ms / {:.2} ms | {speedup:.0} × | ≥ 20 × | {} |",
                cold.compile_ms,
                cold.cached_ms,
                verdict(speedup >= 20.0)
            );
            keys.push(("C_compile_ms", format!("{:.1}", cold.compile_ms)));
            keys.push(("C_cached_ms", format!("{:.2}", cold.cached_ms)));
        }
        let mut language_keys: Vec<(String, String)> = Vec::new();
        if let Some(languages) = &self.languages {
            let rust = languages.first().map_or(1.0, |l| l.call_ns);
            for l in languages {
                println!(
                    "| L | TWAP in {}: {:.1} MB; compile / cached load / instantiate / idle on_tick / RSS per instance | {:.0} ms / {:.1} ms / {:.0} µs / {:.0} ns / {:.2} MiB | {:.1} × Rust per call | | |",
                    l.language,
                    l.size_mb,
                    l.compile_ms,
                    l.cached_ms,
                    l.instantiate_us,
                    l.call_ns,
                    l.rss_mib_per_instance,
                    l.call_ns / rust
                );
                let key = match l.language {
                    "Python" => "L_py",
                    "JavaScript" => "L_js",
                    _ => "L_rust",
                };
                language_keys.push((format!("{key}_compile_ms"), format!("{:.0}", l.compile_ms)));
                language_keys.push((format!("{key}_cached_ms"), format!("{:.1}", l.cached_ms)));
                language_keys.push((
                    format!("{key}_instantiate_us"),
                    format!("{:.0}", l.instantiate_us),
                ));
                language_keys.push((format!("{key}_call_ns"), format!("{:.0}", l.call_ns)));
                language_keys.push((
                    format!("{key}_rss_mib"),
                    format!("{:.2}", l.rss_mib_per_instance),
                ));
            }
        }
        println!();
        for (key, value) in keys {
            println!("{key}={value}");
        }
        for (key, value) in language_keys {
            println!("{key}={value}");
        }
    }
}
