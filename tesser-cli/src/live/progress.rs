//! The one-line progress display on a terminal.

use std::io::Write as _;
use std::time::{Duration, Instant};

use tesser_core::{ExchangeClient, Tick};
use tesser_execution::Orchestrator;

/// Redraws at most every 100 ms, and only on a terminal.
pub struct Progress {
    enabled: bool,
    last: Instant,
    drawn: bool,
}

impl Progress {
    /// A display that draws only when `enabled`.
    pub fn new(enabled: Enabled) -> Self {
        Self {
            enabled: enabled == Enabled::Yes,
            last: Instant::now(),
            drawn: false,
        }
    }

    /// Redraws after a print, when due.
    pub fn update<E: ExchangeClient>(&mut self, orch: &Orchestrator<E>, tick: &Tick, seen: u64) {
        if !self.enabled || self.last.elapsed() < Duration::from_millis(100) {
            return;
        }
        self.last = Instant::now();
        let portfolio = orch.portfolio();
        let pnl = portfolio.realized_pnl() + portfolio.unrealized_pnl() - portfolio.fees_paid();
        let line = format!(
            "\r{seen} trades | {} {} | position {} | working {} | PnL {}",
            tick.symbol,
            tick.price,
            portfolio.position(&tick.symbol).normalize(),
            orch.working_algorithms(),
            pnl.round_dp(2)
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{line:<100}");
        let _ = err.flush();
        self.drawn = true;
    }

    /// Ends the line.
    pub fn finish(&mut self) {
        if self.drawn {
            eprintln!();
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
