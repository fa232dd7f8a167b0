//! The matching engine: orders as the exchange holds them, the per-symbol
//! book of open orders, and what one print does to it.

use std::cmp::{Ordering, Reverse};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tesser_core::{
    ExchangeEvent, FeeAsset, Fill, Liquidity, Order, OrderStatus, OrderType, OrderUpdate, Side,
    Tick, TimeInForce,
};

use crate::PaperConfig;

/// Reason of an IOC order's expiry.
const IOC_EXPIRED: &str = "immediate-or-cancel remainder expired";
/// Reason of an FOK order's expiry.
const FOK_EXPIRED: &str = "fill-or-kill could not fill completely";

const TEN_THOUSAND: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);

/// An order as the exchange holds it, open or closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Working {
    /// The order as reported to clients.
    pub(crate) order: Order,
    /// Time priority: lower is earlier. Unique; a price change or a quantity
    /// increase gives the order a new (later) one.
    pub(crate) priority: u64,
    /// Whether a stop order has triggered.
    pub(crate) triggered: bool,
    /// Σ price × quantity of the fills, for the average fill price.
    pub(crate) filled_notional: Decimal,
    /// Data time at which the order reaches the book (placement time plus
    /// the configured latency).
    #[serde(default)]
    pub(crate) arrives_ms: i64,
    /// Positions of the order's fills in the exchange's fill list. Rebuilt
    /// when a saved state is loaded.
    #[serde(skip)]
    pub(crate) fills: Vec<usize>,
}

impl Working {
    fn is_immediate(&self) -> bool {
        matches!(
            self.order.request.time_in_force,
            TimeInForce::ImmediateOrCancel | TimeInForce::FillOrKill
        )
    }

    /// Whether the order can trade on a print at `price`, and if so at what
    /// price and as maker or taker. `None` for an order that cannot.
    fn terms(&self, price: Decimal, immediate: bool) -> Option<(Decimal, Liquidity)> {
        let request = &self.order.request;
        let limit = match request.order_type {
            OrderType::Market | OrderType::StopMarket => {
                return Some((price, Liquidity::Taker));
            }
            OrderType::Limit | OrderType::StopLimit => request.price?,
        };
        let (at_or_better, through) = match request.side {
            Side::Buy => (price <= limit, price < limit),
            Side::Sell => (price >= limit, price > limit),
        };
        if immediate {
            at_or_better.then_some((price, Liquidity::Taker))
        } else {
            through.then_some((limit, Liquidity::Maker))
        }
    }
}

/// An open order in a book: its sort price, time priority and position in
/// the exchange's order list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// Limit price (limit queues) or trigger price (stop queues); zero in
    /// the market queue.
    price: Decimal,
    priority: u64,
    position: usize,
}

/// Where an open order waits.
#[derive(Clone, Copy)]
enum Queue {
    Market,
    Buy,
    Sell,
    BuyStop,
    SellStop,
}

/// The open orders of one symbol, each queue kept sorted so that a print can
/// tell at a glance whether anything may trade.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Book {
    /// Market and triggered stop-market orders, earliest first.
    markets: Vec<Entry>,
    /// Limit buys (and triggered stop-limit buys), highest price first, then
    /// earliest.
    buys: Vec<Entry>,
    /// Limit sells (and triggered stop-limit sells), lowest price first, then
    /// earliest.
    sells: Vec<Entry>,
    /// Untriggered buy stops, lowest trigger first, then earliest.
    buy_stops: Vec<Entry>,
    /// Untriggered sell stops, highest trigger first, then earliest.
    sell_stops: Vec<Entry>,
    /// IOC and FOK orders that decide on the next print (they are also in
    /// `markets`, `buys` or `sells`), earliest first.
    immediates: Vec<Entry>,
}

impl Book {
    /// Whether the book has no open order.
    pub(crate) fn is_empty(&self) -> bool {
        self.markets.is_empty()
            && self.buys.is_empty()
            && self.sells.is_empty()
            && self.buy_stops.is_empty()
            && self.sell_stops.is_empty()
    }

