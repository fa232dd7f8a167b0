// tesser_plugin.js: the small helper every JavaScript execution plugin ships.
//
// It turns the WIT ABI of `tesser:plugin@2.0.0` (world `execution-plugin`)
// into plain JavaScript: an exact `Decimal`, plain objects for contexts and
// events, a `PluginResult` builder, a `Plugin` base class and
// `exportPlugin(MyPlugin)`, whose return value the plugin module exports as
// `guest`. No dependencies; runs the same in Node (`node --test`) and inside
// the component built by componentize-js.
//
// Rules: money is never a JS Number (use `Decimal`); 64-bit integers
// (timestamps, `nowMs`) are BigInt; the only clock is the host's.

const TWO_64 = 1n << 64n;
const TWO_96 = 1n << 96n;
const MAX_SCALE = 28;
const pow10 = (n) => 10n ** BigInt(n);
const abs = (m) => (m < 0n ? -m : m);

/** An exact decimal `mantissa × 10^-scale` (BigInt mantissa, |m| < 2^96,
 * scale 0..=28), with the arithmetic of Rust's `rust_decimal`, scales included:
 * `1.50 + 1` is `2.50`, `10 / 3` is `3.3333333333333333333333333333`. */
export class Decimal {
  constructor(mantissa, scale = 0) {
    if (typeof mantissa !== 'bigint') throw new TypeError('Decimal mantissa must be a BigInt');
    if (!Number.isInteger(scale) || scale < 0) throw new RangeError(`bad scale ${scale}`);
    let m = mantissa, s = scale;
    if (s > MAX_SCALE || abs(m) >= TWO_96) [m, s] = fit(m, s);
    this.mantissa = m;
    this.scale = s;
    Object.freeze(this);
  }

  /** A Decimal from a Decimal, a decimal string, a BigInt or a safe integer Number. */
  static from(value) {
    if (value instanceof Decimal) return value;
    if (typeof value === 'bigint') return new Decimal(value, 0);
    if (typeof value === 'string') return Decimal.parse(value);
    if (typeof value === 'number' && Number.isSafeInteger(value)) return new Decimal(BigInt(value), 0);
    throw new TypeError(`not an exact decimal: ${String(value)} (pass a string, not a float)`);
  }

  /** Parses `"-12.340"`, `"1e-5"`, `"2.5E3"`; the scale is kept (`"1.50"` has scale 2). */
  static parse(text) {
    const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(String(text).trim());
    if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw new RangeError(`not a decimal: '${text}'`);
    const [, sign, whole, frac = '', exp = '0'] = match;
    let m = BigInt(whole + frac || '0');
    let s = frac.length - Number(exp);
    if (s < 0) { m *= pow10(-s); s = 0; }
    return new Decimal(sign === '-' ? -m : m, s);
  }

  /** From the WIT record `{mantissaHi: BigInt s64, mantissaLo: BigInt u64, scale}`. */
  static fromWit(record) {
    const hi = BigInt(record.mantissaHi), lo = BigInt(record.mantissaLo), scale = Number(record.scale);
    if (BigInt.asIntN(64, hi) !== hi || BigInt.asUintN(64, lo) !== lo) throw new RangeError('decimal halves out of range');
    const m = (hi << 64n) | lo;
    if (abs(m) >= TWO_96 || scale > MAX_SCALE) {
      throw new RangeError(`decimal out of range (mantissa ${m}, scale ${scale}): the magnitude must fit in 96 bits and the scale be at most 28`);
    }
    return new Decimal(m, scale);
  }

  /** To the WIT record: the two's-complement halves of the 128-bit mantissa. */
  toWit() {
    return { mantissaHi: BigInt.asIntN(64, this.mantissa >> 64n), mantissaLo: BigInt.asUintN(64, this.mantissa), scale: this.scale };
  }

  isZero() { return this.mantissa === 0n; }
  isNegative() { return this.mantissa < 0n; }
  isPositive() { return this.mantissa > 0n; }
  neg() { return new Decimal(-this.mantissa, this.scale); }
  abs() { return new Decimal(abs(this.mantissa), this.scale); }

