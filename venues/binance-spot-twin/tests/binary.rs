//! The `binance-twin` program: it says where it listens, serves REST and the
//! market stream on that one port, and plays the file once a stream
//! connects. Every wait is bounded.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt as _;

/// Kills the program when the test ends, pass or fail.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(address: &str, path: &str) -> String {
    common::http(address, &format!("GET {path} HTTP/1.1"))
}

#[test]
fn the_program_listens_serves_and_plays_the_file() {
    let dir = std::env::temp_dir().join(format!("binance-twin-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("trades.csv");
    std::fs::write(
        &file,
        "timestamp_ms,symbol,price,size,side\n1700000000000,ETHUSDT,2000.5,0.25,sell\n1700000000001,ETHUSDT,2001,0.5,buy\n",
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_binance-twin"))
        .args(["--trades", file.to_str().unwrap(), "--pace-ms", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let mut line = String::new();
    BufReader::new(running.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim_end()
        .strip_prefix("binance-twin listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    let address = base.strip_prefix("http://").unwrap().to_owned();
    assert!(address.starts_with("127.0.0.1:"), "{address}");
    assert!(get(&address, "/api/v3/time").contains("serverTime"));
    let info = get(&address, "/api/v3/exchangeInfo?symbol=ETHUSDT");
    assert!(
        info.contains("\"baseAsset\":\"ETH\"") && info.contains("\"quoteAsset\":\"USDT\""),
        "{info}"
    );
    // The first market stream connection starts the play.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("ws://{address}/stream?streams=ethusdt@trade");
    let messages = runtime.block_on(async {
        let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .unwrap();
        let mut texts = Vec::new();
        while texts.len() < 2 {
            let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
                .await
                .expect("no print within 5 s")
                .unwrap()
                .unwrap();
            if let Ok(text) = message.into_text() {
                texts.push(text.to_string());
            }
        }
        texts
    });
    assert!(
        messages[0].contains("\"p\":\"2000.50000000\""),
        "{messages:?}"
    );
    assert!(messages[0].contains("\"m\":true"), "{messages:?}");
    assert!(
        messages[1].contains("\"p\":\"2001.00000000\""),
        "{messages:?}"
    );
    // Still serving after the last print.
    std::thread::sleep(Duration::from_millis(50));
    assert!(running.0.try_wait().unwrap().is_none());
    assert!(get(&address, "/api/v3/ping").contains("200 OK"));
    std::fs::remove_dir_all(&dir).unwrap();
}
