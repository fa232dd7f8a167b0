//! The exchange against a naive reference model of the same fill model: on
//! every print the reference ranks all open orders of the symbol from
//! scratch. Both must give the same answers, fills and events.

mod common;

use std::collections::BTreeMap;

use common::scenario::{Action, scenario};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent, FeeAsset, Fill,
    Liquidity, Order, OrderRequest, OrderStatus, OrderType, Side, Symbol, Tick, TimeInForce,
};
use tesser_paper::{PaperConfig, PaperExchange};

struct RefOrder {
    order: Order,
    priority: u64,
    triggered: bool,
    notional: Decimal,
}

impl RefOrder {
    fn is_stop(&self) -> bool {
        matches!(
            self.order.request.order_type,
            OrderType::StopMarket | OrderType::StopLimit
        )
    }

    fn is_immediate(&self) -> bool {
        matches!(
            self.order.request.time_in_force,
            TimeInForce::ImmediateOrCancel | TimeInForce::FillOrKill
        )
    }

    fn is_market(&self) -> bool {
        matches!(
            self.order.request.order_type,
            OrderType::Market | OrderType::StopMarket
        )
    }
}

struct Reference {
    config: PaperConfig,
    orders: Vec<RefOrder>,
    open: Vec<usize>,
    last: BTreeMap<Symbol, Decimal>,
    fills: Vec<Fill>,
    events: Vec<ExchangeEvent>,
    next_priority: u64,
}

fn reject(id: &ClientOrderId) -> ExchangeError {
    ExchangeError::Rejected {
        client_order_id: id.clone(),
        reason: String::new(),
    }
}

impl Reference {
    fn new(config: PaperConfig) -> Self {
        Self {
            config,
            orders: Vec::new(),
            open: Vec::new(),
            last: BTreeMap::new(),
            fills: Vec::new(),
            events: Vec::new(),
            next_priority: 0,
        }
    }

    fn find(&self, id: &ClientOrderId) -> Option<usize> {
        self.orders
            .iter()
            .position(|o| &o.order.request.client_order_id == id)
    }

    fn crosses(&self, request: &OrderRequest, price: Decimal) -> bool {
        self.last
            .get(&request.symbol)
            .is_some_and(|&last| match request.side {
                Side::Buy => price >= last,
                Side::Sell => price <= last,
            })
    }

    fn fill(
        &mut self,
        index: usize,
        price: Decimal,
        quantity: Decimal,
        liquidity: Liquidity,
        ts: i64,
    ) {
        let bps = match liquidity {
            Liquidity::Maker => self.config.maker_fee_bps,
            Liquidity::Taker => self.config.taker_fee_bps,
        };
        let o = &mut self.orders[index];
        o.order.filled_quantity += quantity;
        o.notional += price * quantity;
        o.order.avg_fill_price = Some(o.notional / o.order.filled_quantity);
        o.order.updated_ms = ts;
        o.order.status = if o.order.filled_quantity >= o.order.request.quantity {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        let fill = Fill {
            fill_id: format!("paper-{:06}", self.fills.len() + 1),
            client_order_id: o.order.request.client_order_id.clone(),
            symbol: o.order.request.symbol.clone(),
            side: o.order.request.side,
            price,
            quantity,
            fee: price * quantity * bps / dec!(10000),
            fee_asset: FeeAsset::Quote,
            liquidity,
            timestamp_ms: ts,
        };
        self.fills.push(fill.clone());
        self.events.push(ExchangeEvent::Fill(fill));
        self.events
            .push(ExchangeEvent::OrderUpdate(o.order.to_update(None)));
    }

    fn expire(&mut self, index: usize, ts: i64) {
        let o = &mut self.orders[index];
        let reason = if o.order.request.time_in_force == TimeInForce::FillOrKill {
            "fill-or-kill could not fill completely"
        } else {
            "immediate-or-cancel remainder expired"
        };
        o.order.status = OrderStatus::Expired;
        o.order.updated_ms = ts;
        self.events.push(ExchangeEvent::OrderUpdate(
            o.order.to_update(Some(reason.into())),
        ));
    }
}

impl ExchangeClient for Reference {
    fn name(&self) -> &str {
        "reference"
    }

    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        let id = request.client_order_id.clone();
        if self.find(&id).is_some() {
            return Err(ExchangeError::DuplicateClientOrderId(id));
        }
        let limit_like = matches!(request.order_type, OrderType::Limit | OrderType::StopLimit);
        let stop = matches!(
            request.order_type,
            OrderType::StopMarket | OrderType::StopLimit
        );
        if request.quantity <= Decimal::ZERO
            || (limit_like && request.price.is_none())
            || (stop && request.trigger_price.is_none())
            || request.price.is_some_and(|p| p <= Decimal::ZERO)
            || request.trigger_price.is_some_and(|p| p <= Decimal::ZERO)
        {
            return Err(reject(&id));
        }
        if request.time_in_force == TimeInForce::PostOnly
            && (request.order_type != OrderType::Limit
                || request.price.is_some_and(|p| self.crosses(&request, p)))
        {
            return Err(reject(&id));
        }
        let order = Order {
            request,
            status: OrderStatus::Accepted,
            filled_quantity: Decimal::ZERO,
            avg_fill_price: None,
            created_ms: now_ms,
            updated_ms: now_ms,
        };
        self.open.push(self.orders.len());
        self.orders.push(RefOrder {
            order: order.clone(),
            priority: self.next_priority,
            triggered: false,
            notional: Decimal::ZERO,
        });
        self.next_priority += 1;
        Ok(order)
    }

