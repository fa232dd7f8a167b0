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
//! order update received, and the balances `init` was given, so tests can
//! see what the plugin was told.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use tesser_wasm::{
    ExecutionPlugin, PluginChildOrderAction, PluginError, PluginFill, PluginInitContext,
    PluginLogLevel, PluginOrderStatus, PluginOrderUpdate, PluginResult, PluginTick, export_plugin,
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
    /// Allocate and touch this many MiB.
    alloc_mib: Option<usize>,
    #[serde(default)]
    recurse: bool,
    /// Pad the actions with copies of the first one to this many in all.
    flood_orders: Option<usize>,
    /// Return this many log lines.
    flood_logs: Option<usize>,
    /// Try to read this file.
    read_file: Option<String>,
    /// Try to open a TCP connection to this address.
    connect: Option<String>,
    /// Try to read this environment variable.
    env: Option<String>,
    /// Sleep this long (`std::thread::sleep`) before the rest of the step.
    sleep_ms: Option<u64>,
    /// Log `mark found <n>`, the largest value an earlier `mark` left in
    /// the pages of [`MARKED`], then write this value to every one of them.
    mark: Option<u64>,
}

/// Zero-initialised linear memory (`.bss`) spanning 64 host pages of 4 KiB,
/// that `mark` writes and reads: a fresh instance must find it all zero,
/// whatever the instance that used its memory slot before left there.
static MARKED: [AtomicU64; MARKED_WORDS] = [const { AtomicU64::new(0) }; MARKED_WORDS];
const MARKED_WORDS: usize = 64 * 512;

/// Recursion without end whose frames live on the wasm stack (no locals in
/// linear memory), so it runs into the host's wasm stack limit; the rotate
/// keeps LLVM from turning it into a loop.
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        return 0;
    }
    recurse(depth + 1).rotate_left((depth & 63) as u32) ^ depth
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
    snapshot_mib: Option<usize>,
    #[serde(default)]
    fail_restore: bool,
    /// The balances `init` was given, as `(asset, available)`.
    #[serde(default)]
    balances: Vec<(String, String)>,
}

impl Scripted {
    fn run(&mut self, on: &str) -> Result<PluginResult, PluginError> {
        // No allocation when the callback was counted before and no step
        // fires: an idle plugin costs the host's call, not its own work.
        let count = if let Some(c) = self.counts.get_mut(on) {
            *c += 1;
            *c
        } else {
            self.counts.insert(on.to_owned(), 1);
            1
        };
        let mut result = PluginResult::new();
        if !self
            .steps
            .iter()
            .any(|s| s.on == on && s.nth.is_none_or(|n| n == count))
        {
            return Ok(result);
        }
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
            if let Some(ms) = step.sleep_ms {
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            if let Some(mib) = step.alloc_mib {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                for _ in 0..mib {
                    hoard.push(vec![1_u8; 1 << 20]);
                }
                std::hint::black_box(&hoard);
            }
            if let Some(value) = step.mark {
                let found = MARKED
                    .iter()
                    .map(|word| word.load(Ordering::Relaxed))
                    .max()
                    .unwrap_or_default();
                for word in MARKED.iter().step_by(512) {
                    word.store(value, Ordering::Relaxed);
                }
                result = result.with_log(PluginLogLevel::Info, format!("mark found {found}"));
            }
            if step.recurse {
                std::hint::black_box(recurse(count));
            }
            if let Some(path) = &step.read_file {
                return match std::fs::read_to_string(path) {
                    Ok(text) => Ok(result.with_log(PluginLogLevel::Warn, format!("LEAK {text}"))),
                    Err(e) => Err(PluginError::internal(format!("read {path} denied: {e}"))),
                };
            }
            if let Some(address) = &step.connect {
                return match std::net::TcpStream::connect(address.as_str()) {
                    Ok(_) => Ok(result.with_log(PluginLogLevel::Warn, "LEAK connected")),
                    Err(e) => Err(PluginError::internal(format!(
                        "connect {address} denied: {e}"
                    ))),
                };
            }
            if let Some(name) = &step.env {
                return match std::env::var(name) {
                    Ok(value) => Ok(result.with_log(PluginLogLevel::Warn, format!("LEAK {value}"))),
                    Err(e) => Err(PluginError::internal(format!("env {name} denied: {e}"))),
                };
            }
            if let Some(n) = step.flood_logs {
                for i in 0..n {
                    result = result.with_log(PluginLogLevel::Info, format!("flood {i}"));
                }
            }
            if let (Some(n), Some(first)) = (step.flood_orders, step.actions.first()) {
                for _ in step.actions.len()..n {
                    result = result.with_order(self.resolve(first.clone()));
                }
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
        self.snapshot_mib = ctx
            .params
            .get("snapshot_mib")
            .and_then(serde_json::Value::as_u64)
            .map(|n| n as usize);
        self.fail_restore = ctx
            .params
            .get("fail_restore")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        self.balances = ctx
            .risk
            .balances
            .iter()
            .map(|b| (b.asset.clone(), b.available.normalize().to_string()))
            .collect();
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
        let mut value =
            serde_json::to_value(self).map_err(|e| PluginError::internal(e.to_string()))?;
        if let Some(mib) = self.snapshot_mib {
            value["padding"] = serde_json::Value::String("x".repeat(mib << 20));
        }
        Ok(value)
    }

    fn write_snapshot(&self, out: &mut Vec<u8>) -> Result<(), PluginError> {
        if self.snapshot_mib.is_some() {
            // The padded document is built as a value.
            let value = self.snapshot()?;
            return serde_json::to_writer(out, &value)
                .map_err(|e| PluginError::internal(e.to_string()));
        }
        serde_json::to_writer(out, self).map_err(|e| PluginError::internal(e.to_string()))
    }

    fn restore(&mut self, snapshot: serde_json::Value) -> Result<(), PluginError> {
        *self = serde_json::from_value(snapshot)
            .map_err(|e| PluginError::invalid_state(e.to_string()))?;
        if self.fail_restore {
            return Err(PluginError::invalid_state("scripted restore failure"));
        }
        Ok(())
    }
}

export_plugin!(Scripted);
