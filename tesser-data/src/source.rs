//! The market-data source abstraction.

use tesser_core::Tick;

use crate::DataError;

/// A stream of trade prints: a file today, a live feed later.
///
/// Sources are pulled one tick at a time, like an [`Iterator`], so a consumer
/// never holds more than it needs. `None` means the source is exhausted (or,
/// after an error it cannot continue from, finished); it stays `None`.
pub trait MarketDataSource {
    /// The next tick, an error, or `None` at the end.
    fn next_tick(&mut self) -> Option<Result<Tick, DataError>>;

    /// A short human-readable description for logs, such as
    /// `trades.csv (csv)`.
    fn describe(&self) -> String;
}

impl<S: MarketDataSource + ?Sized> MarketDataSource for &mut S {
    fn next_tick(&mut self) -> Option<Result<Tick, DataError>> {
        (**self).next_tick()
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

impl<S: MarketDataSource + ?Sized> MarketDataSource for Box<S> {
    fn next_tick(&mut self) -> Option<Result<Tick, DataError>> {
        (**self).next_tick()
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Adapts any iterator of ticks (for example a `Vec<Tick>` in a test) into a
/// [`MarketDataSource`] that never fails.
#[derive(Debug, Clone)]
pub struct IterSource<I> {
    ticks: I,
    description: String,
}

impl<I: Iterator<Item = Tick>> IterSource<I> {
    /// A source yielding `ticks`, described as `description`.
    pub fn new(ticks: impl IntoIterator<IntoIter = I>, description: impl Into<String>) -> Self {
        Self {
            ticks: ticks.into_iter(),
            description: description.into(),
        }
    }

    /// The wrapped iterator.
    pub fn into_inner(self) -> I {
        self.ticks
    }
}

impl<I: Iterator<Item = Tick>> MarketDataSource for IterSource<I> {
    fn next_tick(&mut self) -> Option<Result<Tick, DataError>> {
        self.ticks.next().map(Ok)
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}
