//! The twin's account: each asset's free and locked balance, what each open
//! order locks, and the `outboundAccountPosition` and `balanceUpdate`
//! events (`user-data-stream.md`).
//!
//! A placement locks what the order can spend: a `BUY` its limit price ×
//! quantity of the quote asset (a `MARKET` buy: the price it is expected to
//! fill at), a `SELL` its quantity of the base asset. A placement the free
//! balance cannot cover is refused with `-2010 Account has insufficient
//! balance for requested action.` (`errors.md`, "Messages for -1010
//! ERROR_MSG_RECEIVED, -2010 NEW_ORDER_REJECTED, …"), after the filters.
//! Each execution of `qty` uses `per_unit × qty` of its order's lock: a
//! buyer pays price × qty of it and the rest (a taker buy filling below its
//! limit) goes back to free; the received asset is credited free and the
//! commission debited from its asset. Whatever an order still locks when it
//! ends (filled, canceled, expired) or shrinks (keep-priority amend) goes
//! back to free.
//!
//! Every change marks its asset; [`Account::position_event`] then reports
//! the marked assets once, after the `executionReport`s of the same action
//! (the order `faqs/market_orders_faq.md` shows).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::Decimal;
use serde_json::{Value, json};

use tesser_core::Side;

use super::book::Arrival;
use super::{ApiError, Engine, NewOrder, Output, fmt8};

/// One asset's balance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Balance {
    free: Decimal,
    locked: Decimal,
}

/// What one open order locks.
#[derive(Debug, Clone)]
struct Lock {
    /// The locked asset.
    asset: String,
    /// Locked per unit of the order's quantity: the buy's price, or 1 for a
    /// sell.
    per_unit: Decimal,
    /// Still locked.
    amount: Decimal,
}

/// One execution as the account sees it.
#[derive(Debug, Clone)]
pub struct Execution<'a> {
    /// The order's id.
    pub order_id: i64,
    /// Whether the account bought.
    pub buyer: bool,
    /// The symbol's base asset.
    pub base: &'a str,
    /// The symbol's quote asset.
    pub quote: &'a str,
    /// Execution price.
    pub price: Decimal,
    /// Executed quantity.
    pub qty: Decimal,
    /// Commission charged.
    pub commission: Decimal,
    /// The commission's asset.
    pub commission_asset: &'a str,
}

/// The twin's spot account.
#[derive(Debug, Default)]
pub struct Account {
    balances: BTreeMap<String, Balance>,
    locks: HashMap<i64, Lock>,
    /// Assets changed since the last [`Account::position_event`].
    changed: BTreeSet<String>,
    /// Time of the last change, milliseconds.
    update_time: i64,
}

/// The documented refusal of an order the free balance cannot pay.
pub(crate) fn insufficient_balance() -> ApiError {
    ApiError::bad(
        -2010,
        "Account has insufficient balance for requested action.",
    )
}

