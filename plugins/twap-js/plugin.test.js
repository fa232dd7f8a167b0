// Unit tests of the TWAP port, without wasm: `node --test` (or `npm test`).
// They drive `guest` exactly as the host does (WIT shapes: decimals as
// {mantissaHi, mantissaLo, scale} with BigInt halves, 64-bit times as BigInt).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal, exportPlugin } from './tesser_plugin.js';
import { Twap, parseParams, sliceQuantity, scheduleDue } from './plugin.js';

const d = (text) => Decimal.parse(text);
const w = (text) => d(text).toWit();
const FIRST_TRADE_MS = 1_561_939_203_172n;

/** An init context as the host sends it: algo-1 buying `target` BTCUSD at the first real trade. */
function initContext(params, target = '10', side = 'buy') {
  return {
    algorithmId: 'algo-1',
    signal: { id: 'signal-1', symbol: 'BTCUSD', side, kind: 'enter-long', targetQuantity: w(target), confidence: 1, note: undefined, groupId: undefined, stopLoss: undefined, takeProfit: undefined },
    risk: {
      lastPrice: w('10749.4'), equity: w('1000000'), position: w('0'), balances: [],
      instrument: { tickSize: w('0.1'), lotSize: w('0.0001'), minQuantity: w('0.0001'), minNotional: w('10') },
      maxOrderQuantity: w('100'),
    },
    paramsJson: JSON.stringify(params),
    nowMs: FIRST_TRADE_MS,
  };
}
const tick = (price, ms) => ({ price: w(price), size: w('0.5'), aggressor: 'sell', timestampMs: ms });
const fill = (id, price, quantity, ms) => ({ clientOrderId: id, symbol: 'BTCUSD', side: 'buy', price: w(price), quantity: w(quantity), fee: w('0'), timestampMs: ms });
const places = (result) => result.orders.filter((a) => a.tag === 'place').map((a) => [a.val.orderType, Decimal.fromWit(a.val.quantity).toString(), a.val.price && Decimal.fromWit(a.val.price).toString()]);

function started(params, target) {
  const guest = exportPlugin(Twap);
  assert.equal(guest.init(initContext(params, target)), 'ready');
  return { guest, first: guest.takeResult() };
}

function initError(params, target) {
  const guest = exportPlugin(Twap);
  assert.equal(guest.init(initContext(params, target)), 'ready', 'an init error is ready');
  try {
    guest.takeResult();
  } catch (error) {
    assert.equal(error.payload.kind, 'invalid-params');
    return error.payload.message;
  }
  assert.fail('init should have failed');
}

test('bad params are refused with clear messages', () => {
  assert.equal(parseParams({}).durationMs, 1_800_000);
  assert.match(initError({ duration_ms: 0 }), /duration_ms must be between 1/);
  assert.match(initError({ duration_ms: '60000' }), /duration_ms must be an integer/);
  assert.match(initError({ duration_ms: 60000, slices: 0 }), /slices must be between 1 and 1000/);
  assert.match(initError({ duration_ms: 5, slices: 10 }), /must not exceed duration_ms/);
  assert.match(initError({ duration_ms: 60000, order_type: 'stop' }), /order_type must be one of limit, market/);
  assert.match(initError({ duration_ms: 60000, slice: 3 }), /unknown param 'slice'/);
  assert.match(initError(['duration_ms']), /params must be a JSON object/);
  assert.match(initError({ duration_ms: 60000 }, '0'), /target quantity must be positive, got 0/);
});

test('slices are rounded up to the lot and the schedule ends at the target', () => {
  const lot = d('0.0001');
  assert.equal(sliceQuantity(d('10'), 10, lot).toString(), '1');
  assert.ok(sliceQuantity(d('10'), 3, lot).eq('3.3334'));
  assert.deepEqual(scheduleDue(d('10'), 3, lot).map((x) => x.normalize().toString()), ['3.3334', '6.6668', '10']);
  assert.equal(sliceQuantity(d('0.00005'), 2, lot).toString(), '0.00005', 'capped at the target');
});

test('init places the first slice at the last price; ticks in the same slice are idle', () => {
  const { guest, first } = started({ duration_ms: 600000, slices: 10 });
  assert.deepEqual(places(first), [['limit', '1', '10749.4']]);
  assert.equal(first.logs[0].message, 'twap Buy 10 BTCUSD over 600000 ms in 10 buckets, child orders up to 1');
  assert.equal(first.state, 'running');
  assert.equal(guest.onTick(tick('10750.0', FIRST_TRADE_MS + 1000n)), 'idle');
  assert.throws(() => guest.takeResult(), (e) => e.payload.kind === 'invalid-state');
  // The next slice re-prices the resting one and places another.
  assert.equal(guest.onTick(tick('10751.23', FIRST_TRADE_MS + 60_000n)), 'ready');
  const next = guest.takeResult();
  assert.equal(next.orders[0].tag, 'amend');
  assert.equal(next.orders[0].val.clientOrderId, 'algo-1-c1');
  // On the tick grid, rounded down for a buy; the scale is kept as in rust_decimal.
  assert.equal(Decimal.fromWit(next.orders[0].val.newPrice).toString(), '10751.20');
  assert.deepEqual(places(next), [['limit', '1', '10751.20']]);
});

test('fills complete the algorithm and later events are refused', () => {
  const { guest } = started({ duration_ms: 60000, slices: 1 }, '0.5');
  assert.equal(guest.onFill(fill('algo-1-c1', '10749.4', '0.2', FIRST_TRADE_MS + 10n)), 'idle');
  assert.equal(guest.onFill(fill('algo-1-c1', '10749.6', '0.3', FIRST_TRADE_MS + 20n)), 'ready');
  const done = guest.takeResult();
  assert.equal(done.state, 'completed');
  assert.equal(done.logs[0].message, 'twap done: 0.5 filled at an average 10749.520');
  assert.equal(guest.onTick(tick('1', FIRST_TRADE_MS + 30n)), 'ready');
  assert.throws(() => guest.takeResult(), (e) => e.payload.kind === 'invalid-state' && /after the algorithm completed/.test(e.payload.message));
});

