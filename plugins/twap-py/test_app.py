"""Unit tests of twap-py (`python -m pytest`): plain Python, no WebAssembly.

They mirror plugins/twap's tests and pin the rust_decimal arithmetic the
port relies on for identical replays.
"""

import json
from decimal import Decimal as D

import pytest

import app
from app import Twap, rdiv, round_up_to_lot, schedule_due, slice_quantity
from tesser_plugin import (
    Amend, Cancel, Fill, InitContext, Instrument, OrderStatus, OrderType, OrderUpdate, Place,
    PluginError, RestoreContext, RiskContext, Runner, Side, Signal, SignalKind, Tick, Timer,
    decimal_from_parts, decimal_to_parts,
)

START = 1_561_939_203_172
LOT = D("0.00000001")


def context(params=None, qty="10", side=Side.BUY) -> InitContext:
    return InitContext(
        "algo-1", Signal("sig-1", "BTCUSD", side, SignalKind.ENTER_LONG, D(qty)),
        RiskContext(D("10749.4"), Instrument(D("0.1"), LOT, LOT, D(0))),
        params if params is not None else {}, START)


def started(params=None, qty="10", side=Side.BUY):
    runner = Runner(Twap())
    assert runner.init(context(params, qty, side)) == "ready"
    return runner, runner.take_result()


def test_rdiv_follows_rust_decimal():
    assert str(rdiv(D(10), D(7))) == "1.4285714285714285714285714286"
    assert str(rdiv(D(10), D(3))) == "3.3333333333333333333333333333"
    assert str(rdiv(D(2), D(3))) == "0.6666666666666666666666666667"
    assert str(rdiv(D(1), D(8))) == "0.125"
    assert str(rdiv(D("10.00"), D(2))) == "5.00"
    assert str(rdiv(D(10), D("0.5"))) == "20"


def test_slices_round_up_to_the_lot_and_due_ends_at_the_target():
    assert str(slice_quantity(D(10), 7, LOT)) == "1.4285714300000000000000000000"
    due = schedule_due(D(10), 7, LOT)
    assert [str(d) for d in due[-2:]] == ["8.571428580000000000000000000", "10"]
    assert round_up_to_lot(D("3.33333"), D("0.0001")) == D("3.3334")
    assert round_up_to_lot(D("0.12345"), D(0)) == D("0.12345")
    assert slice_quantity(D("0.5"), 10, D(1)) == D("0.5")   # capped at the target


def test_init_places_the_first_slice_at_the_last_price():
    _, result = started()
    [order] = result.orders
    assert isinstance(order, Place)
    assert (order.order_type, order.quantity, order.price, order.client_order_id) == \
        (OrderType.LIMIT, D(1), D("10749.4"), "c1")
    assert result.logs[0].message == \
        "twap Buy 10 BTCUSD over 1800000 ms in 10 buckets, child orders up to 1"


def test_next_bucket_reprices_and_releases_the_next_slice():
    runner, _ = started()
    assert runner.on_tick(Tick(D("10760.55"), D(1), START + 1_000)) == "idle"
    assert runner.on_tick(Tick(D("10760.55"), D(1), START + 180_000)) == "ready"
    amend, place = runner.take_result().orders
    assert amend == Amend("algo-1-c1", new_price=D("10760.5"))
    assert (place.client_order_id, place.quantity, place.price) == ("c2", D(1), D("10760.5"))


def test_sells_price_passively_up():
    _, result = started(side=Side.SELL, params={"order_type": "limit"})
    assert result.orders[0].price == D("10749.4")
    book = app.ChildOrders("a", "X", Side.SELL, Instrument(D("0.1"), LOT, LOT, D(0)))
    assert book.passive_price(D("100.05")) == D("100.1")


