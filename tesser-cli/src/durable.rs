//! The paper exchange made durable across a killed process.
//!
//! The orchestrator commits its own state (algorithms, child orders, fill
//! journal, snapshots) to the state file as it goes, and reconciles with the
//! exchange when it opens: an order it meant to send but the exchange never
//! got is sent again under the same id, and what the exchange did that it
//! never heard of (acks, fills, cancels) is delivered. That recovery is exact
//! only if the exchange is never *behind* the orchestrator, so
//! [`DurablePaper`] writes the paper exchange, the replay position and the
//! list of every order id it received to the state file after each change a
//! restart must not lose, before the orchestrator hears of it:
//!
//! - after every place, amend and cancel;
//! - after a trade print that filled, expired or moved orders (any print
//!   while orders rest, as it moves their place in the queue);
//! - otherwise at most every [`SAVE_EVERY`], since a print against an empty
//!   book only moves the last price, which replaying the print restores.
//!
//! A process killed at any instant (SIGKILL included) therefore restarts with
//! an exchange at least as far as the orchestrator, and resumes the data
//! right after the last print the exchange saw.

use std::time::{Duration, Instant};

use tesser_core::{
    AmendRequest, ClientOrderId, ExchangeClient, ExchangeError, ExchangeEvent, Fill, Order,
    OrderRequest, Tick,
};
use tesser_execution::{StateStore, StoreError};
use tesser_paper::PaperExchange;

/// Key of the paper exchange's saved state in the state store.
pub const PAPER_STATE_KEY: &str = "paper_exchange";
/// Key of the replay position in the state store.
pub const CURSOR_KEY: &str = "data_cursor";
/// Key of the list of every client order id the exchange received.
pub const RECEIVED_KEY: &str = "paper_received_orders";
/// Longest time an unsaved print against an empty book stays unsaved.
pub const SAVE_EVERY: Duration = Duration::from_millis(500);

/// Where the replay stands: the data source and how many of its prints the
/// exchange has matched.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    /// The data file (or `-`).
    pub source: String,
    /// Prints of it the exchange has seen.
    pub ticks: u64,
}

/// What [`DurablePaper::open`] found in the state file.
#[derive(Debug)]
pub struct Restored {
    /// The exchange, ready to use.
    pub exchange: DurablePaper,
    /// The saved position, when the state file had one.
    pub cursor: Option<Cursor>,
}

/// A [`PaperExchange`] that saves itself to the state file; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct DurablePaper {
    inner: PaperExchange,
    store: StateStore,
    cursor: Cursor,
    received: Vec<ClientOrderId>,
    /// A print changed state that is not saved yet.
    dirty: bool,
    /// The last print may have moved resting orders: save after its events.
    save_after_events: bool,
    last_save: Instant,
    scratch: Vec<ExchangeEvent>,
    /// The first save that failed; the run must stop (see [`Self::check`]).
    failure: Option<StoreError>,
}

impl DurablePaper {
    /// Opens the exchange saved in `store` (a connection of its own to the
    /// state file), or `fresh` when none is saved, replaying `source`.
    ///
    /// # Errors
    /// The store failed or holds a value that does not parse.
    pub fn open(
        store: StateStore,
        fresh: PaperExchange,
        source: &str,
    ) -> Result<Restored, StoreError> {
        let corrupt = |key: &str, error: serde_json::Error| StoreError::Corrupt {
            path: store.path().to_owned(),
            what: key.to_owned(),
            detail: format!("{error}; move the state file away to start afresh"),
        };
        let inner = match store.meta(PAPER_STATE_KEY)? {
            Some(json) => serde_json::from_str(&json).map_err(|e| corrupt(PAPER_STATE_KEY, e))?,
            None => fresh,
        };
        let cursor: Option<Cursor> = store
            .meta(CURSOR_KEY)?
            .map(|json| serde_json::from_str(&json).map_err(|e| corrupt(CURSOR_KEY, e)))
            .transpose()?;
        let received = store
            .meta(RECEIVED_KEY)?
            .map(|json| serde_json::from_str(&json).map_err(|e| corrupt(RECEIVED_KEY, e)))
            .transpose()?
            .unwrap_or_default();
        let ticks = cursor
            .as_ref()
            .filter(|c| c.source == source)
            .map_or(0, |c| c.ticks);
        Ok(Restored {
            exchange: Self {
                inner,
                store,
                cursor: Cursor {
                    source: source.to_owned(),
                    ticks,
                },
                received,
                dirty: false,
                save_after_events: false,
                last_save: Instant::now(),
                scratch: Vec::new(),
                failure: None,
            },
            cursor,
        })
    }

