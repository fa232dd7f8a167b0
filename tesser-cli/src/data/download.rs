//! `tesser data download`.

use clap::Args;

/// `tesser data download` arguments.
#[derive(Debug, Args)]
pub struct DownloadArgs {}

/// Runs `tesser data download`.
///
/// # Errors
/// Not built yet.
pub fn run(_args: &DownloadArgs) -> anyhow::Result<()> {
    anyhow::bail!("tesser data download is not built yet")
}
