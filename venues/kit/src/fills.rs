//! Booking each fill once.
//!
//! A venue reports one trade in several places: the user-data stream (maybe
//! twice, or out of order), a placement's answer, and the trade history a
//! reconcile reads after a reconnect. The runtime must hear of each fill
//! once. A [`FillLedger`] remembers the fill ids booked and, per symbol, the
//! highest trade id booked; a [`TradeMarks`] of its own keeps the highest
//! trade id seen *in sequence* (on the stream or in a reconcile sweep), from
//! which the next reconcile reads the venue's history.
//!
//! The fill id is the venue's: a connector builds it from the venue's trade
//! id (and whatever else makes it unique, such as the side of a self-trade).

use std::collections::{HashMap, HashSet};

/// The highest trade id per symbol.
///
/// ```
/// use tesser_venue_kit::fills::TradeMarks;
///
/// let mut marks = TradeMarks::new();
/// marks.note("BTCUSDT", 7);
/// marks.note("BTCUSDT", 5); // an older trade arriving late
/// assert_eq!(marks.get("BTCUSDT"), Some(7));
/// assert_eq!(marks.get("ETHUSDT"), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeMarks<T = i64> {
    by_symbol: HashMap<String, T>,
}

impl<T> Default for TradeMarks<T> {
    fn default() -> Self {
        Self {
            by_symbol: HashMap::new(),
        }
    }
}

impl<T: Ord + Copy> TradeMarks<T> {
    /// No symbol marked.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises `symbol`'s mark to `trade_id` (a lower id leaves it).
    pub fn note(&mut self, symbol: &str, trade_id: T) {
        match self.by_symbol.get_mut(symbol) {
            Some(last) => *last = (*last).max(trade_id),
            None => {
                self.by_symbol.insert(symbol.to_owned(), trade_id);
            }
        }
    }

    /// `symbol`'s highest trade id, if any was noted.
    #[must_use]
    pub fn get(&self, symbol: &str) -> Option<T> {
        self.by_symbol.get(symbol).copied()
    }

    /// Whether no symbol was marked.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_symbol.is_empty()
    }
}

/// The fills booked so far, and the highest trade id booked per symbol.
///
/// ```
/// use tesser_venue_kit::fills::FillLedger;
///
/// let mut ledger = FillLedger::new();
/// assert!(ledger.book("BTCUSDT", 12, "BTCUSDT-12-buy".to_owned()));
/// // The same trade again (a duplicate report, a reconcile overlap).
/// assert!(!ledger.book("BTCUSDT", 12, "BTCUSDT-12-buy".to_owned()));
/// assert_eq!(ledger.last_booked("BTCUSDT"), Some(12));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillLedger<T = i64> {
    booked: HashSet<String>,
    last_booked: TradeMarks<T>,
}

impl<T> Default for FillLedger<T> {
    fn default() -> Self {
        Self {
            booked: HashSet::new(),
            last_booked: TradeMarks::default(),
        }
    }
}

impl<T: Ord + Copy> FillLedger<T> {
    /// Nothing booked.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Books fill `fill_id`, trade `trade_id` of `symbol`; returns whether
    /// it is new (`false`: booked before, report nothing).
    pub fn book(&mut self, symbol: &str, trade_id: T, fill_id: String) -> bool {
        if !self.booked.insert(fill_id) {
            return false;
        }
        self.last_booked.note(symbol, trade_id);
        true
    }

    /// Whether `fill_id` was booked.
    #[must_use]
    pub fn is_booked(&self, fill_id: &str) -> bool {
        self.booked.contains(fill_id)
    }

    /// The highest trade id of `symbol` booked, if any.
    #[must_use]
    pub fn last_booked(&self, symbol: &str) -> Option<T> {
        self.last_booked.get(symbol)
    }

    /// Whether nothing was booked.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.booked.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fill_is_booked_once_in_any_order() {
        let mut ledger = FillLedger::new();
        assert!(ledger.is_empty());
        assert!(ledger.book("A", 5, "A-5".into()));
        assert!(ledger.book("A", 3, "A-3".into()));
        assert!(!ledger.book("A", 5, "A-5".into()));
        assert!(ledger.book("B", 1, "B-1".into()));
        assert!(ledger.is_booked("A-3") && !ledger.is_booked("A-4"));
        assert_eq!(ledger.last_booked("A"), Some(5));
        assert_eq!(ledger.last_booked("B"), Some(1));
        assert!(!ledger.is_empty());
    }

    #[test]
    fn marks_only_rise_and_take_any_ordered_id() {
        let mut marks: TradeMarks<u64> = TradeMarks::new();
        assert!(marks.is_empty());
        marks.note("A", 9);
        marks.note("A", 2);
        marks.note("A", 10);
        assert_eq!(marks.get("A"), Some(10));
        assert!(!marks.is_empty());
    }
}
