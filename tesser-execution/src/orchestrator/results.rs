//! Applying a plugin's result: per-result caps, the risk guard, storing the
//! actions with the plugin's snapshot before they are sent, then sending.

use super::*;

impl<E: ExchangeClient> Orchestrator<E> {
    /// Checks a callback's actions, stores them with the plugin's snapshot,
    /// then sends them and queues the plugin's acknowledgements.
    #[allow(clippy::too_many_lines)] // one transaction's worth of steps, kept in order on purpose
    pub(super) fn apply_result(
        &mut self,
        idx: usize,
        call: &Call,
        result: PluginResult,
        queue: &mut VecDeque<Call>,
    ) -> Result<(), OrchestratorError> {
        if let Some(reason) = self.oversized(&result) {
            self.record_without_plugin(idx, call)?;
            return self.end_algorithm(idx, AlgorithmStatus::Failed, Some(reason));
        }
        if !result.logs.is_empty() {
            self.log_plugin(idx, &result);
        }
        let completed = result.state == PluginAlgorithmState::Completed;
        let now = self.now_ms;
        let mut touched: Vec<ClientOrderId> = Vec::new();
        // What the plugin now knows about the event it just handled.
        if let Call::Update(update) = call {
            let algo = &mut self.algorithms[idx];
            if let Some(child) = algo.child_mut(&update.client_order_id) {
                child.record(update);
                touched.push(update.client_order_id.clone());
            }
            algo.note_reported_fill(&update.client_order_id, now);
        }
        let mut outgoing: Vec<Outgoing> = Vec::new();
        let mut refusals: Vec<OrderUpdate> = Vec::new();
        for action in result.orders {
            match action {
                // Actions of a completing result are checked and sent like
                // any other: completing hands them over, it does not drop them.
                PluginChildOrderAction::Place(request) => {
                    match self.check_place(idx, request, now) {
                        Ok(order) => {
                            touched.push(order.client_order_id.clone());
                            outgoing.push(Outgoing::Place(order));
                        }
                        Err(refusal) => refusals.push(*refusal),
                    }
                }
                PluginChildOrderAction::Amend(amend) => match self.check_amend(idx, &amend, now) {
                    Ok(amend) => {
                        touched.push(amend.client_order_id.clone());
                        outgoing.push(Outgoing::Amend(amend));
                    }
                    Err(refusal) => refusals.push(*refusal),
                },
                PluginChildOrderAction::Cancel(cancel) => {
                    match self.check_cancel(idx, &cancel.client_order_id, now) {
                        Ok(id) => {
                            touched.push(id.clone());
                            outgoing.push(Outgoing::Cancel(id));
                        }
                        Err(refusal) => refusals.push(*refusal),
                    }
                }
            }
        }

        // What changed waits in memory for the next batch (`persist.rs`),
        // except before a new order goes out: it and the snapshot that knows
        // it are stored first, so a restart finds it. (Amends and cancels act
        // on stored orders, whose state a restart takes from the exchange.)
        let fill = match call {
            Call::Fill(fill) => Some(fill),
            _ => None,
        };
        let places = outgoing.iter().any(|o| matches!(o, Outgoing::Place(_)));
        if !places {
            self.note_unstored(idx, SnapshotWanted::Yes, touched, fill);
        } else {
            self.algorithms[idx].unsnapshotted = true;
            if let Err(error) = self.take_snapshot(idx) {
                self.record_without_plugin(idx, call)?;
                return self.end_algorithm(idx, AlgorithmStatus::Failed, Some(error));
            }
            self.note_unstored(idx, SnapshotWanted::No, touched, fill);
            self.store_pending()?;
        }

        let rejections = self.algorithms[idx].risk_rejections;
        if rejections > self.config.max_risk_rejections {
            let last = refusals
                .last()
                .and_then(|r| r.reason.clone())
                .unwrap_or_default();
            let reason = format!(
                "{rejections} child actions refused by the risk guard exceeds max_risk_rejections = {}; last: {last}",
                self.config.max_risk_rejections
            );
            return self.end_algorithm(idx, AlgorithmStatus::Failed, Some(reason));
        }
        for refusal in refusals {
            queue.push_back(Call::Notice(refusal));
        }
        for action in outgoing {
            self.send(idx, action, queue);
        }
        if completed {
            self.plugin_completed(idx)?;
        }
        Ok(())
    }

    /// Why a result breaks a per-result limit, if it does.
    pub(super) fn oversized(&self, result: &PluginResult) -> Option<String> {
        let config = &self.config;
        if result.orders.len() > config.max_actions_per_result {
            return Some(format!(
                "result with {} child actions exceeds max_actions_per_result = {}",
                result.orders.len(),
                config.max_actions_per_result
            ));
        }
        if result.logs.len() > config.max_log_lines {
            return Some(format!(
                "result with {} log lines exceeds max_log_lines = {}",
                result.logs.len(),
                config.max_log_lines
            ));
        }
        let log_bytes: usize = result.logs.iter().map(|l| l.message.len()).sum();
        if log_bytes > config.max_log_bytes {
            return Some(format!(
                "result with {log_bytes} bytes of logs exceeds max_log_bytes = {}",
                config.max_log_bytes
            ));
        }
        None
    }
}

/// Refuses a snapshot that is too large or not JSON.
pub(super) fn check_snapshot(
    snapshot: String,
    max_snapshot_bytes: usize,
) -> Result<String, String> {
    if snapshot.len() > max_snapshot_bytes {
        return Err(format!(
            "snapshot of {} bytes exceeds max_snapshot_bytes = {max_snapshot_bytes}",
            snapshot.len()
        ));
    }
    if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(&snapshot) {
        return Err(format!("snapshot is not valid JSON: {error}"));
    }
    Ok(snapshot)
}
