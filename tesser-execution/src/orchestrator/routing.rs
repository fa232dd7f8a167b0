//! Routing: sending committed actions to the exchange, and exchange events
//! (fills, order updates) to the algorithm that owns the order.

use super::*;

impl<E: ExchangeClient> Orchestrator<E> {
    fn warn_unknown(&self, idx: usize, error: &ExchangeError) {
        let algo = &self.algorithms[idx];
        tracing::warn!(algorithm = %algo.row().id, plugin = %algo.row().plugin, "{error}; waiting for the venue's report");
    }

    /// Sends one committed action and queues what the plugin must learn.
    pub(super) fn send(&mut self, idx: usize, action: Outgoing, queue: &mut VecDeque<Call>) {
        let now = self.now_ms;
        match action {
            Outgoing::Place(request) => {
                let id = request.client_order_id.clone();
                match self.exchange.place_order(request, now) {
                    Ok(order) => queue.push_back(Call::Update(order.to_update(None))),
                    Err(ExchangeError::Throttled {
                        retry_after_ms,
                        reason,
                        ..
                    }) => {
                        // Still pending (and counted by the risk guard); the
                        // stored child holds the request to send again.
                        if let Some(child) = self.algorithms[idx].child(&id) {
                            let retry = Outgoing::Place(child.row().request.clone());
                            self.wait_for_window(idx, retry, retry_after_ms, &reason, queue);
                        }
                    }
                    Err(error @ ExchangeError::OutcomeUnknown { .. }) => {
                        // Neither accepted nor rejected: the child stays
                        // pending (and counted by the risk guard) until the
                        // venue's report acknowledges or refuses it.
                        self.warn_unknown(idx, &error);
                    }
                    Err(error) => {
                        let refusal = self.reject_unsent(idx, id, error.to_string());
                        queue.push_back(refusal);
                    }
                }
            }
            Outgoing::Amend(amend) => match self.exchange.amend_order(&amend, now) {
                Err(ExchangeError::Throttled {
                    retry_after_ms,
                    reason,
                    ..
                }) => {
                    // The pending amend stays counted until it is sent.
                    self.wait_for_window(
                        idx,
                        Outgoing::Amend(amend),
                        retry_after_ms,
                        &reason,
                        queue,
                    );
                }
                Err(error @ ExchangeError::OutcomeUnknown { .. }) => {
                    // The pending amend stays counted until the venue reports.
                    self.warn_unknown(idx, &error);
                }
                Ok(order) => {
                    if let Some(child) = self.algorithms[idx].child_mut(&amend.client_order_id) {
                        child.amended(order.request);
                    }
                }
                Err(error) => {
                    if let Some(child) = self.algorithms[idx].child_mut(&amend.client_order_id) {
                        child.amend_refused();
                    }
                    self.refused_by_venue(idx, &amend.client_order_id, "amend", &error, queue);
                }
            },
            Outgoing::Cancel(id) => match self.exchange.cancel_order(&id, now) {
                Err(ExchangeError::Throttled {
                    retry_after_ms,
                    reason,
                    ..
                }) => {
                    // The cancel stays requested until it is sent.
                    self.wait_for_window(idx, Outgoing::Cancel(id), retry_after_ms, &reason, queue);
                }
                Err(error @ ExchangeError::OutcomeUnknown { .. }) => {
                    // The cancel stays requested until the venue reports.
                    self.warn_unknown(idx, &error);
                }
                Ok(order) => {
                    self.close_child(idx, &id);
                    queue.push_back(Call::Update(order.to_update(None)));
                }
                Err(error) => {
                    if let Some(child) = self.algorithms[idx].child_mut(&id) {
                        child.cancel_refused();
                    }
                    self.refused_by_venue(idx, &id, "cancel", &error, queue);
                }
            },
        }
    }

    /// The venue refused an amend or a cancel (`what`) of a child order:
    /// logged, and the plugin hears the order's state with why.
    fn refused_by_venue(
        &self,
        idx: usize,
        id: &ClientOrderId,
        what: &str,
        error: &ExchangeError,
        queue: &mut VecDeque<Call>,
    ) {
        let reason = format!("{what} refused by the exchange: {error}");
        let algo = &self.algorithms[idx];
        tracing::warn!(algorithm = %algo.row().id, plugin = %algo.row().plugin, order = %id, "child action refused: {reason}");
        if let Some(update) = self.current_state(idx, id, reason) {
            queue.push_back(Call::Notice(update));
        }
    }

