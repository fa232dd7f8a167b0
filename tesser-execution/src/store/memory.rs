//! The in-memory backend of the [`StateStore`](super::StateStore), for the
//! lab and tests: the SQLite backend's tables and rules without SQL, text
//! encoding or a page cache.
//!
//! The rules kept: an algorithm's id and sequence number are unique; a child
//! order belongs to an algorithm stored before it (or earlier in the same
//! transaction); a fill is journaled once, by id; reads keep the order of
//! the SQL queries (algorithms by sequence, child orders and fills as first
//! written); and a transaction dropped without [`MemoryTx::commit`] leaves
//! nothing behind. Writes are kept in the transaction and applied on
//! commit, so a failed write never leaves half a transaction.

use std::cell::RefCell;
use std::collections::BTreeMap;

// FxHash, as the orchestrator's maps: every fill and child order is hashed
// once or twice, and SipHash was 6 % of a replay.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use tesser_core::Fill;

use super::{
    AlgorithmRow, AlgorithmUpdate, ChildOrderRow, JournalFill, SCHEMA_VERSION, StoreError,
};
use crate::AlgorithmStatus;

/// What [`super::StateStore::path`] reports for a store in memory.
pub(super) const MEMORY_PATH: &str = ":memory:";

/// The tables, in memory.
#[derive(Debug)]
pub(super) struct MemoryStore {
    meta: BTreeMap<String, String>,
    /// In insertion order; `algorithm_index` maps an id to its position.
    algorithms: Vec<AlgorithmRow>,
    algorithm_index: HashMap<String, usize>,
    algorithm_seqs: HashSet<u64>,
    /// In insertion order, like SQLite's rowid; an upsert keeps the place.
    children: Vec<ChildOrderRow>,
    child_index: HashMap<String, usize>,
    fills: Vec<JournalFill>,
    fill_ids: HashSet<String>,
    /// The last transaction's emptied write list, reused by the next: the
    /// runtime begins a transaction per placement.
    spare_writes: Vec<Write>,
}

/// One write of a transaction, applied on commit.
#[derive(Debug)]
enum Write {
    InsertAlgorithm(Box<AlgorithmRow>),
    UpdateAlgorithm {
        id: String,
        snapshot: Option<String>,
        next_child_seq: u64,
        status: AlgorithmStatus,
        reason: Option<String>,
        updated_ms: i64,
    },
    SetFinishBy {
        id: String,
        finish_by_ms: Option<i64>,
    },
    UpsertChild(Box<ChildOrderRow>),
    InsertFill(JournalFill),
    SetMeta {
        key: String,
        value: String,
    },
}

impl MemoryStore {
    /// Empty tables, at this build's schema version.
    pub(super) fn new() -> Self {
        let mut meta = BTreeMap::new();
        meta.insert("schema_version".to_owned(), SCHEMA_VERSION.to_string());
        Self {
            meta,
            algorithms: Vec::new(),
            algorithm_index: HashMap::default(),
            algorithm_seqs: HashSet::default(),
            children: Vec::new(),
            child_index: HashMap::default(),
            fills: Vec::new(),
            fill_ids: HashSet::default(),
            spare_writes: Vec::new(),
        }
    }

    pub(super) fn begin(&mut self) -> MemoryTx<'_> {
        let writes = std::mem::take(&mut self.spare_writes);
        MemoryTx {
            store: self,
            writes: RefCell::new(writes),
        }
    }

    pub(super) fn meta(&self, key: &str) -> Option<String> {
        self.meta.get(key).cloned()
    }

    pub(super) fn next_algorithm_seq(&self) -> u64 {
        self.algorithm_seqs.iter().max().map_or(1, |max| max + 1)
    }

    pub(super) fn algorithms(&self) -> Vec<AlgorithmRow> {
        let mut rows = self.algorithms.clone();
        rows.sort_by_key(|row| row.seq);
        rows
    }

    pub(super) fn child_orders(&self) -> Vec<ChildOrderRow> {
        self.children.clone()
    }

    pub(super) fn fills(&self) -> Vec<JournalFill> {
        self.fills.clone()
    }

    pub(super) fn has_fill(&self, fill_id: &str) -> bool {
        self.fill_ids.contains(fill_id)
    }

    fn apply(&mut self, write: Write) {
        match write {
            Write::InsertAlgorithm(row) => {
                self.algorithm_index
                    .insert(row.id.clone(), self.algorithms.len());
                self.algorithm_seqs.insert(row.seq);
                self.algorithms.push(*row);
            }
            Write::UpdateAlgorithm {
                id,
                snapshot,
                next_child_seq,
                status,
                reason,
                updated_ms,
            } => {
                if let Some(row) = self.algorithm_mut(&id) {
                    if snapshot.is_some() {
                        row.snapshot = snapshot;
                    }
                    row.next_child_seq = next_child_seq;
                    row.status = status;
                    row.reason = reason;
                    row.updated_ms = updated_ms;
                }
            }
            Write::SetFinishBy { id, finish_by_ms } => {
                if let Some(row) = self.algorithm_mut(&id) {
                    row.finish_by_ms = finish_by_ms;
                }
            }
            Write::UpsertChild(row) => {
                let id = row.request.client_order_id.as_str();
                if let Some(&at) = self.child_index.get(id) {
                    // As the SQL upsert: the owner stays, the rest is new.
                    let stored = &mut self.children[at];
                    let algorithm_id = std::mem::take(&mut stored.algorithm_id);
                    *stored = *row;
                    stored.algorithm_id = algorithm_id;
                } else {
                    self.child_index.insert(id.to_owned(), self.children.len());
                    self.children.push(*row);
                }
            }
            Write::InsertFill(fill) => {
                if self.fill_ids.insert(fill.fill.fill_id.clone()) {
                    self.fills.push(fill);
                }
            }
            Write::SetMeta { key, value } => {
                self.meta.insert(key, value);
            }
        }
    }

    fn algorithm_mut(&mut self, id: &str) -> Option<&mut AlgorithmRow> {
        let at = *self.algorithm_index.get(id)?;
        self.algorithms.get_mut(at)
    }
}

