//! The REST endpoints (`rest-api.md`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;
use serde_json::{Value, json};

use crate::engine::{ApiError, Engine, Output, fmt8};

use super::{State, error_response, parse_pairs, respond};

/// Every REST endpoint.
pub(super) async fn rest_handler(
    AxumState(state): AxumState<Arc<State>>,
    method: Method,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = uri.path().to_owned();
    let query = query.unwrap_or_default();
    let mut pairs = parse_pairs(&query);
    pairs.extend(parse_pairs(&body));
    let index = state.record(
        "rest",
        method.as_str(),
        &path,
        pairs.clone(),
        Some(&headers),
    );
    let mut response = rest_inner(&state, &method, &path, &query, &headers, &body, &pairs).await;
    // A new order, amend, cancel or cancel-replace done, then its answer
    // lost.
    let changes_an_order = matches!(
        (method.as_str(), path.as_str()),
        ("POST" | "DELETE", "/api/v3/order")
            | ("PUT", "/api/v3/order/amend/keepPriority")
            | ("POST", "/api/v3/order/cancelReplace")
    );
    if changes_an_order && response.status() == StatusCode::OK && state.take_accept_then_503() {
        response = respond(
            503,
            &json!({"code": -1001, "msg": "Internal error; unable to process your request. Please try again."}),
            Vec::new(),
        );
    }
    state.set_status(index, response.status().as_u16());
    response
}

