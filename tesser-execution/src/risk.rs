//! The central risk guard every child action passes before the exchange.

use std::collections::{BTreeMap, VecDeque};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tesser_core::{Instrument, OrderType, Side, Symbol};

/// Largest price or quantity any child order may carry, whatever the limits:
/// far beyond every real market, and small enough that prices, notionals and
/// their sums never overflow a [`Decimal`] (a plugin's absurd number is
/// refused here rather than panicking the host further on).
pub const MAX_MAGNITUDE: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0);

/// Limits the risk guard enforces. `None` switches a limit off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskLimits {
    /// Largest quantity one child order may have.
    pub max_order_quantity: Option<Decimal>,
    /// Largest distance of a child order's price from the last trade, in
    /// basis points.
    pub price_band_bps: Option<Decimal>,
    /// Most places and amends one algorithm may send per second (of the
    /// data clock). Cancels are never throttled.
    pub max_actions_per_second: Option<u32>,
}

impl Default for RiskLimits {
    fn default() -> Self {
        Self {
            max_order_quantity: None,
            price_band_bps: Some(Decimal::from(500)),
            max_actions_per_second: Some(50),
        }
    }
}

/// What the risk guard needs to know about the algorithm an action comes from.
#[derive(Debug, Clone, Copy)]
pub struct AlgorithmExposure<'a> {
    /// The parent signal's symbol.
    pub symbol: &'a Symbol,
    /// The parent signal's side.
    pub side: Side,
    /// The quantity the algorithm may execute in total.
    pub target: Decimal,
    /// Filled quantity of all its child orders.
    pub filled: Decimal,
    /// Unfilled quantity of its open child orders.
    pub working: Decimal,
    /// What the venue account can spend on this algorithm's orders: its
    /// quote asset for a buy, its base asset for a sell. `None` when the
    /// venue keeps no account (a simulated one), and nothing is checked.
    pub funds: Option<Funds<'a>>,
}

/// The free balance of one asset an order would spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Funds<'a> {
    /// The asset, e.g. `USDT`.
    pub asset: &'a str,
    /// What can be spent: the account's free balance, less what the
    /// runtime's own open orders hold that the venue has not reported yet.
    pub available: Decimal,
}

/// A child order as the risk guard sees it.
#[derive(Debug, Clone, Copy)]
pub struct ProposedOrder<'a> {
    /// Symbol.
    pub symbol: &'a Symbol,
    /// Side.
    pub side: Side,
    /// Order type.
    pub order_type: OrderType,
    /// Quantity.
    pub quantity: Decimal,
    /// Limit price.
    pub price: Option<Decimal>,
    /// Trigger price.
    pub trigger_price: Option<Decimal>,
}

/// An amendment as the risk guard sees it.
#[derive(Debug, Clone, Copy)]
pub struct ProposedAmend {
    /// The order's type.
    pub order_type: OrderType,
    /// Its current total quantity.
    pub quantity: Decimal,
    /// Its filled quantity.
    pub filled: Decimal,
    /// Its current limit price.
    pub price: Option<Decimal>,
    /// Requested total quantity.
    pub new_quantity: Option<Decimal>,
    /// Requested limit price.
    pub new_price: Option<Decimal>,
}