    /// Positions of every open order, in no particular order.
    pub(crate) fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.markets
            .iter()
            .chain(&self.buys)
            .chain(&self.sells)
            .chain(&self.buy_stops)
            .chain(&self.sell_stops)
            .map(|entry| entry.position)
    }

    /// Queues the open order `working`, found at `position`.
    pub(crate) fn insert(&mut self, working: &Working, position: usize) {
        let request = &working.order.request;
        let is_stop = matches!(
            request.order_type,
            OrderType::StopMarket | OrderType::StopLimit
        );
        // Prices and triggers are present: `place_order` and loading a saved
        // state refuse orders without the ones their type needs.
        let (queue, price) = if is_stop && !working.triggered {
            let trigger = request.trigger_price.unwrap_or_default();
            match request.side {
                Side::Buy => (Queue::BuyStop, trigger),
                Side::Sell => (Queue::SellStop, trigger),
            }
        } else {
            match (request.order_type, request.side) {
                (OrderType::Market | OrderType::StopMarket, _) => (Queue::Market, Decimal::ZERO),
                (_, Side::Buy) => (Queue::Buy, request.price.unwrap_or_default()),
                (_, Side::Sell) => (Queue::Sell, request.price.unwrap_or_default()),
            }
        };
        let entry = Entry {
            price,
            priority: working.priority,
            position,
        };
        self.push(queue, entry);
        if working.is_immediate() && !matches!(queue, Queue::BuyStop | Queue::SellStop) {
            insert_sorted(&mut self.immediates, entry, |e| e.priority);
        }
    }

    fn push(&mut self, queue: Queue, entry: Entry) {
        match queue {
            Queue::Market => insert_sorted(&mut self.markets, entry, |e| e.priority),
            Queue::Buy => insert_sorted(&mut self.buys, entry, |e| (Reverse(e.price), e.priority)),
            Queue::Sell => insert_sorted(&mut self.sells, entry, |e| (e.price, e.priority)),
            Queue::BuyStop => {
                insert_sorted(&mut self.buy_stops, entry, |e| (e.price, e.priority));
            }
            Queue::SellStop => insert_sorted(&mut self.sell_stops, entry, |e| {
                (Reverse(e.price), e.priority)
            }),
        }
    }

    /// Drops the order at `position` from every queue.
    pub(crate) fn remove(&mut self, position: usize) {
        for queue in [
            &mut self.markets,
            &mut self.buys,
            &mut self.sells,
            &mut self.buy_stops,
            &mut self.sell_stops,
            &mut self.immediates,
        ] {
            if let Some(index) = queue.iter().position(|e| e.position == position) {
                queue.remove(index);
            }
        }
    }

    /// Triggers the stops a print at `price` reaches and queues them as the
    /// market or limit orders they become.
    fn trigger(&mut self, orders: &mut [Working], price: Decimal) {
        while let Some(&entry) = self.buy_stops.first()
            && price >= entry.price
        {
            self.buy_stops.remove(0);
            self.requeue_triggered(orders, entry.position);
        }
        while let Some(&entry) = self.sell_stops.first()
            && price <= entry.price
        {
            self.sell_stops.remove(0);
            self.requeue_triggered(orders, entry.position);
        }
    }

    fn requeue_triggered(&mut self, orders: &mut [Working], position: usize) {
        if let Some(working) = orders.get_mut(position) {
            working.triggered = true;
            self.insert(working, position);
        }
    }

    /// Drops closed orders from the queues that matching closes orders in.
    fn retain_open(&mut self, orders: &[Working]) {
        let open = |entry: &Entry| {
            orders
                .get(entry.position)
                .is_some_and(|working| working.order.status.is_open())
        };
        self.markets.retain(open);
        self.buys.retain(open);
        self.sells.retain(open);
    }

    /// Matches one print against the book.
    ///
    /// Allocates nothing unless something fills or expires.
    pub(crate) fn match_print(
        &mut self,
        config: &PaperConfig,
        orders: &mut [Working],
        ledger: &mut Ledger,
        tick: &Tick,
    ) {
        let price = tick.price;
        self.trigger(orders, price);
        let may_trade = !self.markets.is_empty()
            || !self.immediates.is_empty()
            || self.buys.first().is_some_and(|e| e.price > price)
            || self.sells.first().is_some_and(|e| e.price < price);
        if !may_trade {
            return;
        }
        let mut run = Run {
            config,
            orders,
            ledger,
            tick,
            liquidity: tick.size.max(Decimal::ZERO),
            closed_any: false,
        };
        let immediates_left = !self.immediates.is_empty();
        // Market orders first, earliest first.
        for entry in &self.markets {
            if run.liquidity <= Decimal::ZERO && !immediates_left {
                break;
            }
            run.offer(entry.position);
        }
        // Then limit orders of both sides, the one the print trades furthest
        // through first, earliest first at the same distance. Orders at the
        // print's price are visited too: IOC/FOK may trade at their limit.
        let (mut b, mut s) = (0, 0);
        loop {
            if run.liquidity <= Decimal::ZERO && !immediates_left {
                break;
            }
            let buy = self.buys.get(b).filter(|e| e.price >= price);
            let sell = self.sells.get(s).filter(|e| e.price <= price);
            let take_buy = match (buy, sell) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(buy), Some(sell)) => match (buy.price - price).cmp(&(price - sell.price)) {
                    Ordering::Greater => true,
                    Ordering::Less => false,
                    Ordering::Equal => buy.priority < sell.priority,
                },
            };
            let entry = if take_buy {
                b += 1;
                buy
            } else {
                s += 1;
                sell
            };
            if let Some(entry) = entry {
                run.offer(entry.position);
            }
        }
        // IOC/FOK orders the print could not reach expire now.
        for entry in self.immediates.drain(..) {
            run.expire_immediate(entry.position);
        }
        if run.closed_any {
            self.retain_open(run.orders);
        }
    }
}