    fn amend_order(&mut self, amend: &AmendRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        let id = &amend.client_order_id;
        let index = self
            .find(id)
            .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
        let o = &self.orders[index];
        if !o.order.status.is_open() {
            return Err(ExchangeError::OrderClosed(id.clone()));
        }
        if amend.new_price.is_none() && amend.new_quantity.is_none() {
            return Err(reject(id));
        }
        if amend
            .new_quantity
            .is_some_and(|q| q <= o.order.filled_quantity)
        {
            return Err(reject(id));
        }
        if let Some(price) = amend.new_price
            && (!matches!(
                o.order.request.order_type,
                OrderType::Limit | OrderType::StopLimit
            ) || price <= Decimal::ZERO
                || (o.order.request.time_in_force == TimeInForce::PostOnly
                    && self.crosses(&o.order.request, price)))
        {
            return Err(reject(id));
        }
        let loses = amend
            .new_quantity
            .is_some_and(|q| q > o.order.request.quantity)
            || amend
                .new_price
                .is_some_and(|p| Some(p) != o.order.request.price);
        let o = &mut self.orders[index];
        if let Some(q) = amend.new_quantity {
            o.order.request.quantity = q;
        }
        if let Some(p) = amend.new_price {
            o.order.request.price = Some(p);
        }
        if loses {
            o.priority = self.next_priority;
            self.next_priority += 1;
        }
        o.order.updated_ms = now_ms;
        Ok(o.order.clone())
    }

    fn cancel_order(&mut self, id: &ClientOrderId, now_ms: i64) -> Result<Order, ExchangeError> {
        let index = self
            .find(id)
            .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
        let o = &mut self.orders[index];
        if !o.order.status.is_open() {
            return Err(ExchangeError::OrderClosed(id.clone()));
        }
        o.order.status = OrderStatus::Cancelled;
        o.order.updated_ms = now_ms;
        let order = o.order.clone();
        self.open.retain(|&i| i != index);
        Ok(order)
    }

    fn order(&self, id: &ClientOrderId) -> Result<Option<Order>, ExchangeError> {
        Ok(self.find(id).map(|i| self.orders[i].order.clone()))
    }

    fn open_orders(&self) -> Result<Vec<Order>, ExchangeError> {
        Ok(self
            .open
            .iter()
            .map(|&i| self.orders[i].order.clone())
            .collect())
    }

    fn order_fills(&self, id: &ClientOrderId) -> Result<Vec<Fill>, ExchangeError> {
        Ok(self
            .fills
            .iter()
            .filter(|f| &f.client_order_id == id)
            .cloned()
            .collect())
    }

