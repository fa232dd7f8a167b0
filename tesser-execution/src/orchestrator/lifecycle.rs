//! How an algorithm ends: completion, the finishing grace, cancellation and
//! failure, and what is left open when it does.
//!
//! * The plugin returns `completed()`: with no child order open the
//!   algorithm ends at once; otherwise it is `finishing` until its open
//!   orders end or the grace (`completion_grace_ms`, data time) runs out,
//!   when the rest is cancelled.
//! * Its target filled with no child order open: it completes whether the
//!   plugin said so or not.
//! * Either way it ends `completed` only when the whole target filled, and
//!   `partial` otherwise, with the unfilled quantity and why in the reason.

use super::*;

impl<E: ExchangeClient> Orchestrator<E> {
    /// The plugin returned `completed()` (after the actions of the same
    /// result were sent): ends the algorithm if nothing of it is open, else
    /// hands its open orders to the runtime for the completion grace.
    ///
    /// # Errors
    /// The store failed.
    pub(super) fn plugin_completed(&mut self, idx: usize) -> Result<(), OrchestratorError> {
        let open = self.algorithms[idx].open_count();
        if open == 0 {
            return self.settle(idx, "plugin completed");
        }
        let now = self.now_ms;
        let grace = self.config.completion_grace_ms.max(0);
        let algo = &mut self.algorithms[idx];
        let reason = format!("plugin completed with {} open", orders(open));
        if !algo.start_finishing(reason, now, grace) {
            return Ok(());
        }
        let row = algo.row();
        tracing::info!(algorithm = %row.id, plugin = %row.plugin, filled = %algo.filled, target = %row.target, "plugin completed with {} open; the runtime books their fills for up to {grace} ms (completion_grace_ms), then cancels what is left", orders(open));
        if let Some(list) = self.by_symbol.get_mut(&algo.row().symbol) {
            list.retain(|&i| i != idx);
        }
        self.commit_row(idx, &[])?;
        if grace == 0 {
            self.grace_ended(idx)?;
        }
        Ok(())
    }

    /// The completion grace of a finishing algorithm ran out: cancels its
    /// open child orders, then ends it once they are closed.
    ///
    /// # Errors
    /// The store failed.
    pub(super) fn grace_ended(&mut self, idx: usize) -> Result<(), OrchestratorError> {
        let now = self.now_ms;
        let grace = self.config.completion_grace_ms.max(0);
        let algo = &mut self.algorithms[idx];
        if algo.row().status != AlgorithmStatus::Finishing || algo.row().finish_by_ms.is_none() {
            return Ok(());
        }
        let open: Vec<ClientOrderId> = algo.open_ids();
        let note = (!open.is_empty()).then(|| {
            format!(
                "the grace of {grace} ms ended with {} open, cancelled",
                orders(open.len())
            )
        });
        if note.is_some() {
            tracing::info!(algorithm = %algo.row().id, plugin = %algo.row().plugin, "completion grace over: cancelling {}", orders(open.len()));
        }
        // Ended or not, the deadline is spent: a late fill is booked, but
        // nothing is waited for any more.
        algo.spend_grace(note.as_deref(), now);
        self.commit_row(idx, &open)?;
        self.cancel_children(idx, &open)?;
        self.settle_if_done(idx)
    }

    /// After an event: a finishing algorithm with nothing open ends, and a
    /// working one whose target filled with nothing open completes without
    /// its plugin (logged once: the status changes).
    ///
    /// # Errors
    /// The store failed.
    pub(super) fn settle_if_done(&mut self, idx: usize) -> Result<(), OrchestratorError> {
        let algo = &self.algorithms[idx];
        if algo.open_count() > 0 {
            return Ok(());
        }
        match algo.row().status {
            AlgorithmStatus::Finishing => {
                let prefix = algo.row().reason.clone().unwrap_or_default();
                self.settle(idx, &prefix)
            }
            AlgorithmStatus::Working if algo.filled >= algo.row().target => {
                tracing::info!(algorithm = %algo.row().id, plugin = %algo.row().plugin, filled = %algo.filled, "target filled with no order open: the algorithm completes (its plugin had not said so) and gets no more events");
                self.settle(idx, "target filled")
            }
            _ => Ok(()),
        }
    }