#[allow(clippy::too_many_lines)] // One dispatch over the documented endpoints reads best in one place.
async fn rest_inner(
    state: &Arc<State>,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &str,
    pairs: &[(String, String)],
) -> Response {
    {
        let mut faults = state.lock_faults();
        if faults.rate_limit_next > 0 {
            faults.rate_limit_next -= 1;
            let retry = faults.retry_after_secs.max(1);
            return respond(
                429,
                &json!({"code": -1003, "msg": "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."}),
                vec![("Retry-After".to_owned(), retry.to_string())],
            );
        }
    }
    // Query parameters win over body parameters.
    let mut params: HashMap<String, String> = HashMap::new();
    for (k, v) in parse_pairs(body) {
        params.insert(k, v);
    }
    for (k, v) in parse_pairs(query) {
        params.insert(k, v);
    }
    let _ = pairs;
    let signed = !matches!(
        (method.as_str(), path),
        (
            "GET",
            "/api/v3/time" | "/api/v3/exchangeInfo" | "/api/v3/ping"
        )
    );
    let is_order = matches!(
        (method.as_str(), path),
        ("POST", "/api/v3/order" | "/api/v3/order/cancelReplace")
    );
    let weight = match path {
        "/api/v3/exchangeInfo" | "/api/v3/account" => 20,
        "/api/v3/order" if method == Method::GET => 4,
        "/api/v3/openOrders" => 6,
        "/api/v3/myTrades" => 5,
        _ => 1,
    };
    let headers_out = match state.weight_headers(weight, is_order) {
        Ok(headers) => headers,
        Err(refusal) => return error_response(&refusal.error, refusal.headers),
    };
    if signed {
        // The signature covers the query string without `signature`, then
        // the body.
        let unsigned_query = query
            .split('&')
            .filter(|part| !part.starts_with("signature="))
            .collect::<Vec<_>>()
            .join("&");
        let payload = format!("{unsigned_query}{body}");
        let api_key = headers.get("x-mbx-apikey").and_then(|v| v.to_str().ok());
        if let Err(error) = state.verify(
            api_key,
            &payload,
            params.get("signature").map(String::as_str),
        ) {
            return error_response(&error, headers_out);
        }
        if let Err(error) = state.check_time(&params) {
            return error_response(&error, headers_out);
        }
    }
    let now = state.now_ms();
    match (method.as_str(), path) {
        ("GET", "/api/v3/ping") => respond(200, &json!({}), headers_out),
        ("GET", "/api/v3/time") => respond(200, &json!({"serverTime": now}), headers_out),
        ("GET", "/api/v3/exchangeInfo") => {
            let symbols: Vec<Value> = state
                .config
                .symbols
                .iter()
                .filter(|s| params.get("symbol").is_none_or(|wanted| *wanted == s.symbol))
                .map(|s| {
                    json!({
                        "symbol": s.symbol, "status": "TRADING", "baseAsset": s.base_asset,
                        "baseAssetPrecision": 8, "quoteAsset": s.quote_asset, "quotePrecision": 8,
                        "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
                        "icebergAllowed": true, "ocoAllowed": true, "otoAllowed": true, "opoAllowed": false,
                        "quoteOrderQtyMarketAllowed": true, "allowTrailingStop": false,
                        "cancelReplaceAllowed": s.cancel_replace_allowed, "amendAllowed": s.amend_allowed, "pegInstructionsAllowed": false,
                        "isSpotTradingAllowed": true, "isMarginTradingAllowed": false,
                        "filters": [
                            {"filterType": "PRICE_FILTER", "minPrice": fmt8(s.min_price), "maxPrice": fmt8(s.max_price), "tickSize": fmt8(s.tick_size)},
                            {"filterType": "LOT_SIZE", "minQty": fmt8(s.min_qty), "maxQty": fmt8(s.max_qty), "stepSize": fmt8(s.step_size)},
                            {"filterType": "MARKET_LOT_SIZE", "minQty": fmt8(s.market_lot.0), "maxQty": fmt8(s.market_lot.1), "stepSize": fmt8(s.market_lot.2)},
                            {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": s.percent_price_by_side.0.to_string(), "bidMultiplierDown": s.percent_price_by_side.1.to_string(), "askMultiplierUp": s.percent_price_by_side.2.to_string(), "askMultiplierDown": s.percent_price_by_side.3.to_string(), "avgPriceMins": 5},
                            {"filterType": "NOTIONAL", "minNotional": fmt8(s.min_notional), "applyMinToMarket": true, "maxNotional": fmt8(s.max_notional), "applyMaxToMarket": false, "avgPriceMins": 5},
                            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": s.max_num_orders},
                            {"filterType": "MAX_NUM_ORDER_AMENDS", "maxNumOrderAmends": s.max_num_order_amends}
                        ],
                        "permissions": [], "permissionSets": [["SPOT"]],
                        "defaultSelfTradePreventionMode": "NONE", "allowedSelfTradePreventionModes": ["NONE"]
                    })
                })
                .collect();
            if symbols.is_empty() {
                return error_response(&ApiError::bad(-1121, "Invalid symbol."), headers_out);
            }
            respond(
                200,
                &json!({
                    "timezone": "UTC", "serverTime": now,
                    "rateLimits": [
                        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
                        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": state.config.orders_per_10s},
                        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": state.config.orders_per_day},
                        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000}
                    ],
                    "exchangeFilters": [], "symbols": symbols
                }),
                headers_out,
            )
        }
        ("GET", "/api/v3/account") => {
            // `omitZeroBalances`: "When set to `true`, emits only the
            // non-zero balances of an account" (rest-api.md).
            let omit_zero = match params.get("omitZeroBalances").map(String::as_str) {
                None | Some("false") => false,
                Some("true") => true,
                Some(_) => {
                    return error_response(
                        &ApiError::bad(
                            -1102,
                            "Mandatory parameter 'omitZeroBalances' was not sent, was empty/null, or malformed.",
                        ),
                        headers_out,
                    );
                }
            };
            let (balances, update_time) = {
                let engine = state.lock_engine();
                (
                    engine.account().balances_json(omit_zero),
                    engine.account().update_time(),
                )
            };
            let (maker, taker) = (state.config.maker_fee_bps, state.config.taker_fee_bps);
            let rate = |bps: Decimal| fmt8(bps / Decimal::from(10_000));
            respond(
                200,
                &json!({
                    "makerCommission": maker.trunc().to_i64().unwrap_or(0),
                    "takerCommission": taker.trunc().to_i64().unwrap_or(0),
                    "buyerCommission": 0, "sellerCommission": 0,
                    "commissionRates": {"maker": rate(maker), "taker": rate(taker), "buyer": "0.00000000", "seller": "0.00000000"},
                    "canTrade": true, "canWithdraw": false, "canDeposit": false, "brokered": false,
                    "requireSelfTradePrevention": false, "preventSor": false, "updateTime": update_time, "accountType": "SPOT",
                    "balances": balances,
                    "permissions": ["SPOT"], "uid": 1
                }),
                headers_out,
            )
        }
        ("POST", "/api/v3/order") => new_order_endpoint(state, &params, headers_out).await,
        ("DELETE", "/api/v3/order") => {
            let mut output = Output::default();
            let result = {
                let mut engine = state.lock_engine();
                let result = cancel_as_asked(
                    &mut engine,
                    &params,
                    ["origClientOrderId", "orderId", "newClientOrderId"],
                    now,
                    &mut output,
                );
                engine.finish(now, &mut output);
                result
            };
            state.publish(output);
            match result {
                Ok(body) => respond(200, &body, headers_out),
                Err(error) => error_response(&error, headers_out),
            }
        }
        ("GET", "/api/v3/order") => {
            let engine = state.lock_engine();
            let missing = ApiError::bad(-2013, "Order does not exist.");
            match engine.find(&params, "origClientOrderId", "orderId", &missing) {
                Ok(position) => respond(200, &engine.orders[position].query_json(), headers_out),
                Err(error) => error_response(&error, headers_out),
            }
        }
        ("GET", "/api/v3/openOrders") => {
            let engine = state.lock_engine();
            let symbol = params.get("symbol");
            let list: Vec<Value> = engine
                .orders
                .iter()
                .filter(|o| matches!(o.status.as_str(), "NEW" | "PARTIALLY_FILLED"))
                .filter(|o| symbol.is_none_or(|s| *s == o.symbol))
                .map(crate::TwinOrder::query_json)
                .collect();
            respond(200, &Value::Array(list), headers_out)
        }
        ("GET", "/api/v3/myTrades") => {
            let engine = state.lock_engine();
            let Some(symbol) = params.get("symbol") else {
                return error_response(
                    &ApiError::bad(
                        -1102,
                        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
                    ),
                    headers_out,
                );
            };
            let order_id: Option<i64> = params.get("orderId").and_then(|v| v.parse().ok());
            let from_id: Option<i64> = params.get("fromId").and_then(|v| v.parse().ok());
            let limit: usize = params
                .get("limit")
                .and_then(|v| v.parse().ok())
                .unwrap_or(500)
                .min(1000);
            let matching: Vec<&crate::engine::TwinTrade> = engine
                .trades
                .iter()
                .filter(|t| &t.symbol == symbol)
                .filter(|t| order_id.is_none_or(|id| t.order_id == id))
                .filter(|t| from_id.is_none_or(|id| t.id >= id))
                .collect();
            // "If fromId is set, it will get trades >= that fromId.
            // Otherwise most recent trades are returned" (rest-api.md): the
            // last `limit` of them, oldest first.
            let skip = if from_id.is_some() {
                0
            } else {
                matching.len().saturating_sub(limit)
            };
            let list: Vec<Value> = matching
                .into_iter()
                .skip(skip)
                .take(limit)
                .map(|t| json!({
                    "symbol": t.symbol, "id": t.id, "orderId": t.order_id, "orderListId": -1,
                    "price": fmt8(t.price), "qty": fmt8(t.qty), "quoteQty": fmt8(t.price * t.qty),
                    "commission": fmt8(t.commission), "commissionAsset": t.commission_asset,
                    "time": t.time, "isBuyer": t.is_buyer, "isMaker": t.is_maker, "isBestMatch": true
                }))
                .collect();
            respond(200, &Value::Array(list), headers_out)
        }
        ("PUT", "/api/v3/order/amend/keepPriority") => {
            let mut output = Output::default();
            let result = {
                let mut engine = state.lock_engine();
                let unknown = ApiError::bad(-2011, "Unknown order sent.");
                let qty = params.get("newQty").and_then(|q| q.parse::<Decimal>().ok());
                let result = match qty {
                    None => Err(ApiError::bad(-1102, "Mandatory parameter 'newQty' was not sent, was empty/null, or malformed.")),
                    Some(qty) => engine.find(&params, "origClientOrderId", "orderId", &unknown).and_then(|position| {
                        let orig = engine.orders[position].client_order_id.clone();
                        engine.amend_keep_priority(position, params.get("newClientOrderId").map(String::as_str), qty, now, &mut output)?;
                        let o = &engine.orders[position];
                        Ok(json!({
                            "transactTime": now, "executionId": now,
                            "amendedOrder": {
                                "symbol": o.symbol, "orderId": o.order_id, "orderListId": -1,
                                "origClientOrderId": orig, "clientOrderId": o.client_order_id,
                                "price": fmt8(o.price), "qty": fmt8(o.orig_qty), "executedQty": fmt8(o.executed_qty),
                                "preventedQty": fmt8(Decimal::ZERO), "quoteOrderQty": fmt8(Decimal::ZERO),
                                "cumulativeQuoteQty": fmt8(o.cum_quote), "status": o.status,
                                "timeInForce": o.time_in_force, "type": o.order_type,
                                "side": if o.side == tesser_core::Side::Buy { "BUY" } else { "SELL" },
                                "workingTime": o.time, "selfTradePreventionMode": "NONE"
                            }
                        }))
                    }),
                };
                engine.finish(now, &mut output);
                result
            };
            state.publish(output);
            match result {
                Ok(body) => respond(200, &body, headers_out),
                Err(error) => error_response(&error, headers_out),
            }
        }
        ("POST", "/api/v3/order/cancelReplace") => {
            let trade = state.lock_faults().trade_before_next_replace.take();
            if let (Some((price, size)), Some(symbol)) = (trade, params.get("symbol")) {
                let tick = tesser_core::Tick {
                    symbol: symbol.as_str().into(),
                    price,
                    size,
                    aggressor: None,
                    timestamp_ms: now,
                };
                let buyer_is_maker = params.get("side").is_some_and(|side| side == "BUY");
                state.print(&tick, buyer_is_maker);
            }
            let mut output = Output::default();
            let symbol = params.get("symbol").map_or("", String::as_str);
            if state
                .lock_engine()
                .symbol(symbol)
                .is_ok_and(|s| !s.cancel_replace_allowed)
            {
                return error_response(
                    &ApiError::bad(
                        -2010,
                        "Order cancel-replace is not supported for this symbol.",
                    ),
                    headers_out,
                );
            }
            let result = {
                let mut engine = state.lock_engine();
                let result = cancel_replace(&mut engine, &params, now, &mut output);
                engine.finish(now, &mut output);
                result
            };
            state.publish(output);
            let hold = state.lock_faults().delay_next_replace_answer.take();
            if let Some(hold) = hold {
                tokio::time::sleep(hold).await;
            }
            match result {
                Ok(body) => respond(200, &body, headers_out),
                Err(error) => error_response(&error, headers_out),
            }
        }
        _ => respond(
            404,
            &json!({"code": -1000, "msg": "An unknown error occurred while processing the request."}),
            headers_out,
        ),
    }
}

