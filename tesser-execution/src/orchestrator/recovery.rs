//! Crash recovery: rebuilding algorithms from the store and reconciling
//! their child orders with the exchange.

use super::*;

impl<E: ExchangeClient> Orchestrator<E> {
    /// Rebuilds the runtime from the store and reconciles with the exchange.
    pub(super) fn recover(&mut self) -> Result<(), OrchestratorError> {
        let rows = self.store.algorithms()?;
        if rows.is_empty() {
            return Ok(());
        }
        let children = self.store.child_orders()?;
        let journal = self.store.fills()?;
        self.now_ms = rows.iter().map(|r| r.updated_ms).max().unwrap_or(0);
        let mut inits = Vec::new();
        let mut restarts = Vec::new();
        let mut failed = Vec::new();
        for row in rows {
            let id = row.id.clone();
            // A finishing algorithm has no plugin to revive.
            let working = row.status == AlgorithmStatus::Working;
            let idx = self.add_algorithm(row, None);
            if !working {
                continue;
            }
            match self
                .revive(idx)
                .map_err(|detail| OrchestratorError::CorruptState { id, detail })?
            {
                Revival::Restored => {}
                Revival::NeedsInit(ctx) => inits.push((idx, ctx)),
                Revival::Restart => restarts.push(idx),
                Revival::Failed(reason) => failed.push((idx, reason)),
            }
        }
        for row in children {
            let Some(&idx) = self.by_id.get(&row.algorithm_id) else {
                continue;
            };
            let id = row.request.client_order_id.clone();
            self.algorithms[idx].add_child(id.clone(), Child::stored(row));
            self.by_child.insert(id, idx);
        }
        for entry in &journal {
            self.portfolio.apply_fill(&entry.fill);
            if let Some(&idx) = self.by_id.get(&entry.algorithm_id) {
                // Nothing awaits fills yet: booking is the same as at run time.
                self.algorithms[idx].book_fill(&entry.fill);
            }
        }
        // Ended once its child orders are known, so the failure is stored,
        // alerted and its open orders cancelled like any other.
        for (idx, reason) in failed {
            self.end_algorithm(
                idx,
                AlgorithmStatus::Failed,
                Some(format!("on restart: {reason}")),
            )?;
        }
        for (idx, ctx) in inits {
            self.deliver(idx, Call::Init(ctx))?;
        }
        for idx in 0..self.algorithms.len() {
            self.reconcile(idx)?;
        }
        for idx in restarts {
            self.restart_from_what_is_left(idx)?;
        }
        Ok(())
    }

    /// Books the fills the journal misses of orders stored closed: a
    /// closing update can overtake its fills, and a crash can lose the
    /// fills still waiting for their batch. The exchange has them.
    ///
    /// # Errors
    /// The exchange could not be asked, or the store failed.
    fn recover_fills_of_closed_orders(&mut self, idx: usize) -> Result<(), OrchestratorError> {
        let short = self.algorithms[idx]
            .child_ids(|c| !c.row().state.may_be_open() && c.fills_in_flight() > Decimal::ZERO);
        for id in short {
            let mut queue = VecDeque::new();
            self.book_missed_fills(idx, &id, &mut queue)?;
            for call in queue {
                self.deliver(idx, call)?;
            }
        }
        Ok(())
    }

    /// Books the fills of child order `id` the exchange has and the journal
    /// lacks, queueing each for the plugin.
    ///
    /// # Errors
    /// The exchange could not be asked, or the store failed.
    fn book_missed_fills(
        &mut self,
        idx: usize,
        id: &ClientOrderId,
        queue: &mut VecDeque<Call>,
    ) -> Result<(), OrchestratorError> {
        let fills =
            self.exchange
                .order_fills(id)
                .map_err(|source| OrchestratorError::Reconcile {
                    client_order_id: id.clone(),
                    source,
                })?;
        for fill in fills {
            if fill.client_order_id == *id && !self.fill_booked(idx, &fill.fill_id)? {
                self.book_fill(idx, &fill);
                queue.push_back(Call::Fill(fill));
            }
        }
        Ok(())
    }

