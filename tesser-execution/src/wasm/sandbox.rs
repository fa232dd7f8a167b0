//! What the sandbox replaces in WASI: a frozen clock and sleeps that are
//! due at once.

use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime_wasi::clocks::{HostMonotonicClock, HostWallClock};

use super::instance::HostState;

/// Replaces the monotonic clock's `subscribe-duration` and
/// `subscribe-instant`: the guest's clock is frozen, so a sleep is due at
/// once. WASI's own implementation would block the host thread for real
/// time, where no CPU deadline can interrupt it (epochs only interrupt wasm
/// code), letting a plugin stall the runtime.
pub(super) fn never_sleep(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance("wasi:clocks/monotonic-clock@0.2.12")?;
    clock.func_wrap("subscribe-duration", |mut store, (_,): (u64,)| {
        let table = &mut store.data_mut().table;
        let due = table.push(AlwaysDue)?;
        Ok((wasmtime_wasi::p2::subscribe(table, due)?,))
    })?;
    clock.func_wrap("subscribe-instant", |mut store, (_,): (u64,)| {
        let table = &mut store.data_mut().table;
        let due = table.push(AlwaysDue)?;
        Ok((wasmtime_wasi::p2::subscribe(table, due)?,))
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

/// A deadline that is always due.
struct AlwaysDue;

impl wasmtime_wasi::p2::Pollable for AlwaysDue {
    // The trait is `#[async_trait]`; this is its expanded signature.
    fn ready<'life0, 'async_trait>(
        &'life0 mut self,
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(std::future::ready(()))
    }
}

/// A clock that always reads zero: plugins get the host's time only through
/// callbacks, never from WASI.
pub(super) struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}
