//! Writing trade files.

use std::io::{self, Write};

use rust_decimal::Decimal;
use tesser_core::Tick;

use crate::CSV_HEADER;

/// Writes ticks as a CSV trade file that [`crate::TradeFileReader`] reads
/// back: the header, then one line per tick with decimals as plain text.
///
/// Formats each line into one reused buffer; wrap unbuffered writers (files,
/// stdout) in a [`std::io::BufWriter`].
#[derive(Debug)]
pub struct TradeCsvWriter<W: Write> {
    inner: W,
    line: Vec<u8>,
    lines: u64,
}

impl<W: Write> TradeCsvWriter<W> {
    /// Writes the header to `inner`.
    ///
    /// # Errors
    /// When writing fails.
    pub fn new(mut inner: W) -> io::Result<Self> {
        inner.write_all(CSV_HEADER.as_bytes())?;
        inner.write_all(b"\n")?;
        Ok(Self {
            inner,
            line: Vec::with_capacity(96),
            lines: 0,
        })
    }

    /// Writes one tick. A missing aggressor is written as an empty side.
    ///
    /// # Errors
    /// When writing fails, or with [`io::ErrorKind::InvalidInput`] when the
    /// symbol is empty, contains a comma or line break, or starts or ends
    /// with whitespace (it could not be read back as it is).
    pub fn write_tick(&mut self, tick: &Tick) -> io::Result<()> {
        let symbol = tick.symbol.as_str();
        if symbol.is_empty() || symbol.contains([',', '\n', '\r']) || symbol.trim() != symbol {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("symbol {symbol:?} cannot be written to a CSV trade file"),
            ));
        }
        let line = &mut self.line;
        line.clear();
        push_i64(line, tick.timestamp_ms);
        line.push(b',');
        line.extend_from_slice(symbol.as_bytes());
        line.push(b',');
        push_decimal(line, tick.price);
        line.push(b',');
        push_decimal(line, tick.size);
        line.push(b',');
        if let Some(side) = tick.aggressor {
            line.extend_from_slice(side.as_str().as_bytes());
        }
        line.push(b'\n');
        self.inner.write_all(line)?;
        self.lines += 1;
        Ok(())
    }

    /// Tick lines written so far (not counting the header).
    #[must_use]
    pub fn lines_written(&self) -> u64 {
        self.lines
    }

    /// Flushes and returns the inner writer.
    ///
    /// # Errors
    /// When flushing fails.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Writes the decimal digits of `value` at the end of `digits`; returns
/// where they start.
fn format_digits(digits: &mut [u8; 40], mut value: u128) -> usize {
    let mut start = digits.len();
    // Mostly small numbers: do the bulk in u64, which is far cheaper.
    while value > u128::from(u64::MAX) {
        start -= 1;
        // The remainder is below 10, so the cast is lossless.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (value % 10) as u8;
        digits[start] = b'0' + digit;
        value /= 10;
    }
    #[allow(clippy::cast_possible_truncation)]
    let mut small = value as u64;
    loop {
        start -= 1;
        #[allow(clippy::cast_possible_truncation)]
        let digit = (small % 10) as u8;
        digits[start] = b'0' + digit;
        small /= 10;
        if small == 0 {
            break;
        }
    }
    start
}

fn push_i64(buf: &mut Vec<u8>, value: i64) {
    if value < 0 {
        buf.push(b'-');
    }
    let mut digits = [0u8; 40];
    let start = format_digits(&mut digits, u128::from(value.unsigned_abs()));
    buf.extend_from_slice(&digits[start..]);
}

/// Appends `value` as plain decimal text, exactly as its `Display` does
/// (keeping its scale), without going through `fmt`.
pub(crate) fn push_decimal(buf: &mut Vec<u8>, value: Decimal) {
    let mantissa = value.mantissa();
    if mantissa < 0 {
        buf.push(b'-');
    }
    let mut digits = [0u8; 40];
    let start = format_digits(&mut digits, mantissa.unsigned_abs());
    let digits = &digits[start..];
    let scale = value.scale() as usize;
    if scale == 0 {
        buf.extend_from_slice(digits);
    } else if digits.len() > scale {
        let (integer, fraction) = digits.split_at(digits.len() - scale);
        buf.extend_from_slice(integer);
        buf.push(b'.');
        buf.extend_from_slice(fraction);
    } else {
        // 0.000ddd
        buf.extend_from_slice(b"0.");
        buf.extend(std::iter::repeat_n(b'0', scale - digits.len()));
        buf.extend_from_slice(digits);
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn decimals_format_like_display() {
        let cases = [
            "0",
            "1",
            "-1",
            "0.1",
            "0.00000001",
            "10749.4",
            "30000.0",
            "-0.05",
            "123.4500",
            "79228162514264337593543950335",
            "0.0000000000000000000000000001",
            "-7922816251426433759354395033.5",
        ];
        for case in cases {
            let value = Decimal::from_str(case).unwrap();
            let mut buf = Vec::new();
            push_decimal(&mut buf, value);
            assert_eq!(String::from_utf8(buf).unwrap(), value.to_string(), "{case}");
        }
        let mut buf = Vec::new();
        push_decimal(&mut buf, Decimal::new(5, 3));
        assert_eq!(buf, b"0.005");
    }

    #[test]
    fn timestamps_format_like_display() {
        for value in [0, 7, 1_561_939_203_172, -42, i64::MIN, i64::MAX] {
            let mut buf = Vec::new();
            push_i64(&mut buf, value);
            assert_eq!(String::from_utf8(buf).unwrap(), value.to_string());
        }
    }
}
