//! `sma_cross`: a simple-moving-average crossover.

use std::cmp::Ordering;
use std::collections::VecDeque;

use rust_decimal::Decimal;
use tesser_core::{Signal, SignalKind, Symbol, Tick};

use crate::{Strategy, StrategyContext, StrategyError};

/// Largest window, in ticks, `sma_cross` accepts.
pub const MAX_SMA_WINDOW: usize = 1_000_000;

/// Parameters of [`SmaCross`] (the `[params]` table of a `sma_cross`
/// configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmaCrossParams {
    /// Ticks in the fast average; at least 1 and less than `slow`.
    pub fast: usize,
    /// Ticks in the slow average; at most [`MAX_SMA_WINDOW`].
    pub slow: usize,
    /// Quantity of every entry; positive.
    pub quantity: Decimal,
    /// Whether a cross below also opens a short (and a cross above closes
    /// it). Off by default: the strategy is long or flat.
    pub allow_short: bool,
}

/// A parameter problem: the key and what is wrong with it.
pub(crate) struct ParamProblem {
    pub(crate) key: &'static str,
    pub(crate) problem: String,
}

impl SmaCrossParams {
    /// Checks the parameters; the error names the parameter and the fix.
    pub(crate) fn check(&self) -> Result<(), ParamProblem> {
        if self.fast == 0 {
            return Err(ParamProblem {
                key: "fast",
                problem: "must be at least 1 tick".to_owned(),
            });
        }
        if self.slow > MAX_SMA_WINDOW {
            return Err(ParamProblem {
                key: "slow",
                problem: format!(
                    "= {} is larger than the largest window, {MAX_SMA_WINDOW} ticks",
                    self.slow
                ),
            });
        }
        if self.fast >= self.slow {
            return Err(ParamProblem {
                key: "fast",
                problem: format!(
                    "= {} must be less than `slow` = {}; the fast average needs the shorter window",
                    self.fast, self.slow
                ),
            });
        }
        if self.quantity <= Decimal::ZERO {
            return Err(ParamProblem {
                key: "quantity",
                problem: format!("= \"{}\" must be positive, e.g. \"0.5\"", self.quantity),
            });
        }
        Ok(())
    }
}

/// Which side the strategy last decided to be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    Flat,
    Long,
    Short,
}

/// Simple moving averages of the last `fast` and `slow` trade prices of one
/// symbol; trades their crossings.
///
/// The averages are kept as exact [`Decimal`] sums over a ring buffer of the
/// last `slow` prices (O(1) per tick) and compared by cross-multiplication,
/// so equal averages compare equal. A crossing needs two consecutive ticks
/// with both averages defined: the fast average crosses above when it was at
/// or below the slow one on the previous tick and is above it now (below:
/// the mirror image). The first possible signal is therefore on the tick
/// after the `slow`-th price of the symbol; a series that starts with the
/// fast average already above has not crossed.
///
/// * Cross above: `EnterLong` for `quantity`, unless already long (a
///   positive position, or an entry already published). With
///   `allow_short`, a short is closed first (see below).
/// * Cross below: close the long — `ExitLong` for the whole position when
///   the entry has filled (position ≥ `quantity`), `Flatten` when it has
///   not or only partly (it cancels the entry still working). With
///   `allow_short`, then `EnterShort` for `quantity` unless already short.
///
/// Ticks of other symbols are ignored. Decisions depend only on the ticks
/// and the positions seen, so a replay makes the same ones. Signals have
/// confidence 1.
#[derive(Debug, Clone)]
pub struct SmaCross {
    symbol: Symbol,
    params: SmaCrossParams,
    window: VecDeque<Decimal>,
    fast_sum: Decimal,
    slow_sum: Decimal,
    fast_len: Decimal,
    slow_len: Decimal,
    last_relation: Option<Ordering>,
    intent: Intent,
}

impl SmaCross {
    /// The strategy's `strategy_name`.
    pub const NAME: &'static str = "sma_cross";

    /// A crossover on `symbol`.
    ///
    /// # Errors
    /// [`StrategyError::InvalidParams`] when `fast` is 0 or not less than
    /// `slow`, `slow` exceeds [`MAX_SMA_WINDOW`], or `quantity` is not
    /// positive.
    pub fn new(symbol: impl Into<Symbol>, params: SmaCrossParams) -> Result<Self, StrategyError> {
        params.check().map_err(|p| StrategyError::InvalidParams {
            strategy: Self::NAME,
            key: p.key.to_owned(),
            problem: p.problem,
        })?;
        Ok(Self {
            symbol: symbol.into(),
            window: VecDeque::with_capacity(params.slow),
            fast_sum: Decimal::ZERO,
            slow_sum: Decimal::ZERO,
            fast_len: Decimal::from(params.fast),
            slow_len: Decimal::from(params.slow),
            last_relation: None,
            intent: Intent::Flat,
            params,
        })
    }