/// Why the risk guard refused an action. The text is what the plugin reads
/// in the rejection's `reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RiskViolation {
    /// The order is for another symbol than the parent signal.
    #[error("symbol {got} does not match the algorithm's symbol {expected}")]
    WrongSymbol {
        /// The algorithm's symbol.
        expected: Symbol,
        /// The order's.
        got: String,
    },
    /// The order's side is not the parent signal's.
    #[error("side {got} does not match the algorithm's side {expected}")]
    WrongSide {
        /// The algorithm's side.
        expected: Side,
        /// The order's.
        got: Side,
    },
    /// Quantity is zero or negative.
    #[error("quantity {0} must be positive")]
    NonPositiveQuantity(Decimal),
    /// A price is zero or negative, or missing where the order type needs it.
    #[error("{0}")]
    InvalidPrice(String),
    /// Working plus filled child quantity would exceed the target.
    #[error(
        "overfill: {working} working + {filled} filled + {requested} requested exceeds the target {target}"
    )]
    Overfill {
        /// Target quantity.
        target: Decimal,
        /// Filled so far.
        filled: Decimal,
        /// Working in other orders.
        working: Decimal,
        /// This action's quantity.
        requested: Decimal,
    },
    /// Larger than the maximum order quantity.
    #[error("quantity {quantity} exceeds the max order quantity {max}")]
    MaxOrderQuantity {
        /// Requested.
        quantity: Decimal,
        /// Limit.
        max: Decimal,
    },
    /// Price too far from the last trade.
    #[error("price {price} is outside the {band_bps} bps band around the last trade {last}")]
    PriceBand {
        /// Requested price.
        price: Decimal,
        /// Last trade.
        last: Decimal,
        /// Band.
        band_bps: Decimal,
    },
    /// No trade seen yet, so the price band cannot be checked.
    #[error(
        "no trade of {0} seen yet, so the price band cannot be checked; act after the first tick"
    )]
    NoLastPrice(Symbol),
    /// Too many actions in the last second.
    #[error("rate limit: more than {0} actions per second")]
    RateLimit(u32),
    /// A price or quantity beyond [`MAX_MAGNITUDE`].
    #[error("{what} {value} is absurd: beyond {MAX_MAGNITUDE}")]
    Absurd {
        /// `price`, `trigger price` or `quantity`.
        what: &'static str,
        /// The value.
        value: Decimal,
    },
    /// Price off the tick grid.
    #[error("price {price} is not a multiple of the tick size {tick_size}")]
    TickSize {
        /// Requested price.
        price: Decimal,
        /// Tick size.
        tick_size: Decimal,
    },
    /// Quantity off the lot grid.
    #[error("quantity {quantity} is not a multiple of the lot size {lot_size}")]
    LotSize {
        /// Requested quantity.
        quantity: Decimal,
        /// Lot size.
        lot_size: Decimal,
    },
    /// Below the minimum quantity.
    #[error("quantity {quantity} is below the minimum quantity {min_quantity}")]
    MinQuantity {
        /// Requested quantity.
        quantity: Decimal,
        /// Minimum.
        min_quantity: Decimal,
    },
    /// Below the minimum notional.
    #[error("notional {notional} is below the minimum notional {min_notional}")]
    MinNotional {
        /// Price × quantity.
        notional: Decimal,
        /// Minimum.
        min_notional: Decimal,
    },
    /// The amended quantity is not above what already filled.
    #[error("new quantity {new_quantity} must exceed the filled quantity {filled}")]
    AmendBelowFilled {
        /// Requested total.
        new_quantity: Decimal,
        /// Already filled.
        filled: Decimal,
    },
    /// The action names an order the algorithm does not own or that is closed.
    #[error("{0}")]
    UnknownOrder(String),
    /// The account's free balance cannot pay for the order.
    #[error(
        "insufficient balance: the order needs {needed} {asset} but the account has {available} {asset} free"
    )]
    InsufficientBalance {
        /// The asset the order spends.
        asset: String,
        /// What the order (or the amend's increase) would spend.
        needed: Decimal,
        /// What the account can spend.
        available: Decimal,
    },
}

/// Checks child actions against [`RiskLimits`] and each instrument's rules,
/// and throttles each algorithm's action rate.
#[derive(Debug, Clone, Default)]
pub struct RiskGuard {
    limits: RiskLimits,
    instruments: BTreeMap<Symbol, Instrument>,
}

/// Per-algorithm state of the rate limiter: times of recent actions.
#[derive(Debug, Clone, Default)]
pub struct ActionRate {
    recent_ms: VecDeque<i64>,
}

impl RiskGuard {
    /// A guard enforcing `limits` on instruments with the given rules.
    #[must_use]
    pub fn new(limits: RiskLimits, instruments: impl IntoIterator<Item = Instrument>) -> Self {
        Self {
            limits,
            instruments: instruments
                .into_iter()
                .map(|instrument| (instrument.symbol.clone(), instrument))
                .collect(),
        }
    }

    /// The limits.
    #[must_use]
    pub const fn limits(&self) -> &RiskLimits {
        &self.limits
    }

    /// The rules of `symbol`, if it is known.
    #[must_use]
    pub fn instrument(&self, symbol: &Symbol) -> Option<&Instrument> {
        self.instruments.get(symbol)
    }

