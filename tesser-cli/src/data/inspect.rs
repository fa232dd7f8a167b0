//! `tesser data inspect`.

use clap::Args;

/// `tesser data inspect` arguments.
#[derive(Debug, Args)]
pub struct InspectArgs {}

/// Runs `tesser data inspect`.
///
/// # Errors
/// Not built yet.
pub fn run(_args: &InspectArgs) -> anyhow::Result<()> {
    anyhow::bail!("tesser data inspect is not built yet")
}
