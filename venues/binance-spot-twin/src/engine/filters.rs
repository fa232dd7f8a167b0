//! A new order's parameters and the symbol filters (`filters.md`), checked
//! before anything changes, with the documented messages (`errors.md`,
//! "Filter failures").

use std::collections::HashMap;

use rust_decimal::Decimal;
use tesser_core::{OrderType, Side, TimeInForce};

use super::wire::missing;
use super::{ApiError, Engine, param};
use crate::TwinSymbol;

/// A new order whose parameters and filters passed.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// Symbol.
    pub symbol: String,
    /// The symbol's rules.
    pub rules: TwinSymbol,
    /// Side.
    pub side: Side,
    /// Binance order type.
    pub order_type: String,
    /// The paper exchange's order type.
    pub paper_type: OrderType,
    /// The paper exchange's time in force.
    pub paper_tif: TimeInForce,
    /// Binance `timeInForce`, when sent.
    pub tif: Option<String>,
    /// Quantity (of a `MARKET` order sent with `quoteOrderQty`: the whole
    /// `LOT_SIZE` steps that amount buys or sells at the expected price).
    pub quantity: Decimal,
    /// `quoteOrderQty` of a `MARKET` order, when sent.
    pub quote_qty: Option<Decimal>,
    /// Price, when sent.
    pub price: Option<Decimal>,
    /// Stop price, when sent.
    pub stop_price: Option<Decimal>,
    /// Whether the type has a limit price.
    pub needs_price: bool,
    /// `newClientOrderId`, when sent.
    pub client_id: Option<String>,
}

fn decimal(params: &HashMap<String, String>, name: &str) -> Result<Option<Decimal>, ApiError> {
    match param(params, name) {
        None => Ok(None),
        Some(text) => text.parse::<Decimal>().map(Some).map_err(|_| {
            ApiError::bad(-1100, &format!("Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."))
        }),
    }
}

fn legal_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 36
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '/' | '_' | '-'))
}

fn filter_failure(filter: &str) -> ApiError {
    ApiError::bad(-1013, &format!("Filter failure: {filter}"))
}

/// Whether `value` is a whole number of `step`s (a zero step allows any).
fn on_step(value: Decimal, step: Decimal) -> bool {
    step.is_zero() || (value % step).is_zero()
}

impl Engine {
    /// Parses a new order's parameters and checks the symbol's filters.
    ///
    /// # Errors
    /// The documented error of the first parameter or filter that fails.
    pub fn validate(&self, params: &HashMap<String, String>) -> Result<NewOrder, ApiError> {
        let symbol = param(params, "symbol")
            .ok_or_else(|| missing("symbol"))?
            .to_owned();
        let rules = self.symbol(&symbol)?.clone();
        let side = match param(params, "side") {
            Some("BUY") => Side::Buy,
            Some("SELL") => Side::Sell,
            Some(_) => return Err(ApiError::bad(-1117, "Invalid side.")),
            None => return Err(missing("side")),
        };
        let order_type = param(params, "type")
            .ok_or_else(|| missing("type"))?
            .to_owned();
        let quote_qty = decimal(params, "quoteOrderQty")?;
        let quantity = match (decimal(params, "quantity")?, quote_qty) {
            (Some(quantity), None) => quantity,
            (None, Some(quote_qty)) if order_type == "MARKET" => {
                self.quantity_for(&symbol, &rules, side, quote_qty)?
            }
            (Some(_), Some(_)) if order_type == "MARKET" => {
                return Err(ApiError::bad(
                    -1128,
                    "Combination of optional parameters invalid.",
                ));
            }
            (_, Some(_)) => {
                return Err(ApiError::bad(
                    -1106,
                    "Parameter 'quoteOrderQty' sent when not required.",
                ));
            }
            (None, None) if order_type == "MARKET" => {
                return Err(ApiError::bad(
                    -1102,
                    "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
                ));
            }
            (None, None) => return Err(missing("quantity")),
        };
        let price = decimal(params, "price")?;
        let stop_price = decimal(params, "stopPrice")?;
        let tif = param(params, "timeInForce").map(str::to_owned);
        let (paper_type, paper_tif, needs_tif, needs_price) = match order_type.as_str() {
            "LIMIT" => (OrderType::Limit, None, true, true),
            "MARKET" => (OrderType::Market, None, false, false),
            "LIMIT_MAKER" => (OrderType::Limit, Some(TimeInForce::PostOnly), false, true),
            "STOP_LOSS" | "TAKE_PROFIT" => (OrderType::StopMarket, None, false, false),
            "STOP_LOSS_LIMIT" | "TAKE_PROFIT_LIMIT" => (OrderType::StopLimit, None, true, true),
            _ => return Err(ApiError::bad(-1116, "Invalid orderType.")),
        };
        if needs_tif && tif.is_none() {
            return Err(missing("timeInForce"));
        }
        if !needs_tif && tif.is_some() {
            return Err(ApiError::bad(
                -1106,
                "Parameter 'timeInForce' sent when not required.",
            ));
        }
        if needs_price && price.is_none() {
            return Err(missing("price"));
        }
        if matches!(paper_type, OrderType::StopMarket | OrderType::StopLimit)
            && stop_price.is_none()
        {
            return Err(missing("stopPrice"));
        }
        let paper_tif = match paper_tif {
            Some(tif) => tif,
            None => match tif.as_deref() {
                Some("IOC") => TimeInForce::ImmediateOrCancel,
                Some("FOK") => TimeInForce::FillOrKill,
                Some("GTC") | None => TimeInForce::GoodTilCancelled,
                Some(_) => return Err(ApiError::bad(-1115, "Invalid timeInForce.")),
            },
        };
        let client_id = match param(params, "newClientOrderId") {
            Some(id) if !legal_client_id(id) => {
                return Err(ApiError::bad(
                    -1100,
                    "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
                ));
            }
            id => id.map(str::to_owned),
        };
        let order = NewOrder {
            symbol,
            rules,
            side,
            order_type,
            paper_type,
            paper_tif,
            tif,
            quantity,
            quote_qty,
            price: if needs_price { price } else { None },
            stop_price,
            needs_price,
            client_id,
        };
        self.check_filters(&order)?;
        Ok(order)
    }

