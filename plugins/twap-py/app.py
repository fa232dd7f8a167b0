"""twap-py: the reference TWAP execution plugin (plugins/twap), in Python.

Time-weighted average price: executes the parent quantity in ``slices`` equal
child orders spread evenly over ``duration_ms``, then sends whatever has not
filled at market once the duration is over, so it always completes on a
liquid market.

The clock is the host's: ``init``'s ``now_ms`` starts the schedule; trade
prints (``timestamp_ms``) and timer heartbeats (``Timer.now_ms``) advance it.
At the start of slice k (of n) the schedule releases orders until
``k * ceil(target / n)`` (rounded up to the lot, capped at the target) is
working or filled. With ``order_type = "limit"`` (the default) each slice is a
limit order at the last trade price, and resting slices are re-priced to the
last price at every slice boundary.

This is a faithful port of the Rust crate and of the kit it uses
(``plugins/kit``: ``params.rs``, ``orders.rs``, ``schedule.rs``): same params,
schema, defaults, child orders, log lines and snapshot. Its decimal
arithmetic follows ``rust_decimal``'s exactly (see ``rdiv`` and ``fit``), so a
replay gives the Rust plugin's child orders and fills to the last digit.
"""

from __future__ import annotations

import decimal
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional

from tesser_plugin import (
    Amend, Cancel, InitContext, Instrument, OrderStatus, OrderType, OrderUpdate, Place, Plugin,
    Result, Side, Tick, Fill, Timer, dec_str, export, fit_decimal, invalid_params, invalid_state,
)

#: Number of slices when the params name none.
DEFAULT_SLICES = 10
#: Most slices a TWAP may have.
MAX_SLICES = 1_000
#: Longest duration accepted: seven days, ms.
MAX_DURATION_MS = 7 * 24 * 60 * 60 * 1_000
#: Schedule length when the params name none: 30 minutes.
DEFAULT_DURATION_MS = 1_800_000
#: The names of the params, for the unknown-param check.
PARAMS = ("duration_ms", "slices", "order_type")
#: How long the algorithm waits after a refused child order, ms.
REJECTION_BACKOFF_MS = 1_000
#: Most orders one callback places (a guard against a runaway loop).
MAX_ORDERS_PER_STEP = 100
I64_MIN, I64_MAX = -(2**63), 2**63 - 1
ZERO = Decimal(0)


# ------------------------------------------------------------------ rust_decimal arithmetic
# Python's Decimal keeps trailing zeros as rust_decimal does; what differs is
# where results are rounded. Every sum and product below goes through `fit`
# (exact, then rounded to at most 28 places and a 96-bit mantissa, as
# rust_decimal does) and every quotient through `rdiv`.

_WIDE = decimal.Context(prec=200, rounding=decimal.ROUND_HALF_EVEN)


def fit(value: Decimal) -> Decimal:
    return fit_decimal(value)


def add(a: Decimal, b: Decimal) -> Decimal:
    return fit(_WIDE.add(a, b))


def sub(a: Decimal, b: Decimal) -> Decimal:
    return fit(_WIDE.subtract(a, b))


def mul(a: Decimal, b: Decimal) -> Decimal:
    return fit(_WIDE.multiply(a, b))


