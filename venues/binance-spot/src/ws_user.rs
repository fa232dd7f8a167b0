//! User data over the WebSocket API (`web-socket-api.md`, "Subscribe to
//! User Data Stream through signature subscription"; `user-data-stream.md`).
//!
//! The task is the venue kit's WebSocket session ([`tesser_venue_kit::ws`])
//! with Binance's hooks: it connects to the WebSocket API, sends a signed
//! `userDataStream.subscribe.signature` (no `session.logon` needed), and
//! feeds every `executionReport` into the [`Book`](crate::book::Book). When
//! the connection drops, goes silent for
//! [`stale_after`](crate::config::BinanceConfig::stale_after) (no frame, not
//! even a ping: a half-open connection), the server announces
//! `serverShutdown`, the subscription ends with `eventStreamTerminated`, or
//! the planned reconnect time comes, it reconnects with exponential backoff and jitter,
//! resubscribes, and then reconciles through REST (open orders, and
//! `myTrades` from the last booked trade id) so a fill during the gap is
//! booked exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tesser_core::ExchangeEvent;
use tesser_venue_kit::ws::{
    self, Ack, End, SessionConfig, SessionHooks, SessionStatus, Subscription,
};
use tokio::sync::watch;

use crate::exchange::{Shared, reconcile};
use crate::model::{UserEvent, WsApiMessage};
use crate::sign::ws_payload;

/// Counters of the user data task, for monitoring and tests.
#[derive(Debug, Default)]
pub struct UserStreamStatus {
    session: SessionStatus,
    reconciles: AtomicU64,
}

impl UserStreamStatus {
    /// Whether a subscription is active now.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.session.is_connected()
    }

    /// Successful subscriptions so far.
    #[must_use]
    pub fn subscriptions(&self) -> u64 {
        self.session.subscriptions()
    }

    /// Reconciles completed after a reconnect.
    #[must_use]
    pub fn reconciles(&self) -> u64 {
        self.reconciles.load(Ordering::SeqCst)
    }

    /// Connections lost or ended.
    #[must_use]
    pub fn disconnects(&self) -> u64 {
        self.session.disconnects()
    }
}

/// Runs the user data task until `shutdown` turns true.
pub async fn run(shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    let config = &shared.config;
    let session = SessionConfig::new("user data stream", config.endpoints.ws_api_url.as_str())
        .connect_timeout(config.connect_timeout)
        .subscribe_timeout(config.request_timeout)
        .stale_after(config.stale_after)
        .reconnect_after(config.user_reconnect_after)
        .backoff(config.reconnect_min, config.reconnect_max);
    let mut hooks = UserHooks {
        shared: Arc::clone(&shared),
        request_id: serde_json::Value::Null,
    };
    ws::run(&session, &shared.status.session, &mut hooks, shutdown).await;
}

/// Binance's part of the user data session: the signed subscribe, its
/// answer, the events, and the reconcile after each resubscription.
struct UserHooks {
    shared: Arc<Shared>,
    /// The id of the subscribe request in flight.
    request_id: serde_json::Value,
}

impl SessionHooks for UserHooks {
    fn subscribe(&mut self) -> Result<Option<String>, End> {
        let shared = &self.shared;
        let Some(credentials) = shared.rest.credentials() else {
            tracing::error!("the user data stream needs an API key; this client has none");
            return Err(End::Stop);
        };
        let mut params = vec![
            (
                "apiKey".to_owned(),
                credentials.api_key().expose().to_owned(),
            ),
            (
                "recvWindow".to_owned(),
                shared.config.recv_window_ms.to_string(),
            ),
            (
                "timestamp".to_owned(),
                shared.rest.server_now_ms().to_string(),
            ),
        ];
        let signature = credentials.sign(&ws_payload(&params));
        params.push(("signature".to_owned(), signature));
        let mut object = serde_json::Map::new();
        for (name, value) in params {
            let value = if name == "recvWindow" || name == "timestamp" {
                value
                    .parse::<i64>()
                    .map_or(serde_json::Value::String(value), serde_json::Value::from)
            } else {
                serde_json::Value::String(value)
            };
            object.insert(name, value);
        }
        let request_id = format!("subscribe-{}", shared.status.subscriptions());
        self.request_id = serde_json::Value::String(request_id.clone());
        let request = serde_json::json!({
            "id": request_id,
            "method": "userDataStream.subscribe.signature",
            "params": object,
        });
        Ok(Some(request.to_string()))
    }

    async fn on_ack_frame(&mut self, text: &str) -> Ack {
        match WsApiMessage::parse(text) {
            Ok(WsApiMessage::Response {
                id, status, error, ..
            }) if id == self.request_id => {
                if status == 200 {
                    return Ack::Subscribed;
                }
                let error = error.map_or_else(String::new, |e| format!("{} {}", e.code, e.msg));
                if error.starts_with("-1021") {
                    let _ = self.shared.rest.sync_time().await;
                }
                Ack::Refused(format!("subscribe refused: HTTP {status} {error}"))
            }
            Ok(WsApiMessage::Event { event, .. }) => {
                handle_event(&self.shared, &event);
                Ack::Waiting
            }
            Ok(WsApiMessage::Response { .. }) => Ack::Waiting,
            Err(error) => {
                tracing::warn!(%error, "unreadable WebSocket API message");
                Ack::Waiting
            }
        }
    }

    async fn on_subscribed(&mut self, subscription: Subscription) -> Result<(), End> {
        let shared = &self.shared;
        if subscription == Subscription::First && !shared.has_history() {
            return Ok(());
        }
        match reconcile(shared).await {
            Ok(()) => {
                shared.status.reconciles.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
            Err(error) => {
                tracing::warn!(%error, "reconcile after reconnect failed; retrying by reconnecting");
                Err(End::Reconnect(format!("reconcile failed: {error}")))
            }
        }
    }

    fn on_frame(&mut self, text: &str) -> Result<(), End> {
        match WsApiMessage::parse(text) {
            Ok(WsApiMessage::Event {
                event: UserEvent::StreamTerminated { .. },
                ..
            }) => Err(End::Reconnect("eventStreamTerminated".into())),
            Ok(WsApiMessage::Event {
                event: UserEvent::ServerShutdown { .. },
                ..
            }) => Err(End::Reconnect("serverShutdown".into())),
            Ok(WsApiMessage::Event { event, .. }) => {
                handle_event(&self.shared, &event);
                Ok(())
            }
            Ok(WsApiMessage::Response { .. }) => Ok(()),
            Err(error) => {
                tracing::warn!(%error, "unreadable user data message");
                Ok(())
            }
        }
    }
}

fn handle_event(shared: &Shared, event: &UserEvent) {
    match event {
        UserEvent::ExecutionReport(report) => {
            let mut book = shared.lock_book();
            book.on_report(&shared.ids, report);
        }
        UserEvent::AccountPosition { balances, .. } => {
            tracing::debug!(assets = balances.len(), "account position update");
            let balances = balances.iter().map(Into::into).collect();
            shared
                .lock_book()
                .events
                .push_back(ExchangeEvent::Balances(balances));
        }
        UserEvent::BalanceUpdate { asset, delta, .. } => {
            // The `outboundAccountPosition` that follows carries the new
            // balance itself.
            tracing::info!(asset, %delta, "balance update");
        }
        UserEvent::StreamTerminated { .. }
        | UserEvent::ServerShutdown { .. }
        | UserEvent::Other => {}
    }
}
