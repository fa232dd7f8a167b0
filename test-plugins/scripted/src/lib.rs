//! A test plugin driven by a script in its params:
//!
//! ```json
//! {"steps": [{"on": "init", "actions": [...]},
//!            {"on": "update", "nth": 1, "actions": [{"amend": {"client_order_id": "$last", ...}}]},
//!            {"on": "tick", "nth": 3, "panic": true},
//!            {"on": "fill", "complete": true}]}
//! ```
//!
//! `on` is `init`, `tick`, `timer`, `fill` or `update`; `nth` (1-based count
//! of that callback, default: every call) selects when the step runs. Actions
//! are `PluginChildOrderAction` JSON; a `client_order_id` of `"$last"` means
//! the last order the host acknowledged. The snapshot records every fill and
//! order update received, so tests can see what the plugin was told.

use serde::{Deserialize, Serialize};
use tesser_wasm::{
    ExecutionPlugin, PluginChildOrderAction, PluginError, PluginFill, PluginInitContext,
    PluginOrderStatus, PluginOrderUpdate, PluginResult, PluginTick, export_plugin,
};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Step {
    on: String,
    nth: Option<u64>,
    #[serde(default)]
    actions: Vec<PluginChildOrderAction>,
    #[serde(default)]
    complete: bool,
    #[serde(default)]
    panic: bool,
    error: Option<String>,
    #[serde(default)]
    spin: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Seen {
    client_order_id: String,
    status: PluginOrderStatus,
    reason: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scripted {
    steps: Vec<Step>,
    counts: std::collections::BTreeMap<String, u64>,
    last_acked: Option<String>,
    updates: Vec<Seen>,
    fills: Vec<PluginFill>,
}

impl Scripted {
    fn run(&mut self, on: &str) -> Result<PluginResult, PluginError> {
        let count = {
            let c = self.counts.entry(on.to_owned()).or_default();
            *c += 1;
            *c
        };
        let mut result = PluginResult::new();
        let steps: Vec<Step> = self
            .steps
            .iter()
            .filter(|s| s.on == on && s.nth.is_none_or(|n| n == count))
            .cloned()
            .collect();
        for step in steps {
            if step.panic {
                panic!("scripted panic in {on} #{count}");
            }
            if step.spin {
                let mut x: u64 = count;
                loop {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
            if let Some(message) = step.error {
                return Err(PluginError::internal(message));
            }
            for action in step.actions {
                result = result.with_order(self.resolve(action));
            }
            if step.complete {
                result = result.completed();
            }
        }
        Ok(result)
    }

    fn resolve(&self, action: PluginChildOrderAction) -> PluginChildOrderAction {
        let last = self.last_acked.clone().unwrap_or_default();
        match action {
            PluginChildOrderAction::Amend(mut amend) if amend.client_order_id == "$last" => {
                amend.client_order_id = last;
                PluginChildOrderAction::Amend(amend)
            }
            PluginChildOrderAction::Cancel(mut cancel) if cancel.client_order_id == "$last" => {
                cancel.client_order_id = last;
                PluginChildOrderAction::Cancel(cancel)
            }
            other => other,
        }
    }
}

impl ExecutionPlugin for Scripted {
    fn init(&mut self, ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        let steps = ctx.params.get("steps").cloned().unwrap_or_default();
        self.steps = serde_json::from_value(steps)
            .map_err(|e| PluginError::invalid_params(format!("steps: {e}")))?;
        self.run("init")
    }

    fn on_tick(&mut self, _tick: PluginTick) -> Result<PluginResult, PluginError> {
        self.run("tick")
    }

    fn on_fill(&mut self, fill: PluginFill) -> Result<PluginResult, PluginError> {
        self.fills.push(fill);
        self.run("fill")
    }

    fn on_order_update(&mut self, update: PluginOrderUpdate) -> Result<PluginResult, PluginError> {
        if update.status == PluginOrderStatus::Accepted && update.reason.is_none() {
            self.last_acked = Some(update.client_order_id.clone());
        }
        self.updates.push(Seen {
            client_order_id: update.client_order_id,
            status: update.status,
            reason: update.reason,
        });
        self.run("update")
    }

    fn on_timer(&mut self) -> Result<PluginResult, PluginError> {
        self.run("timer")
    }

    fn snapshot(&self) -> Result<serde_json::Value, PluginError> {
        serde_json::to_value(self).map_err(|e| PluginError::internal(e.to_string()))
    }

    fn restore(&mut self, snapshot: serde_json::Value) -> Result<(), PluginError> {
        *self = serde_json::from_value(snapshot)
            .map_err(|e| PluginError::invalid_state(e.to_string()))?;
        Ok(())
    }
}

export_plugin!(Scripted);
