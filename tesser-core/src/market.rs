//! Market data.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{Side, Symbol};

/// A trade print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    /// Instrument symbol.
    pub symbol: Symbol,
    /// Trade price.
    pub price: Decimal,
    /// Traded quantity.
    pub size: Decimal,
    /// Side of the taker, when the venue reports it.
    pub aggressor: Option<Side>,
    /// Trade time, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

/// One price level of a book: a price and the quantity resting at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookLevel {
    /// The level's price.
    pub price: Decimal,
    /// The quantity resting at that price.
    pub size: Decimal,
}

impl BookLevel {
    /// A level, or `None` for an empty side: venues send a zero price or a
    /// zero size when a side of the book has nothing.
    ///
    /// ```
    /// use rust_decimal_macros::dec;
    /// use tesser_core::BookLevel;
    ///
    /// assert_eq!(BookLevel::new(dec!(100.5), dec!(2)).map(|l| l.size), Some(dec!(2)));
    /// assert_eq!(BookLevel::new(dec!(0), dec!(0)), None);
    /// ```
    #[must_use]
    pub fn new(price: Decimal, size: Decimal) -> Option<Self> {
        (price > Decimal::ZERO && size > Decimal::ZERO).then_some(Self { price, size })
    }
}

/// The top of a book: the best bid and the best ask with their sizes, as the
/// venue last reported them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Instrument symbol.
    pub symbol: Symbol,
    /// The best bid; `None` when no one bids.
    pub bid: Option<BookLevel>,
    /// The best ask; `None` when no one offers.
    pub ask: Option<BookLevel>,
    /// Data time, milliseconds since the Unix epoch: the venue's when it
    /// stamps its quotes, else when the quote arrived, on the venue's clock.
    pub timestamp_ms: i64,
}

impl Quote {
    /// Halfway between the best bid and the best ask, when both exist.
    ///
    /// ```
    /// use rust_decimal_macros::dec;
    /// use tesser_core::{BookLevel, Quote};
    ///
    /// let quote = Quote {
    ///     symbol: "BTCUSDT".into(),
    ///     bid: BookLevel::new(dec!(100), dec!(1)),
    ///     ask: BookLevel::new(dec!(101), dec!(3)),
    ///     timestamp_ms: 0,
    /// };
    /// assert_eq!(quote.mid(), Some(dec!(100.5)));
    /// assert_eq!(quote.touch(tesser_core::Side::Buy).map(|l| l.price), Some(dec!(100)));
    /// ```
    #[must_use]
    pub fn mid(&self) -> Option<Decimal> {
        let (bid, ask) = (self.bid?, self.ask?);
        Some((bid.price + ask.price) / Decimal::TWO)
    }

    /// The near touch for an order on `side`: the best bid for a buy, the
    /// best ask for a sell (where a passive order joins the queue).
    #[must_use]
    pub const fn touch(&self, side: Side) -> Option<BookLevel> {
        match side {
            Side::Buy => self.bid,
            Side::Sell => self.ask,
        }
    }
}