    fn on_market_tick(&mut self, tick: &Tick) {
        let print = tick.price;
        let ts = tick.timestamp_ms;
        let mine: Vec<usize> = self
            .open
            .iter()
            .copied()
            .filter(|&i| self.orders[i].order.request.symbol == tick.symbol)
            .collect();
        // Trigger stops.
        for &i in &mine {
            let o = &mut self.orders[i];
            if o.is_stop() && !o.triggered {
                let trigger = o.order.request.trigger_price.unwrap();
                o.triggered = match o.order.request.side {
                    Side::Buy => print >= trigger,
                    Side::Sell => print <= trigger,
                };
            }
        }
        let live: Vec<usize> = mine
            .into_iter()
            .filter(|&i| !self.orders[i].is_stop() || self.orders[i].triggered)
            .collect();
        // Rank those that can trade on this print from scratch.
        let mut ranked = Vec::new();
        for &i in &live {
            let o = &self.orders[i];
            let immediate = o.is_immediate();
            if o.is_market() {
                ranked.push(((0, Decimal::ZERO, o.priority), i, print, Liquidity::Taker));
                continue;
            }
            let limit = o.order.request.price.unwrap();
            let through = match o.order.request.side {
                Side::Buy => limit - print,
                Side::Sell => print - limit,
            };
            if immediate && through >= Decimal::ZERO {
                ranked.push(((1, -through, o.priority), i, print, Liquidity::Taker));
            } else if !immediate && through > Decimal::ZERO {
                ranked.push(((1, -through, o.priority), i, limit, Liquidity::Maker));
            }
        }
        ranked.sort_by_key(|entry| entry.0);
        let mut liquidity = tick.size.max(Decimal::ZERO);
        for (_, i, price, role) in ranked {
            let o = &self.orders[i];
            let remaining = o.order.request.quantity - o.order.filled_quantity;
            let available = liquidity.min(remaining);
            match o.order.request.time_in_force {
                TimeInForce::FillOrKill => {
                    if available >= remaining {
                        liquidity -= remaining;
                        self.fill(i, price, remaining, role, ts);
                    } else {
                        self.expire(i, ts);
                    }
                }
                tif => {
                    if available > Decimal::ZERO {
                        liquidity -= available;
                        self.fill(i, price, available, role, ts);
                    }
                    if tif == TimeInForce::ImmediateOrCancel
                        && self.orders[i].order.status.is_open()
                    {
                        self.expire(i, ts);
                    }
                }
            }
        }
        // IOC/FOK orders that could not trade at all expire, earliest first.
        let mut untouched: Vec<usize> = live
            .into_iter()
            .filter(|&i| self.orders[i].is_immediate() && self.orders[i].order.status.is_open())
            .collect();
        untouched.sort_by_key(|&i| self.orders[i].priority);
        for i in untouched {
            self.expire(i, ts);
        }
        self.open.retain(|&i| self.orders[i].order.status.is_open());
        self.last.insert(tick.symbol.clone(), print);
    }

    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        out.append(&mut self.events);
    }
}

/// An answer with the reason of a rejection left out (the reference does
/// not spell reasons out).
fn normalize(answer: Result<Order, ExchangeError>) -> Result<Order, ExchangeError> {
    answer.map_err(|error| match error {
        ExchangeError::Rejected {
            client_order_id, ..
        } => ExchangeError::Rejected {
            client_order_id,
            reason: String::new(),
        },
        other => other,
    })
}

#[derive(Default, Debug, PartialEq)]
struct Trace {
    answers: Vec<Result<Order, ExchangeError>>,
    events: Vec<ExchangeEvent>,
    open: Vec<Vec<Order>>,
}

fn drive(exchange: &mut impl ExchangeClient, actions: &[Action]) -> Trace {
    let mut trace = Trace::default();
    for (n, action) in actions.iter().enumerate() {
        match action {
            Action::Place(request, now) => trace
                .answers
                .push(normalize(exchange.place_order(request.clone(), *now))),
            Action::Amend(amend, now) => trace
                .answers
                .push(normalize(exchange.amend_order(amend, *now))),
            Action::Cancel(id, now) => trace
                .answers
                .push(normalize(exchange.cancel_order(id, *now))),
            Action::Print(tick) => exchange.on_market_tick(tick),
            Action::Poll => exchange.poll_events(&mut trace.events),
        }
        if n % 1000 == 0 {
            trace.open.push(exchange.open_orders().unwrap());
        }
    }
    exchange.poll_events(&mut trace.events);
    trace.open.push(exchange.open_orders().unwrap());
    trace
}

#[test]
fn the_exchange_matches_a_naive_reference_model() {
    let config = PaperConfig {
        maker_fee_bps: dec!(2),
        taker_fee_bps: dec!(7.5),
        ..PaperConfig::default()
    };
    for seed in [1, 2, 3, 99, 2024] {
        let actions = scenario(seed, 10_000);
        let mut exchange = PaperExchange::new(config.clone());
        let mut reference = Reference::new(config.clone());
        let ours = drive(&mut exchange, &actions);
        let theirs = drive(&mut reference, &actions);
        assert!(exchange.fills().len() > 500, "seed {seed}: few fills");
        assert_eq!(ours.answers.len(), theirs.answers.len());
        for (n, (a, b)) in ours.answers.iter().zip(&theirs.answers).enumerate() {
            assert_eq!(a, b, "seed {seed}: answer #{n}");
        }
        assert_eq!(exchange.fills(), reference.fills.as_slice(), "seed {seed}");
        assert_eq!(ours.events.len(), theirs.events.len(), "seed {seed}");
        for (n, (a, b)) in ours.events.iter().zip(&theirs.events).enumerate() {
            assert_eq!(a, b, "seed {seed}: event #{n}");
        }
        assert_eq!(ours.open, theirs.open, "seed {seed}");
        for o in &reference.orders {
            let id = &o.order.request.client_order_id;
            assert_eq!(
                exchange.order(id).unwrap().as_ref(),
                Some(&o.order),
                "seed {seed}"
            );
            assert_eq!(
                exchange.order_fills(id).unwrap(),
                reference.order_fills(id).unwrap()
            );
        }
    }
}