    /// Checks a new child order.
    ///
    /// # Errors
    /// The first rule the order breaks.
    pub fn check_place(
        &self,
        algo: &AlgorithmExposure<'_>,
        order: &ProposedOrder<'_>,
        last_price: Option<Decimal>,
        rate: &mut ActionRate,
        now_ms: i64,
    ) -> Result<(), RiskViolation> {
        if order.symbol != algo.symbol {
            return Err(RiskViolation::WrongSymbol {
                expected: algo.symbol.clone(),
                got: order.symbol.to_string(),
            });
        }
        if order.side != algo.side {
            return Err(RiskViolation::WrongSide {
                expected: algo.side,
                got: order.side,
            });
        }
        if order.quantity <= Decimal::ZERO {
            return Err(RiskViolation::NonPositiveQuantity(order.quantity));
        }
        within_magnitude("quantity", order.quantity)?;
        for (what, price) in [
            ("price", order.price),
            ("trigger price", order.trigger_price),
        ] {
            if let Some(price) = price {
                within_magnitude(what, price)?;
            }
        }
        let needs_price = matches!(order.order_type, OrderType::Limit | OrderType::StopLimit);
        let needs_trigger = matches!(
            order.order_type,
            OrderType::StopMarket | OrderType::StopLimit
        );
        if needs_price && order.price.is_none() {
            return Err(RiskViolation::InvalidPrice(format!(
                "a {:?} order needs a price",
                order.order_type
            )));
        }
        if needs_trigger && order.trigger_price.is_none() {
            return Err(RiskViolation::InvalidPrice(format!(
                "a {:?} order needs a trigger price",
                order.order_type
            )));
        }
        let requested = order.quantity;
        if algo.working + algo.filled + requested > algo.target {
            return Err(RiskViolation::Overfill {
                target: algo.target,
                filled: algo.filled,
                working: algo.working,
                requested,
            });
        }
        self.check_quantity(order.quantity)?;
        for price in [order.price, order.trigger_price].into_iter().flatten() {
            self.check_price(order.symbol, price, last_price)?;
        }
        self.check_instrument(order.symbol, order.quantity, order.price.or(last_price))?;
        let price = order.price.or(order.trigger_price).or(last_price);
        check_funds(algo, cost(order.side, order.quantity, price))?;
        self.check_rate(rate, now_ms)
    }

    /// Checks an amendment of a working child order.
    ///
    /// # Errors
    /// The first rule the amended order breaks.
    pub fn check_amend(
        &self,
        algo: &AlgorithmExposure<'_>,
        amend: &ProposedAmend,
        last_price: Option<Decimal>,
        rate: &mut ActionRate,
        now_ms: i64,
    ) -> Result<(), RiskViolation> {
        if let Some(new_quantity) = amend.new_quantity {
            if new_quantity <= Decimal::ZERO {
                return Err(RiskViolation::NonPositiveQuantity(new_quantity));
            }
            within_magnitude("quantity", new_quantity)?;
            if new_quantity <= amend.filled {
                return Err(RiskViolation::AmendBelowFilled {
                    new_quantity,
                    filled: amend.filled,
                });
            }
            let old_open = amend.quantity - amend.filled;
            let new_open = new_quantity - amend.filled;
            let working_elsewhere = algo.working - old_open;
            if working_elsewhere + algo.filled + new_open > algo.target {
                return Err(RiskViolation::Overfill {
                    target: algo.target,
                    filled: algo.filled,
                    working: working_elsewhere,
                    requested: new_open,
                });
            }
            self.check_quantity(new_quantity)?;
        }
        if let Some(new_price) = amend.new_price {
            within_magnitude("price", new_price)?;
            if !matches!(amend.order_type, OrderType::Limit | OrderType::StopLimit) {
                return Err(RiskViolation::InvalidPrice(format!(
                    "a {:?} order has no limit price to amend",
                    amend.order_type
                )));
            }
            self.check_price(algo.symbol, new_price, last_price)?;
        }
        let quantity = amend.new_quantity.unwrap_or(amend.quantity);
        let price = amend.new_price.or(amend.price).or(last_price);
        self.check_instrument(algo.symbol, quantity, price)?;
        // Only what the amend adds must be paid for: the order already
        // holds its current open part.
        let old_price = amend.price.or(last_price);
        let old_open = amend.quantity - amend.filled;
        let new_open = quantity - amend.filled;
        let added = cost(algo.side, new_open, price)
            .zip(cost(algo.side, old_open, old_price))
            .map(|(new, old)| new - old);
        check_funds(algo, added)?;
        self.check_rate(rate, now_ms)
    }

    fn check_quantity(&self, quantity: Decimal) -> Result<(), RiskViolation> {
        match self.limits.max_order_quantity {
            Some(max) if quantity > max => Err(RiskViolation::MaxOrderQuantity { quantity, max }),
            _ => Ok(()),
        }
    }

