//! [`check()`]: a read-only look at the venue, for `tesser venue check`.

use rust_decimal::Decimal;

use crate::config::BinanceConfig;
use crate::error::BinanceError;
use crate::model::{Balance, SymbolFilter, SymbolInfo};
use crate::rest::RestClient;
use crate::sign::Credentials;
use crate::startup;

/// What [`check()`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueCheck {
    /// Venue name.
    pub venue: String,
    /// REST base URL asked.
    pub rest_url: String,
    /// Server time when the clock was measured (local clock plus the
    /// measured offset), milliseconds since the Unix epoch.
    pub server_time_ms: i64,
    /// Server minus local clock, milliseconds (midpoint of the round trip).
    pub clock_offset_ms: i64,
    /// The symbol's rules, or why they could not be read (e.g. the venue
    /// does not list it).
    pub symbol: Result<SymbolCheck, BinanceError>,
    /// The account, when credentials were given: its flags and balances, or
    /// why the key was refused.
    pub account: Option<Result<AccountCheck, BinanceError>>,
}

/// One symbol's rules from `exchangeInfo` (`filters.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolCheck {
    /// Symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Trading status, e.g. `TRADING` or `BREAK`.
    pub status: String,
    /// Base asset.
    pub base_asset: String,
    /// Quote asset.
    pub quote_asset: String,
    /// `PRICE_FILTER.tickSize` (zero when absent or disabled).
    pub tick_size: Decimal,
    /// `LOT_SIZE.stepSize` (zero when absent).
    pub step_size: Decimal,
    /// `LOT_SIZE.minQty` (zero when absent).
    pub min_qty: Decimal,
    /// `NOTIONAL.minNotional` or `MIN_NOTIONAL.minNotional` (zero when
    /// absent).
    pub min_notional: Decimal,
    /// Order types allowed, e.g. `LIMIT`, `MARKET`.
    pub order_types: Vec<String>,
    /// Whether cancel-replace is allowed (price amends use it).
    pub cancel_replace_allowed: bool,
    /// Whether amend keep-priority is allowed (quantity decreases use it).
    pub amend_allowed: bool,
}

impl SymbolCheck {
    fn from_info(info: &SymbolInfo) -> Self {
        let mut check = Self {
            symbol: info.symbol.clone(),
            status: info.status.clone(),
            base_asset: info.base_asset.clone(),
            quote_asset: info.quote_asset.clone(),
            tick_size: Decimal::ZERO,
            step_size: Decimal::ZERO,
            min_qty: Decimal::ZERO,
            min_notional: Decimal::ZERO,
            order_types: info.order_types.clone(),
            cancel_replace_allowed: info.cancel_replace_allowed,
            amend_allowed: info.amend_allowed,
        };
        for filter in &info.filters {
            match filter {
                SymbolFilter::Price { tick_size, .. } => check.tick_size = *tick_size,
                SymbolFilter::LotSize {
                    min_qty, step_size, ..
                } => {
                    check.step_size = *step_size;
                    check.min_qty = *min_qty;
                }
                SymbolFilter::MinNotional { min_notional }
                | SymbolFilter::Notional { min_notional, .. } => {
                    check.min_notional = *min_notional;
                }
                SymbolFilter::MaxNumOrderAmends { .. } | SymbolFilter::Other => {}
            }
        }
        check
    }
}

/// The account behind the key (`GET /api/v3/account`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCheck {
    /// Whether the account may trade.
    pub can_trade: bool,
    /// Whether the account may withdraw (an account flag, not the key's
    /// withdrawal permission, which the Spot API does not report).
    pub can_withdraw: bool,
    /// Whether the account may deposit.
    pub can_deposit: bool,
    /// Account type, e.g. `SPOT`.
    pub account_type: Option<String>,
    /// Account permissions, e.g. `SPOT`.
    pub permissions: Vec<String>,
    /// Balances with a non-zero free or locked amount.
    pub balances: Vec<Balance>,
}

/// Looks at the venue without changing anything: server time and clock
/// offset, `symbol`'s rules, and, with `credentials`, the account
/// (`GET /api/v3/account`, read-only).
///
/// It owns a short-lived tokio runtime; call it outside async code.
///
/// # Errors
/// [`BinanceError::Startup`] when the endpoint cannot be reached;
/// [`BinanceError::Config`] when the runtime or HTTP client cannot start. An
/// unlisted symbol or a refused key does not fail the check: they are
/// reported in [`VenueCheck::symbol`] and [`VenueCheck::account`].
pub fn check(
    config: BinanceConfig,
    credentials: Option<Credentials>,
    symbol: &str,
) -> Result<VenueCheck, BinanceError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| BinanceError::Config(format!("tokio runtime: {error}")))?;
    runtime.block_on(async {
        let has_keys = credentials.is_some();
        let rest = match credentials {
            Some(credentials) => RestClient::new(&config, credentials)?,
            None => RestClient::public(&config)?,
        };
        let venue = config.name.as_str();
        let clock_offset_ms = startup::sync_clock(venue, &rest).await?;
        let server_time_ms = rest.server_now_ms();
        let symbol = startup::load_symbol(venue, &rest, symbol)
            .await
            .map(|info| SymbolCheck::from_info(&info));
        let account = if has_keys {
            Some(startup::verify_key(venue, &rest).await.map(|account| {
                AccountCheck {
                    can_trade: account.can_trade,
                    can_withdraw: account.can_withdraw,
                    can_deposit: account.can_deposit,
                    account_type: account.account_type,
                    permissions: account.permissions,
                    balances: account
                        .balances
                        .into_iter()
                        .filter(|balance| !balance.free.is_zero() || !balance.locked.is_zero())
                        .collect(),
                }
            }))
        } else {
            None
        };
        Ok(VenueCheck {
            venue: config.name.clone(),
            rest_url: rest.base_url().to_owned(),
            server_time_ms,
            clock_offset_ms,
            symbol,
            account,
        })
    })
}
