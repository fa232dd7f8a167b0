//! Reconciling after a user data reconnect.

use std::collections::BTreeSet;
use std::sync::Arc;

use tesser_core::ClientOrderId;

use crate::book::{Execution, FillReport};
use crate::error::BinanceError;
use crate::rest::OrderRef;

use super::Shared;

/// Reconciles after a user data reconnect: `myTrades` from the last booked
/// trade id (or per open order when nothing was booked yet), then the state
/// of every order still open here.
///
/// # Errors
/// The first REST failure.
pub async fn reconcile(shared: &Arc<Shared>) -> Result<(), BinanceError> {
    for symbol in &shared.config.symbols {
        let (from, open): (Option<i64>, Vec<(ClientOrderId, BTreeSet<i64>)>) = {
            let book = shared.lock_book();
            let open = book
                .orders
                .iter()
                .filter(|(_, tracked)| {
                    tracked.request.symbol.as_str() == symbol && tracked.status.is_open()
                })
                .map(|(id, tracked)| (id.clone(), tracked.order_ids.values().copied().collect()))
                .collect();
            (book.last_trade_id.get(symbol).map(|last| last + 1), open)
        };
        let trades = match from {
            Some(from) => shared.rest.my_trades(symbol, Some(from), None).await?,
            None => {
                let mut all = Vec::new();
                for (_, order_ids) in &open {
                    for order_id in order_ids {
                        all.extend(shared.rest.my_trades(symbol, None, Some(*order_id)).await?);
                    }
                }
                all
            }
        };
        for trade in &trades {
            let known = shared
                .lock_book()
                .by_order_id
                .get(&(symbol.clone(), trade.order_id))
                .cloned();
            let runtime = match known {
                Some((runtime, _)) => Some(runtime),
                None => shared
                    .rest
                    .query_order(symbol, &OrderRef::OrderId(trade.order_id))
                    .await?
                    .and_then(|response| {
                        shared
                            .ids
                            .resolve(&response.client_order_id)
                            .map(|(runtime, _)| runtime)
                    }),
            };
            let Some(runtime) = runtime else {
                tracing::warn!(
                    order_id = trade.order_id,
                    "trade of an unnamed order skipped"
                );
                continue;
            };
            let mut book = shared.lock_book();
            if book.book_fill(
                &runtime,
                &Execution::from_my_trade(trade),
                FillReport::Queue,
            ) {
                tracing::info!(client_order_id = %runtime, trade_id = trade.id, "fill recovered by reconcile");
            }
            book.emit_update(&runtime, None);
        }
        let venue_open = shared.rest.open_orders(symbol).await?;
        let open_ids: BTreeSet<i64> = venue_open.iter().map(|order| order.order_id).collect();
        for response in &venue_open {
            if let Some((runtime, generation)) = shared.ids.resolve(&response.client_order_id) {
                let mut book = shared.lock_book();
                if let Some(tracked) = book.orders.get_mut(&runtime) {
                    tracked.apply_response(generation, response);
                    book.emit_update(&runtime, None);
                }
            }
        }
        for (id, _) in open {
            let current = {
                let book = shared.lock_book();
                book.orders.get(&id).map(|tracked| {
                    (
                        tracked.generation,
                        tracked.order_ids.get(&tracked.generation).copied(),
                    )
                })
            };
            let Some((generation, Some(order_id))) = current else {
                continue;
            };
            if open_ids.contains(&order_id) {
                continue;
            }
            if let Some(response) = shared
                .rest
                .query_order(symbol, &OrderRef::OrderId(order_id))
                .await?
            {
                let mut book = shared.lock_book();
                if let Some(tracked) = book.orders.get_mut(&id) {
                    tracked.apply_response(generation, &response);
                }
                book.emit_update(&id, None);
            }
        }
    }
    Ok(())
}
