//! What the orchestrator knows of each algorithm and its child orders, and
//! the rules that change it.
//!
//! [`Child`] keeps one child order: the stored row, what the exchange has
//! filled, and whether the exchange may still fill it. Its fields are
//! private; each change the orchestrator makes is a method (an update the
//! plugin heard, a refusal, an amend or a cancel going out or coming back).
//!
//! [`Algorithm`] owns its children and the set of open ones: a child opens
//! and closes only through [`Algorithm::add_child`],
//! [`Algorithm::close_child`] and [`Algorithm::reopen_child`], so the two
//! never disagree (a child closed in one and open in the other is an order
//! left at the venue under an ended algorithm, or an algorithm that never
//! ends).

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use tesser_core::{AmendRequest, ClientOrderId, Fill, OrderRequest, OrderStatus, OrderUpdate};

use super::{AlgorithmSummary, HashMap};
use crate::risk::ActionRate;
use crate::store::{AlgorithmRow, ChildOrderRow, ChildState, child_order_id};
use crate::{AlgorithmStatus, ExecutionAlgorithm};

/// A child order as the orchestrator tracks it.
#[derive(Debug, Clone)]
pub(super) struct Child {
    row: ChildOrderRow,
    /// Quantity the exchange has filled (may run ahead of what the plugin
    /// has been told).
    exchange_filled: Decimal,
    /// Whether the exchange may still fill it (kept by [`Algorithm`]).
    open: bool,
}

impl Child {
    /// A placement that passed the risk guard: pending until the venue
    /// answers, and open.
    pub(super) fn placed(request: OrderRequest, algorithm_id: String, now_ms: i64) -> Self {
        Self::new(request, algorithm_id, ChildState::PendingNew, now_ms)
    }

    /// A placement the risk guard refused: kept (rejected, closed) so its id
    /// is never used again.
    pub(super) fn refused(request: OrderRequest, algorithm_id: String, now_ms: i64) -> Self {
        Self::new(
            request,
            algorithm_id,
            ChildState::Known(OrderStatus::Rejected),
            now_ms,
        )
    }

    fn new(request: OrderRequest, algorithm_id: String, state: ChildState, now_ms: i64) -> Self {
        let open = state.may_be_open();
        Self {
            row: ChildOrderRow {
                request,
                algorithm_id,
                state,
                filled: Decimal::ZERO,
                pending_amend: None,
                cancel_requested: false,
                updated_ms: now_ms,
            },
            exchange_filled: Decimal::ZERO,
            open,
        }
    }

    /// A child as the store kept it: open when its last known state may
    /// be; its fills are booked again from the journal.
    pub(super) fn stored(row: ChildOrderRow) -> Self {
        let open = row.state.may_be_open();
        Self {
            row,
            exchange_filled: Decimal::ZERO,
            open,
        }
    }

    /// The stored row.
    pub(super) const fn row(&self) -> &ChildOrderRow {
        &self.row
    }

    /// Quantity the exchange has filled.
    pub(super) const fn exchange_filled(&self) -> Decimal {
        self.exchange_filled
    }

    /// Whether the exchange may still fill it.
    pub(super) const fn is_open(&self) -> bool {
        self.open
    }

    /// What the plugin was last told of its status (a pending one counts as
    /// accepted).
    pub(super) const fn status(&self) -> OrderStatus {
        match self.row.state {
            ChildState::Known(status) => status,
            ChildState::PendingNew => OrderStatus::Accepted,
        }
    }

    /// An update of the venue's that the plugin now knows (or that is
    /// booked without it): its status and filled quantity.
    pub(super) fn record(&mut self, update: &OrderUpdate) {
        self.row.state = ChildState::Known(update.status);
        self.row.filled = update.filled_quantity;
        self.row.updated_ms = update.timestamp_ms;
    }

    /// The venue's answer to a cancel: its status now.
    pub(super) fn cancelled(&mut self, status: OrderStatus) {
        self.row.state = ChildState::Known(status);
    }

    /// It never reached the venue: rejected.
    pub(super) fn reject(&mut self, now_ms: i64) {
        self.row.state = ChildState::Known(OrderStatus::Rejected);
        self.row.updated_ms = now_ms;
    }