  /** -1, 0 or 1 as this is below, equal to or above `other`, by value. */
  cmp(other) {
    const o = Decimal.from(other);
    const [a, b] = align(this, o);
    return a < b ? -1 : a > b ? 1 : 0;
  }
  eq(o) { return this.cmp(o) === 0; }
  lt(o) { return this.cmp(o) < 0; }
  lte(o) { return this.cmp(o) <= 0; }
  gt(o) { return this.cmp(o) > 0; }
  gte(o) { return this.cmp(o) >= 0; }
  /** Like Rust's `Ord::min`: this one on a tie. */
  min(other) { const o = Decimal.from(other); return this.cmp(o) <= 0 ? this : o; }
  /** Like Rust's `Ord::max`: the other one on a tie. */
  max(other) { const o = Decimal.from(other); return this.cmp(o) > 0 ? this : o; }

  /** Sum at the larger scale; a zero operand returns the other one as is. */
  add(other) {
    const o = Decimal.from(other);
    if (this.isZero()) return o;
    if (o.isZero()) return this;
    const [a, b, s] = align(this, o);
    return new Decimal(a + b, s);
  }
  sub(other) {
    const o = Decimal.from(other);
    if (this.isZero()) return o.isZero() ? o : o.neg();
    if (o.isZero()) return this;
    const [a, b, s] = align(this, o);
    return new Decimal(a - b, s);
  }
  /** Exact product (scale = sum of scales), rounded half-even to fit 28 digits / 96 bits. */
  mul(other) {
    const o = Decimal.from(other);
    if (this.isZero() || o.isZero()) return ZERO;
    const scale = this.scale + o.scale;
    return scale > MAX_SCALE + 19 ? ZERO : new Decimal(this.mantissa * o.mantissa, scale);
  }
  /** Quotient as rust_decimal computes it: as many digits as fit (scale <= 28, 96 bits),
   * rounded half-even, trailing zeros then partly removed. */
  div(other) {
    const o = Decimal.from(other);
    if (o.isZero()) throw new RangeError('division by zero');
    if (this.isZero()) return ZERO;
    return divide(this, o);
  }
  /** Remainder with the sign of this (Rust's `%`). */
  rem(other) {
    const o = Decimal.from(other);
    if (o.isZero()) throw new RangeError('division by zero');
    if (this.isZero()) return ZERO;
    const c = this.abs().cmp(o.abs());
    if (c === 0) return ZERO;
    if (c < 0) return this;
    const [a, b, s] = align(this, o);
    return new Decimal(a % b, s);
  }
  /** Rounded down (towards -infinity) to a multiple of `step`; unchanged when step <= 0.
   * The host's own rounding (`PluginInstrument::round_quantity_down`). */
  roundDownTo(step) {
    const st = Decimal.from(step);
    if (st.mantissa <= 0n) return this;
    if (st.mantissa === 1n && this.scale <= st.scale) return this;
    const r = this.rem(st);
    const down = this.sub(r);
    return r.isNegative() ? down.sub(st) : down;
  }
  /** Same value, no trailing zeros (`1.500` → `1.5`). */
  normalize() {
    let m = this.mantissa, s = this.scale;
    while (s > 0 && m % 10n === 0n) { m /= 10n; s -= 1; }
    return new Decimal(m, s);
  }
  /** Digits with the scale kept, as Rust prints it: `0.00000001`, `-10749.40`. */
  toString() {
    const digits = abs(this.mantissa).toString().padStart(this.scale + 1, '0');
    const whole = digits.slice(0, digits.length - this.scale);
    const text = this.scale ? `${whole}.${digits.slice(digits.length - this.scale)}` : whole;
    return this.mantissa < 0n ? `-${text}` : text;
  }
  toJSON() { return this.toString(); }
}

const ZERO = new Decimal(0n, 0);
Decimal.ZERO = ZERO;
Decimal.ONE = new Decimal(1n, 0);

function align(a, b) {
  const s = Math.max(a.scale, b.scale);
  return [a.mantissa * pow10(s - a.scale), b.mantissa * pow10(s - b.scale), s];
}

// Rounds `m × 10^-s` half-even to the largest scale that fits.
function fit(m, s) {
  let drop = Math.max(0, s - MAX_SCALE);
  while (abs(roundHalfEven(m, drop)) >= TWO_96) drop += 1;
  if (drop > s) throw new RangeError('decimal overflow: the magnitude exceeds 96 bits');
  return [roundHalfEven(m, drop), s - drop];
}

function roundHalfEven(m, digits) {
  if (digits === 0) return m;
  const p = pow10(digits), a = abs(m);
  let q = a / p;
  const r2 = (a % p) * 2n;
  if (r2 > p || (r2 === p && q % 2n === 1n)) q += 1n;
  return m < 0n ? -q : q;
}

