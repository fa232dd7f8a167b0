//! Actions the venue's rate-limit window could not take yet.
//!
//! A venue answers [`ExchangeError::Throttled`] when its window is full:
//! nothing was sent. The run loop does not wait for the window: the action
//! waits here, and is sent when it is due, between market data and events.
//! A newer amend of the same order replaces a waiting one (the amends are
//! merged first, see `admission.rs`). The plugin hears of a delayed amend or
//! cancel (an update with the order's current status and why), of a dropped
//! one (replaced, or its algorithm ended), and of a delayed placement when
//! it is sent (its acknowledgement) or dropped (`Rejected`, with why).

use super::*;

/// One action waiting for the venue's window.
#[derive(Debug)]
struct Waiting {
    idx: usize,
    action: Outgoing,
    due_ms: i64,
}

/// The actions waiting for the venue's windows, in the order they were
/// first refused.
#[derive(Debug, Default)]
pub(super) struct WaitingActions {
    list: Vec<Waiting>,
}

impl WaitingActions {
    /// Whether nothing waits (the hot path's only question).
    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Keeps `action` of algorithm `idx` until `due_ms`. Returns the amend it
    /// replaces: a waiting amend of the same order.
    fn push(&mut self, idx: usize, action: Outgoing, due_ms: i64) -> Option<AmendRequest> {
        if let Outgoing::Amend(amend) = &action
            && let Some(older) = self.list.iter_mut().find(|w| {
                matches!(&w.action, Outgoing::Amend(a) if a.client_order_id == amend.client_order_id)
            })
        {
            let replaced = std::mem::replace(&mut older.action, action);
            older.due_ms = due_ms;
            return match replaced {
                Outgoing::Amend(amend) => Some(amend),
                Outgoing::Place(_) | Outgoing::Cancel(_) => None,
            };
        }
        self.list.push(Waiting {
            idx,
            action,
            due_ms,
        });
        None
    }

    /// Removes and returns the actions due at `now_ms`, oldest first.
    fn take_due(&mut self, now_ms: i64) -> Vec<Waiting> {
        let (due, later): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.list)
            .into_iter()
            .partition(|w| w.due_ms <= now_ms);
        self.list = later;
        due
    }
}

/// The client order id an action is about.
fn action_id(action: &Outgoing) -> &ClientOrderId {
    match action {
        Outgoing::Place(request) => &request.client_order_id,
        Outgoing::Amend(amend) => &amend.client_order_id,
        Outgoing::Cancel(id) => id,
    }
}

impl<E: ExchangeClient> Orchestrator<E> {
    /// Keeps an action the venue's window refused, and queues what the
    /// plugin hears of it.
    pub(super) fn wait_for_window(
        &mut self,
        idx: usize,
        action: Outgoing,
        retry_after_ms: u64,
        reason: &str,
        queue: &mut VecDeque<Call>,
    ) {
        let id = action_id(&action).clone();
        let kind = match &action {
            Outgoing::Place(_) => "placement",
            Outgoing::Amend(_) => "amend",
            Outgoing::Cancel(_) => "cancel",
        };
        let due = self
            .now_ms
            .saturating_add(i64::try_from(retry_after_ms).unwrap_or(i64::MAX));
        tracing::info!(algorithm = %self.algorithms[idx].row().id, order = %id, "{kind} delayed {retry_after_ms} ms: {reason}");
        let placement = matches!(action, Outgoing::Place(_));
        if let Some(replaced) = self.waiting.push(idx, action, due) {
            tracing::info!(algorithm = %self.algorithms[idx].row().id, order = %replaced.client_order_id, "a waiting amend was dropped: a newer amend of the same order replaces it");
        }
        if placement {
            // Heard when it is sent (its acknowledgement) or dropped.
            return;
        }
        if let Some(update) = self.current_state(
            idx,
            &id,
            format!("{kind} delayed {retry_after_ms} ms, not sent yet: {reason}"),
        ) {
            queue.push_back(Call::Notice(update));
        }
    }

    /// Sends the waiting actions that are due; an ended algorithm's are
    /// dropped (its placements reported rejected).
    pub(super) fn send_waiting(&mut self) -> Result<(), OrchestratorError> {
        if self.waiting.is_empty() {
            return Ok(());
        }
        for Waiting { idx, action, .. } in self.waiting.take_due(self.now_ms) {
            let mut queue = VecDeque::new();
            if self.algorithms[idx].row().status.is_terminal() {
                if let Outgoing::Place(request) = action {
                    let refusal = self.reject_unsent(
                        idx,
                        request.client_order_id,
                        "not sent: its algorithm ended while it waited for the venue's rate-limit window".into(),
                    );
                    queue.push_back(refusal);
                }
            } else {
                self.send(idx, action, &mut queue);
            }
            for call in queue {
                self.deliver(idx, call)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amend(id: &str, price: i64) -> Outgoing {
        Outgoing::Amend(AmendRequest {
            client_order_id: id.into(),
            new_price: Some(Decimal::from(price)),
            new_quantity: None,
        })
    }

    #[test]
    fn a_newer_amend_replaces_a_waiting_one_and_due_actions_leave_in_order() {
        let mut waiting = WaitingActions::default();
        assert!(waiting.push(0, amend("a-1", 100), 10).is_none());
        assert!(waiting.push(0, Outgoing::Cancel("a-2".into()), 5).is_none());
        let replaced = waiting.push(0, amend("a-1", 101), 20).unwrap();
        assert_eq!(replaced.new_price, Some(Decimal::from(100)));
        assert!(waiting.take_due(4).is_empty());
        let due = waiting.take_due(20);
        let ids: Vec<&str> = due.iter().map(|w| action_id(&w.action).as_str()).collect();
        assert_eq!(ids, ["a-1", "a-2"]);
        assert!(
            matches!(&due[0].action, Outgoing::Amend(a) if a.new_price == Some(Decimal::from(101)))
        );
        assert!(waiting.is_empty());
    }
}