async fn new_order_endpoint(
    state: &Arc<State>,
    params: &HashMap<String, String>,
    headers_out: Vec<(String, String)>,
) -> Response {
    let (reject, delay, engine_delay) = {
        let mut faults = state.lock_faults();
        (
            faults.reject_next_order.take(),
            faults.delay_next_order.take(),
            faults.engine_takes_next_order_after.take(),
        )
    };
    if let Some(engine_delay) = engine_delay {
        let task_state = Arc::clone(state);
        let task_params = params.clone();
        tokio::spawn(async move {
            tokio::time::sleep(engine_delay).await;
            let _ = place(&task_state, &task_params);
        });
        return respond(
            503,
            &json!({"code": -1007, "msg": "Timeout waiting for response from backend server. Send status unknown; execution status unknown."}),
            headers_out,
        );
    }
    if let Some((code, msg)) = reject {
        return error_response(&ApiError::bad(code, &msg), headers_out);
    }
    if let Some(delay) = delay {
        // The engine finishes the order even when the client gives up and
        // closes the connection (which cancels this handler), as a real
        // matching engine would.
        let task_state = Arc::clone(state);
        let task_params = params.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            delayed_order(&task_state, &task_params)
        });
        return match task.await {
            Ok((status, body)) => respond(status, &body, headers_out),
            Err(_) => respond(
                500,
                &json!({"code": -1000, "msg": "An unknown error occurred while processing the request."}),
                headers_out,
            ),
        };
    }
    let result = place(state, params);
    match result {
        Ok(body) => respond(200, &body, headers_out),
        Err(error) => error_response(&error, headers_out),
    }
}

