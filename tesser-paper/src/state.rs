//! Saving and restoring the paper exchange with serde.
//!
//! The saved form holds the state proper; the indexes (orders by id, open
//! orders per symbol, fills per order) are rebuilt on load, after checking
//! that the state is consistent.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tesser_core::{Fill, OrderType, Symbol};

use crate::matching::{Ledger, Pending, Working};
use crate::{PaperConfig, PaperExchange};

/// The saved form, borrowed for saving.
#[derive(Serialize)]
struct StateRef<'a> {
    config: &'a PaperConfig,
    orders: &'a [Working],
    fills: &'a [Fill],
    last_prices: &'a BTreeMap<Symbol, Decimal>,
    pending: &'a [Pending],
    next_fill: u64,
    next_priority: u64,
    arriving: &'a [usize],
}

/// The saved form, owned for loading.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    config: PaperConfig,
    orders: Vec<Working>,
    fills: Vec<Fill>,
    last_prices: BTreeMap<Symbol, Decimal>,
    pending: Vec<Pending>,
    next_fill: u64,
    next_priority: u64,
    #[serde(default)]
    arriving: Vec<usize>,
}

impl Serialize for PaperExchange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StateRef {
            config: &self.config,
            orders: &self.orders,
            fills: &self.ledger.fills,
            last_prices: &self.last_prices,
            pending: &self.ledger.pending,
            next_fill: self.ledger.next_fill,
            next_priority: self.next_priority,
            arriving: &self.arriving,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PaperExchange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let state = State::deserialize(deserializer)?;
        restore(state).map_err(D::Error::custom)
    }
}

/// Rebuilds the exchange from its saved form.
fn restore(state: State) -> Result<PaperExchange, String> {
    let mut exchange = PaperExchange::new(state.config);
    let mut priorities = BTreeSet::new();
    for (position, mut working) in state.orders.into_iter().enumerate() {
        let request = &working.order.request;
        let id = &request.client_order_id;
        let needs_price = matches!(request.order_type, OrderType::Limit | OrderType::StopLimit);
        let needs_trigger = matches!(
            request.order_type,
            OrderType::StopMarket | OrderType::StopLimit
        );
        if needs_price && request.price.is_none() {
            return Err(format!("saved order {id} has no limit price"));
        }
        if needs_trigger && request.trigger_price.is_none() {
            return Err(format!("saved order {id} has no trigger price"));
        }
        if working.priority >= state.next_priority || !priorities.insert(working.priority) {
            return Err(format!(
                "saved order {id} has priority {} that is taken or not below next_priority {}",
                working.priority, state.next_priority
            ));
        }
        if exchange.ids.insert(id.clone(), position).is_some() {
            return Err(format!("saved order id {id} appears twice"));
        }
        if working.order.status.is_open() && !state.arriving.contains(&position) {
            exchange
                .books
                .entry(request.symbol.clone())
                .or_default()
                .insert(&working, position);
        }
        working.fills.clear();
        exchange.orders.push(working);
    }
    for (index, fill) in state.fills.iter().enumerate() {
        let working = exchange
            .ids
            .get(&fill.client_order_id)
            .and_then(|&position| exchange.orders.get_mut(position))
            .ok_or_else(|| {
                format!(
                    "saved fill {} belongs to unknown order {}",
                    fill.fill_id, fill.client_order_id
                )
            })?;
        working.fills.push(index);
    }
    for event in &state.pending {
        if let Pending::Fill { fill } = event
            && *fill >= state.fills.len()
        {
            return Err(format!(
                "a saved event refers to fill #{fill}, but there are {} fills",
                state.fills.len()
            ));
        }
    }
    exchange.last_prices = state.last_prices;
    exchange.ledger = Ledger {
        fills: state.fills,
        pending: state.pending,
        next_fill: state.next_fill,
    };
    exchange.next_priority = state.next_priority;
    if let Some(&bad) = state
        .arriving
        .iter()
        .find(|&&position| position >= exchange.orders.len())
    {
        return Err(format!(
            "a saved arriving order refers to order #{bad}, but there are {} orders",
            exchange.orders.len()
        ));
    }
    exchange.arriving = state.arriving;
    Ok(exchange)
}
