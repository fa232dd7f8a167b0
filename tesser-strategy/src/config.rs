//! Strategy configuration files: which built-in strategy, on which symbol,
//! with which parameters, executed how.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, IgnoredAny};
use tesser_core::{ExecutionHint, SignalKind, Symbol};
use toml::Spanned;

use crate::scripted::{ScriptedSignal, Trigger};
use crate::sma_cross::{ParamProblem, SmaCrossParams};
use crate::{Scripted, SmaCross, Strategy, StrategyError};

/// The trigger keys of a `[[params.signals]]` entry, for messages.
const ONE_OF: &str = "at_ms, after_ticks, price_above or price_below";

/// The `strategy_name`s [`StrategyConfig::build`] knows.
pub const BUILT_IN_STRATEGIES: &[&str] = &[SmaCross::NAME, Scripted::NAME];

/// The validated `[params]` of a built-in strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StrategyParams {
    /// `strategy_name = "sma_cross"`.
    SmaCross(SmaCrossParams),
    /// `strategy_name = "scripted"`: the `[[params.signals]]` entries, in
    /// file order.
    Scripted(Vec<ScriptedSignal>),
}

impl StrategyParams {
    /// The `strategy_name` these parameters belong to.
    #[must_use]
    pub const fn strategy_name(&self) -> &'static str {
        match self {
            Self::SmaCross(_) => SmaCross::NAME,
            Self::Scripted(_) => Scripted::NAME,
        }
    }
}

/// A validated strategy configuration file.
///
/// ```toml
/// strategy_name = "sma_cross"      # or "scripted"
/// symbol = "BTCUSD"
///
/// [params]
/// fast = 20                        # ticks
/// slow = 100
/// quantity = "0.5"                 # decimals are strings, so they stay exact
///
/// [execution]                      # leave out to send market orders
/// plugin = "plugin_chase"          # <plugins_dir>/plugin_chase.wasm
/// params = { clip_size = "0.25" }  # handed to the plugin as JSON
/// ```
///
/// `scripted` takes `[[params.signals]]` entries instead: `kind`
/// (`enter_long`, `exit_long`, `enter_short`, `exit_short`, `flatten`), an
/// optional `quantity`, an optional `note`, and exactly one trigger:
/// `at_ms`, `after_ticks`, `price_above` or `price_below` (see
/// [`Trigger`]).
///
/// Every key is checked: an unknown key, a missing one or a bad value is an
/// error naming the file, the line and the key.
///
/// ```
/// use tesser_core::ExecutionHint;
/// use tesser_strategy::StrategyConfig;
///
/// let config = StrategyConfig::from_toml_str(
///     r#"
///     strategy_name = "scripted"
///     symbol = "BTCUSD"
///     [[params.signals]]
///     kind = "enter_long"
///     quantity = "5"
///     after_ticks = 20
///     "#,
///     "demo.toml",
/// )?;
/// assert_eq!(config.execution_hint(), ExecutionHint::Immediate);
/// let strategy = config.build()?;
/// assert_eq!(strategy.name(), "scripted");
/// # Ok::<(), tesser_strategy::StrategyError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyConfig {
    source: String,
    symbol: Symbol,
    params: StrategyParams,
    execution: ExecutionHint,
}

