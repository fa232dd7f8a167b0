//! A WebSocket session that stays up: connect, subscribe, read, and on any
//! drop reconnect and subscribe again.
//!
//! [`run`] owns the generic part of a venue's streaming task:
//!
//! * connect with a timeout (tungstenite answers the venue's pings);
//! * send the venue's subscribe frame, if any, and wait (with a timeout) for
//!   the frame the venue acknowledges it with;
//! * after each subscription, let the venue catch up (reconcile what the gap
//!   may have hidden);
//! * hand every text frame to the venue, which may ask for a reconnect (a
//!   server announcing its shutdown, a subscription the venue ended);
//! * treat a connection silent for `stale_after` (no data, ping or pong) as
//!   dropped ([`Watchdog`]), and reconnect on purpose after `reconnect_after`
//!   (venues close connections at a fixed age);
//! * pause between attempts with [`backoff()`] (none after a planned
//!   reconnect);
//! * stop when the `watch` shutdown signal turns true or its sender is gone;
//! * count subscriptions and disconnects in a [`SessionStatus`].
//!
//! What is the venue's comes in through [`SessionHooks`].

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::backoff::backoff;
use crate::stale::Watchdog;

/// Where to connect and the session's timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    name: String,
    url: String,
    connect_timeout: Duration,
    subscribe_timeout: Duration,
    stale_after: Duration,
    reconnect_after: Duration,
    backoff_min: Duration,
    backoff_max: Duration,
}

impl SessionConfig {
    /// A session named `name` (for the log) on `url`, with defaults: 10 s
    /// to connect and to subscribe, stale after 60 s of silence, a planned
    /// reconnect after 23 hours, pauses of 100 ms doubling up to 30 s.
    #[must_use]
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
            connect_timeout: Duration::from_secs(10),
            subscribe_timeout: Duration::from_secs(10),
            stale_after: Duration::from_secs(60),
            reconnect_after: Duration::from_secs(23 * 3600),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
        }
    }

    /// How long a connect may take.
    #[must_use]
    pub const fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long the venue may take to acknowledge the subscribe frame.
    #[must_use]
    pub const fn subscribe_timeout(mut self, timeout: Duration) -> Self {
        self.subscribe_timeout = timeout;
        self
    }

    /// How long a connection may go without any frame before it counts as
    /// dropped.
    #[must_use]
    pub const fn stale_after(mut self, after: Duration) -> Self {
        self.stale_after = after;
        self
    }

    /// How long after subscribing to reconnect on purpose.
    #[must_use]
    pub const fn reconnect_after(mut self, after: Duration) -> Self {
        self.reconnect_after = after;
        self
    }

    /// The pauses between attempts: from `min`, doubling up to `max`,
    /// jittered ([`backoff()`]).
    #[must_use]
    pub const fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min;
        self.backoff_max = max;
        self
    }

    /// The session's name, for the log.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A session's counters, for monitoring and tests.
#[derive(Debug, Default)]
pub struct SessionStatus {
    connected: AtomicBool,
    subscriptions: AtomicU64,
    disconnects: AtomicU64,
}

impl SessionStatus {
    /// Whether a subscription is live now.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// Subscriptions so far.
    #[must_use]
    pub fn subscriptions(&self) -> u64 {
        self.subscriptions.load(Ordering::SeqCst)
    }

    /// Connections lost, ended or failed so far.
    #[must_use]
    pub fn disconnects(&self) -> u64 {
        self.disconnects.load(Ordering::SeqCst)
    }
}

/// Why a connection ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Stop the session for good (shutdown, nobody listening, no keys).
    Stop,
    /// Reconnect after a pause; the reason is logged.
    Reconnect(String),
}

/// What a frame received while subscribing says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack {
    /// Not the answer (an event, another response): keep waiting.
    Waiting,
    /// The venue took the subscription.
    Subscribed,
    /// The venue refused it: reconnect (the reason is logged).
    Refused(String),
}