    /// Fails when a save failed; the run must stop then, and a restart
    /// resumes from the last save.
    ///
    /// # Errors
    /// The first save that failed.
    pub fn check(&mut self) -> Result<(), StoreError> {
        self.failure.take().map_or(Ok(()), Err)
    }

    /// Saves what is not saved yet.
    ///
    /// # Errors
    /// The store failed.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        self.check()?;
        if self.dirty {
            self.save_current()?;
        }
        Ok(())
    }

    /// Saves the exchange as it is.
    fn save_current(&mut self) -> Result<(), StoreError> {
        write_state(&mut self.store, &self.inner, &self.cursor, &self.received)?;
        self.dirty = false;
        self.last_save = Instant::now();
        Ok(())
    }

    /// Saves after a request: the exchange may hold events not yet polled,
    /// which a restart must not deliver twice (reconciliation recovers them
    /// from the orders and fills), so a copy without them is saved.
    fn save_after_request(&mut self) {
        if self.failure.is_some() {
            return;
        }
        let mut copy = self.inner.clone();
        copy.poll_events(&mut self.scratch);
        self.scratch.clear();
        match write_state(&mut self.store, &copy, &self.cursor, &self.received) {
            Ok(()) => {
                self.dirty = false;
                self.last_save = Instant::now();
            }
            Err(error) => self.failure = Some(error),
        }
    }
}

/// Writes the exchange, the cursor and the received ids in one transaction.
fn write_state(
    store: &mut StateStore,
    exchange: &PaperExchange,
    cursor: &Cursor,
    received: &[ClientOrderId],
) -> Result<(), StoreError> {
    let encode = |what: &str, value: Result<String, serde_json::Error>| {
        value.map_err(|error| StoreError::Corrupt {
            path: store.path().to_owned(),
            what: what.to_owned(),
            detail: format!("cannot encode: {error}"),
        })
    };
    let exchange = encode(PAPER_STATE_KEY, serde_json::to_string(exchange))?;
    let cursor = encode(CURSOR_KEY, serde_json::to_string(cursor))?;
    let received = encode(RECEIVED_KEY, serde_json::to_string(received))?;
    let tx = store.begin()?;
    tx.set_meta(PAPER_STATE_KEY, &exchange)?;
    tx.set_meta(CURSOR_KEY, &cursor)?;
    tx.set_meta(RECEIVED_KEY, &received)?;
    tx.commit()
}

impl ExchangeClient for DurablePaper {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn place_order(&mut self, request: OrderRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        self.received.push(request.client_order_id.clone());
        let result = self.inner.place_order(request, now_ms);
        self.save_after_request();
        result
    }

    fn amend_order(&mut self, amend: &AmendRequest, now_ms: i64) -> Result<Order, ExchangeError> {
        let result = self.inner.amend_order(amend, now_ms);
        self.save_after_request();
        result
    }

    fn cancel_order(
        &mut self,
        client_order_id: &ClientOrderId,
        now_ms: i64,
    ) -> Result<Order, ExchangeError> {
        let result = self.inner.cancel_order(client_order_id, now_ms);
        self.save_after_request();
        result
    }

    fn order(&self, client_order_id: &ClientOrderId) -> Result<Option<Order>, ExchangeError> {
        self.inner.order(client_order_id)
    }

    fn open_orders(&self) -> Result<Vec<Order>, ExchangeError> {
        self.inner.open_orders()
    }

    fn order_fills(&self, client_order_id: &ClientOrderId) -> Result<Vec<Fill>, ExchangeError> {
        self.inner.order_fills(client_order_id)
    }

    fn on_market_tick(&mut self, tick: &Tick) {
        self.save_after_events = self.inner.has_open_orders();
        self.inner.on_market_tick(tick);
        self.cursor.ticks += 1;
        self.dirty = true;
    }

    fn poll_events(&mut self, out: &mut Vec<ExchangeEvent>) {
        let before = out.len();
        self.inner.poll_events(out);
        let due = self.dirty && self.last_save.elapsed() >= SAVE_EVERY;
        if (out.len() > before || self.save_after_events || due) && self.failure.is_none() {
            self.save_after_events = false;
            if let Err(error) = self.save_current() {
                self.failure = Some(error);
            }
        }
    }
}