    /// An amend passed the risk guard: what is pending is its combination
    /// with one already pending (two amends in one result both reach the
    /// exchange).
    pub(super) fn pend_amend(&mut self, amend: &AmendRequest, now_ms: i64) {
        let pending = self.row.pending_amend.take();
        self.row.pending_amend = Some(AmendRequest {
            client_order_id: amend.client_order_id.clone(),
            new_price: amend
                .new_price
                .or(pending.as_ref().and_then(|p| p.new_price)),
            new_quantity: amend
                .new_quantity
                .or(pending.as_ref().and_then(|p| p.new_quantity)),
        });
        self.row.updated_ms = now_ms;
    }

    /// The venue took the amend: the order is now `request`.
    pub(super) fn amended(&mut self, request: OrderRequest) {
        self.row.request = request;
        self.row.pending_amend = None;
    }

    /// The venue refused the amend: nothing is pending.
    pub(super) fn amend_refused(&mut self) {
        self.row.pending_amend = None;
    }

    /// A cancel passed (the orchestrator's or the plugin's).
    pub(super) fn request_cancel(&mut self, now_ms: i64) {
        self.row.cancel_requested = true;
        self.row.updated_ms = now_ms;
    }

    /// A cancel was asked for and is stored before it goes out.
    pub(super) fn mark_cancel_requested(&mut self) {
        self.row.cancel_requested = true;
    }

    /// The venue refused the cancel: none is pending.
    pub(super) fn cancel_refused(&mut self) {
        self.row.cancel_requested = false;
    }

    /// The venue's price and quantity stand (an amend may have changed
    /// them behind the runtime's back: an unknown outcome, a crash).
    pub(super) fn take_venue_terms(&mut self, order: &OrderRequest) {
        self.row.request.price = order.price;
        self.row.request.quantity = order.quantity;
    }

    /// Ends what was pending (after an unknown outcome is settled): the
    /// amend, and whether a cancel was.
    pub(super) fn take_pending(&mut self) -> (Option<AmendRequest>, bool) {
        (
            self.row.pending_amend.take(),
            std::mem::take(&mut self.row.cancel_requested),
        )
    }

    /// A fill of the exchange's.
    fn book_fill(&mut self, quantity: Decimal) {
        self.exchange_filled += quantity;
    }

    /// The quantity the risk guard counts for this order: the larger of the
    /// quantity the exchange has and a pending amend's, so that actions
    /// checked before the amend is acknowledged cannot overfill together.
    pub(super) fn counted_quantity(&self) -> Decimal {
        self.row
            .pending_amend
            .as_ref()
            .and_then(|amend| amend.new_quantity)
            .map_or(self.row.request.quantity, |pending| {
                pending.max(self.row.request.quantity)
            })
    }

    /// What is still open at the exchange.
    pub(super) fn working(&self) -> Decimal {
        self.open_beyond_filled(self.row.request.quantity)
    }

    /// What the risk guard counts as working: [`Self::working`] with any
    /// pending amend's raise included.
    pub(super) fn counted_working(&self) -> Decimal {
        self.open_beyond_filled(self.counted_quantity())
    }

    /// A closed order's quantity reported filled whose fills have not
    /// arrived yet.
    pub(super) fn fills_in_flight(&self) -> Decimal {
        if self.open {
            Decimal::ZERO
        } else {
            (self.row.filled - self.exchange_filled).max(Decimal::ZERO)
        }
    }

    fn open_beyond_filled(&self, quantity: Decimal) -> Decimal {
        if self.open {
            (quantity - self.exchange_filled).max(Decimal::ZERO)
        } else {
            Decimal::ZERO
        }
    }
}

/// One algorithm at run time.
pub(super) struct Algorithm {
    /// The stored row: written only by the transitions below.
    row: AlgorithmRow,
    pub(super) instance: Option<Box<dyn ExecutionAlgorithm>>,
    /// Every child order the algorithm placed, by id. Hashed: an algorithm
    /// may place hundreds, and their ids share the algorithm's prefix, which
    /// a sorted map compares byte by byte on every lookup. Whatever walks it
    /// sorts the ids first, so recovery visits them in id order.
    children: HashMap<ClientOrderId, Child>,
    /// The open ones, in id order (cancels go out in that order).
    open_children: BTreeSet<ClientOrderId>,
    /// Closed children the exchange reported filled beyond the fills it has
    /// delivered so far (a closing update can overtake its fills): the
    /// difference is about to fill and counts as working.
    pub(super) awaiting_fills: BTreeMap<ClientOrderId, i64>,
    pub(super) filled: Decimal,
    pub(super) notional: Decimal,
    pub(super) rate: ActionRate,
    pub(super) next_timer_ms: i64,
    pub(super) last_snapshot_ms: i64,
    /// The plugin may have changed state since its last stored snapshot.
    pub(super) unsnapshotted: bool,
    /// Child orders changed since they were last stored.
    pub(super) unstored_children: Vec<ClientOrderId>,
    /// Fills booked but not stored yet.
    pub(super) unstored_fills: Vec<Fill>,
    /// Listed in [`Orchestrator::unstored`](super::Orchestrator).
    pub(super) queued_for_store: bool,
    pub(super) risk_rejections: u32,
    /// Revived after a restart without state to restore: its plugin hears
    /// nothing until its orders are settled and `init` runs again.
    pub(super) restarting: bool,
    /// Guest entries of the instances it let go ([`Algorithm::end_plugin`]).
    guest_entries: u64,
}

