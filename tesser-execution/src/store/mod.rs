//! Crash-safe state: algorithms, their child orders and the fill journal.
//!
//! The orchestrator commits a plugin's snapshot together with the child
//! actions the same callback produced, in one transaction, *before* the
//! actions go to the exchange. After a crash, every working algorithm is
//! restored from its last snapshot and its child orders are reconciled with
//! the exchange by client order id, so nothing is sent twice and nothing is
//! forgotten.
//!
//! One type, two backends with the same tables and rules:
//! * a SQLite file in WAL mode ([`StateStore::open`]), which `live run`
//!   keeps and a restart reads back (`sqlite.rs`);
//! * memory ([`StateStore::open_in_memory`]), for the lab and tests, where
//!   nothing outlives the process and so nothing needs SQL, text encoding
//!   or a page cache (`memory.rs`). A plugin that traps is still restarted
//!   from its last committed snapshot, as with a file.

mod memory;
mod sqlite;
#[cfg(test)]
mod tests;

use std::path::Path;

use rust_decimal::Decimal;
use tesser_core::{AmendRequest, ClientOrderId, Fill, OrderRequest, OrderStatus, Side, Symbol};

use self::memory::{MEMORY_PATH, MemoryStore, MemoryTx};
use self::sqlite::{SqliteStore, SqliteTx};
use crate::AlgorithmStatus;

/// Version of the database layout. A version-1 file (before the completion
/// grace) is upgraded in place; any other version is refused.
pub const SCHEMA_VERSION: i64 = 2;

/// A state-store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("state store {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by another version of Tesser.
    #[error(
        "state store {path} has schema version {found}, this build needs {SCHEMA_VERSION}; use a new --state-path or migrate the file"
    )]
    SchemaVersion {
        /// The database file.
        path: String,
        /// The version found.
        found: i64,
    },
    /// A write broke a rule of the tables: a duplicate algorithm id or
    /// sequence number, or a child order of an algorithm not stored.
    #[error("state store {path}: {detail}")]
    Constraint {
        /// The database file (or `:memory:`).
        path: String,
        /// Which rule, and the row that broke it.
        detail: String,
    },
    /// A stored value could not be decoded.
    #[error("state store {path}: corrupt {what}: {detail}")]
    Corrupt {
        /// The database file.
        path: String,
        /// Which value.
        what: String,
        /// What is wrong.
        detail: String,
    },
}

/// What the plugin knows about a child order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildState {
    /// Committed but not yet acknowledged by the exchange; after a crash it
    /// may or may not have reached it.
    PendingNew,
    /// The last state reported to the plugin.
    Known(OrderStatus),
}

impl ChildState {
    fn as_str(self) -> &'static str {
        match self {
            Self::PendingNew => "pending_new",
            Self::Known(status) => status.as_str(),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending_new" => Self::PendingNew,
            "accepted" => Self::Known(OrderStatus::Accepted),
            "partially_filled" => Self::Known(OrderStatus::PartiallyFilled),
            "filled" => Self::Known(OrderStatus::Filled),
            "cancelled" => Self::Known(OrderStatus::Cancelled),
            "rejected" => Self::Known(OrderStatus::Rejected),
            "expired" => Self::Known(OrderStatus::Expired),
            _ => return None,
        })
    }

    /// Whether the order may still be working on the exchange.
    #[must_use]
    pub const fn may_be_open(self) -> bool {
        match self {
            Self::PendingNew => true,
            Self::Known(status) => status.is_open(),
        }
    }
}

/// A stored algorithm.
#[derive(Debug, Clone, PartialEq)]
pub struct AlgorithmRow {
    /// Its id, e.g. `algo-1`.
    pub id: String,
    /// Sequence number the id was made from.
    pub seq: u64,
    /// Plugin (algorithm) name.
    pub plugin: String,
    /// Symbol.
    pub symbol: Symbol,
    /// Side of its child orders.
    pub side: Side,
    /// Target quantity.
    pub target: Decimal,
    /// Status.
    pub status: AlgorithmStatus,
    /// Why it ended, when it did not complete.
    pub reason: Option<String>,
    /// The parent signal, as JSON.
    pub signal_json: String,
    /// The `init` context, as JSON.
    pub init_context_json: String,
    /// The last snapshot, once `init` returned.
    pub snapshot: Option<String>,
    /// Sequence number of its next child order.
    pub next_child_seq: u64,
    /// Creation time (data clock).
    pub created_ms: i64,
    /// Last change (data clock).
    pub updated_ms: i64,
    /// While it is `finishing`: the data time at which the completion grace
    /// runs out and its open child orders are cancelled.
    pub finish_by_ms: Option<i64>,
}

