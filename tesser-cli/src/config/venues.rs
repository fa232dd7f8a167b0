//! `[venues.*]`: how to reach each live venue. Keys never live here: they
//! come from the environment or a key file (see `docs/venues.md`).

use serde::Deserialize;

use super::{ConfigError, invalid};

/// `[venues]`: one table per venue, named as `--venue` names it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenuesConfig {
    /// `[venues.binance-spot]`.
    #[serde(rename = "binance-spot", default)]
    pub binance_spot: BinanceSpotSection,
}

/// `[venues.binance-spot]`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BinanceSpotSection {
    /// REST base URL; unset: production, or the testnet with `--testnet`.
    pub rest_url: Option<String>,
    /// WebSocket API URL (user data); unset as above.
    pub ws_api_url: Option<String>,
    /// Market stream base URL; unset as above.
    pub stream_url: Option<String>,
    /// `recvWindow` of signed requests, milliseconds.
    pub recv_window_ms: u64,
    /// Longest one REST request may take, milliseconds.
    pub request_timeout_ms: u64,
}

impl Default for BinanceSpotSection {
    fn default() -> Self {
        Self {
            rest_url: None,
            ws_api_url: None,
            stream_url: None,
            recv_window_ms: 5000,
            request_timeout_ms: 10_000,
        }
    }
}

/// The same shape with every key optional: what one layer may contain.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VenuesLayer {
    #[serde(rename = "binance-spot")]
    binance_spot: Option<BinanceSpotLayer>,
}

/// Signed, so that a negative value gets the range error rather than a type
/// error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BinanceSpotLayer {
    rest_url: Option<String>,
    ws_api_url: Option<String>,
    stream_url: Option<String>,
    recv_window_ms: Option<i64>,
    request_timeout_ms: Option<i64>,
}

impl VenuesLayer {
    /// Checks the values one layer sets.
    pub(super) fn check(&self, source_name: &str) -> Result<(), ConfigError> {
        let Some(binance) = &self.binance_spot else {
            return Ok(());
        };
        let range = |key: &str, value: Option<i64>, min: i64, max: i64, unit: &str| match value {
            Some(value) if !(min..=max).contains(&value) => Err(invalid(
                source_name,
                format!(
                    "venues.binance-spot.{key}: must be an integer from {min} to {max} ({unit}), got {value}"
                ),
            )),
            _ => Ok(()),
        };
        // `recvWindow` is at most 60000 (Binance's rest-api.md, timing security).
        range(
            "recv_window_ms",
            binance.recv_window_ms,
            1,
            60_000,
            "milliseconds; Binance allows at most 60000",
        )?;
        range(
            "request_timeout_ms",
            binance.request_timeout_ms,
            1,
            600_000,
            "milliseconds",
        )?;
        for (key, value) in [
            ("rest_url", &binance.rest_url),
            ("ws_api_url", &binance.ws_api_url),
            ("stream_url", &binance.stream_url),
        ] {
            if let Some(url) = value {
                check_url(url).map_err(|why| {
                    invalid(source_name, format!("venues.binance-spot.{key}: {why}"))
                })?;
            }
        }
        Ok(())
    }
}

/// Whether `url` is an absolute http(s) or ws(s) URL.
///
/// # Errors
/// What is wrong, in a few words, naming the value.
pub fn check_url(url: &str) -> Result<(), String> {
    let scheme_ok = ["http://", "https://", "ws://", "wss://"]
        .iter()
        .any(|scheme| url.starts_with(scheme) && url.len() > scheme.len());
    if scheme_ok && !url.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(format!(
            "\"{url}\" is not a URL; expected http(s)://host[:port] or ws(s)://host[:port]"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::load;
    use super::super::tests::write;

    #[test]
    fn binance_spot_settings_layer_from_file_and_environment() {
        let config = load(None, Vec::new()).expect("defaults");
        let binance = &config.venues.binance_spot;
        assert_eq!(binance.recv_window_ms, 5000);
        assert_eq!(binance.request_timeout_ms, 10_000);
        assert_eq!(binance.rest_url, None, "production or testnet unless set");
        let file = write(
            "[venues.binance-spot]\nrest_url = \"http://127.0.0.1:9000\"\nrecv_window_ms = 3000\n",
        );
        let env = vec![(
            "TESSER_VENUES__BINANCE_SPOT__RECV_WINDOW_MS".to_owned(),
            "7000".to_owned(),
        )];
        let config = load(Some(file.path()), env).expect("config");
        let binance = &config.venues.binance_spot;
        assert_eq!(binance.rest_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(binance.recv_window_ms, 7000, "env beats file");
    }

    #[test]
    fn bad_venue_values_name_the_key_and_the_file() {
        for (text, key) in [
            (
                "recv_window_ms = 60001",
                "venues.binance-spot.recv_window_ms",
            ),
            ("recv_window_ms = -5", "venues.binance-spot.recv_window_ms"),
            (
                "request_timeout_ms = 0",
                "venues.binance-spot.request_timeout_ms",
            ),
            (
                "rest_url = \"api.binance.com\"",
                "venues.binance-spot.rest_url",
            ),
            ("api_secret = \"x\"", "api_secret"),
        ] {
            let file = write(&format!("[venues.binance-spot]\n{text}\n"));
            let error = load(Some(file.path()), Vec::new())
                .expect_err(text)
                .to_string();
            let path = file.path().display().to_string();
            assert!(
                error.contains(key) && error.contains(&path),
                "{text}: {error}"
            );
            assert_eq!(error.lines().count(), 1, "{error}");
        }
    }
}
