//! Atlassian's public install keys, fetched by `kid` from the configured key
//! servers in fallback order and cached. Keys rotate with a new `kid`, so a
//! fetched key never changes; unknown kids are cached as missing for a while
//! (threats L-07, L-09, L-10, R-06). Every lookup of a new kid waits its turn
//! in a fair line (`fetch_queue`): at most `KEY_FETCHES_PER_SECOND` turns a
//! second, each asking the key servers in fallback order (so at most that
//! many requests a second per key server), round-robin across client
//! networks. A flood of made-up kids neither turns the app into a request
//! amplifier nor makes a genuine install with a new kid fail while the flood
//! stays within the line: the install waits behind its own network's few
//! waiters, even when it shares the flood's address (Atlassian's egress is
//! shared). A flood past the line's places gets 503 at once, and so may a
//! genuine install among it (Atlassian retries it). Fetches of
//! different kids run side by side (a few at a time); installs with the same
//! kid share one fetch (threat F-10).

use std::{
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use jsonwebtoken::DecodingKey;
use moka::sync::Cache;
use url::Url;

use super::capped_body::read_capped;
use super::fetch_queue::FetchQueue;
use crate::connect::kid::is_valid_kid;

const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A PEM public key is well under 1 KB; anything past this is not one.
const MAX_KEY_BYTES: usize = 16 * 1024;
/// Atlassian publishes a handful of keys; found keys are never pushed out by misses.
const MAX_FOUND: u64 = 64;
/// Past this many, a miss may go uncached (the line still bounds fetches).
const MAX_MISSING: u64 = 1024;
const MISSING_TTL: Duration = Duration::from_secs(300);
/// Fetches of different kids in flight at once.
const PARALLEL_FETCHES: usize = 8;
/// The longest an install waits for its turn to fetch: with the fetch's own
/// timeout it stays under the request timeout.
const MAX_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyError {
    #[error("invalid key id")]
    InvalidKid,
    #[error("unknown key id")]
    UnknownKid,
    #[error("install key server unavailable")]
    Unavailable,
    /// The line of fetches is full or the wait ran out; Atlassian retries.
    #[error("install key fetches are busy")]
    Busy,
}

pub struct InstallKeys {
    bases: Vec<Url>,
    http: reqwest::Client,
    /// Keys that verified a fetch, by kid.
    found: Cache<String, DecodingKey>,
    /// Kids the key servers do not know, believed for [`MISSING_TTL`].
    missing: Cache<String, ()>,
    /// One fetch per kid: concurrent installs with the same new kid wait for
    /// the first fetch and then hit the cache (threat F-10).
    fetching: Turns,
    parallel: tokio::sync::Semaphore,
    line: FetchQueue,
}

enum FetchResult {
    Key(DecodingKey),
    NotFound,
    Failed,
}

impl InstallKeys {
    pub(crate) fn new(bases: Vec<Url>, per_second: NonZeroU32) -> crate::error::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(same_host_redirects())
            .build()
            .map_err(|e| crate::error::Error::Config(format!("install key client: {e}")))?;
        Ok(Self {
            bases,
            http,
            found: Cache::new(MAX_FOUND),
            missing: Cache::builder().max_capacity(MAX_MISSING).time_to_live(MISSING_TTL).build(),
            fetching: Mutex::new(HashMap::new()),
            parallel: tokio::sync::Semaphore::new(PARALLEL_FETCHES),
            line: FetchQueue::new(per_second, MAX_WAIT),
        })
    }

    /// The public key named `kid`, fetched if need be in `network`'s turn
    /// (None: a caller with no address). The kid is validated before any URL is built.
    pub(crate) async fn get(&self, kid: &str, network: Option<IpAddr>) -> Result<DecodingKey, KeyError> {
        if !is_valid_kid(kid) {
            return Err(KeyError::InvalidKid);
        }
        if let Some(hit) = self.cached(kid) {
            return hit;
        }
        let turn = Turn::take(&self.fetching, kid);
        let _turn = turn.lock.lock().await;
        if let Some(hit) = self.cached(kid) {
            return hit;
        }
        let waited = Instant::now();
        let turn = self.line.turn(network).await;
        metrics::histogram!("key_fetch_wait_seconds", "keys" => "install").record(waited.elapsed().as_secs_f64());
        if turn.is_err() {
            metrics::counter!("key_fetch_busy_total", "keys" => "install").increment(1);
            return Err(KeyError::Busy);
        }
        self.fetch_from_servers(kid).await
    }

    async fn fetch_from_servers(&self, kid: &str) -> Result<DecodingKey, KeyError> {
        let Ok(_slot) = self.parallel.acquire().await else { return Err(KeyError::Unavailable) };
        let mut unavailable = false;
        for base in &self.bases {
            let fetched = self.fetch(base, kid).await;
            let outcome = match &fetched {
                FetchResult::Key(_) => "found",
                FetchResult::NotFound => "missing",
                FetchResult::Failed => "failed",
            };
            metrics::counter!("key_fetches_total", "keys" => "install", "outcome" => outcome).increment(1);
            match fetched {
                FetchResult::Key(key) => {
                    self.found.insert(kid.to_string(), key.clone());
                    return Ok(key);
                }
                FetchResult::NotFound => {}
                FetchResult::Failed => unavailable = true,
            }
        }
        if unavailable {
            // Not cached: the customer's retry should reach a recovered server.
            return Err(KeyError::Unavailable);
        }
        self.missing.insert(kid.to_string(), ());
        Err(KeyError::UnknownKid)
    }

    fn cached(&self, kid: &str) -> Option<Result<DecodingKey, KeyError>> {
        if let Some(key) = self.found.get(kid) {
            return Some(Ok(key));
        }
        self.missing.get(kid).map(|()| Err(KeyError::UnknownKid))
    }

    async fn fetch(&self, base: &Url, kid: &str) -> FetchResult {
        let url = format!("{}/{kid}", base.as_str().trim_end_matches('/'));
        let response = match self.http.get(&url).send().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(%url, error = %e, "install key fetch failed");
                return FetchResult::Failed;
            }
        };
        match response.status().as_u16() {
            200 => {}
            404 | 410 => return FetchResult::NotFound,
            status => {
                tracing::warn!(%url, status, "install key server answered with an error");
                return FetchResult::Failed;
            }
        }
        let pem = read_capped(response, MAX_KEY_BYTES).await.and_then(|body| String::from_utf8(body).ok());
        match pem.and_then(|pem| parse_public_key(&pem)) {
            Some(key) => FetchResult::Key(key),
            None => {
                tracing::warn!(%url, "install key server sent something that is not a PEM public key");
                FetchResult::Failed
            }
        }
    }
}

