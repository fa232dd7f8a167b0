//! Request signing and key loading.
//!
//! Binance signs a request's parameters with the account's key
//! (`rest-api.md`, "SIGNED Endpoint security"; `web-socket-api.md`,
//! "SIGNED request security"):
//!
//! * **HMAC-SHA256**: the signature is the lower-case hex HMAC of the payload
//!   under the secret key.
//! * **Ed25519**: the signature is the base64 of the Ed25519 signature of the
//!   payload's bytes, made with a PKCS#8 PEM private key.
//!
//! For REST the payload is the percent-encoded query string (then the body);
//! for the WebSocket API it is every parameter but `signature`, sorted by
//! name, as `name=value` pairs joined by `&`, not percent-encoded.
//!
//! Keys never appear in `Debug` output, logs or errors: [`Credentials`] and
//! [`Signer`] print `<redacted>`, and the secret bytes are zeroized on drop.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Environment variable holding the API key.
pub const ENV_API_KEY: &str = "TESSER_BINANCE_API_KEY";
/// Environment variable holding an HMAC secret key.
pub const ENV_API_SECRET: &str = "TESSER_BINANCE_API_SECRET";
/// Environment variable holding the path of an Ed25519 PKCS#8 PEM private key.
pub const ENV_PRIVATE_KEY_FILE: &str = "TESSER_BINANCE_PRIVATE_KEY_FILE";

/// Why credentials could not be loaded. Each message is one line that names
/// the variable or file and says how to fix it; none contains key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A required environment variable is missing or empty.
    #[error("{var} is not set: export it with your Binance API key")]
    MissingApiKey {
        /// The variable.
        var: &'static str,
    },
    /// Neither a secret nor a private key file was given.
    #[error(
        "neither {secret} nor {file} is set: export {secret} (HMAC key) or {file} (path of an Ed25519 PKCS#8 PEM private key)"
    )]
    MissingSecret {
        /// The HMAC secret variable.
        secret: &'static str,
        /// The private key file variable.
        file: &'static str,
    },
    /// Both a secret and a private key file were given.
    #[error("both {secret} and {file} are set: unset one of them")]
    Ambiguous {
        /// The HMAC secret variable.
        secret: &'static str,
        /// The private key file variable.
        file: &'static str,
    },
    /// The private key file could not be read.
    #[error("cannot read private key file {path} (from {var}): {reason}; check the path")]
    Unreadable {
        /// The variable that named the file.
        var: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The private key file can be read by group or others.
    #[error(
        "private key file {path} (from {var}) is readable by group or others (mode {mode:o}): run `chmod 600 {path}`"
    )]
    TooOpen {
        /// The variable that named the file.
        var: &'static str,
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The private key file is not an unencrypted Ed25519 PKCS#8 PEM key.
    #[error(
        "private key file {path} (from {var}) is not an unencrypted Ed25519 PKCS#8 PEM private key: generate one with `openssl genpkey -algorithm ed25519`"
    )]
    BadKey {
        /// The variable that named the file.
        var: &'static str,
        /// The file.
        path: PathBuf,
    },
}

/// An API key: sent in clear as `X-MBX-APIKEY` / `apiKey`, but still kept out
/// of logs.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ApiKey(String);

impl ApiKey {
    /// An API key from its text.
    #[must_use]
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key's text, for the request header or parameter.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// The secret half of a key: signs payloads.
#[derive(Clone)]
pub enum Signer {
    /// An HMAC-SHA256 secret key; signatures are hex.
    Hmac(HmacSecret),
    /// An Ed25519 private key; signatures are base64.
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// An HMAC secret key, zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct HmacSecret(Vec<u8>);

impl HmacSecret {
    /// A secret from its text.
    #[must_use]
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into().into_bytes())
    }
}

impl fmt::Debug for HmacSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hmac(_) => f.write_str("Signer::Hmac(<redacted>)"),
            Self::Ed25519(_) => f.write_str("Signer::Ed25519(<redacted>)"),
        }
    }
}

impl Signer {
    /// An Ed25519 signer from a PKCS#8 PEM private key.
    ///
    /// # Errors
    /// `Err(())` when the text is not an unencrypted Ed25519 PKCS#8 PEM key;
    /// the caller names the source in its own error.
    #[allow(clippy::result_unit_err)] // The caller builds the error with context it alone has.
    pub fn ed25519_from_pem(pem: &str) -> Result<Self, ()> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
            .map(|key| Self::Ed25519(Box::new(key)))
            .map_err(|_| ())
    }

    /// Signs `payload`: lower-case hex for HMAC, base64 for Ed25519.
    #[must_use]
    pub fn sign(&self, payload: &str) -> String {
        match self {
            Self::Hmac(secret) => {
                // HMAC accepts keys of any length, so this cannot fail.
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret.0)
                    .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
                mac.update(payload.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            Self::Ed25519(key) => BASE64.encode(key.sign(payload.as_bytes()).to_bytes()),
        }
    }
}