/// Inserts `entry` into `queue`, sorted by `key`.
fn insert_sorted<K: Ord>(queue: &mut Vec<Entry>, entry: Entry, key: impl Fn(&Entry) -> K) {
    let new = key(&entry);
    let index = queue.partition_point(|e| key(e) < new);
    queue.insert(index, entry);
}

/// Matching of one print.
struct Run<'a> {
    config: &'a PaperConfig,
    orders: &'a mut [Working],
    ledger: &'a mut Ledger,
    tick: &'a Tick,
    /// What the print can still fill.
    liquidity: Decimal,
    closed_any: bool,
}

impl Run<'_> {
    /// Offers the print's remaining size to the order at `position`.
    fn offer(&mut self, position: usize) {
        let Some(working) = self.orders.get_mut(position) else {
            return;
        };
        if !working.order.status.is_open() {
            return;
        }
        let time_in_force = working.order.request.time_in_force;
        let immediate = working.is_immediate();
        let remaining = working.order.remaining_quantity();
        let terms = working.terms(self.tick.price, immediate);
        let available = match terms {
            Some(_) => self.liquidity.min(remaining),
            None => Decimal::ZERO,
        };
        let ts = self.tick.timestamp_ms;
        match (time_in_force, terms) {
            (TimeInForce::FillOrKill, Some((price, role))) if available >= remaining => {
                self.liquidity -= remaining;
                self.ledger
                    .execute(self.config, working, price, remaining, role, ts);
            }
            (TimeInForce::FillOrKill, _) => self.ledger.expire(working, FOK_EXPIRED, ts),
            (_, Some((price, role))) if available > Decimal::ZERO => {
                self.liquidity -= available;
                self.ledger
                    .execute(self.config, working, price, available, role, ts);
                if time_in_force == TimeInForce::ImmediateOrCancel && working.order.status.is_open()
                {
                    self.ledger.expire(working, IOC_EXPIRED, ts);
                }
            }
            (TimeInForce::ImmediateOrCancel, _) => self.ledger.expire(working, IOC_EXPIRED, ts),
            _ => {}
        }
        self.closed_any |= !working.order.status.is_open();
    }

    /// Expires the IOC/FOK order at `position` if the print left it open.
    fn expire_immediate(&mut self, position: usize) {
        let Some(working) = self.orders.get_mut(position) else {
            return;
        };
        if !working.order.status.is_open() {
            return;
        }
        let reason = match working.order.request.time_in_force {
            TimeInForce::FillOrKill => FOK_EXPIRED,
            _ => IOC_EXPIRED,
        };
        self.ledger.expire(working, reason, self.tick.timestamp_ms);
        self.closed_any = true;
    }
}

