//! The interface every strategy implements.

use tesser_core::{Fill, Tick};

use crate::StrategyContext;

/// A trading strategy: it watches market data and fills and publishes
/// [`Signal`](tesser_core::Signal)s through its [`StrategyContext`].
///
/// Strategies decide; they never place orders. The runtime turns each
/// published signal into an execution algorithm (a plugin or a market
/// order, per the signal's execution hint).
pub trait Strategy {
    /// The strategy's name, for logs (the built-ins answer their
    /// `strategy_name`).
    fn name(&self) -> &str;

    /// Handles a trade print. Ticks of every symbol the runtime replays
    /// arrive here; a strategy ignores those it does not trade.
    fn on_tick(&mut self, ctx: &mut StrategyContext<'_>, tick: &Tick);

    /// Handles an execution of one of the runtime's orders. Does nothing
    /// unless overridden.
    fn on_fill(&mut self, ctx: &mut StrategyContext<'_>, fill: &Fill) {
        let _ = (ctx, fill);
    }
}

impl<S: Strategy + ?Sized> Strategy for Box<S> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn on_tick(&mut self, ctx: &mut StrategyContext<'_>, tick: &Tick) {
        (**self).on_tick(ctx, tick);
    }
    fn on_fill(&mut self, ctx: &mut StrategyContext<'_>, fill: &Fill) {
        (**self).on_fill(ctx, fill);
    }
}

impl<S: Strategy + ?Sized> Strategy for &mut S {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn on_tick(&mut self, ctx: &mut StrategyContext<'_>, tick: &Tick) {
        (**self).on_tick(ctx, tick);
    }
    fn on_fill(&mut self, ctx: &mut StrategyContext<'_>, fill: &Fill) {
        (**self).on_fill(ctx, fill);
    }
}
