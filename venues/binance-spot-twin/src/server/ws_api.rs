//! The WebSocket API (`web-socket-api.md`): `ping`, `time` and user data
//! subscriptions.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::engine::ApiError;
use crate::lock;

use super::{Signal, State, UserConn, half_open};

pub(super) async fn ws_api_handler(
    AxumState(state): AxumState<Arc<State>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if state.lock_faults().refuse_user_connections {
        return (StatusCode::SERVICE_UNAVAILABLE, "").into_response();
    }
    upgrade.on_upgrade(move |socket| ws_api_conn(state, socket))
}

async fn ws_api_conn(state: Arc<State>, socket: WebSocket) {
    let id = state.next_conn.fetch_add(1, Ordering::SeqCst);
    let (sender, mut receiver) = mpsc::unbounded_channel::<String>();
    lock(&state.users).push(UserConn {
        id,
        sender: sender.clone(),
        subscription: None,
    });
    let mut kill = state.kill.subscribe();
    let (mut sink, mut stream) = socket.split();
    let every = state.ping_interval();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            // The kill channel first: a signal sent before a message is
            // acted on before that message goes out (a drop or silence
            // switch then a print is deterministic).
            biased;
            signal = kill.recv() => match Signal::of(signal, "ws-api") {
                Signal::Drop => break,
                Signal::Silence => {
                    half_open(&mut kill, &mut receiver, "ws-api").await;
                    break;
                }
                Signal::Ignore => {}
            },
            _ = ping.tick() => {
                if sink.send(Message::Ping(Bytes::new())).await.is_err() { break; }
            }
            outgoing = receiver.recv() => {
                let Some(text) = outgoing else { break };
                if sink.send(Message::Text(text.into())).await.is_err() { break; }
            }
            incoming = stream.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text.to_string(),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let answer = ws_api_request(&state, id, &text);
                let _ = sender.send(answer.to_string());
            }
        }
    }
    lock(&state.users).retain(|conn| conn.id != id);
}

fn ws_api_request(state: &State, conn: u64, text: &str) -> Value {
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return json!({"id": null, "status": 400, "error": {"code": -1135, "msg": "Invalid JSON Request"}});
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut params: Vec<(String, String)> = Vec::new();
    if let Some(Value::Object(map)) = request.get("params") {
        for (key, value) in map {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            params.push((key.clone(), text));
        }
    }
    let index = state.record("ws-api", &method, "/ws-api/v3", params.clone(), None);
    let fail = |error: ApiError| json!({"id": id, "status": error.status, "error": {"code": error.code, "msg": error.msg}});
    let rate_limits = || json!([{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000, "count": 1}]);
    let answer = if method == "ping" {
        json!({"id": id, "status": 200, "result": {}, "rateLimits": rate_limits()})
    } else if method == "time" {
        json!({"id": id, "status": 200, "result": {"serverTime": state.now_ms()}, "rateLimits": rate_limits()})
    } else if method == "userDataStream.subscribe.signature" {
        let map: HashMap<String, String> = params.iter().cloned().collect();
        let mut sorted: Vec<&(String, String)> =
            params.iter().filter(|(k, _)| k != "signature").collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let payload = sorted
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let verified = state
            .verify(
                map.get("apiKey").map(String::as_str),
                &payload,
                map.get("signature").map(String::as_str),
            )
            .and_then(|()| state.check_time(&map));
        match verified {
            Err(error) => fail(error),
            Ok(()) => {
                let mut users = lock(&state.users);
                match users.iter_mut().find(|c| c.id == conn) {
                    Some(user) if user.subscription.is_some() => fail(ApiError::bad(
                        -2035,
                        "User Data Stream subscription already active.",
                    )),
                    Some(user) => {
                        let subscription = state.next_subscription.fetch_add(1, Ordering::SeqCst);
                        user.subscription = Some(subscription);
                        json!({"id": id, "status": 200, "result": {"subscriptionId": subscription}})
                    }
                    None => fail(ApiError::bad(
                        -1000,
                        "An unknown error occurred while processing the request.",
                    )),
                }
            }
        }
    } else {
        fail(ApiError::bad(-1020, "This operation is not supported."))
    };
    state.set_status(
        index,
        u16::try_from(answer["status"].as_u64().unwrap_or(0)).unwrap_or(0),
    );
    answer
}
