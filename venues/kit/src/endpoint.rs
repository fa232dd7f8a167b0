//! Endpoint URLs: the check every venue applies to a URL it is given, and
//! the scheme mapping between a venue's HTTP and WebSocket endpoints on one
//! host. Which paths a venue serves under one base is the venue's own rule
//! (its factory's); only the schemes are shared.

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

/// `base` without trailing slashes, over `ws` for `http` and `wss` for
/// `https`; a `ws(s)` base is kept as it is.
#[must_use]
pub fn websocket_base(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    }
}

/// `base` without trailing slashes, over `http` for `ws` and `https` for
/// `wss`; an `http(s)` base is kept as it is.
#[must_use]
pub fn http_base(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if let Some(rest) = base.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = base.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        base.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_a_scheme_and_a_host() {
        for good in [
            "http://127.0.0.1:1",
            "https://a.example",
            "ws://h",
            "wss://h:9443",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
        for bad in ["127.0.0.1:4567", "http://", "ftp://h", "http://a b"] {
            let why = check_url(bad).expect_err(bad);
            assert!(why.contains(bad) && why.contains("not a URL"), "{why}");
        }
    }

    #[test]
    fn schemes_map_both_ways_on_the_same_host() {
        assert_eq!(
            websocket_base("http://127.0.0.1:4567/"),
            "ws://127.0.0.1:4567"
        );
        assert_eq!(
            websocket_base("https://venue.example"),
            "wss://venue.example"
        );
        assert_eq!(
            websocket_base("wss://venue.example/"),
            "wss://venue.example"
        );
        assert_eq!(http_base("ws://127.0.0.1:4567"), "http://127.0.0.1:4567");
        assert_eq!(http_base("wss://venue.example//"), "https://venue.example");
        assert_eq!(http_base("https://venue.example"), "https://venue.example");
    }
}