impl Account {
    /// An account listing `assets` (at zero unless credited).
    pub fn with_assets<'a>(assets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut account = Self::default();
        for asset in assets {
            account.balances.entry(asset.to_owned()).or_default();
        }
        account
    }

    /// Sets the time of the last change (the account's start).
    pub fn set_update_time(&mut self, now: i64) {
        self.update_time = now;
    }

    /// Credits `amount` to `asset`'s free balance at start (no event).
    pub fn credit_initial(&mut self, asset: &str, amount: Decimal) {
        self.balances.entry(asset.to_owned()).or_default().free += amount;
    }

    /// `asset`'s free and locked balance (zero for an asset never held).
    #[must_use]
    pub fn balance(&self, asset: &str) -> (Decimal, Decimal) {
        self.balances
            .get(asset)
            .map_or((Decimal::ZERO, Decimal::ZERO), |b| (b.free, b.locked))
    }

    /// `asset`'s free balance.
    #[must_use]
    pub fn free(&self, asset: &str) -> Decimal {
        self.balance(asset).0
    }

    /// Whether the free balance of `asset` covers `amount`.
    ///
    /// # Errors
    /// `-2010 Account has insufficient balance for requested action.`
    pub fn check(&self, asset: &str, amount: Decimal) -> Result<(), ApiError> {
        if amount > self.free(asset) {
            return Err(insufficient_balance());
        }
        Ok(())
    }

    fn entry(&mut self, asset: &str, now: i64) -> &mut Balance {
        self.changed.insert(asset.to_owned());
        self.update_time = now;
        self.balances.entry(asset.to_owned()).or_default()
    }

    /// Locks `per_unit × qty` of `asset` for order `order_id` (checked with
    /// [`Account::check`] first).
    pub fn lock(&mut self, order_id: i64, asset: &str, per_unit: Decimal, qty: Decimal, now: i64) {
        let amount = per_unit * qty;
        if !amount.is_zero() {
            let balance = self.entry(asset, now);
            balance.free -= amount;
            balance.locked += amount;
        }
        self.locks.insert(
            order_id,
            Lock {
                asset: asset.to_owned(),
                per_unit,
                amount,
            },
        );
    }

    /// Moves an execution's assets: the payer's side from its order's lock
    /// (beyond it, from free), the received asset to free, the commission
    /// out of its asset's free balance.
    pub fn execute(&mut self, execution: &Execution<'_>, now: i64) {
        let (paid_asset, paid, received_asset, received) = if execution.buyer {
            (
                execution.quote,
                execution.price * execution.qty,
                execution.base,
                execution.qty,
            )
        } else {
            (
                execution.base,
                execution.qty,
                execution.quote,
                execution.price * execution.qty,
            )
        };
        let from_lock = match self.locks.get_mut(&execution.order_id) {
            Some(lock) if lock.asset == paid_asset => {
                let used = (lock.per_unit * execution.qty).min(lock.amount);
                lock.amount -= used;
                used
            }
            _ => Decimal::ZERO,
        };
        let balance = self.entry(paid_asset, now);
        balance.locked -= from_lock;
        // What the lock held beyond the payment goes back; what it lacked
        // comes from free.
        balance.free += from_lock - paid;
        self.entry(received_asset, now).free += received;
        if !execution.commission.is_zero() {
            self.entry(execution.commission_asset, now).free -= execution.commission;
        }
    }

    /// Keeps at most `per_unit × remaining_qty` locked for `order_id` and
    /// frees the rest; a `remaining_qty` of zero ends the lock.
    pub fn keep_locked(&mut self, order_id: i64, remaining_qty: Decimal, now: i64) {
        let Some(lock) = self.locks.get_mut(&order_id) else {
            return;
        };
        let keep = (lock.per_unit * remaining_qty).min(lock.amount);
        let freed = lock.amount - keep;
        lock.amount = keep;
        let asset = lock.asset.clone();
        if remaining_qty <= Decimal::ZERO {
            self.locks.remove(&order_id);
        }
        if !freed.is_zero() {
            let balance = self.entry(&asset, now);
            balance.locked -= freed;
            balance.free += freed;
        }
    }

    /// The order ids that still lock something.
    pub fn locking_orders(&self) -> Vec<i64> {
        self.locks.keys().copied().collect()
    }

    /// Credits a deposit to `asset`'s free balance; returns the
    /// `balanceUpdate` event (`user-data-stream.md`, "Balance Update").
    pub fn deposit(&mut self, asset: &str, amount: Decimal, now: i64) -> Value {
        self.entry(asset, now).free += amount;
        json!({"e": "balanceUpdate", "E": now, "a": asset, "d": fmt8(amount), "T": now})
    }

    /// The `outboundAccountPosition` event of the assets changed since the
    /// last one (`user-data-stream.md`, "Account Update"), or `None` when
    /// nothing changed.
    pub fn position_event(&mut self, now: i64) -> Option<Value> {
        if self.changed.is_empty() {
            return None;
        }
        let changed = std::mem::take(&mut self.changed);
        let balances: Vec<Value> = changed
            .iter()
            .map(|asset| {
                let (free, locked) = self.balance(asset);
                json!({"a": asset, "f": fmt8(free), "l": fmt8(locked)})
            })
            .collect();
        Some(json!({
            "e": "outboundAccountPosition",
            "E": now,
            "u": self.update_time,
            "B": balances
        }))
    }

    /// The `balances` of `GET /api/v3/account`, by asset name; only the
    /// non-zero ones when `omit_zero` (`omitZeroBalances=true`).
    #[must_use]
    pub fn balances_json(&self, omit_zero: bool) -> Vec<Value> {
        self.balances
            .iter()
            .filter(|(_, b)| !omit_zero || !b.free.is_zero() || !b.locked.is_zero())
            .map(|(asset, b)| {
                json!({"asset": asset, "free": fmt8(b.free), "locked": fmt8(b.locked)})
            })
            .collect()
    }

    /// Time of the last change (0 before any).
    #[must_use]
    pub fn update_time(&self) -> i64 {
        self.update_time
    }
}

