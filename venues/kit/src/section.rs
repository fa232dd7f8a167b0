//! A venue's `[venues.NAME]` configuration table.
//!
//! The `tesser` command layers the table like every other section (built-in
//! defaults, `config/default.toml`, `--config FILE`, then
//! `TESSER_VENUES__NAME__KEY` variables) and hands each layer to the venue's
//! factory to check, and the merged table to it to use. The helpers here give
//! every venue the same one-line errors: `venues.NAME.KEY: what is wrong`.

use std::ops::RangeInclusive;

use serde::de::DeserializeOwned;

use crate::endpoint::check_url;

/// A `[venues.NAME]` table, as TOML.
pub type Section = toml::Table;

/// A bad `[venues.NAME]` table or key. Its message is one line naming the
/// key (`venues.binance-spot.recv_window_ms: …`); the caller adds where the
/// value came from (the file or the environment variable).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("venues.{venue}{}: {message}", key.as_ref().map(|key| format!(".{key}")).unwrap_or_default())]
pub struct SectionError {
    venue: String,
    key: Option<String>,
    message: String,
}

impl SectionError {
    /// A bad value of `key` in `[venues.<venue>]`.
    #[must_use]
    pub fn key(venue: &str, key: &str, message: impl Into<String>) -> Self {
        Self {
            venue: venue.to_owned(),
            key: Some(key.to_owned()),
            message: message.into(),
        }
    }

    /// A problem with the table `[venues.<venue>]` as a whole (an unknown
    /// venue, an unknown key, a value of the wrong type).
    #[must_use]
    pub fn table(venue: &str, message: impl Into<String>) -> Self {
        Self {
            venue: venue.to_owned(),
            key: None,
            message: message.into(),
        }
    }

    /// The venue whose table is wrong, as written.
    #[must_use]
    pub fn venue(&self) -> &str {
        &self.venue
    }

    /// The key that is wrong, when one is.
    #[must_use]
    pub fn bad_key(&self) -> Option<&str> {
        self.key.as_deref()
    }
}

/// `table` as `T`: a venue's layer type (every key optional) to check a
/// layer, or its settings type (defaults for missing keys) to use the merged
/// table. Use `#[serde(deny_unknown_fields)]` on `T` so that a misspelt key
/// is an error.
///
/// # Errors
/// Unknown keys and values of the wrong type, as one line naming
/// `[venues.<venue>]`.
pub fn parse<T: DeserializeOwned>(venue: &str, table: &Section) -> Result<T, SectionError> {
    T::deserialize(toml::Value::Table(table.clone()))
        .map_err(|error| SectionError::table(venue, one_line(&error.to_string())))
}

/// Checks that `value`, when set, lies in `range`. Take integers as `i64`
/// in the layer type, so that a negative value gets this error rather than a
/// type error.
///
/// # Errors
/// `venues.<venue>.<key>: must be an integer from MIN to MAX (<unit>), got V`.
pub fn check_range(
    venue: &str,
    key: &str,
    value: Option<i64>,
    range: RangeInclusive<i64>,
    unit: &str,
) -> Result<(), SectionError> {
    match value {
        Some(value) if !range.contains(&value) => Err(SectionError::key(
            venue,
            key,
            format!(
                "must be an integer from {} to {} ({unit}), got {value}",
                range.start(),
                range.end()
            ),
        )),
        _ => Ok(()),
    }
}

/// Checks that `value`, when set, is an absolute http(s) or ws(s) URL.
///
/// # Errors
/// `venues.<venue>.<key>: "…" is not a URL; expected …`.
pub fn check_url_key(venue: &str, key: &str, value: Option<&str>) -> Result<(), SectionError> {
    match value {
        Some(url) => check_url(url).map_err(|why| SectionError::key(venue, key, why)),
        None => Ok(()),
    }
}

/// How venue `name` is spelt in environment variable names:
/// `binance-spot` → `BINANCE_SPOT`, as in
/// `TESSER_VENUES__BINANCE_SPOT__RECV_WINDOW_MS`.
#[must_use]
pub fn env_segment(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)] // reason: only deserialized, to check a table
    struct Layer {
        depth: Option<i64>,
    }

    #[test]
    fn errors_are_one_line_naming_the_venue_and_the_key() {
        let error = check_range("toy", "depth", Some(0), 1..=20, "levels").expect_err("0");
        assert_eq!(
            error.to_string(),
            "venues.toy.depth: must be an integer from 1 to 20 (levels), got 0"
        );
        assert_eq!(error.bad_key(), Some("depth"));
        assert_eq!(
            check_range("toy", "depth", Some(20), 1..=20, "levels"),
            Ok(())
        );
        assert_eq!(check_range("toy", "depth", None, 1..=20, "levels"), Ok(()));

        let unknown: Section = "deep = 3".parse().expect("TOML");
        let error = parse::<Layer>("toy", &unknown).expect_err("unknown key");
        let text = error.to_string();
        assert!(
            text.starts_with("venues.toy: ") && text.contains("deep"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1, "{text}");

        let wrong_type: Section = "depth = \"three\"".parse().expect("TOML");
        let text = parse::<Layer>("toy", &wrong_type)
            .expect_err("a string")
            .to_string();
        assert!(text.starts_with("venues.toy: "), "{text}");

        let error = check_url_key("toy", "rest_url", Some("toy.example")).expect_err("no scheme");
        assert!(
            error
                .to_string()
                .starts_with("venues.toy.rest_url: \"toy.example\" is not a URL")
        );
        assert_eq!(env_segment("binance-spot"), "BINANCE_SPOT");
    }
}
