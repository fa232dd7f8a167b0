//! The hot path: a print allocates nothing when no order of its symbol fills
//! or expires. Counted with a global allocator, per thread.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::*;
use rust_decimal_macros::dec;
use tesser_core::{ExchangeClient, OrderRequest, Side};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn prints_without_fills_do_not_allocate() {
    let mut ex = exchange();
    let btc = print(dec!(100), dec!(1), 1);
    let eth = print_of("ETHUSD", dec!(10), dec!(1), 1);
    // First prints insert the symbols' last prices.
    ex.on_market_tick(&btc);
    ex.on_market_tick(&eth);

    // No order at all.
    let before = allocations();
    for _ in 0..10_000 {
        ex.on_market_tick(&btc);
        ex.on_market_tick(&eth);
    }
    assert_eq!(allocations(), before, "prints with no open order");

    // Open orders of another symbol, and resting orders that do not fill.
    place(
        &mut ex,
        OrderRequest::limit("eth", "ETHUSD", Side::Buy, dec!(1), dec!(5)),
    );
    place(&mut ex, limit("b", Side::Buy, dec!(1), dec!(90)));
    place(&mut ex, limit("s", Side::Sell, dec!(1), dec!(110)));
    place(&mut ex, stop("st", Side::Buy, dec!(1), dec!(120), None));
    let before = allocations();
    for _ in 0..10_000 {
        ex.on_market_tick(&btc);
        ex.on_market_tick(&eth);
    }
    assert_eq!(allocations(), before, "prints with resting orders, no fill");
    assert!(ex.fills().is_empty());

    // After a book empties, its symbol stays allocation-free.
    ex.cancel_order(&"b".into(), 2).unwrap();
    ex.cancel_order(&"s".into(), 2).unwrap();
    ex.cancel_order(&"st".into(), 2).unwrap();
    let before = allocations();
    for _ in 0..10_000 {
        ex.on_market_tick(&btc);
    }
    assert_eq!(allocations(), before, "prints after the book emptied");
}
