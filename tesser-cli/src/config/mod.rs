//! Layered configuration: built-in defaults, `./config/default.toml`,
//! `--config FILE`, `TESSER_<SECTION>__<KEY>` environment variables, flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;
use tesser_core::Instrument;
use tesser_execution::wasm::{PluginLimits, PluginOverrides, RecyclePolicy};
use tesser_execution::{OrchestratorConfig, RiskLimits};
use tesser_paper::PaperConfig;

mod venues;

pub use venues::VenuesConfig;

/// The defaults shipped with the binary (the repository's `config/default.toml`).
pub const BUILT_IN_DEFAULTS: &str = include_str!("../../../config/default.toml");

/// A configuration error, naming the key and where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read config file {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A layer has an unknown key, a bad value or bad syntax.
    #[error("{source_name}: {message}")]
    Invalid {
        /// The file or environment variable.
        source_name: String,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// `[live]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConfig {
    /// Directory of `<name>.wasm` plugins.
    pub plugins_dir: PathBuf,
    /// SQLite state database.
    pub state_path: PathBuf,
    /// Timer heartbeat interval (ms of data time).
    pub timer_ms: i64,
    /// Replay speed: `max` or a multiple of real time.
    pub speed: String,
    /// `stop` or `skip` on a malformed market-data line.
    pub on_bad_line: String,
    /// Quantity of signals without one.
    pub default_quantity: Decimal,
}

/// `[execution]`: how the runtime works an algorithm's orders.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionConfig {
    /// Data time (ms) the runtime keeps booking the open orders of a plugin
    /// that completed before cancelling them; 0 cancels at once.
    pub completion_grace_ms: i64,
}

/// `[risk]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Largest child order.
    pub max_order_quantity: Option<Decimal>,
    /// Price band around the last trade, in bps.
    pub price_band_bps: Option<Decimal>,
    /// Places and amends per algorithm per second.
    pub max_actions_per_second: Option<u32>,
}

/// `[plugins]`: the sandbox of every plugin instance and the caps on what
/// one callback may return. A plugin that breaks one fails its algorithm with
/// a reason naming the limit; other algorithms go on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsConfig {
    /// Largest linear memory of one instance, MiB.
    pub max_memory_mib: u64,
    /// Longest one callback may run, milliseconds of wall-clock time.
    pub callback_deadline_ms: u64,
    /// Largest wasm stack of one instance, KiB.
    pub max_wasm_stack_kib: u64,
    /// Bytes of stdout and of stderr kept per callback, KiB.
    pub max_output_kib: u64,
    /// Most child actions one callback may return.
    pub max_actions_per_result: u64,
    /// Most log lines one callback may return.
    pub max_log_lines: u64,
    /// Most bytes of log text one callback may return.
    pub max_log_bytes: u64,
    /// Largest snapshot a plugin may return, bytes.
    pub max_snapshot_bytes: u64,
    /// Child actions of one algorithm the risk guard may refuse before the
    /// algorithm fails.
    pub max_risk_rejections: u64,
    /// Most plugin instances alive at once; the engine reserves a memory
    /// slot of `max_memory_mib` for each up front.
    pub max_instances: u64,
    /// Directory of precompiled plugins; unset means `plugin-cache` next to
    /// the state file, an empty path switches the cache off. See
    /// [`Config::plugin_cache_dir`].
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
    /// Event callbacks after which an instance is replaced by a fresh one
    /// (snapshot → new instance → restore); 0: never.
    pub recycle_after_calls: u64,
    /// Share of its memory limit, in percent, at which an instance is
    /// replaced by a fresh one; 0: never.
    pub recycle_above_memory_percent: u64,
    /// `[plugins.limits.NAME]`: limits for one plugin (by `.wasm` file stem).
    #[serde(default)]
    pub limits: BTreeMap<String, PluginLimitsSection>,
}