    fn check_price(
        &self,
        symbol: &Symbol,
        price: Decimal,
        last_price: Option<Decimal>,
    ) -> Result<(), RiskViolation> {
        if price <= Decimal::ZERO {
            return Err(RiskViolation::InvalidPrice(format!(
                "price {price} must be positive"
            )));
        }
        if let Some(band_bps) = self.limits.price_band_bps {
            let last = last_price.ok_or_else(|| RiskViolation::NoLastPrice(symbol.clone()))?;
            if (price - last).abs() * Decimal::from(10_000) > last * band_bps {
                return Err(RiskViolation::PriceBand {
                    price,
                    last,
                    band_bps,
                });
            }
        }
        if let Some(instrument) = self.instruments.get(symbol)
            && !instrument.is_on_tick_grid(price)
        {
            return Err(RiskViolation::TickSize {
                price,
                tick_size: instrument.tick_size,
            });
        }
        Ok(())
    }

    fn check_instrument(
        &self,
        symbol: &Symbol,
        quantity: Decimal,
        price: Option<Decimal>,
    ) -> Result<(), RiskViolation> {
        let Some(instrument) = self.instruments.get(symbol) else {
            return Ok(());
        };
        if !instrument.is_on_lot_grid(quantity) {
            return Err(RiskViolation::LotSize {
                quantity,
                lot_size: instrument.lot_size,
            });
        }
        if quantity < instrument.min_quantity {
            return Err(RiskViolation::MinQuantity {
                quantity,
                min_quantity: instrument.min_quantity,
            });
        }
        if let Some(price) = price {
            let notional = price * quantity;
            if notional < instrument.min_notional {
                return Err(RiskViolation::MinNotional {
                    notional,
                    min_notional: instrument.min_notional,
                });
            }
        }
        Ok(())
    }

    fn check_rate(&self, rate: &mut ActionRate, now_ms: i64) -> Result<(), RiskViolation> {
        let Some(max) = self.limits.max_actions_per_second else {
            return Ok(());
        };
        while rate.recent_ms.front().is_some_and(|&t| t <= now_ms - 1000) {
            rate.recent_ms.pop_front();
        }
        if rate.recent_ms.len() >= max as usize {
            return Err(RiskViolation::RateLimit(max));
        }
        rate.recent_ms.push_back(now_ms);
        Ok(())
    }
}

/// What an order of `quantity` holds of the asset it spends: a buy its
/// quantity times its price in the quote asset, a sell its quantity of the
/// base asset; `None` for a buy with no price known at all.
fn cost(side: Side, quantity: Decimal, price: Option<Decimal>) -> Option<Decimal> {
    match side {
        Side::Sell => Some(quantity),
        Side::Buy => price.map(|price| quantity * price),
    }
}

/// Refuses spending `needed` that the account cannot pay for; without an
/// account, or without a price to value it (left to the venue), passes.
fn check_funds(algo: &AlgorithmExposure<'_>, needed: Option<Decimal>) -> Result<(), RiskViolation> {
    match (algo.funds, needed) {
        (Some(funds), Some(needed)) if needed > funds.available => {
            Err(RiskViolation::InsufficientBalance {
                asset: funds.asset.to_owned(),
                needed: needed.normalize(),
                available: funds.available.normalize(),
            })
        }
        _ => Ok(()),
    }
}