// How many digits the quotient may grow by (rust_decimal's `find_scale`).
function findScale(q, scale) {
  const fits = (x) => q * pow10(x) < TWO_96;
  if (scale <= 19 && fits(9)) return 9;
  let x = Math.min(8, MAX_SCALE - scale);
  while (x > 0 && !fits(x)) x -= 1;
  if (x + scale < 0) throw new RangeError('decimal overflow in division');
  return x;
}

// rust_decimal's division, digit chunk by digit chunk (see its ops/div.rs).
function divide(a, b) {
  const negative = (a.mantissa < 0n) !== (b.mantissa < 0n);
  const den = abs(b.mantissa);
  let q = abs(a.mantissa) / den, r = abs(a.mantissa) % den;
  let scale = a.scale - b.scale, unscale = false;
  while (r !== 0n || scale < 0) {
    let p;
    if (r === 0n) {
      p = Math.min(9, -scale);
    } else {
      unscale = true;
      p = 0;
      if (scale < MAX_SCALE) p = findScale(q, scale);
      if (p === 0) {
        const r2 = r * 2n;
        if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
        if (q >= TWO_96) { q = roundHalfEven(q, 1); scale -= 1; }
        break;
      }
    }
    scale += p;
    const rs = r * pow10(p);
    q = q * pow10(p) + rs / den;
    r = rs % den;
    if (q >= TWO_96) { // one digit too many: drop it, rounding half-even (sticky)
      const last = q % 10n;
      q /= 10n;
      scale -= 1;
      if (last > 5n || (last === 5n && (r !== 0n || q % 2n === 1n))) q += 1n;
      break;
    }
  }
  if (unscale) {
    const low32 = () => q & 0xffffffffn;
    const tryStrip = (n) => { const p = pow10(n); if (q % p === 0n) { q /= p; scale -= n; return true; } return false; };
    while (low32() === 0n && scale >= 8 && tryStrip(8));
    if ((low32() & 0xfn) === 0n && scale >= 4) tryStrip(4);
    if ((low32() & 0x3n) === 0n && scale >= 2) tryStrip(2);
    if ((low32() & 0x1n) === 0n && scale >= 1) tryStrip(1);
  }
  return new Decimal(negative ? -q : q, scale);
}

/** An error a plugin reports instead of a result; `kind` is one of
 * `invalid-params`, `invalid-state`, `invalid-input`, `internal`. Throw it from a callback. */
export class PluginError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = 'PluginError';
    this.kind = kind;
    this.payload = { kind, message }; // what componentize-js lowers as the `err` of a result
  }
}
export const invalidParams = (message) => new PluginError('invalid-params', message);
export const invalidState = (message) => new PluginError('invalid-state', message);
export const invalidInput = (message) => new PluginError('invalid-input', message);
export const internalError = (message) => new PluginError('internal', message);

/** Child-order actions, in the WIT variant shape `{tag, val}` (decimals as `Decimal`).
 * `request`: `{symbol, side, orderType, quantity, price?, triggerPrice?, timeInForce?,
 * clientOrderId?, takeProfit?, stopLoss?, displayQuantity?}`. */
export const place = (request) => ({ tag: 'place', val: request });
export const amend = (clientOrderId, { newPrice, newQuantity } = {}) => ({ tag: 'amend', val: { clientOrderId, newPrice, newQuantity } });
export const cancel = (clientOrderId) => ({ tag: 'cancel', val: clientOrderId });

/** What a callback returns: child-order actions, log lines, running or completed.
 * Builder methods return `this`: `new PluginResult().log('hi').completed()`. */
export class PluginResult {
  constructor() { this.orders = []; this.logs = []; this.state = 'running'; }
  withOrder(action) { this.orders.push(action); return this; }
  withOrders(actions) { this.orders.push(...actions); return this; }
  /** `level`: trace, debug, info, warn or error. */
  withLog(level, message) { this.logs.push({ level, message: String(message) }); return this; }
  log(message) { return this.withLog('info', message); }
  warn(message) { return this.withLog('warn', message); }
  completed() { this.state = 'completed'; return this; }
  isCompleted() { return this.state === 'completed'; }
  isEmpty() { return this.orders.length === 0 && this.logs.length === 0 && !this.isCompleted(); }
}

/** The base class of a plugin; override what you need. One instance runs one
 * algorithm on one symbol. Every callback returns a `PluginResult` (or nothing,
 * meaning an empty one) or throws (`invalidParams(...)` etc.). */
