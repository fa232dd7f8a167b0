//! The version of the plugin ABI.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A semantic version of the plugin ABI.
///
/// The host accepts a plugin whose `major` equals its own and refuses any
/// other; `minor` versions only add things an older peer may ignore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AbiVersion {
    /// Incompatible changes.
    pub major: u16,
    /// Backwards-compatible additions.
    pub minor: u16,
    /// Fixes that change no shape.
    pub patch: u16,
}

impl AbiVersion {
    /// Creates a version.
    #[must_use]
    pub const fn new(major: u16, minor: u16, patch: u16) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Whether a peer built against `other` can talk to one built against `self`.
    ///
    /// ```
    /// use tesser_wasm::{ABI_VERSION, AbiVersion};
    /// assert!(ABI_VERSION.is_compatible_with(AbiVersion::new(ABI_VERSION.major, 9, 9)));
    /// assert!(!ABI_VERSION.is_compatible_with(AbiVersion::new(ABI_VERSION.major + 1, 0, 0)));
    /// ```
    #[must_use]
    pub const fn is_compatible_with(self, other: AbiVersion) -> bool {
        self.major == other.major
    }
}

impl fmt::Display for AbiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The ABI version this crate implements; equal to the version of the WIT
/// package in `wit/plugin.wit`.
pub const ABI_VERSION: AbiVersion = AbiVersion::new(2, 0, 0);

/// The WIT package name and version of the ABI.
pub const WIT_PACKAGE: &str = "tesser:plugin@2.0.0";

/// The WIT source of the ABI, for tools that want to show or re-parse it.
pub const WIT_SOURCE: &str = include_str!("../wit/plugin.wit");

/// The Python helper module beside the WIT (`wit/tesser_plugin.py`): exact
/// decimals to and from the WIT `decimal` record, the types, the plugin
/// base class and `export`. `tesser plugin new --lang python` writes it;
/// `plugins/twap-py` links to the same file. Its one copy.
pub const PYTHON_HELPER: &str = include_str!("../wit/tesser_plugin.py");

/// The JavaScript helper module beside the WIT (`wit/tesser_plugin.js`),
/// the counterpart of [`PYTHON_HELPER`]: `tesser plugin new --lang js`
/// writes it; `plugins/twap-js` links to the same file.
pub const JS_HELPER: &str = include_str!("../wit/tesser_plugin.js");

/// A [`Decimal`](rust_decimal::Decimal) as it crosses the ABI: a 128-bit
/// signed mantissa split in two halves, and a scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecimalParts {
    /// High 64 bits of the mantissa (two's complement).
    pub mantissa_hi: i64,
    /// Low 64 bits of the mantissa.
    pub mantissa_lo: u64,
    /// Number of digits after the decimal point.
    pub scale: u8,
}

/// Why [`DecimalParts`] do not make a decimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "decimal out of range (mantissa {mantissa}, scale {scale}): the magnitude must fit in 96 bits and the scale be at most 28"
)]
pub struct DecimalPartsError {
    /// The mantissa received.
    pub mantissa: i128,
    /// The scale received.
    pub scale: u8,
}

impl DecimalParts {
    /// Splits a decimal. Never fails and never allocates.
    ///
    /// ```
    /// use rust_decimal_macros::dec;
    /// use tesser_wasm::DecimalParts;
    /// let parts = DecimalParts::from_decimal(dec!(-10749.45));
    /// assert_eq!(parts.to_decimal(), Ok(dec!(-10749.45)));
    /// ```
    #[must_use]
    pub fn from_decimal(value: rust_decimal::Decimal) -> Self {
        let mantissa = value.mantissa();
        Self {
            // Truncation intended: the two halves of the 128-bit mantissa.
            mantissa_hi: (mantissa >> 64) as i64,
            mantissa_lo: mantissa as u64,
            // rust_decimal scales are at most 28, so they fit in a u8.
            scale: value.scale() as u8,
        }
    }

    /// Joins the parts back into a decimal.
    ///
    /// # Errors
    /// [`DecimalPartsError`] when the mantissa needs more than 96 bits or the
    /// scale exceeds 28: data from the other side of the ABI is never trusted.
    pub fn to_decimal(self) -> Result<rust_decimal::Decimal, DecimalPartsError> {
        let mantissa = (i128::from(self.mantissa_hi) << 64) | i128::from(self.mantissa_lo);
        rust_decimal::Decimal::try_from_i128_with_scale(mantissa, u32::from(self.scale)).map_err(
            |_| DecimalPartsError {
                mantissa,
                scale: self.scale,
            },
        )
    }
}
