//! What the connector knows about its orders, and the events it owes the
//! runtime.
//!
//! One [`Tracked`] entry per runtime order aggregates every generation of it
//! (the original placement and each cancel-replace). Fills are booked once
//! each, keyed by `SYMBOL-tradeId-side`, whether they arrive in an
//! `executionReport`, a `FULL` order response or a `myTrades` reconcile, so a
//! fill seen twice (duplicate report, reconnect overlap) is reported once.
//! Order updates are emitted only when the aggregated status or filled
//! quantity changes, and terminal statuses are sticky, so reports that arrive
//! out of order cannot move an order backwards.
//!
//! The venue's executed quantity is kept per generation ([`Executed`]) and
//! only ever grows, so it does not matter in which order a cancel-replace
//! reply, the old generation's `CANCELED` report and the replacement's `NEW`
//! report arrive: each says how much *its* generation executed, and the
//! totals are sums over generations, never increments.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use rust_decimal::Decimal;
use tesser_core::{
    ClientOrderId, ExchangeEvent, FeeAsset, Fill, Instrument, Liquidity, Order, OrderRequest,
    OrderStatus, OrderType, Side, TimeInForce,
};

use tesser_venue_kit::fills::{FillLedger, TradeMarks};

use crate::client_id::IdRegistry;
use crate::model::{self, ExecutionReport, MyTrade, OrderFill, OrderResponse};
use crate::wire::{ExecutionType, WireSide, WireStatus};

/// Most reports held for hashed ids nobody has named yet.
const MAX_HELD: usize = 10_000;

/// What the venue said one generation executed (cumulative, the largest
/// figure seen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Executed {
    /// Executed quantity.
    pub qty: Decimal,
    /// Σ price × quantity.
    pub notional: Decimal,
}

/// A runtime order across its generations.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// The request, with total quantity and current price.
    pub request: OrderRequest,
    /// Current generation.
    pub generation: u32,
    /// Venue order id of each generation.
    pub order_ids: BTreeMap<u32, i64>,
    /// The venue's execution of each generation; the four sums below are
    /// derived from it ([`Tracked::note_executed`]).
    pub executed: BTreeMap<u32, Executed>,
    /// Filled quantity of the generations before the current one.
    pub prev_filled: Decimal,
    /// Σ price × quantity of those generations.
    pub prev_notional: Decimal,
    /// Executed quantity of the current generation, as the venue last said.
    pub gen_filled: Decimal,
    /// Σ price × quantity of the current generation, as the venue last said.
    pub gen_notional: Decimal,
    /// The generation a cancel-replace in flight is replacing: its
    /// `CANCELED` report does not close the order (the reply decides).
    pub replacing: Option<u32>,
    /// Quantity of booked fills.
    pub booked_qty: Decimal,
    /// Σ price × quantity of booked fills.
    pub booked_notional: Decimal,
    /// Status.
    pub status: OrderStatus,
    /// Creation time.
    pub created_ms: i64,
    /// Last change.
    pub updated_ms: i64,
    /// Status and filled quantity last reported to the runtime.
    pub reported: Option<(OrderStatus, Decimal)>,
    /// Keep-priority amends of the current generation (the venue's
    /// `MAX_NUM_ORDER_AMENDS` counts them per order; a replacement is a new
    /// order).
    pub amends: u32,
    /// Closed as rejected by the connector itself: a placement whose
    /// outcome was unknown and that the venue did not know by the time the
    /// request could no longer execute. The venue's word beats that guess:
    /// a later report or lookup of the order adopts it back
    /// ([`Tracked::apply_status`]).
    pub presumed_not_placed: bool,
}

impl Tracked {
    /// A new order, accepted at `now_ms`.
    #[must_use]
    pub fn new(request: OrderRequest, now_ms: i64) -> Self {
        Self {
            request,
            generation: 0,
            order_ids: BTreeMap::new(),
            executed: BTreeMap::new(),
            prev_filled: Decimal::ZERO,
            prev_notional: Decimal::ZERO,
            gen_filled: Decimal::ZERO,
            gen_notional: Decimal::ZERO,
            replacing: None,
            booked_qty: Decimal::ZERO,
            booked_notional: Decimal::ZERO,
            status: OrderStatus::Accepted,
            created_ms: now_ms,
            updated_ms: now_ms,
            reported: None,
            amends: 0,
            presumed_not_placed: false,
        }
    }

