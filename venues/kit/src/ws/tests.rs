//! The session runner against a local WebSocket server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::*;

/// Subscribes with `sub`, takes `ack` as the answer, records frames, and
/// asks for a reconnect on `bye`.
struct Recorder {
    frames: Arc<std::sync::Mutex<Vec<String>>>,
    subscribed: Vec<Subscription>,
}

impl SessionHooks for Recorder {
    fn subscribe(&mut self) -> Result<Option<String>, End> {
        Ok(Some("sub".to_owned()))
    }

    async fn on_ack_frame(&mut self, text: &str) -> Ack {
        match text {
            "ack" => Ack::Subscribed,
            "no" => Ack::Refused("refused".into()),
            _ => Ack::Waiting,
        }
    }

    async fn on_subscribed(&mut self, subscription: Subscription) -> Result<(), End> {
        self.subscribed.push(subscription);
        Ok(())
    }

    fn on_frame(&mut self, text: &str) -> Result<(), End> {
        if text == "bye" {
            return Err(End::Reconnect("bye".into()));
        }
        self.frames
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(text.to_owned());
        Ok(())
    }
}

/// A server whose `n`-th connection (0-based) runs `script(n)`: frames to
/// send after the subscribe frame arrives, then either close or go silent.
async fn server(script: fn(usize) -> (Vec<&'static str>, Silence)) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                let Some(Ok(Message::Text(first))) = socket.next().await else {
                    return;
                };
                assert_eq!(first.as_str(), "sub");
                let (frames, silence) = script(n);
                for frame in frames {
                    if socket.send(Message::Text(frame.into())).await.is_err() {
                        return;
                    }
                }
                match silence {
                    Silence::Close => {
                        let _ = socket.close(None).await;
                    }
                    Silence::Hold => {
                        // Silent, neither closing nor answering: half-open.
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                }
            });
        }
    });
    (url, accepted)
}

#[derive(Clone, Copy)]
enum Silence {
    Close,
    Hold,
}

fn config(url: &str) -> SessionConfig {
    SessionConfig::new("test", url)
        .connect_timeout(Duration::from_secs(2))
        .subscribe_timeout(Duration::from_secs(2))
        .stale_after(Duration::from_millis(300))
        .backoff(Duration::from_millis(10), Duration::from_millis(20))
}

async fn wait_for(what: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !what() {
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn reconnects_and_resubscribes_after_a_reconnect_frame_a_refusal_and_a_silence() {
    // 0: subscribed, a frame, then `bye`; 1: refused; 2: subscribed, a
    // frame, then silent (stale); 3: subscribed and kept.
    let (url, accepted) = server(|n| match n {
        0 => (vec!["event", "ack", "one", "bye"], Silence::Hold),
        1 => (vec!["no"], Silence::Hold),
        2 => (vec!["ack", "two"], Silence::Hold),
        _ => (vec!["ack", "three"], Silence::Hold),
    })
    .await;
    let frames = Arc::new(std::sync::Mutex::new(Vec::new()));
    let status = Arc::new(SessionStatus::default());
    let (stop, shutdown) = watch::channel(false);
    let task_status = Arc::clone(&status);
    let task_frames = Arc::clone(&frames);
    let task = tokio::spawn(async move {
        let mut hooks = Recorder {
            frames: task_frames,
            subscribed: Vec::new(),
        };
        run(&config(&url), &task_status, &mut hooks, shutdown).await;
        hooks.subscribed
    });
    wait_for(|| {
        status.subscriptions() == 3 && status.is_connected() && frames.lock().unwrap().len() == 3
    })
    .await;
    assert_eq!(status.disconnects(), 3, "bye, the refusal, the silence");
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
    stop.send(true).unwrap();
    let subscribed = task.await.unwrap();
    assert_eq!(
        subscribed,
        [
            Subscription::First,
            Subscription::Again,
            Subscription::Again
        ]
    );
    let frames = frames.lock().unwrap().clone();
    assert_eq!(frames, ["one", "two", "three"]);
}

#[tokio::test]
async fn a_planned_reconnect_and_a_closed_connection_reconnect() {
    let (url, accepted) = server(|n| match n {
        0 => (vec!["ack"], Silence::Close),
        _ => (vec!["ack"], Silence::Hold),
    })
    .await;
    let status = Arc::new(SessionStatus::default());
    let (stop, shutdown) = watch::channel(false);
    let task_status = Arc::clone(&status);
    let config = config(&url)
        .stale_after(Duration::from_secs(60))
        .reconnect_after(Duration::from_millis(200));
    let task = tokio::spawn(async move {
        let mut hooks = Recorder {
            frames: Arc::default(),
            subscribed: Vec::new(),
        };
        run(&config, &task_status, &mut hooks, shutdown).await;
    });
    wait_for(|| status.subscriptions() >= 3).await;
    assert!(accepted.load(Ordering::SeqCst) >= 3);
    drop(stop);
    task.await.unwrap();
}

/// Streams named in the URL: no subscribe frame; stop from a frame.
struct Silent;

impl SessionHooks for Silent {
    fn subscribe(&mut self) -> Result<Option<String>, End> {
        Err(End::Stop)
    }

    async fn on_ack_frame(&mut self, _: &str) -> Ack {
        Ack::Waiting
    }

    async fn on_subscribed(&mut self, _: Subscription) -> Result<(), End> {
        Ok(())
    }

    fn on_frame(&mut self, _: &str) -> Result<(), End> {
        Ok(())
    }
}

#[tokio::test]
async fn a_hook_that_stops_ends_the_session_and_a_dead_url_is_retried() {
    let (url, _) = server(|_| (vec![], Silence::Close)).await;
    let status = SessionStatus::default();
    let (_stop, shutdown) = watch::channel(false);
    run(&config(&url), &status, &mut Silent, shutdown).await;
    assert_eq!((status.subscriptions(), status.disconnects()), (0, 0));
    // Nothing listens on the port of a dropped listener: connects fail and
    // are retried until shutdown.
    let dead = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("ws://{}", listener.local_addr().unwrap())
    };
    let status = Arc::new(SessionStatus::default());
    let (stop, shutdown) = watch::channel(false);
    let task_status = Arc::clone(&status);
    let task =
        tokio::spawn(async move { run(&config(&dead), &task_status, &mut Silent, shutdown).await });
    wait_for(|| status.disconnects() >= 2).await;
    stop.send(true).unwrap();
    task.await.unwrap();
    assert!(!status.is_connected());
}