/// One `[plugins.limits.NAME]` table: what differs for plugin `NAME`. A key
/// left out keeps the `[plugins]` value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginLimitsSection {
    /// Largest linear memory of one instance of this plugin, MiB.
    pub max_memory_mib: Option<u64>,
    /// Longest one callback of this plugin may run, ms.
    pub callback_deadline_ms: Option<u64>,
    /// As `[plugins] recycle_after_calls`, for this plugin.
    pub recycle_after_calls: Option<u64>,
    /// As `[plugins] recycle_above_memory_percent`, for this plugin.
    pub recycle_above_memory_percent: Option<u64>,
}

/// Allowed values of each `[plugins]` key, inclusive, and their unit.
const PLUGIN_KEY_RANGES: [(&str, i64, i64, &str); 12] = [
    // A wasm32 memory cannot grow past 4 GiB.
    ("max_memory_mib", 1, 4_096, "MiB"),
    // Callbacks run one at a time: a longer one stalls every algorithm.
    ("callback_deadline_ms", 1, 60_000, "ms"),
    // Wasm runs on the host thread's native stack (8 MiB on the main thread
    // by default); a limit above it would crash the process, not trap.
    ("max_wasm_stack_kib", 1, 4_096, "KiB"),
    // Buffered in host memory, per stream and instance.
    ("max_output_kib", 1, 65_536, "KiB"),
    ("max_actions_per_result", 1, 1_000_000, "actions"),
    ("max_log_lines", 1, 1_000_000, "lines"),
    ("max_log_bytes", 1, 1 << 30, "bytes"),
    // SQLite's default maximum string length.
    ("max_snapshot_bytes", 1, 1_000_000_000, "bytes"),
    ("max_risk_rejections", 1, u32::MAX as i64, "refusals"),
    // Address space: a slot of max_memory_mib per instance.
    ("max_instances", 1, 100_000, "instances"),
    (
        "recycle_after_calls",
        0,
        1_000_000_000_000,
        "events; 0: never",
    ),
    ("recycle_above_memory_percent", 0, 100, "percent; 0: never"),
];

/// Allowed values of each `[plugins.limits.NAME]` key (the same as in
/// `[plugins]`).
const PLUGIN_OVERRIDE_KEYS: [&str; 4] = [
    "max_memory_mib",
    "callback_deadline_ms",
    "recycle_after_calls",
    "recycle_above_memory_percent",
];

/// `[paper]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperSection {
    /// Maker fee, bps.
    pub maker_fee_bps: Decimal,
    /// Taker fee, bps.
    pub taker_fee_bps: Decimal,
    /// Starting cash.
    pub initial_cash: Decimal,
    /// Cash asset.
    pub quote_asset: String,
    /// Order arrival delay, ms of data time (0: none).
    #[serde(default)]
    pub latency_ms: i64,
}

