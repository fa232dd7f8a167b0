//! Arbitrary bytes as a JSON Lines trade file: the reader never panics, every
//! tick it returns has a positive price and size, and the other promises in
//! `tesser_fuzz::trades::check_trade_bytes` hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tesser_data::TradeFormat;
use tesser_fuzz::trades::check_trade_bytes;

fuzz_target!(|data: &[u8]| check_trade_bytes(data, TradeFormat::JsonLines));
