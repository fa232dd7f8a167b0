//! The one-line progress display on a terminal, drawn by `indicatif`.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tesser_core::{ExchangeClient, Tick};
use tesser_execution::Orchestrator;

/// How often the line's text is rebuilt: formatting it for every print
/// would cost more than the print itself.
const REFRESH: Duration = Duration::from_millis(100);

/// A spinner with `{seen} trades | SYMBOL price | position … | working … |
/// PnL …`, only on a terminal.
pub struct Progress {
    /// `None` when not drawing.
    spinner: Option<ProgressBar>,
    last: Instant,
}

impl Progress {
    /// A display that draws on standard error only when `enabled`.
    pub fn new(enabled: Enabled) -> Self {
        let spinner = (enabled == Enabled::Yes).then(|| {
            let style = ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10))
                .with_style(style)
        });
        Self {
            spinner,
            last: Instant::now(),
        }
    }

    /// Updates the line after a print, when due.
    pub fn update<E: ExchangeClient>(&mut self, orch: &Orchestrator<E>, tick: &Tick, seen: u64) {
        let Some(spinner) = &self.spinner else {
            return;
        };
        if self.last.elapsed() < REFRESH {
            return;
        }
        self.last = Instant::now();
        let portfolio = orch.portfolio();
        let pnl = portfolio.realized_pnl() + portfolio.unrealized_pnl() - portfolio.fees_paid();
        spinner.set_message(format!(
            "{seen} trades | {} {} | position {} | working {} | PnL {}",
            tick.symbol,
            tick.price,
            portfolio.position(&tick.symbol).normalize(),
            orch.working_algorithms(),
            pnl.round_dp(2)
        ));
        spinner.tick();
    }

    /// Leaves the last line on screen (if one was drawn) and ends it.
    pub fn finish(&mut self) {
        let Some(spinner) = &self.spinner else {
            return;
        };
        if spinner.is_finished() {
            return;
        }
        // The last line stays, as plain text ending in a newline, so what is
        // printed next starts on a line of its own.
        let last = spinner.message();
        spinner.finish_and_clear();
        if !last.is_empty() {
            eprintln!("{last}");
        }
    }
}

/// Whether to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enabled {
    /// Draw.
    Yes,
    /// Stay quiet.
    No,
}