/// Places an order in the engine, publishes what it caused (reports,
/// trades), and returns the `newOrderRespType` answer.
fn place(state: &State, params: &HashMap<String, String>) -> Result<Value, ApiError> {
    let now = state.now_ms();
    let mut output = Output::default();
    let result = {
        let mut engine = state.lock_engine();
        let result = engine
            .new_order(params, now, &mut output)
            .map(|position| engine.order_response(position, params, now));
        engine.finish(now, &mut output);
        result
    };
    state.publish(output);
    result
}

/// Processes an order after an injected delay; returns the answer.
fn delayed_order(state: &State, params: &HashMap<String, String>) -> (u16, Value) {
    // The second half of the timing rule: still inside recvWindow?
    let timestamp: i64 = params
        .get("timestamp")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let window: i64 = params
        .get("recvWindow")
        .and_then(|t| t.parse().ok())
        .unwrap_or(5000);
    if state.now_ms() - timestamp > window {
        let error = ApiError::bad(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        );
        return (error.status, error.body());
    }
    let result = place(state, params);
    match result {
        Ok(body) => (200, body),
        Err(error) => (error.status, error.body()),
    }
}

/// `POST /api/v3/order/cancelReplace` (`rest-api.md`, "Cancel an Existing
/// Order and Send a New Order"): `cancelReplaceMode` is mandatory; the new
/// order's parameters and filters are checked before anything is canceled;
/// `STOP_ON_FAILURE` does not attempt the new order when the cancel fails,
/// `ALLOW_FAILURE` does. One half failing is `-2021` (409), both `-2022`
/// (400), each with the documented `data`.
fn cancel_replace(
    engine: &mut Engine,
    params: &HashMap<String, String>,
    now: i64,
    output: &mut Output,
) -> Result<Value, ApiError> {
    let malformed = || {
        ApiError::bad(
            -1102,
            "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed.",
        )
    };
    let allow_failure = match params.get("cancelReplaceMode").map(String::as_str) {
        Some("STOP_ON_FAILURE") => false,
        Some("ALLOW_FAILURE") => true,
        _ => return Err(malformed()),
    };
    let new_order = engine.validate(params)?;
    let cancel = cancel_as_asked(
        engine,
        params,
        [
            "cancelOrigClientOrderId",
            "cancelOrderId",
            "cancelNewClientOrderId",
        ],
        now,
        output,
    );
    if cancel.is_err() && !allow_failure {
        let cancel_body = cancel.err().map(|error| error.body());
        return Err(replace_error(
            -2022,
            json!({"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED", "cancelResponse": cancel_body, "newOrderResponse": null}),
        ));
    }
    let placed = engine
        .place(new_order, now, output)
        .map(|position| engine.order_response(position, params, now));
    let result = |ok: bool| if ok { "SUCCESS" } else { "FAILURE" };
    let (cancel_ok, placed_ok) = (cancel.is_ok(), placed.is_ok());
    let half = |half: Result<Value, ApiError>| half.unwrap_or_else(|error| error.body());
    let data = json!({
        "cancelResult": result(cancel_ok), "newOrderResult": result(placed_ok),
        "cancelResponse": half(cancel), "newOrderResponse": half(placed)
    });
    match (cancel_ok, placed_ok) {
        (true, true) => Ok(data),
        (false, false) => Err(replace_error(-2022, data)),
        _ => Err(replace_error(-2021, data)),
    }
}

