//! The reader never panics: every line gives a tick or a `Malformed` error.

use tesser_data::{
    BadLinePolicy, DataError, GeneratorConfig, TradeFileReader, TradeFormat, write_csv,
};

/// SplitMix64, for test inputs.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const INTERESTING: &[&str] = &[
    ",",
    "\"",
    "{",
    "}",
    ":",
    "-",
    ".",
    "e",
    "E",
    "+",
    "_",
    " ",
    "\t",
    "\r",
    "\u{feff}",
    "\u{0}",
    "é",
    "9999999999999999999999999999999",
    "null",
    "buy",
    "sell",
    "NaN",
    "0",
    "\\",
    "\\u0000",
    "\"price\"",
    "\"side\":",
    "[",
    "]",
    "1e999",
    "-0",
    "0.",
    ".0",
];

fn mutate(line: &str, mix: &mut Mix) -> Vec<u8> {
    let mut bytes = line.as_bytes().to_vec();
    for _ in 0..=mix.below(4) {
        let at = mix.below(bytes.len() + 1);
        match mix.below(5) {
            0 if !bytes.is_empty() => {
                let end = (at + 1 + mix.below(6)).min(bytes.len());
                let at = at.min(bytes.len() - 1);
                bytes.drain(at..end.max(at));
            }
            1 => {
                let insert = INTERESTING[mix.below(INTERESTING.len())].as_bytes();
                bytes.splice(at..at, insert.iter().copied());
            }
            2 if !bytes.is_empty() => {
                let at = at.min(bytes.len() - 1);
                bytes[at] = (mix.next() & 0xff) as u8;
            }
            3 => {
                let insert: Vec<u8> = (0..mix.below(8))
                    .map(|_| (mix.next() & 0xff) as u8)
                    .collect();
                bytes.splice(at..at, insert);
            }
            _ => {
                let at = at.min(bytes.len());
                bytes.splice(at..at, *b"1234567");
            }
        }
    }
    bytes.retain(|b| *b != b'\n');
    bytes
}

/// Reads `input` to the end with skipping, checking every item.
fn check(input: &[u8], format: TradeFormat) -> (u64, u64) {
    let mut reader =
        TradeFileReader::from_reader(input, format, "fuzz".into()).with_policy(BadLinePolicy::Skip);
    let mut ticks = 0;
    let mut last = i64::MIN;
    while let Some(item) = reader.next_tick() {
        match item {
            Ok(tick) => {
                assert!(tick.price > rust_decimal::Decimal::ZERO);
                assert!(tick.size > rust_decimal::Decimal::ZERO);
                assert!(tick.timestamp_ms >= last);
                assert!(!tick.symbol.as_str().is_empty());
                last = tick.timestamp_ms;
                ticks += 1;
            }
            // Only a wrong header ends a skipping reader early.
            Err(DataError::Malformed { line, reason, .. }) => {
                assert!(line >= 1);
                assert!(reason.starts_with("header is"), "{reason}");
            }
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    (ticks, reader.skipped_lines())
}

#[test]
fn mutated_csv_and_json_lines_never_panic() {
    let config = GeneratorConfig {
        trades: 50,
        ..GeneratorConfig::default()
    };
    let mut csv = Vec::new();
    write_csv(&config, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let csv_lines: Vec<&str> = csv.lines().skip(1).collect();
    let json_lines: Vec<String> = csv_lines
        .iter()
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            format!(
                r#"{{"timestamp_ms":{},"symbol":"{}","price":"{}","size":{},"side":"{}"}}"#,
                f[0], f[1], f[2], f[3], f[4]
            )
        })
        .collect();

    let mut mix = Mix(12345);
    let (mut ticks, mut skipped) = (0, 0);
    for round in 0..3_000 {
        let json = round % 2 == 1;
        let mut input = Vec::new();
        if !json {
            input.extend_from_slice(b"timestamp_ms,symbol,price,size,side\n");
        }
        for i in 0..20 {
            let line: &str = if json { &json_lines[i] } else { csv_lines[i] };
            if mix.below(3) == 0 {
                input.extend(mutate(line, &mut mix));
            } else {
                input.extend_from_slice(line.as_bytes());
            }
            input.push(b'\n');
        }
        let format = if json {
            TradeFormat::JsonLines
        } else {
            TradeFormat::Csv
        };
        let (t, s) = check(&input, format);
        ticks += t;
        skipped += s;
        // Also auto-detected, and with the stop policy.
        check(&input, TradeFormat::Auto);
        let stop: Vec<_> =
            TradeFileReader::from_reader(input.as_slice(), format, "f".into()).collect();
        assert!(
            stop.iter()
                .take(stop.len().saturating_sub(1))
                .all(Result::is_ok)
        );
    }
    assert!(
        ticks > 10_000 && skipped > 5_000,
        "{ticks} ticks, {skipped} skipped"
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut mix = Mix(99);
    for _ in 0..2_000 {
        let len = mix.below(300);
        let mut input: Vec<u8> = (0..len)
            .map(|_| match mix.below(4) {
                0 => b"0123456789,.\n{}\":"[mix.below(17)],
                _ => (mix.next() & 0xff) as u8,
            })
            .collect();
        check(&input, TradeFormat::JsonLines);
        check(&input, TradeFormat::Auto);
        let mut with_header = b"timestamp_ms,symbol,price,size,side\n".to_vec();
        with_header.append(&mut input);
        check(&with_header, TradeFormat::Csv);
    }
}
