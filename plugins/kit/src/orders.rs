//! Bookkeeping of an algorithm's child orders: what is working, what has
//! filled, on the instrument's grids.
//!
//! Orders are named by the plugin (`c1`, `c2`, … as the client order id
//! suffix), so the plugin knows an order's full id (`<algorithm id>-c1`) the
//! moment it places it and can amend or cancel it before the host's
//! acknowledgement arrives.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tesser_wasm::{
    PluginCancelRequest, PluginChildOrderAction, PluginFill, PluginInstrument, PluginLogLevel,
    PluginOrderRequest, PluginOrderStatus, PluginOrderType, PluginOrderUpdate,
    PluginOrderUpdateRequest, PluginResult, PluginSide, PluginTimeInForce,
};

/// How long an algorithm waits after a refused child order before placing
/// again, ms.
pub const REJECTION_BACKOFF_MS: i64 = 1_000;

/// A child order the plugin placed and that has not closed yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildOrder {
    /// Full client order id (`<algorithm id>-<suffix>`).
    pub id: String,
    /// Market or limit.
    pub order_type: PluginOrderType,
    /// Limit price (limit orders).
    pub price: Option<Decimal>,
    /// Order quantity.
    pub quantity: Decimal,
    /// Quantity filled so far.
    pub filled: Decimal,
    /// Whether a cancel was sent and not yet confirmed.
    pub cancel_pending: bool,
    /// Host clock when it was placed (or last re-priced), ms.
    pub placed_ms: i64,
}

impl ChildOrder {
    /// Quantity still working.
    #[must_use]
    pub fn open_quantity(&self) -> Decimal {
        (self.quantity - self.filled).max(Decimal::ZERO)
    }
}

/// What an order update meant for the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The order is (still) working. `reason` is set when an amend or cancel
    /// of it was refused.
    Open {
        /// Why an action on the order was refused, if one was.
        reason: Option<String>,
    },
    /// The order closed and left the book.
    Closed {
        /// How it closed.
        status: PluginOrderStatus,
        /// Why, when the host said.
        reason: Option<String>,
    },
    /// Not one of this book's open orders (e.g. an update of an order that
    /// closed already).
    Unknown,
}

/// An algorithm's child orders and fills.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildOrders {
    /// The host's id of the algorithm: the prefix of every child order id.
    pub algorithm_id: String,
    /// Instrument symbol.
    pub symbol: String,
    /// Side of every child order.
    pub side: PluginSide,
    /// The instrument's trading rules.
    pub instrument: PluginInstrument,
    /// Largest child order quantity the host allows, if limited.
    pub max_order_quantity: Option<Decimal>,
    /// Number of the next order (its id suffix is `c<n>`).
    pub next_seq: u64,
    /// Orders still working, by full client order id.
    pub open: BTreeMap<String, ChildOrder>,
    /// Total quantity filled.
    pub filled: Decimal,
    /// Value filled (Σ price × quantity), for the average price.
    pub filled_value: Decimal,
    /// Orders refused (by the risk guard or the venue) so far.
    pub rejections: u64,
}

impl ChildOrders {
    /// An empty book for the algorithm `algorithm_id`.
    #[must_use]
    pub fn new(
        algorithm_id: &str,
        symbol: &str,
        side: PluginSide,
        instrument: PluginInstrument,
        max_order_quantity: Option<Decimal>,
    ) -> Self {
        Self {
            algorithm_id: algorithm_id.to_owned(),
            symbol: symbol.to_owned(),
            side,
            instrument,
            max_order_quantity,
            next_seq: 1,
            ..Self::default()
        }
    }

    /// Quantity working in open orders.
    #[must_use]
    pub fn working(&self) -> Decimal {
        self.open.values().map(ChildOrder::open_quantity).sum()
    }

    /// Filled plus working: what the plugin has committed to the market.
    #[must_use]
    pub fn committed(&self) -> Decimal {
        self.filled + self.working()
    }

    /// Average fill price, once something filled.
    #[must_use]
    pub fn average_price(&self) -> Option<Decimal> {
        (self.filled > Decimal::ZERO).then(|| self.filled_value / self.filled)
    }

    /// `quantity` rounded down to the lot grid and capped at the host's
    /// largest order, or zero when that is below the instrument's minimum
    /// quantity or (at `price`, when known) its minimum notional.
    #[must_use]
    pub fn tradable(&self, quantity: Decimal, price: Decimal) -> Decimal {
        let capped = self
            .max_order_quantity
            .filter(|max| *max > Decimal::ZERO)
            .map_or(quantity, |max| quantity.min(max));
        let quantity = self.instrument.round_quantity_down(capped);
        if quantity <= Decimal::ZERO || quantity < self.instrument.min_quantity {
            return Decimal::ZERO;
        }
        if price > Decimal::ZERO && price * quantity < self.instrument.min_notional {
            return Decimal::ZERO;
        }
        quantity
    }