    /// Filled quantity: the larger of the booked fills and the venue's count.
    #[must_use]
    pub fn filled(&self) -> Decimal {
        self.booked_qty.max(self.prev_filled + self.gen_filled)
    }

    /// The order as the runtime sees it.
    #[must_use]
    pub fn to_order(&self) -> Order {
        let filled = self.filled();
        let (qty, notional) = if self.booked_qty >= self.prev_filled + self.gen_filled {
            (self.booked_qty, self.booked_notional)
        } else {
            (
                self.prev_filled + self.gen_filled,
                self.prev_notional + self.gen_notional,
            )
        };
        let avg_fill_price = (qty > Decimal::ZERO && notional > Decimal::ZERO)
            .then(|| notional / qty)
            .map(|price| price.normalize());
        let mut status = self.status;
        if status.is_open() && filled >= self.request.quantity && filled > Decimal::ZERO {
            status = OrderStatus::Filled;
        } else if status == OrderStatus::Accepted && filled > Decimal::ZERO {
            status = OrderStatus::PartiallyFilled;
        }
        Order {
            request: self.request.clone(),
            status,
            filled_quantity: filled,
            avg_fill_price,
            created_ms: self.created_ms,
            updated_ms: self.updated_ms,
        }
    }

    /// Records the venue's cumulative execution of `generation` (a report,
    /// an order response, a cancel response); figures only grow. A negative
    /// quote (historical orders) is ignored.
    pub fn note_executed(&mut self, generation: u32, qty: Decimal, notional: Option<Decimal>) {
        let entry = self.executed.entry(generation).or_default();
        entry.qty = entry.qty.max(qty);
        if let Some(notional) = notional
            && notional >= Decimal::ZERO
        {
            entry.notional = entry.notional.max(notional);
        }
        self.recount();
    }

    /// Makes `generation` the current one when it is later: a replacement
    /// exists, and its status decides from now on. Returns whether it moved;
    /// idempotent, so the reply and the reports may each call it.
    pub fn advance_to(&mut self, generation: u32) -> bool {
        if generation <= self.generation {
            return false;
        }
        self.generation = generation;
        self.amends = 0;
        // The replacement decides the status.
        self.status = OrderStatus::Accepted;
        self.recount();
        true
    }

    /// Recomputes the sums of [`Tracked::executed`] around the current
    /// generation.
    fn recount(&mut self) {
        let mut prev = Executed::default();
        for (_, executed) in self.executed.range(..self.generation) {
            prev.qty += executed.qty;
            prev.notional += executed.notional;
        }
        let current = self
            .executed
            .get(&self.generation)
            .copied()
            .unwrap_or_default();
        self.prev_filled = prev.qty;
        self.prev_notional = prev.notional;
        self.gen_filled = current.qty;
        self.gen_notional = current.notional;
    }

    /// Applies a venue status of generation `generation`. Old generations
    /// (replaced by cancel-replace) do not change the status; terminal
    /// statuses are sticky; the cancel of a generation being replaced does
    /// not close the order.
    pub fn apply_status(&mut self, generation: u32, status: OrderStatus, at_ms: i64) {
        if self.presumed_not_placed && generation >= self.generation {
            // The venue has the order after all: its status stands.
            tracing::warn!(client_order_id = %self.request.client_order_id, ?status, "an order presumed never placed is at the venue; adopting it");
            self.presumed_not_placed = false;
            self.status = status;
            self.updated_ms = self.updated_ms.max(at_ms);
            return;
        }
        if generation < self.generation || !self.status.is_open() {
            return;
        }
        if status == OrderStatus::Cancelled && self.replacing == Some(generation) {
            self.updated_ms = self.updated_ms.max(at_ms);
            return;
        }
        if status.is_open() && self.status == OrderStatus::PartiallyFilled {
            // NEW after PARTIALLY_FILLED: a late report; keep the later state.
            self.updated_ms = self.updated_ms.max(at_ms);
            return;
        }
        self.status = status;
        self.updated_ms = self.updated_ms.max(at_ms);
    }