/// A write transaction on a [`MemoryStore`]: its writes wait here until
/// [`Self::commit`]; dropping it discards them (and hands the emptied list
/// back to the store).
#[derive(Debug)]
pub(super) struct MemoryTx<'a> {
    store: &'a mut MemoryStore,
    writes: RefCell<Vec<Write>>,
}

impl MemoryTx<'_> {
    fn refuse(detail: String) -> StoreError {
        StoreError::Constraint {
            path: MEMORY_PATH.to_owned(),
            detail,
        }
    }

    /// Whether the algorithm `id` is stored or inserted by this transaction.
    fn algorithm_known(&self, id: &str) -> bool {
        self.store.algorithm_index.contains_key(id)
            || self
                .writes
                .borrow()
                .iter()
                .any(|write| matches!(write, Write::InsertAlgorithm(row) if row.id == id))
    }

    pub(super) fn insert_algorithm(&self, row: &AlgorithmRow) -> Result<(), StoreError> {
        let seq_taken = self.store.algorithm_seqs.contains(&row.seq)
            || self.writes.borrow().iter().any(
                |write| matches!(write, Write::InsertAlgorithm(other) if other.seq == row.seq),
            );
        if self.algorithm_known(&row.id) {
            return Err(Self::refuse(format!("algorithm {} exists", row.id)));
        }
        if seq_taken {
            return Err(Self::refuse(format!(
                "algorithm sequence {} is taken",
                row.seq
            )));
        }
        self.writes
            .borrow_mut()
            .push(Write::InsertAlgorithm(Box::new(row.clone())));
        Ok(())
    }

    pub(super) fn update_algorithm(&self, update: &AlgorithmUpdate<'_>) {
        self.writes.borrow_mut().push(Write::UpdateAlgorithm {
            id: update.id.to_owned(),
            snapshot: update.snapshot.map(str::to_owned),
            next_child_seq: update.next_child_seq,
            status: update.status,
            reason: update.reason.map(str::to_owned),
            updated_ms: update.updated_ms,
        });
    }

    pub(super) fn set_finish_by(&self, id: &str, finish_by_ms: Option<i64>) {
        self.writes.borrow_mut().push(Write::SetFinishBy {
            id: id.to_owned(),
            finish_by_ms,
        });
    }

    pub(super) fn upsert_child(&self, row: &ChildOrderRow) -> Result<(), StoreError> {
        if !self.algorithm_known(&row.algorithm_id) {
            return Err(Self::refuse(format!(
                "child order {} belongs to algorithm {}, which is not stored",
                row.request.client_order_id, row.algorithm_id
            )));
        }
        self.writes
            .borrow_mut()
            .push(Write::UpsertChild(Box::new(row.clone())));
        Ok(())
    }

    pub(super) fn insert_fill(&self, algorithm_id: &str, fill: &Fill) {
        self.writes
            .borrow_mut()
            .push(Write::InsertFill(JournalFill {
                algorithm_id: algorithm_id.to_owned(),
                fill: fill.clone(),
            }));
    }

    pub(super) fn set_meta(&self, key: &str, value: &str) {
        self.writes.borrow_mut().push(Write::SetMeta {
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }

    pub(super) fn commit(self) {
        for write in self.writes.borrow_mut().drain(..) {
            self.store.apply(write);
        }
    }
}

impl Drop for MemoryTx<'_> {
    fn drop(&mut self) {
        let mut writes = std::mem::take(self.writes.get_mut());
        writes.clear();
        self.store.spare_writes = writes;
    }
}
