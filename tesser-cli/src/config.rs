//! Layered configuration: built-in defaults, `./config/default.toml`,
//! `--config FILE`, `TESSER_<SECTION>__<KEY>` environment variables, flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;
use tesser_core::Instrument;
use tesser_execution::wasm::PluginLimits;
use tesser_execution::{OrchestratorConfig, RiskLimits};
use tesser_paper::PaperConfig;

/// The defaults shipped with the binary (the repository's `config/default.toml`).
pub const BUILT_IN_DEFAULTS: &str = include_str!("../../config/default.toml");

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
}

/// Allowed values of each `[plugins]` key, inclusive, and their unit.
const PLUGIN_KEY_RANGES: [(&str, i64, i64, &str); 10] = [
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
        ];
        for ((key, min, max, unit), value) in PLUGIN_KEY_RANGES.iter().zip(values) {
            if let Some(value) = value
                && !(*min..=*max).contains(&value)
            {
                return Err(invalid(
                    source_name,
                    format!(
                        "plugins.{key}: must be an integer from {min} to {max} ({unit}), got {value}"
                    ),
                ));
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
        let Some(path) = name.strip_prefix("TESSER_") else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
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
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::Builder::new()
            .suffix(".toml")
            .tempfile()
            .expect("temp");
        std::fs::write(file.path(), text).expect("write");
        file
    }

    #[test]
    fn layers_override_in_order() {
        let file = write("[live]\ntimer_ms = 250\nplugins_dir = \"/from/file\"\n");
        let env = vec![
            (
                "TESSER_LIVE__PLUGINS_DIR".to_owned(),
                "/from/env".to_owned(),
            ),
            ("TESSER_RISK__PRICE_BAND_BPS".to_owned(), "100".to_owned()),
        ];
        let config = load(Some(file.path()), env).expect("config");
        assert_eq!(config.live.timer_ms, 250);
        assert_eq!(config.live.plugins_dir, PathBuf::from("/from/env"));
        assert_eq!(config.risk.price_band_bps, Some(Decimal::from(100)));
        assert_eq!(config.live.speed, "max", "defaults stay");
    }

    #[test]
    fn unknown_keys_name_the_key_and_the_file() {
        let file = write("[live]\nplugin_dir = \"./plugins\"\n");
        let error = load(Some(file.path()), Vec::new())
            .expect_err("unknown key")
            .to_string();
        assert!(
            error.contains("plugin_dir") && error.contains(&file.path().display().to_string()),
            "{error}"
        );
        let file = write("[risk]\nmax_actions_per_second = \"many\"\n");
        let error = load(Some(file.path()), Vec::new())
            .expect_err("bad value")
            .to_string();
        assert!(
            error.contains("max_actions_per_second") || error.contains("invalid type"),
            "{error}"
        );
        assert!(
            error.contains(&file.path().display().to_string()),
            "{error}"
        );
        let error = load(
            None,
            vec![("TESSER_LIVE__TIMER".to_owned(), "5".to_owned())],
        )
        .expect_err("env")
        .to_string();
        assert!(
            error.contains("TESSER_LIVE__TIMER") && error.contains("timer"),
            "{error}"
        );
        let file = write("[live]\ntimer_ms = 0\n");
        let error = load(Some(file.path()), Vec::new())
            .expect_err("zero")
            .to_string();
        assert!(error.contains("live.timer_ms"), "{error}");
    }

    #[test]
    fn plugin_defaults_load_and_equal_the_runtime_defaults() {
        let config = load(None, Vec::new()).expect("config");
        assert_eq!(config.plugin_limits(), PluginLimits::default());
        let mut orchestrator = OrchestratorConfig {
            max_actions_per_result: 1,
            max_log_lines: 1,
            max_log_bytes: 1,
            max_snapshot_bytes: 1,
            max_risk_rejections: 1,
            ..OrchestratorConfig::default()
        };
        config.apply_orchestrator_settings(&mut orchestrator);
        assert_eq!(orchestrator, OrchestratorConfig::default());
    }

    #[test]
    fn completion_grace_loads_and_refuses_what_is_not_a_non_negative_integer() {
        let config = load(None, Vec::new()).expect("config");
        assert_eq!(config.execution.completion_grace_ms, 60_000);
        let file = write("[execution]\ncompletion_grace_ms = 0\n");
        let config = load(Some(file.path()), Vec::new()).expect("zero is allowed");
        let mut orchestrator = OrchestratorConfig::default();
        config.apply_orchestrator_settings(&mut orchestrator);
        assert_eq!(orchestrator.completion_grace_ms, 0);
        for bad in ["-1", "\"soon\"", "1.5"] {
            let file = write(&format!("[execution]\ncompletion_grace_ms = {bad}\n"));
            let error = load(Some(file.path()), Vec::new())
                .expect_err(bad)
                .to_string();
            let path = file.path().display().to_string();
            assert!(
                error.contains("completion_grace_ms") && error.contains(&path),
                "{bad}: {error}"
            );
            assert_eq!(error.lines().count(), 1, "{error}");
        }
    }

    #[test]
    fn plugin_limits_layer_from_file_and_environment() {
        let file = write("[plugins]\nmax_memory_mib = 32\nmax_log_lines = 10\n");
        let env = vec![
            (
                "TESSER_PLUGINS__MAX_MEMORY_MIB".to_owned(),
                "128".to_owned(),
            ),
            (
                "TESSER_PLUGINS__CALLBACK_DEADLINE_MS".to_owned(),
                "200".to_owned(),
            ),
            (
                "TESSER_PLUGINS__MAX_RISK_REJECTIONS".to_owned(),
                "7".to_owned(),
            ),
        ];
        let config = load(Some(file.path()), env).expect("config");
        let limits = config.plugin_limits();
        assert_eq!(limits.max_memory_bytes, 128 << 20, "env beats file");
        assert_eq!(limits.callback_deadline, Duration::from_millis(200));
        assert_eq!(limits.max_wasm_stack_bytes, 512 << 10, "defaults stay");
        let mut orchestrator = OrchestratorConfig::default();
        config.apply_orchestrator_settings(&mut orchestrator);
        assert_eq!(orchestrator.max_log_lines, 10, "from the file");
        assert_eq!(orchestrator.max_risk_rejections, 7, "from the env");
        assert_eq!(orchestrator.max_snapshot_bytes, 1 << 20, "defaults stay");
    }

    #[test]
    fn plugin_cache_dir_defaults_next_to_the_state_file() {
        let config = load(None, Vec::new()).expect("config");
        assert_eq!(config.plugins.cache_dir, None);
        assert_eq!(
            config.plugin_cache_dir(),
            Some(PathBuf::from("./plugin-cache"))
        );
        let file = write("[live]\nstate_path = \"/var/lib/tesser/state.sqlite\"\n");
        let config = load(Some(file.path()), Vec::new()).expect("config");
        assert_eq!(
            config.plugin_cache_dir(),
            Some(PathBuf::from("/var/lib/tesser/plugin-cache"))
        );
        let file = write("[live]\nstate_path = \"state.sqlite\"\n");
        let config = load(Some(file.path()), Vec::new()).expect("config");
        assert_eq!(
            config.plugin_cache_dir(),
            Some(PathBuf::from("plugin-cache"))
        );

        let file = write("[plugins]\ncache_dir = \"/from/file\"\n");
        let config = load(Some(file.path()), Vec::new()).expect("config");
        assert_eq!(config.plugin_cache_dir(), Some(PathBuf::from("/from/file")));
        let env = vec![(
            "TESSER_PLUGINS__CACHE_DIR".to_owned(),
            "/from/env".to_owned(),
        )];
        let config = load(Some(file.path()), env).expect("config");
        assert_eq!(config.plugin_cache_dir(), Some(PathBuf::from("/from/env")));
        let env = vec![("TESSER_PLUGINS__CACHE_DIR".to_owned(), String::new())];
        let config = load(None, env).expect("config");
        assert_eq!(config.plugin_cache_dir(), None, "empty switches it off");

        let file = write("[plugins]\ncache_dir = 5\n");
        let error = load(Some(file.path()), Vec::new())
            .expect_err("not a path")
            .to_string();
        assert!(
            error.contains("cache_dir") && error.contains(&file.path().display().to_string()),
            "{error}"
        );
        let file = write("[plugins]\ncache_directory = \"/x\"\n");
        let error = load(Some(file.path()), Vec::new())
            .expect_err("unknown key")
            .to_string();
        assert!(
            error.contains("cache_directory") && error.contains(&file.path().display().to_string()),
            "{error}"
        );
    }

    #[test]
    fn bad_plugin_limits_name_the_key_the_source_and_the_range() {
        let file = write("[plugins]\nmax_memory_mib = 0\n");
        let error = load(Some(file.path()), Vec::new())
            .expect_err("zero")
            .to_string();
        assert!(
            error.contains("plugins.max_memory_mib")
                && error.contains(&file.path().display().to_string())
                && error.contains("from 1 to 4096")
                && error.contains("got 0"),
            "{error}"
        );
        let file = write("[plugins]\nmax_memory_mib = 8192\n");
        let error = load(Some(file.path()), Vec::new())
            .expect_err("above 4 GiB")
            .to_string();
        assert!(
            error.contains("plugins.max_memory_mib") && error.contains("got 8192"),
            "{error}"
        );
        let error = load(
            None,
            vec![("TESSER_PLUGINS__MAX_LOG_LINES".to_owned(), "-5".to_owned())],
        )
        .expect_err("negative")
        .to_string();
        assert!(
            error.contains("environment variable TESSER_PLUGINS__MAX_LOG_LINES")
                && error.contains("plugins.max_log_lines")
                && error.contains("got -5"),
            "{error}"
        );
        let error = load(
            None,
            vec![(
                "TESSER_PLUGINS__CALLBACK_DEADLINE_MS".to_owned(),
                "fast".to_owned(),
            )],
        )
        .expect_err("not a number")
        .to_string();
        assert!(
            error.contains("TESSER_PLUGINS__CALLBACK_DEADLINE_MS"),
            "{error}"
        );
        let file = write("[plugins]\nmax_memory = 64\n");
        let error = load(Some(file.path()), Vec::new())
            .expect_err("unknown key")
            .to_string();
        assert!(
            error.contains("max_memory") && error.contains(&file.path().display().to_string()),
            "{error}"
        );
    }
}
