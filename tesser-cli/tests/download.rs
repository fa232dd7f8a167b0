//! `tesser data download` against a Binance-like file server on 127.0.0.1:
//! fixture zips (a small CSV in Binance's spot trades layout) with their
//! `.CHECKSUM` files, `Range` honoured, and switches that inject faults (a
//! connection cut after N bytes, a wrong checksum, a missing day, a server
//! that ignores `Range`, a slow body). Nothing here reaches the internet.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse as _, Response};
use sha2::{Digest as _, Sha256};

use common::{error_line, stderr, tesser};

const SYMBOL: &str = "BTCUSDT";

/// Faults the server injects; set by a test between runs.
#[derive(Default)]
struct Faults {
    /// Cut the connection after this many body bytes of this path, once.
    cut_after: Option<(String, usize)>,
    /// Serve a checksum of other bytes for these zip paths.
    wrong_checksum: HashSet<String>,
    /// Answer 404 for these zip paths and their checksums.
    missing: HashSet<String>,
    /// Answer every request with the whole file (200), as some servers do.
    ignore_range: bool,
    /// Send bodies in 1 KiB pieces with this pause between them.
    drip: Option<Duration>,
}

/// One request the server saw.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    range: Option<String>,
}

/// The server's files, faults and log.
#[derive(Default)]
struct Shared {
    files: HashMap<String, Vec<u8>>,
    faults: Mutex<Faults>,
    seen: Mutex<Vec<Seen>>,
}

struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl Server {
    /// Serves `trades` fixture zips for `days` of BTCUSDT (and the same for
    /// `aggTrades`), each with its `.CHECKSUM`.
    fn start(days: &[&str]) -> Self {
        let mut files = HashMap::new();
        for kind in ["trades", "aggTrades"] {
            for day in days {
                let zip = fixture_zip(kind, day);
                let name = format!("{SYMBOL}-{kind}-{day}.zip");
                let path = zip_path(kind, day);
                files.insert(
                    format!("{path}.CHECKSUM"),
                    format!("{}  {name}\n", sha256(&zip)).into_bytes(),
                );
                files.insert(path, zip);
            }
        }
        let shared = Arc::new(Shared {
            files,
            ..Shared::default()
        });
        let (sender, receiver) = std::sync::mpsc::channel();
        let state = Arc::clone(&shared);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind 127.0.0.1");
                sender
                    .send(listener.local_addr().expect("address"))
                    .expect("send address");
                let app = Router::new().fallback(serve).with_state(state);
                axum::serve(listener, app).await.expect("serve");
            });
        });
        let addr = receiver.recv().expect("server address");
        Self { shared, addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn file(&self, path: &str) -> &[u8] {
        &self.shared.files[path]
    }

    fn faults(&self) -> MutexGuard<'_, Faults> {
        self.shared.faults.lock().expect("faults")
    }

    fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("seen").clone()
    }

    fn forget(&self) {
        self.shared.seen.lock().expect("seen").clear();
    }
}

/// `/data/spot/daily/<kind>/BTCUSDT/BTCUSDT-<kind>-<day>.zip`.
fn zip_path(kind: &str, day: &str) -> String {
    format!("/data/spot/daily/{kind}/{SYMBOL}/{SYMBOL}-{kind}-{day}.zip")
}