    /// The quantity of a `MARKET` order sent with `quoteOrderQty`
    /// (`rest-api.md`: a buy "will buy as many BTC as `quoteOrderQty` USDT
    /// can", a sell "will sell as much BTC needed to receive
    /// `quoteOrderQty` USDT", never breaking `LOT_SIZE`): whole steps at the
    /// touch it takes from, else at the reference price.
    ///
    /// # Errors
    /// `-2043 This symbol doesn't have a reference price.` when the symbol
    /// has neither a quote nor a print.
    fn quantity_for(
        &self,
        symbol: &str,
        rules: &crate::TwinSymbol,
        side: Side,
        quote_qty: Decimal,
    ) -> Result<Decimal, ApiError> {
        let touch = self.touch_price(symbol, side);
        let price = touch
            .or_else(|| self.reference_price(symbol))
            .filter(|price| *price > Decimal::ZERO)
            .ok_or_else(|| ApiError::bad(-2043, "This symbol doesn't have a reference price."))?;
        let mut quantity = quote_qty / price;
        for step in [rules.step_size, rules.market_lot.2] {
            if !step.is_zero() {
                quantity = (quantity / step).floor() * step;
            }
        }
        Ok(quantity.normalize())
    }

    /// The symbol filters, in the order `exchangeInfo` lists them.
    fn check_filters(&self, order: &NewOrder) -> Result<(), ApiError> {
        let rules = &order.rules;
        // PRICE_FILTER, on price and stopPrice; each part off at 0.
        for price in [order.price, order.stop_price].into_iter().flatten() {
            if price <= Decimal::ZERO
                || (!rules.min_price.is_zero() && price < rules.min_price)
                || (!rules.max_price.is_zero() && price > rules.max_price)
                || !on_step(price, rules.tick_size)
            {
                return Err(filter_failure("PRICE_FILTER"));
            }
        }
        let reference = self.reference_price(&order.symbol);
        // PERCENT_PRICE_BY_SIDE, around the reference price.
        if let (Some(price), Some(reference)) = (order.price, reference) {
            let (bid_up, bid_down, ask_up, ask_down) = rules.percent_price_by_side;
            let (up, down) = match order.side {
                Side::Buy => (bid_up, bid_down),
                Side::Sell => (ask_up, ask_down),
            };
            if price > reference * up || price < reference * down {
                return Err(filter_failure("PERCENT_PRICE_BY_SIDE"));
            }
        }
        let quantity = order.quantity;
        if quantity < rules.min_qty
            || quantity > rules.max_qty
            || !on_step(quantity, rules.step_size)
        {
            return Err(filter_failure("LOT_SIZE"));
        }
        let market = order.order_type == "MARKET";
        if market {
            let (min, max, step) = rules.market_lot;
            if quantity < min || quantity > max || !on_step(quantity, step) {
                return Err(filter_failure("MARKET_LOT_SIZE"));
            }
        }
        // NOTIONAL: applyMinToMarket true (at the reference price),
        // applyMaxToMarket false.
        match (order.price, market.then_some(reference).flatten()) {
            (Some(price), _) => {
                let notional = price * quantity;
                if notional < rules.min_notional
                    || (!rules.max_notional.is_zero() && notional > rules.max_notional)
                {
                    return Err(filter_failure("NOTIONAL"));
                }
            }
            (None, Some(reference)) if reference * quantity < rules.min_notional => {
                return Err(filter_failure("NOTIONAL"));
            }
            _ => {}
        }
        Ok(())
    }
}
