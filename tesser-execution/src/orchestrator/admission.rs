//! Admission of child actions: ids, the risk guard, and the refusals the
//! plugin is told about.

use super::*;

impl<E: ExchangeClient> Orchestrator<E> {
    /// Logs a refused child action and builds the order update that tells
    /// the plugin.
    pub(super) fn refusal(
        &self,
        idx: usize,
        client_order_id: ClientOrderId,
        status: OrderStatus,
        filled: Decimal,
        remaining: Decimal,
        reason: String,
    ) -> Box<OrderUpdate> {
        let algo = &self.algorithms[idx];
        tracing::warn!(algorithm = %algo.row().id, plugin = %algo.row().plugin, order = %client_order_id, "child action refused: {reason}");
        Box::new(OrderUpdate {
            client_order_id,
            symbol: algo.row().symbol.clone(),
            status,
            filled_quantity: filled,
            remaining_quantity: remaining,
            reason: Some(reason),
            timestamp_ms: self.now_ms,
        })
    }

    /// A child order's current state as an update carrying `reason` (what
    /// the plugin hears of a delayed or refused amend or cancel).
    pub(super) fn current_state(
        &self,
        idx: usize,
        id: &ClientOrderId,
        reason: String,
    ) -> Option<OrderUpdate> {
        let child = self.algorithms[idx].child(id)?;
        Some(OrderUpdate {
            client_order_id: id.clone(),
            symbol: self.algorithms[idx].row().symbol.clone(),
            status: child.status(),
            filled_quantity: child.exchange_filled(),
            remaining_quantity: child.working(),
            reason: Some(reason),
            timestamp_ms: self.now_ms,
        })
    }

    /// The refusal of a placement that never reached the venue: rejected,
    /// nothing filled, nothing working.
    pub(super) fn placement_refusal(
        &self,
        idx: usize,
        id: ClientOrderId,
        reason: String,
    ) -> Box<OrderUpdate> {
        self.refusal(
            idx,
            id,
            OrderStatus::Rejected,
            Decimal::ZERO,
            Decimal::ZERO,
            reason,
        )
    }

    pub(super) fn check_place(
        &mut self,
        idx: usize,
        request: PluginOrderRequest,
        now: i64,
    ) -> Result<OrderRequest, Box<OrderUpdate>> {
        let funds = self.funds_of(idx);
        let algo = &mut self.algorithms[idx];
        let client_order_id = match request.client_order_id.as_deref() {
            None => algo.next_child_id(),
            Some(suffix) => {
                let id = ClientOrderId::new(format!("{}-{suffix}", algo.row().id));
                let valid = !suffix.is_empty()
                    && suffix.len() <= 32
                    && suffix
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !valid || algo.has_child(&id) {
                    let reason = if valid {
                        format!(
                            "client order id suffix '{suffix}' was already used by this algorithm"
                        )
                    } else {
                        format!(
                            "client order id suffix '{suffix}' must be 1-32 letters, digits, '_' or '-'"
                        )
                    };
                    return Err(self.placement_refusal(idx, id, reason));
                }
                id
            }
        };
        let symbol = if request.symbol == algo.row().symbol.as_str() {
            algo.row().symbol.clone()
        } else {
            Symbol::from(request.symbol.as_str())
        };
        let order = OrderRequest {
            client_order_id,
            symbol,
            side: side_from_plugin(request.side),
            order_type: order_type_from_plugin(request.order_type),
            quantity: request.quantity,
            price: request.price,
            trigger_price: request.trigger_price,
            time_in_force: tif_from_plugin(request.time_in_force),
        };
        let (filled, working) = algo.exposure();
        let last_price = self.portfolio.last_price(&algo.row().symbol);
        let (row, rate) = algo.row_and_rate();
        let exposure = AlgorithmExposure {
            symbol: &row.symbol,
            side: row.side,
            target: row.target,
            filled,
            working,
            funds: funds.as_ref().map(|(asset, available)| Funds {
                asset,
                available: *available,
            }),
        };
        let proposed = ProposedOrder {
            symbol: &order.symbol,
            side: order.side,
            order_type: order.order_type,
            quantity: order.quantity,
            price: order.price,
            trigger_price: order.trigger_price,
        };
        if let Err(violation) = self
            .risk
            .check_place(&exposure, &proposed, last_price, rate, now)
        {
            algo.risk_rejections += 1;
            let id = order.client_order_id.clone();
            // The refused order keeps its id, so the plugin can match the
            // rejection, and the id is never used again.
            let child = Child::refused(order, algo.row().id.clone(), now);
            algo.add_child(id.clone(), child);
            self.note_unstored(idx, SnapshotWanted::No, Some(id.clone()), None);
            return Err(self.refusal(
                idx,
                id,
                OrderStatus::Rejected,
                Decimal::ZERO,
                Decimal::ZERO,
                violation.to_string(),
            ));
        }
        let id = order.client_order_id.clone();
        let child = Child::placed(order.clone(), algo.row().id.clone(), now);
        algo.add_child(id.clone(), child);
        self.by_child.insert(id, idx);
        Ok(order)
    }

