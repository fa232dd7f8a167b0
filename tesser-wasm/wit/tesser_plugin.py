"""Tesser execution plugins in Python: types, exact decimals and the ABI glue.

A plugin is a subclass of :class:`Plugin`; ``Guest = export(MyPlugin)`` in the
app module makes it a WebAssembly component (``tesser plugin build``). The
host calls one callback per event and the plugin answers a :class:`Result`:
child-order actions, log lines and whether the algorithm is done.

Rules: money is ``decimal.Decimal``, never ``float``; the only clock is the
host's (``InitContext.now_ms``, ``Tick.timestamp_ms``, ``Timer.now_ms``); no
network. An exception escaping a callback fails that one algorithm with the
traceback as its reason; raise :class:`PluginError` (``invalid_params(...)``,
...) for errors you mean. This module imports the componentize-py bindings
only inside :func:`export`'s glue, so it runs under plain ``pytest``.
"""

from __future__ import annotations

import decimal
import enum
import json
import traceback
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

ABI_VERSION = (2, 0, 0)
MAX_SCALE = 28  # most digits after the point a WIT decimal carries
MANTISSA_LIMIT = 2**96  # |mantissa| must stay below this
_EXACT = decimal.Context(prec=400, rounding=decimal.ROUND_HALF_EVEN,
                         traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


# ---------------------------------------------------------------- decimals

def fit_decimal(value: Decimal) -> Decimal:
    """``value`` as the ABI can carry it: at most 28 digits after the point and
    a mantissa below 2**96. Trailing zeros go first; otherwise the value is
    rounded half-even to the most digits that fit (as rust_decimal does).
    Raises ``ValueError`` for NaN, infinities, and an integer part of 2**96 or more."""
    if not isinstance(value, Decimal):
        raise TypeError(f"expected a decimal.Decimal, got {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value}")
    sign, digits, exponent = value.as_tuple()
    if -MAX_SCALE <= exponent <= 0 and len(digits) <= 28:  # fits: the usual case
        return value
    if exponent > 0:  # 2E+1 -> 20: scale 0
        value = value.quantize(Decimal(1), context=_EXACT)
        exponent = 0
    scale = -exponent
    cut = max(scale - MAX_SCALE, 0)
    while True:
        rounded = value.quantize(Decimal(1).scaleb(cut - scale), context=_EXACT) if cut else value
        mantissa = int(rounded.scaleb(scale - cut, context=_EXACT))
        if abs(mantissa) < MANTISSA_LIMIT:
            return rounded
        if cut >= scale:
            raise ValueError(f"decimal {value} out of range: its magnitude must be below 2**96")
        cut += 1


def decimal_to_parts(value: Decimal) -> tuple[int, int, int]:
    """``(mantissa_hi, mantissa_lo, scale)`` of the WIT ``decimal`` record:
    ``value == ((hi << 64) | lo) * 10**-scale`` with ``hi`` signed."""
    value = fit_decimal(value)
    scale = -value.as_tuple().exponent
    mantissa = int(value.scaleb(scale, context=_EXACT))
    return mantissa >> 64, mantissa & (2**64 - 1), scale


def decimal_from_parts(hi: int, lo: int, scale: int) -> Decimal:
    """The exact Decimal of a WIT ``decimal`` record (its scale kept)."""
    mantissa = (hi << 64) | lo
    if abs(mantissa) >= MANTISSA_LIMIT or not 0 <= scale <= MAX_SCALE:
        raise PluginError("invalid_input", f"decimal out of range (mantissa {mantissa}, scale {scale}): "
                          "the magnitude must fit in 96 bits and the scale be at most 28")
    return Decimal(f"{mantissa}e-{scale}")


def to_decimal(value: Any, name: str = "value") -> Decimal:
    """A Decimal from a str/int/Decimal param (``"0.25"``, ``3``); floats are
    refused (``0.1`` is not exact). Raises ``PluginError`` invalid_params."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise invalid_params(f"{name} must be a decimal string like \"0.25\", got {json.dumps(value, default=str)}")
    try:
        result = Decimal(value.strip() if isinstance(value, str) else value)
    except decimal.InvalidOperation:
        raise invalid_params(f"{name} '{value}' is not a decimal") from None
    if not result.is_finite():
        raise invalid_params(f"{name} '{value}' is not a decimal")
    return result


def dec_str(value: Decimal) -> str:
    """Plain text of a decimal, never an exponent (``"10749.40"``)."""
    return format(value, "f")


# ---------------------------------------------------------------- errors

class PluginError(Exception):
    """An error the plugin reports on purpose; ``kind`` is ``invalid_params``,
    ``invalid_state``, ``invalid_input`` or ``internal``."""

    KINDS = ("invalid_params", "invalid_state", "invalid_input", "internal")

    def __init__(self, kind: str, message: str):
        if kind not in self.KINDS:
            raise ValueError(f"unknown error kind {kind!r}: one of {', '.join(self.KINDS)}")
        super().__init__(f"{kind.replace('_', ' ')}: {message}")
        self.kind, self.message = kind, message


def invalid_params(message: str) -> PluginError:
    return PluginError("invalid_params", message)


def invalid_state(message: str) -> PluginError:
    return PluginError("invalid_state", message)


def invalid_input(message: str) -> PluginError:
    return PluginError("invalid_input", message)


def internal(message: str) -> PluginError:
    return PluginError("internal", message)


# ---------------------------------------------------------------- types

class _Named(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


Side = _Named("Side", [("BUY", "buy"), ("SELL", "sell")])
SignalKind = _Named("SignalKind", [(n.upper(), n) for n in ("enter_long", "exit_long", "enter_short", "exit_short", "flatten")])
OrderType = _Named("OrderType", [(n.upper(), n) for n in ("market", "limit", "stop_market", "stop_limit")])
TimeInForce = _Named("TimeInForce", [(n.upper(), n) for n in ("good_til_cancelled", "immediate_or_cancel", "fill_or_kill", "post_only")])
OrderStatus = _Named("OrderStatus", [(n.upper(), n) for n in ("accepted", "rejected", "partially_filled", "filled", "cancelled", "expired")])
LogLevel = _Named("LogLevel", [(n.upper(), n) for n in ("trace", "debug", "info", "warn", "error")])


def _round_down_to(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    # A value with no more places than a 10^-s step is on the grid already.
    if step.as_tuple().digits == (1,) and -value.as_tuple().exponent <= -step.as_tuple().exponent:
        return value
    rem = _EXACT.remainder(value, step)  # sign of value, like rust_decimal
    down = fit_decimal(_EXACT.subtract(value, rem))
    return fit_decimal(_EXACT.subtract(down, step)) if rem < 0 else down


@dataclass
class Instrument:
    """Trading rules; child orders off these grids are refused by the host."""
    tick_size: Decimal = Decimal(0)
    lot_size: Decimal = Decimal(0)
    min_quantity: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)

    def round_quantity_down(self, quantity: Decimal) -> Decimal:
        """``quantity`` down to the lot grid (unchanged when the lot is 0)."""
        return _round_down_to(quantity, self.lot_size)

    def round_price_down(self, price: Decimal) -> Decimal:
        """``price`` down to the tick grid (unchanged when the tick is 0)."""
        return _round_down_to(price, self.tick_size)


@dataclass
class Signal:
    """The parent order the algorithm executes."""
    id: str
    symbol: str
    side: Side
    kind: SignalKind
    target_quantity: Decimal
    confidence: float = 1.0
    note: Optional[str] = None
    group_id: Optional[str] = None
    stop_loss: Optional[Decimal] = None
    take_profit: Optional[Decimal] = None


@dataclass
class Balance:
    asset: str
    available: Decimal


@dataclass
class RiskContext:
    """Portfolio and limits as the host's risk guard sees them at init."""
    last_price: Decimal
    instrument: Instrument
    equity: Decimal = Decimal(0)
    position: Decimal = Decimal(0)  # signed: positive when long
    balances: list = field(default_factory=list)
    max_order_quantity: Optional[Decimal] = None


@dataclass
class InitContext:
    """What ``init`` receives; ``params`` is the signal's params, parsed JSON."""
    algorithm_id: str
    signal: Signal
    risk: RiskContext
    params: Any = None
    now_ms: int = 0


@dataclass
class RestoreContext:
    algorithm_id: str
    symbol: str
    snapshot_json: str


@dataclass
class Tick:
    """A trade print of the algorithm's symbol."""
    price: Decimal
    size: Decimal
    timestamp_ms: int
    aggressor: Optional[Side] = None
    symbol: str = ""


@dataclass
class Fill:
    """An execution of one of the algorithm's child orders."""
    client_order_id: str
    price: Decimal
    quantity: Decimal
    timestamp_ms: int
    side: Side = Side.BUY
    fee: Decimal = Decimal(0)
    symbol: str = ""


@dataclass
class OrderUpdate:
    """A status change of a child order (``reason`` set on a refusal)."""
    client_order_id: str
    status: OrderStatus
    timestamp_ms: int = 0
    filled_quantity: Decimal = Decimal(0)
    remaining_quantity: Decimal = Decimal(0)
    reason: Optional[str] = None

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


@dataclass
class Timer:
    now_ms: int


@dataclass
class Place:
    """A new child order. ``client_order_id`` is a suffix: the host names the
    order ``<algorithm_id>-<suffix>``, the id fills and updates carry."""
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    price: Optional[Decimal] = None
    trigger_price: Optional[Decimal] = None
    time_in_force: Optional[TimeInForce] = None
    client_order_id: Optional[str] = None
    take_profit: Optional[Decimal] = None
    stop_loss: Optional[Decimal] = None
    display_quantity: Optional[Decimal] = None


@dataclass
class Amend:
    client_order_id: str  # the full id
    new_price: Optional[Decimal] = None
    new_quantity: Optional[Decimal] = None


@dataclass
class Cancel:
    client_order_id: str  # the full id


@dataclass
class Log:
    level: LogLevel
    message: str


@dataclass
class Result:
    """What a callback answers: actions applied in order, logs, completion."""
    orders: list = field(default_factory=list)
    logs: list = field(default_factory=list)
    completed: bool = False

    def log(self, message: str, level: LogLevel = LogLevel.INFO) -> "Result":
        self.logs.append(Log(LogLevel(level), message))
        return self

    def warn(self, message: str) -> "Result":
        return self.log(message, LogLevel.WARN)

    def add(self, *actions) -> "Result":
        self.orders.extend(actions)
        return self

    def complete(self) -> "Result":
        self.completed = True
        return self

    @property
    def is_empty(self) -> bool:
        return not self.orders and not self.logs and not self.completed


@dataclass
class Metadata:
    name: str
    version: str
    description: str
    params_schema: Optional[dict] = None


class Plugin:
    """Base class of a plugin; one instance runs one algorithm on one symbol.
    ``algorithm_id`` and ``symbol`` are set before ``init``/``restore``."""
    name = "plugin"
    version = "0.1.0"
    description = ""
    params_schema: Optional[dict] = None

    algorithm_id = ""
    symbol = ""

    def metadata(self) -> Metadata:
        return Metadata(self.name, self.version, self.description, self.params_schema)

    def init(self, ctx: InitContext) -> Result:
        return Result()

    def on_tick(self, tick: Tick) -> Result:
        return Result()

    def on_fill(self, fill: Fill) -> Result:
        return Result()

    def on_order_update(self, update: OrderUpdate) -> Result:
        return Result()

    def on_timer(self, timer: Timer) -> Result:
        return Result()

    def snapshot(self) -> Optional[dict]:
        """The whole state as JSON-able data (Decimals become strings);
        ``None``: nothing worth restoring."""
        return None

    def restore(self, snapshot: Any) -> None:
        """Rebuild the state from a :meth:`snapshot`, in place of ``init``."""


# ---------------------------------------------------------------- protocol

def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return dec_str(value)
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON serializable")


class Runner:
    """Drives one plugin through the ABI's lifecycle, as the component does:
    ``init`` or ``restore`` first, then events until the plugin completes.
    Events answer ``"idle"`` (no orders, no logs, still running) or
    ``"ready"``: ``take_result()`` then returns the Result or raises the
    PluginError. An uncaught exception becomes an ``internal`` error carrying
    the traceback, and the plugin takes no more events. Use it in tests."""

    def __init__(self, plugin: Plugin, encode=lambda result: result):
        self.plugin, self._encode = plugin, encode
        self.phase, self._pending, self._broken = "created", None, None

    def init(self, ctx: InitContext) -> str:
        return self._start("init", lambda: ctx)

    def on_tick(self, tick: Tick) -> str:
        return self.event("on_tick", lambda: tick)

    def on_fill(self, fill: Fill) -> str:
        return self.event("on_fill", lambda: fill)

    def on_order_update(self, update: OrderUpdate) -> str:
        return self.event("on_order_update", lambda: update)

    def on_timer(self, timer: Timer) -> str:
        return self.event("on_timer", lambda: timer)

    def _start(self, name: str, make_ctx) -> str:
        if self.phase != "created":
            return self._answer(invalid_state("init called twice: an instance runs one algorithm"))
        self.phase = "running"

        def call():
            ctx = make_ctx()
            self.plugin.algorithm_id, self.plugin.symbol = ctx.algorithm_id, ctx.signal.symbol
            return self.plugin.init(ctx)
        return self._call(name, call)

    def event(self, name: str, make_arg) -> str:
        """Runs callback ``name`` on the argument ``make_arg()`` builds."""
        if self.phase != "running":
            why = {"created": f"{name} before init: call init (or restore) first",
                   "completed": f"{name} after the algorithm completed"}.get(self.phase)
            return self._answer(invalid_state(why or f"plugin unusable after an exception: {self._broken}"))
        return self._call(name, lambda: getattr(self.plugin, name)(make_arg()))

    def _call(self, name: str, call) -> str:
        try:
            result = call()
            if result is None:
                result = Result()
            if not isinstance(result, Result):
                raise TypeError(f"{name} returned {type(result).__name__}, expected a tesser_plugin.Result")
            if result.completed:
                self.phase = "completed"
            return self._answer(None if result.is_empty else self._encode(result))
        except PluginError as error:
            return self._answer(error)
        except Exception:
            return self._answer(self._fail(name))

    def _fail(self, name: str) -> PluginError:
        self.phase, self._broken = "broken", f"exception in {name}"
        return internal(f"plugin raised an exception in {name}:\n{traceback.format_exc()}")

    def _answer(self, pending) -> str:
        self._pending = pending
        return "idle" if pending is None else "ready"

    def take_result(self):
        """The waiting Result; raises the waiting PluginError, or an
        ``invalid_state`` one when nothing waits."""
        pending, self._pending = self._pending, None
        if pending is None:
            raise invalid_state("take-result with no result waiting: call it once after a callback answers `ready`")
        if isinstance(pending, PluginError):
            raise pending
        return pending

    def snapshot(self) -> str:
        if self.phase == "broken":
            raise invalid_state(f"plugin unusable after an exception: {self._broken}")
        try:
            return json.dumps(self.plugin.snapshot(), default=_json_default, separators=(",", ":"))
        except PluginError:
            raise
        except Exception:
            raise self._fail("snapshot") from None

    def restore(self, ctx: RestoreContext) -> None:
        if self.phase != "created":
            raise invalid_state("restore must be the first call of a fresh instance")
        try:
            value = json.loads(ctx.snapshot_json, parse_float=Decimal)
        except ValueError as error:
            raise invalid_input(f"snapshot is not JSON: {error}") from None
        self.phase = "running"
        self.plugin.algorithm_id, self.plugin.symbol = ctx.algorithm_id, ctx.symbol
        try:
            self.plugin.restore(value)
        except PluginError:
            raise
        except Exception:
            raise self._fail("restore") from None


# ---------------------------------------------------------------- component glue

def export(plugin_class: type) -> type:
    """The class componentize-py exports: write ``Guest = export(MyPlugin)``
    in the app module. The bindings (``wit_world``) exist only at build time
    and are imported here, on the first call."""
    holder: list = []
    try:  # at build time: import the bindings now, into the pre-initialised snapshot,
        _wit()  # and keep the interpreter's start-up objects out of the GC's way.
        import gc
        gc.collect()
        gc.freeze()
    except ImportError:  # plain Python (pytest): no bindings, nothing to do
        pass

    def runner() -> Runner:
        if not holder:
            holder.append(Runner(plugin_class(), encode=_result_out))
        return holder[0]

    def fail(error: PluginError):
        from componentize_py_types import Err
        return Err(_wit().PluginError(_wit().ErrorKind[error.kind.upper()], error.message))

    def outcome(answer: str):
        return _wit().EventOutcome[answer.upper()]

    class Guest:
        def abi_version(self):
            return _wit().Version(*ABI_VERSION)

        def metadata(self):
            meta = plugin_class().metadata()
            schema = None if meta.params_schema is None else json.dumps(meta.params_schema)
            return _wit().PluginMetadata(meta.name, meta.version, meta.description, schema)

        def init(self, ctx):
            return outcome(runner()._start("init", lambda: _init_in(ctx)))

        def on_tick(self, tick):
            r = runner()
            return outcome(r.event("on_tick", lambda: Tick(
                _dec(tick.price, "tick.price"), _dec(tick.size, "tick.size"), tick.timestamp_ms,
                None if tick.aggressor is None else Side[tick.aggressor.name], r.plugin.symbol)))

        def on_fill(self, fill):
            return outcome(runner().event("on_fill", lambda: Fill(
                fill.client_order_id, _dec(fill.price, "fill.price"), _dec(fill.quantity, "fill.quantity"),
                fill.timestamp_ms, Side[fill.side.name], _dec(fill.fee, "fill.fee"), fill.symbol)))

        def on_order_update(self, u):
            return outcome(runner().event("on_order_update", lambda: OrderUpdate(
                u.client_order_id, OrderStatus[u.status.name], u.timestamp_ms,
                _dec(u.filled_quantity, "order_update.filled_quantity"),
                _dec(u.remaining_quantity, "order_update.remaining_quantity"), u.reason)))

        def on_timer(self, timer):
            return outcome(runner().event("on_timer", lambda: Timer(timer.now_ms)))

        def take_result(self):
            try:
                return runner().take_result()
            except PluginError as error:
                raise fail(error) from None

        def snapshot(self):
            try:
                return runner().snapshot()
            except PluginError as error:
                raise fail(error) from None

        def restore(self, ctx):
            try:
                runner().restore(RestoreContext(ctx.algorithm_id, ctx.symbol, ctx.snapshot_json))
            except PluginError as error:
                raise fail(error) from None

    Guest.__name__ = Guest.__qualname__ = f"Guest[{plugin_class.__name__}]"
    return Guest


def _wit():
    from wit_world.imports import types  # generated by componentize-py at build time
    return types


def _dec(value, name: str) -> Decimal:
    try:
        return decimal_from_parts(value.mantissa_hi, value.mantissa_lo, value.scale)
    except PluginError as error:
        raise invalid_input(f"{name}: {error.message}") from None


def _opt(value, name: str) -> Optional[Decimal]:
    return None if value is None else _dec(value, name)


def _init_in(ctx) -> InitContext:
    s, r, i = ctx.signal, ctx.risk, ctx.risk.instrument
    try:
        params = json.loads(ctx.params_json, parse_float=Decimal)
    except ValueError as error:
        raise invalid_params(f"params are not JSON: {error}") from None
    return InitContext(
        ctx.algorithm_id,
        Signal(s.id, s.symbol, Side[s.side.name], SignalKind[s.kind.name],
               _dec(s.target_quantity, "signal.target_quantity"), s.confidence, s.note, s.group_id,
               _opt(s.stop_loss, "signal.stop_loss"), _opt(s.take_profit, "signal.take_profit")),
        RiskContext(_dec(r.last_price, "risk.last_price"),
                    Instrument(*(_dec(getattr(i, f), f"instrument.{f}")
                                 for f in ("tick_size", "lot_size", "min_quantity", "min_notional"))),
                    _dec(r.equity, "risk.equity"), _dec(r.position, "risk.position"),
                    [Balance(b.asset, _dec(b.available, "risk.balances.available")) for b in r.balances],
                    _opt(r.max_order_quantity, "risk.max_order_quantity")),
        params, ctx.now_ms)


def _result_out(result: Result):
    t = _wit()
    d = lambda v: None if v is None else t.Decimal(*decimal_to_parts(v))  # noqa: E731
    orders = []
    for a in result.orders:
        if isinstance(a, Place):
            orders.append(t.ChildOrderAction_Place(t.OrderRequest(
                a.symbol, t.Side[Side(a.side).name], t.OrderType[OrderType(a.order_type).name],
                d(a.quantity), d(a.price), d(a.trigger_price),
                None if a.time_in_force is None else t.TimeInForce[TimeInForce(a.time_in_force).name],
                a.client_order_id, d(a.take_profit), d(a.stop_loss), d(a.display_quantity))))
        elif isinstance(a, Amend):
            orders.append(t.ChildOrderAction_Amend(t.OrderAmend(a.client_order_id, d(a.new_price), d(a.new_quantity))))
        elif isinstance(a, Cancel):
            orders.append(t.ChildOrderAction_Cancel(a.client_order_id))
        else:
            raise TypeError(f"not a child-order action (Place, Amend or Cancel): {a!r}")
    logs = [t.LogEntry(t.LogLevel[LogLevel(log.level).name], str(log.message)) for log in result.logs]
    state = t.AlgorithmState.COMPLETED if result.completed else t.AlgorithmState.RUNNING
    return t.PluginResult(orders, logs, state)
