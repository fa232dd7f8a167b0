//! Storing in batches. What the orchestrator learns (fills, order updates,
//! the plugin's new state) is kept in memory and written in one transaction
//! with everything else pending:
//! * before any child action goes to the exchange (write-ahead: the child
//!   order, the algorithm's next child sequence and the plugin's snapshot
//!   that knows the order are stored first, so a restart finds the order);
//! * before an algorithm's status changes or its orders are cancelled;
//! * otherwise at most [`OrchestratorConfig::snapshot_interval_ms`] of data
//!   time after the last batch, and on [`Orchestrator::flush`].
//!
//! A crash loses at most what is pending, all of which the exchange still
//! knows: recovery restores the last stored snapshot and delivers the fills
//! and order updates the plugin missed since, as after any crash.

use super::*;
use crate::store::AlgorithmUpdate;

impl<E: ExchangeClient> Orchestrator<E> {
    /// Notes that an algorithm has something to store: its plugin's state
    /// (`snapshot_wanted`), and the given child orders and fill.
    pub(super) fn note_unstored(
        &mut self,
        idx: usize,
        snapshot_wanted: SnapshotWanted,
        children: impl IntoIterator<Item = ClientOrderId>,
        fill: Option<&Fill>,
    ) {
        let algo = &mut self.algorithms[idx];
        if snapshot_wanted == SnapshotWanted::Yes {
            algo.unsnapshotted = true;
        }
        algo.unstored_children.extend(children);
        if let Some(fill) = fill {
            algo.unstored_fills.push(fill.clone());
        }
        if !algo.queued_for_store {
            algo.queued_for_store = true;
            self.unstored.push(idx);
        }
    }

    /// Whether a fill is booked: stored, or pending in its algorithm's batch.
    pub(super) fn fill_booked(&self, idx: usize, fill_id: &str) -> Result<bool, OrchestratorError> {
        if self.algorithms[idx]
            .unstored_fills
            .iter()
            .any(|fill| fill.fill_id == fill_id)
        {
            return Ok(true);
        }
        Ok(self.store.has_fill(fill_id)?)
    }

    /// Stores the pending batch when the interval since the last one has
    /// passed.
    pub(super) fn store_if_due(&mut self) -> Result<(), OrchestratorError> {
        // The first batch after a start counts from the first data time.
        let since = *self.last_store_ms.get_or_insert(self.now_ms);
        if !self.unstored.is_empty() && self.now_ms - since >= self.config.snapshot_interval_ms {
            self.store_pending()?;
        }
        Ok(())
    }

    /// Stores everything pending in one transaction: for each algorithm with
    /// changes, its plugin's snapshot (when its state may have changed), its
    /// row, its changed child orders and its new fills. An algorithm whose
    /// snapshot is refused fails after the transaction.
    ///
    /// # Errors
    /// The store failed.
    pub(super) fn store_pending(&mut self) -> Result<(), OrchestratorError> {
        if self.unstored.is_empty() {
            return Ok(());
        }
        let now = self.now_ms;
        let list = std::mem::take(&mut self.unstored);
        let mut refused: Vec<(usize, String)> = Vec::new();
        for &idx in &list {
            if let Err(error) = self.take_snapshot(idx) {
                refused.push((idx, error));
            }
        }
        let tx = self.store.begin()?;
        for &idx in &list {
            let algo = &mut self.algorithms[idx];
            algo.queued_for_store = false;
            let updated_ms = if algo.row().status == AlgorithmStatus::Working {
                now
            } else {
                algo.row().updated_ms
            };
            tx.update_algorithm(&AlgorithmUpdate {
                id: &algo.row().id,
                snapshot: algo.row().snapshot.as_deref(),
                next_child_seq: algo.row().next_child_seq,
                status: algo.row().status,
                reason: algo.row().reason.as_deref(),
                updated_ms,
            })?;
            if algo.row().status != AlgorithmStatus::Working {
                // (A working algorithm has no grace deadline.)
                tx.set_finish_by(&algo.row().id, algo.row().finish_by_ms)?;
            }
            algo.unstored_children.sort_unstable();
            algo.unstored_children.dedup();
            for id in &algo.unstored_children {
                if let Some(child) = algo.child(id) {
                    tx.upsert_child(child.row())?;
                }
            }
            for fill in &algo.unstored_fills {
                tx.insert_fill(&algo.row().id, fill)?;
            }
        }
        tx.commit()?;
        for &idx in &list {
            let algo = &mut self.algorithms[idx];
            algo.unstored_children.clear();
            algo.unstored_fills.clear();
        }
        self.unstored = list;
        self.unstored.clear();
        self.last_store_ms = Some(now);
        for (idx, reason) in refused {
            self.end_algorithm(idx, AlgorithmStatus::Failed, Some(reason))?;
        }
        Ok(())
    }

    /// Takes a working plugin's snapshot if its state may have changed
    /// since the last one.
    ///
    /// # Errors
    /// The plugin failed to snapshot or its snapshot is refused: the reason.
    pub(super) fn take_snapshot(&mut self, idx: usize) -> Result<(), String> {
        let max_snapshot_bytes = self.config.max_snapshot_bytes;
        let now = self.now_ms;
        let algo = &mut self.algorithms[idx];
        if !algo.unsnapshotted || algo.row().status != AlgorithmStatus::Working || algo.restarting {
            return Ok(());
        }
        let Some(instance) = algo.instance.as_mut() else {
            return Ok(());
        };
        let snapshot = instance
            .snapshot()
            .map_err(|e| e.to_string())
            .and_then(|snapshot| super::results::check_snapshot(snapshot, max_snapshot_bytes))?;
        algo.record_snapshot(snapshot, now);
        Ok(())
    }

    /// Stores everything pending now: the plugins' snapshots, child orders
    /// and fills that would otherwise wait for the next batch (at most
    /// [`OrchestratorConfig::snapshot_interval_ms`] of data time). Call it
    /// before reading the [`StateStore`] and before a planned stop; a crash
    /// without it loses nothing the exchange does not also know.
    ///
    /// # Errors
    /// The store failed.
    pub fn flush(&mut self) -> Result<(), OrchestratorError> {
        self.store_pending()
    }
}

/// Whether a change may have changed the plugin's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SnapshotWanted {
    /// Take a snapshot with the next batch.
    Yes,
    /// Store rows only.
    No,
}
