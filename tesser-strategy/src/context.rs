//! What a strategy sees and does while it handles one event.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;

use rust_decimal::Decimal;
use tesser_core::{ExecutionHint, Portfolio, Signal, Symbol};

/// Read access to signed positions: what the runtime lends a strategy so it
/// can tell whether it is long, short or flat.
pub trait PositionView {
    /// Signed position in `symbol`: positive when long, negative when short,
    /// zero when flat or never traded.
    fn position(&self, symbol: &Symbol) -> Decimal;
}

impl PositionView for Portfolio {
    fn position(&self, symbol: &Symbol) -> Decimal {
        Self::position(self, symbol)
    }
}

impl PositionView for BTreeMap<Symbol, Decimal> {
    fn position(&self, symbol: &Symbol) -> Decimal {
        self.get(symbol).copied().unwrap_or(Decimal::ZERO)
    }
}

impl<S: BuildHasher> PositionView for HashMap<Symbol, Decimal, S> {
    fn position(&self, symbol: &Symbol) -> Decimal {
        self.get(symbol).copied().unwrap_or(Decimal::ZERO)
    }
}

impl<T: PositionView + ?Sized> PositionView for &T {
    fn position(&self, symbol: &Symbol) -> Decimal {
        (**self).position(symbol)
    }
}

/// A [`PositionView`] that is flat in every symbol: for tests, and for
/// strategies run without a portfolio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoPositions;

impl PositionView for NoPositions {
    fn position(&self, _symbol: &Symbol) -> Decimal {
        Decimal::ZERO
    }
}

/// The strategy's window on the runtime during one event: the event time,
/// the current positions, and where published signals go.
///
/// The runtime makes one context per event, calls the strategy, then drains
/// the published signals with [`StrategyContext::take_signals`]. Every
/// published signal that carries no execution hint gets the strategy's hint
/// (its configuration's `[execution]` table).
///
/// ```
/// use rust_decimal_macros::dec;
/// use tesser_core::{ExecutionHint, Signal, SignalKind};
/// use tesser_strategy::{NoPositions, StrategyContext};
///
/// let mut ctx = StrategyContext::new(1_000, &NoPositions, ExecutionHint::Immediate);
/// ctx.publish(Signal::new("BTCUSD", SignalKind::EnterLong, 1.0).with_quantity(dec!(0.5)));
/// let signals = ctx.take_signals();
/// assert_eq!(signals.len(), 1);
/// assert_eq!(signals[0].execution_hint, Some(ExecutionHint::Immediate));
/// assert!(ctx.take_signals().is_empty());
/// ```
pub struct StrategyContext<'a> {
    now_ms: i64,
    positions: &'a dyn PositionView,
    hint: ExecutionHint,
    signals: Vec<Signal>,
}

impl<'a> StrategyContext<'a> {
    /// A context for an event at `now_ms` (milliseconds since the Unix
    /// epoch, data time), reading positions from `positions` and attaching
    /// `hint` to signals published without one.
    #[must_use]
    pub fn new(now_ms: i64, positions: &'a dyn PositionView, hint: ExecutionHint) -> Self {
        Self {
            now_ms,
            positions,
            hint,
            signals: Vec::new(),
        }
    }

    /// Publishes a signal. A signal without an execution hint gets the
    /// strategy's hint; one with a hint keeps its own.
    pub fn publish(&mut self, mut signal: Signal) {
        if signal.execution_hint.is_none() {
            signal.execution_hint = Some(self.hint.clone());
        }
        self.signals.push(signal);
    }

    /// Signed position in `symbol`: positive when long, negative when short.
    #[must_use]
    pub fn position(&self, symbol: &Symbol) -> Decimal {
        self.positions.position(symbol)
    }

    /// Time of the event being handled, milliseconds since the Unix epoch
    /// (data time, not the wall clock).
    #[must_use]
    pub const fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// The hint attached to signals published without one.
    #[must_use]
    pub const fn execution_hint(&self) -> &ExecutionHint {
        &self.hint
    }

    /// The signals published so far and not yet taken, oldest first.
    #[must_use]
    pub fn signals(&self) -> &[Signal] {
        &self.signals
    }

    /// Removes and returns the published signals, oldest first.
    pub fn take_signals(&mut self) -> Vec<Signal> {
        std::mem::take(&mut self.signals)
    }
}

impl fmt::Debug for StrategyContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StrategyContext")
            .field("now_ms", &self.now_ms)
            .field("hint", &self.hint)
            .field("signals", &self.signals)
            .finish_non_exhaustive()
    }
}