type Turns = Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

/// A place in the line of fetches for one kid. Dropped (also when the request
/// is cancelled), it removes the kid's entry unless a newer line replaced it.
struct Turn<'a> {
    turns: &'a Turns,
    kid: &'a str,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl<'a> Turn<'a> {
    fn take(turns: &'a Turns, kid: &'a str) -> Self {
        let lock = match turns.lock() {
            Ok(mut turns) => turns.entry(kid.to_string()).or_default().clone(),
            Err(_) => Arc::default(),
        };
        Self { turns, kid, lock }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let Ok(mut turns) = self.turns.lock() else { return };
        // The map's copy and this one: nobody else is waiting in this line.
        if turns.get(self.kid).is_some_and(|lock| Arc::ptr_eq(lock, &self.lock) && Arc::strong_count(lock) == 2) {
            turns.remove(self.kid);
        }
    }
}

fn same_host_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_host = attempt.previous().first().is_some_and(|first| {
            first.host_str() == attempt.url().host_str() && first.scheme() == attempt.url().scheme()
        });
        if same_host && attempt.previous().len() < 3 { attempt.follow() } else { attempt.stop() }
    })
}

fn parse_public_key(pem: &str) -> Option<DecodingKey> {
    let pem = pem.trim();
    if !pem.starts_with("-----BEGIN PUBLIC KEY-----") || !pem.ends_with("-----END PUBLIC KEY-----") {
        return None;
    }
    DecodingKey::from_rsa_pem(pem.as_bytes()).ok()
}