    /// Applies an order response of generation `generation` (a later
    /// generation proves a replacement and becomes the current one).
    pub fn apply_response(&mut self, generation: u32, response: &OrderResponse) {
        self.order_ids.insert(generation, response.order_id);
        let at = response
            .update_time
            .or(response.transact_time)
            .unwrap_or(self.updated_ms);
        self.advance_to(generation);
        if let Some(executed) = response.executed_qty {
            self.note_executed(generation, executed, response.cummulative_quote_qty);
        }
        if generation == self.generation
            && let Some(qty) = response.orig_qty
        {
            self.request.quantity = self.prev_filled + qty;
        }
        if let Some(status) = response.status.and_then(WireStatus::to_status) {
            self.apply_status(generation, status, at);
        }
    }
}

/// The connector's book: tracked orders, booked fills, queued events.
#[derive(Debug, Default)]
pub struct Book {
    /// Orders by runtime id.
    pub orders: HashMap<ClientOrderId, Tracked>,
    /// `(symbol, orderId)` → runtime id and generation.
    pub by_order_id: HashMap<(String, i64), (ClientOrderId, u32)>,
    /// Fill ids booked, and the highest booked trade id per symbol.
    pub fills: FillLedger,
    /// Highest trade id per symbol booked from the user data stream or a
    /// reconcile sweep: every earlier trade of the account was seen, so a
    /// reconcile sweeps from here. (A placement's `FULL` answer books later
    /// trades while the stream may be down; [`FillLedger::last_booked`] would
    /// skip the trades missed before them.)
    pub stream_trade_id: TradeMarks,
    /// Events for `poll_events`.
    pub events: VecDeque<ExchangeEvent>,
    /// Reports of hashed ids not named yet.
    pub held: Vec<ExecutionReport>,
    /// Instruments by symbol (to tell a commission's asset: base, quote or
    /// a third one).
    pub instruments: HashMap<String, Instrument>,
    /// How each symbol's orders may be changed.
    pub amend_rules: HashMap<String, crate::model::AmendRules>,
    /// Runtime ids ever sent.
    pub used: HashSet<ClientOrderId>,
    /// Runtime ids whose placement outcome is being settled.
    pub settling: HashSet<ClientOrderId>,
}

/// Whether [`Book::book_fill`] queues the fill for the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillReport {
    /// Queue it as an [`ExchangeEvent::Fill`].
    Queue,
    /// Only book it: the caller hands the fill over itself (an order lookup
    /// returns it).
    BookOnly,
}

/// The unique id of one side of one trade.
#[must_use]
pub fn fill_id(symbol: &str, trade_id: i64, side: Side) -> String {
    format!("{symbol}-{trade_id}-{}", side.as_str())
}

/// One execution to book.
#[derive(Debug, Clone)]
pub struct Execution {
    /// Symbol.
    pub symbol: String,
    /// Venue order id.
    pub order_id: i64,
    /// Trade id.
    pub trade_id: i64,
    /// Side of our order.
    pub side: Side,
    /// Price.
    pub price: Decimal,
    /// Quantity.
    pub quantity: Decimal,
    /// Commission.
    pub commission: Decimal,
    /// Commission asset.
    pub commission_asset: Option<String>,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Time.
    pub time_ms: i64,
}

impl Execution {
    /// From one fill of a `FULL` placement answer of an order on `side`.
    #[must_use]
    pub fn from_order_fill(response: &OrderResponse, fill: &OrderFill, side: Side) -> Self {
        Self {
            symbol: response.symbol.clone(),
            order_id: response.order_id,
            trade_id: fill.trade_id,
            side,
            price: fill.price,
            quantity: fill.qty,
            commission: fill.commission,
            commission_asset: Some(fill.commission_asset.clone()),
            // Fills in the placement response took liquidity.
            liquidity: Liquidity::Taker,
            time_ms: response.transact_time.unwrap_or_default(),
        }
    }