    pub(super) fn check_amend(
        &mut self,
        idx: usize,
        amend: &PluginOrderUpdateRequest,
        now: i64,
    ) -> Result<AmendRequest, Box<OrderUpdate>> {
        let id = ClientOrderId::new(amend.client_order_id.as_str());
        let funds = self.funds_of(idx);
        let algo = &mut self.algorithms[idx];
        let Some(child) = algo
            .child(&id)
            .filter(|c| c.is_open() && !c.row().cancel_requested)
        else {
            let (status, filled) = algo
                .child(&id)
                .map_or((OrderStatus::Rejected, Decimal::ZERO), |c| {
                    (c.status(), c.exchange_filled())
                });
            let reason = format!(
                "amend refused: {id} is not an open child order of {}",
                algo.row().id
            );
            return Err(self.refusal(idx, id, status, filled, Decimal::ZERO, reason));
        };
        let proposed = ProposedAmend {
            order_type: child.row().request.order_type,
            quantity: child.counted_quantity(),
            filled: child.exchange_filled(),
            price: child.row().request.price,
            new_quantity: amend.new_quantity,
            new_price: amend.new_price,
        };
        let (status, child_filled, remaining) =
            (child.status(), child.exchange_filled(), child.working());
        let (filled, working) = algo.exposure();
        let last_price = self.portfolio.last_price(&algo.row().symbol);
        let (row, rate) = algo.row_and_rate();
        let exposure = AlgorithmExposure {
            symbol: &row.symbol,
            side: row.side,
            target: row.target,
            filled,
            working,
            funds: funds.as_ref().map(|(asset, available)| Funds {
                asset,
                available: *available,
            }),
        };
        if let Err(violation) = self
            .risk
            .check_amend(&exposure, &proposed, last_price, rate, now)
        {
            algo.risk_rejections += 1;
            return Err(self.refusal(
                idx,
                id,
                status,
                child_filled,
                remaining,
                format!("amend refused: {violation}"),
            ));
        }
        let request = AmendRequest {
            client_order_id: id.clone(),
            new_price: amend.new_price,
            new_quantity: amend.new_quantity,
        };
        if let Some(child) = algo.child_mut(&id) {
            child.pend_amend(&request, now);
        }
        Ok(request)
    }

    pub(super) fn check_cancel(
        &mut self,
        idx: usize,
        client_order_id: &str,
        now: i64,
    ) -> Result<ClientOrderId, Box<OrderUpdate>> {
        let id = ClientOrderId::new(client_order_id);
        let algo = &mut self.algorithms[idx];
        match algo.child_mut(&id) {
            Some(child) if child.is_open() && !child.row().cancel_requested => {
                child.request_cancel(now);
                Ok(id)
            }
            other => {
                let (status, filled) = other.map_or((OrderStatus::Rejected, Decimal::ZERO), |c| {
                    (c.status(), c.exchange_filled())
                });
                let reason = format!(
                    "cancel refused: {id} is not an open child order of {} (or a cancel is already pending)",
                    algo.row().id
                );
                Err(self.refusal(idx, id, status, filled, Decimal::ZERO, reason))
            }
        }
    }
}
