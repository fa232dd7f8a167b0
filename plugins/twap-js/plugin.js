// twap-js: the reference TWAP execution plugin (plugins/twap, with the parts
// of plugins/kit it uses) ported to JavaScript, child order for child order.
//
// Time-weighted average price: executes the parent quantity in `slices`
// equal child orders spread evenly over `duration_ms`, then sends whatever
// has not filled at market once the duration is over, so it always
// completes on a liquid market.
//
// The clock is the host's: `init`'s `nowMs` starts the schedule, and trade
// prints (`timestampMs`) and timer heartbeats (`nowMs`) advance it. At the
// start of slice k (of n) the schedule releases orders until
// k × ⌈target / n⌉ (rounded up to the lot, capped at the target) is working
// or filled; with `order_type = "limit"` (the default) each slice is a limit
// order at the last trade price, and resting slices are re-priced to the last
// price at every slice boundary.
//
// Decimals are `Decimal` (exact, rust_decimal arithmetic); times are BigInt.

import {
  Decimal, Plugin, PluginResult, exportPlugin, invalidParams, invalidState, place, amend, cancel,
} from './tesser_plugin.js';

export const DEFAULT_SLICES = 10;
export const MAX_SLICES = 1000;
export const MAX_DURATION_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_DURATION_MS = 1_800_000;
const PARAMS = ['duration_ms', 'slices', 'order_type'];

/** How long an algorithm waits after a refused child order, ms. */
export const REJECTION_BACKOFF_MS = 1000n;
/** Most orders one callback places (a guard against a runaway loop). */
const MAX_ORDERS_PER_STEP = 100;
const I64_MIN = -(1n << 63n);
const ZERO = Decimal.ZERO;
const bigMax = (a, b) => (a > b ? a : b);

// --- params (kit/params.rs) -----------------------------------------------

const show = (value) => JSON.stringify(value);

/** A signal's params object, checked against the accepted names. */
class Params {
  constructor(value, accepted) {
    if (value === null || value === undefined) { this.map = {}; return; }
    if (typeof value !== 'object' || Array.isArray(value)) throw invalidParams(`params must be a JSON object, got ${show(value)}`);
    for (const key of Object.keys(value)) {
      if (!accepted.includes(key)) throw invalidParams(`unknown param '${key}' (accepted: ${accepted.join(', ')})`);
    }
    this.map = value;
  }
  get(key) { const v = this.map[key]; return v === null ? undefined : v; }
  integerIn(key, min, max) {
    const value = this.get(key);
    if (value === undefined) return undefined;
    if (!Number.isSafeInteger(value)) throw invalidParams(`${key} must be an integer, got ${show(value)}`);
    if (value < min || value > max) throw invalidParams(`${key} must be between ${min} and ${max}, got ${value}`);
    return value;
  }
  choice(key, choices) {
    const value = this.get(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalidParams(`${key} must be a string, got ${show(value)}`);
    if (!choices.includes(value)) throw invalidParams(`${key} must be one of ${choices.join(', ')}, got '${value}'`);
    return value;
  }
}

/** Reads and checks the TWAP params: `{duration_ms, slices, order_type}`. */
export function parseParams(value) {
  const params = new Params(value, PARAMS);
  const durationMs = params.integerIn('duration_ms', 1, MAX_DURATION_MS) ?? DEFAULT_DURATION_MS;
  const slices = params.integerIn('slices', 1, MAX_SLICES) ?? DEFAULT_SLICES;
  if (slices > durationMs) {
    throw invalidParams(`slices (${slices}) must not exceed duration_ms (${durationMs}): each slice lasts at least 1 ms`);
  }
  const orderType = params.choice('order_type', ['limit', 'market']) === 'market' ? 'market' : 'limit';
  return { durationMs, slices, orderType };
}

// --- sizing (twap/lib.rs, kit/schedule.rs) --------------------------------

/** `value` rounded up to the `lot` grid (unchanged when the lot is zero). */
export function roundUpToLot(value, lot) {
  const down = value.roundDownTo(lot);
  return down.lt(value) ? down.add(lot) : down;
}

/** Size of each slice: `target / slices` rounded up to the lot, capped at the target. */
export function sliceQuantity(target, slices, lot) {
  return roundUpToLot(target.div(Decimal.from(Math.max(slices, 1))), lot).min(target);
}

/** Cumulative quantity due by the end of each slice (the last is the target). */
export function scheduleDue(target, slices, lot) {
  const slice = sliceQuantity(target, slices, lot);
  const count = Math.max(slices, 1);
  const due = [];
  for (let k = 1; k <= count; k += 1) due.push(k === count ? target : slice.mul(Decimal.from(k)).min(target));
  return due;
}

// --- child orders (kit/orders.rs) -----------------------------------------

const openQuantity = (order) => order.quantity.sub(order.filled).max(ZERO);
const isOpenStatus = (status) => status === 'accepted' || status === 'partially-filled';

/** An algorithm's child orders and fills. `open` is kept sorted by id like
 * Rust's BTreeMap (so `c10` comes before `c2`): iteration order is action order. */
export class ChildOrders {
  constructor(fields) { Object.assign(this, fields); }

