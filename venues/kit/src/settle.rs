//! Settling a request whose outcome is unknown.
//!
//! A timeout, a 5xx or an unreadable answer to an order request means the
//! venue may have acted. The connector answers the runtime "outcome
//! unknown" and asks the venue in the background until it knows: it looks
//! the order up, again and again with a growing pause, until the lookup
//! settles the question, the [`SettlePolicy`] gives up, or shutdown comes.
//! What a lookup is and what settles it are the venue's: it passes them in
//! as a closure answering [`Attempt`].

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// How long to keep asking and how to pace the questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettlePolicy {
    first_pause: Duration,
    longest_pause: Duration,
    give_up_after: Duration,
}

impl SettlePolicy {
    /// Pauses from 100 ms, doubling up to 2 s; gives up once `give_up_after`
    /// has passed (the attempt under way when it passes is the last).
    #[must_use]
    pub const fn new(give_up_after: Duration) -> Self {
        Self {
            first_pause: Duration::from_millis(100),
            longest_pause: Duration::from_secs(2),
            give_up_after,
        }
    }

    /// The same with other pauses: `first`, doubling up to `longest`.
    #[must_use]
    pub const fn with_pauses(self, first: Duration, longest: Duration) -> Self {
        Self {
            first_pause: first,
            longest_pause: longest,
            ..self
        }
    }
}

/// What one lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt<T> {
    /// The question is settled.
    Settled(T),
    /// Not yet (the venue does not know the order yet, or the lookup
    /// failed): ask again after a pause.
    Again,
}

/// How settling ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled<T> {
    /// A lookup settled it.
    Done(T),
    /// [`SettlePolicy`]'s time passed first; the connector's own lookups
    /// must answer later.
    GaveUp,
    /// Shutdown came first.
    Shutdown,
}

/// Calls `attempt` until it settles, pausing between calls as `policy`
/// says; stops when `shutdown` turns true (or its sender is gone), if given.
///
/// ```
/// use std::time::Duration;
/// use tesser_venue_kit::settle::{Attempt, SettlePolicy, Settled, settle};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let mut asked = 0;
/// let policy = SettlePolicy::new(Duration::from_secs(30));
/// let outcome = settle(&policy, None, || {
///     asked += 1;
///     let answer = if asked < 3 { Attempt::Again } else { Attempt::Settled(asked) };
///     async move { answer }
/// })
/// .await;
/// assert_eq!(outcome, Settled::Done(3));
/// # }
/// ```
pub async fn settle<T, F, Fut>(
    policy: &SettlePolicy,
    mut shutdown: Option<&mut watch::Receiver<bool>>,
    mut attempt: F,
) -> Settled<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let give_up = tokio::time::Instant::now() + policy.give_up_after;
    let mut pause = policy.first_pause;
    loop {
        if shutdown.as_deref().is_some_and(|watch| *watch.borrow()) {
            return Settled::Shutdown;
        }
        if let Attempt::Settled(value) = attempt().await {
            return Settled::Done(value);
        }
        if tokio::time::Instant::now() > give_up {
            return Settled::GaveUp;
        }
        match shutdown.as_deref_mut() {
            Some(watch) => tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = watch.changed() => return Settled::Shutdown,
            },
            None => tokio::time::sleep(pause).await,
        }
        pause = (pause * 2).min(policy.longest_pause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pauses_double_up_to_the_longest_then_it_gives_up() {
        let start = tokio::time::Instant::now();
        let mut at = Vec::new();
        let policy = SettlePolicy::new(Duration::from_secs(5));
        let outcome: Settled<()> = settle(&policy, None, || {
            at.push(start.elapsed().as_millis());
            async { Attempt::Again }
        })
        .await;
        assert_eq!(outcome, Settled::GaveUp);
        assert_eq!(at, [0, 100, 300, 700, 1500, 3100, 5100]);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_stops_a_pause() {
        let (stop, mut watch) = watch::channel(false);
        let policy = SettlePolicy::new(Duration::from_secs(60))
            .with_pauses(Duration::from_secs(1), Duration::from_secs(1));
        let task = tokio::spawn(async move {
            settle(&policy, Some(&mut watch), || async { Attempt::<()>::Again }).await
        });
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        stop.send(true).unwrap();
        assert_eq!(task.await.unwrap(), Settled::Shutdown);
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_settles_at_once() {
        let policy = SettlePolicy::new(Duration::ZERO);
        let outcome = settle(&policy, None, || async { Attempt::Settled(7) }).await;
        assert_eq!(outcome, Settled::Done(7));
    }
}