/// A zip holding `BTCUSDT-<kind>-<day>.csv`: 3000 trades without a header,
/// `id,price,qty,quote_qty,time,is_buyer_maker,is_best_match`, different
/// for every day and kind (about 190 KB, stored uncompressed).
fn fixture_zip(kind: &str, day: &str) -> Vec<u8> {
    let seed = day.bytes().chain(kind.bytes()).fold(7_u64, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    let mut rng = common::SplitMix(seed);
    let mut csv = String::new();
    let mut price = 42_000.0_f64;
    for i in 0..3000_u64 {
        price += (rng.next() % 201) as f64 / 100.0 - 1.0;
        let qty = (rng.next() % 100_000 + 1) as f64 / 100_000.0;
        let maker = if rng.next().is_multiple_of(2) {
            "True"
        } else {
            "False"
        };
        csv.push_str(&format!(
            "{},{price:.8},{qty:.8},{:.8},{},{maker},True\n",
            3_000_000_000 + i,
            price * qty,
            1_704_067_200_000 + i * 37
        ));
    }
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    writer
        .start_file(format!("{SYMBOL}-{kind}-{day}.csv"), options)
        .expect("zip entry");
    writer.write_all(csv.as_bytes()).expect("zip write");
    writer.finish().expect("zip finish").into_inner()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The server: files by path, `Range: bytes=N-`, and the faults.
async fn serve(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().to_owned();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    shared.seen.lock().expect("seen").push(Seen {
        path: path.clone(),
        range: range.clone(),
    });
    let zip = path.trim_end_matches(".CHECKSUM").to_owned();
    let mut faults = shared.faults.lock().expect("faults");
    let Some(file) = shared
        .files
        .get(&path)
        .filter(|_| !faults.missing.contains(&zip))
    else {
        return (StatusCode::NOT_FOUND, "404 Not Found").into_response();
    };
    if path.ends_with(".CHECKSUM") && faults.wrong_checksum.contains(&zip) {
        let name = zip.rsplit('/').next().unwrap_or_default();
        return format!("{}  {name}\n", sha256(b"other bytes")).into_response();
    }
    let len = file.len();
    let (status, start) = match range.as_deref().filter(|_| !faults.ignore_range) {
        None => (StatusCode::OK, 0),
        Some(range) => {
            let start: usize = range
                .strip_prefix("bytes=")
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|n| n.parse().ok())
                .expect("the client sends bytes=N-");
            if start >= len {
                return Response::builder()
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                    .body(Body::empty())
                    .expect("416");
            }
            (StatusCode::PARTIAL_CONTENT, start)
        }
    };
    let body = Bytes::copy_from_slice(&file[start..]);
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_LENGTH, body.len());
    if status == StatusCode::PARTIAL_CONTENT {
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{len}", len - 1),
        );
    }
    let cut = match &faults.cut_after {
        Some((cut_path, n)) if *cut_path == path => Some(*n),
        _ => None,
    };
    if cut.is_some() {
        faults.cut_after = None;
    }
    let drip = faults.drip;
    drop(faults);
    let body = match (cut, drip) {
        (Some(n), _) => Body::from_stream(futures_util::stream::unfold(
            Some(body.slice(..n)),
            |first| async move {
                match first {
                    Some(bytes) => Some((Ok(bytes), None)),
                    None => {
                        // Let the first part reach the client, then break
                        // off mid-body.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Some((
                            Err(std::io::Error::other("connection cut by the test")),
                            None,
                        ))
                    }
                }
            },
        )),
        (None, Some(pause)) => Body::from_stream(futures_util::stream::unfold(
            body,
            move |mut rest| async move {
                if rest.is_empty() {
                    return None;
                }
                tokio::time::sleep(pause).await;
                let piece = rest.split_to(rest.len().min(1024));
                Some((Ok::<_, std::io::Error>(piece), rest))
            },
        )),
        (None, None) => Body::from(body),
    };
    response.body(body).expect("response")
}

/// A download run's directory and arguments.
struct Run {
    dir: tempfile::TempDir,
    base_url: String,
}

