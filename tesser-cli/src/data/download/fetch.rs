//! One day's file over HTTP: a resumable download into `<file>.part`, its
//! `.CHECKSUM`, the SHA-256 check and the rename to the final name.
//!
//! A final `<file>` exists only once it matched its checksum, so a rerun
//! skips it; an interrupted download stays in `<file>.part` and the rerun
//! asks for the rest with `Range: bytes=N-`.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read as _, Write as _};
use std::path::{Path, PathBuf};

use reqwest::header::{CONTENT_RANGE, HeaderMap, RANGE};
use reqwest::{Client, Response, StatusCode};
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;

use super::display::Display;

/// The largest `.CHECKSUM` file accepted (they are one short line).
const MAX_CHECKSUM_BYTES: usize = 4096;

/// One day's file: where it comes from and where it goes.
#[derive(Debug, Clone)]
pub struct DayFile {
    /// The zip's URL.
    pub url: String,
    /// The zip's file name, e.g. `BTCUSDT-trades-2024-01-01.zip`.
    pub name: String,
    /// The verified file.
    pub path: PathBuf,
    /// The download in progress.
    pub part: PathBuf,
    /// The saved `.CHECKSUM` next to the verified file.
    pub checksum: PathBuf,
}

impl DayFile {
    /// The file `name` under `url_dir` (no trailing `/`), saved in `dir`.
    pub fn new(url_dir: &str, name: String, dir: &Path) -> Self {
        Self {
            url: format!("{url_dir}/{name}"),
            path: dir.join(&name),
            part: dir.join(format!("{name}.part")),
            checksum: dir.join(format!("{name}.CHECKSUM")),
            name,
        }
    }
}

/// How a day went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Downloaded (from byte `resumed_from`, 0 for a whole download) and
    /// verified.
    Downloaded {
        /// The file's size.
        bytes: u64,
        /// Where this run started: the bytes an earlier run left in `.part`.
        resumed_from: u64,
    },
    /// Already there and verified by an earlier run.
    Skipped {
        /// The file's size.
        bytes: u64,
    },
}

/// Why a day failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// This day only (missing, wrong checksum, an HTTP error): the run goes
    /// on with the next day.
    Day(String),
    /// The run cannot go on (network lost, local disk, Ctrl-C).
    Stop(String),
}