impl Algorithm {
    /// An algorithm with no child order yet.
    pub(super) fn new(
        row: AlgorithmRow,
        instance: Option<Box<dyn ExecutionAlgorithm>>,
        next_timer_ms: i64,
    ) -> Self {
        let last_snapshot_ms = row.updated_ms;
        Self {
            row,
            instance,
            children: HashMap::default(),
            open_children: BTreeSet::new(),
            awaiting_fills: BTreeMap::new(),
            filled: Decimal::ZERO,
            notional: Decimal::ZERO,
            rate: ActionRate::default(),
            next_timer_ms,
            last_snapshot_ms,
            unsnapshotted: false,
            unstored_children: Vec::new(),
            unstored_fills: Vec::new(),
            queued_for_store: false,
            risk_rejections: 0,
            restarting: false,
            guest_entries: 0,
        }
    }

    /// The stored row.
    pub(super) const fn row(&self) -> &AlgorithmRow {
        &self.row
    }

    /// The stored row beside the action rate the risk guard counts in.
    pub(super) fn row_and_rate(&mut self) -> (&AlgorithmRow, &mut ActionRate) {
        (&self.row, &mut self.rate)
    }

    /// The id of its next child order placed without a suffix.
    pub(super) fn next_child_id(&mut self) -> ClientOrderId {
        let id = child_order_id(&self.row.id, self.row.next_child_seq);
        self.row.next_child_seq += 1;
        id
    }

    /// Its plugin completed with `open` orders working: the runtime works
    /// them (books their fills) until `now_ms + grace_ms`, then cancels
    /// what is left. `false` unless it was working.
    pub(super) fn start_finishing(&mut self, reason: String, now_ms: i64, grace_ms: i64) -> bool {
        if self.row.status != AlgorithmStatus::Working {
            return false;
        }
        self.row.status = AlgorithmStatus::Finishing;
        self.row.reason = Some(reason);
        self.row.updated_ms = now_ms;
        self.row.finish_by_ms = Some(now_ms.saturating_add(grace_ms));
        self.end_plugin();
        true
    }

    /// The completion grace is spent (a late fill is still booked, nothing
    /// is waited for); `note`, when given, is added to the reason.
    pub(super) fn spend_grace(&mut self, note: Option<&str>, now_ms: i64) {
        if let Some(note) = note {
            let prefix = self.row.reason.take().unwrap_or_default();
            self.row.reason = Some(format!("{prefix}; {note}"));
        }
        self.row.finish_by_ms = None;
        self.row.updated_ms = now_ms;
    }

    /// Ends it with `status` and `reason`, and lets its plugin go. `false`
    /// when it had ended already.
    pub(super) fn end(
        &mut self,
        status: AlgorithmStatus,
        reason: Option<&str>,
        now_ms: i64,
    ) -> bool {
        if self.row.status.is_terminal() {
            return false;
        }
        self.row.status = status;
        self.row.reason = reason.map(str::to_owned);
        self.row.updated_ms = now_ms;
        self.row.finish_by_ms = None;
        self.end_plugin();
        true
    }

    /// The plugin's snapshot, checked, as of `now_ms`.
    pub(super) fn record_snapshot(&mut self, snapshot: String, now_ms: i64) {
        self.row.snapshot = Some(snapshot);
        self.last_snapshot_ms = now_ms;
        self.unsnapshotted = false;
    }

    /// One child order.
    pub(super) fn child(&self, id: &ClientOrderId) -> Option<&Child> {
        self.children.get(id)
    }

    /// One child order, to change through its methods (opening and closing
    /// it are the algorithm's).
    pub(super) fn child_mut(&mut self, id: &ClientOrderId) -> Option<&mut Child> {
        self.children.get_mut(id)
    }