    /// The symbol traded.
    #[must_use]
    pub const fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    /// The parameters.
    #[must_use]
    pub const fn params(&self) -> &SmaCrossParams {
        &self.params
    }

    /// The fast and slow averages, once `slow` prices have been seen.
    #[must_use]
    pub fn averages(&self) -> Option<(Decimal, Decimal)> {
        if self.window.len() < self.params.slow {
            return None;
        }
        Some((
            self.fast_sum.checked_div(self.fast_len)?,
            self.slow_sum.checked_div(self.slow_len)?,
        ))
    }

    /// Adds a price; answers how the fast average compares with the slow
    /// one, or `None` while warming up. A price so large that a sum would
    /// overflow is ignored.
    fn push(&mut self, price: Decimal) -> Option<Ordering> {
        let len = self.window.len();
        let leaving_fast = if len >= self.params.fast {
            self.window.get(len - self.params.fast).copied()
        } else {
            None
        };
        let leaving_slow = if len >= self.params.slow {
            self.window.front().copied()
        } else {
            None
        };
        let fast_sum = self
            .fast_sum
            .checked_add(price)?
            .checked_sub(leaving_fast.unwrap_or(Decimal::ZERO))?;
        let slow_sum = self
            .slow_sum
            .checked_add(price)?
            .checked_sub(leaving_slow.unwrap_or(Decimal::ZERO))?;
        self.fast_sum = fast_sum;
        self.slow_sum = slow_sum;
        if leaving_slow.is_some() {
            self.window.pop_front();
        }
        self.window.push_back(price);
        if self.window.len() < self.params.slow {
            return None;
        }
        // fast_sum / fast ? slow_sum / slow, exactly: cross-multiply.
        match (
            self.fast_sum.checked_mul(self.slow_len),
            self.slow_sum.checked_mul(self.fast_len),
        ) {
            (Some(lhs), Some(rhs)) => Some(lhs.cmp(&rhs)),
            _ => {
                let (fast, slow) = self.averages()?;
                Some(fast.cmp(&slow))
            }
        }
    }

    fn signal(&self, kind: SignalKind, quantity: Option<Decimal>, note: &str) -> Signal {
        let signal = Signal::new(self.symbol.clone(), kind, 1.0).with_note(format!(
            "sma_cross: SMA({}) crossed {note} SMA({})",
            self.params.fast, self.params.slow
        ));
        match quantity {
            Some(quantity) => signal.with_quantity(quantity),
            None => signal,
        }
    }

    fn cross_above(&mut self, ctx: &mut StrategyContext<'_>) {
        let position = ctx.position(&self.symbol);
        if self.params.allow_short {
            if position < Decimal::ZERO {
                if -position >= self.params.quantity {
                    ctx.publish(self.signal(SignalKind::ExitShort, Some(-position), "above"));
                } else {
                    ctx.publish(self.signal(SignalKind::Flatten, None, "above"));
                }
            } else if self.intent == Intent::Short {
                ctx.publish(self.signal(SignalKind::Flatten, None, "above"));
            }
        }
        if position <= Decimal::ZERO && self.intent != Intent::Long {
            ctx.publish(self.signal(SignalKind::EnterLong, Some(self.params.quantity), "above"));
        }
        self.intent = Intent::Long;
    }

    fn cross_below(&mut self, ctx: &mut StrategyContext<'_>) {
        let position = ctx.position(&self.symbol);
        if position > Decimal::ZERO {
            if position >= self.params.quantity {
                ctx.publish(self.signal(SignalKind::ExitLong, Some(position), "below"));
            } else {
                ctx.publish(self.signal(SignalKind::Flatten, None, "below"));
            }
        } else if position.is_zero() && self.intent == Intent::Long {
            ctx.publish(self.signal(SignalKind::Flatten, None, "below"));
        }
        if !self.params.allow_short {
            self.intent = Intent::Flat;
            return;
        }
        if position >= Decimal::ZERO && self.intent != Intent::Short {
            ctx.publish(self.signal(SignalKind::EnterShort, Some(self.params.quantity), "below"));
        }
        self.intent = Intent::Short;
    }
}

impl Strategy for SmaCross {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn on_tick(&mut self, ctx: &mut StrategyContext<'_>, tick: &Tick) {
        if tick.symbol != self.symbol {
            return;
        }
        let Some(relation) = self.push(tick.price) else {
            return;
        };
        let Some(previous) = self.last_relation.replace(relation) else {
            return;
        };
        match (previous, relation) {
            (Ordering::Less | Ordering::Equal, Ordering::Greater) => self.cross_above(ctx),
            (Ordering::Greater | Ordering::Equal, Ordering::Less) => self.cross_below(ctx),
            _ => {}
        }
    }
}