/// An event waiting for `poll_events`, in a serializable form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Pending {
    /// A fill, by its position in the exchange's fill list.
    Fill {
        /// Position in the fill list.
        fill: usize,
    },
    /// An order update.
    OrderUpdate {
        /// The update.
        update: OrderUpdate,
    },
}

/// Fills and queued events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ledger {
    /// Every fill, oldest first.
    pub(crate) fills: Vec<Fill>,
    /// Events not polled yet, oldest first.
    pub(crate) pending: Vec<Pending>,
    /// Sequence number of the next fill id.
    pub(crate) next_fill: u64,
}

impl Ledger {
    pub(crate) const fn new() -> Self {
        Self {
            fills: Vec::new(),
            pending: Vec::new(),
            next_fill: 1,
        }
    }

    /// Moves the queued events into `out`, oldest first.
    pub(crate) fn drain_into(&mut self, out: &mut Vec<ExchangeEvent>) {
        let fills = &self.fills;
        out.extend(self.pending.drain(..).filter_map(|event| match event {
            Pending::Fill { fill } => fills.get(fill).cloned().map(ExchangeEvent::Fill),
            Pending::OrderUpdate { update } => Some(ExchangeEvent::OrderUpdate(update)),
        }));
    }

    /// Executes `quantity` of `working` at `price` and queues the fill and the
    /// order's new state.
    fn execute(
        &mut self,
        config: &PaperConfig,
        working: &mut Working,
        price: Decimal,
        quantity: Decimal,
        liquidity: Liquidity,
        timestamp_ms: i64,
    ) {
        let notional = price * quantity;
        let bps = match liquidity {
            Liquidity::Maker => config.maker_fee_bps,
            Liquidity::Taker => config.taker_fee_bps,
        };
        let order = &mut working.order;
        order.filled_quantity += quantity;
        working.filled_notional += notional;
        order.avg_fill_price = Some(working.filled_notional / order.filled_quantity);
        order.updated_ms = timestamp_ms;
        order.status = if order.filled_quantity >= order.request.quantity {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        let fill = Fill {
            fill_id: format!("paper-{:06}", self.next_fill),
            client_order_id: order.request.client_order_id.clone(),
            symbol: order.request.symbol.clone(),
            side: order.request.side,
            price,
            quantity,
            // The paper venue charges every fee in the quote asset.
            fee: notional * bps / TEN_THOUSAND,
            fee_asset: FeeAsset::Quote,
            liquidity,
            timestamp_ms,
        };
        self.next_fill += 1;
        let position = self.fills.len();
        self.fills.push(fill);
        working.fills.push(position);
        self.pending.push(Pending::Fill { fill: position });
        self.pending.push(Pending::OrderUpdate {
            update: order.to_update(None),
        });
    }

    /// Ends `working` by its time in force and queues the update.
    fn expire(&mut self, working: &mut Working, reason: &str, timestamp_ms: i64) {
        let order = &mut working.order;
        order.status = OrderStatus::Expired;
        order.updated_ms = timestamp_ms;
        self.pending.push(Pending::OrderUpdate {
            update: order.to_update(Some(reason.to_owned())),
        });
    }
}