    /// From a `myTrades` row.
    #[must_use]
    pub fn from_my_trade(trade: &MyTrade) -> Self {
        Self {
            symbol: trade.symbol.clone(),
            order_id: trade.order_id,
            trade_id: trade.id,
            side: if trade.is_buyer {
                Side::Buy
            } else {
                Side::Sell
            },
            price: trade.price,
            quantity: trade.qty,
            commission: trade.commission,
            commission_asset: Some(trade.commission_asset.clone()),
            liquidity: model::liquidity(trade.is_maker),
            time_ms: trade.time,
        }
    }
}

impl Book {
    /// The commission and the asset it was charged in, as the venue
    /// reported them (`n`/`N`, `commission`/`commissionAsset`): per the
    /// commission FAQ, the base asset on a buy, the quote asset on a sell,
    /// BNB when the account pays in BNB. The asset is classified against the
    /// symbol's base and quote assets; an asset of an unknown symbol is kept
    /// by name as a third asset (logged).
    #[must_use]
    pub fn fee(&self, execution: &Execution) -> (Decimal, FeeAsset) {
        let Some(asset) = execution.commission_asset.as_deref() else {
            // No asset means no commission (`N` is null on a trade-less report).
            return (execution.commission, FeeAsset::Quote);
        };
        match self.instruments.get(&execution.symbol) {
            Some(instrument) => (
                execution.commission,
                FeeAsset::classify(asset, &instrument.base_asset, &instrument.quote_asset),
            ),
            None => {
                tracing::warn!(
                    symbol = execution.symbol,
                    asset,
                    "commission of a symbol without exchange rules; kept as a third-asset fee"
                );
                (execution.commission, FeeAsset::Other(asset.to_owned()))
            }
        }
    }

    /// Books an execution of `runtime` once; returns whether it was new.
    pub fn book_fill(
        &mut self,
        runtime: &ClientOrderId,
        execution: &Execution,
        report: FillReport,
    ) -> bool {
        let id = fill_id(&execution.symbol, execution.trade_id, execution.side);
        if !self
            .fills
            .book(&execution.symbol, execution.trade_id, id.clone())
        {
            return false;
        }
        let (fee, fee_asset) = self.fee(execution);
        if let Some(tracked) = self.orders.get_mut(runtime) {
            tracked.booked_qty += execution.quantity;
            tracked.booked_notional += execution.price * execution.quantity;
            tracked.updated_ms = tracked.updated_ms.max(execution.time_ms);
        }
        if report == FillReport::Queue {
            self.events.push_back(ExchangeEvent::Fill(Fill {
                fill_id: id,
                client_order_id: runtime.clone(),
                symbol: execution.symbol.as_str().into(),
                side: execution.side,
                price: execution.price,
                quantity: execution.quantity,
                fee,
                fee_asset,
                liquidity: execution.liquidity,
                timestamp_ms: execution.time_ms,
            }));
        }
        true
    }

    /// Advances [`Book::stream_trade_id`] for a trade seen in sequence.
    pub fn note_stream_trade(&mut self, symbol: &str, trade_id: i64) {
        self.stream_trade_id.note(symbol, trade_id);
    }

    /// Queues an order update when the order's status or filled quantity
    /// changed since the last one.
    pub fn emit_update(&mut self, runtime: &ClientOrderId, reason: Option<String>) {
        let Some(tracked) = self.orders.get_mut(runtime) else {
            return;
        };
        let order = tracked.to_order();
        let now = (order.status, order.filled_quantity);
        if tracked.reported == Some(now) {
            return;
        }
        tracked.reported = Some(now);
        self.events
            .push_back(ExchangeEvent::OrderUpdate(order.to_update(reason)));
    }

    /// Marks the runtime's view as current without emitting (after a
    /// synchronous answer carried the state).
    pub fn mark_reported(&mut self, runtime: &ClientOrderId) {
        if let Some(tracked) = self.orders.get_mut(runtime) {
            let order = tracked.to_order();
            tracked.reported = Some((order.status, order.filled_quantity));
        }
    }