def rdiv(a: Decimal, b: Decimal) -> Decimal:
    """``a / b`` as rust_decimal computes it: exact when the quotient ends
    within the dividend's scale; otherwise as many places as fit (at most 28,
    mantissa below 2**96), rounded half-even, trailing zeros removed."""
    if b == 0:
        raise ZeroDivisionError("decimal division by zero")
    if a == 0:
        return ZERO
    a, b = fit(a), fit(b)
    ma, sa = int(a.scaleb(-a.as_tuple().exponent, _WIDE)), -a.as_tuple().exponent
    mb, sb = int(b.scaleb(-b.as_tuple().exponent, _WIDE)), -b.as_tuple().exponent
    negative = (ma < 0) != (mb < 0)
    ma, mb = abs(ma), abs(mb)
    scale = sa - sb
    quotient, remainder = divmod(ma, mb)
    if remainder == 0 and scale >= 0:
        return _make(negative, quotient, scale)
    if remainder == 0:  # e.g. 10 / 0.5: scaled up to scale 0, kept as is
        return fit(_make(negative, quotient * 10 ** (-scale), 0))
    best = None
    for s in range(max(scale, 0), 29):
        q, r = divmod(ma * 10 ** (s - scale), mb)
        if q >= 2**96:
            break
        best = (q, r, s)
        if r == 0:
            break
    if best is None:
        raise OverflowError(f"{a} / {b} overflows")
    q, r, s = best
    if r and (2 * r > mb or (2 * r == mb and q % 2 == 1)):
        q += 1
        if q >= 2**96:
            q, s = (q + 5) // 10, s - 1
    while s > 0 and q % 10 == 0:  # rust_decimal's `unscale`
        q, s = q // 10, s - 1
    return _make(negative, q, s)


def _make(negative: bool, mantissa: int, scale: int) -> Decimal:
    return Decimal(f"{'-' if negative else ''}{mantissa}e-{scale}")


# ------------------------------------------------------------------ params

def _show(value: Any) -> str:
    return json.dumps(value, default=dec_str, separators=(",", ":"))


class Params:
    """A signal's params object, checked against the names a plugin accepts
    (the kit's ``params.rs``)."""

    def __init__(self, value: Any, accepted: tuple):
        if value is not None and not isinstance(value, dict):
            raise invalid_params(f"params must be a JSON object, got {_show(value)}")
        self.map = value or {}
        for key in sorted(self.map):
            if key not in accepted:
                raise invalid_params(f"unknown param '{key}' (accepted: {', '.join(accepted)})")

    def integer_in(self, key: str, low: int, high: int) -> Optional[int]:
        value = self.map.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not I64_MIN <= value <= I64_MAX:
            raise invalid_params(f"{key} must be an integer, got {_show(value)}")
        if value < low or value > high:
            raise invalid_params(f"{key} must be between {low} and {high}, got {value}")
        return value

    def choice(self, key: str, choices: tuple) -> Optional[str]:
        value = self.map.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise invalid_params(f"{key} must be a string, got {_show(value)}")
        if value not in choices:
            raise invalid_params(f"{key} must be one of {', '.join(choices)}, got '{value}'")
        return value


@dataclass
class TwapParams:
    """The checked params."""
    duration_ms: int = DEFAULT_DURATION_MS
    slices: int = DEFAULT_SLICES
    order_type: OrderType = OrderType.LIMIT

    @classmethod
    def parse(cls, value: Any) -> "TwapParams":
        params = Params(value, PARAMS)
        duration_ms = params.integer_in("duration_ms", 1, MAX_DURATION_MS) or DEFAULT_DURATION_MS
        slices = params.integer_in("slices", 1, MAX_SLICES) or DEFAULT_SLICES
        if slices > duration_ms:
            raise invalid_params(
                f"slices ({slices}) must not exceed duration_ms ({duration_ms}): each slice lasts at least 1 ms")
        kind = params.choice("order_type", ("limit", "market"))
        return cls(duration_ms, slices, OrderType.MARKET if kind == "market" else OrderType.LIMIT)


def round_up_to_lot(value: Decimal, lot: Decimal) -> Decimal:
    """``value`` rounded up to the ``lot`` grid (unchanged when the lot is 0)."""
    down = Instrument(lot_size=lot).round_quantity_down(value)
    return add(down, lot) if down < value else down


def slice_quantity(target: Decimal, slices: int, lot: Decimal) -> Decimal:
    """Size of each slice: ``target / slices`` rounded up to the lot."""
    return min(round_up_to_lot(rdiv(target, Decimal(max(slices, 1))), lot), target)