    /// Ends an algorithm that has nothing open: `completed` when its target
    /// filled, else `partial` with `how` and the unfilled quantity.
    fn settle(&mut self, idx: usize, how: &str) -> Result<(), OrchestratorError> {
        let algo = &self.algorithms[idx];
        let unfilled = (algo.row().target - algo.filled).normalize();
        if unfilled <= Decimal::ZERO {
            return self.end_algorithm(idx, AlgorithmStatus::Completed, None);
        }
        let reason = if algo.row().status == AlgorithmStatus::Finishing {
            // `grace_ended` spends the deadline: finishing without one means
            // the grace ran out.
            if algo.row().finish_by_ms.is_none() {
                format!("{how}; {unfilled} unfilled when the grace ended")
            } else {
                format!("{how}; {unfilled} unfilled when they ended")
            }
        } else {
            format!("{how} short with no order open; {unfilled} unfilled")
        };
        self.end_algorithm(idx, AlgorithmStatus::Partial, Some(reason))
    }

    /// Ends an algorithm: records the status, cancels every open child order.
    ///
    /// # Errors
    /// The store failed.
    pub(super) fn end_algorithm(
        &mut self,
        idx: usize,
        status: AlgorithmStatus,
        reason: Option<String>,
    ) -> Result<(), OrchestratorError> {
        let now = self.now_ms;
        let algo = &mut self.algorithms[idx];
        if !algo.end(status, reason.as_deref(), now) {
            return Ok(());
        }
        if let Some(list) = self.by_symbol.get_mut(&algo.row().symbol) {
            list.retain(|&i| i != idx);
        }
        self.working.retain(|&i| i != idx);
        match status {
            AlgorithmStatus::Failed => tracing::error!(
                alert = true,
                algorithm = %algo.row().id,
                plugin = %algo.row().plugin,
                "ALERT algorithm failed: {}",
                reason.as_deref().unwrap_or("no reason")
            ),
            _ => {
                tracing::info!(algorithm = %algo.row().id, plugin = %algo.row().plugin, %status, filled = %algo.filled, target = %algo.row().target, reason = reason.as_deref().unwrap_or(""), "algorithm ended")
            }
        }
        let open: Vec<ClientOrderId> = algo.open_ids();
        self.commit_row(idx, &open)?;
        self.cancel_children(idx, &open)
    }

    /// Stores the algorithm's status, reason and grace deadline, and a
    /// cancel request for each of `cancelling`, with everything pending, in
    /// one transaction (before the cancels go out, so a restart completes
    /// them).
    ///
    /// # Errors
    /// The store failed.
    pub(super) fn commit_row(
        &mut self,
        idx: usize,
        cancelling: &[ClientOrderId],
    ) -> Result<(), OrchestratorError> {
        let algo = &mut self.algorithms[idx];
        for id in cancelling {
            if let Some(child) = algo.child_mut(id) {
                child.mark_cancel_requested();
            }
        }
        self.note_unstored(idx, SnapshotWanted::No, cancelling.iter().cloned(), None);
        self.store_pending()
    }

    /// Cancels child orders and records their state.
    ///
    /// # Errors
    /// The store failed.
    pub(super) fn cancel_children(
        &mut self,
        idx: usize,
        ids: &[ClientOrderId],
    ) -> Result<(), OrchestratorError> {
        let now = self.now_ms;
        for id in ids {
            let result = self.exchange.cancel_order(id, now);
            let algo = &mut self.algorithms[idx];
            let Some(child) = algo.child_mut(id) else {
                continue;
            };
            let closed = match result {
                Ok(order) => {
                    child.cancelled(order.status);
                    !order.status.is_open()
                }
                Err(ExchangeError::UnknownOrder(_)) => {
                    child.cancelled(OrderStatus::Rejected);
                    true
                }
                Err(ExchangeError::OrderClosed(_)) => {
                    // It closed (filled, expired) in the meantime; the
                    // exchange event that says so is on its way.
                    !child.is_open()
                }
                Err(error) => {
                    tracing::error!(algorithm = %child.row().algorithm_id, order = %id, "cancel of a child order failed: {error}");
                    !child.is_open()
                }
            };
            if closed {
                algo.close_child(id);
            }
            self.note_unstored(idx, SnapshotWanted::No, Some(id.clone()), None);
        }
        Ok(())
    }
}

/// "1 order" or "N orders".
fn orders(n: usize) -> String {
    if n == 1 {
        "1 order".to_owned()
    } else {
        format!("{n} orders")
    }
}