    /// Starts an algorithm whose plugin keeps no state (its snapshot is
    /// `null`) again after a restart: its open child orders are cancelled
    /// and their final fills booked (reconciliation already booked the rest),
    /// then `init` runs on a fresh instance with the remaining quantity
    /// (target − filled).
    ///
    /// # Errors
    /// The store failed.
    fn restart_from_what_is_left(&mut self, idx: usize) -> Result<(), OrchestratorError> {
        if self.algorithms[idx].row().status != AlgorithmStatus::Working {
            return Ok(());
        }
        let open: Vec<ClientOrderId> = self.algorithms[idx].open_ids();
        if !open.is_empty() {
            self.commit_row(idx, &open)?;
            self.cancel_children(idx, &open)?;
            // Fills the cancels raced with arrive as exchange events and are
            // booked then; the risk guard counts what is still open.
            self.process_exchange_events()?;
        }
        let algo = &mut self.algorithms[idx];
        algo.restarting = false;
        if algo.row().status != AlgorithmStatus::Working {
            return Ok(());
        }
        let remaining = algo.row().target - algo.filled;
        if remaining <= Decimal::ZERO {
            return self.settle_if_done(idx);
        }
        let mut ctx: PluginInitContext = serde_json::from_str(&algo.row().init_context_json)
            .map_err(|e| OrchestratorError::CorruptState {
                id: algo.row().id.clone(),
                detail: format!("init context: {e}"),
            })?;
        tracing::info!(
            algorithm = %algo.row().id,
            plugin = %algo.row().plugin,
            filled = %algo.filled,
            target = %algo.row().target,
            cancelled = open.len(),
            "restarting the algorithm from what is left: its plugin keeps no state (snapshot null), so its open orders were settled and init runs again for the remaining {remaining}"
        );
        ctx.signal.target_quantity = remaining;
        ctx.now_ms = self.now_ms;
        let symbol = algo.row().symbol.clone();
        ctx.risk = self.risk_context(&symbol);
        self.deliver(idx, Call::Init(Box::new(ctx)))
    }

    /// Brings one algorithm's child orders in line with the exchange after a
    /// restart, delivering to the plugin what it missed.
    pub(super) fn reconcile(&mut self, idx: usize) -> Result<(), OrchestratorError> {
        self.recover_fills_of_closed_orders(idx)?;
        let ids = self.algorithms[idx].child_ids(|c| c.row().state.may_be_open());
        let reconcile_error = |id: &ClientOrderId| {
            let client_order_id = id.clone();
            move |source| OrchestratorError::Reconcile {
                client_order_id,
                source,
            }
        };
        for id in ids {
            let order = self.exchange.order(&id).map_err(reconcile_error(&id))?;
            // A finishing algorithm's orders are the runtime's to work: a
            // committed place is sent, amends and cancels are completed.
            let working = !self.algorithms[idx].row().status.is_terminal();
            let Some(child) = self.algorithms[idx].child(&id).cloned() else {
                continue;
            };
            let mut queue = VecDeque::new();
            match order {
                // (Not for an algorithm about to start again from what is
                // left: its `init` decides anew.)
                None if child.row().state == ChildState::PendingNew
                    && working
                    && !self.algorithms[idx].restarting
                    && !child.row().cancel_requested =>
                {
                    // Committed but never sent: send it now, under the same id.
                    tracing::info!(algorithm = %child.row().algorithm_id, order = %id, "sending a child order the crash kept from the exchange");
                    self.send(
                        idx,
                        Outgoing::Place(child.row().request.clone()),
                        &mut queue,
                    );
                }
                None => {
                    self.reject_child(idx, &id);
                    let reason =
                        "the order never reached the exchange before the restart".to_owned();
                    let update = self.refusal(
                        idx,
                        id.clone(),
                        OrderStatus::Rejected,
                        child.exchange_filled(),
                        Decimal::ZERO,
                        reason,
                    );
                    queue.push_back(Call::Notice(*update));
                }
                Some(order) => {
                    // The exchange's price and quantity stand: an amend sent
                    // after the last stored batch may have changed them.
                    if order.request.price != child.row().request.price
                        || order.request.quantity != child.row().request.quantity
                    {
                        if let Some(stored) = self.algorithms[idx].child_mut(&id) {
                            stored.take_venue_terms(&order.request);
                        }
                        self.note_unstored(idx, SnapshotWanted::No, Some(id.clone()), None);
                    }
                    if child.row().state == ChildState::PendingNew {
                        let mut ack = order.to_update(None);
                        ack.status = OrderStatus::Accepted;
                        ack.filled_quantity = Decimal::ZERO;
                        ack.remaining_quantity = order.request.quantity;
                        queue.push_back(Call::Update(ack));
                    }
                    self.book_missed_fills(idx, &id, &mut queue)?;
                    if ChildState::Known(order.status) != child.row().state
                        || child.row().filled != order.filled_quantity
                    {
                        queue.push_back(Call::Update(order.to_update(None)));
                    }
                    if order.status.is_open() {
                        if let Some(amend) = child.row().pending_amend.clone().filter(|a| {
                            a.new_price.is_some_and(|p| Some(p) != order.request.price)
                                || a.new_quantity.is_some_and(|q| q != order.request.quantity)
                        }) && working
                        {
                            self.send(idx, Outgoing::Amend(amend), &mut queue);
                        }
                        if child.row().cancel_requested && working {
                            self.send(idx, Outgoing::Cancel(id.clone()), &mut queue);
                        }
                    } else {
                        self.close_child(idx, &id);
                    }
                }
            }
            for call in queue {
                self.deliver(idx, call)?;
            }
        }
        // An ended algorithm leaves no child order behind.
        if self.algorithms[idx].row().status.is_terminal() {
            let open: Vec<ClientOrderId> = self.algorithms[idx].open_ids();
            self.cancel_children(idx, &open)?;
            return Ok(());
        }
        self.settle_if_done(idx)
    }

