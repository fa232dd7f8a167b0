//! Market data in: trade prints, which the exchange matches and the working
//! algorithms of the symbol hear, and quotes, the top of each book as the
//! venue last reported it.

use super::*;

impl<E: ExchangeClient> Orchestrator<E> {
    /// Feeds one trade print: the exchange matches against it, fills and
    /// order changes go to their algorithms, then every working algorithm on
    /// the symbol sees the tick, then due timers fire.
    ///
    /// # Errors
    /// The store failed.
    pub fn on_tick(&mut self, tick: &Tick) -> Result<(), OrchestratorError> {
        self.now_ms = self.now_ms.max(tick.timestamp_ms);
        self.portfolio.mark_price(&tick.symbol, tick.price);
        self.exchange.on_market_tick(tick);
        self.process_exchange_events()?;
        if let Some(plugin_tick) = self.ticks.get_mut(&tick.symbol) {
            plugin_tick.price = tick.price;
            plugin_tick.size = tick.size;
            plugin_tick.aggressor = tick.aggressor.map(side_to_plugin);
            plugin_tick.timestamp_ms = tick.timestamp_ms;
        } else {
            self.ticks.insert(
                tick.symbol.clone(),
                PluginTick {
                    symbol: tick.symbol.to_string(),
                    price: tick.price,
                    size: tick.size,
                    aggressor: tick.aggressor.map(side_to_plugin),
                    timestamp_ms: tick.timestamp_ms,
                },
            );
        }
        let mut i = 0;
        // The list shrinks when an algorithm ends during its callback.
        while let Some(&idx) = self.by_symbol.get(&tick.symbol).and_then(|l| l.get(i)) {
            self.deliver(idx, Call::Tick)?;
            if self.algorithms[idx].row().status == AlgorithmStatus::Working {
                i += 1;
            }
        }
        self.advance_clock(tick.timestamp_ms)
    }

    /// Takes a venue's quote: the symbol's book as it stands from now on
    /// ([`Orchestrator::quote`]), and the data clock moves to its time.
    ///
    /// # Errors
    /// The store failed (a due timer or batch).
    pub fn on_quote(&mut self, quote: &Quote) -> Result<(), OrchestratorError> {
        match self.quotes.get_mut(&quote.symbol) {
            Some(last) => last.clone_from(quote),
            None => {
                self.quotes.insert(quote.symbol.clone(), quote.clone());
            }
        }
        self.advance_clock(quote.timestamp_ms)
    }

    /// The last quote of `symbol`, when the venue sent one.
    #[must_use]
    pub fn quote(&self, symbol: &Symbol) -> Option<&Quote> {
        self.quotes.get(symbol)
    }
}
