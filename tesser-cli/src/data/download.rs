//! `tesser data download`: Binance's public daily trade files
//! (`<base>/data/spot/daily/<kind>/<SYMBOL>/<SYMBOL>-<kind>-<YYYY-MM-DD>.zip`),
//! each checked against its `.CHECKSUM` (SHA-256) and resumable.
//!
//! Per day: a verified `<file>.zip` (with its `.CHECKSUM` beside it) is
//! skipped; otherwise the zip downloads into `<file>.zip.part`, resuming
//! with `Range: bytes=N-` what an earlier run left there, is checked, and
//! only then renamed to `<file>.zip`.
//!
//! A day that fails on its own (not found, checksum mismatch, an HTTP
//! error) is reported on its own `error:` line and the rest go on; the run
//! then ends non-zero naming every failed day. What affects every day (the
//! network lost, the disk, Ctrl-C) stops the run at once; the `.part` file
//! stays for the rerun.

mod dates;
mod display;
mod fetch;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use self::dates::DayRange;
use self::display::{Display, human_bytes};
use self::fetch::{DayFile, Failure, Outcome, Stop};

/// Binance's public data site.
pub const DEFAULT_BASE_URL: &str = "https://data.binance.vision";

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the server may stay silent in the middle of a response.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// `tesser data download` arguments.
#[derive(Debug, Args)]
#[command(after_help = "\
Example: tesser data download binance-spot BTCUSDT 2024-01-01..2024-01-07 --out data/

Each file is checked against the SHA-256 of its .CHECKSUM file; a file that does not \
match is deleted. An interrupted download (Ctrl-C, a lost connection) stays in \
<file>.zip.part and the same command resumes it; finished files are skipped. A missing \
day (HTTP 404) or a bad checksum is reported and the other days still download; the \
command then exits non-zero.")]
pub struct DownloadArgs {
    /// Where the files come from: `binance-spot` is Binance's public spot
    /// data (data.binance.vision).
    #[arg(value_enum)]
    venue: Venue,
    /// The symbol, e.g. BTCUSDT (upper-cased).
    symbol: String,
    /// One day (2024-01-01) or an inclusive range of days
    /// (2024-01-01..2024-01-31), UTC.
    #[arg(value_name = "DAY[..DAY]")]
    days: DayRange,
    /// Which files: every trade, or Binance's aggregated trades.
    #[arg(long, value_enum, default_value_t = Kind::Trades)]
    kind: Kind,
    /// Directory for the files (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// Where the files are served from, for mirrors and tests: the site
    /// root, under which `/data/spot/daily/...` is requested.
    #[arg(long, value_name = "URL", default_value = DEFAULT_BASE_URL)]
    base_url: String,
}

/// Venues with public trade files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Venue {
    /// Binance spot.
    BinanceSpot,
}

/// Which of Binance's daily files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Every trade: `id,price,qty,quote_qty,time,is_buyer_maker,is_best_match`.
    Trades,
    /// Aggregated trades: `agg_id,price,qty,first_id,last_id,time,is_buyer_maker,is_best_match`.
    #[value(name = "aggTrades")]
    AggTrades,
}

impl Kind {
    /// The name in Binance's paths and file names.
    pub fn path_name(self) -> &'static str {
        match self {
            Self::Trades => "trades",
            Self::AggTrades => "aggTrades",
        }
    }
}

