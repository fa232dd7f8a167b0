//! The connector where the real venue differs from a well-behaved twin:
//! silent sockets, ambiguous amends and cancels, order-count windows, amend
//! rules, late orders, commissions in the asset charged, and the account's own
//! balances. Each test runs against the twin over real sockets
//! on 127.0.0.1 with the twin's fault switches; every wait is bounded.

mod common;

#[path = "real_venue/silent_sockets.rs"]
mod silent_sockets;

#[path = "real_venue/unknown_changes.rs"]
mod unknown_changes;

#[path = "real_venue/order_windows.rs"]
mod order_windows;

#[path = "real_venue/amend_rules.rs"]
mod amend_rules;

#[path = "real_venue/late_orders.rs"]
mod late_orders;

#[path = "real_venue/commissions.rs"]
mod commissions;

#[path = "real_venue/account.rs"]
mod account;
