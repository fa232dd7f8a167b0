//! The SQLite backend of the [`StateStore`](super::StateStore): a file in
//! WAL mode that `live run` keeps and a restart reads back.

use std::path::Path;
use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;
use tesser_core::{Fill, OrderRequest, Side, Symbol};

use super::{
    AlgorithmRow, AlgorithmUpdate, ChildOrderRow, ChildState, JournalFill, SCHEMA_VERSION,
    StoreError,
};
use crate::AlgorithmStatus;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS algorithms (
    id             TEXT PRIMARY KEY,
    seq            INTEGER NOT NULL UNIQUE,
    plugin         TEXT NOT NULL,
    symbol         TEXT NOT NULL,
    side           TEXT NOT NULL,
    target         TEXT NOT NULL,
    status         TEXT NOT NULL,
    reason         TEXT,
    signal         TEXT NOT NULL,
    init_context   TEXT NOT NULL,
    snapshot       TEXT,
    next_child_seq INTEGER NOT NULL,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    finish_by_ms   INTEGER
);
CREATE TABLE IF NOT EXISTS child_orders (
    client_order_id  TEXT PRIMARY KEY,
    algorithm_id     TEXT NOT NULL REFERENCES algorithms(id),
    request          TEXT NOT NULL,
    state            TEXT NOT NULL,
    filled           TEXT NOT NULL,
    pending_amend    TEXT,
    cancel_requested INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL
);
-- Every table written at each placement costs the WAL a page or two, so
-- there are no more than the reads need: fills.seq is the rowid (fills are
-- never deleted, so it only grows; no AUTOINCREMENT and its sequence
-- table), and child orders have no index by algorithm (nothing queries
-- one). Files made before carry both; they are harmless there.
CREATE TABLE IF NOT EXISTS fills (
    seq             INTEGER PRIMARY KEY,
    fill_id         TEXT NOT NULL UNIQUE,
    algorithm_id    TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    fill            TEXT NOT NULL
);
";

/// WAL pages between checkpoints (SQLite's default is 1,000). A checkpoint
/// syncs the file twice; with about six pages written per placement, the
/// default checkpointed every ~170 placements and its `fsync`s were a tenth
/// of a replay's time. The WAL file grows to about 16 MB between them.
const WAL_CHECKPOINT_PAGES: i64 = 4_000;

/// Bytes per page of a new file (SQLite's default is 4,096; an existing
/// file keeps its own). Each commit writes every page it touched to the WAL
/// whole, and a placement touches about six pages to change a few hundred
/// bytes in each, so smaller pages write less per placement. Measured with
/// `tesser-bench --spin RJ` (BENCHMARKS.md): 2,048 gave about 1.2 × the
/// placements per second of 4,096, and 1,024 a little less than 2,048 (a
/// plugin's snapshot then spills into overflow pages).
const PAGE_SIZE: i64 = 2_048;