/// One `[instruments.<SYMBOL>]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentSection {
    /// Base asset.
    pub base_asset: String,
    /// Quote asset.
    pub quote_asset: String,
    /// Tick size.
    #[serde(default)]
    pub tick_size: Decimal,
    /// Lot size.
    #[serde(default)]
    pub lot_size: Decimal,
    /// Minimum quantity.
    #[serde(default)]
    pub min_quantity: Decimal,
    /// Minimum notional.
    #[serde(default)]
    pub min_notional: Decimal,
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[live]`.
    pub live: LiveConfig,
    /// `[execution]`.
    pub execution: ExecutionConfig,
    /// `[risk]`.
    #[serde(default)]
    pub risk: RiskConfig,
    /// `[plugins]`.
    pub plugins: PluginsConfig,
    /// `[paper]`.
    pub paper: PaperSection,
    /// `[instruments.*]`.
    #[serde(default)]
    pub instruments: BTreeMap<String, InstrumentSection>,
    /// `[venues.*]`.
    #[serde(default)]
    pub venues: VenuesConfig,
}

/// The same shape with every key optional: what one layer may contain.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // reason: only deserialized, to validate a layer's keys and types
struct Layer {
    live: Option<LiveLayer>,
    execution: Option<ExecutionLayer>,
    risk: Option<RiskConfig>,
    plugins: Option<PluginsLayer>,
    paper: Option<PaperLayer>,
    instruments: Option<BTreeMap<String, InstrumentLayer>>,
    venues: Option<venues::VenuesLayer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // reason: only deserialized, to validate a layer's keys and types
struct LiveLayer {
    plugins_dir: Option<PathBuf>,
    state_path: Option<PathBuf>,
    timer_ms: Option<i64>,
    speed: Option<String>,
    on_bad_line: Option<String>,
    default_quantity: Option<Decimal>,
}

/// Signed, so that a negative value gets the range error rather than a type
/// error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecutionLayer {
    completion_grace_ms: Option<i64>,
}

impl ExecutionLayer {
    fn check(&self, source_name: &str) -> Result<(), ConfigError> {
        match self.completion_grace_ms {
            Some(value) if value < 0 => Err(invalid(
                source_name,
                format!(
                    "execution.completion_grace_ms: must be a non-negative integer (milliseconds of data time; 0 cancels open orders as soon as the plugin completes), got {value}"
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// Signed, so that a negative value gets the range error rather than a type
/// error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginsLayer {
    max_memory_mib: Option<i64>,
    callback_deadline_ms: Option<i64>,
    max_wasm_stack_kib: Option<i64>,
    max_output_kib: Option<i64>,
    max_actions_per_result: Option<i64>,
    max_log_lines: Option<i64>,
    max_log_bytes: Option<i64>,
    max_snapshot_bytes: Option<i64>,
    max_risk_rejections: Option<i64>,
    max_instances: Option<i64>,
    #[allow(dead_code)] // reason: only deserialized, to validate its type
    cache_dir: Option<PathBuf>,
    recycle_after_calls: Option<i64>,
    recycle_above_memory_percent: Option<i64>,
    limits: Option<BTreeMap<String, PluginOverrideLayer>>,
}

/// One `[plugins.limits.NAME]` table of a layer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginOverrideLayer {
    max_memory_mib: Option<i64>,
    callback_deadline_ms: Option<i64>,
    recycle_after_calls: Option<i64>,
    recycle_above_memory_percent: Option<i64>,
}

/// `value` against the `[plugins]` range of `key`, as one line naming
/// `path` (the key as written) on failure.
fn check_plugin_key(
    source_name: &str,
    path: &str,
    key: &str,
    value: Option<i64>,
) -> Result<(), ConfigError> {
    let Some((_, min, max, unit)) = PLUGIN_KEY_RANGES.iter().find(|(k, ..)| *k == key) else {
        return Ok(());
    };
    match value {
        Some(value) if !(*min..=*max).contains(&value) => Err(invalid(
            source_name,
            format!("{path}: must be an integer from {min} to {max} ({unit}), got {value}"),
        )),
        _ => Ok(()),
    }
}

impl PluginsLayer {
    /// Checks every key the layer sets against [`PLUGIN_KEY_RANGES`].
    fn check(&self, source_name: &str) -> Result<(), ConfigError> {
        let values = [
            self.max_memory_mib,
            self.callback_deadline_ms,
            self.max_wasm_stack_kib,
            self.max_output_kib,
            self.max_actions_per_result,
            self.max_log_lines,
            self.max_log_bytes,
            self.max_snapshot_bytes,
            self.max_risk_rejections,
            self.max_instances,
            self.recycle_after_calls,
            self.recycle_above_memory_percent,
        ];
        for ((key, ..), value) in PLUGIN_KEY_RANGES.iter().zip(values) {
            check_plugin_key(source_name, &format!("plugins.{key}"), key, value)?;
        }
        for (name, section) in self.limits.iter().flatten() {
            let values = [
                section.max_memory_mib,
                section.callback_deadline_ms,
                section.recycle_after_calls,
                section.recycle_above_memory_percent,
            ];
            for (key, value) in PLUGIN_OVERRIDE_KEYS.iter().zip(values) {
                check_plugin_key(
                    source_name,
                    &format!("plugins.limits.{name}.{key}"),
                    key,
                    value,
                )?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // reason: only deserialized, to validate a layer's keys and types
struct PaperLayer {
    maker_fee_bps: Option<Decimal>,
    taker_fee_bps: Option<Decimal>,
    initial_cash: Option<Decimal>,
    quote_asset: Option<String>,
    latency_ms: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // reason: only deserialized, to validate a layer's keys and types
struct InstrumentLayer {
    base_asset: Option<String>,
    quote_asset: Option<String>,
    tick_size: Option<Decimal>,
    lot_size: Option<Decimal>,
    min_quantity: Option<Decimal>,
    min_notional: Option<Decimal>,
}

fn invalid(source_name: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        source_name: source_name.to_owned(),
        message: message.into(),
    }
}

/// Parses one layer, checking its keys and value types.
fn parse_layer(text: &str, source_name: &str) -> Result<toml::Table, ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid(source_name, one_line(&e.to_string())))?;
    check_layer(&table, source_name)?;
    Ok(table)
}

fn check_layer(table: &toml::Table, source_name: &str) -> Result<(), ConfigError> {
    let layer = Layer::deserialize(toml::Value::Table(table.clone()))
        .map_err(|e| invalid(source_name, one_line(&e.to_string())))?;
    if let Some(plugins) = &layer.plugins {
        plugins.check(source_name)?;
    }
    if let Some(execution) = &layer.execution {
        execution.check(source_name)?;
    }
    if let Some(venues) = &layer.venues {
        venues.check(source_name)?;
    }
    Ok(())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn merge(base: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(layer_table)) => {
                merge(base_table, layer_table)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Builds the configuration from its layers; flags are applied by the caller.
///
/// # Errors
/// A layer cannot be read or has an unknown key or a bad value.
pub fn load(
    config_file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut merged = parse_layer(BUILT_IN_DEFAULTS, "built-in config/default.toml")?;
    let local = Path::new("config/default.toml");
    if local.is_file() {
        let text = std::fs::read_to_string(local).map_err(|error| ConfigError::Read {
            path: local.to_path_buf(),
            error,
        })?;
        merge(&mut merged, parse_layer(&text, "config/default.toml")?);
    }
    if let Some(path) = config_file {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        merge(
            &mut merged,
            parse_layer(&text, &path.display().to_string())?,
        );
    }
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("TESSER_"))
        .collect();
    vars.sort();
    for (name, value) in vars {
        // Variables without `__` are not settings (TESSER_LOG, the venues'
        // key variables such as TESSER_BINANCE_API_KEY).
        let Some(path) = name.strip_prefix("TESSER_").filter(|p| p.contains("__")) else {
            continue;
        };
        let mut keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
        // Venue names are spelled with '-', which variable names cannot hold:
        // TESSER_VENUES__BINANCE_SPOT__REST_URL sets [venues.binance-spot].
        if keys.len() == 3 && keys[0] == "venues" {
            keys[1] = venues::venue_of_env_segment(&keys[1]);
        }
        if keys.len() < 2 || keys.iter().any(String::is_empty) {
            return Err(invalid(
                &format!("environment variable {name}"),
                "expected TESSER_<SECTION>__<KEY>, e.g. TESSER_LIVE__PLUGINS_DIR",
            ));
        }
        // A value that parses as TOML (number, quoted string, bool) keeps its
        // type; anything else is a string.
        let parsed = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.clone()));
        let mut layer = toml::Table::new();
        let mut cursor = &mut layer;
        for key in &keys[..keys.len() - 1] {
            cursor = cursor
                .entry(key.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .expect("just inserted a table");
        }
        cursor.insert(keys[keys.len() - 1].clone(), parsed);
        let source_name = format!("environment variable {name}");
        // Strings are accepted where decimals are expected; retry as text.
        let layer = match check_layer(&layer, &source_name) {
            Ok(()) => layer,
            Err(first) => {
                let mut as_text = layer.clone();
                set_leaf(&mut as_text, &keys, toml::Value::String(value.clone()));
                check_layer(&as_text, &source_name).map_err(|_| first)?;
                as_text
            }
        };
        merge(&mut merged, layer);
    }
    let config = Config::deserialize(toml::Value::Table(merged))
        .map_err(|e| invalid("configuration", one_line(&e.to_string())))?;
    config.validate()?;
    Ok(config)
}

/// The recycling policy of the `recycle_*` keys, where 0 means never.
fn recycle_policy(after_calls: u64, above_memory_percent: u64) -> RecyclePolicy {
    RecyclePolicy {
        after_calls: (after_calls > 0).then_some(after_calls),
        above_memory_percent: u8::try_from(above_memory_percent)
            .ok()
            .filter(|percent| *percent > 0),
    }
}

/// Values are range-checked on load, so this only saturates on targets whose
/// `usize` is narrower than the range.
fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

fn set_leaf(table: &mut toml::Table, keys: &[String], value: toml::Value) {
    let mut cursor = table;
    for key in &keys[..keys.len() - 1] {
        let Some(next) = cursor.get_mut(key).and_then(toml::Value::as_table_mut) else {
            return;
        };
        cursor = next;
    }
    cursor.insert(keys[keys.len() - 1].clone(), value);
}

impl Config {
    fn validate(&self) -> Result<(), ConfigError> {
        let bad =
            |key: &str, message: String| invalid("configuration", format!("{key}: {message}"));
        if self.live.timer_ms <= 0 {
            return Err(bad(
                "live.timer_ms",
                format!("must be positive, got {}", self.live.timer_ms),
            ));
        }
        if !matches!(self.live.on_bad_line.as_str(), "stop" | "skip") {
            return Err(bad(
                "live.on_bad_line",
                format!(
                    "must be \"stop\" or \"skip\", got \"{}\"",
                    self.live.on_bad_line
                ),
            ));
        }
        if self.paper.latency_ms < 0 {
            return Err(bad(
                "paper.latency_ms",
                format!(
                    "must not be negative, got {}: the order arrival delay in ms, 0 for none",
                    self.paper.latency_ms
                ),
            ));
        }
        if self.live.default_quantity <= Decimal::ZERO {
            return Err(bad(
                "live.default_quantity",
                format!("must be positive, got {}", self.live.default_quantity),
            ));
        }
        for (symbol, rules) in &self.instruments {
            for (key, value) in [
                ("tick_size", rules.tick_size),
                ("lot_size", rules.lot_size),
                ("min_quantity", rules.min_quantity),
                ("min_notional", rules.min_notional),
            ] {
                if value < Decimal::ZERO {
                    return Err(bad(
                        &format!("instruments.{symbol}.{key}"),
                        format!("must not be negative, got {value}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The risk limits.
    #[must_use]
    pub fn risk_limits(&self) -> RiskLimits {
        RiskLimits {
            max_order_quantity: self.risk.max_order_quantity,
            price_band_bps: self.risk.price_band_bps,
            max_actions_per_second: self.risk.max_actions_per_second,
        }
    }

    /// The sandbox limits of every plugin instance, from `[plugins]`: memory,
    /// CPU deadline per callback, wasm stack and captured stdout/stderr. Pass
    /// them to `WasmPluginEngine::with_limits`.
    #[must_use]
    pub fn plugin_limits(&self) -> PluginLimits {
        let plugins = &self.plugins;
        PluginLimits {
            max_memory_bytes: to_usize(plugins.max_memory_mib.saturating_mul(1 << 20)),
            callback_deadline: Duration::from_millis(plugins.callback_deadline_ms),
            max_wasm_stack_bytes: to_usize(plugins.max_wasm_stack_kib.saturating_mul(1 << 10)),
            max_output_bytes: to_usize(plugins.max_output_kib.saturating_mul(1 << 10)),
            max_instances: u32::try_from(plugins.max_instances).unwrap_or(u32::MAX),
            recycle: recycle_policy(
                plugins.recycle_after_calls,
                plugins.recycle_above_memory_percent,
            ),
            per_plugin: plugins
                .limits
                .iter()
                .map(|(name, section)| {
                    let overrides = PluginOverrides {
                        max_memory_bytes: section
                            .max_memory_mib
                            .map(|mib| to_usize(mib.saturating_mul(1 << 20))),
                        callback_deadline: section.callback_deadline_ms.map(Duration::from_millis),
                        recycle: (section.recycle_after_calls.is_some()
                            || section.recycle_above_memory_percent.is_some())
                        .then(|| {
                            recycle_policy(
                                section
                                    .recycle_after_calls
                                    .unwrap_or(plugins.recycle_after_calls),
                                section
                                    .recycle_above_memory_percent
                                    .unwrap_or(plugins.recycle_above_memory_percent),
                            )
                        }),
                    };
                    (name.clone(), overrides)
                })
                .collect(),
        }
    }

    /// Where compiled plugins are cached, from `[plugins] cache_dir`: the
    /// directory given, `plugin-cache` next to the state file
    /// (`live.state_path`) when the key is unset, and `None` when it is set
    /// to an empty path (no cache). Pass it to
    /// `WasmPluginEngine::with_compiled_cache`.
    #[must_use]
    pub fn plugin_cache_dir(&self) -> Option<PathBuf> {
        match &self.plugins.cache_dir {
            Some(dir) if dir.as_os_str().is_empty() => None,
            Some(dir) => Some(dir.clone()),
            None => Some(
                self.live
                    .state_path
                    .parent()
                    .unwrap_or_else(|| Path::new(""))
                    .join("plugin-cache"),
            ),
        }
    }

    /// The orchestrator's settings from this configuration: the timer
    /// interval from `[live]`, cash and quote asset from `[paper]`, and
    /// everything [`Config::apply_orchestrator_settings`] sets.
    #[must_use]
    pub fn orchestrator_config(&self) -> OrchestratorConfig {
        let mut config = OrchestratorConfig {
            timer_interval_ms: self.live.timer_ms,
            initial_cash: self.paper.initial_cash,
            quote_asset: self.paper.quote_asset.clone(),
            ..OrchestratorConfig::default()
        };
        self.apply_orchestrator_settings(&mut config);
        config
    }

    /// Sets the completion grace of `config` from `[execution]` and its
    /// per-result caps from `[plugins]`: actions, log lines and log bytes per
    /// callback, snapshot size and risk refusals per algorithm. Every other
    /// field of `config` is left as it is.
    pub fn apply_orchestrator_settings(&self, config: &mut OrchestratorConfig) {
        config.completion_grace_ms = self.execution.completion_grace_ms;
        let plugins = &self.plugins;
        config.max_actions_per_result = to_usize(plugins.max_actions_per_result);
        config.max_log_lines = to_usize(plugins.max_log_lines);
        config.max_log_bytes = to_usize(plugins.max_log_bytes);
        config.max_snapshot_bytes = to_usize(plugins.max_snapshot_bytes);
        config.max_risk_rejections = u32::try_from(plugins.max_risk_rejections).unwrap_or(u32::MAX);
    }

    /// The paper exchange's settings.
    #[must_use]
    pub fn paper_config(&self) -> PaperConfig {
        PaperConfig {
            maker_fee_bps: self.paper.maker_fee_bps,
            taker_fee_bps: self.paper.taker_fee_bps,
            latency_ms: self.paper.latency_ms,
        }
    }

    /// The instruments' trading rules.
    #[must_use]
    pub fn instruments(&self) -> Vec<Instrument> {
        self.instruments
            .iter()
            .map(|(symbol, rules)| {
                Instrument::new(symbol.as_str(), &rules.base_asset, &rules.quote_asset)
                    .with_tick_size(rules.tick_size)
                    .with_lot_size(rules.lot_size)
                    .with_min_quantity(rules.min_quantity)
                    .with_min_notional(rules.min_notional)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