  static create(algorithmId, symbol, side, instrument, maxOrderQuantity) {
    return new ChildOrders({ algorithmId, symbol, side, instrument, maxOrderQuantity, nextSeq: 1n, open: new Map(), filled: ZERO, filledValue: ZERO, rejections: 0n });
  }

  sortedIds() { return [...this.open.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)); }
  working() { return this.sortedIds().reduce((sum, id) => sum.add(openQuantity(this.open.get(id))), ZERO); }
  committed() { return this.filled.add(this.working()); }
  averagePrice() { return this.filled.gt(ZERO) ? this.filledValue.div(this.filled) : undefined; }

  /** `quantity` rounded down to the lot and capped at the host's largest order,
   * or zero when below the minimum quantity or (at `price`) minimum notional. */
  tradable(quantity, price) {
    const max = this.maxOrderQuantity;
    const capped = max !== undefined && max.gt(ZERO) ? quantity.min(max) : quantity;
    const q = capped.roundDownTo(this.instrument.lotSize);
    if (q.lte(ZERO) || q.lt(this.instrument.minQuantity)) return ZERO;
    if (price.gt(ZERO) && price.mul(q).lt(this.instrument.minNotional)) return ZERO;
    return q;
  }

  /** `price` on the tick grid, on the passive side: down for buys, up for sells. */
  passivePrice(price) {
    const down = price.roundDownTo(this.instrument.tickSize);
    return this.side === 'sell' && down.lt(price) ? down.add(this.instrument.tickSize) : down;
  }

  place(orderType, quantity, price, timeInForce, nowMs) {
    const suffix = `c${this.nextSeq}`;
    this.nextSeq += 1n;
    const id = `${this.algorithmId}-${suffix}`;
    this.open.set(id, { id, orderType, price, quantity, filled: ZERO, cancelPending: false, placedMs: nowMs });
    return place({ symbol: this.symbol, side: this.side, orderType, quantity, price, timeInForce, clientOrderId: suffix });
  }

  reprice(id, price, nowMs) {
    const order = this.open.get(id);
    if (!order || order.cancelPending || order.orderType !== 'limit' || (order.price && order.price.eq(price)) || price.lte(ZERO)) return undefined;
    order.price = price;
    order.placedMs = nowMs;
    return amend(id, { newPrice: price });
  }
  repriceAll(price, nowMs) { return this.sortedIds().map((id) => this.reprice(id, price, nowMs)).filter(Boolean); }

  cancel(id) {
    const order = this.open.get(id);
    if (!order || order.cancelPending) return undefined;
    order.cancelPending = true;
    return cancel(id);
  }
  cancelAll(orderType) {
    return this.sortedIds().filter((id) => orderType === undefined || this.open.get(id).orderType === orderType)
      .map((id) => this.cancel(id)).filter(Boolean);
  }

  onFill(fill) {
    this.filled = this.filled.add(fill.quantity);
    this.filledValue = this.filledValue.add(fill.quantity.mul(fill.price));
    const order = this.open.get(fill.clientOrderId);
    if (order) order.filled = order.filled.add(fill.quantity);
    return fill.quantity;
  }

  /** Records an update; answers a result, or undefined when an order closed
   * (filled, cancelled, expired) and the algorithm should place what it wants. */
  onUpdateWithBackoff(update, nowMs, schedule) {
    const order = this.open.get(update.clientOrderId);
    if (!order) return new PluginResult();
    if (isOpenStatus(update.status)) {
      if (update.reason === undefined) return new PluginResult();
      order.cancelPending = false;
      return new PluginResult().warn(`${update.clientOrderId}: ${update.reason}`);
    }
    this.open.delete(update.clientOrderId);
    if (update.status !== 'rejected') return undefined;
    this.rejections += 1n;
    schedule.holdUntilMs = nowMs + REJECTION_BACKOFF_MS;
    return new PluginResult().warn(`${update.clientOrderId} refused: ${update.reason ?? ''}; retrying in ${REJECTION_BACKOFF_MS} ms`);
  }