def schedule_due(target: Decimal, slices: int, lot: Decimal) -> list:
    """Cumulative quantity due by the end of each slice (the last = target)."""
    size = slice_quantity(target, slices, lot)
    count = max(slices, 1)
    return [target if k == count else min(mul(size, Decimal(k)), target) for k in range(1, count + 1)]


# ------------------------------------------------------------------ child orders (kit orders.rs)

@dataclass
class ChildOrder:
    """A child order the plugin placed and that has not closed yet."""
    id: str
    order_type: OrderType
    price: Optional[Decimal]
    quantity: Decimal
    filled: Decimal = ZERO
    cancel_pending: bool = False
    placed_ms: int = 0

    def open_quantity(self) -> Decimal:
        return max(sub(self.quantity, self.filled), ZERO)


def _d(text: Any) -> Decimal:
    return Decimal(str(text))


def _od(text: Any) -> Optional[Decimal]:
    return None if text is None else _d(text)


class ChildOrders:
    """An algorithm's child orders (``c1``, ``c2``… as id suffixes) and fills."""

    def __init__(self, algorithm_id: str = "", symbol: str = "", side: Side = Side.BUY,
                 instrument: Optional[Instrument] = None, max_order_quantity: Optional[Decimal] = None):
        self.algorithm_id, self.symbol, self.side = algorithm_id, symbol, Side(side)
        self.instrument = instrument or Instrument()
        self.max_order_quantity = max_order_quantity
        self.next_seq = 1
        self.open: dict = {}  # by full client order id; iterated sorted, as a BTreeMap
        self.filled = ZERO
        self.filled_value = ZERO
        self.rejections = 0

    def working(self) -> Decimal:
        total = ZERO
        for key in sorted(self.open):
            total = add(total, self.open[key].open_quantity())
        return total

    def committed(self) -> Decimal:
        return add(self.filled, self.working())

    def average_price(self) -> Optional[Decimal]:
        return rdiv(self.filled_value, self.filled) if self.filled > 0 else None

    def tradable(self, quantity: Decimal, price: Decimal) -> Decimal:
        """``quantity`` down to the lot, capped at the host's largest order; zero
        when below the minimum quantity or (at ``price``) minimum notional."""
        if self.max_order_quantity is not None and self.max_order_quantity > 0:
            quantity = min(quantity, self.max_order_quantity)
        quantity = self.instrument.round_quantity_down(quantity)
        if quantity <= 0 or quantity < self.instrument.min_quantity:
            return ZERO
        if price > 0 and mul(price, quantity) < self.instrument.min_notional:
            return ZERO
        return quantity

    def passive_price(self, price: Decimal) -> Decimal:
        """``price`` on the tick grid, passive side: down for buys, up for sells."""
        down = self.instrument.round_price_down(price)
        if self.side == Side.SELL and down < price:
            return add(down, self.instrument.tick_size)
        return down

    def place(self, order_type: OrderType, quantity: Decimal, price: Optional[Decimal], now_ms: int) -> Place:
        suffix = f"c{self.next_seq}"
        self.next_seq += 1
        full = f"{self.algorithm_id}-{suffix}"
        self.open[full] = ChildOrder(full, order_type, price, quantity, ZERO, False, now_ms)
        return Place(self.symbol, self.side, order_type, quantity, price, client_order_id=suffix)

    def reprice(self, id: str, price: Decimal, now_ms: int) -> Optional[Amend]:
        order = self.open.get(id)
        if (order is None or order.cancel_pending or order.order_type != OrderType.LIMIT
                or order.price == price or price <= 0):
            return None
        order.price, order.placed_ms = price, now_ms
        return Amend(id, new_price=price)

    def reprice_all(self, price: Decimal, now_ms: int) -> list:
        return [a for a in (self.reprice(id, price, now_ms) for id in sorted(self.open)) if a]

    def cancel(self, id: str) -> Optional[Cancel]:
        order = self.open.get(id)
        if order is None or order.cancel_pending:
            return None
        order.cancel_pending = True
        return Cancel(id)

    def cancel_all(self, order_type: Optional[OrderType]) -> list:
        ids = [id for id in sorted(self.open) if order_type is None or self.open[id].order_type == order_type]
        return [a for a in (self.cancel(id) for id in ids) if a]

    def on_fill(self, fill: Fill) -> Decimal:
        self.filled = add(self.filled, fill.quantity)
        self.filled_value = add(self.filled_value, mul(fill.quantity, fill.price))
        order = self.open.get(fill.client_order_id)
        if order is not None:
            order.filled = add(order.filled, fill.quantity)
        return fill.quantity

    def on_update_with_backoff(self, update: OrderUpdate, now_ms: int, schedule: "Schedule") -> Optional[Result]:
        """A refused order holds new orders back (``schedule.hold_until_ms``);
        ``None`` when an order closed otherwise: the caller places what it wants."""
        order = self.open.get(update.client_order_id)
        if order is None:
            return Result()
        if update.is_open:
            # An open status with a reason is a refused amend or cancel.
            if update.reason is not None:
                order.cancel_pending = False
                return Result().warn(f"{update.client_order_id}: {update.reason}")
            return Result()
        del self.open[update.client_order_id]
        if update.status != OrderStatus.REJECTED:
            return None
        self.rejections += 1
        schedule.hold_until_ms = now_ms + REJECTION_BACKOFF_MS
        return Result().warn(f"{update.client_order_id} refused: {update.reason or ''}; "
                             f"retrying in {REJECTION_BACKOFF_MS} ms")

    def to_json(self) -> dict:
        return {
            "algorithm_id": self.algorithm_id, "symbol": self.symbol, "side": self.side.value,
            "instrument": {k: getattr(self.instrument, k) for k in ("tick_size", "lot_size", "min_quantity", "min_notional")},
            "max_order_quantity": self.max_order_quantity, "next_seq": self.next_seq,
            "open": {k: {"id": o.id, "order_type": o.order_type.value, "price": o.price, "quantity": o.quantity,
                         "filled": o.filled, "cancel_pending": o.cancel_pending, "placed_ms": o.placed_ms}
                     for k, o in sorted(self.open.items())},
            "filled": self.filled, "filled_value": self.filled_value, "rejections": self.rejections,
        }

    @classmethod
    def from_json(cls, v: dict) -> "ChildOrders":
        i = v["instrument"]
        book = cls(v["algorithm_id"], v["symbol"], Side(v["side"]),
                   Instrument(_d(i["tick_size"]), _d(i["lot_size"]), _d(i["min_quantity"]), _d(i["min_notional"])),
                   _od(v.get("max_order_quantity")))
        book.next_seq, book.rejections = int(v["next_seq"]), int(v["rejections"])
        book.filled, book.filled_value = _d(v["filled"]), _d(v["filled_value"])
        book.open = {k: ChildOrder(o["id"], OrderType(o["order_type"]), _od(o.get("price")), _d(o["quantity"]),
                                   _d(o["filled"]), bool(o["cancel_pending"]), int(o["placed_ms"]))
                     for k, o in v["open"].items()}
        return book