    /// Re-creates a working algorithm's instance from its stored plugin name
    /// and restores its last snapshot (or re-runs `init` if it never
    /// returned). A failure here fails the algorithm, not the runtime.
    pub(super) fn revive(&mut self, idx: usize) -> Result<Revival, String> {
        let plugin = self.algorithms[idx].row().plugin.clone();
        let mut instance = match self.provider.create(&plugin) {
            Ok(instance) => instance,
            Err(error) => {
                return Ok(Revival::Failed(format!(
                    "cannot re-create plugin on restart: {error}"
                )));
            }
        };
        let algo = &mut self.algorithms[idx];
        if algo
            .row()
            .snapshot
            .as_deref()
            .is_some_and(|s| s.trim() == "null")
        {
            // Nothing to restore: `restart_from_what_is_left` starts it again
            // once its child orders are reconciled; until then it hears no
            // events.
            algo.instance = Some(instance);
            algo.restarting = true;
            return Ok(Revival::Restart);
        }
        if let Some(snapshot_json) = algo.row().snapshot.clone() {
            let ctx = PluginRestoreContext {
                algorithm_id: algo.row().id.clone(),
                symbol: algo.row().symbol.to_string(),
                snapshot_json,
            };
            if let Err(error) = instance.restore(&ctx) {
                return Ok(Revival::Failed(error.to_string()));
            }
            algo.instance = Some(instance);
            tracing::info!(algorithm = %algo.row().id, plugin = %plugin, "algorithm restored from its snapshot");
            Ok(Revival::Restored)
        } else {
            // It crashed before `init` returned, so nothing was sent: start over.
            let ctx: PluginInitContext = serde_json::from_str(&algo.row().init_context_json)
                .map_err(|e| format!("init context: {e}"))?;
            algo.instance = Some(instance);
            Ok(Revival::NeedsInit(Box::new(ctx)))
        }
    }
}

/// How a working algorithm came back after a restart.
pub(super) enum Revival {
    /// Its instance restored its snapshot.
    Restored,
    /// It never returned from `init`: run `init` again.
    NeedsInit(Box<PluginInitContext>),
    /// Its plugin keeps no state (snapshot `null`): settle its orders, then
    /// `init` again with what is left.
    Restart,
    /// It cannot come back (the plugin is gone or `restore` failed).
    Failed(String),
}