    /// Forgets what the runtime was last told about `runtime`, so the next
    /// [`Book::emit_update`] queues an update even if nothing changed.
    pub fn forget_reported(&mut self, runtime: &ClientOrderId) {
        if let Some(tracked) = self.orders.get_mut(runtime) {
            tracked.reported = None;
        }
    }

    /// Records that generation `generation` of `runtime` is venue order
    /// `order_id`.
    pub fn link(&mut self, runtime: &ClientOrderId, symbol: &str, generation: u32, order_id: i64) {
        self.by_order_id
            .insert((symbol.to_owned(), order_id), (runtime.clone(), generation));
        if let Some(tracked) = self.orders.get_mut(runtime) {
            tracked.order_ids.insert(generation, order_id);
        }
    }

    /// Takes each symbol's instrument rules and amend rules from
    /// `exchangeInfo`.
    pub fn adopt_rules(&mut self, rules: HashMap<String, (Instrument, crate::model::AmendRules)>) {
        for (symbol, (instrument, amend_rules)) in rules {
            self.amend_rules.insert(symbol.clone(), amend_rules);
            self.instruments.insert(symbol, instrument);
        }
    }

    /// Applies an `executionReport`. Reports of hashed ids nobody named yet
    /// are held until [`Book::release_held`].
    pub fn on_report(&mut self, ids: &IdRegistry, report: &ExecutionReport) {
        // A cancel's report carries the cancel's own id in `c` and the
        // cancelled order's in `C`.
        let venue_id = if report.orig_client_order_id.is_empty() {
            report.client_order_id.as_str()
        } else {
            report.orig_client_order_id.as_str()
        };
        let Some((runtime, generation)) = ids.resolve(venue_id).or_else(|| {
            self.by_order_id
                .get(&(report.symbol.clone(), report.order_id))
                .cloned()
        }) else {
            if self.held.len() < MAX_HELD {
                self.held.push(report.clone());
            } else {
                tracing::error!(
                    venue_id,
                    "too many reports for unnamed order ids; dropping one"
                );
            }
            return;
        };
        let Some(side) = report.side.to_side() else {
            tracing::warn!(
                side = ?report.side,
                "executionReport with an unknown side ignored"
            );
            return;
        };
        if !self.orders.contains_key(&runtime) {
            // An order this process did not place (e.g. before a restart).
            let (order_type, time_in_force) =
                model::parse_type(&report.order_type, &report.time_in_force);
            let request = OrderRequest {
                client_order_id: runtime.clone(),
                symbol: report.symbol.as_str().into(),
                side,
                order_type,
                quantity: report.quantity,
                price: has_price(order_type).then_some(report.price),
                trigger_price: has_trigger(order_type).then_some(report.stop_price),
                time_in_force,
            };
            let mut tracked = Tracked::new(request, report.creation_time);
            tracked.generation = generation;
            self.orders.insert(runtime.clone(), tracked);
        }
        self.link(&runtime, &report.symbol, generation, report.order_id);
        if let Some(tracked) = self.orders.get_mut(&runtime) {
            // A report of a later generation: the replacement exists (its
            // reply may not have been handled yet, or was lost); adopt it.
            tracked.advance_to(generation);
            tracked.note_executed(
                generation,
                report.cumulative_quantity,
                Some(report.cumulative_quote),
            );
            if generation == tracked.generation
                && matches!(
                    report.execution_type,
                    ExecutionType::Replaced | ExecutionType::New
                )
            {
                tracked.request.quantity = tracked.prev_filled + report.quantity;
            }
        }
        if report.execution_type == ExecutionType::Trade && report.trade_id >= 0 {
            let execution = Execution {
                symbol: report.symbol.clone(),
                order_id: report.order_id,
                trade_id: report.trade_id,
                side,
                price: report.last_price,
                quantity: report.last_quantity,
                commission: report.commission,
                commission_asset: report.commission_asset.clone(),
                liquidity: model::liquidity(report.is_maker),
                time_ms: report.transaction_time,
            };
            self.book_fill(&runtime, &execution, FillReport::Queue);
            self.note_stream_trade(&report.symbol, report.trade_id);
        }
        if let Some(status) = report.order_status.to_status()
            && let Some(tracked) = self.orders.get_mut(&runtime)
        {
            tracked.apply_status(generation, status, report.transaction_time);
        }
        let reason = match report.execution_type {
            ExecutionType::Rejected => Some(report.reject_reason.clone()),
            ExecutionType::Expired => report.expiry_reason.clone().or(Some("expired".into())),
            _ => None,
        };
        self.emit_update(&runtime, reason);
    }

