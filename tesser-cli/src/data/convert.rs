//! `tesser data convert`.

use clap::Args;

/// `tesser data convert` arguments.
#[derive(Debug, Args)]
pub struct ConvertArgs {}

/// Runs `tesser data convert`.
///
/// # Errors
/// Not built yet.
pub fn run(_args: &ConvertArgs) -> anyhow::Result<()> {
    anyhow::bail!("tesser data convert is not built yet")
}