/// Refuses a value beyond [`MAX_MAGNITUDE`] (either sign).
fn within_magnitude(what: &'static str, value: Decimal) -> Result<(), RiskViolation> {
    if value.abs() > MAX_MAGNITUDE {
        return Err(RiskViolation::Absurd { what, value });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With every limit off and no instrument rules, a number from a plugin
    /// big enough to overflow the overfill sum or a notional is refused, not
    /// a panic.
    #[test]
    fn absurd_numbers_are_refused_with_every_limit_off() {
        let guard = RiskGuard::new(
            RiskLimits {
                max_order_quantity: None,
                price_band_bps: None,
                max_actions_per_second: None,
            },
            [],
        );
        let symbol = Symbol::from("BTCUSD");
        let algo = AlgorithmExposure {
            symbol: &symbol,
            side: Side::Buy,
            target: Decimal::MAX,
            filled: Decimal::ONE,
            working: Decimal::ONE,
            funds: None,
        };
        let order = |quantity, price| ProposedOrder {
            symbol: &symbol,
            side: Side::Buy,
            order_type: OrderType::Limit,
            quantity,
            price: Some(price),
            trigger_price: None,
        };
        let mut rate = ActionRate::default();
        for (quantity, price, what) in [
            (Decimal::MAX, Decimal::ONE, "quantity"),
            (Decimal::ONE, Decimal::MAX, "price"),
            (MAX_MAGNITUDE + Decimal::ONE, Decimal::ONE, "quantity"),
        ] {
            let refused = guard
                .check_place(&algo, &order(quantity, price), None, &mut rate, 0)
                .expect_err("refused");
            assert!(
                matches!(refused, RiskViolation::Absurd { what: w, .. } if w == what),
                "{refused}"
            );
        }
        assert!(
            guard
                .check_place(
                    &algo,
                    &order(MAX_MAGNITUDE, MAX_MAGNITUDE),
                    None,
                    &mut rate,
                    0
                )
                .is_ok(),
            "the largest allowed order passes, and its notional fits"
        );
    }

    /// With an account, an order (or an amend's increase) beyond the free
    /// balance of the asset it spends is refused; without one, nothing is
    /// checked.
    #[test]
    fn orders_beyond_the_free_balance_are_refused() {
        let guard = RiskGuard::new(
            RiskLimits {
                max_order_quantity: None,
                price_band_bps: None,
                max_actions_per_second: None,
            },
            [],
        );
        let symbol = Symbol::from("BTCUSDT");
        let exposure = |side, funds| AlgorithmExposure {
            symbol: &symbol,
            side,
            target: Decimal::from(100),
            filled: Decimal::ZERO,
            working: Decimal::ZERO,
            funds,
        };
        let usdt = Some(Funds {
            asset: "USDT",
            available: Decimal::from(1000),
        });
        let btc = Some(Funds {
            asset: "BTC",
            available: Decimal::from(2),
        });
        let order = |side, quantity: i64, price: Option<i64>| ProposedOrder {
            symbol: &symbol,
            side,
            order_type: if price.is_some() {
                OrderType::Limit
            } else {
                OrderType::Market
            },
            quantity: Decimal::from(quantity),
            price: price.map(Decimal::from),
            trigger_price: None,
        };
        let mut rate = ActionRate::default();
        let last = Some(Decimal::from(600));
        let mut check = |side, funds, order| {
            guard.check_place(&exposure(side, funds), &order, last, &mut rate, 0)
        };
        assert!(check(Side::Buy, usdt, order(Side::Buy, 2, Some(500))).is_ok());
        let refused =
            check(Side::Buy, usdt, order(Side::Buy, 3, Some(500))).expect_err("1500 USDT");
        assert_eq!(
            refused.to_string(),
            "insufficient balance: the order needs 1500 USDT but the account has 1000 USDT free"
        );
        // A market buy is valued at the last trade.
        assert!(check(Side::Buy, usdt, order(Side::Buy, 2, None)).is_err());
        assert!(check(Side::Sell, btc, order(Side::Sell, 2, Some(500))).is_ok());
        assert!(matches!(
            check(Side::Sell, btc, order(Side::Sell, 3, None)),
            Err(RiskViolation::InsufficientBalance { .. })
        ));
        assert!(check(Side::Buy, None, order(Side::Buy, 99, Some(500))).is_ok());

        // An amend pays only for what it adds.
        let amend = |new_quantity: i64, new_price: i64| ProposedAmend {
            order_type: OrderType::Limit,
            quantity: Decimal::from(2),
            filled: Decimal::ZERO,
            price: Some(Decimal::from(500)),
            new_quantity: Some(Decimal::from(new_quantity)),
            new_price: Some(Decimal::from(new_price)),
        };
        let mut check_amend = |side, funds, amend| {
            guard.check_amend(&exposure(side, funds), &amend, last, &mut rate, 0)
        };
        assert!(
            check_amend(Side::Buy, usdt, amend(4, 500)).is_ok(),
            "adds 1000"
        );
        assert!(
            check_amend(Side::Buy, usdt, amend(4, 501)).is_err(),
            "adds 1004"
        );
        assert!(
            check_amend(Side::Buy, usdt, amend(1, 900)).is_ok(),
            "holds less"
        );
        assert!(
            check_amend(Side::Sell, btc, amend(5, 500)).is_err(),
            "adds 3 BTC"
        );
    }
}