export class Plugin {
  /** `{name, version, description, paramsSchema?}`; `paramsSchema` is a JSON Schema object. */
  metadata() { return { name: this.constructor.name, version: '0.1.0', description: '' }; }
  /** `ctx`: `{algorithmId, signal, risk, params, paramsJson, nowMs}`. */
  init(ctx) { return new PluginResult(); }
  /** `tick`: `{symbol, price, size, aggressor, timestampMs}`. */
  onTick(tick) { return new PluginResult(); }
  /** `fill`: `{clientOrderId, symbol, side, price, quantity, fee, timestampMs}`. */
  onFill(fill) { return new PluginResult(); }
  /** `update`: `{clientOrderId, status, filledQuantity, remainingQuantity, reason, timestampMs}`. */
  onOrderUpdate(update) { return new PluginResult(); }
  /** `timer`: `{nowMs}`, the host's clock. */
  onTimer(timer) { return new PluginResult(); }
  /** The whole state as a JSON-able object (Decimals and BigInts allowed), or null. */
  snapshot() { return null; }
  /** Rebuilds the state from a parsed `snapshot()` in a fresh instance, instead of `init`. */
  restore(snapshot) {}
}

/** JSON text of `value`: Decimals as strings, BigInts as JSON numbers (exact). */
export function toJson(value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Decimal) return JSON.stringify(value.toString());
  if (typeof value === 'object' && typeof value.toJSON === 'function') return toJson(value.toJSON());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : toJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const fields = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

// --- WIT <-> plain shapes -------------------------------------------------
const dec = (d, field) => { try { return Decimal.fromWit(d); } catch (e) { throw invalidInput(`${field}: ${e.message}`); } };
const optDec = (d, field) => (d === undefined || d === null ? undefined : dec(d, field));
const decOut = (d) => (d === undefined || d === null ? undefined : Decimal.from(d).toWit());

export function initContextIn(c) {
  let params;
  try { params = JSON.parse(c.paramsJson); } catch (e) { throw invalidParams(`params are not JSON: ${e.message}`); }
  const s = c.signal, r = c.risk, i = r.instrument;
  return {
    algorithmId: c.algorithmId, params, paramsJson: c.paramsJson, nowMs: BigInt(c.nowMs),
    signal: { ...s, targetQuantity: dec(s.targetQuantity, 'signal.target_quantity'), stopLoss: optDec(s.stopLoss, 'signal.stop_loss'), takeProfit: optDec(s.takeProfit, 'signal.take_profit') },
    risk: {
      lastPrice: dec(r.lastPrice, 'risk.last_price'), equity: dec(r.equity, 'risk.equity'), position: dec(r.position, 'risk.position'),
      balances: r.balances.map((b) => ({ asset: b.asset, available: dec(b.available, 'risk.balances.available') })),
      instrument: { tickSize: dec(i.tickSize, 'instrument.tick_size'), lotSize: dec(i.lotSize, 'instrument.lot_size'), minQuantity: dec(i.minQuantity, 'instrument.min_quantity'), minNotional: dec(i.minNotional, 'instrument.min_notional') },
      maxOrderQuantity: optDec(r.maxOrderQuantity, 'risk.max_order_quantity'),
    },
  };
}
export const tickIn = (t, symbol) => ({ symbol, price: dec(t.price, 'tick.price'), size: dec(t.size, 'tick.size'), aggressor: t.aggressor ?? undefined, timestampMs: BigInt(t.timestampMs) });
export const fillIn = (f) => ({ ...f, price: dec(f.price, 'fill.price'), quantity: dec(f.quantity, 'fill.quantity'), fee: dec(f.fee, 'fill.fee'), timestampMs: BigInt(f.timestampMs) });
export const orderUpdateIn = (u) => ({ ...u, reason: u.reason ?? undefined, filledQuantity: dec(u.filledQuantity, 'order_update.filled_quantity'), remainingQuantity: dec(u.remainingQuantity, 'order_update.remaining_quantity'), timestampMs: BigInt(u.timestampMs) });

