//! The venue account's money: what each algorithm may spend, and the
//! balances a plugin is shown.
//!
//! On a live venue the portfolio follows the account ([`Portfolio`]'s
//! account balances, taken at start and kept current by
//! [`ExchangeEvent::Balances`]). The venue's free balance lags the
//! runtime's own orders by a report, so what can be spent is the smaller of
//! the free balance and the total less what the runtime's open orders hold:
//! an order the venue has not reported locking yet is never spent twice.

use super::*;

impl<E: ExchangeClient> Orchestrator<E> {
    /// Asks the venue for the account's balances and takes them as they
    /// are now, when it keeps an account: done at start, and worth doing
    /// before a final summary (the venue's last report may still be on its
    /// way).
    ///
    /// # Errors
    /// [`OrchestratorError::Account`] when the venue cannot be asked.
    pub fn refresh_account(&mut self) -> Result<(), OrchestratorError> {
        if let Some(balances) = self
            .exchange
            .account_balances()
            .map_err(OrchestratorError::Account)?
        {
            tracing::info!(
                assets = balances.len(),
                "portfolio follows the venue account"
            );
            self.portfolio.set_account(&balances);
        }
        Ok(())
    }

    /// What the account can spend of `asset` now; `None` without an account.
    pub(super) fn spendable(&self, asset: &str) -> Option<Decimal> {
        if !self.portfolio.has_account() {
            return None;
        }
        let (free, locked) = self
            .portfolio
            .account_balance(asset)
            .map_or((Decimal::ZERO, Decimal::ZERO), |b| (b.free, b.locked));
        let held: Decimal = self
            .working
            .iter()
            .map(|&idx| &self.algorithms[idx])
            .flat_map(|algo| algo.open_children())
            .map(|child| self.held_by(child, asset))
            .sum();
        Some(free.min(free + locked - held).max(Decimal::ZERO))
    }

    /// What an open child order holds of `asset`: a resting buy its open
    /// quantity times its price in the quote asset, a sell its open quantity
    /// of the base asset.
    fn held_by(&self, child: &Child, asset: &str) -> Decimal {
        let request = &child.row().request;
        let Some(instrument) = self.risk.instrument(&request.symbol) else {
            return Decimal::ZERO;
        };
        match request.side {
            Side::Buy if instrument.quote_asset == asset => {
                child.working() * request.price.unwrap_or_default()
            }
            Side::Sell if instrument.base_asset == asset => child.working(),
            Side::Buy | Side::Sell => Decimal::ZERO,
        }
    }

    /// The asset algorithm `idx`'s orders spend, and how much of it can be
    /// spent: the risk guard's [`Funds`] (`None` without an account).
    pub(super) fn funds_of(&self, idx: usize) -> Option<(String, Decimal)> {
        if !self.portfolio.has_account() {
            // A simulated venue (replays, the lab): nothing to look up or
            // allocate on the hot path.
            return None;
        }
        let algo = &self.algorithms[idx];
        let instrument = self.risk.instrument(&algo.row().symbol)?;
        let asset = match algo.row().side {
            Side::Buy => &instrument.quote_asset,
            Side::Sell => &instrument.base_asset,
        };
        Some((asset.clone(), self.spendable(asset)?))
    }

    /// The balances a plugin is shown for `symbol`: its quote and base
    /// assets. With an account they are what can be spent of each; without
    /// one, the portfolio's cash and the run's position.
    pub(super) fn plugin_balances(&self, symbol: &Symbol) -> Vec<PluginBalance> {
        let instrument = self.risk.instrument(symbol);
        let quote = self.portfolio.quote_asset();
        let base = instrument.map_or_else(|| symbol.to_string(), |i| i.base_asset.clone());
        match (self.spendable(quote), self.spendable(&base)) {
            (Some(quote_free), Some(base_free)) => vec![
                PluginBalance {
                    asset: quote.to_owned(),
                    available: quote_free,
                },
                PluginBalance {
                    asset: base,
                    available: base_free,
                },
            ],
            _ => vec![
                PluginBalance {
                    asset: quote.to_owned(),
                    available: self.portfolio.cash(),
                },
                PluginBalance {
                    asset: base,
                    available: self.portfolio.position(symbol),
                },
            ],
        }
    }
}