/// Which subscription of the session [`SessionHooks::on_subscribed`] follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription {
    /// The session's first.
    First,
    /// One after a reconnect: a gap may have hidden events.
    Again,
}

/// The venue's part of a session.
///
/// ```no_run
/// use tesser_venue_kit::ws::{self, Ack, End, SessionConfig, SessionHooks, SessionStatus, Subscription};
///
/// /// A venue that subscribes with a frame, acknowledges with `{"ok":true}`
/// /// and announces maintenance with `{"event":"maintenance"}`.
/// struct Trades {
///     prints: Vec<String>,
/// }
///
/// impl SessionHooks for Trades {
///     fn subscribe(&mut self) -> Result<Option<String>, End> {
///         Ok(Some(r#"{"op":"subscribe","args":["trades.BTCUSDT"]}"#.to_owned()))
///     }
///     async fn on_ack_frame(&mut self, text: &str) -> Ack {
///         if text.contains(r#""ok":true"#) { Ack::Subscribed } else { Ack::Waiting }
///     }
///     async fn on_subscribed(&mut self, subscription: Subscription) -> Result<(), End> {
///         if subscription == Subscription::Again {
///             // Catch up on what the gap may have hidden (a REST read).
///         }
///         Ok(())
///     }
///     fn on_frame(&mut self, text: &str) -> Result<(), End> {
///         if text.contains(r#""event":"maintenance""#) {
///             return Err(End::Reconnect("maintenance".into()));
///         }
///         self.prints.push(text.to_owned());
///         Ok(())
///     }
/// }
///
/// # async fn example() {
/// let (stop, shutdown) = tokio::sync::watch::channel(false);
/// let config = SessionConfig::new("trades", "wss://stream.example.invalid/ws");
/// let status = SessionStatus::default();
/// let mut hooks = Trades { prints: Vec::new() };
/// // Runs until `stop.send(true)` (or `stop` is dropped).
/// ws::run(&config, &status, &mut hooks, shutdown).await;
/// # drop(stop);
/// # }
/// ```
pub trait SessionHooks: Send {
    /// The frame to send once connected (a subscribe request), or `None`
    /// when connecting is subscribing (streams named in the URL).
    ///
    /// # Errors
    /// An [`End`] when the session cannot subscribe.
    fn subscribe(&mut self) -> Result<Option<String>, End>;

    /// A text frame received while the subscribe frame is unanswered.
    fn on_ack_frame(&mut self, text: &str) -> impl Future<Output = Ack> + Send;

    /// Called after each subscription, before frames are read: catch up on
    /// what a gap may have hidden.
    ///
    /// # Errors
    /// An [`End`] to drop the connection (for instance a failed catch-up,
    /// retried by reconnecting).
    fn on_subscribed(
        &mut self,
        subscription: Subscription,
    ) -> impl Future<Output = Result<(), End>> + Send;

    /// A text frame of the subscription.
    ///
    /// # Errors
    /// An [`End`] when the frame ends the connection (the server shuts down,
    /// the venue ended the subscription) or nobody listens any more.
    fn on_frame(&mut self, text: &str) -> Result<(), End>;

    /// Whether nobody listens any more, so the session should stop rather
    /// than reconnect.
    fn finished(&self) -> bool {
        false
    }
}

/// How a connection ended, inside [`run`].
enum Ended {
    Stop,
    Lost(String),
    Planned,
}

impl From<End> for Ended {
    fn from(end: End) -> Self {
        match end {
            End::Stop => Self::Stop,
            End::Reconnect(reason) => Self::Lost(reason),
        }
    }
}

