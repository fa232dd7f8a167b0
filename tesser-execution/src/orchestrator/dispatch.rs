//! Delivering callbacks: one event and everything it cascades into, for one
//! algorithm, through its plugin or (once the plugin is done) straight into
//! the books.

use super::*;

impl<E: ExchangeClient> Orchestrator<E> {
    /// Runs one callback and everything it cascades into (acknowledgements,
    /// rejections…) for one algorithm.
    pub(super) fn deliver(&mut self, idx: usize, first: Call) -> Result<(), OrchestratorError> {
        // Reuse the queue's buffer: no allocation per tick.
        let mut queue = std::mem::take(&mut self.queue);
        queue.clear();
        queue.push_back(first);
        let outcome = self.drain_queue(idx, &mut queue);
        self.queue = queue;
        outcome?;
        self.settle_if_done(idx)
    }

    pub(super) fn drain_queue(
        &mut self,
        idx: usize,
        queue: &mut VecDeque<Call>,
    ) -> Result<(), OrchestratorError> {
        let mut rounds = 0_u32;
        while let Some(call) = queue.pop_front() {
            let algo = &self.algorithms[idx];
            if algo.row().status != AlgorithmStatus::Working || algo.restarting {
                // An ended or finishing algorithm (or one waiting to start
                // again) still books its fills and order states.
                self.record_without_plugin(idx, &call)?;
                continue;
            }
            rounds += 1;
            if rounds > self.config.max_callback_cascade {
                let reason = format!(
                    "runaway plugin: one event cascaded into more than {} callbacks (max_callback_cascade)",
                    self.config.max_callback_cascade
                );
                self.record_without_plugin(idx, &call)?;
                self.end_algorithm(idx, AlgorithmStatus::Failed, Some(reason))?;
                continue;
            }
            let outcome = self.call_plugin(idx, &call);
            match outcome {
                Ok(result) => self.apply_result(idx, &call, result, queue)?,
                Err(error) => {
                    self.record_without_plugin(idx, &call)?;
                    self.end_algorithm(idx, AlgorithmStatus::Failed, Some(error.to_string()))?;
                }
            }
        }
        Ok(())
    }

    pub(super) fn call_plugin(
        &mut self,
        idx: usize,
        call: &Call,
    ) -> Result<PluginResult, PluginCallError> {
        let tick = match call {
            Call::Tick => self.ticks.get(&self.algorithms[idx].row().symbol),
            _ => None,
        };
        let algo = &mut self.algorithms[idx];
        let Some(instance) = algo.instance.as_mut() else {
            return Err(PluginCallError {
                plugin: algo.row().plugin.clone(),
                callback: crate::algorithm::PluginCallback::Init,
                kind: crate::algorithm::PluginCallErrorKind::Unusable("no instance".into()),
            });
        };
        let result = match call {
            Call::Init(ctx) => instance.init(ctx),
            Call::Tick => match tick {
                Some(tick) => instance.on_tick(tick),
                None => Ok(PluginResult::new()),
            },
            Call::Fill(fill) => instance.on_fill(&fill_to_plugin(fill)),
            Call::Update(update) | Call::Notice(update) => {
                instance.on_order_update(&update_to_plugin(update))
            }
            Call::Timer(now_ms) => instance.on_timer(PluginTimer { now_ms: *now_ms }),
        };
        for line in instance.take_output() {
            let stream = match line.stream {
                GuestStream::Stdout => "stdout",
                GuestStream::Stderr => "stderr",
            };
            tracing::info!(target: "plugin", plugin = %algo.row().plugin, algorithm = %algo.row().id, stream, "{}", line.line);
        }
        result
    }

    /// Books a fill or an order change into the runtime's state when the
    /// plugin does not see it (its algorithm ended or failed on it).
    pub(super) fn record_without_plugin(
        &mut self,
        idx: usize,
        call: &Call,
    ) -> Result<(), OrchestratorError> {
        match call {
            Call::Fill(fill) => self.note_unstored(idx, SnapshotWanted::No, None, Some(fill)),
            Call::Update(update) => {
                let algo = &mut self.algorithms[idx];
                if let Some(child) = algo.child_mut(&update.client_order_id) {
                    child.record(update);
                    let id = update.client_order_id.clone();
                    self.note_unstored(idx, SnapshotWanted::No, Some(id), None);
                }
            }
            Call::Init(_) | Call::Tick | Call::Notice(_) | Call::Timer(_) => {}
        }
        Ok(())
    }

    pub(super) fn log_plugin(&self, idx: usize, result: &PluginResult) {
        let algo = &self.algorithms[idx];
        for log in &result.logs {
            let (plugin, algorithm, message) = (&algo.row().plugin, &algo.row().id, &log.message);
            match log.level {
                PluginLogLevel::Trace => {
                    tracing::trace!(target: "plugin", plugin = %plugin, algorithm = %algorithm, "{message}")
                }
                PluginLogLevel::Debug => {
                    tracing::debug!(target: "plugin", plugin = %plugin, algorithm = %algorithm, "{message}")
                }
                PluginLogLevel::Info => {
                    tracing::info!(target: "plugin", plugin = %plugin, algorithm = %algorithm, "{message}")
                }
                PluginLogLevel::Warn => {
                    tracing::warn!(target: "plugin", plugin = %plugin, algorithm = %algorithm, "{message}")
                }
                PluginLogLevel::Error => {
                    tracing::error!(target: "plugin", plugin = %plugin, algorithm = %algorithm, "{message}")
                }
            }
        }
    }
}
