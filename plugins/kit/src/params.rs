//! Reading a signal's params with clear errors, and the JSON Schema
//! fragments that describe them.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use tesser_wasm::PluginError;

/// A signal's params object, checked against the names a plugin accepts.
///
/// ```
/// use serde_json::json;
/// use tesser_plugin_kit::params::Params;
/// let value = json!({"clip_size": "0.25", "post_only": true});
/// let params = Params::new(&value, &["clip_size", "post_only"]).unwrap();
/// assert_eq!(params.decimal("clip_size").unwrap().unwrap().to_string(), "0.25");
/// assert_eq!(params.boolean("post_only").unwrap(), Some(true));
/// assert!(Params::new(&json!({"clip": 1}), &["clip_size"]).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Params<'a> {
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Params<'a> {
    /// Wraps `value`, which must be an object (or `null`, meaning no params)
    /// whose keys are all in `accepted`.
    ///
    /// # Errors
    /// [`PluginError::invalid_params`] for anything else, naming the
    /// offending key and the accepted ones.
    pub fn new(value: &'a Value, accepted: &[&str]) -> Result<Self, PluginError> {
        let map = match value {
            Value::Null => None,
            Value::Object(map) => Some(map),
            other => {
                return Err(PluginError::invalid_params(format!(
                    "params must be a JSON object, got {other}"
                )));
            }
        };
        if let Some(map) = map {
            for key in map.keys() {
                if !accepted.contains(&key.as_str()) {
                    return Err(PluginError::invalid_params(format!(
                        "unknown param '{key}' (accepted: {})",
                        accepted.join(", ")
                    )));
                }
            }
        }
        Ok(Self { map })
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map
            .and_then(|map| map.get(key))
            .filter(|value| !value.is_null())
    }

    /// A decimal given as a string (`"0.25"`) or a number (`0.25`).
    ///
    /// # Errors
    /// The value is neither, or not a decimal.
    pub fn decimal(&self, key: &str) -> Result<Option<Decimal>, PluginError> {
        self.get(key)
            .map(|value| parse_decimal(value, key))
            .transpose()
    }

    /// A decimal that must be strictly positive.
    ///
    /// # Errors
    /// As [`decimal`](Self::decimal); also when it is zero or negative.
    pub fn positive_decimal(&self, key: &str) -> Result<Option<Decimal>, PluginError> {
        match self.decimal(key)? {
            Some(value) if value <= Decimal::ZERO => Err(PluginError::invalid_params(format!(
                "{key} must be positive, got {value}"
            ))),
            other => Ok(other),
        }
    }

    /// An integer given as a JSON number without fraction.
    ///
    /// # Errors
    /// The value is not an integer that fits in 64 bits.
    pub fn integer(&self, key: &str) -> Result<Option<i64>, PluginError> {
        self.get(key)
            .map(|value| {
                value.as_i64().ok_or_else(|| {
                    PluginError::invalid_params(format!("{key} must be an integer, got {value}"))
                })
            })
            .transpose()
    }

    /// An integer between `min` and `max` inclusive.
    ///
    /// # Errors
    /// As [`integer`](Self::integer); also when it is out of range.
    pub fn integer_in(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>, PluginError> {
        match self.integer(key)? {
            Some(value) if value < min || value > max => Err(PluginError::invalid_params(format!(
                "{key} must be between {min} and {max}, got {value}"
            ))),
            other => Ok(other),
        }
    }

    /// A boolean.
    ///
    /// # Errors
    /// The value is not `true` or `false`.
    pub fn boolean(&self, key: &str) -> Result<Option<bool>, PluginError> {
        self.get(key)
            .map(|value| {
                value.as_bool().ok_or_else(|| {
                    PluginError::invalid_params(format!("{key} must be true or false, got {value}"))
                })
            })
            .transpose()
    }

    /// One of the strings in `choices`.
    ///
    /// # Errors
    /// The value is not a string, or not one of `choices`.
    pub fn choice(
        &self,
        key: &str,
        choices: &[&'static str],
    ) -> Result<Option<&'static str>, PluginError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let text = value.as_str().ok_or_else(|| {
            PluginError::invalid_params(format!("{key} must be a string, got {value}"))
        })?;
        choices
            .iter()
            .find(|choice| **choice == text)
            .copied()
            .map(Some)
            .ok_or_else(|| {
                PluginError::invalid_params(format!(
                    "{key} must be one of {}, got '{text}'",
                    choices.join(", ")
                ))
            })
    }

    /// An array of decimals (each a string or a number).
    ///
    /// # Errors
    /// The value is not an array, or an element is not a decimal.
    pub fn decimal_array(&self, key: &str) -> Result<Option<Vec<Decimal>>, PluginError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let items = value.as_array().ok_or_else(|| {
            PluginError::invalid_params(format!("{key} must be an array of decimals, got {value}"))
        })?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_decimal(item, &format!("{key}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// Parses a decimal given as a JSON string or number.
///
/// # Errors
/// [`PluginError::invalid_params`] naming `field` when it is neither.
pub fn parse_decimal(value: &Value, field: &str) -> Result<Decimal, PluginError> {
    let text = match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Number(number) => number.to_string(),
        other => {
            return Err(PluginError::invalid_params(format!(
                "{field} must be a decimal (a string like \"0.25\" or a number), got {other}"
            )));
        }
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map_err(|error| {
            PluginError::invalid_params(format!("{field} '{text}' is not a decimal: {error}"))
        })
}

/// JSON Schema of a decimal param: a decimal string or a number.
#[must_use]
pub fn decimal_schema(description: &str) -> Value {
    json!({
        "description": description,
        "anyOf": [
            {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"},
            {"type": "number"}
        ]
    })
}

/// JSON Schema of a strictly positive decimal param.
#[must_use]
pub fn positive_decimal_schema(description: &str) -> Value {
    json!({
        "description": description,
        "anyOf": [
            {"type": "string", "pattern": "^[0-9]*[1-9][0-9]*(\\.[0-9]+)?$|^[0-9]+\\.[0-9]*[1-9][0-9]*$"},
            {"type": "number", "exclusiveMinimum": 0}
        ]
    })
}

/// A params object schema (draft 2020-12) with these properties.
#[must_use]
pub fn object_schema(properties: Value, required: &[&str]) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_come_from_strings_numbers_and_exponents() {
        let value = json!({"a": "0.25", "b": 0.1, "c": 1e-5, "d": true, "e": "x"});
        let params = Params::new(&value, &["a", "b", "c", "d", "e"]).unwrap();
        assert_eq!(params.decimal("a").unwrap(), Some(Decimal::new(25, 2)));
        assert_eq!(params.decimal("b").unwrap(), Some(Decimal::new(1, 1)));
        assert_eq!(params.decimal("c").unwrap(), Some(Decimal::new(1, 5)));
        assert!(
            params
                .decimal("d")
                .unwrap_err()
                .message
                .contains("d must be a decimal")
        );
        assert!(
            params
                .decimal("e")
                .unwrap_err()
                .message
                .contains("not a decimal")
        );
        assert_eq!(params.decimal("missing").unwrap(), None);
    }

    #[test]
    fn params_must_be_an_object_of_known_keys() {
        assert!(Params::new(&Value::Null, &[]).is_ok());
        assert!(
            Params::new(&json!([1]), &[])
                .unwrap_err()
                .message
                .contains("object")
        );
        let error = Params::new(&json!({"x": 1}), &["a", "b"]).unwrap_err();
        assert_eq!(error.message, "unknown param 'x' (accepted: a, b)");
    }

    #[test]
    fn integers_choices_and_booleans_are_checked() {
        let value = json!({"n": 5, "f": 1.5, "s": "market", "b": "yes"});
        let params = Params::new(&value, &["n", "f", "s", "b"]).unwrap();
        assert_eq!(params.integer_in("n", 1, 10).unwrap(), Some(5));
        assert!(params.integer_in("n", 6, 10).is_err());
        assert!(params.integer("f").is_err());
        assert_eq!(
            params.choice("s", &["limit", "market"]).unwrap(),
            Some("market")
        );
        assert!(params.choice("s", &["limit"]).is_err());
        assert!(params.boolean("b").is_err());
    }
}
