//! Asking the venue: an order by client id (every generation), open
//! orders, an order's fills.

use std::sync::Arc;

use tesser_core::{ClientOrderId, Fill, Order};

use crate::book::{Execution, FillReport, Tracked, fill_id, request_from_response};
use crate::client_id::encode;
use crate::error::BinanceError;
use crate::model::{self, OrderResponse};
use crate::rest::OrderRef;

use super::Shared;

/// Looks an order up on the venue by client id, probing its generations.
pub(super) async fn lookup(
    shared: &Arc<Shared>,
    id: &ClientOrderId,
) -> Result<Option<Order>, BinanceError> {
    let (symbols, start) = {
        let book = shared.lock_book();
        match book.orders.get(id) {
            Some(tracked) => (
                vec![tracked.request.symbol.as_str().to_owned()],
                tracked.generation,
            ),
            None => (shared.config.symbols.clone(), 0),
        }
    };
    for symbol in symbols {
        let mut generation = start;
        let mut found: Vec<(u32, OrderResponse)> = Vec::new();
        while generation <= shared.config.max_generations {
            let venue_id = encode(id, generation);
            match shared
                .rest
                .query_order(&symbol, &OrderRef::ClientId(venue_id))
                .await?
            {
                Some(response) => found.push((generation, response)),
                None => break,
            }
            generation += 1;
        }
        if found.is_empty() {
            continue;
        }
        let mut book = shared.lock_book();
        if !book.orders.contains_key(id) {
            let first = &found[0].1;
            let mut tracked =
                Tracked::new(request_from_response(id, first), first.time.unwrap_or(0));
            tracked.generation = found[0].0;
            book.orders.insert(id.clone(), tracked);
            book.used.insert(id.clone());
        }
        for (generation, response) in &found {
            book.link(id, &symbol, *generation, response.order_id);
            let Some(tracked) = book.orders.get_mut(id) else {
                continue;
            };
            // A later generation becomes the current one.
            tracked.apply_response(*generation, response);
            if let Some(price) = response.price
                && tracked.request.price.is_some()
            {
                tracked.request.price = Some(price);
            }
        }
        book.release_held(&shared.ids);
        return Ok(book.orders.get(id).map(Tracked::to_order));
    }
    Ok(None)
}

pub(super) async fn open_orders(shared: &Arc<Shared>) -> Result<Vec<Order>, BinanceError> {
    let mut out = Vec::new();
    for symbol in &shared.config.symbols {
        for response in shared.rest.open_orders(symbol).await? {
            let Some((runtime, generation)) = shared.ids.resolve(&response.client_order_id) else {
                tracing::warn!(
                    venue_id = response.client_order_id,
                    "open order with an unnamed hashed id skipped"
                );
                continue;
            };
            let mut book = shared.lock_book();
            if !book.orders.contains_key(&runtime) {
                let mut tracked = Tracked::new(
                    request_from_response(&runtime, &response),
                    response.time.unwrap_or(0),
                );
                tracked.generation = generation;
                book.orders.insert(runtime.clone(), tracked);
                book.used.insert(runtime.clone());
            }
            book.link(&runtime, symbol, generation, response.order_id);
            if let Some(tracked) = book.orders.get_mut(&runtime) {
                tracked.apply_response(generation, &response);
                if tracked.status.is_open() {
                    out.push(tracked.to_order());
                }
            }
        }
    }
    out.sort_by_key(|order| order.created_ms);
    Ok(out)
}

pub(super) async fn order_fills(
    shared: &Arc<Shared>,
    id: &ClientOrderId,
) -> Result<Vec<Fill>, BinanceError> {
    if lookup(shared, id).await?.is_none() {
        return Ok(Vec::new());
    }
    let (symbol, side, order_ids) = {
        let book = shared.lock_book();
        let Some(tracked) = book.orders.get(id) else {
            return Ok(Vec::new());
        };
        (
            tracked.request.symbol.as_str().to_owned(),
            tracked.request.side,
            tracked.order_ids.values().copied().collect::<Vec<_>>(),
        )
    };
    let mut fills = Vec::new();
    for order_id in order_ids {
        for trade in shared.rest.my_trades(&symbol, None, Some(order_id)).await? {
            let execution = Execution::from_my_trade(&trade);
            let mut book = shared.lock_book();
            // Counted as known so a later report of it is not reported again.
            book.book_fill(id, &execution, FillReport::BookOnly);
            let (fee, fee_asset) = book.fee(&execution);
            fills.push(Fill {
                fill_id: fill_id(&trade.symbol, trade.id, side),
                client_order_id: id.clone(),
                symbol: trade.symbol.as_str().into(),
                side,
                price: trade.price,
                quantity: trade.qty,
                fee,
                fee_asset,
                liquidity: model::liquidity(trade.is_maker),
                timestamp_ms: trade.time,
            });
        }
    }
    fills.sort_by(|a, b| {
        a.timestamp_ms
            .cmp(&b.timestamp_ms)
            .then(a.fill_id.cmp(&b.fill_id))
    });
    Ok(fills)
}
