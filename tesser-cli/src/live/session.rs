//! The run loop: prints from a file or a venue's feed → strategy →
//! orchestrator, with the exchange polled between prints.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use rust_decimal::Decimal;
use tesser_core::{
    ExchangeClient, ExecutionHint, FeedEvent, MarketFeed, Portfolio, SignalId, Symbol, Tick,
};
use tesser_data::{MarketDataSource, Replay, TradeSource};
use tesser_execution::{Orchestrator, OrchestratorError, StoreError};
use tesser_strategy::{PositionView, Strategy, StrategyContext};

use super::progress::Progress;
use crate::durable::DurablePaper;

/// How long the loop waits for a live print before it polls the venue and
/// fires timers anyway.
const FEED_WAIT: Duration = Duration::from_millis(20);

/// What the run loop asks of the exchange beyond [`ExchangeClient`].
pub trait SessionExchange: ExchangeClient {
    /// After each step: fails when the exchange could not save what must
    /// survive a crash.
    ///
    /// # Errors
    /// The first save that failed.
    fn checkpoint(&mut self) -> Result<(), StoreError>;

    /// At the end of the run: saves what is not saved yet.
    ///
    /// # Errors
    /// The store failed.
    fn close(&mut self) -> Result<(), StoreError>;
}

impl SessionExchange for DurablePaper {
    fn checkpoint(&mut self) -> Result<(), StoreError> {
        self.check()
    }
    fn close(&mut self) -> Result<(), StoreError> {
        self.flush()
    }
}

/// A live venue keeps its own state.
impl SessionExchange for Box<dyn ExchangeClient + Send> {
    fn checkpoint(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    fn close(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Where the prints come from.
pub enum Market {
    /// A trade file replayed at a speed; `resume_after` prints were
    /// processed before a restart.
    File {
        /// The paced reader.
        replay: Box<Replay<TradeSource>>,
        /// Prints already processed before the restart.
        resume_after: u64,
    },
    /// A venue's live trades.
    Feed {
        /// The feed.
        feed: Box<dyn MarketFeed>,
        /// The venue's clock minus ours, milliseconds.
        clock_offset_ms: i64,
    },
}

/// When the run ends on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitWhen {
    /// At the end of the data (a file), or on Ctrl-C.
    DataEnds,
    /// Also once at least one algorithm exists and every one has ended.
    AlgorithmsEnded,
}

/// How the loop ended.
pub struct Outcome {
    /// Prints processed in this run (not those skipped on resume).
    pub processed: u64,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    /// Why the run had to stop, if it had to.
    pub failure: Option<anyhow::Error>,
}

/// What one session runs.
pub struct Session<'a> {
    /// The strategy.
    pub strategy: &'a mut dyn Strategy,
    /// Its execution hint.
    pub hint: ExecutionHint,
    /// The data's name, part of every signal's id.
    pub source_name: String,
    /// Set by Ctrl-C.
    pub stop: &'a AtomicBool,
    /// When to end.
    pub exit: ExitWhen,
    /// The progress line.
    pub progress: Progress,
}

struct Positions<'a>(&'a Portfolio);

impl PositionView for Positions<'_> {
    fn position(&self, symbol: &Symbol) -> Decimal {
        self.0.position(symbol)
    }
}