impl StrategyConfig {
    /// Reads and validates the configuration file at `path`.
    ///
    /// # Errors
    /// [`StrategyError::Read`] when the file cannot be read, otherwise as
    /// [`StrategyConfig::from_toml_str`], with the path as the source name.
    pub fn load(path: &Path) -> Result<Self, StrategyError> {
        let text = std::fs::read_to_string(path).map_err(|source| StrategyError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Parses and validates a configuration; `source_name` (usually the
    /// file's path) is what error messages call it.
    ///
    /// # Errors
    /// [`StrategyError::Parse`] for invalid TOML, an unknown or missing key
    /// or a value of the wrong type; [`StrategyError::UnknownStrategy`];
    /// [`StrategyError::InvalidValue`] for a value out of range.
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Self, StrategyError> {
        let parser = Parser {
            text,
            file: source_name,
        };
        let probe: Probe = parser.parse()?;
        let Some(name) = probe.strategy_name else {
            return Err(parser.invalid(
                "strategy_name",
                None,
                format!(
                    "is missing; add strategy_name = \"...\" naming one of the built-in strategies: {}",
                    BUILT_IN_STRATEGIES.join(", ")
                ),
            ));
        };
        match name.get_ref().as_str() {
            SmaCross::NAME => {
                let raw: RawFile<RawSmaCrossParams> = parser.parse()?;
                let params = parser.sma_cross_params(&raw.params)?;
                parser.finish(&raw, StrategyParams::SmaCross(params))
            }
            Scripted::NAME => {
                let raw: RawFile<RawScriptedParams> = parser.parse()?;
                let params = parser.scripted_params(&raw.params)?;
                parser.finish(&raw, StrategyParams::Scripted(params))
            }
            other => Err(StrategyError::UnknownStrategy {
                file: source_name.to_owned(),
                line: Some(parser.line_col(name.span().start).0),
                name: other.to_owned(),
            }),
        }
    }

    /// Builds a fresh instance of the configured strategy.
    ///
    /// # Errors
    /// [`StrategyError::InvalidParams`] when the parameters are invalid; a
    /// configuration from a file was already checked and builds.
    pub fn build(&self) -> Result<Box<dyn Strategy>, StrategyError> {
        Ok(match &self.params {
            StrategyParams::SmaCross(params) => {
                Box::new(SmaCross::new(self.symbol.clone(), params.clone())?)
            }
            StrategyParams::Scripted(entries) => {
                Box::new(Scripted::new(self.symbol.clone(), entries.clone())?)
            }
        })
    }

    /// How the strategy's signals are executed: the `[execution]` plugin
    /// with its `params` as JSON (an empty object when it has none), or
    /// [`ExecutionHint::Immediate`] without a plugin.
    #[must_use]
    pub fn execution_hint(&self) -> ExecutionHint {
        self.execution.clone()
    }

    /// The `strategy_name`.
    #[must_use]
    pub const fn strategy_name(&self) -> &'static str {
        self.params.strategy_name()
    }

    /// The `symbol` traded.
    #[must_use]
    pub const fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    /// The validated `[params]`.
    #[must_use]
    pub const fn params(&self) -> &StrategyParams {
        &self.params
    }

    /// The name errors use for the configuration: the file's path, or the
    /// source name given to [`StrategyConfig::from_toml_str`].
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// First pass: only the strategy name, to choose the `[params]` layout.
#[derive(Deserialize)]
struct Probe {
    strategy_name: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile<P> {
    #[serde(rename = "strategy_name")]
    _strategy_name: IgnoredAny,
    symbol: Spanned<String>,
    params: P,
    execution: Option<RawExecution>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExecution {
    plugin: Option<Spanned<String>>,
    params: Option<Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmaCrossParams {
    fast: Spanned<i64>,
    slow: Spanned<i64>,
    quantity: Spanned<DecimalText>,
    #[serde(default)]
    allow_short: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScriptedParams {
    signals: Spanned<Vec<Spanned<RawScriptedSignal>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScriptedSignal {
    kind: SignalKind,
    quantity: Option<Spanned<DecimalText>>,
    at_ms: Option<Spanned<i64>>,
    after_ticks: Option<Spanned<i64>>,
    price_above: Option<Spanned<DecimalText>>,
    price_below: Option<Spanned<DecimalText>>,
    note: Option<String>,
}

/// A decimal as written: a string (`"0.5"`) or an integer (`5`). Floats are
/// refused because they are not exact.
struct DecimalText(String);

impl<'de> Deserialize<'de> for DecimalText {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = DecimalText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal in quotes, such as \"0.5\" (quoted so it stays exact)")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<DecimalText, E> {
                Ok(DecimalText(text.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<DecimalText, E> {
                Ok(DecimalText(value.to_string()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<DecimalText, E> {
                Ok(DecimalText(value.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Error reporting against one source text.
struct Parser<'t> {
    text: &'t str,
    file: &'t str,
}

impl Parser<'_> {
    fn parse<T: DeserializeOwned>(&self) -> Result<T, StrategyError> {
        toml::from_str(self.text).map_err(|error| self.toml_error(&error))
    }

    /// 1-based line and column of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut end = offset.min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let before = &self.text[..end];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .map_or(0, |last| last.chars().count())
            + 1;
        (line, column)
    }

    /// The text of a 1-based line, trimmed and shortened.
    fn line_text(&self, line: usize) -> Option<String> {
        let text = self.text.lines().nth(line.checked_sub(1)?)?.trim();
        if text.is_empty() {
            return None;
        }
        Some(if text.chars().count() > 80 {
            let short: String = text.chars().take(77).collect();
            format!("{short}...")
        } else {
            text.to_owned()
        })
    }

    fn toml_error(&self, error: &toml::de::Error) -> StrategyError {
        let mut message = error
            .message()
            .trim()
            .lines()
            .collect::<Vec<_>>()
            .join("; ");
        if message.starts_with("unknown field") {
            message.push_str("; remove the key or correct its spelling");
        } else if message.starts_with("missing field") {
            message.push_str("; add it");
        }
        let (line, column) = match error.span() {
            Some(span) => {
                let (line, column) = self.line_col(span.start);
                if let Some(text) = self.line_text(line) {
                    message.push_str(" (at `");
                    message.push_str(&text);
                    message.push_str("`)");
                }
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        StrategyError::Parse {
            file: self.file.to_owned(),
            line,
            column,
            message,
        }
    }

    fn invalid(&self, key: &str, span: Option<Range<usize>>, problem: String) -> StrategyError {
        StrategyError::InvalidValue {
            file: self.file.to_owned(),
            line: span.map(|span| self.line_col(span.start).0),
            key: key.to_owned(),
            problem,
        }
    }

    fn decimal(&self, key: &str, value: &Spanned<DecimalText>) -> Result<Decimal, StrategyError> {
        let text = &value.get_ref().0;
        Decimal::from_str_exact(text).map_err(|error| {
            self.invalid(
                key,
                Some(value.span()),
                format!(
                    "= \"{text}\" is not a decimal ({error}); write one in quotes, e.g. \"0.5\""
                ),
            )
        })
    }

    fn sma_cross_params(&self, raw: &RawSmaCrossParams) -> Result<SmaCrossParams, StrategyError> {
        let window = |key: &str, value: &Spanned<i64>| {
            usize::try_from(*value.get_ref()).map_err(|_| {
                self.invalid(
                    key,
                    Some(value.span()),
                    format!("= {} must be a positive number of ticks", value.get_ref()),
                )
            })
        };
        let params = SmaCrossParams {
            fast: window("params.fast", &raw.fast)?,
            slow: window("params.slow", &raw.slow)?,
            quantity: self.decimal("params.quantity", &raw.quantity)?,
            allow_short: raw.allow_short,
        };
        params.check().map_err(|ParamProblem { key, problem }| {
            let span = match key {
                "fast" => raw.fast.span(),
                "slow" => raw.slow.span(),
                _ => raw.quantity.span(),
            };
            self.invalid(&format!("params.{key}"), Some(span), problem)
        })?;
        Ok(params)
    }

    fn scripted_params(
        &self,
        raw: &RawScriptedParams,
    ) -> Result<Vec<ScriptedSignal>, StrategyError> {
        if raw.signals.get_ref().is_empty() {
            return Err(self.invalid(
                "params.signals",
                Some(raw.signals.span()),
                "is empty; add at least one [[params.signals]] entry".to_owned(),
            ));
        }
        let mut entries = Vec::with_capacity(raw.signals.get_ref().len());
        for (index, spanned) in raw.signals.get_ref().iter().enumerate() {
            let entry_key = format!("params.signals[{}]", index + 1);
            let raw_entry = spanned.get_ref();
            let mut triggers: Vec<(&str, Range<usize>)> = Vec::new();
            if let Some(at) = &raw_entry.at_ms {
                triggers.push(("at_ms", at.span()));
            }
            if let Some(n) = &raw_entry.after_ticks {
                triggers.push(("after_ticks", n.span()));
            }
            if let Some(level) = &raw_entry.price_above {
                triggers.push(("price_above", level.span()));
            }
            if let Some(level) = &raw_entry.price_below {
                triggers.push(("price_below", level.span()));
            }
            let trigger = match triggers.as_slice() {
                [] => {
                    return Err(self.invalid(
                        &entry_key,
                        Some(spanned.span()),
                        format!("has no trigger; add exactly one of {ONE_OF}"),
                    ));
                }
                [_] => self.trigger(&entry_key, raw_entry)?,
                [(first, _), (second, span), ..] => {
                    return Err(self.invalid(
                        &entry_key,
                        Some(span.clone()),
                        format!(
                            "has {} triggers (`{first}` and `{second}`); keep exactly one of {ONE_OF}",
                            triggers.len()
                        ),
                    ));
                }
            };
            let quantity = match &raw_entry.quantity {
                Some(value) => Some(self.decimal(&format!("{entry_key}.quantity"), value)?),
                None => None,
            };
            let entry = ScriptedSignal {
                kind: raw_entry.kind,
                quantity,
                trigger,
                note: raw_entry.note.clone(),
            };
            entry.check().map_err(|(key, problem)| {
                let span = match key {
                    "quantity" => raw_entry.quantity.as_ref().map(Spanned::span),
                    _ => raw_entry.after_ticks.as_ref().map(Spanned::span),
                };
                self.invalid(&format!("{entry_key}.{key}"), span, problem)
            })?;
            entries.push(entry);
        }
        Ok(entries)
    }

    /// The one trigger of an entry that has exactly one.
    fn trigger(&self, entry_key: &str, raw: &RawScriptedSignal) -> Result<Trigger, StrategyError> {
        if let Some(at) = &raw.at_ms {
            return Ok(Trigger::AtMs(*at.get_ref()));
        }
        if let Some(n) = &raw.after_ticks {
            let count = u64::try_from(*n.get_ref()).map_err(|_| {
                self.invalid(
                    &format!("{entry_key}.after_ticks"),
                    Some(n.span()),
                    format!(
                        "= {} must be a positive tick count (ticks are counted from 1)",
                        n.get_ref()
                    ),
                )
            })?;
            return Ok(Trigger::AfterTicks(count));
        }
        if let Some(level) = &raw.price_above {
            return Ok(Trigger::PriceAbove(
                self.decimal(&format!("{entry_key}.price_above"), level)?,
            ));
        }
        if let Some(level) = &raw.price_below {
            return Ok(Trigger::PriceBelow(
                self.decimal(&format!("{entry_key}.price_below"), level)?,
            ));
        }
        Err(self.invalid(
            entry_key,
            None,
            format!("has no trigger; add exactly one of {ONE_OF}"),
        ))
    }

    fn symbol(&self, raw: &Spanned<String>) -> Result<Symbol, StrategyError> {
        let text = raw.get_ref();
        if text.is_empty() || text.trim() != text || text.chars().any(char::is_whitespace) {
            return Err(self.invalid(
                "symbol",
                Some(raw.span()),
                format!("= \"{text}\" is not a symbol; write the instrument's symbol without spaces, e.g. \"BTCUSD\""),
            ));
        }
        Ok(Symbol::from(text.as_str()))
    }

    fn execution(&self, raw: Option<&RawExecution>) -> Result<ExecutionHint, StrategyError> {
        let Some(raw) = raw else {
            return Ok(ExecutionHint::Immediate);
        };
        let Some(plugin) = &raw.plugin else {
            if let Some(params) = &raw.params {
                return Err(self.invalid(
                    "execution.params",
                    Some(params.span()),
                    "is set but `execution.plugin` is not; name the plugin (plugin = \"plugin_chase\") or remove params".to_owned(),
                ));
            }
            return Ok(ExecutionHint::Immediate);
        };
        let name = plugin.get_ref();
        if let Some(problem) = plugin_name_problem(name) {
            return Err(self.invalid("execution.plugin", Some(plugin.span()), problem));
        }
        let params = match &raw.params {
            Some(table) => {
                let mut object = serde_json::Map::new();
                for (key, value) in table.get_ref() {
                    let json = toml_to_json(value).map_err(|path| {
                        self.invalid(
                            &format!("execution.params.{key}{path}"),
                            Some(table.span()),
                            "is not a finite number; plugin parameters must be representable in JSON".to_owned(),
                        )
                    })?;
                    object.insert(key.clone(), json);
                }
                serde_json::Value::Object(object)
            }
            None => serde_json::Value::Object(serde_json::Map::new()),
        };
        Ok(ExecutionHint::Plugin {
            name: name.clone(),
            params,
        })
    }

    fn finish<P>(
        &self,
        raw: &RawFile<P>,
        params: StrategyParams,
    ) -> Result<StrategyConfig, StrategyError> {
        Ok(StrategyConfig {
            source: self.file.to_owned(),
            symbol: self.symbol(&raw.symbol)?,
            params,
            execution: self.execution(raw.execution.as_ref())?,
        })
    }
}

/// What is wrong with an `[execution] plugin` name, if anything.
fn plugin_name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some(
            "is empty; name the plugin, e.g. \"plugin_chase\" for plugin_chase.wasm, or remove the key for market orders"
                .to_owned(),
        );
    }
    if name.contains(['/', '\\']) {
        return Some(format!(
            "= \"{name}\" is a path; name the plugin by its file stem (plugins are looked up in the plugins directory)"
        ));
    }
    name.strip_suffix(".wasm")
        .map(|stem| format!("= \"{name}\" includes the extension; write plugin = \"{stem}\""))
}

/// TOML to JSON: strings stay strings, integers and floats become numbers,
/// dates become strings. On failure (a NaN or infinite float), the path
/// below the value that failed, e.g. `.levels[2]`.
fn toml_to_json(value: &toml::Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as Json;
    Ok(match value {
        toml::Value::String(text) => Json::String(text.clone()),
        toml::Value::Integer(number) => Json::from(*number),
        toml::Value::Float(number) => serde_json::Number::from_f64(*number)
            .map(Json::Number)
            .ok_or_else(String::new)?,
        toml::Value::Boolean(flag) => Json::Bool(*flag),
        toml::Value::Datetime(datetime) => Json::String(datetime.to_string()),
        toml::Value::Array(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| toml_to_json(item).map_err(|path| format!("[{index}]{path}")))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => Json::Object(
            table
                .iter()
                .map(|(key, item)| {
                    toml_to_json(item)
                        .map(|json| (key.clone(), json))
                        .map_err(|path| format!(".{key}{path}"))
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}