    /// Closes a child order that was never sent and answers the plugin's
    /// `Place` with `Rejected` and `reason`.
    pub(super) fn reject_unsent(&mut self, idx: usize, id: ClientOrderId, reason: String) -> Call {
        self.reject_child(idx, &id);
        Call::Notice(*self.placement_refusal(idx, id, reason))
    }

    /// Books a child order that never reached the venue as rejected, and
    /// closes it.
    pub(super) fn reject_child(&mut self, idx: usize, id: &ClientOrderId) {
        let now = self.now_ms;
        if let Some(child) = self.algorithms[idx].child_mut(id) {
            child.reject(now);
            self.note_unstored(idx, SnapshotWanted::No, Some(id.clone()), None);
        }
        self.close_child(idx, id);
    }

    /// The exchange can no longer fill the child order.
    pub(super) fn close_child(&mut self, idx: usize, id: &ClientOrderId) {
        self.algorithms[idx].close_child(id);
    }

    /// Routes what the exchange reported since the last poll.
    pub(super) fn process_exchange_events(&mut self) -> Result<(), OrchestratorError> {
        self.exchange.poll_events(&mut self.events);
        if self.events.is_empty() {
            return Ok(());
        }
        let events = std::mem::take(&mut self.events);
        for event in &events {
            self.route_event(event.clone())?;
        }
        self.events = events;
        self.events.clear();
        Ok(())
    }

    pub(super) fn route_event(&mut self, event: ExchangeEvent) -> Result<(), OrchestratorError> {
        let id = match &event {
            ExchangeEvent::Fill(fill) => &fill.client_order_id,
            ExchangeEvent::OrderUpdate(update) => &update.client_order_id,
            ExchangeEvent::Settled(order) => &order.request.client_order_id,
            ExchangeEvent::Balances(balances) => {
                // The account's word, for every algorithm: no one owns it.
                self.portfolio.update_account(balances);
                return Ok(());
            }
        };
        let Some(&idx) = self.by_child.get(id) else {
            tracing::warn!(order = %id, "exchange event for an order no algorithm owns; ignored");
            return Ok(());
        };
        match event {
            ExchangeEvent::Fill(fill) => {
                // After a restart the exchange may report again a fill that
                // reconciliation already booked.
                if self.fill_booked(idx, &fill.fill_id)? {
                    tracing::debug!(fill = %fill.fill_id, "fill already booked; ignored");
                    return Ok(());
                }
                self.book_fill(idx, &fill);
                self.deliver(idx, Call::Fill(fill))
            }
            ExchangeEvent::OrderUpdate(update) => {
                if !update.status.is_open() {
                    self.close_child(idx, &update.client_order_id);
                } else if self.adopt_child(idx, &update.client_order_id)? == Adoption::Cancelled {
                    return Ok(());
                }
                self.deliver(idx, Call::Update(update))
            }
            ExchangeEvent::Settled(order) => self.settle_child(idx, &order),
            ExchangeEvent::Balances(_) => Ok(()),
        }
    }

    /// An open order's report for a child the runtime had closed: a
    /// placement whose outcome was unknown, presumed never placed, went live
    /// inside the venue after all. It is never orphaned: its algorithm
    /// takes it back while it works (its fills are booked to it as any
    /// other's), and an ended algorithm's is cancelled.
    fn adopt_child(
        &mut self,
        idx: usize,
        id: &ClientOrderId,
    ) -> Result<Adoption, OrchestratorError> {
        let algo = &mut self.algorithms[idx];
        if !algo.reopen_child(id) {
            // No such child, or it was open.
            return Ok(Adoption::Open);
        }
        if algo.row().status.is_terminal() {
            tracing::warn!(algorithm = %algo.row().id, order = %id, "an order presumed never placed is live at the venue after its algorithm ended; cancelling it");
            self.cancel_children(idx, std::slice::from_ref(id))?;
            return Ok(Adoption::Cancelled);
        }
        tracing::warn!(algorithm = %algo.row().id, order = %id, "an order presumed never placed is live at the venue; its algorithm takes it back");
        self.note_unstored(idx, SnapshotWanted::No, Some(id.clone()), None);
        Ok(Adoption::Open)
    }

