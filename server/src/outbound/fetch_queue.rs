//! A fair, bounded line for outbound key fetches. Turns are given at most
//! `per_second` a second (with a burst of as many), and when callers have to
//! wait, turns go round-robin across their client networks: a flood from one
//! network costs a caller from another one turn per round, and a genuine
//! caller from the flooding network itself waits behind that network's own
//! few waiters instead of being refused. A caller waits at most `max_wait`;
//! a network may have `PER_NETWORK` callers waiting and the line `MAX_WAITING`
//! in all. Past any of these the caller is told the line is busy, having
//! cost nothing.

use std::{
    collections::{HashMap, VecDeque},
    net::IpAddr,
    num::NonZeroU32,
    sync::Mutex,
    time::Duration,
};

use tokio::{sync::oneshot, time::Instant};

/// Callers one network may have waiting at once.
const PER_NETWORK: usize = 64;
/// Callers waiting at once, across networks.
const MAX_WAITING: usize = 1024;

/// The line is full, or the caller's wait ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Busy;

/// Who waits: a client network, or callers without an address (one network together).
type Network = Option<IpAddr>;

pub(crate) struct FetchQueue {
    per_second: f64,
    max_wait: Duration,
    line: Mutex<Line>,
}

struct Line {
    tokens: f64,
    refilled: Instant,
    /// Networks with waiters, in the order of their next turn.
    order: VecDeque<Network>,
    waiting: HashMap<Network, VecDeque<oneshot::Sender<()>>>,
}

impl FetchQueue {
    pub(crate) fn new(per_second: NonZeroU32, max_wait: Duration) -> Self {
        let per_second = f64::from(per_second.get());
        let line =
            Line { tokens: per_second, refilled: Instant::now(), order: VecDeque::new(), waiting: HashMap::new() };
        Self { per_second, max_wait, line: Mutex::new(line) }
    }

    /// Waits for `network`'s turn to fetch.
    pub(crate) async fn turn(&self, network: Network) -> Result<(), Busy> {
        let deadline = Instant::now() + self.max_wait;
        let mut granted = match self.join(network)? {
            None => return Ok(()),
            Some(receiver) => receiver,
        };
        loop {
            let next_token = self.hand_out();
            tokio::select! {
                // A grant that arrives as the wait runs out is taken: its token is spent.
                biased;
                answer = &mut granted => return answer.map_err(|_| Busy),
                _ = tokio::time::sleep_until(deadline.min(Instant::now() + next_token)) => {
                    if Instant::now() >= deadline {
                        return Err(Busy);
                    }
                }
            }
        }
    }

    /// A token at once (None) when nobody waits, or a place in the line.
    fn join(&self, network: Network) -> Result<Option<oneshot::Receiver<()>>, Busy> {
        let mut line = self.line.lock().map_err(|_| Busy)?;
        line.refill(self.per_second);
        if line.order.is_empty() && line.tokens >= 1.0 {
            line.tokens -= 1.0;
            return Ok(None);
        }
        for queue in line.waiting.values_mut() {
            queue.retain(|sender| !sender.is_closed());
        }
        let total: usize = line.waiting.values().map(VecDeque::len).sum();
        let mine = line.waiting.get(&network).map_or(0, VecDeque::len);
        if mine >= PER_NETWORK || total >= MAX_WAITING {
            return Err(Busy);
        }
        let (sender, receiver) = oneshot::channel();
        line.waiting.entry(network).or_default().push_back(sender);
        if !line.order.contains(&network) {
            line.order.push_back(network);
        }
        Ok(Some(receiver))
    }

    /// Gives the tokens there are to waiters, one network after another;
    /// returns how long until the next token.
    fn hand_out(&self) -> Duration {
        let Ok(mut line) = self.line.lock() else { return Duration::from_millis(50) };
        line.refill(self.per_second);
        while line.tokens >= 1.0 {
            let Some(network) = line.order.pop_front() else { break };
            let Some(queue) = line.waiting.get_mut(&network) else { continue };
            // A waiter that gave up has dropped its receiver: its place costs no token.
            while let Some(sender) = queue.pop_front() {
                if sender.send(()).is_ok() {
                    line.tokens -= 1.0;
                    break;
                }
            }
            if line.waiting.get(&network).is_some_and(|queue| !queue.is_empty()) {
                line.order.push_back(network);
            } else {
                line.waiting.remove(&network);
            }
        }
        Duration::from_secs_f64(((1.0 - line.tokens) / self.per_second).max(0.001))
    }
}

impl Line {
    fn refill(&mut self, per_second: f64) {
        let now = Instant::now();
        let earned = (now - self.refilled).as_secs_f64() * per_second;
        self.tokens = (self.tokens + earned).min(per_second);
        self.refilled = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(last: u8) -> Network {
        Some(IpAddr::from([203, 0, 113, last]))
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_served_at_once_then_at_the_rate() {
        let queue = FetchQueue::new(NonZeroU32::new(10).unwrap(), Duration::from_secs(5));
        let started = Instant::now();
        for _ in 0..15 {
            queue.turn(net(1)).await.unwrap();
        }
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(450) && took < Duration::from_millis(700), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_flooding_network_costs_another_one_turn_per_round() {
        let queue = std::sync::Arc::new(FetchQueue::new(NonZeroU32::new(10).unwrap(), Duration::from_secs(30)));
        for _ in 0..10 {
            queue.turn(net(1)).await.unwrap();
        }
        let flood: Vec<_> = (0..40)
            .map(|_| {
                let queue = queue.clone();
                tokio::spawn(async move { queue.turn(net(1)).await })
            })
            .collect();
        tokio::task::yield_now().await;
        let started = Instant::now();
        queue.turn(net(2)).await.unwrap();
        let waited = started.elapsed();
        assert!(waited <= Duration::from_millis(250), "the other network waited {waited:?} behind 40");
        for waiter in flood {
            assert_eq!(waiter.await.unwrap(), Ok(()));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_line_or_a_long_wait_is_busy() {
        let queue = std::sync::Arc::new(FetchQueue::new(NonZeroU32::new(1).unwrap(), Duration::from_secs(2)));
        queue.turn(net(1)).await.unwrap();
        let waiters: Vec<_> = (0..PER_NETWORK)
            .map(|_| {
                let queue = queue.clone();
                tokio::spawn(async move { queue.turn(net(1)).await })
            })
            .collect();
        tokio::task::yield_now().await;
        assert_eq!(queue.turn(net(1)).await, Err(Busy), "the network's places are taken");
        let answers: Vec<_> = futures::future::join_all(waiters).await.into_iter().map(|a| a.unwrap()).collect();
        let served = answers.iter().filter(|a| a.is_ok()).count();
        assert!((1..=3).contains(&served), "one a second for the two seconds of the wait: {served}");
        assert_eq!(answers.len() - served, PER_NETWORK - served, "the rest gave up, busy");
    }
}
