"""Drives the Binance twin with Binance's official Python connector.

Usage: python3 binance_connector_check.py BASE_URL API_KEY SECRET

binance-connector 3.13.0 (scripts/venue-clients installs it) builds, signs
and parses every request here; this script only checks the answers against
binance-spot-api-docs (rest-api.md's response examples, filters.md,
errors.md, enums.md). It expects a fresh twin listing BTCUSDT (tick 0.01,
step 0.001, fees 10 bps) whose book is bid 100 x 5 / ask 101 x 5, with
MARKET_LOT_SIZE maxQty 100 and MAX_NUM_ORDERS 5 (tests/official_client.rs
starts it so). It exits 1 with one line naming the first difference.
"""

import sys
import traceback
import time
from decimal import Decimal

from binance.error import ClientError
from binance.spot import Spot

SYMBOL = "BTCUSDT"
FEE = Decimal("0.001")  # 10 bps


def commission(price, qty, buyer):
    """The commission of an execution and its asset, as the commission FAQ
    gives them: 10 bps of what the trade receives, the base asset on a buy
    (quantity x rate), the quote asset on a sell (notional x rate)."""
    if buyer:
        return qty * FEE, "BTC"
    return price * qty * FEE, "USDT"

# rest-api.md, "New order" / "Cancel an Existing Order..." response examples.
ACK_KEYS = {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
RESULT_KEYS = ACK_KEYS | {
    "price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty",
    "status", "timeInForce", "type", "side", "workingTime", "selfTradePreventionMode",
}
FULL_KEYS = RESULT_KEYS | {"fills"}
FILL_KEYS = {"price", "qty", "commission", "commissionAsset", "tradeId"}
QUERY_KEYS = {
    "symbol", "orderId", "orderListId", "clientOrderId", "price", "origQty", "executedQty",
    "cummulativeQuoteQty", "status", "timeInForce", "type", "side", "stopPrice", "icebergQty",
    "time", "updateTime", "isWorking", "workingTime", "origQuoteOrderQty",
    "selfTradePreventionMode",
}
CANCEL_KEYS = {
    "symbol", "origClientOrderId", "orderId", "orderListId", "clientOrderId", "transactTime",
    "price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty", "status",
    "timeInForce", "type", "side", "selfTradePreventionMode",
}
TRADE_KEYS = {
    "symbol", "id", "orderId", "orderListId", "price", "qty", "quoteQty", "commission",
    "commissionAsset", "time", "isBuyer", "isMaker", "isBestMatch",
}
ACCOUNT_KEYS = {
    "makerCommission", "takerCommission", "buyerCommission", "sellerCommission",
    "commissionRates", "canTrade", "canWithdraw", "canDeposit", "brokered",
    "requireSelfTradePrevention", "preventSor", "updateTime", "accountType", "balances",
    "permissions", "uid",
}
# "Conditional fields in Order Responses".
CONDITIONAL = {"expiryReason", "stopPrice", "icebergQty"}
ORDER_STATUS = {"NEW", "PENDING_NEW", "PARTIALLY_FILLED", "FILLED", "CANCELED", "PENDING_CANCEL",
                "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH"}
EXPIRY_REASONS = {"NONE", "REJECTED", "EXCHANGE_CANCELED", "OCO_TRIGGER", "OTO_PHASE_ONE_EXPIRED",
                  "UNFILLED_IOC_QUANTITY_EXPIRED", "UNFILLED_FOK_ORDER_EXPIRED",
                  "INSUFFICIENT_LIQUIDITY", "EXECUTION_RULE_PRICE_RANGE_EXCEEDED"}


class Difference(Exception):
    """An answer that differs from the docs."""


def check(condition, what):
    if not condition:
        raise Difference(what)


def keys(value, documented, what, conditional=frozenset()):
    check(isinstance(value, dict), f"{what}: not a JSON object: {value!r}")
    missing = documented - value.keys()
    extra = value.keys() - documented - conditional
    check(not missing, f"{what}: documented fields missing: {sorted(missing)}")
    check(not extra, f"{what}: undocumented fields: {sorted(extra)}")


def dec(value, field, what):
    check(isinstance(value, str), f"{what}: {field} is {value!r}, not a decimal string")
    try:
        return Decimal(value)
    except Exception:  # noqa: BLE001 - any parse failure is a difference
        raise Difference(f"{what}: {field} {value!r} is not a decimal")


def ints(value, fields, what):
    for field in fields:
        v = value[field]
        check(isinstance(v, int) and not isinstance(v, bool), f"{what}: {field} is {v!r}, not an integer")


def order_answer(answer, what, documented, status, executed, fills=None, reason=None):
    keys(answer, documented, what, CONDITIONAL)
    ints(answer, ["orderId", "orderListId", "transactTime"], what)
    check(answer["symbol"] == SYMBOL, f"{what}: symbol {answer['symbol']!r}")
    check(answer["orderListId"] == -1, f"{what}: orderListId {answer['orderListId']} (not -1)")
    if documented is ACK_KEYS:
        return answer
    check(answer["status"] in ORDER_STATUS, f"{what}: status {answer['status']!r} is no enums.md status")
    check(answer["status"] == status, f"{what}: status {answer['status']}, the venue answers {status}")
    got = dec(answer["executedQty"], "executedQty", what)
    check(got == Decimal(executed), f"{what}: executedQty {got}, expected {executed}")
    if reason is None:
        check("expiryReason" not in answer, f"{what}: expiryReason on a {status} order")
    else:
        check(answer.get("expiryReason") == reason,
              f"{what}: expiryReason {answer.get('expiryReason')!r}, expected {reason}")
    cum = dec(answer["cummulativeQuoteQty"], "cummulativeQuoteQty", what)
    if fills is not None:
        check(isinstance(answer["fills"], list), f"{what}: fills is not a list")
        check(len(answer["fills"]) == len(fills),
              f"{what}: {len(answer['fills'])} fills, expected {len(fills)}")
        total = Decimal(0)
        for fill, (price, qty) in zip(answer["fills"], fills):
            keys(fill, FILL_KEYS, f"{what} fill")
            ints(fill, ["tradeId"], f"{what} fill")
            p = dec(fill["price"], "price", f"{what} fill")
            q = dec(fill["qty"], "qty", f"{what} fill")
            c = dec(fill["commission"], "commission", f"{what} fill")
            check((p, q) == (Decimal(price), Decimal(qty)),
                  f"{what}: fill {q} at {p}, the book gives {qty} at {price} (taker, at the touch)")
            # The commission FAQ: out of what the trade receives, the base
            # asset on a BUY, the quote asset on a SELL.
            want, asset = commission(p, q, answer["side"] == "BUY")
            check(c == want, f"{what}: commission {c}, expected {want} (10 bps taker)")
            check(fill["commissionAsset"] == asset,
                  f"{what}: commissionAsset {fill['commissionAsset']!r}, expected {asset}")
            total += p * q
        check(cum == total, f"{what}: cummulativeQuoteQty {cum}, fills sum to {total}")
    return answer


def balances(client, what):
    """GET /api/v3/account's balances as {asset: (free, locked)}."""
    account = client.account()
    keys(account, ACCOUNT_KEYS, what)
    out = {}
    for balance in account["balances"]:
        keys(balance, {"asset", "free", "locked"}, f"{what} balance")
        out[balance["asset"]] = (dec(balance["free"], "free", what),
                                 dec(balance["locked"], "locked", what))
    return out


def client_error(call, code, what):
    try:
        answer = call()
    except ClientError as error:
        check(error.error_code == code,
              f"{what}: error {error.error_code} {error.error_message!r}, the docs give {code}")
        return error
    raise Difference(f"{what}: answered {answer!r}, the docs give error {code}")


def run(base_url, api_key, secret):
    client = Spot(api_key=api_key, api_secret=secret, base_url=base_url, timeout=10)

    # GET /api/v3/time
    server_time = client.time()
    keys(server_time, {"serverTime"}, "time")
    ints(server_time, ["serverTime"], "time")
    check(abs(server_time["serverTime"] - time.time() * 1000) < 60_000, "time: serverTime is not now")

    # GET /api/v3/exchangeInfo
    info = client.exchange_info(symbol=SYMBOL)
    for field in ("timezone", "serverTime", "rateLimits", "exchangeFilters", "symbols"):
        check(field in info, f"exchangeInfo: no {field}")
    symbol = info["symbols"][0]
    check(symbol["symbol"] == SYMBOL, f"exchangeInfo: symbol {symbol['symbol']!r}")
    filters = {f["filterType"]: f for f in symbol["filters"]}
    for name, fields in {
        "PRICE_FILTER": {"filterType", "minPrice", "maxPrice", "tickSize"},
        "LOT_SIZE": {"filterType", "minQty", "maxQty", "stepSize"},
        "MARKET_LOT_SIZE": {"filterType", "minQty", "maxQty", "stepSize"},
        "PERCENT_PRICE_BY_SIDE": {"filterType", "bidMultiplierUp", "bidMultiplierDown",
                                  "askMultiplierUp", "askMultiplierDown", "avgPriceMins"},
        "NOTIONAL": {"filterType", "minNotional", "applyMinToMarket", "maxNotional",
                     "applyMaxToMarket", "avgPriceMins"},
        "MAX_NUM_ORDERS": {"filterType", "maxNumOrders"},
    }.items():
        check(name in filters, f"exchangeInfo: no {name} filter")
        keys(filters[name], fields, f"exchangeInfo {name}")
    max_qty = dec(filters["LOT_SIZE"]["maxQty"], "maxQty", "LOT_SIZE")
    market_max = dec(filters["MARKET_LOT_SIZE"]["maxQty"], "maxQty", "MARKET_LOT_SIZE")
    max_price = dec(filters["PRICE_FILTER"]["maxPrice"], "maxPrice", "PRICE_FILTER")
    bid_up = Decimal(filters["PERCENT_PRICE_BY_SIDE"]["bidMultiplierUp"])
    max_orders = filters["MAX_NUM_ORDERS"]["maxNumOrders"]
    check(isinstance(max_orders, int), "MAX_NUM_ORDERS: maxNumOrders is not an integer")

    # GET /api/v3/account
    start = balances(client, "account")
    for asset in ("BTC", "USDT"):
        check(asset in start and start[asset][1] == 0, f"account: {asset} {start.get(asset)}")

    # A resting LIMIT (below the bid): NEW, no fills.
    resting = order_answer(
        client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                         quantity="1", price="90", newOrderRespType="FULL"),
        "resting LIMIT", FULL_KEYS, "NEW", "0", fills=[])
    # A LIMIT crossing the ask: filled at once as taker at the ask (101), not at its price.
    crossing = order_answer(
        client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                         quantity="0.5", price="102"),
        "crossing LIMIT", FULL_KEYS, "FILLED", "0.5", fills=[("101", "0.5")])
    # MARKET sell: at the bid.
    market = order_answer(
        client.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.3"),
        "MARKET", FULL_KEYS, "FILLED", "0.3", fills=[("100", "0.3")])
    # IOC larger than the ask's 4.5 left: fills 4.5, the rest expires.
    ioc = order_answer(
        client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="IOC",
                         quantity="5", price="101"),
        "IOC", FULL_KEYS, "EXPIRED", "4.5", fills=[("101", "4.5")],
        reason="UNFILLED_IOC_QUANTITY_EXPIRED")
    # FOK larger than the bid's 4.7 left: nothing fills.
    order_answer(
        client.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="FOK",
                         quantity="5", price="100"),
        "FOK", FULL_KEYS, "EXPIRED", "0", fills=[], reason="UNFILLED_FOK_ORDER_EXPIRED")
    # MARKET buy on an empty ask: expires.
    order_answer(
        client.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.1"),
        "MARKET on an empty ask", FULL_KEYS, "EXPIRED", "0", fills=[],
        reason="INSUFFICIENT_LIQUIDITY")
    # RESULT and ACK shapes.
    order_answer(
        client.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.1",
                         newOrderRespType="RESULT"),
        "MARKET (RESULT)", RESULT_KEYS, "FILLED", "0.1")
    order_answer(
        client.new_order(symbol=SYMBOL, side="SELL", type="LIMIT_MAKER", quantity="0.1",
                         price="120"),
        "LIMIT_MAKER (default ACK)", ACK_KEYS, "NEW", "0")

    # Documented refusals.
    client_error(lambda: client.new_order(symbol=SYMBOL, side="SELL", type="LIMIT_MAKER",
                                          quantity="0.1", price="99"), -2010,
                 "LIMIT_MAKER crossing the bid")
    for what, call, message in [
        ("quantity above LOT_SIZE maxQty",
         lambda: client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                                  quantity=str(max_qty + 1), price="90"),
         "Filter failure: LOT_SIZE"),
        ("MARKET quantity above MARKET_LOT_SIZE maxQty",
         lambda: client.new_order(symbol=SYMBOL, side="BUY", type="MARKET",
                                  quantity=str(market_max + 1)),
         "Filter failure: MARKET_LOT_SIZE"),
        ("price above PRICE_FILTER maxPrice",
         lambda: client.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                                  quantity="0.1", price=str(max_price + 1)),
         "Filter failure: PRICE_FILTER"),
        ("BUY above bidMultiplierUp times the reference price",
         lambda: client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                                  quantity="0.1", price=str(Decimal("101") * bid_up + 10)),
         "Filter failure: PERCENT_PRICE_BY_SIDE"),
    ]:
        error = client_error(call, -1013, what)
        check(error.error_message == message,
              f"{what}: message {error.error_message!r}, errors.md gives {message!r}")

    # GET /api/v3/order
    query = client.get_order(SYMBOL, orderId=resting["orderId"])
    keys(query, QUERY_KEYS, "query order", CONDITIONAL)
    ints(query, ["orderId", "orderListId", "time", "updateTime", "workingTime"], "query order")
    check(query["status"] == "NEW" and query["clientOrderId"] == resting["clientOrderId"],
          f"query order: {query['status']} {query['clientOrderId']!r}")
    check(isinstance(query["isWorking"], bool), "query order: isWorking is not a bool")
    dec(query["price"], "price", "query order")
    query = client.get_order(SYMBOL, orderId=ioc["orderId"])
    check(query["status"] == "EXPIRED", f"query IOC: status {query['status']}")
    client_error(lambda: client.get_order(SYMBOL, orderId=999999), -2013, "query unknown order")

    # GET /api/v3/openOrders: the resting LIMIT and the LIMIT_MAKER.
    open_orders = client.get_open_orders(SYMBOL)
    check(isinstance(open_orders, list), "openOrders: not a list")
    for order in open_orders:
        keys(order, QUERY_KEYS, "open order", CONDITIONAL)
        check(order["status"] in {"NEW", "PARTIALLY_FILLED"}, f"open order: status {order['status']}")
    ids = {o["orderId"] for o in open_orders}
    check(resting["orderId"] in ids, "openOrders: the resting LIMIT is missing")
    for done in (crossing, market, ioc):
        check(done["orderId"] not in ids, f"openOrders: closed order {done['orderId']} listed")

    # MAX_NUM_ORDERS: fill up the open orders, then one more is refused.
    fillers = [
        client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                         quantity="0.1", price=str(80 + n))
        for n in range(max_orders - len(open_orders))
    ]
    error = client_error(lambda: client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT",
                                                  timeInForce="GTC", quantity="0.1", price="70"),
                         -1013, "one order above MAX_NUM_ORDERS")
    check(error.error_message == "Filter failure: MAX_NUM_ORDERS",
          f"MAX_NUM_ORDERS: message {error.error_message!r}")
    for filler in fillers:
        client.cancel_order(SYMBOL, orderId=filler["orderId"])

    # DELETE /api/v3/order
    canceled = client.cancel_order(SYMBOL, orderId=resting["orderId"])
    keys(canceled, CANCEL_KEYS, "cancel order", CONDITIONAL)
    check(canceled["status"] == "CANCELED", f"cancel order: status {canceled['status']}")
    check(canceled["origClientOrderId"] == resting["clientOrderId"], "cancel order: origClientOrderId")
    client_error(lambda: client.cancel_order(SYMBOL, orderId=resting["orderId"]), -2011,
                 "cancel a canceled order")

    # GET /api/v3/myTrades: every execution so far, taker, 10 bps.
    trades = client.my_trades(SYMBOL)
    check(isinstance(trades, list), "myTrades: not a list")
    expected = [("101", "0.5", True), ("100", "0.3", False), ("101", "4.5", True), ("100", "0.1", False)]
    check(len(trades) == len(expected), f"myTrades: {len(trades)} trades, expected {len(expected)}")
    for trade, (price, qty, buyer) in zip(trades, expected):
        keys(trade, TRADE_KEYS, "myTrades")
        ints(trade, ["id", "orderId", "orderListId", "time"], "myTrades")
        p, q = dec(trade["price"], "price", "myTrades"), dec(trade["qty"], "qty", "myTrades")
        check((p, q) == (Decimal(price), Decimal(qty)), f"myTrades: {q} at {p}, expected {qty} at {price}")
        check(dec(trade["quoteQty"], "quoteQty", "myTrades") == p * q, "myTrades: quoteQty is not price x qty")
        want, asset = commission(p, q, buyer)
        check(dec(trade["commission"], "commission", "myTrades") == want, "myTrades: commission")
        check(trade["commissionAsset"] == asset, "myTrades: commissionAsset")
        check(trade["isBuyer"] is buyer, f"myTrades: isBuyer {trade['isBuyer']}, expected {buyer}")
        check(trade["isMaker"] is False, "myTrades: an execution on arrival is not maker")

    # The account moved with the trades: the buyer pays the quote asset and
    # receives the base asset less its commission, the seller the other way
    # (the commission FAQ); the open LIMIT_MAKER SELL locks its 0.1 BTC.
    btc = start["BTC"][0]
    usdt = start["USDT"][0]
    for price, qty, buyer in expected:
        p, q = Decimal(price), Decimal(qty)
        fee, _ = commission(p, q, buyer)
        if buyer:
            btc, usdt = btc + q - fee, usdt - p * q
        else:
            btc, usdt = btc - q, usdt + p * q - fee
    after = balances(client, "account after the trades")
    check(after["BTC"] == (btc - Decimal("0.1"), Decimal("0.1")),
          f"account: BTC (free, locked) {after['BTC']}, the trades give {(btc - Decimal('0.1'), Decimal('0.1'))}")
    check(after["USDT"] == (usdt, Decimal(0)),
          f"account: USDT (free, locked) {after['USDT']}, the trades give {(usdt, 0)}")
    # An order beyond the free balance: -2010 (errors.md), nothing changed.
    for what, call in [
        ("SELL beyond the free BTC",
         lambda: client.new_order(symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                                  quantity=str(after["BTC"][0] + 1), price="120")),
        ("BUY beyond the free USDT",
         lambda: client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                                  quantity="7000", price="150")),
        ("MARKET SELL beyond the free BTC",
         lambda: client.new_order(symbol=SYMBOL, side="SELL", type="MARKET",
                                  quantity=str(after["BTC"][0] + 1))),
    ]:
        error = client_error(call, -2010, what)
        check(error.status_code == 400, f"{what}: HTTP {error.status_code}, the docs give 400")
        message = "Account has insufficient balance for requested action."
        check(error.error_message == message,
              f"{what}: message {error.error_message!r}, errors.md gives {message!r}")
    check(balances(client, "account after the refusals") == after,
          "account: an order refused for its balance changed the balances")

    # POST /api/v3/order/cancelReplace
    target = client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                              quantity="0.1", price="91")
    replaced = client.cancel_and_replace(SYMBOL, "BUY", "LIMIT", "STOP_ON_FAILURE",
                                         timeInForce="GTC", quantity="0.02", price="92",
                                         cancelOrderId=target["orderId"],
                                         cancelRestrictions="ONLY_NEW")
    keys(replaced, {"cancelResult", "newOrderResult", "cancelResponse", "newOrderResponse"},
         "cancelReplace")
    check((replaced["cancelResult"], replaced["newOrderResult"]) == ("SUCCESS", "SUCCESS"),
          f"cancelReplace: {replaced['cancelResult']}/{replaced['newOrderResult']}")
    keys(replaced["cancelResponse"], CANCEL_KEYS, "cancelReplace cancelResponse", CONDITIONAL)
    check(replaced["cancelResponse"]["status"] == "CANCELED", "cancelReplace: cancel not CANCELED")
    new = order_answer(replaced["newOrderResponse"], "cancelReplace newOrderResponse", FULL_KEYS,
                       "NEW", "0", fills=[])

    def replace(mode, cancel_id, **order):
        return lambda: client.cancel_and_replace(SYMBOL, order.pop("side", "BUY"),
                                                 order.pop("type", "LIMIT"), mode,
                                                 cancelOrderId=cancel_id, **order)

    limit = {"timeInForce": "GTC", "quantity": "0.1", "price": "93"}
    # STOP_ON_FAILURE, cancel fails: -2022, new order NOT_ATTEMPTED.
    error = client_error(replace("STOP_ON_FAILURE", 999999, **limit), -2022,
                         "cancelReplace STOP_ON_FAILURE, unknown order")
    check(error.status_code == 400, f"-2022: HTTP {error.status_code}, the docs give 400")
    data = error.error_data
    check(isinstance(data, dict), "-2022: no data")
    check((data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "NOT_ATTEMPTED"),
          f"-2022 STOP_ON_FAILURE: {data['cancelResult']}/{data['newOrderResult']}")
    check(data["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."},
          f"-2022: cancelResponse {data['cancelResponse']!r}")
    check(data["newOrderResponse"] is None, "-2022 STOP_ON_FAILURE: newOrderResponse is not null")
    # ALLOW_FAILURE, cancel fails, new order placed: -2021 (409).
    error = client_error(replace("ALLOW_FAILURE", 999999, newOrderRespType="ACK", **limit), -2021,
                         "cancelReplace ALLOW_FAILURE, unknown order")
    check(error.status_code == 409, f"-2021: HTTP {error.status_code}, the docs give 409")
    data = error.error_data
    check((data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "SUCCESS"),
          f"-2021 ALLOW_FAILURE: {data['cancelResult']}/{data['newOrderResult']}")
    order_answer(data["newOrderResponse"], "-2021 newOrderResponse", ACK_KEYS, "NEW", "0")
    # ALLOW_FAILURE, both fail: -2022 (400), both FAILURE.
    error = client_error(replace("ALLOW_FAILURE", 999999, side="SELL", type="LIMIT_MAKER",
                                 quantity="0.1", price="99"), -2022,
                         "cancelReplace ALLOW_FAILURE, both failing")
    data = error.error_data
    check((data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "FAILURE"),
          f"-2022 ALLOW_FAILURE: {data['cancelResult']}/{data['newOrderResult']}")
    check(data["newOrderResponse"] == {"code": -2010, "msg": "Order would immediately match and take."},
          f"-2022: newOrderResponse {data['newOrderResponse']!r}")
    # Cancel succeeds, new order fails: -2021 with the cancel's answer.
    error = client_error(replace("ALLOW_FAILURE", new["orderId"], side="SELL", type="LIMIT_MAKER",
                                 quantity="0.1", price="99"), -2021,
                         "cancelReplace, the new order failing")
    data = error.error_data
    check((data["cancelResult"], data["newOrderResult"]) == ("SUCCESS", "FAILURE"),
          f"-2021: {data['cancelResult']}/{data['newOrderResult']}")
    keys(data["cancelResponse"], CANCEL_KEYS, "-2021 cancelResponse", CONDITIONAL)
    # Without cancelReplaceMode: -1102 naming it.
    try:
        answer = client.sign_request("POST", "/api/v3/order/cancelReplace", {
            "symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.1", "price": "94", "cancelOrderId": new["orderId"]})
        raise Difference(f"cancelReplace without cancelReplaceMode: answered {answer!r}")
    except ClientError as error:
        check(error.error_code == -1102 and "cancelReplaceMode" in error.error_message,
              f"no cancelReplaceMode: {error.error_code} {error.error_message!r}, docs give -1102")
    # A filter failure is checked before the cancel: plain -1013.
    error = client_error(replace("STOP_ON_FAILURE", 999999, timeInForce="GTC",
                                 quantity=str(max_qty + 1), price="90"), -1013,
                         "cancelReplace with a filter failure")
    check(error.error_message == "Filter failure: LOT_SIZE", f"cancelReplace filter: {error.error_message!r}")


def main():
    if len(sys.argv) != 4:
        print("usage: binance_connector_check.py BASE_URL API_KEY SECRET", file=sys.stderr)
        return 2
    try:
        run(*sys.argv[1:])
    except Difference as difference:
        print(f"differs from the docs: {difference}", file=sys.stderr)
        return 1
    except ClientError as error:
        line = traceback.extract_tb(error.__traceback__)[1].lineno
        print(f"unexpected error answer (line {line}): HTTP {error.status_code} "
              f"{error.error_code} {error.error_message!r}", file=sys.stderr)
        return 1
    print("binance-connector 3.13.0: every answer matches the docs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
