//! Cancelling an order.

use std::sync::Arc;

use tesser_core::{ClientOrderId, ExchangeError, Order};

use crate::client_id::encode;
use crate::error::{BinanceError, CANCEL_REJECTED, NO_SUCH_ORDER};
use crate::rest::OrderRef;

use super::lookup::lookup;
use super::unknown::{Change, settle_in_background};
use super::{Shared, not_sent, rejected, unavailable};

pub(super) async fn cancel(
    shared: &Arc<Shared>,
    id: &ClientOrderId,
) -> Result<Order, ExchangeError> {
    shared.register(id)?;
    let known = shared
        .lock_book()
        .orders
        .get(id)
        .map(|t| (t.request.symbol.clone(), t.generation, t.status));
    let (symbol, generation) = match known {
        Some((_, _, status)) if !status.is_open() => {
            return Err(ExchangeError::OrderClosed(id.clone()));
        }
        Some((symbol, generation, _)) => (symbol, generation),
        None => match lookup(shared, id).await.map_err(|e| unavailable(&e))? {
            Some(order) if !order.status.is_open() => {
                return Err(ExchangeError::OrderClosed(id.clone()));
            }
            Some(_) => {
                let book = shared.lock_book();
                let tracked = book
                    .orders
                    .get(id)
                    .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
                (tracked.request.symbol.clone(), tracked.generation)
            }
            None => return Err(ExchangeError::UnknownOrder(id.clone())),
        },
    };
    let venue_id = encode(id, generation);
    match shared
        .rest
        .cancel_order(symbol.as_str(), &OrderRef::ClientId(venue_id))
        .await
    {
        Ok(response) => {
            let mut book = shared.lock_book();
            let order = {
                let tracked = book
                    .orders
                    .get_mut(id)
                    .ok_or_else(|| ExchangeError::UnknownOrder(id.clone()))?;
                tracked.apply_response(generation, &response);
                tracked.to_order()
            };
            book.mark_reported(id);
            Ok(order)
        }
        Err(BinanceError::Rejected(body))
            if body.code == CANCEL_REJECTED || body.code == NO_SUCH_ORDER =>
        {
            // Unknown to the engine: closed meanwhile, or never placed.
            match lookup(shared, id).await.map_err(|e| unavailable(&e))? {
                Some(order) if !order.status.is_open() => {
                    Err(ExchangeError::OrderClosed(id.clone()))
                }
                Some(_) => Err(rejected(id, &body)),
                None => Err(ExchangeError::UnknownOrder(id.clone())),
            }
        }
        Err(BinanceError::Rejected(body)) => Err(rejected(id, &body)),
        Err(error) if error.is_definite_failure() => Err(not_sent(id, &error)),
        Err(error) => Err(settle_in_background(shared, id, Change::Cancel, &error)),
    }
}