def test_after_the_duration_limits_are_cancelled_and_the_rest_goes_at_market():
    runner, _ = started({"slices": 2, "duration_ms": 1000})
    assert runner.on_timer(Timer(START + 1000)) == "ready"
    result = runner.take_result()
    assert result.orders[0] == Cancel("algo-1-c1")
    assert [(o.order_type, o.quantity) for o in result.orders[1:]] == [(OrderType.MARKET, D(5))]
    assert "duration over with 10 unfilled" in result.logs[0].message


def test_fills_complete_with_the_average_price():
    runner, _ = started({"slices": 1, "duration_ms": 1000})
    assert runner.on_fill(Fill("algo-1-c1", D("10749.4"), D(4), START + 1)) == "idle"
    assert runner.on_fill(Fill("algo-1-c1", D("10750"), D(6), START + 2)) == "ready"
    result = runner.take_result()
    assert result.completed
    assert result.logs[0].message == "twap done: 10 filled at an average 10749.76"


def test_a_rejection_backs_off_one_second():
    runner, _ = started({"order_type": "market"})
    update = OrderUpdate("algo-1-c1", OrderStatus.REJECTED, START + 5, reason="risk")
    assert runner.on_order_update(update) == "ready"
    assert runner.take_result().logs[0].message == "algo-1-c1 refused: risk; retrying in 1000 ms"
    assert runner.on_tick(Tick(D(1), D(1), START + 500)) == "idle"
    assert runner.on_tick(Tick(D(1), D(1), START + 1005)) == "ready"
    assert runner.take_result().orders[0].client_order_id == "c2"


@pytest.mark.parametrize("params, message", [
    ({"slices": 0}, "slices must be between 1 and 1000, got 0"),
    ({"slices": 2.0}, "slices must be an integer, got 2.0"),
    ({"duration_ms": 5, "slices": 6}, "slices (6) must not exceed duration_ms (5): each slice lasts at least 1 ms"),
    ({"order_type": "iceberg"}, "order_type must be one of limit, market, got 'iceberg'"),
    ({"zeta": 1, "alpha": 1}, "unknown param 'alpha' (accepted: duration_ms, slices, order_type)"),
    ([1], "params must be a JSON object, got [1]"),
])
def test_bad_params_are_refused_like_the_rust_plugin(params, message):
    runner = Runner(Twap())
    assert runner.init(context(params)) == "ready"
    with pytest.raises(PluginError) as error:
        runner.take_result()
    assert (error.value.kind, error.value.message) == ("invalid_params", message)


def test_a_zero_target_is_refused():
    runner = Runner(Twap())
    runner.init(context(qty="0"))
    with pytest.raises(PluginError, match="target quantity must be positive, got 0"):
        runner.take_result()


def test_snapshot_restore_round_trip_and_resume():
    runner, _ = started({"slices": 7, "duration_ms": 600000})
    runner.on_fill(Fill("algo-1-c1", D("10749.4"), D("0.5"), START + 10))
    snapshot = runner.snapshot()
    state = json.loads(snapshot)
    assert state["name"] == "twap" and state["orders"]["open"]["algo-1-c1"]["filled"] == "0.5"
    assert state["hold_until_ms"] == -(2**63)
    fresh = Runner(Twap())
    fresh.restore(RestoreContext("algo-1", "BTCUSD", snapshot))
    assert fresh.snapshot() == snapshot
    assert fresh.on_tick(Tick(D("10749.4"), D(1), START + 85_715)) == "ready"
    assert fresh.take_result().orders[-1].client_order_id == "c2"
    with pytest.raises(PluginError, match="not a twap snapshot"):
        Runner(Twap()).restore(RestoreContext("a", "B", '{"name": "vwap"}'))


def test_decimals_cross_the_abi_exactly():
    for text in ["1.4285714300000000000000000000", "-10749.45", "0", "79228162514264337593543950335"]:
        back = decimal_from_parts(*decimal_to_parts(D(text)))
        assert str(back) == text
    assert decimal_to_parts(D(-1)) == (-1, 2**64 - 1, 0)