/// What a batch records of a stored algorithm
/// ([`StoreTx::update_algorithm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlgorithmUpdate<'a> {
    /// The algorithm's id.
    pub id: &'a str,
    /// Its plugin's new snapshot; `None` keeps the stored one.
    pub snapshot: Option<&'a str>,
    /// Sequence number of its next child order.
    pub next_child_seq: u64,
    /// Its status.
    pub status: AlgorithmStatus,
    /// Why it ended, when it did not complete.
    pub reason: Option<&'a str>,
    /// The change's data time.
    pub updated_ms: i64,
}

/// A stored child order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildOrderRow {
    /// The order as requested (amendments applied once acknowledged).
    pub request: OrderRequest,
    /// The algorithm that owns it.
    pub algorithm_id: String,
    /// What the plugin knows of it.
    pub state: ChildState,
    /// Filled quantity the plugin has been told about.
    pub filled: Decimal,
    /// An amendment committed but not yet acknowledged.
    pub pending_amend: Option<AmendRequest>,
    /// Whether a cancel was committed for it.
    pub cancel_requested: bool,
    /// Last change (data clock).
    pub updated_ms: i64,
}

/// A fill in the journal, with the algorithm it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalFill {
    /// The algorithm.
    pub algorithm_id: String,
    /// The fill.
    pub fill: Fill,
}

/// The state store: a SQLite file, or the same tables in memory.
pub struct StateStore {
    backend: Backend,
}

enum Backend {
    Sqlite(SqliteStore),
    Memory(MemoryStore),
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateStore")
            .field("path", &self.path())
            .finish_non_exhaustive()
    }
}

impl StateStore {
    /// Opens (creating if needed) the SQLite database at `path`, in WAL
    /// mode.
    ///
    /// # Errors
    /// The file cannot be opened, or holds another schema version.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Ok(Self {
            backend: Backend::Sqlite(SqliteStore::open(path)?),
        })
    }

    /// An empty store in memory, lost when dropped: for replays and tests.
    /// It keeps the file's rules (unique ids, a child order belongs to a
    /// stored algorithm, a fill is journaled once, an uncommitted
    /// transaction leaves nothing) without SQL.
    ///
    /// # Errors
    /// None today; the `Result` keeps the signature of [`Self::open`].
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Ok(Self {
            backend: Backend::Memory(MemoryStore::new()),
        })
    }

    /// The database file, or `:memory:`.
    #[must_use]
    pub fn path(&self) -> &str {
        match &self.backend {
            Backend::Sqlite(store) => store.path(),
            Backend::Memory(_) => MEMORY_PATH,
        }
    }

    /// Starts a transaction; nothing is written until [`StoreTx::commit`],
    /// and dropping the transaction discards its writes.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn begin(&mut self) -> Result<StoreTx<'_>, StoreError> {
        Ok(StoreTx {
            backend: match &mut self.backend {
                Backend::Sqlite(store) => TxBackend::Sqlite(store.begin()?),
                Backend::Memory(store) => TxBackend::Memory(store.begin()),
            },
        })
    }

    /// A value of the key-value table.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.meta(key),
            Backend::Memory(store) => Ok(store.meta(key)),
        }
    }

    /// The sequence number the next algorithm id is made from.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn next_algorithm_seq(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.next_algorithm_seq(),
            Backend::Memory(store) => Ok(store.next_algorithm_seq()),
        }
    }

    /// Every stored algorithm, oldest first.
    ///
    /// # Errors
    /// SQLite failed or a row is corrupt.
    pub fn algorithms(&self) -> Result<Vec<AlgorithmRow>, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.algorithms(),
            Backend::Memory(store) => Ok(store.algorithms()),
        }
    }

    /// Every stored child order, in the order they were created.
    ///
    /// # Errors
    /// SQLite failed or a row is corrupt.
    pub fn child_orders(&self) -> Result<Vec<ChildOrderRow>, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.child_orders(),
            Backend::Memory(store) => Ok(store.child_orders()),
        }
    }

    /// The fill journal, in the order fills were recorded.
    ///
    /// # Errors
    /// SQLite failed or a row is corrupt.
    pub fn fills(&self) -> Result<Vec<JournalFill>, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.fills(),
            Backend::Memory(store) => Ok(store.fills()),
        }
    }

    /// Whether the journal holds the fill `fill_id`.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn has_fill(&self, fill_id: &str) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.has_fill(fill_id),
            Backend::Memory(store) => Ok(store.has_fill(fill_id)),
        }
    }
}