    /// `price` on the tick grid, on the passive side: down for buys, up for
    /// sells.
    #[must_use]
    pub fn passive_price(&self, price: Decimal) -> Decimal {
        let down = self.instrument.round_price_down(price);
        match self.side {
            PluginSide::Buy => down,
            PluginSide::Sell if down < price => down + self.instrument.tick_size,
            PluginSide::Sell => down,
        }
    }

    /// Records a new order and returns the action that places it.
    /// `quantity` must already be [`tradable`](Self::tradable).
    pub fn place(
        &mut self,
        order_type: PluginOrderType,
        quantity: Decimal,
        price: Option<Decimal>,
        time_in_force: Option<PluginTimeInForce>,
        now_ms: i64,
    ) -> PluginChildOrderAction {
        let suffix = format!("c{}", self.next_seq);
        self.next_seq += 1;
        let id = format!("{}-{suffix}", self.algorithm_id);
        self.open.insert(
            id.clone(),
            ChildOrder {
                id,
                order_type,
                price,
                quantity,
                filled: Decimal::ZERO,
                cancel_pending: false,
                placed_ms: now_ms,
            },
        );
        PluginChildOrderAction::Place(PluginOrderRequest {
            symbol: self.symbol.clone(),
            side: self.side,
            order_type,
            quantity,
            price,
            trigger_price: None,
            time_in_force,
            client_order_id: Some(suffix),
            take_profit: None,
            stop_loss: None,
            display_quantity: None,
        })
    }

    /// Moves an open limit order to `price`, unless it is there already or
    /// being cancelled.
    pub fn reprice(
        &mut self,
        id: &str,
        price: Decimal,
        now_ms: i64,
    ) -> Option<PluginChildOrderAction> {
        let order = self.open.get_mut(id)?;
        if order.cancel_pending
            || order.order_type != PluginOrderType::Limit
            || order.price == Some(price)
            || price <= Decimal::ZERO
        {
            return None;
        }
        order.price = Some(price);
        order.placed_ms = now_ms;
        Some(PluginChildOrderAction::Amend(PluginOrderUpdateRequest {
            client_order_id: id.to_owned(),
            new_price: Some(price),
            new_quantity: None,
        }))
    }

    /// Moves every open limit order to `price`.
    pub fn reprice_all(&mut self, price: Decimal, now_ms: i64) -> Vec<PluginChildOrderAction> {
        let ids: Vec<String> = self.open.keys().cloned().collect();
        ids.iter()
            .filter_map(|id| self.reprice(id, price, now_ms))
            .collect()
    }

    /// Cancels an open order, unless a cancel is already pending.
    pub fn cancel(&mut self, id: &str) -> Option<PluginChildOrderAction> {
        let order = self.open.get_mut(id)?;
        if order.cancel_pending {
            return None;
        }
        order.cancel_pending = true;
        Some(PluginChildOrderAction::Cancel(PluginCancelRequest::new(id)))
    }

    /// Cancels every open order of `order_type` (every one when `None`).
    pub fn cancel_all(
        &mut self,
        order_type: Option<PluginOrderType>,
    ) -> Vec<PluginChildOrderAction> {
        let ids: Vec<String> = self
            .open
            .values()
            .filter(|order| order_type.is_none_or(|t| order.order_type == t))
            .map(|order| order.id.clone())
            .collect();
        ids.iter().filter_map(|id| self.cancel(id)).collect()
    }

    /// Records a fill; returns the quantity.
    pub fn on_fill(&mut self, fill: &PluginFill) -> Decimal {
        self.filled += fill.quantity;
        self.filled_value += fill.quantity * fill.price;
        if let Some(order) = self.open.get_mut(&fill.client_order_id) {
            order.filled += fill.quantity;
        }
        fill.quantity
    }

    /// Records an order update.
    pub fn on_update(&mut self, update: &PluginOrderUpdate) -> UpdateOutcome {
        let Some(order) = self.open.get_mut(&update.client_order_id) else {
            return UpdateOutcome::Unknown;
        };
        if update.status.is_open() {
            // An open status with a reason is a refused amend or cancel:
            // the order works on, so a cancel may be tried again.
            if update.reason.is_some() {
                order.cancel_pending = false;
            }
            return UpdateOutcome::Open {
                reason: update.reason.clone(),
            };
        }
        self.open.remove(&update.client_order_id);
        if update.status == PluginOrderStatus::Rejected {
            self.rejections += 1;
        }
        UpdateOutcome::Closed {
            status: update.status,
            reason: update.reason.clone(),
        }
    }