impl Run {
    fn new(server: &Server) -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            base_url: server.url(),
        }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn path(&self, kind: &str, day: &str) -> PathBuf {
        self.out().join(format!("{SYMBOL}-{kind}-{day}.zip"))
    }

    fn part(&self, kind: &str, day: &str) -> PathBuf {
        self.out().join(format!("{SYMBOL}-{kind}-{day}.zip.part"))
    }

    fn command(&self, days: &str, extra: &[&str]) -> Command {
        let mut command = tesser();
        command
            .args(["data", "download", "binance-spot", "btcusdt", days])
            .arg("--out")
            .arg(self.out())
            .args(["--base-url", &self.base_url])
            .args(extra)
            .stdin(Stdio::null());
        command
    }

    fn run(&self, days: &str, extra: &[&str]) -> Output {
        self.command(days, extra).output().expect("run tesser")
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn succeeded(output: &Output) -> String {
    let text = stderr(output);
    assert!(output.status.success(), "tesser failed: {text}");
    text
}

#[test]
fn downloads_a_range_verifies_it_and_skips_it_on_rerun() {
    let days = ["2024-01-30", "2024-01-31", "2024-02-01"];
    let server = Server::start(&days);
    let run = Run::new(&server);
    let text = succeeded(&run.run("2024-01-30..2024-02-01", &[]));
    for day in days {
        let path = zip_path("trades", day);
        assert_eq!(read(&run.path("trades", day)), server.file(&path), "{day}");
        assert_eq!(
            read(
                &run.out()
                    .join(format!("{SYMBOL}-trades-{day}.zip.CHECKSUM"))
            ),
            server.file(&format!("{path}.CHECKSUM")),
            "the checksum is kept beside the file"
        );
        assert!(!run.part("trades", day).exists(), "no .part left");
    }
    // Not a terminal: one plain line per file, no bar.
    assert!(
        !text.contains('\r'),
        "no progress bar off a terminal: {text:?}"
    );
    let downloaded: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("downloaded "))
        .collect();
    assert_eq!(downloaded.len(), 3, "{text}");
    assert!(
        downloaded.iter().all(|l| l.contains("sha256 verified")),
        "{text}"
    );
    let zips: Vec<String> = server
        .seen()
        .into_iter()
        .filter(|s| s.path.ends_with(".zip"))
        .map(|s| s.path)
        .collect();
    assert_eq!(
        zips,
        days.map(|d| zip_path("trades", d)),
        "the documented paths, in order"
    );

    // Again: nothing is fetched, every file is said to be skipped.
    server.forget();
    let text = succeeded(&run.run("2024-01-30..2024-02-01", &[]));
    assert!(server.seen().is_empty(), "{:?}", server.seen());
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("skipped ") && l.contains("already downloaded and verified"))
            .count(),
        3,
        "{text}"
    );
}

#[test]
fn agg_trades_use_their_own_path() {
    let server = Server::start(&["2024-03-05"]);
    let run = Run::new(&server);
    succeeded(&run.run("2024-03-05", &["--kind", "aggTrades"]));
    assert_eq!(
        read(&run.path("aggTrades", "2024-03-05")),
        server.file(&zip_path("aggTrades", "2024-03-05"))
    );
    assert!(
        server
            .seen()
            .iter()
            .all(|s| s.path.contains("/daily/aggTrades/")),
        "{:?}",
        server.seen()
    );
}

#[test]
fn a_cut_connection_resumes_with_a_range_request() {
    let day = "2024-01-02";
    let server = Server::start(&[day]);
    let path = zip_path("trades", day);
    let full = server.file(&path).to_vec();
    let cut = 50_000;
    assert!(full.len() > 2 * cut, "the fixture is large enough");
    server.faults().cut_after = Some((path.clone(), cut));
    let run = Run::new(&server);

    let first = run.run(day, &[]);
    let error = error_line(&first);
    assert!(
        error.contains("broke off") && error.contains("resume") && error.contains(".part"),
        "{error}"
    );
    assert!(
        !run.path("trades", day).exists(),
        "no finished file from a cut download"
    );
    let part = read(&run.part("trades", day));
    assert_eq!(
        part.len(),
        cut,
        "the .part holds exactly the bytes received"
    );
    assert_eq!(part, full[..cut], "and they are the file's first bytes");

    server.forget();
    let text = succeeded(&run.run(day, &[]));
    let zip_requests: Vec<Seen> = server
        .seen()
        .into_iter()
        .filter(|s| s.path == path)
        .collect();
    assert_eq!(zip_requests.len(), 1, "{zip_requests:?}");
    assert_eq!(zip_requests[0].range.as_deref(), Some("bytes=50000-"));
    let done = read(&run.path("trades", day));
    assert_eq!(sha256(&done), sha256(&full));
    assert_eq!(done, full);
    assert!(text.contains("resumed at byte 50000"), "{text}");
    assert!(!run.part("trades", day).exists());
}