/// Ctrl-C, as seen by the downloads.
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Listens for Ctrl-C from now on. Must run inside the tokio runtime.
    pub fn install() -> Self {
        let (sender, receiver) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = sender.send(true);
            } else {
                // No handler could be installed: Ctrl-C ends the process
                // as usual, which leaves `.part` files just as well.
                std::future::pending::<()>().await;
            }
        });
        Self(receiver)
    }

    /// Completes once Ctrl-C was pressed.
    async fn requested(&mut self) {
        if self.0.wait_for(|pressed| *pressed).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Fetches, verifies and saves one day's file, the `index`-th of the run.
///
/// # Errors
/// [`Failure::Day`] when only this day failed, [`Failure::Stop`] when the
/// run cannot go on.
pub async fn fetch(
    client: &Client,
    file: &DayFile,
    index: usize,
    display: &Display,
    stop: &mut Stop,
) -> Result<Outcome, Failure> {
    if let Some(bytes) = already_verified(file, display)? {
        return Ok(Outcome::Skipped { bytes });
    }
    let resumed_from = download(client, file, index, display, stop).await?;
    let expected = fetch_checksum(client, file, stop).await?;
    let actual = sha256_file(&file.part)?;
    if actual != expected.hash {
        fs::remove_file(&file.part).map_err(|e| disk(&file.part, "deleting", &e))?;
        return Err(Failure::Day(format!(
            "checksum mismatch for {}: expected sha256 {} (from {}.CHECKSUM), got {actual}; \
             the file was deleted: run the same command again to download it afresh",
            file.name, expected.hash, file.url
        )));
    }
    fs::write(&file.checksum, expected.text.as_bytes())
        .map_err(|e| disk(&file.checksum, "writing", &e))?;
    fs::rename(&file.part, &file.path).map_err(|e| disk(&file.path, "renaming .part to", &e))?;
    let bytes = fs::metadata(&file.path)
        .map_err(|e| disk(&file.path, "reading", &e))?
        .len();
    Ok(Outcome::Downloaded {
        bytes,
        resumed_from,
    })
}

/// The size of the final file when an earlier run verified it and it still
/// matches its saved checksum. A final file that does not match is removed,
/// to be downloaded again.
fn already_verified(file: &DayFile, display: &Display) -> Result<Option<u64>, Failure> {
    let Ok(metadata) = fs::metadata(&file.path) else {
        return Ok(None);
    };
    let saved = fs::read_to_string(&file.checksum)
        .ok()
        .and_then(|text| parse_checksum(&text, &file.name).ok());
    if let Some(saved) = saved
        && sha256_file(&file.path)? == saved.hash
    {
        return Ok(Some(metadata.len()));
    }
    display.line(&format!(
        "{} does not match its saved {} file: downloading it again",
        file.path.display(),
        file.checksum.display()
    ));
    fs::remove_file(&file.path).map_err(|e| disk(&file.path, "deleting", &e))?;
    Ok(None)
}

/// Downloads the zip into `.part`, resuming what is there. Returns the byte
/// this run started at.
async fn download(
    client: &Client,
    file: &DayFile,
    index: usize,
    display: &Display,
    stop: &mut Stop,
) -> Result<u64, Failure> {
    let mut offset = match fs::metadata(&file.part) {
        Ok(metadata) => metadata.len(),
        Err(e) if e.kind() == ErrorKind::NotFound => 0,
        Err(e) => return Err(disk(&file.part, "reading", &e)),
    };
    display.start_file(&file.name, index, offset);
    // A second request only after a 416 that leaves the .part unusable.
    for _attempt in 0..2 {
        let mut request = client.get(&file.url);
        if offset > 0 {
            request = request.header(RANGE, format!("bytes={offset}-"));
        }
        let response = tokio::select! {
            response = request.send() => response.map_err(|e| unreachable(&file.url, e))?,
            () = stop.requested() => return Err(interrupted(file, offset)),
        };
        let start = match response.status() {
            StatusCode::PARTIAL_CONTENT if offset > 0 => {
                let Some(range) = content_range(response.headers()) else {
                    return Err(Failure::Day(format!(
                        "{} answered a resume (Range: bytes={offset}-) with a partial body \
                         but no usable Content-Range; delete {} and run again",
                        file.url,
                        file.part.display()
                    )));
                };
                if range.start != Some(offset) {
                    return Err(Failure::Day(format!(
                        "{} answered a resume from byte {offset} with another range ({}); \
                         delete {} and run again",
                        file.url,
                        range.raw,
                        file.part.display()
                    )));
                }
                offset
            }
            // The whole file: a first download, or a server that ignores
            // Range (then the .part starts over).
            StatusCode::OK => 0,
            StatusCode::RANGE_NOT_SATISFIABLE if offset > 0 => {
                let total = content_range(response.headers()).and_then(|r| r.total);
                if total == Some(offset) {
                    // An earlier run got every byte but stopped before the
                    // check: verify what is there.
                    display.set_size(offset);
                    return Ok(offset);
                }
                // The .part is longer than the file (it changed on the
                // server, or the .part is not ours): start over.
                fs::remove_file(&file.part).map_err(|e| disk(&file.part, "deleting", &e))?;
                offset = 0;
                display.restart();
                continue;
            }
            StatusCode::NOT_FOUND => return Err(not_found(&file.url)),
            status => return Err(http_error(&file.url, status)),
        };
        if start == 0 && offset > 0 {
            display.restart();
        }
        write_body(response, file, start, display, stop).await?;
        return Ok(start);
    }
    Err(Failure::Day(format!(
        "{} refused to resume or restart (HTTP 416 twice); delete {} and run again",
        file.url,
        file.part.display()
    )))
}

/// Writes the body into `.part` from byte `start` (appending when `start` is
/// its length, truncating when 0).
async fn write_body(
    mut response: Response,
    file: &DayFile,
    start: u64,
    display: &Display,
    stop: &mut Stop,
) -> Result<(), Failure> {
    if let Some(rest) = response.content_length() {
        display.set_size(start + rest);
    }
    let mut out = if start == 0 {
        File::create(&file.part)
    } else {
        OpenOptions::new().append(true).open(&file.part)
    }
    .map_err(|e| disk(&file.part, "opening", &e))?;
    let mut written = start;
    loop {
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk,
            () = stop.requested() => {
                // Every chunk is written as it arrives: the .part holds
                // exactly the bytes received.
                return Err(interrupted(file, written));
            }
        };
        match chunk {
            Ok(Some(bytes)) => {
                out.write_all(&bytes)
                    .map_err(|e| disk(&file.part, "writing", &e))?;
                written += bytes.len() as u64;
                display.advance(bytes.len() as u64);
            }
            Ok(None) => break,
            Err(error) => {
                return Err(Failure::Stop(format!(
                    "download of {} broke off after {written} bytes ({}); they are kept in {}: \
                     run the same command again to resume",
                    file.url,
                    error_chain(&error.without_url()),
                    file.part.display()
                )));
            }
        }
    }
    out.sync_all()
        .map_err(|e| disk(&file.part, "flushing", &e))?;
    Ok(())
}

/// A parsed `.CHECKSUM` file.
#[derive(Debug)]
struct Checksum {
    /// The SHA-256, lowercase hex.
    hash: String,
    /// The file as served, saved next to the verified file.
    text: String,
}

