//! The ABI's decimal encoding: `DecimalParts::to_decimal` on arbitrary
//! mantissa halves and scale never panics, succeeds exactly for
//! representable decimals, and round-trips through `DecimalParts::from_decimal`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tesser_fuzz::abi::check_decimal_parts;

fuzz_target!(|parts: (i64, u64, u8)| {
    let (mantissa_hi, mantissa_lo, scale) = parts;
    check_decimal_parts(mantissa_hi, mantissa_lo, scale);
});
