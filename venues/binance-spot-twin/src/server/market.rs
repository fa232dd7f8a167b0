//! The market streams (`web-socket-streams.md`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State as AxumState};
use axum::response::Response;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::lock;

use super::{MarketConn, Signal, State, half_open, parse_pairs};

pub(super) async fn market_handler(
    AxumState(state): AxumState<Arc<State>>,
    RawQuery(query): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let pairs = parse_pairs(&query.unwrap_or_default());
    state.record("market", "GET", "/stream", pairs.clone(), None);
    let streams: Vec<String> = pairs
        .iter()
        .find(|(k, _)| k == "streams")
        .map(|(_, v)| v.split('/').map(str::to_owned).collect())
        .unwrap_or_default();
    upgrade.on_upgrade(move |socket| market_conn(state, socket, streams))
}

async fn market_conn(state: Arc<State>, socket: WebSocket, streams: Vec<String>) {
    let (sender, mut receiver) = mpsc::unbounded_channel::<String>();
    lock(&state.markets).push(MarketConn {
        sender: sender.clone(),
        streams,
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
            signal = kill.recv() => match Signal::of(signal, "market") {
                Signal::Drop => break,
                Signal::Silence => {
                    half_open(&mut kill, &mut receiver, "market").await;
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
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    // SUBSCRIBE / UNSUBSCRIBE answer `{"result":null,"id":..}`.
                    let id = serde_json::from_str::<Value>(text.as_str()).ok().and_then(|v| v.get("id").cloned()).unwrap_or(Value::Null);
                    let _ = sender.send(json!({"result": null, "id": id}).to_string());
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
    lock(&state.markets).retain(|conn| !conn.sender.same_channel(&sender));
}