/// A SQLite database holding the store's tables.
pub(super) struct SqliteStore {
    conn: Connection,
    path: String,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, in WAL mode.
    ///
    /// # Errors
    /// The file cannot be opened, or holds another schema version.
    pub(super) fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path_text = path.as_ref().display().to_string();
        let conn = Connection::open(path.as_ref()).map_err(|source| StoreError::Sqlite {
            path: path_text.clone(),
            source,
        })?;
        Self::init(conn, path_text)
    }

    fn init(conn: Connection, path: String) -> Result<Self, StoreError> {
        let store = Self { conn, path };
        store
            .conn
            .pragma_update(None, "page_size", PAGE_SIZE)
            .and_then(|()| store.conn.pragma_update(None, "journal_mode", "WAL"))
            .and_then(|()| store.conn.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|()| store.conn.pragma_update(None, "foreign_keys", "ON"))
            .and_then(|()| {
                store
                    .conn
                    .pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
            })
            .and_then(|()| store.conn.execute_batch(SCHEMA))
            .map_err(|e| store.sql(e))?;
        let found: Option<String> = store
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| store.sql(e))?;
        match found {
            None => {
                store
                    .conn
                    .execute(
                        "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                        [SCHEMA_VERSION.to_string()],
                    )
                    .map_err(|e| store.sql(e))?;
            }
            Some(text) if text == "1" => {
                // Version 1 lacks the finishing deadline; every algorithm in
                // it is working or ended, so none needs one.
                store
                    .conn
                    .execute_batch(
                        "ALTER TABLE algorithms ADD COLUMN finish_by_ms INTEGER;
                         UPDATE meta SET value = '2' WHERE key = 'schema_version';",
                    )
                    .map_err(|e| store.sql(e))?;
            }
            Some(text) => {
                let found = text.parse::<i64>().unwrap_or(-1);
                if found != SCHEMA_VERSION {
                    return Err(StoreError::SchemaVersion {
                        path: store.path.clone(),
                        found,
                    });
                }
            }
        }
        Ok(store)
    }

    /// The database file (or `:memory:`).
    #[must_use]
    pub(super) fn path(&self) -> &str {
        &self.path
    }

    fn sql(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, what: impl Into<String>, detail: impl ToString) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            what: what.into(),
            detail: detail.to_string(),
        }
    }

    /// Starts a transaction; nothing is written until [`StoreTx::commit`].
    ///
    /// # Errors
    /// SQLite failed.
    pub(super) fn begin(&mut self) -> Result<SqliteTx<'_>, StoreError> {
        // A cached statement: `Connection::transaction` would parse
        // `BEGIN` and `COMMIT` again for every transaction, and the runtime
        // commits one per callback.
        self.conn
            .prepare_cached("BEGIN")
            .and_then(|mut stmt| stmt.execute([]))
            .map_err(|source| StoreError::Sqlite {
                path: self.path.clone(),
                source,
            })?;
        Ok(SqliteTx {
            tx: &self.conn,
            path: &self.path,
            open: true,
        })
    }

    /// A value of the key-value table.
    ///
    /// # Errors
    /// SQLite failed.
    pub(super) fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// The sequence number the next algorithm id is made from.
    ///
    /// # Errors
    /// SQLite failed.
    pub(super) fn next_algorithm_seq(&self) -> Result<u64, StoreError> {
        let max: Option<i64> = self
            .conn
            .query_row("SELECT MAX(seq) FROM algorithms", [], |row| row.get(0))
            .map_err(|e| self.sql(e))?;
        Ok(max.map_or(1, |m| u64::try_from(m).unwrap_or(0) + 1))
    }

    /// Every stored algorithm, oldest first.
    ///
    /// # Errors
    /// SQLite failed or a row is corrupt.
    pub(super) fn algorithms(&self) -> Result<Vec<AlgorithmRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, seq, plugin, symbol, side, target, status, reason, signal, init_context, snapshot, next_child_seq, created_ms, updated_ms, finish_by_ms FROM algorithms ORDER BY seq",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, String>(6)?,
                    row.get::<_, Option<String>>(7)?,
                    row.get::<_, String>(8)?,
                    row.get::<_, String>(9)?,
                    row.get::<_, Option<String>>(10)?,
                    row.get::<_, i64>(11)?,
                    row.get::<_, i64>(12)?,
                    row.get::<_, i64>(13)?,
                    row.get::<_, Option<i64>>(14)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                seq,
                plugin,
                symbol,
                side,
                target,
                status,
                reason,
                signal_json,
                init_context_json,
                snapshot,
                next_child_seq,
                created_ms,
                updated_ms,
                finish_by_ms,
            ) = row.map_err(|e| self.sql(e))?;
            let side = match side.as_str() {
                "buy" => Side::Buy,
                "sell" => Side::Sell,
                other => return Err(self.corrupt(format!("side of algorithm {id}"), other)),
            };
            let target = Decimal::from_str(&target)
                .map_err(|e| self.corrupt(format!("target of algorithm {id}"), e))?;
            let status = AlgorithmStatus::parse(&status)
                .ok_or_else(|| self.corrupt(format!("status of algorithm {id}"), &status))?;
            out.push(AlgorithmRow {
                id,
                seq: u64::try_from(seq).unwrap_or(0),
                plugin,
                symbol: Symbol::from(symbol),
                side,
                target,
                status,
                reason,
                signal_json,
                init_context_json,
                snapshot,
                next_child_seq: u64::try_from(next_child_seq).unwrap_or(0),
                created_ms,
                updated_ms,
                finish_by_ms,
            });
        }
        Ok(out)
    }

    /// Every stored child order, in the order they were created.
    ///
    /// # Errors
    /// SQLite failed or a row is corrupt.
    pub(super) fn child_orders(&self) -> Result<Vec<ChildOrderRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT client_order_id, algorithm_id, request, state, filled, pending_amend, cancel_requested, updated_ms FROM child_orders ORDER BY rowid",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, i64>(6)?,
                    row.get::<_, i64>(7)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                algorithm_id,
                request,
                state,
                filled,
                pending_amend,
                cancel_requested,
                updated_ms,
            ) = row.map_err(|e| self.sql(e))?;
            let request: OrderRequest = serde_json::from_str(&request)
                .map_err(|e| self.corrupt(format!("request of child order {id}"), e))?;
            let state = ChildState::parse(&state)
                .ok_or_else(|| self.corrupt(format!("state of child order {id}"), &state))?;
            let filled = Decimal::from_str(&filled)
                .map_err(|e| self.corrupt(format!("filled quantity of child order {id}"), e))?;
            let pending_amend = pending_amend
                .map(|text| serde_json::from_str(&text))
                .transpose()
                .map_err(|e| self.corrupt(format!("pending amend of child order {id}"), e))?;
            out.push(ChildOrderRow {
                request,
                algorithm_id,
                state,
                filled,
                pending_amend,
                cancel_requested: cancel_requested != 0,
                updated_ms,
            });
        }
        Ok(out)
    }

    /// The fill journal, in the order fills were recorded.
    ///
    /// # Errors
    /// SQLite failed or a row is corrupt.
    pub(super) fn fills(&self) -> Result<Vec<JournalFill>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT algorithm_id, fill FROM fills ORDER BY seq")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (algorithm_id, fill) = row.map_err(|e| self.sql(e))?;
            let fill: Fill =
                serde_json::from_str(&fill).map_err(|e| self.corrupt("journal fill", e))?;
            out.push(JournalFill { algorithm_id, fill });
        }
        Ok(out)
    }

    /// Whether the journal holds the fill `fill_id`.
    ///
    /// # Errors
    /// SQLite failed.
    pub(super) fn has_fill(&self, fill_id: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT 1 FROM fills WHERE fill_id = ?1")
            .and_then(|mut stmt| stmt.exists([fill_id]))
            .map_err(|e| self.sql(e))
    }
}