/// The engine's side of the account: what a placement locks, what an
/// execution moves, and the end of an action.
impl Engine {
    /// Ends an action: frees what ended orders still lock, and adds the
    /// `outboundAccountPosition` of the assets the action changed (if any)
    /// after its reports.
    pub fn finish(&mut self, now: i64, out: &mut Output) {
        for order_id in self.account.locking_orders() {
            let open = self
                .order_position(order_id)
                .is_some_and(|position| self.orders[position].is_open());
            if !open {
                self.account.keep_locked(order_id, Decimal::ZERO, now);
            }
        }
        if let Some(event) = self.account.position_event(now) {
            out.account.push(event);
        }
    }

    /// The position of order `order_id` in [`Engine::orders`].
    fn order_position(&self, order_id: i64) -> Option<usize> {
        // Ids are given in acceptance order from 1, so the id points at it.
        usize::try_from(order_id - 1)
            .ok()
            .filter(|&p| self.orders.get(p).is_some_and(|o| o.order_id == order_id))
            .or_else(|| self.orders.iter().position(|o| o.order_id == order_id))
    }

    /// What a new order locks, per unit of quantity, and in which asset: a
    /// `SELL` its quantity of the base asset; a `BUY` its limit price (a
    /// `MARKET` buy: the touch it takes from, else the reference price; a
    /// stop buy without a limit: its stop price) of the quote asset.
    pub(super) fn lock_rate(&self, new: &NewOrder, arrival: &Arrival) -> (String, Decimal) {
        if new.side == Side::Sell {
            return (new.rules.base_asset.clone(), Decimal::ONE);
        }
        let per_unit = match (new.price, arrival) {
            (Some(price), _) => price,
            (None, Arrival::Take { price, .. }) => *price,
            (None, Arrival::Paper) if new.order_type == "MARKET" => {
                self.reference_price(&new.symbol).unwrap_or(Decimal::ZERO)
            }
            (None, Arrival::Paper) => new.stop_price.unwrap_or(Decimal::ZERO),
        };
        (new.rules.quote_asset.clone(), per_unit)
    }

    /// Moves the account's assets for an execution of the order at
    /// `position`.
    pub(super) fn settle(
        &mut self,
        position: usize,
        price: Decimal,
        qty: Decimal,
        commission: (Decimal, &str),
        now: i64,
    ) {
        let Some(order) = self.orders.get(position) else {
            return;
        };
        let Some(rules) = self.symbols.get(&order.symbol) else {
            return;
        };
        let execution = Execution {
            order_id: order.order_id,
            buyer: order.side == Side::Buy,
            base: &rules.base_asset,
            quote: &rules.quote_asset,
            price,
            qty,
            commission: commission.0,
            commission_asset: commission.1,
        };
        self.account.execute(&execution, now);
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    fn d(value: i64) -> Decimal {
        Decimal::from(value)
    }

    #[test]
    fn a_buy_filling_below_its_limit_frees_the_difference() {
        let mut account = Account::with_assets(["BTC", "USDT"]);
        account.credit_initial("USDT", d(1000));
        account.lock(1, "USDT", d(100), d(5), 1);
        assert_eq!(account.balance("USDT"), (d(500), d(500)));
        account.execute(
            &Execution {
                order_id: 1,
                buyer: true,
                base: "BTC",
                quote: "USDT",
                price: d(90),
                qty: d(2),
                commission: Decimal::new(2, 3),
                commission_asset: "BTC",
            },
            2,
        );
        // 200 of the lock used: 180 paid, 20 back to free.
        assert_eq!(account.balance("USDT"), (d(520), d(300)));
        assert_eq!(account.balance("BTC"), (Decimal::new(1998, 3), d(0)));
        account.keep_locked(1, d(0), 3);
        assert_eq!(account.balance("USDT"), (d(820), d(0)));
        assert!(account.locking_orders().is_empty());
        let event = account.position_event(3).expect("changed");
        assert_eq!(event["B"].as_array().map(Vec::len), Some(2));
        assert!(account.position_event(4).is_none());
    }

    #[test]
    fn the_free_balance_must_cover_a_placement() {
        let mut account = Account::with_assets(["BTC"]);
        account.credit_initial("BTC", d(1));
        assert!(account.check("BTC", d(1)).is_ok());
        assert_eq!(account.check("BTC", d(2)), Err(insufficient_balance()));
        assert_eq!(account.balances_json(true).len(), 1);
    }
}