/// A write transaction on the [`StateStore`]. Dropping it without
/// [`Self::commit`] discards everything written in it.
pub struct StoreTx<'a> {
    backend: TxBackend<'a>,
}

enum TxBackend<'a> {
    Sqlite(SqliteTx<'a>),
    Memory(MemoryTx<'a>),
}

impl StoreTx<'_> {
    /// Inserts a new algorithm.
    ///
    /// # Errors
    /// The id or sequence number exists, or SQLite failed.
    pub fn insert_algorithm(&self, row: &AlgorithmRow) -> Result<(), StoreError> {
        match &self.backend {
            TxBackend::Sqlite(tx) => tx.insert_algorithm(row),
            TxBackend::Memory(tx) => tx.insert_algorithm(row),
        }
    }

    /// Records an algorithm's snapshot (when given), next child sequence,
    /// status and reason. An unknown id changes nothing.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn update_algorithm(&self, update: &AlgorithmUpdate<'_>) -> Result<(), StoreError> {
        match &self.backend {
            TxBackend::Sqlite(tx) => tx.update_algorithm(update),
            TxBackend::Memory(tx) => {
                tx.update_algorithm(update);
                Ok(())
            }
        }
    }

    /// Records when a `finishing` algorithm's completion grace runs out, or
    /// clears it (`None`) once the algorithm has ended.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn set_finish_by(&self, id: &str, finish_by_ms: Option<i64>) -> Result<(), StoreError> {
        match &self.backend {
            TxBackend::Sqlite(tx) => tx.set_finish_by(id, finish_by_ms),
            TxBackend::Memory(tx) => {
                tx.set_finish_by(id, finish_by_ms);
                Ok(())
            }
        }
    }

    /// Inserts or replaces a child order (its algorithm stays the first
    /// one stored).
    ///
    /// # Errors
    /// Its algorithm is not stored, or SQLite failed.
    pub fn upsert_child(&self, row: &ChildOrderRow) -> Result<(), StoreError> {
        match &self.backend {
            TxBackend::Sqlite(tx) => tx.upsert_child(row),
            TxBackend::Memory(tx) => tx.upsert_child(row),
        }
    }

    /// Appends a fill to the journal; a fill already journaled is ignored.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn insert_fill(&self, algorithm_id: &str, fill: &Fill) -> Result<(), StoreError> {
        match &self.backend {
            TxBackend::Sqlite(tx) => tx.insert_fill(algorithm_id, fill),
            TxBackend::Memory(tx) => {
                tx.insert_fill(algorithm_id, fill);
                Ok(())
            }
        }
    }

    /// Sets a value of the key-value table.
    ///
    /// # Errors
    /// SQLite failed.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        match &self.backend {
            TxBackend::Sqlite(tx) => tx.set_meta(key, value),
            TxBackend::Memory(tx) => {
                tx.set_meta(key, value);
                Ok(())
            }
        }
    }

    /// Commits everything written in this transaction.
    ///
    /// # Errors
    /// SQLite failed; nothing was written.
    pub fn commit(self) -> Result<(), StoreError> {
        match self.backend {
            TxBackend::Sqlite(tx) => tx.commit(),
            TxBackend::Memory(tx) => {
                tx.commit();
                Ok(())
            }
        }
    }
}

/// The id of a child order: `<algorithm id>-<sequence, 4 digits>`.
#[must_use]
pub fn child_order_id(algorithm_id: &str, seq: u64) -> ClientOrderId {
    ClientOrderId::new(format!("{algorithm_id}-{seq:04}"))
}