/// Fetches and parses `<url>.CHECKSUM`.
async fn fetch_checksum(
    client: &Client,
    file: &DayFile,
    stop: &mut Stop,
) -> Result<Checksum, Failure> {
    let url = format!("{}.CHECKSUM", file.url);
    let mut response = tokio::select! {
        response = client.get(&url).send() => response.map_err(|e| unreachable(&url, e))?,
        () = stop.requested() => return Err(interrupted_checking(file)),
    };
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => {
            return Err(Failure::Day(format!(
                "no checksum file at {url} (HTTP 404), so {} cannot be verified; it is kept in {}: \
                 run the same command again later, or check --base-url",
                file.name,
                file.part.display()
            )));
        }
        status => return Err(http_error(&url, status)),
    }
    let mut body = Vec::new();
    loop {
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk,
            () = stop.requested() => return Err(interrupted_checking(file)),
        };
        match chunk {
            Ok(Some(bytes)) => {
                body.extend_from_slice(&bytes);
                if body.len() > MAX_CHECKSUM_BYTES {
                    return Err(not_a_checksum(&url, "it is larger than 4 KiB"));
                }
            }
            Ok(None) => break,
            Err(error) => {
                return Err(Failure::Stop(format!(
                    "reading {url} failed ({}); run the same command again",
                    error_chain(&error.without_url())
                )));
            }
        }
    }
    let text = String::from_utf8(body).map_err(|_| not_a_checksum(&url, "it is not text"))?;
    parse_checksum(&text, &file.name).map_err(|why| not_a_checksum(&url, &why))
}

/// Parses `<sha256 hex>  <file name>` (as `sha256sum` writes it).
fn parse_checksum(text: &str, name: &str) -> Result<Checksum, String> {
    let mut words = text.split_whitespace();
    let hash = words.next().unwrap_or_default();
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("it does not start with a SHA-256 in hex".to_owned());
    }
    if let Some(named) = words.next().map(|w| w.trim_start_matches('*'))
        && named != name
    {
        return Err(format!("it is for {named}, not {name}"));
    }
    Ok(Checksum {
        hash: hash.to_ascii_lowercase(),
        text: text.to_owned(),
    })
}

/// The SHA-256 of a file, lowercase hex.
fn sha256_file(path: &Path) -> Result<String, Failure> {
    let mut file = File::open(path).map_err(|e| disk(path, "opening", &e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0_u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| disk(path, "reading", &e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// A `Content-Range` header: `bytes START-END/TOTAL` or `bytes */TOTAL`.
struct ContentRange {
    /// The first byte, when given.
    start: Option<u64>,
    /// The whole file's size, when given.
    total: Option<u64>,
    /// The header as sent, for messages.
    raw: String,
}

fn content_range(headers: &HeaderMap) -> Option<ContentRange> {
    let raw = headers.get(CONTENT_RANGE)?.to_str().ok()?.trim().to_owned();
    let spec = raw.strip_prefix("bytes")?.trim_start();
    let (range, total) = spec.split_once('/')?;
    let start = range
        .split_once('-')
        .and_then(|(start, _)| start.trim().parse().ok());
    let total = total.trim().parse().ok();
    Some(ContentRange { start, total, raw })
}

fn not_found(url: &str) -> Failure {
    Failure::Day(format!(
        "not found (HTTP 404): {url}; there is no such file: check the symbol, --kind and the \
         date (a day's file appears the day after)"
    ))
}

fn http_error(url: &str, status: StatusCode) -> Failure {
    Failure::Day(format!(
        "HTTP {status} from {url}; try again later, or check --base-url"
    ))
}

fn not_a_checksum(url: &str, why: &str) -> Failure {
    Failure::Day(format!(
        "{url} is not a usable checksum file ({why}); check --base-url"
    ))
}

fn unreachable(url: &str, error: reqwest::Error) -> Failure {
    Failure::Stop(format!(
        "cannot reach {url} ({}); check the network connection and --base-url, then run the \
         same command again",
        error_chain(&error.without_url())
    ))
}

fn interrupted(file: &DayFile, kept: u64) -> Failure {
    Failure::Stop(format!(
        "interrupted during {}: {kept} bytes kept in {}; run the same command again to resume",
        file.name,
        file.part.display()
    ))
}

fn interrupted_checking(file: &DayFile) -> Failure {
    Failure::Stop(format!(
        "interrupted while fetching the checksum of {}: the download is kept in {}; run the same \
         command again to verify it",
        file.name,
        file.part.display()
    ))
}

fn disk(path: &Path, doing: &str, error: &std::io::Error) -> Failure {
    Failure::Stop(format!(
        "{doing} {} failed: {error}; check the disk space and permissions of --out",
        path.display()
    ))
}

/// An error with its causes, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}