    /// Applies held reports whose ids can now be resolved.
    pub fn release_held(&mut self, ids: &IdRegistry) {
        let held = std::mem::take(&mut self.held);
        for report in held {
            self.on_report(ids, &report);
        }
    }
}

const fn has_price(order_type: OrderType) -> bool {
    matches!(order_type, OrderType::Limit | OrderType::StopLimit)
}

const fn has_trigger(order_type: OrderType) -> bool {
    matches!(order_type, OrderType::StopMarket | OrderType::StopLimit)
}

/// A request rebuilt from an order response (an order found on the venue
/// that this process did not place).
#[must_use]
pub fn request_from_response(runtime: &ClientOrderId, response: &OrderResponse) -> OrderRequest {
    let (order_type, time_in_force) = model::parse_type(
        response.order_type.as_deref().unwrap_or("LIMIT"),
        response.time_in_force.as_deref().unwrap_or("GTC"),
    );
    OrderRequest {
        client_order_id: runtime.clone(),
        symbol: response.symbol.as_str().into(),
        side: response
            .side
            .and_then(WireSide::to_side)
            .unwrap_or(Side::Buy),
        order_type,
        quantity: response.orig_qty.unwrap_or_default(),
        price: response.price.filter(|_| has_price(order_type)),
        trigger_price: response.stop_price.filter(|_| has_trigger(order_type)),
        time_in_force: if order_type == OrderType::Market {
            TimeInForce::GoodTilCancelled
        } else {
            time_in_force
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn half_filled() -> Tracked {
        let request = OrderRequest::limit("t-1", "BTCUSDT", Side::Buy, dec!(1.5), dec!(100));
        let mut tracked = Tracked::new(request, 0);
        tracked.note_executed(0, dec!(0.5), Some(dec!(50)));
        tracked
    }

    #[test]
    fn a_replace_counts_the_old_generation_once_in_any_order() {
        // Reply first: the cancel's count, then the move.
        let mut reply_first = half_filled();
        reply_first.note_executed(0, dec!(0.5), Some(dec!(50)));
        assert!(reply_first.advance_to(1));
        // The reports come after: the replacement's NEW, the old CANCELED.
        reply_first.note_executed(1, dec!(0), Some(dec!(0)));
        assert!(!reply_first.advance_to(1));
        reply_first.note_executed(0, dec!(0.5), Some(dec!(50)));
        // Reports first, then the reply says the same again.
        let mut reports_first = half_filled();
        assert!(reports_first.advance_to(1));
        reports_first.note_executed(1, dec!(0), Some(dec!(0)));
        reports_first.note_executed(0, dec!(0.5), Some(dec!(50)));
        assert!(!reports_first.advance_to(1));
        for tracked in [&reply_first, &reports_first] {
            assert_eq!(
                (tracked.prev_filled, tracked.gen_filled, tracked.filled()),
                (dec!(0.5), dec!(0), dec!(0.5))
            );
            assert_eq!(tracked.prev_notional, dec!(50));
            assert_eq!(tracked.generation, 1);
        }
    }

    #[test]
    fn the_cancel_of_a_generation_being_replaced_does_not_close_the_order() {
        let mut tracked = half_filled();
        tracked.replacing = Some(0);
        tracked.apply_status(0, OrderStatus::Cancelled, 5);
        assert!(tracked.status.is_open());
        tracked.replacing = None;
        tracked.apply_status(0, OrderStatus::Cancelled, 6);
        assert_eq!(tracked.status, OrderStatus::Cancelled);
        // A later generation re-opens it: the replacement decides.
        assert!(tracked.advance_to(1));
        assert_eq!(tracked.status, OrderStatus::Accepted);
    }
}