/// A failed cancel-replace: `-2021` (one half failed, 409) or `-2022` (400).
fn replace_error(code: i64, data: Value) -> ApiError {
    let (status, msg) = if code == -2021 {
        (409, "Order cancel-replace partially failed.")
    } else {
        (400, "Order cancel-replace failed.")
    };
    ApiError {
        status,
        code,
        msg: msg.into(),
        data: Some(data),
    }
}

/// Cancels the order that `names` (its client id, its order id and the
/// cancel's own new client id, as the endpoint calls them) point at, under
/// the request's `cancelRestrictions`; answers the cancel's JSON.
fn cancel_as_asked(
    engine: &mut Engine,
    params: &HashMap<String, String>,
    [client_id, order_id, new_client_id]: [&str; 3],
    now: i64,
    output: &mut Output,
) -> Result<Value, ApiError> {
    let unknown = ApiError::bad(-2011, "Unknown order sent.");
    let position = engine.find(params, client_id, order_id, &unknown)?;
    engine.check_cancel_restrictions(
        position,
        params.get("cancelRestrictions").map(String::as_str),
    )?;
    let id = engine.cancel(
        position,
        params.get(new_client_id).map(String::as_str),
        now,
        output,
    )?;
    Ok(engine.orders[position].cancel_json(&id, now))
}