#[test]
fn a_server_that_ignores_range_restarts_the_file() {
    let day = "2024-01-03";
    let server = Server::start(&[day]);
    server.faults().ignore_range = true;
    let run = Run::new(&server);
    std::fs::create_dir_all(run.out()).expect("out dir");
    // Bytes that are not the file's: a 200 answer must replace them.
    std::fs::write(run.part("trades", day), vec![b'x'; 7000]).expect("seed .part");

    succeeded(&run.run(day, &[]));
    let path = zip_path("trades", day);
    let asked: Vec<Seen> = server
        .seen()
        .into_iter()
        .filter(|s| s.path == path)
        .collect();
    assert_eq!(asked[0].range.as_deref(), Some("bytes=7000-"), "{asked:?}");
    assert_eq!(read(&run.path("trades", day)), server.file(&path));
}

#[test]
fn range_not_satisfiable_verifies_a_complete_part_or_starts_over() {
    let days = ["2024-01-04", "2024-01-05"];
    let server = Server::start(&days);
    let run = Run::new(&server);
    std::fs::create_dir_all(run.out()).expect("out dir");
    // Day 1: every byte arrived, the check did not happen yet.
    let complete = server.file(&zip_path("trades", days[0])).to_vec();
    std::fs::write(run.part("trades", days[0]), &complete).expect("seed");
    // Day 2: longer than the file (it changed on the server).
    let longer = server.file(&zip_path("trades", days[1])).len() + 10;
    std::fs::write(run.part("trades", days[1]), vec![b'y'; longer]).expect("seed");

    succeeded(&run.run("2024-01-04..2024-01-05", &[]));
    assert_eq!(read(&run.path("trades", days[0])), complete);
    assert_eq!(
        read(&run.path("trades", days[1])),
        server.file(&zip_path("trades", days[1]))
    );
    let day2: Vec<Option<String>> = server
        .seen()
        .into_iter()
        .filter(|s| s.path == zip_path("trades", days[1]))
        .map(|s| s.range)
        .collect();
    assert_eq!(
        day2,
        [Some(format!("bytes={longer}-")), None],
        "416, then the whole file"
    );
}

#[test]
fn a_wrong_checksum_deletes_that_file_and_keeps_the_others() {
    let days = ["2024-01-06", "2024-01-07", "2024-01-08"];
    let server = Server::start(&days);
    let bad = zip_path("trades", days[1]);
    server.faults().wrong_checksum.insert(bad.clone());
    let run = Run::new(&server);

    let output = run.run("2024-01-06..2024-01-08", &[]);
    assert!(!output.status.success());
    let text = stderr(&output);
    let mismatch = text
        .lines()
        .find(|l| l.starts_with("error: checksum mismatch"))
        .unwrap_or_else(|| panic!("a mismatch line: {text}"));
    assert!(
        mismatch.contains(&format!("{SYMBOL}-trades-{}.zip", days[1])),
        "{mismatch}"
    );
    assert!(
        mismatch.contains(&sha256(b"other bytes")),
        "the expected hash: {mismatch}"
    );
    assert!(
        mismatch.contains(&sha256(server.file(&bad))),
        "the actual hash: {mismatch}"
    );
    assert!(
        !run.path("trades", days[1]).exists(),
        "the bad file is deleted"
    );
    assert!(
        !run.part("trades", days[1]).exists(),
        "the bad file is deleted"
    );
    for day in [days[0], days[2]] {
        assert_eq!(
            read(&run.path("trades", day)),
            server.file(&zip_path("trades", day))
        );
    }
    assert!(text.contains("1 of 3 days failed (2024-01-07)"), "{text}");
}