    /// Whether `id` names one of its child orders.
    pub(super) fn has_child(&self, id: &ClientOrderId) -> bool {
        self.children.contains_key(id)
    }

    /// The ids of the children that satisfy `keep`, in id order.
    pub(super) fn child_ids(&self, keep: impl Fn(&Child) -> bool) -> Vec<ClientOrderId> {
        let mut ids: Vec<ClientOrderId> = self
            .children
            .iter()
            .filter(|(_, child)| keep(child))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort_unstable();
        ids
    }

    /// The open children's ids, in id order.
    pub(super) fn open_ids(&self) -> Vec<ClientOrderId> {
        self.open_children.iter().cloned().collect()
    }

    /// The open children.
    pub(super) fn open_children(&self) -> impl Iterator<Item = &Child> {
        self.open_children
            .iter()
            .filter_map(|id| self.children.get(id))
    }

    /// How many children are open.
    pub(super) fn open_count(&self) -> usize {
        self.open_children.len()
    }

    /// Adds a child order (open or not, as it says).
    pub(super) fn add_child(&mut self, id: ClientOrderId, child: Child) {
        if child.open {
            self.open_children.insert(id.clone());
        } else {
            self.open_children.remove(&id);
        }
        self.children.insert(id, child);
    }

    /// The exchange can no longer fill it.
    pub(super) fn close_child(&mut self, id: &ClientOrderId) {
        if let Some(child) = self.children.get_mut(id) {
            child.open = false;
        }
        self.open_children.remove(id);
    }

    /// A child it had closed is open at the venue after all. `false` when
    /// there is no such child or it was open.
    pub(super) fn reopen_child(&mut self, id: &ClientOrderId) -> bool {
        match self.children.get_mut(id) {
            Some(child) if !child.open => {
                child.open = true;
                self.open_children.insert(id.clone());
                true
            }
            _ => false,
        }
    }

    /// Books a fill into the algorithm's totals and its child; a child
    /// whose reported fills have all arrived awaits none any more.
    pub(super) fn book_fill(&mut self, fill: &Fill) {
        self.filled += fill.quantity;
        self.notional += fill.notional();
        if let Some(child) = self.children.get_mut(&fill.client_order_id) {
            child.book_fill(fill.quantity);
            if child.fills_in_flight().is_zero() {
                self.awaiting_fills.remove(&fill.client_order_id);
            }
        }
    }

    /// Lets the plugin instance go (the algorithm ended, or its plugin is
    /// done), keeping what it cost.
    fn end_plugin(&mut self) {
        if let Some(instance) = self.instance.take() {
            self.guest_entries += instance.guest_entries();
        }
    }

    /// (filled, working): what the risk guard counts against the target.
    pub(super) fn exposure(&self) -> (Decimal, Decimal) {
        let open: Decimal = self.open_children().map(Child::counted_working).sum();
        let in_flight: Decimal = self
            .awaiting_fills
            .keys()
            .filter_map(|id| self.children.get(id))
            .map(Child::fills_in_flight)
            .sum();
        (self.filled, open + in_flight)
    }

    /// Notes what an update said a child filled, at `now_ms`: a closed
    /// child reported filled beyond its delivered fills awaits them.
    pub(super) fn note_reported_fill(&mut self, id: &ClientOrderId, now_ms: i64) {
        if self
            .children
            .get(id)
            .is_some_and(|child| child.fills_in_flight() > Decimal::ZERO)
        {
            self.awaiting_fills.entry(id.clone()).or_insert(now_ms);
        }
    }

    /// How it stands, for the operator.
    pub(super) fn summary(&self) -> AlgorithmSummary {
        AlgorithmSummary {
            id: self.row.id.clone(),
            plugin: self.row.plugin.clone(),
            symbol: self.row.symbol.clone(),
            side: self.row.side,
            target: self.row.target,
            filled: self.filled,
            unfilled: (self.row.target - self.filled).max(Decimal::ZERO),
            avg_price: (!self.filled.is_zero()).then(|| self.notional / self.filled),
            child_orders: self.children.len(),
            guest_entries: self.guest_entries
                + self.instance.as_ref().map_or(0, |i| i.guest_entries()),
            open_orders: self.open_children.len(),
            status: self.row.status,
            reason: self.row.reason.clone(),
            updated_ms: self.row.updated_ms,
        }
    }
}