    /// Takes the venue's view of a child whose amend or cancel had an
    /// unknown outcome: its price, quantity and status replace the runtime's,
    /// the pending request ends, and the plugin hears how it ended.
    fn settle_child(&mut self, idx: usize, order: &Order) -> Result<(), OrchestratorError> {
        let id = order.request.client_order_id.clone();
        let Some(child) = self.algorithms[idx].child_mut(&id) else {
            return Ok(());
        };
        let (amend, cancel) = child.take_pending();
        child.take_venue_terms(&order.request);
        let mut outcome = Vec::new();
        if let Some(amend) = amend {
            let took = amend
                .new_price
                .is_none_or(|p| Some(p) == order.request.price)
                && amend
                    .new_quantity
                    .is_none_or(|q| q == order.request.quantity);
            outcome.push(if took {
                "the amend took effect"
            } else {
                "the amend did not take effect"
            });
        }
        if cancel {
            outcome.push(if order.status.is_open() {
                "the cancel did not take effect"
            } else {
                "the order is closed"
            });
        }
        let price = order
            .request
            .price
            .map_or_else(|| "market".to_owned(), |p| p.to_string());
        let reason = format!(
            "settled after an unknown outcome: {}; the venue holds {} at {price}, {:?}",
            if outcome.is_empty() {
                "nothing was pending".to_owned()
            } else {
                outcome.join(", ")
            },
            order.request.quantity,
            order.status,
        );
        tracing::info!(algorithm = %self.algorithms[idx].row().id, order = %id, "{reason}");
        self.note_unstored(idx, SnapshotWanted::No, Some(id.clone()), None);
        if !order.status.is_open() {
            self.close_child(idx, &id);
        }
        self.deliver(idx, Call::Update(order.to_update(Some(reason))))
    }

    /// Asks the exchange for the fills of children reported filled beyond
    /// their delivered fills for [`AWAITED_FILLS_RECOVERY_MS`]: a venue that
    /// lost its fill reports (a dropped stream) must not leave their quantity
    /// counted as working, and the algorithm stalled, for ever.
    pub(super) fn recover_awaited_fills(&mut self, idx: usize) -> Result<(), OrchestratorError> {
        let now = self.now_ms;
        let algo = &self.algorithms[idx];
        if algo
            .awaiting_fills
            .values()
            .all(|since| now - since < AWAITED_FILLS_RECOVERY_MS)
        {
            return Ok(());
        }
        let due: Vec<ClientOrderId> = algo
            .awaiting_fills
            .iter()
            .filter(|(_, since)| now - **since >= AWAITED_FILLS_RECOVERY_MS)
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            tracing::warn!(algorithm = %self.algorithms[idx].row().id, order = %id, "fills reported but not received for {AWAITED_FILLS_RECOVERY_MS} ms; asking the exchange");
            match self.exchange.order_fills(&id) {
                Ok(fills) => {
                    for fill in fills {
                        if fill.client_order_id == id {
                            self.route_event(ExchangeEvent::Fill(fill))?;
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(order = %id, "cannot ask the exchange for the fills: {error}");
                }
            }
            // Still short: ask again later.
            if let Some(since) = self.algorithms[idx].awaiting_fills.get_mut(&id) {
                *since = now;
            }
        }
        Ok(())
    }

    /// Books a fill into the portfolio and the algorithm's totals.
    pub(super) fn book_fill(&mut self, idx: usize, fill: &Fill) {
        self.portfolio.apply_fill(fill);
        self.algorithms[idx].book_fill(fill);
    }
}

/// What became of an open order's report for a closed child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adoption {
    /// The child is open (it was, or its algorithm took it back).
    Open,
    /// Its algorithm had ended: the order was cancelled at the venue.
    Cancelled,
}
