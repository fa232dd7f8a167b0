//! Reconciling after a user data reconnect.

use std::collections::BTreeSet;
use std::sync::Arc;

use tesser_core::{ClientOrderId, ExchangeEvent};

use crate::book::{Execution, FillReport};
use crate::error::BinanceError;
use crate::rest::OrderRef;

use super::Shared;

/// An order open here, with the venue order id of each generation.
type OpenOrder = (ClientOrderId, BTreeSet<i64>);

/// Reconciles after a user data reconnect: `myTrades` from the last trade
/// seen in sequence ([`crate::book::Book::stream_trade_id`]), and per order
/// for every order still open or whose venue count runs ahead of its booked
/// fills (its trades were missed, whatever their ids); then the state of
/// every order still open here; last, the account's balances.
///
/// # Errors
/// The first REST failure.
pub async fn reconcile(shared: &Arc<Shared>) -> Result<(), BinanceError> {
    for symbol in &shared.config.symbols {
        let (from, open, short): (Option<i64>, Vec<OpenOrder>, BTreeSet<i64>) = {
            let book = shared.lock_book();
            let of_symbol = || {
                book.orders
                    .iter()
                    .filter(|(_, tracked)| tracked.request.symbol.as_str() == symbol)
            };
            let open = of_symbol()
                .filter(|(_, tracked)| tracked.status.is_open())
                .map(|(id, tracked)| (id.clone(), tracked.order_ids.values().copied().collect()))
                .collect();
            let short = of_symbol()
                .filter(|(_, tracked)| {
                    tracked.status.is_open() || tracked.filled() > tracked.booked_qty
                })
                .flat_map(|(_, tracked)| tracked.order_ids.values().copied())
                .collect();
            (
                book.stream_trade_id.get(symbol).map(|last| last + 1),
                open,
                short,
            )
        };
        let mut trades = match from {
            Some(from) => shared.rest.my_trades(symbol, Some(from), None).await?,
            None => Vec::new(),
        };
        // The sweep saw every trade up to its last one.
        let swept = trades.iter().map(|trade| trade.id).max();
        for order_id in &short {
            trades.extend(shared.rest.my_trades(symbol, None, Some(*order_id)).await?);
        }
        trades.sort_by_key(|trade| trade.id);
        trades.dedup_by_key(|trade| trade.id);
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
        if let Some(swept) = swept {
            shared.lock_book().note_stream_trade(symbol, swept);
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
    // The balances the missed reports would have carried, after the fills
    // that moved them.
    let account = shared.rest.account().await?;
    shared
        .lock_book()
        .events
        .push_back(ExchangeEvent::Balances(account.core_balances()));
    Ok(())
}