impl Session<'_> {
    /// Runs until the data ends, Ctrl-C, a failure, or (with
    /// [`ExitWhen::AlgorithmsEnded`]) every algorithm has ended.
    ///
    /// # Errors
    /// The state store failed or a signal could not be submitted.
    pub fn run<E: SessionExchange>(
        &mut self,
        orch: &mut Orchestrator<E>,
        market: &mut Market,
    ) -> anyhow::Result<Outcome> {
        let mut outcome = Outcome {
            processed: 0,
            interrupted: false,
            failure: None,
        };
        let mut seen: u64 = 0;
        match market {
            Market::File {
                replay,
                resume_after,
            } => {
                while !self.stop.load(Ordering::Relaxed) && !self.finished(orch) {
                    let Some(item) = replay.next_tick() else {
                        break;
                    };
                    let tick = match item {
                        Ok(tick) => tick,
                        Err(error) => {
                            outcome.failure = Some(anyhow::Error::new(error).context(
                                "market data (use --on-bad-line skip to skip malformed lines)",
                            ));
                            break;
                        }
                    };
                    seen += 1;
                    if self.on_tick(orch, &tick, seen, *resume_after)? {
                        outcome.processed += 1;
                    }
                    orch.exchange_mut().checkpoint()?;
                }
                let skipped = replay.source().skipped_lines();
                if skipped > 0 {
                    tracing::warn!(skipped, "malformed data lines skipped");
                    for example in replay.source().skipped_examples() {
                        tracing::warn!("skipped: {example}");
                    }
                }
            }
            Market::Feed {
                feed,
                clock_offset_ms,
            } => {
                while !self.stop.load(Ordering::Relaxed) && !self.finished(orch) {
                    // Data time follows the prints while they come, so a
                    // backlog (after the loop waited on the venue) keeps its
                    // own pace, and the venue's clock between them.
                    let now_ms = match feed.next_event(FEED_WAIT) {
                        Ok(Some(FeedEvent::Trade(tick))) => {
                            seen += 1;
                            self.on_tick(orch, &tick, seen, 0)?;
                            outcome.processed += 1;
                            tick.timestamp_ms
                        }
                        Ok(Some(FeedEvent::Quote(quote))) => {
                            orch.on_quote(&quote)?;
                            quote.timestamp_ms
                        }
                        Ok(Some(FeedEvent::Reconnected { connection, gap_ms })) => {
                            tracing::warn!(feed = %feed.name(), connection, gap_ms, "market data reconnected; prints during the gap were missed");
                            wall_clock_ms() + *clock_offset_ms
                        }
                        Ok(None) => wall_clock_ms() + *clock_offset_ms,
                        Err(error) => {
                            outcome.failure = Some(error.into());
                            break;
                        }
                    };
                    // Executions arrive between prints.
                    orch.poll_exchange(now_ms)?;
                    orch.exchange_mut().checkpoint()?;
                }
            }
        }
        outcome.interrupted = self.stop.load(Ordering::Relaxed);
        // What waits for the next batch is stored before the exchange's
        // final save, so the state file is whole when the run stops.
        orch.flush()?;
        orch.exchange_mut().close()?;
        self.progress.finish();
        Ok(outcome)
    }

    /// With [`ExitWhen::AlgorithmsEnded`]: some algorithm exists and none is
    /// working or finishing.
    fn finished<E: SessionExchange>(&self, orch: &Orchestrator<E>) -> bool {
        self.exit == ExitWhen::AlgorithmsEnded
            && orch.working_algorithms() == 0
            && orch.algorithm_count() > 0
    }

    /// One print: the strategy sees it, the orchestrator matches and
    /// delivers it, the strategy's signals start algorithms. `false` when the
    /// print was processed before a restart (only the strategy sees it).
    fn on_tick<E: SessionExchange>(
        &mut self,
        orch: &mut Orchestrator<E>,
        tick: &Tick,
        seen: u64,
        resume_after: u64,
    ) -> anyhow::Result<bool> {
        let positions = Positions(orch.portfolio());
        let mut ctx = StrategyContext::new(tick.timestamp_ms, &positions, self.hint.clone());
        self.strategy.on_tick(&mut ctx, tick);
        let mut signals = ctx.take_signals();
        // Ids derived from the data position make a signal the same signal
        // when a restart reads the same print again; the orchestrator starts
        // each signal id once.
        for (i, signal) in signals.iter_mut().enumerate() {
            signal.id = SignalId::derived(&format!("{}#{seen}#{i}", self.source_name));
        }
        if seen < resume_after {
            // Already processed before the restart: the strategy warms up
            // again, its signals were already executed.
            return Ok(false);
        }
        if seen > resume_after {
            orch.on_tick(tick)?;
        }
        // The exchange saw the last print before the restart; its signals
        // may or may not have been submitted, and submitting is idempotent.
        for signal in signals {
            match orch.submit_signal(&signal) {
                Ok(Some(id)) => {
                    tracing::info!(algorithm = %id, signal = %signal.id, kind = ?signal.kind, symbol = %signal.symbol, "signal executing");
                }
                Ok(None) => {}
                Err(error @ OrchestratorError::Plugin { .. }) => {
                    tracing::error!("signal refused: {error}");
                }
                Err(error) => return Err(error).context("submitting a signal"),
            }
        }
        self.progress.update(orch, tick, seen);
        Ok(true)
    }
}

/// Milliseconds since the Unix epoch by this machine's clock.
fn wall_clock_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