# ------------------------------------------------------------------ the slicer (kit schedule.rs)

class Schedule:
    """Releases the parent quantity bucket by bucket over a duration, then
    finishes whatever is left at market. Its state is the plugin's snapshot."""

    def __init__(self, name: str = "", target: Decimal = ZERO, start_ms: int = 0, duration_ms: int = 0,
                 due: Optional[list] = None, max_child: Decimal = ZERO, order_type: OrderType = OrderType.MARKET,
                 last_price: Decimal = ZERO, orders: Optional[ChildOrders] = None):
        self.name, self.target, self.start_ms, self.duration_ms = name, target, start_ms, duration_ms
        self.due, self.max_child, self.order_type = due or [], max_child, order_type
        self.last_price, self.now_ms = last_price, start_ms
        self.bucket: Optional[int] = None
        self.catching_up = False
        self.hold_until_ms = I64_MIN
        self.orders = orders or ChildOrders()

    @classmethod
    def new(cls, name, ctx: InitContext, duration_ms, due, max_child, order_type) -> "Schedule":
        return cls(name, ctx.signal.target_quantity, ctx.now_ms, duration_ms, due, max_child, order_type,
                   ctx.risk.last_price,
                   ChildOrders(ctx.algorithm_id, ctx.signal.symbol, ctx.signal.side,
                               ctx.risk.instrument, ctx.risk.max_order_quantity))

    def bucket_at(self, now_ms: int) -> Optional[int]:
        """The bucket ``now_ms`` falls in, or None once the duration is over."""
        elapsed = max(now_ms - self.start_ms, 0)
        if elapsed >= self.duration_ms or not self.due:
            return None
        return elapsed * len(self.due) // max(self.duration_ms, 1)

    def remaining(self) -> Decimal:
        return sub(self.target, self.orders.filled)

    def start(self) -> Result:
        o = self.orders
        result = Result().log(
            f"{self.name} {o.side.value.capitalize()} {dec_str(self.target)} {o.symbol} over {self.duration_ms} ms "
            f"in {len(self.due)} buckets, child orders up to {dec_str(self.max_child)}")
        return self.step(result)

    def on_tick(self, tick: Tick) -> Result:
        if tick.price > 0:
            self.last_price = tick.price
        self.now_ms = max(self.now_ms, tick.timestamp_ms)
        return self.step(Result())

    def on_timer(self, now_ms: int) -> Result:
        self.now_ms = max(self.now_ms, now_ms)
        return self.step(Result())

    def on_fill(self, fill: Fill) -> Result:
        self.orders.on_fill(fill)
        self.now_ms = max(self.now_ms, fill.timestamp_ms)
        return self.finish_if_done(Result())

    def on_order_update(self, update: OrderUpdate) -> Result:
        self.now_ms = max(self.now_ms, update.timestamp_ms)
        result = self.orders.on_update_with_backoff(update, self.now_ms, self)
        return self.step(Result()) if result is None else result

    def finish_if_done(self, result: Result) -> Result:
        if self.remaining() > 0:
            return result
        average = self.orders.average_price()
        at = "" if average is None else f" at an average {dec_str(average)}"
        return result.log(f"{self.name} done: {dec_str(self.orders.filled)} filled{at}").complete()

    def step(self, result: Result) -> Result:
        """Places what the schedule wants now."""
        result = self.finish_if_done(result)
        if result.completed or self.now_ms < self.hold_until_ms or self.last_price <= 0:
            return result
        now = self.now_ms
        bucket = self.bucket_at(now)
        if bucket is not None:
            if self.bucket != bucket:
                self.bucket = bucket
                # A new bucket: bring resting orders back to the market.
                result.add(*self.orders.reprice_all(self.orders.passive_price(self.last_price), now))
            due = self.due[bucket] if bucket < len(self.due) else self.target
            return self.release(result, due, self.order_type)
        if not self.catching_up:
            self.catching_up = True
            result.log(f"{self.name} duration over with {dec_str(self.remaining())} unfilled: the rest goes at market")
            result.add(*self.orders.cancel_all(OrderType.LIMIT))
        result = self.release(result, self.target, OrderType.MARKET)
        free = sub(self.target, self.orders.committed())
        if not self.orders.open and free > 0 and self.orders.tradable(free, self.last_price) == 0:
            # What is left cannot be traded (below the lot or the minimums): stop here.
            return result.warn(
                f"{self.name} done: {dec_str(free)} left unfilled, below the instrument's minimum order").complete()
        return result

    def release(self, result: Result, due: Decimal, order_type: OrderType) -> Result:
        """Places orders of up to ``max_child`` until ``due`` is committed."""
        free = sub(min(due, self.target), self.orders.committed())
        for _ in range(MAX_ORDERS_PER_STEP):
            if free <= 0:
                break
            quantity = self.orders.tradable(min(free, self.max_child), self.last_price)
            if quantity == 0:
                break
            price = self.orders.passive_price(self.last_price) if order_type == OrderType.LIMIT else None
            result.add(self.orders.place(order_type, quantity, price, self.now_ms))
            free = sub(free, quantity)
        return result

    def snapshot(self) -> dict:
        return {
            "name": self.name, "target": self.target, "start_ms": self.start_ms, "duration_ms": self.duration_ms,
            "due": self.due, "max_child": self.max_child, "order_type": self.order_type.value,
            "last_price": self.last_price, "now_ms": self.now_ms, "bucket": self.bucket,
            "catching_up": self.catching_up, "hold_until_ms": self.hold_until_ms, "orders": self.orders.to_json(),
        }

    @classmethod
    def restore(cls, v: Any, name: str) -> "Schedule":
        try:
            state = cls(v["name"], _d(v["target"]), int(v["start_ms"]), int(v["duration_ms"]),
                        [_d(x) for x in v["due"]], _d(v["max_child"]), OrderType(v["order_type"]),
                        _d(v["last_price"]), ChildOrders.from_json(v["orders"]))
            state.now_ms, state.catching_up = int(v["now_ms"]), bool(v["catching_up"])
            state.bucket = None if v["bucket"] is None else int(v["bucket"])
            state.hold_until_ms = int(v["hold_until_ms"])
        except (KeyError, TypeError, ValueError, decimal.InvalidOperation) as error:
            raise invalid_state(f"not a {name} snapshot: {type(error).__name__}: {error}") from None
        if state.name != name:
            raise invalid_state(f"not a {name} snapshot: it is a '{state.name}' snapshot")
        return state