/// Runs `tesser data download`.
///
/// # Errors
/// Bad arguments, an output directory that cannot be created, a day that
/// failed (after the others were tried), or a failure that stops the run
/// (the network, the disk, Ctrl-C).
pub fn run(args: &DownloadArgs) -> anyhow::Result<()> {
    let symbol = checked_symbol(&args.symbol)?;
    let base_url = checked_base_url(&args.base_url)?;
    std::fs::create_dir_all(&args.out).with_context(|| {
        format!(
            "cannot create the output directory {} (check --out)",
            args.out.display()
        )
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the download runtime")?;
    let plan = Plan {
        venue: args.venue,
        symbol,
        kind: args.kind,
        days: args.days,
        out: &args.out,
        base_url,
    };
    runtime.block_on(plan.run())
}

/// What to download, checked.
struct Plan<'a> {
    venue: Venue,
    symbol: String,
    kind: Kind,
    days: DayRange,
    out: &'a Path,
    base_url: String,
}

impl Plan<'_> {
    async fn run(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .user_agent(concat!("tesser/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot set up the HTTP client (TLS)")?;
        let mut stop = Stop::install();
        let total = self.days.len();
        let display = Display::for_stderr(total);
        let mut failed = Vec::new();
        let (mut downloaded, mut skipped) = (0_usize, 0_usize);
        for (index, day) in self.days.days().enumerate() {
            let file = self.file(day);
            match fetch::fetch(&client, &file, index, &display, &mut stop).await {
                Ok(Outcome::Downloaded {
                    bytes,
                    resumed_from,
                }) => {
                    downloaded += 1;
                    let resumed = if resumed_from > 0 {
                        format!(", resumed at byte {resumed_from}")
                    } else {
                        String::new()
                    };
                    display.line(&format!(
                        "downloaded {} ({}, sha256 verified{resumed})",
                        file.path.display(),
                        human_bytes(bytes)
                    ));
                }
                Ok(Outcome::Skipped { bytes }) => {
                    skipped += 1;
                    display.line(&format!(
                        "skipped {} ({}): already downloaded and verified",
                        file.path.display(),
                        human_bytes(bytes)
                    ));
                }
                Err(Failure::Day(message)) => {
                    if total > 1 {
                        display.line(&format!("error: {message}"));
                    }
                    failed.push((day, message));
                }
                Err(Failure::Stop(message)) => {
                    display.finish();
                    if failed.is_empty() {
                        anyhow::bail!("{message}");
                    }
                    anyhow::bail!(
                        "{message} (besides, {} failed: see above)",
                        days_list(&failed)
                    );
                }
            }
        }
        display.finish();
        if total > 1 {
            eprintln!(
                "{} {} files of {} {} in {}: {downloaded} downloaded, {skipped} already there, \
                 {} failed",
                self.venue_name(),
                self.kind.path_name(),
                self.symbol,
                self.days_text(),
                self.out.display(),
                failed.len()
            );
        }
        match failed.len() {
            0 => Ok(()),
            1 if total == 1 => {
                let (_, message) = failed.remove(0);
                anyhow::bail!("{message}")
            }
            n => anyhow::bail!(
                "{n} of {total} days failed ({}): see the errors above; the other days are in {}, \
                 and the same command retries only what is missing",
                days_list(&failed),
                self.out.display()
            ),
        }
    }

    /// One day's file.
    fn file(&self, day: dates::Day) -> DayFile {
        let kind = self.kind.path_name();
        let symbol = &self.symbol;
        let url_dir = format!("{}/data/spot/daily/{kind}/{symbol}", self.base_url);
        DayFile::new(&url_dir, format!("{symbol}-{kind}-{day}.zip"), self.out)
    }

    fn venue_name(&self) -> &'static str {
        match self.venue {
            Venue::BinanceSpot => "binance-spot",
        }
    }

    fn days_text(&self) -> String {
        if self.days.first == self.days.last {
            self.days.first.to_string()
        } else {
            format!("{}..{}", self.days.first, self.days.last)
        }
    }
}

/// `2024-01-02, 2024-01-05`.
fn days_list(failed: &[(dates::Day, String)]) -> String {
    failed
        .iter()
        .map(|(day, _)| day.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The symbol upper-cased, letters and digits only (it becomes a path).
fn checked_symbol(symbol: &str) -> anyhow::Result<String> {
    let upper = symbol.trim().to_ascii_uppercase();
    if upper.is_empty() || !upper.bytes().all(|b| b.is_ascii_alphanumeric()) {
        anyhow::bail!(
            "invalid symbol `{symbol}`: use Binance's name, letters and digits only, e.g. BTCUSDT"
        );
    }
    Ok(upper)
}

/// The base URL without a trailing `/`.
fn checked_base_url(base_url: &str) -> anyhow::Result<String> {
    let trimmed = base_url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed).ok();
    match parsed {
        Some(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(trimmed.to_owned())
        }
        _ => anyhow::bail!(
            "invalid --base-url `{base_url}`: give an http(s) URL such as {DEFAULT_BASE_URL}"
        ),
    }
}