  toJSON() {
    const i = this.instrument;
    const open = {};
    for (const id of this.sortedIds()) {
      const o = this.open.get(id);
      open[id] = { id: o.id, order_type: o.orderType, price: o.price ?? null, quantity: o.quantity, filled: o.filled, cancel_pending: o.cancelPending, placed_ms: o.placedMs };
    }
    return {
      algorithm_id: this.algorithmId, symbol: this.symbol, side: this.side,
      instrument: { tick_size: i.tickSize, lot_size: i.lotSize, min_quantity: i.minQuantity, min_notional: i.minNotional },
      max_order_quantity: this.maxOrderQuantity ?? null, next_seq: this.nextSeq, open,
      filled: this.filled, filled_value: this.filledValue, rejections: this.rejections,
    };
  }

  static fromJSON(j) {
    const d = Decimal.parse, i = j.instrument, open = new Map();
    for (const [id, o] of Object.entries(j.open)) {
      open.set(id, { id: o.id, orderType: o.order_type, price: o.price == null ? undefined : d(o.price), quantity: d(o.quantity), filled: d(o.filled), cancelPending: Boolean(o.cancel_pending), placedMs: BigInt(o.placed_ms) });
    }
    return new ChildOrders({
      algorithmId: j.algorithm_id, symbol: j.symbol, side: j.side,
      instrument: { tickSize: d(i.tick_size), lotSize: d(i.lot_size), minQuantity: d(i.min_quantity), minNotional: d(i.min_notional) },
      maxOrderQuantity: j.max_order_quantity == null ? undefined : d(j.max_order_quantity),
      nextSeq: BigInt(j.next_seq), open, filled: d(j.filled), filledValue: d(j.filled_value), rejections: BigInt(j.rejections),
    });
  }
}

// --- the scheduled slicer (kit/schedule.rs) -------------------------------

const sideName = (side) => (side === 'sell' ? 'Sell' : 'Buy'); // Rust's `{:?}`

export class Schedule {
  constructor(fields) { Object.assign(this, fields); }

  static create(name, ctx, durationMs, due, maxChild, orderType) {
    return new Schedule({
      name, target: ctx.signal.targetQuantity, startMs: ctx.nowMs, durationMs: BigInt(durationMs), due, maxChild, orderType,
      lastPrice: ctx.risk.lastPrice, nowMs: ctx.nowMs, bucket: undefined, catchingUp: false, holdUntilMs: I64_MIN,
      orders: ChildOrders.create(ctx.algorithmId, ctx.signal.symbol, ctx.signal.side, ctx.risk.instrument, ctx.risk.maxOrderQuantity),
    });
  }

  /** The bucket `nowMs` falls in, or undefined once the duration is over. */
  bucketAt(nowMs) {
    const elapsed = bigMax(nowMs - this.startMs, 0n);
    if (elapsed >= this.durationMs || this.due.length === 0) return undefined;
    return Number((elapsed * BigInt(this.due.length)) / bigMax(this.durationMs, 1n));
  }

  remaining() { return this.target.sub(this.orders.filled); }

  start() {
    const o = this.orders;
    const result = new PluginResult().log(`${this.name} ${sideName(o.side)} ${this.target} ${o.symbol} over ${this.durationMs} ms in ${this.due.length} buckets, child orders up to ${this.maxChild}`);
    return this.step(result);
  }

  onTick(tick) {
    if (tick.price.gt(ZERO)) this.lastPrice = tick.price;
    this.nowMs = bigMax(this.nowMs, tick.timestampMs);
    return this.step(new PluginResult());
  }

  onTimer(nowMs) {
    this.nowMs = bigMax(this.nowMs, nowMs);
    return this.step(new PluginResult());
  }

  onFill(fill) {
    this.orders.onFill(fill);
    this.nowMs = bigMax(this.nowMs, fill.timestampMs);
    return this.finishIfDone(new PluginResult());
  }

  onOrderUpdate(update) {
    this.nowMs = bigMax(this.nowMs, update.timestampMs);
    return this.orders.onUpdateWithBackoff(update, this.nowMs, this) ?? this.step(new PluginResult());
  }

  finishIfDone(result) {
    if (this.remaining().gt(ZERO)) return result;
    const average = this.orders.averagePrice();
    return result.log(`${this.name} done: ${this.orders.filled} filled${average ? ` at an average ${average}` : ''}`).completed();
  }

  /** Places what the schedule wants now. */
  step(initial) {
    let result = this.finishIfDone(initial);
    if (result.isCompleted() || this.nowMs < this.holdUntilMs || this.lastPrice.lte(ZERO)) return result;
    const now = this.nowMs;
    const bucket = this.bucketAt(now);
    if (bucket !== undefined) {
      if (this.bucket !== bucket) {
        this.bucket = bucket;
        // A new bucket: bring resting orders back to the market.
        result.withOrders(this.orders.repriceAll(this.orders.passivePrice(this.lastPrice), now));
      }
      return this.release(result, this.due[bucket] ?? this.target, this.orderType);
    }
    if (!this.catchingUp) {
      this.catchingUp = true;
      result.log(`${this.name} duration over with ${this.remaining()} unfilled: the rest goes at market`)
        .withOrders(this.orders.cancelAll('limit'));
    }
    result = this.release(result, this.target, 'market');
    const free = this.target.sub(this.orders.committed());
    if (this.orders.open.size === 0 && free.gt(ZERO) && this.orders.tradable(free, this.lastPrice).isZero()) {
      // What is left cannot be traded (below the lot or the instrument's minimums): stop here.
      return result.warn(`${this.name} done: ${free} left unfilled, below the instrument's minimum order`).completed();
    }
    return result;
  }