/// Runs the session until `shutdown` turns true (or its sender is dropped)
/// or a hook says [`End::Stop`].
pub async fn run<H: SessionHooks>(
    config: &SessionConfig,
    status: &SessionStatus,
    hooks: &mut H,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut attempt: u32 = 0;
    let mut subscription = Subscription::First;
    loop {
        if *shutdown.borrow() || hooks.finished() {
            return;
        }
        let ended = connection(
            config,
            status,
            hooks,
            &mut shutdown,
            &mut subscription,
            &mut attempt,
        )
        .await;
        let (reason, delay) = match ended {
            Ended::Stop => return,
            Ended::Lost(reason) => (
                reason,
                backoff(attempt, config.backoff_min, config.backoff_max),
            ),
            Ended::Planned => ("planned reconnect".to_owned(), Duration::ZERO),
        };
        status.connected.store(false, Ordering::SeqCst);
        status.disconnects.fetch_add(1, Ordering::SeqCst);
        attempt = attempt.saturating_add(1);
        tracing::warn!(
            stream = config.name,
            reason,
            ?delay,
            "stream lost; reconnecting"
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return,
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One connection, from connect to its end.
async fn connection<H: SessionHooks>(
    config: &SessionConfig,
    status: &SessionStatus,
    hooks: &mut H,
    shutdown: &mut watch::Receiver<bool>,
    subscription: &mut Subscription,
    attempt: &mut u32,
) -> Ended {
    let connect = tokio::time::timeout(
        config.connect_timeout,
        tokio_tungstenite::connect_async(config.url.as_str()),
    );
    let mut socket = match connect.await {
        Ok(Ok((socket, _))) => socket,
        Ok(Err(error)) => return Ended::Lost(format!("connect failed: {error}")),
        Err(_) => return Ended::Lost("connect timed out".into()),
    };
    if let Err(end) = subscribe(config, hooks, &mut socket).await {
        return end.into();
    }
    status.connected.store(true, Ordering::SeqCst);
    status.subscriptions.fetch_add(1, Ordering::SeqCst);
    *attempt = 0;
    tracing::info!(stream = config.name, "subscribed");
    if let Err(end) = hooks.on_subscribed(*subscription).await {
        return end.into();
    }
    *subscription = Subscription::Again;
    let planned = tokio::time::sleep(config.reconnect_after);
    tokio::pin!(planned);
    let mut watchdog = Watchdog::new(config.stale_after);
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                let _ = socket.close(None).await;
                return Ended::Stop;
            }
            () = &mut planned => {
                let _ = socket.close(None).await;
                return Ended::Planned;
            }
            // Half-open: a close would wait on a peer that is gone.
            () = watchdog.expired() => return Ended::Lost(watchdog.reason()),
            message = socket.next() => {
                if matches!(message, Some(Ok(_))) {
                    watchdog.saw_frame();
                }
                match message {
                    Some(Ok(Message::Text(text))) => {
                        if let Err(end) = hooks.on_frame(text.as_str()) {
                            if end == End::Stop {
                                let _ = socket.close(None).await;
                            }
                            return end.into();
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => {
                        return Ended::Lost("connection closed".into());
                    }
                    Some(Err(error)) => return Ended::Lost(format!("connection error: {error}")),
                    // Pings, pongs and binary frames show the connection lives.
                    Some(Ok(_)) => {}
                }
            }
        }
    }
}

/// Sends the hooks' subscribe frame and waits for its acknowledgement.
async fn subscribe<H: SessionHooks>(
    config: &SessionConfig,
    hooks: &mut H,
    socket: &mut Socket,
) -> Result<(), End> {
    let Some(request) = hooks.subscribe()? else {
        return Ok(());
    };
    if let Err(error) = socket.send(Message::Text(request.into())).await {
        return Err(End::Reconnect(format!("subscribe send failed: {error}")));
    }
    let acknowledged = tokio::time::timeout(config.subscribe_timeout, async {
        while let Some(message) = socket.next().await {
            let text = match message {
                Ok(Message::Text(text)) => text,
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            match hooks.on_ack_frame(text.as_str()).await {
                Ack::Waiting => {}
                Ack::Subscribed => return Ok(()),
                Ack::Refused(reason) => return Err(End::Reconnect(reason)),
            }
        }
        Err(End::Reconnect("closed while subscribing".to_owned()))
    })
    .await;
    acknowledged.unwrap_or_else(|_| Err(End::Reconnect("subscribe timed out".into())))
}

#[cfg(test)]
mod tests;