# ------------------------------------------------------------------ the plugin

class Twap(Plugin):
    """The TWAP algorithm; its whole state is the scheduled slicer."""
    name = "twap-py"
    version = "0.1.0"
    description = "Reference TWAP execution plugin: slices the parent order evenly over a duration."
    params_schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "duration_ms": {
                "description": "Length of the schedule in milliseconds of the host's clock (default 1800000: 30 minutes); the rest is sent at market once it is over.",
                "type": "integer", "minimum": 1, "maximum": MAX_DURATION_MS, "default": DEFAULT_DURATION_MS,
            },
            "slices": {
                "description": "Number of equal child orders, one at the start of each equal part of the duration (default 10; at most duration_ms).",
                "type": "integer", "minimum": 1, "maximum": MAX_SLICES, "default": DEFAULT_SLICES,
            },
            "order_type": {
                "description": "\"limit\": each slice is a limit order at the last trade price, re-priced at every slice boundary (default); \"market\": each slice is a market order.",
                "enum": ["limit", "market"], "default": "limit",
            },
        },
        "required": [],
        "additionalProperties": False,
    }

    def __init__(self):
        self.schedule = Schedule()

    def init(self, ctx: InitContext) -> Result:
        params = TwapParams.parse(ctx.params)
        target = ctx.signal.target_quantity
        if target <= 0:
            raise invalid_params(f"target quantity must be positive, got {dec_str(target)}")
        lot = ctx.risk.instrument.lot_size
        self.schedule = Schedule.new("twap", ctx, params.duration_ms, schedule_due(target, params.slices, lot),
                                     slice_quantity(target, params.slices, lot), params.order_type)
        return self.schedule.start()

    def on_tick(self, tick: Tick) -> Result:
        return self.schedule.on_tick(tick)

    def on_fill(self, fill: Fill) -> Result:
        return self.schedule.on_fill(fill)

    def on_order_update(self, update: OrderUpdate) -> Result:
        return self.schedule.on_order_update(update)

    def on_timer(self, timer: Timer) -> Result:
        return self.schedule.on_timer(timer.now_ms)

    def snapshot(self) -> dict:
        return self.schedule.snapshot()

    def restore(self, snapshot: Any) -> None:
        self.schedule = Schedule.restore(snapshot, "twap")


#: What componentize-py exports (the WIT interface `guest`).
Guest = export(Twap)
