//! `tesser data convert`: any supported trade file into tesser's CSV.

use std::fs::File;
use std::io::{BufWriter, IsTerminal as _};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tesser_data::{BadLinePolicy, TradeCsvWriter};

use super::input::{InputArgs, tick_or_advice};

/// Trades between progress-bar updates.
const PROGRESS_EVERY: u64 = 65_536;

/// `tesser data convert` arguments.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The trade file to convert (any supported format; `.gz`/`.zip` are
    /// read as they are), or `-` for standard input.
    #[arg(value_name = "IN")]
    pub input_file: PathBuf,
    /// The tesser CSV file to write (replaced if it exists; written to
    /// OUT.partial first, so a failed conversion leaves no OUT).
    #[arg(long, value_name = "OUT.csv")]
    pub out: PathBuf,
    /// How to read IN.
    #[command(flatten)]
    pub input: InputArgs,
    /// What to do with a malformed line: `stop` or `skip` (skipped lines
    /// are counted and the first few shown).
    #[arg(long, value_name = "stop|skip", default_value = "stop")]
    pub on_bad_line: String,
}

/// Runs `tesser data convert`.
///
/// # Errors
/// An unreadable input, a malformed line under `--on-bad-line stop`, or a
/// failed write.
pub fn run(args: &ConvertArgs) -> anyhow::Result<()> {
    let policy: BadLinePolicy = args.on_bad_line.parse().context("--on-bad-line")?;
    let mut source = args.input.open(&args.input_file, policy)?;
    let partial = PathBuf::from(format!("{}.partial", args.out.display()));
    let file = File::create(&partial).with_context(|| {
        format!(
            "cannot create {}: pass --out in an existing, writable directory",
            partial.display()
        )
    })?;
    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {human_pos} trades ({per_sec}) {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    } else {
        ProgressBar::hidden()
    };
    let result = (|| -> anyhow::Result<u64> {
        let mut writer = TradeCsvWriter::new(BufWriter::with_capacity(256 * 1024, file))?;
        while let Some(tick) = source.next_tick() {
            writer
                .write_tick(&tick_or_advice(tick)?)
                .with_context(|| format!("writing {}", partial.display()))?;
            if writer.lines_written() % PROGRESS_EVERY == 0 {
                progress.set_position(writer.lines_written());
            }
        }
        let written = writer.lines_written();
        writer
            .finish()
            .with_context(|| format!("writing {}", partial.display()))?;
        Ok(written)
    })();
    progress.finish_and_clear();
    let written = match result {
        Ok(written) => written,
        Err(error) => {
            std::fs::remove_file(&partial).ok();
            return Err(error);
        }
    };
    std::fs::rename(&partial, &args.out)
        .with_context(|| format!("renaming {} to {}", partial.display(), args.out.display()))?;
    for example in source.skipped_examples() {
        eprintln!("skipped: {example}");
    }
    eprintln!(
        "wrote {written} trades to {} (from {}, format {}{})",
        args.out.display(),
        source.source_name(),
        source.format(),
        match source.skipped_lines() {
            0 => String::new(),
            n => format!(", {n} malformed lines skipped"),
        }
    );
    Ok(())
}
