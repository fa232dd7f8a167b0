//! `scripted`: publishes a fixed list of signals when their triggers fire.

use rust_decimal::Decimal;
use tesser_core::{Signal, SignalKind, Symbol, Tick};

use crate::{Strategy, StrategyContext, StrategyError};

/// When a scripted signal is published. Only ticks of the strategy's symbol
/// count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// At the first tick whose timestamp is at or after this time
    /// (milliseconds since the Unix epoch). TOML key `at_ms`.
    AtMs(i64),
    /// On the N-th tick (counted from 1). TOML key `after_ticks`.
    AfterTicks(u64),
    /// At the first tick whose price is strictly above the level. TOML key
    /// `price_above`.
    PriceAbove(Decimal),
    /// At the first tick whose price is strictly below the level. TOML key
    /// `price_below`.
    PriceBelow(Decimal),
}

impl Trigger {
    /// The TOML key of this trigger.
    #[must_use]
    pub const fn key(&self) -> &'static str {
        match self {
            Self::AtMs(_) => "at_ms",
            Self::AfterTicks(_) => "after_ticks",
            Self::PriceAbove(_) => "price_above",
            Self::PriceBelow(_) => "price_below",
        }
    }

    /// Whether `tick`, the `count`-th tick of the symbol, fires the trigger.
    fn fires(&self, tick: &Tick, count: u64) -> bool {
        match self {
            Self::AtMs(at) => tick.timestamp_ms >= *at,
            Self::AfterTicks(n) => count >= *n,
            Self::PriceAbove(level) => tick.price > *level,
            Self::PriceBelow(level) => tick.price < *level,
        }
    }
}

/// One entry of a scripted strategy (a `[[params.signals]]` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptedSignal {
    /// What the signal asks for.
    pub kind: SignalKind,
    /// Quantity to trade; `None` leaves it to the runtime's sizer.
    pub quantity: Option<Decimal>,
    /// When to publish it.
    pub trigger: Trigger,
    /// A note carried by the signal.
    pub note: Option<String>,
}

impl ScriptedSignal {
    /// Checks the entry; the error names the key and the fix.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(quantity) = self.quantity
            && quantity <= Decimal::ZERO
        {
            return Err((
                "quantity",
                format!("= \"{quantity}\" must be positive, e.g. \"0.5\", or left out"),
            ));
        }
        if self.trigger == Trigger::AfterTicks(0) {
            return Err((
                "after_ticks",
                "= 0 never fires: ticks are counted from 1".to_owned(),
            ));
        }
        Ok(())
    }
}

/// Publishes a fixed list of signals, each once, when its trigger fires.
///
/// Signals are published in the order they trigger; entries that fire on
/// the same tick are published in file order. Ticks of other symbols are
/// ignored. Signals have confidence 1.
#[derive(Debug, Clone)]
pub struct Scripted {
    symbol: Symbol,
    entries: Vec<ScriptedSignal>,
    fired: Vec<bool>,
    ticks: u64,
}

impl Scripted {
    /// The strategy's `strategy_name`.
    pub const NAME: &'static str = "scripted";

    /// A script of `entries` on `symbol`.
    ///
    /// # Errors
    /// [`StrategyError::InvalidParams`] when an entry's quantity is not
    /// positive or it waits for tick 0.
    pub fn new(
        symbol: impl Into<Symbol>,
        entries: Vec<ScriptedSignal>,
    ) -> Result<Self, StrategyError> {
        for (index, entry) in entries.iter().enumerate() {
            entry
                .check()
                .map_err(|(key, problem)| StrategyError::InvalidParams {
                    strategy: Self::NAME,
                    key: format!("signals[{}].{key}", index + 1),
                    problem,
                })?;
        }
        Ok(Self {
            symbol: symbol.into(),
            fired: vec![false; entries.len()],
            entries,
            ticks: 0,
        })
    }

    /// The symbol traded.
    #[must_use]
    pub const fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    /// The entries, in file order.
    #[must_use]
    pub fn entries(&self) -> &[ScriptedSignal] {
        &self.entries
    }

    /// How many entries have not fired yet.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.fired.iter().filter(|fired| !**fired).count()
    }
}

impl Strategy for Scripted {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn on_tick(&mut self, ctx: &mut StrategyContext<'_>, tick: &Tick) {
        if tick.symbol != self.symbol {
            return;
        }
        self.ticks = self.ticks.saturating_add(1);
        for (entry, fired) in self.entries.iter().zip(self.fired.iter_mut()) {
            if *fired || !entry.trigger.fires(tick, self.ticks) {
                continue;
            }
            *fired = true;
            let mut signal = Signal::new(self.symbol.clone(), entry.kind, 1.0);
            if let Some(quantity) = entry.quantity {
                signal = signal.with_quantity(quantity);
            }
            if let Some(note) = &entry.note {
                signal = signal.with_note(note.clone());
            }
            ctx.publish(signal);
        }
    }
}