function actionOut(a) {
  const v = a.val;
  if (a.tag === 'cancel') return { tag: 'cancel', val: String(v) };
  if (a.tag === 'amend') return { tag: 'amend', val: { clientOrderId: v.clientOrderId, newPrice: decOut(v.newPrice), newQuantity: decOut(v.newQuantity) } };
  if (a.tag !== 'place') throw new TypeError(`unknown child-order action '${a.tag}'`);
  return { tag: 'place', val: { symbol: v.symbol, side: v.side, orderType: v.orderType, quantity: decOut(v.quantity), price: decOut(v.price), triggerPrice: decOut(v.triggerPrice), timeInForce: v.timeInForce ?? undefined, clientOrderId: v.clientOrderId ?? undefined, takeProfit: decOut(v.takeProfit), stopLoss: decOut(v.stopLoss), displayQuantity: decOut(v.displayQuantity) } };
}
export const resultOut = (r) => ({ orders: r.orders.map(actionOut), logs: r.logs.map((l) => ({ level: l.level, message: l.message })), state: r.state });

function asError(e, callback) {
  if (e instanceof PluginError) return e;
  const detail = e instanceof Error ? (e.stack && e.stack.includes(e.message) ? e.stack : `${e}\n${e.stack ?? ''}`) : String(e);
  return internalError(`plugin threw in ${callback}: ${detail}`);
}

/** The object the plugin module exports as `guest`: the WIT interface over one
 * `PluginClass` instance, with the idle/ready + take-result protocol and the
 * lifecycle checks (init or restore first, nothing after completion; an
 * exception makes the instance unusable). */
export function exportPlugin(PluginClass) {
  let plugin = null, phase = 'created', poison = '', symbol = '', pending = null;
  const instance = () => (plugin ??= new PluginClass());
  const fail = (e, callback) => {
    const error = asError(e, callback);
    if (!(e instanceof PluginError)) { phase = 'poisoned'; poison = error.message; }
    return error;
  };
  const answer = (outcome) => {
    if (outcome instanceof PluginError) { pending = { error: outcome }; return 'ready'; }
    const result = outcome ?? new PluginResult();
    if (!(result instanceof PluginResult)) Object.setPrototypeOf(result, PluginResult.prototype);
    if (result.isEmpty()) { pending = null; return 'idle'; }
    if (result.isCompleted()) phase = 'completed';
    pending = { result };
    return 'ready';
  };
  const event = (callback, convert) => (raw) => {
    if (phase !== 'running') {
      const why = { created: `${callback} before init: call init (or restore) first`, completed: `${callback} after the algorithm completed`, poisoned: `plugin unusable after an exception: ${poison}` };
      return answer(invalidState(why[phase]));
    }
    let input;
    try { input = convert(raw); } catch (e) { return answer(asError(e, callback)); }
    try { return answer(instance()[callback](input)); } catch (e) { return answer(fail(e, callback)); }
  };
  return {
    abiVersion: () => ({ major: 2, minor: 0, patch: 0 }),
    metadata() {
      const m = instance().metadata();
      return { name: m.name, version: m.version, description: m.description ?? '', paramsSchemaJson: m.paramsSchema ? JSON.stringify(m.paramsSchema) : undefined };
    },
    init(raw) {
      if (phase !== 'created') return answer(invalidState('init called twice: an instance runs one algorithm'));
      phase = 'running';
      let ctx;
      try { ctx = initContextIn(raw); symbol = ctx.signal.symbol; } catch (e) { return answer(asError(e, 'init')); }
      try { return answer(instance().init(ctx)); } catch (e) { return answer(fail(e, 'init')); }
    },
    onTick: event('onTick', (t) => tickIn(t, symbol)),
    onFill: event('onFill', fillIn),
    onOrderUpdate: event('onOrderUpdate', orderUpdateIn),
    onTimer: event('onTimer', (t) => ({ nowMs: BigInt(t.nowMs) })),
    takeResult() {
      const p = pending;
      pending = null;
      if (!p) throw invalidState('take-result with no result waiting: call it once after a callback answers `ready`');
      if (p.error) throw p.error;
      try { return resultOut(p.result); } catch (e) { throw asError(e, 'take-result'); }
    },
    snapshot() {
      if (phase === 'poisoned') throw invalidState(`plugin unusable after an exception: ${poison}`);
      try { return toJson(instance().snapshot() ?? null); } catch (e) { throw fail(e, 'snapshot'); }
    },
    restore(ctx) {
      if (phase !== 'created') throw invalidState('restore must be the first call of a fresh instance');
      let value;
      try { value = JSON.parse(ctx.snapshotJson); } catch (e) { throw invalidInput(`snapshot is not JSON: ${e.message}`); }
      phase = 'running';
      symbol = ctx.symbol;
      try { instance().restore(value, { algorithmId: ctx.algorithmId, symbol: ctx.symbol }); } catch (e) { throw fail(e, 'restore'); }
    },
  };
}