  /** Places orders of up to `maxChild` until `due` is committed. */
  release(result, due, orderType) {
    let free = due.min(this.target).sub(this.orders.committed());
    for (let i = 0; i < MAX_ORDERS_PER_STEP && free.gt(ZERO); i += 1) {
      const quantity = this.orders.tradable(free.min(this.maxChild), this.lastPrice);
      if (quantity.isZero()) break;
      const price = orderType === 'limit' ? this.orders.passivePrice(this.lastPrice) : undefined;
      result.withOrder(this.orders.place(orderType, quantity, price, undefined, this.nowMs));
      free = free.sub(quantity);
    }
    return result;
  }

  /** The state as JSON, the same document as the Rust plugin's snapshot. */
  toJSON() {
    return {
      name: this.name, target: this.target, start_ms: this.startMs, duration_ms: this.durationMs, due: this.due,
      max_child: this.maxChild, order_type: this.orderType, last_price: this.lastPrice, now_ms: this.nowMs,
      bucket: this.bucket ?? null, catching_up: this.catchingUp, hold_until_ms: this.holdUntilMs, orders: this.orders.toJSON(),
    };
  }

  static fromJSON(j, name) {
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw invalidState(`not a ${name} snapshot: ${show(j)}`);
    if (j.name !== name) throw invalidState(`not a ${name} snapshot: it is a '${j.name}' snapshot`);
    try {
      const d = Decimal.parse;
      return new Schedule({
        name: j.name, target: d(j.target), startMs: BigInt(j.start_ms), durationMs: BigInt(j.duration_ms), due: j.due.map(d),
        maxChild: d(j.max_child), orderType: j.order_type, lastPrice: d(j.last_price), nowMs: BigInt(j.now_ms),
        bucket: j.bucket ?? undefined, catchingUp: Boolean(j.catching_up), holdUntilMs: BigInt(j.hold_until_ms),
        orders: ChildOrders.fromJSON(j.orders),
      });
    } catch (error) {
      throw invalidState(`not a ${name} snapshot: ${error.message}`);
    }
  }
}

// --- the plugin -----------------------------------------------------------

export class Twap extends Plugin {
  metadata() {
    return {
      name: 'twap-js',
      version: '0.1.0',
      description: 'Reference TWAP execution plugin in JavaScript: slices the parent order evenly over a duration.',
      paramsSchema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: {
          duration_ms: {
            description: "Length of the schedule in milliseconds of the host's clock (default 1800000: 30 minutes); the rest is sent at market once it is over.",
            type: 'integer', minimum: 1, maximum: MAX_DURATION_MS, default: DEFAULT_DURATION_MS,
          },
          slices: {
            description: 'Number of equal child orders, one at the start of each equal part of the duration (default 10; at most duration_ms).',
            type: 'integer', minimum: 1, maximum: MAX_SLICES, default: DEFAULT_SLICES,
          },
          order_type: {
            description: '"limit": each slice is a limit order at the last trade price, re-priced at every slice boundary (default); "market": each slice is a market order.',
            enum: ['limit', 'market'], default: 'limit',
          },
        },
        required: [],
        additionalProperties: false,
      },
    };
  }

  init(ctx) {
    const params = parseParams(ctx.params);
    const target = ctx.signal.targetQuantity;
    if (target.lte(ZERO)) throw invalidParams(`target quantity must be positive, got ${target}`);
    const lot = ctx.risk.instrument.lotSize;
    const slice = sliceQuantity(target, params.slices, lot);
    const due = scheduleDue(target, params.slices, lot);
    this.schedule = Schedule.create('twap', ctx, params.durationMs, due, slice, params.orderType);
    return this.schedule.start();
  }

  onTick(tick) { return this.schedule.onTick(tick); }
  onFill(fill) { return this.schedule.onFill(fill); }
  onOrderUpdate(update) { return this.schedule.onOrderUpdate(update); }
  onTimer(timer) { return this.schedule.onTimer(timer.nowMs); }
  snapshot() { return this.schedule ? this.schedule.toJSON() : null; }
  restore(snapshot) { this.schedule = Schedule.fromJSON(snapshot, 'twap'); }
}

/** The component's export: the WIT interface `tesser:plugin/guest`. */
export const guest = exportPlugin(Twap);