#[test]
fn missing_days_are_each_reported_and_the_rest_download() {
    let days = ["2024-01-09", "2024-01-10", "2024-01-11", "2024-01-12"];
    let server = Server::start(&days);
    for day in [days[1], days[3]] {
        server.faults().missing.insert(zip_path("trades", day));
    }
    let run = Run::new(&server);

    let output = run.run("2024-01-09..2024-01-12", &[]);
    assert!(!output.status.success(), "missing days fail the run");
    let text = stderr(&output);
    assert!(!text.contains("panicked"), "{text}");
    for day in [days[1], days[3]] {
        let url = format!("{}{}", server.url(), zip_path("trades", day));
        assert!(
            text.lines()
                .any(|l| l.starts_with("error: not found (HTTP 404): ") && l.contains(&url)),
            "{day} is reported with its URL: {text}"
        );
        assert!(!run.path("trades", day).exists());
        assert!(!run.part("trades", day).exists());
    }
    for day in [days[0], days[2]] {
        assert_eq!(
            read(&run.path("trades", day)),
            server.file(&zip_path("trades", day))
        );
    }
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: 2 of 4 days failed (2024-01-10, 2024-01-12)"),
        "{text}"
    );
}

#[test]
fn one_missing_day_is_one_error_line_naming_the_url() {
    let server = Server::start(&["2024-01-13"]);
    let run = Run::new(&server);
    let error = error_line(&run.run("2024-01-14", &[]));
    let url = format!("{}{}", server.url(), zip_path("trades", "2024-01-14"));
    assert!(
        error.contains("HTTP 404") && error.contains(&url),
        "{error}"
    );
}

#[test]
fn ctrl_c_keeps_the_part_and_the_rerun_resumes_it() {
    let day = "2024-01-15";
    let server = Server::start(&[day]);
    server.faults().drip = Some(Duration::from_millis(5));
    let run = Run::new(&server);
    let mut child = run
        .command(day, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tesser");
    let part = run.part("trades", day);
    let started = Instant::now();
    while std::fs::metadata(&part).map_or(0, |m| m.len()) < 10_000 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the download never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        assert!(
            Instant::now() < deadline,
            "tesser did not stop after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let error = error_line(&output);
    assert!(
        error.contains("interrupted") && error.contains("resume"),
        "{error}"
    );
    let path = zip_path("trades", day);
    let kept = read(&part);
    let full = server.file(&path).to_vec();
    assert!(kept.len() < full.len(), "stopped mid-file");
    assert_eq!(kept, full[..kept.len()], "the .part is a clean prefix");
    assert!(!run.path("trades", day).exists(), "no finished file");

    server.faults().drip = None;
    server.forget();
    succeeded(&run.run(day, &[]));
    let ranges: Vec<Option<String>> = server
        .seen()
        .into_iter()
        .filter(|s| s.path == path)
        .map(|s| s.range)
        .collect();
    assert_eq!(ranges, [Some(format!("bytes={}-", kept.len()))]);
    assert_eq!(read(&run.path("trades", day)), full);
}

#[test]
fn bad_arguments_fail_with_one_line() {
    let server = Server::start(&[]);
    let run = Run::new(&server);
    for (days, extra, expected) in [
        ("2024-02-30", &[][..], "there is no day 2024-02-30"),
        ("2024-01-05..2024-01-01", &[][..], "ends before it starts"),
        ("20240101", &[][..], "YYYY-MM-DD"),
        (
            "2024-01-01",
            &["--kind", "klines"][..],
            "invalid value 'klines'",
        ),
    ] {
        let output = run.run(days, extra);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
    }
    let output = tesser()
        .args(["data", "download", "binance-spot", "BTCUSDT", "2024-01-01"])
        .args(["--base-url", "ftp://mirror", "--out"])
        .arg(run.out())
        .output()
        .expect("run");
    assert!(error_line(&output).contains("invalid --base-url"));
    let output = tesser()
        .args([
            "data",
            "download",
            "binance-spot",
            "BTC/USDT",
            "2024-01-01",
            "--out",
        ])
        .arg(run.out())
        .output()
        .expect("run");
    assert!(error_line(&output).contains("invalid symbol"));
    assert!(
        server.seen().is_empty(),
        "nothing fetched for bad arguments"
    );
}