/// A write transaction on a [`SqliteStore`].
pub(super) struct SqliteTx<'a> {
    tx: &'a Connection,
    path: &'a str,
    /// Until committed: dropping it rolls back.
    open: bool,
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing of it was committed; a failed rollback leaves SQLite
            // rolling back on the next statement anyway.
            let _ = self
                .tx
                .prepare_cached("ROLLBACK")
                .and_then(|mut stmt| stmt.execute([]));
        }
    }
}

impl SqliteTx<'_> {
    fn sql(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.to_owned(),
            source,
        }
    }

    /// Inserts a new algorithm.
    ///
    /// # Errors
    /// SQLite failed (e.g. the id exists).
    pub(super) fn insert_algorithm(&self, row: &AlgorithmRow) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO algorithms (id, seq, plugin, symbol, side, target, status, reason, signal, init_context, snapshot, next_child_seq, created_ms, updated_ms, finish_by_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    row.id,
                    i64::try_from(row.seq).unwrap_or(i64::MAX),
                    row.plugin,
                    row.symbol.as_str(),
                    row.side.as_str(),
                    row.target.to_string(),
                    row.status.as_str(),
                    row.reason,
                    row.signal_json,
                    row.init_context_json,
                    row.snapshot,
                    i64::try_from(row.next_child_seq).unwrap_or(i64::MAX),
                    row.created_ms,
                    row.updated_ms,
                    row.finish_by_ms,
                ])
            })
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    /// Records an algorithm's snapshot (when given), next child sequence,
    /// status and reason.
    ///
    /// # Errors
    /// SQLite failed.
    pub(super) fn update_algorithm(&self, update: &AlgorithmUpdate<'_>) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE algorithms SET snapshot = COALESCE(?2, snapshot), next_child_seq = ?3, status = ?4, reason = ?5, updated_ms = ?6 WHERE id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    update.id,
                    update.snapshot,
                    i64::try_from(update.next_child_seq).unwrap_or(i64::MAX),
                    update.status.as_str(),
                    update.reason,
                    update.updated_ms
                ])
            })
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    /// Records when a `finishing` algorithm's completion grace runs out, or
    /// clears it (`None`) once the algorithm has ended.
    ///
    /// # Errors
    /// SQLite failed.
    pub(super) fn set_finish_by(
        &self,
        id: &str,
        finish_by_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE algorithms SET finish_by_ms = ?2 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![id, finish_by_ms]))
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    /// Inserts or replaces a child order.
    ///
    /// # Errors
    /// SQLite failed.
    pub(super) fn upsert_child(&self, row: &ChildOrderRow) -> Result<(), StoreError> {
        let request = serde_json::to_string(&row.request).map_err(|e| StoreError::Corrupt {
            path: self.path.to_owned(),
            what: "child order request".into(),
            detail: e.to_string(),
        })?;
        let pending_amend = row
            .pending_amend
            .as_ref()
            .and_then(|amend| serde_json::to_string(amend).ok());
        self.tx
            .prepare_cached(
                "INSERT INTO child_orders (client_order_id, algorithm_id, request, state, filled, pending_amend, cancel_requested, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(client_order_id) DO UPDATE SET request = ?3, state = ?4, filled = ?5, pending_amend = ?6, cancel_requested = ?7, updated_ms = ?8",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    row.request.client_order_id.as_str(),
                    row.algorithm_id,
                    request,
                    row.state.as_str(),
                    row.filled.to_string(),
                    pending_amend,
                    i64::from(row.cancel_requested),
                    row.updated_ms,
                ])
            })
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    /// Appends a fill to the journal; a fill already journaled is ignored.
    ///
    /// # Errors
    /// SQLite failed.
    pub(super) fn insert_fill(&self, algorithm_id: &str, fill: &Fill) -> Result<(), StoreError> {
        let json = serde_json::to_string(fill).map_err(|e| StoreError::Corrupt {
            path: self.path.to_owned(),
            what: "fill".into(),
            detail: e.to_string(),
        })?;
        self.tx
            .prepare_cached("INSERT OR IGNORE INTO fills (fill_id, algorithm_id, client_order_id, fill) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut stmt| stmt.execute(params![fill.fill_id, algorithm_id, fill.client_order_id.as_str(), json]))
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    /// Sets a value of the key-value table.
    ///
    /// # Errors
    /// SQLite failed.
    pub(super) fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2")
            .and_then(|mut stmt| stmt.execute(params![key, value]))
            .map(drop)
            .map_err(|e| self.sql(e))
    }

    /// Commits everything written in this transaction.
    ///
    /// # Errors
    /// SQLite failed; nothing was written.
    pub(super) fn commit(mut self) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("COMMIT")
            .and_then(|mut stmt| stmt.execute([]))
            .map_err(|source| self.sql(source))?;
        self.open = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StateStore;

    /// The layout of version 1, before the completion grace.
    const SCHEMA_V1_ALGORITHMS: &str = "
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta (key, value) VALUES ('schema_version', '1');
        CREATE TABLE algorithms (
            id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, plugin TEXT NOT NULL,
            symbol TEXT NOT NULL, side TEXT NOT NULL, target TEXT NOT NULL,
            status TEXT NOT NULL, reason TEXT, signal TEXT NOT NULL,
            init_context TEXT NOT NULL, snapshot TEXT, next_child_seq INTEGER NOT NULL,
            created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL
        );
        INSERT INTO algorithms VALUES
            ('algo-1', 1, 'plugin_chase', 'BTCUSD', 'buy', '5', 'working', NULL, '{}', '{}',
             'null', 3, 10, 20);
    ";

    #[test]
    fn a_version_1_file_is_upgraded_in_place_and_keeps_its_algorithms() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("v1.sqlite");
        Connection::open(&path)
            .and_then(|conn| conn.execute_batch(SCHEMA_V1_ALGORITHMS))
            .expect("a version-1 file");
        let mut store = StateStore::open(&path).expect("upgraded");
        assert_eq!(
            store.meta("schema_version").expect("meta").as_deref(),
            Some("2")
        );
        let rows = store.algorithms().expect("rows");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, AlgorithmStatus::Working);
        assert_eq!(rows[0].finish_by_ms, None);
        let tx = store.begin().expect("tx");
        tx.set_finish_by("algo-1", Some(99)).expect("set");
        tx.commit().expect("commit");
        drop(store);
        let store = StateStore::open(&path).expect("reopened");
        assert_eq!(store.algorithms().expect("rows")[0].finish_by_ms, Some(99));
    }
}
