//! `tesser venue check`.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;

use super::{Network, Venue, VenueTarget};
use crate::config;

/// `tesser venue check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The venue.
    #[arg(long, value_name = "VENUE", value_parser = super::parser())]
    pub venue: Venue,
    /// The symbol whose rules to show, in the venue's spelling (`BTCUSDT`).
    #[arg(long)]
    pub symbol: String,
    /// Use the venue's test network.
    #[arg(long)]
    pub testnet: bool,
    /// One base URL serving every endpoint of the venue (a local venue);
    /// overrides [venues.NAME] URLs.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Configuration file layered over config/default.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Prints the report; fails when the venue cannot be traded with the keys
/// found.
///
/// # Errors
/// An unreachable venue, an unknown symbol, or keys the venue refuses.
pub fn run(args: &CheckArgs) -> anyhow::Result<()> {
    let config = config::load(args.config.as_deref(), std::env::vars())?;
    let target = VenueTarget {
        network: if args.testnet {
            Network::Testnet
        } else {
            Network::Production
        },
        endpoint: args.endpoint.clone(),
    };
    let report = args.venue.check(&target, &config, &args.symbol)?;
    for line in &report.lines {
        println!("{line}");
    }
    if let Some(problem) = report.problem {
        bail!(problem);
    }
    Ok(())
}