test('the duration over, the rest goes at market', () => {
  const { guest } = started({ duration_ms: 60000, slices: 2, order_type: 'limit' }, '1');
  assert.equal(guest.onTimer({ nowMs: FIRST_TRADE_MS + 60_000n }), 'ready');
  const late = guest.takeResult();
  assert.match(late.logs[0].message, /duration over with 1 unfilled/);
  // c1 stays committed until its cancel is confirmed: only the other half goes now.
  assert.deepEqual(late.orders.map((a) => a.tag), ['cancel', 'place']);
  assert.deepEqual(places(late), [['market', '0.50', undefined]]);
  const cancelled = { clientOrderId: 'algo-1-c1', status: 'cancelled', filledQuantity: w('0'), remainingQuantity: w('0'), reason: undefined, timestampMs: FIRST_TRADE_MS + 60_001n };
  assert.equal(guest.onOrderUpdate(cancelled), 'ready');
  assert.deepEqual(places(guest.takeResult()), [['market', '0.50', undefined]]);
});

test('a rejection holds new orders back for a second', () => {
  const { guest } = started({ duration_ms: 60000, slices: 2 }, '1');
  const rejected = { clientOrderId: 'algo-1-c1', status: 'rejected', filledQuantity: w('0'), remainingQuantity: w('0'), reason: 'price band', timestampMs: FIRST_TRADE_MS + 5n };
  assert.equal(guest.onOrderUpdate(rejected), 'ready');
  assert.equal(guest.takeResult().logs[0].message, 'algo-1-c1 refused: price band; retrying in 1000 ms');
  assert.equal(guest.onTick(tick('10749.4', FIRST_TRADE_MS + 500n)), 'idle');
  assert.equal(guest.onTick(tick('10749.4', FIRST_TRADE_MS + 1005n)), 'ready');
  assert.deepEqual(places(guest.takeResult()), [['limit', '0.50', '10749.4']]); // 1 / 2 is 0.50 in rust_decimal
});

test('snapshot and restore round trip in a fresh instance', () => {
  const { guest } = started({ duration_ms: 600000, slices: 7 }, '10');
  guest.onFill(fill('algo-1-c1', '10749.4', '0.3', FIRST_TRADE_MS + 10n));
  const text = guest.snapshot();
  const snap = JSON.parse(text);
  assert.equal(snap.name, 'twap');
  assert.equal(snap.max_child, '1.4286000000000000000000000000'); // rust_decimal keeps the quotient's scale
  assert.equal(snap.hold_until_ms, -9223372036854775808); // i64::MIN, a JSON number as in Rust
  assert.match(text, /"hold_until_ms":-9223372036854775808/);
  const fresh = exportPlugin(Twap);
  fresh.restore({ algorithmId: 'algo-1', symbol: 'BTCUSD', snapshotJson: text });
  assert.equal(fresh.snapshot(), text);
  // Both go on identically.
  const t = tick('10700', FIRST_TRADE_MS + 90_000n);
  assert.equal(guest.onTick(t), fresh.onTick(t));
  assert.deepEqual(fresh.takeResult(), guest.takeResult());
  assert.throws(() => fresh.restore({ algorithmId: 'a', symbol: 'BTCUSD', snapshotJson: text }), (e) => e.payload.kind === 'invalid-state');
  assert.throws(() => exportPlugin(Twap).restore({ algorithmId: 'a', symbol: 'B', snapshotJson: '{"name":"vwap"}' }), (e) => /not a twap snapshot/.test(e.payload.message));
});

test('metadata declares the params schema', () => {
  const meta = exportPlugin(Twap).metadata();
  assert.equal(meta.name, 'twap-js');
  const schema = JSON.parse(meta.paramsSchemaJson);
  assert.deepEqual(Object.keys(schema.properties), ['duration_ms', 'slices', 'order_type']);
  assert.equal(schema.additionalProperties, false);
});

test('decimals cross the ABI exactly, BigInt halves and negatives included', () => {
  for (const text of ['0', '10749.4', '-10749.45', '0.00000001', '-1', '79228162514264337593543950335', '-7.9228162514264337593543950335']) {
    const wit = d(text).toWit();
    assert.equal(typeof wit.mantissaHi, 'bigint');
    assert.equal(typeof wit.mantissaLo, 'bigint');
    assert.equal(Decimal.fromWit(wit).toString(), text);
  }
  assert.deepEqual(d('-1').toWit(), { mantissaHi: -1n, mantissaLo: 0xffffffffffffffffn, scale: 0 });
  assert.deepEqual(d('18446744073709551616').toWit(), { mantissaHi: 1n, mantissaLo: 0n, scale: 0 });
  assert.throws(() => Decimal.fromWit({ mantissaHi: 1n << 32n, mantissaLo: 0n, scale: 0 }), /96 bits/);
  assert.throws(() => Decimal.fromWit({ mantissaHi: 0n, mantissaLo: 1n, scale: 29 }), /scale/);
  assert.equal(d('10').div(d('3')).toString(), '3.3333333333333333333333333333');
  assert.equal(d('20').div(d('3')).toString(), '6.6666666666666666666666666667');
  assert.equal(d('1.50').add(d('1')).toString(), '2.50');
  assert.equal(d('0.1').mul(d('0.2')).toString(), '0.02');
});
