//! User data over the WebSocket API (`web-socket-api.md`, "Subscribe to
//! User Data Stream through signature subscription"; `user-data-stream.md`).
//!
//! The task connects to the WebSocket API, sends a signed
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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures_util::{SinkExt as _, StreamExt as _};
use tesser_core::ExchangeEvent;
use tesser_venue_kit::backoff;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::exchange::{Shared, reconcile};
use crate::model::{UserEvent, WsApiMessage};
use crate::sign::ws_payload;
use crate::stale::Watchdog;

/// Counters of the user data task, for monitoring and tests.
#[derive(Debug, Default)]
pub struct UserStreamStatus {
    /// Whether a subscription is active now.
    pub connected: AtomicBool,
    /// Successful subscriptions so far.
    pub subscriptions: AtomicU64,
    /// Reconciles completed after a reconnect.
    pub reconciles: AtomicU64,
    /// Connections lost or ended.
    pub disconnects: AtomicU64,
}

/// Why a connection ended.
enum End {
    Shutdown,
    Reconnect(String),
}

/// Runs the user data task until `shutdown` turns true.
pub async fn run(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let mut attempt: u32 = 0;
    let mut first = true;
    loop {
        if *shutdown.borrow() {
            return;
        }
        match session(&shared, &mut shutdown, &mut first, &mut attempt).await {
            End::Shutdown => return,
            End::Reconnect(reason) => {
                shared.status.connected.store(false, Ordering::SeqCst);
                shared.status.disconnects.fetch_add(1, Ordering::SeqCst);
                let delay = backoff(
                    attempt,
                    shared.config.reconnect_min,
                    shared.config.reconnect_max,
                );
                attempt = attempt.saturating_add(1);
                tracing::warn!(reason, ?delay, "user data stream lost; reconnecting");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
}

async fn session(
    shared: &Arc<Shared>,
    shutdown: &mut watch::Receiver<bool>,
    first: &mut bool,
    attempt: &mut u32,
) -> End {
    let url = shared.config.endpoints.ws_api_url.clone();
    let connect = tokio::time::timeout(
        shared.config.connect_timeout,
        tokio_tungstenite::connect_async(url.as_str()),
    );
    let mut socket = match connect.await {
        Ok(Ok((socket, _))) => socket,
        Ok(Err(error)) => return End::Reconnect(format!("connect failed: {error}")),
        Err(_) => return End::Reconnect("connect timed out".into()),
    };
    // Subscribe.
    let Some(credentials) = shared.rest.credentials() else {
        tracing::error!("the user data stream needs an API key; this client has none");
        return End::Shutdown;
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
    let request_id = format!(
        "subscribe-{}",
        shared.status.subscriptions.load(Ordering::SeqCst)
    );
    let request = serde_json::json!({
        "id": request_id,
        "method": "userDataStream.subscribe.signature",
        "params": object,
    });
    if let Err(error) = socket.send(Message::Text(request.to_string().into())).await {
        return End::Reconnect(format!("subscribe send failed: {error}"));
    }
    let subscribed = tokio::time::timeout(shared.config.request_timeout, async {
        while let Some(message) = socket.next().await {
            let text = match message {
                Ok(Message::Text(text)) => text,
                Ok(Message::Close(_)) | Err(_) => return Err("closed while subscribing".to_owned()),
                Ok(_) => continue,
            };
            match WsApiMessage::parse(text.as_str()) {
                Ok(WsApiMessage::Response {
                    id, status, error, ..
                }) if id == serde_json::Value::String(request_id.clone()) => {
                    if status == 200 {
                        return Ok(());
                    }
                    let error = error.map_or_else(String::new, |e| format!("{} {}", e.code, e.msg));
                    if error.starts_with("-1021") {
                        let _ = shared.rest.sync_time().await;
                    }
                    return Err(format!("subscribe refused: HTTP {status} {error}"));
                }
                Ok(WsApiMessage::Event { event, .. }) => handle_event(shared, &event),
                Ok(WsApiMessage::Response { .. }) => {}
                Err(error) => tracing::warn!(%error, "unreadable WebSocket API message"),
            }
        }
        Err("closed while subscribing".to_owned())
    })
    .await;
    match subscribed {
        Ok(Ok(())) => {}
        Ok(Err(reason)) => return End::Reconnect(reason),
        Err(_) => return End::Reconnect("subscribe timed out".into()),
    }
    shared.status.connected.store(true, Ordering::SeqCst);
    shared.status.subscriptions.fetch_add(1, Ordering::SeqCst);
    *attempt = 0;
    tracing::info!("user data stream subscribed");
    if !*first || shared.has_history() {
        match reconcile(shared).await {
            Ok(()) => {
                shared.status.reconciles.fetch_add(1, Ordering::SeqCst);
            }
            Err(error) => {
                tracing::warn!(%error, "reconcile after reconnect failed; retrying by reconnecting");
                return End::Reconnect(format!("reconcile failed: {error}"));
            }
        }
    }
    *first = false;
    let planned = tokio::time::sleep(shared.config.user_reconnect_after);
    tokio::pin!(planned);
    let mut watchdog = Watchdog::new(shared.config.stale_after);
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                let _ = socket.close(None).await;
                return End::Shutdown;
            }
            () = &mut planned => {
                let _ = socket.close(None).await;
                return End::Reconnect("planned reconnect".into());
            }
            () = watchdog.expired() => {
                // Half-open: a close would wait on a peer that is gone.
                return End::Reconnect(watchdog.reason());
            }
            message = socket.next() => {
                if matches!(message, Some(Ok(_))) {
                    watchdog.saw_frame();
                }
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => return End::Reconnect("connection closed".into()),
                    Some(Err(error)) => return End::Reconnect(format!("connection error: {error}")),
                    Some(Ok(_)) => continue,
                };
                match WsApiMessage::parse(text.as_str()) {
                    Ok(WsApiMessage::Event { event: UserEvent::StreamTerminated { .. }, .. }) => {
                        return End::Reconnect("eventStreamTerminated".into());
                    }
                    Ok(WsApiMessage::Event { event: UserEvent::ServerShutdown { .. }, .. }) => {
                        return End::Reconnect("serverShutdown".into());
                    }
                    Ok(WsApiMessage::Event { event, .. }) => handle_event(shared, &event),
                    Ok(WsApiMessage::Response { .. }) => {}
                    Err(error) => tracing::warn!(%error, "unreadable user data message"),
                }
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
