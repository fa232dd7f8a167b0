//! Leaks `leak_bytes` of memory on every tick and traps once one instance has
//! taken `trap_after` events (both params, integers; 0 turns either off). It
//! counts every tick in its snapshot and completes after `complete_after`
//! ticks with the log line `ticks=N instance_events=M`, so a test sees that
//! state survived each recycling and that no instance lived too long.

use tesser_wasm::{
    ExecutionPlugin, PluginError, PluginInitContext, PluginResult, PluginTick, export_plugin,
};

/// The algorithm's state; only `ticks` and the params are snapshotted.
#[derive(Debug, Default)]
struct Leaky {
    ticks: u64,
    complete_after: u64,
    leak_bytes: u64,
    trap_after: u64,
    /// Events this instance took: not in the snapshot.
    instance_events: u64,
}

fn param(params: &serde_json::Value, key: &str) -> Result<u64, PluginError> {
    params
        .get(key)
        .map_or(Some(0), serde_json::Value::as_u64)
        .ok_or_else(|| PluginError::invalid_params(format!("{key}: expected an integer")))
}

impl ExecutionPlugin for Leaky {
    fn init(&mut self, ctx: PluginInitContext) -> Result<PluginResult, PluginError> {
        self.complete_after = param(&ctx.params, "complete_after")?;
        self.leak_bytes = param(&ctx.params, "leak_bytes")?;
        self.trap_after = param(&ctx.params, "trap_after")?;
        Ok(PluginResult::new())
    }

    fn on_tick(&mut self, _tick: PluginTick) -> Result<PluginResult, PluginError> {
        self.instance_events += 1;
        assert!(
            self.trap_after == 0 || self.instance_events <= self.trap_after,
            "this instance took {} events: it is worn out",
            self.instance_events
        );
        let leak = vec![1_u8; usize::try_from(self.leak_bytes).unwrap_or(0)];
        std::mem::forget(leak);
        self.ticks += 1;
        let result = PluginResult::new();
        if self.ticks >= self.complete_after {
            return Ok(result
                .log(format!(
                    "ticks={} instance_events={}",
                    self.ticks, self.instance_events
                ))
                .completed());
        }
        Ok(result)
    }

    fn snapshot(&self) -> Result<serde_json::Value, PluginError> {
        Ok(serde_json::json!({
            "ticks": self.ticks,
            "complete_after": self.complete_after,
            "leak_bytes": self.leak_bytes,
            "trap_after": self.trap_after,
        }))
    }

    fn restore(&mut self, snapshot: serde_json::Value) -> Result<(), PluginError> {
        let field = |key: &str| {
            snapshot
                .get(key)
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| PluginError::invalid_state(format!("snapshot: no {key}")))
        };
        *self = Self {
            ticks: field("ticks")?,
            complete_after: field("complete_after")?,
            leak_bytes: field("leak_bytes")?,
            trap_after: field("trap_after")?,
            instance_events: 0,
        };
        Ok(())
    }
}

export_plugin!(Leaky);