/// An API key with the secret that signs its requests.
#[derive(Clone)]
pub struct Credentials {
    api_key: ApiKey,
    signer: Signer,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

impl Credentials {
    /// HMAC credentials.
    #[must_use]
    pub fn hmac(api_key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            api_key: ApiKey::new(api_key),
            signer: Signer::Hmac(HmacSecret::new(secret)),
        }
    }

    /// Credentials from an API key and a signer.
    #[must_use]
    pub const fn new(api_key: ApiKey, signer: Signer) -> Self {
        Self { api_key, signer }
    }

    /// The API key.
    #[must_use]
    pub const fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// The signer.
    #[must_use]
    pub const fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Signs a payload.
    #[must_use]
    pub fn sign(&self, payload: &str) -> String {
        self.signer.sign(payload)
    }

    /// Loads credentials from the process environment: `TESSER_BINANCE_API_KEY`
    /// with either `TESSER_BINANCE_API_SECRET` (HMAC) or
    /// `TESSER_BINANCE_PRIVATE_KEY_FILE` (Ed25519 PEM file, which must not be
    /// readable by group or others).
    ///
    /// # Errors
    /// A [`KeyError`] naming the variable or file and the fix.
    pub fn from_env() -> Result<Self, KeyError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Credentials::from_env`], reading variables through `lookup`
    /// (for tests).
    ///
    /// # Errors
    /// A [`KeyError`] naming the variable or file and the fix.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, KeyError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let api_key = get(ENV_API_KEY).ok_or(KeyError::MissingApiKey { var: ENV_API_KEY })?;
        let secret = get(ENV_API_SECRET).map(Zeroizing::new);
        let file = get(ENV_PRIVATE_KEY_FILE);
        let signer = match (secret, file) {
            (Some(_), Some(_)) => {
                return Err(KeyError::Ambiguous {
                    secret: ENV_API_SECRET,
                    file: ENV_PRIVATE_KEY_FILE,
                });
            }
            (None, None) => {
                return Err(KeyError::MissingSecret {
                    secret: ENV_API_SECRET,
                    file: ENV_PRIVATE_KEY_FILE,
                });
            }
            (Some(secret), None) => Signer::Hmac(HmacSecret::new(secret.trim().to_owned())),
            (None, Some(path)) => load_private_key_file(Path::new(&path), ENV_PRIVATE_KEY_FILE)?,
        };
        Ok(Self {
            api_key: ApiKey::new(api_key.trim().to_owned()),
            signer,
        })
    }
}

/// Loads an Ed25519 PKCS#8 PEM private key, refusing a file that group or
/// others may read. `var` names where the path came from, for the error.
///
/// # Errors
/// [`KeyError::Unreadable`], [`KeyError::TooOpen`] or [`KeyError::BadKey`].
pub fn load_private_key_file(path: &Path, var: &'static str) -> Result<Signer, KeyError> {
    let unreadable = |error: std::io::Error| KeyError::Unreadable {
        var,
        path: path.to_owned(),
        reason: error.kind().to_string(),
    };
    let metadata = std::fs::metadata(path).map_err(unreadable)?;
    check_mode(&metadata, path, var)?;
    let pem = Zeroizing::new(std::fs::read_to_string(path).map_err(unreadable)?);
    Signer::ed25519_from_pem(&pem).map_err(|()| KeyError::BadKey {
        var,
        path: path.to_owned(),
    })
}

#[cfg(unix)]
fn check_mode(
    metadata: &std::fs::Metadata,
    path: &Path,
    var: &'static str,
) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::TooOpen {
            var,
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_: &std::fs::Metadata, _: &Path, _: &'static str) -> Result<(), KeyError> {
    Ok(())
}

/// Percent-encodes a query value the way `application/x-www-form-urlencoded`
/// does (the encoding the REST signature payload uses).
#[must_use]
pub fn encode_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The REST query string of `params`, in their order, percent-encoded: the
/// payload a REST signature signs.
#[must_use]
pub fn rest_query(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(name, value)| format!("{name}={}", encode_value(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The WebSocket API signature payload: every parameter but `signature`,
/// sorted by name, as `name=value` joined by `&`, not percent-encoded.
#[must_use]
pub fn ws_payload(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params
        .iter()
        .filter(|(name, _)| name != "signature")
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Example key of rest-api.md "SIGNED Endpoint Examples for POST
    // /api/v3/order", "HMAC Keys" (published by Binance for illustration).
    const DOC_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    const DOC_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn rest_hmac_matches_the_documented_example() {
        let params = pairs(&[
            ("symbol", "LTCBTC"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "0.1"),
            ("recvWindow", "5000"),
            ("timestamp", "1499827319559"),
        ]);
        let payload = rest_query(&params);
        assert_eq!(
            payload,
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        let creds = Credentials::hmac(DOC_KEY, DOC_SECRET);
        assert_eq!(
            creds.sign(&payload),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }

    #[test]
    fn rest_hmac_percent_encodes_non_ascii_like_the_doc() {
        let params = pairs(&[
            ("symbol", "１２３４５６"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "0.1"),
            ("recvWindow", "5000"),
            ("timestamp", "1499827319559"),
        ]);
        let payload = rest_query(&params);
        assert!(
            payload.starts_with("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&")
        );
        assert_eq!(
            Credentials::hmac(DOC_KEY, DOC_SECRET).sign(&payload),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        );
    }

    #[test]
    fn ws_api_hmac_matches_the_documented_example() {
        // web-socket-api.md, "SIGNED request example (HMAC)".
        let params = pairs(&[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.01000000"),
            ("price", "52000.00"),
            ("recvWindow", "100"),
            ("timestamp", "1645423376532"),
            ("apiKey", DOC_KEY),
        ]);
        let payload = ws_payload(&params);
        assert_eq!(
            payload,
            format!(
                "apiKey={DOC_KEY}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
            )
        );
        assert_eq!(
            Credentials::hmac(DOC_KEY, DOC_SECRET).sign(&payload),
            "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
        );
    }

    fn test_pem() -> String {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        key.to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap()
            .to_string()
    }

    #[test]
    fn ed25519_signature_is_base64_and_verifies() {
        use ed25519_dalek::Verifier as _;
        let signer = Signer::ed25519_from_pem(&test_pem()).unwrap();
        let signature = signer.sign("apiKey=k&timestamp=1");
        let bytes = BASE64.decode(&signature).unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&bytes).unwrap();
        let public = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        assert!(public.verify(b"apiKey=k&timestamp=1", &signature).is_ok());
        assert!(public.verify(b"apiKey=k&timestamp=2", &signature).is_err());
    }

    #[test]
    fn debug_output_redacts_every_secret() {
        let creds = Credentials::hmac(DOC_KEY, DOC_SECRET);
        let text = format!("{creds:?} {:?} {:?}", creds.api_key(), creds.signer());
        assert!(
            !text.contains(DOC_SECRET) && !text.contains(DOC_KEY),
            "{text}"
        );
        assert!(text.contains("redacted"));
        let ed = Signer::ed25519_from_pem(&test_pem()).unwrap();
        assert_eq!(format!("{ed:?}"), "Signer::Ed25519(<redacted>)");
    }

    #[test]
    fn env_loading_names_the_missing_variable() {
        let none = |_: &str| None;
        let error = Credentials::from_lookup(none).unwrap_err();
        assert!(error.to_string().contains(ENV_API_KEY));
        let key_only = |name: &str| (name == ENV_API_KEY).then(|| "k".to_owned());
        let error = Credentials::from_lookup(key_only).unwrap_err();
        assert!(error.to_string().contains(ENV_API_SECRET));
        assert!(error.to_string().contains(ENV_PRIVATE_KEY_FILE));
        let both = |name: &str| Some(format!("{name}-value"));
        assert!(matches!(
            Credentials::from_lookup(both),
            Err(KeyError::Ambiguous { .. })
        ));
        let hmac = |name: &str| match name {
            ENV_API_KEY => Some("k".to_owned()),
            ENV_API_SECRET => Some("s".to_owned()),
            _ => None,
        };
        let creds = Credentials::from_lookup(hmac).unwrap();
        assert_eq!(creds.api_key().expose(), "k");
        assert!(matches!(creds.signer(), Signer::Hmac(_)));
    }

    #[cfg(unix)]
    #[test]
    fn key_file_readable_by_others_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("tesser-binance-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key.pem");
        std::fs::write(&path, test_pem()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = load_private_key_file(&path, ENV_PRIVATE_KEY_FILE).unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, KeyError::TooOpen { .. }));
        assert!(
            text.contains("chmod 600") && text.contains(ENV_PRIVATE_KEY_FILE),
            "{text}"
        );
        assert!(!text.contains('\n'));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let signer = load_private_key_file(&path, ENV_PRIVATE_KEY_FILE).unwrap();
        assert!(matches!(signer, Signer::Ed25519(_)));
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            load_private_key_file(&path, ENV_PRIVATE_KEY_FILE),
            Err(KeyError::BadKey { .. })
        ));
        let missing = load_private_key_file(&dir.join("nope.pem"), ENV_PRIVATE_KEY_FILE);
        assert!(matches!(missing, Err(KeyError::Unreadable { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
