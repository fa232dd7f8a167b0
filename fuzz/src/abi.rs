//! Checks of [`DecimalParts`], the decimal encoding of the plugin ABI: every
//! decimal a plugin returns crosses the component boundary as a 128-bit
//! mantissa in two halves and a scale, and the host decodes it with
//! [`DecimalParts::to_decimal`].
//!
//! Shared by the `abi_decimal` fuzz target and
//! `tesser-execution/tests/properties.rs` (which includes this file with
//! `#[path]`), so it uses nothing but `tesser_wasm` and `rust_decimal`.

use rust_decimal::Decimal;
use tesser_wasm::DecimalParts;

/// The largest mantissa magnitude a [`Decimal`] holds: 2^96 - 1.
const MAX_MANTISSA: u128 = (1 << 96) - 1;

/// Largest scale a [`Decimal`] holds.
const MAX_SCALE: u8 = 28;

/// Decodes arbitrary parts and checks the decoder's contract:
///
/// * it never panics;
/// * it succeeds exactly when the mantissa fits in 96 bits and the scale is
///   at most 28 (what its documentation promises), and the error repeats the
///   parts it refused;
/// * a decoded value has exactly the mantissa and scale that were sent, so
///   [`DecimalParts::from_decimal`] gives back the very same parts.
///
/// # Panics
/// When one of those promises is broken.
pub fn check_decimal_parts(mantissa_hi: i64, mantissa_lo: u64, scale: u8) {
    let parts = DecimalParts {
        mantissa_hi,
        mantissa_lo,
        scale,
    };
    let mantissa = (i128::from(mantissa_hi) << 64) | i128::from(mantissa_lo);
    let representable = mantissa.unsigned_abs() <= MAX_MANTISSA && scale <= MAX_SCALE;
    match parts.to_decimal() {
        Ok(value) => {
            assert!(
                representable,
                "{parts:?} decoded to {value} although it is out of range"
            );
            assert_eq!(value.mantissa(), mantissa, "{parts:?} lost its mantissa");
            assert_eq!(value.scale(), u32::from(scale), "{parts:?} lost its scale");
            assert_eq!(
                DecimalParts::from_decimal(value),
                parts,
                "{parts:?} -> {value} -> parts is not the identity"
            );
        }
        Err(error) => {
            assert!(
                !representable,
                "{parts:?} was refused although it is a valid decimal: {error}"
            );
            assert_eq!((error.mantissa, error.scale), (mantissa, scale));
        }
    }
}

/// Encodes a decimal and decodes it again: always the same value, with the
/// same digits and scale.
///
/// # Panics
/// When the round trip changes the value or its scale.
pub fn check_decimal_round_trip(value: Decimal) {
    let parts = DecimalParts::from_decimal(value);
    let back = parts
        .to_decimal()
        .unwrap_or_else(|error| panic!("{value} -> {parts:?} does not decode: {error}"));
    assert_eq!(back, value);
    // Same mantissa and scale: the same digits, not merely an equal value
    // (a negative zero comes back as zero, which has the same mantissa).
    assert_eq!(back.mantissa(), value.mantissa(), "{value} changed digits");
    assert_eq!(back.scale(), value.scale(), "{value} lost its scale");
}