    /// Records an order update for an algorithm that places orders on its
    /// own schedule, and answers it:
    ///
    /// * a refused order holds new orders back until `now_ms +`
    ///   [`REJECTION_BACKOFF_MS`] (written to `hold_until_ms`), with a warning;
    /// * an order still open with a reason (a refused amend or cancel) is
    ///   logged as a warning;
    /// * `None` when an order closed otherwise (filled, cancelled, expired):
    ///   the algorithm should place what it wants now.
    pub fn on_update_with_backoff(
        &mut self,
        update: &PluginOrderUpdate,
        now_ms: i64,
        hold_until_ms: &mut i64,
    ) -> Option<PluginResult> {
        match self.on_update(update) {
            UpdateOutcome::Closed {
                status: PluginOrderStatus::Rejected,
                reason,
            } => {
                *hold_until_ms = now_ms + REJECTION_BACKOFF_MS;
                Some(PluginResult::new().with_log(
                    PluginLogLevel::Warn,
                    format!(
                        "{} refused: {}; retrying in {REJECTION_BACKOFF_MS} ms",
                        update.client_order_id,
                        reason.unwrap_or_default()
                    ),
                ))
            }
            UpdateOutcome::Closed { .. } => None,
            UpdateOutcome::Open {
                reason: Some(reason),
            } => Some(PluginResult::new().with_log(
                PluginLogLevel::Warn,
                format!("{}: {reason}", update.client_order_id),
            )),
            UpdateOutcome::Open { reason: None } | UpdateOutcome::Unknown => {
                Some(PluginResult::new())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> ChildOrders {
        ChildOrders::new(
            "algo-1",
            "BTCUSD",
            PluginSide::Buy,
            PluginInstrument {
                tick_size: Decimal::new(1, 1),
                lot_size: Decimal::new(1, 4),
                min_quantity: Decimal::new(1, 3),
                min_notional: Decimal::TEN,
            },
            Some(Decimal::from(5)),
        )
    }

    #[test]
    fn tradable_rounds_to_lot_caps_and_applies_minimums() {
        let book = book();
        let price = Decimal::from(10_000);
        assert_eq!(
            book.tradable(Decimal::new(123_456, 5), price),
            Decimal::new(12_345, 4)
        );
        assert_eq!(book.tradable(Decimal::from(7), price), Decimal::from(5));
        // Below min quantity.
        assert_eq!(book.tradable(Decimal::new(9, 4), price), Decimal::ZERO);
        // Below min notional: 0.001 × 5000 = 5 < 10.
        assert_eq!(
            book.tradable(Decimal::new(1, 3), Decimal::from(5_000)),
            Decimal::ZERO
        );
    }

    #[test]
    fn fills_and_updates_track_working_quantity() {
        let mut book = book();
        let action = book.place(
            PluginOrderType::Limit,
            Decimal::ONE,
            Some(Decimal::from(100)),
            None,
            0,
        );
        let PluginChildOrderAction::Place(request) = action else {
            panic!("a place");
        };
        assert_eq!(request.client_order_id.as_deref(), Some("c1"));
        assert_eq!(book.working(), Decimal::ONE);
        book.on_fill(&PluginFill {
            client_order_id: "algo-1-c1".into(),
            quantity: Decimal::new(4, 1),
            price: Decimal::from(100),
            ..PluginFill::default()
        });
        assert_eq!(book.working(), Decimal::new(6, 1));
        assert_eq!(book.committed(), Decimal::ONE);
        assert!(book.cancel("algo-1-c1").is_some());
        assert!(book.cancel("algo-1-c1").is_none(), "one cancel at a time");
        let outcome = book.on_update(&PluginOrderUpdate {
            client_order_id: "algo-1-c1".into(),
            status: PluginOrderStatus::Cancelled,
            ..PluginOrderUpdate::default()
        });
        assert!(matches!(outcome, UpdateOutcome::Closed { .. }));
        assert_eq!(book.committed(), Decimal::new(4, 1));
        assert_eq!(book.average_price(), Some(Decimal::from(100)));
    }

    #[test]
    fn passive_prices_round_away_from_the_market() {
        let mut book = book();
        assert_eq!(
            book.passive_price(Decimal::new(10_005, 2)),
            Decimal::new(1_000, 1)
        );
        book.side = PluginSide::Sell;
        assert_eq!(
            book.passive_price(Decimal::new(10_005, 2)),
            Decimal::new(1_001, 1)
        );
        assert_eq!(
            book.passive_price(Decimal::new(1_001, 1)),
            Decimal::new(1_001, 1)
        );
    }
}
