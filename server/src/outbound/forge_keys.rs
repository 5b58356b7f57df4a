//! Forge's public keys: the JWKS at `FORGE_JWKS_URL` (the operator's choice,
//! never derived from a token), fetched with a timeout and a size cap and
//! cached by `kid`. Keys rotate, so an unknown kid refetches the whole set,
//! at most once per `MIN_REFETCH` for everyone together: a flood of made-up
//! kids reaches the JWKS host once per interval at most. A kid that arrives
//! after the last fetch waits for the next one (at most `MIN_REFETCH`) rather
//! than being refused, so a genuine new key is never refused because a flood
//! spent the interval; callers that arrived before a fetch share its answer.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use jsonwebtoken::{DecodingKey, jwk::JwkSet};
use url::Url;

use super::capped_body::read_capped;
use crate::connect::kid::is_valid_kid;

const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A JWKS holds a few keys of about 0.5 KB each.
const MAX_JWKS_BYTES: usize = 64 * 1024;
const MAX_KEYS: usize = 32;
pub(crate) const MIN_REFETCH: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ForgeKeyError {
    #[error("unknown key id")]
    UnknownKid,
    #[error("Forge JWKS unavailable")]
    Unavailable,
}

#[derive(Default)]
struct KeySet {
    keys: HashMap<String, DecodingKey>,
    last_fetch: Option<Instant>,
    last_fetch_failed: bool,
    /// Fetches started so far: a caller that saw an older count shares the
    /// answer of a fetch that started after it arrived.
    fetches: u64,
}

pub struct ForgeKeys {
    url: Url,
    http: reqwest::Client,
    set: Mutex<KeySet>,
    fetching: tokio::sync::Mutex<()>,
}

impl ForgeKeys {
    pub(crate) fn new(url: Url) -> crate::error::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| crate::error::Error::Config(format!("Forge JWKS client: {e}")))?;
        Ok(Self { url, http, set: Mutex::new(KeySet::default()), fetching: tokio::sync::Mutex::new(()) })
    }

    /// The key named `kid`: from the cache, or after (at most) one refetch.
    pub(crate) async fn get(&self, kid: &str) -> Result<DecodingKey, ForgeKeyError> {
        if !is_valid_kid(kid) {
            return Err(ForgeKeyError::UnknownKid);
        }
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let arrived_after = self.fetches();
        let _turn = self.fetching.lock().await;
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        if self.fetches() != arrived_after {
            // A fetch started (and, as the turn is ours, finished) after this
            // caller arrived, and the kid was not in it.
            return Err(self.miss());
        }
        if let Some(wait) = self.until_refetch() {
            metrics::histogram!("key_fetch_wait_seconds", "keys" => "forge").record(wait.as_secs_f64());
            tokio::time::sleep(wait).await;
        }
        if let Ok(mut set) = self.set.lock() {
            set.fetches += 1;
        }
        let fetched = self.fetch().await;
        let outcome = if fetched.is_some() { "found" } else { "failed" };
        metrics::counter!("key_fetches_total", "keys" => "forge", "outcome" => outcome).increment(1);
        let Ok(mut set) = self.set.lock() else { return Err(ForgeKeyError::Unavailable) };
        set.last_fetch = Some(Instant::now());
        set.last_fetch_failed = fetched.is_none();
        if let Some(keys) = fetched {
            set.keys = keys;
        }
        match set.keys.get(kid) {
            Some(key) => Ok(key.clone()),
            None if set.last_fetch_failed => Err(ForgeKeyError::Unavailable),
            None => Err(ForgeKeyError::UnknownKid),
        }
    }

    /// Whether the key named `kid` is at hand, with no fetch or wait.
    pub(crate) fn has(&self, kid: &str) -> bool {
        self.cached(kid).is_some()
    }

    fn cached(&self, kid: &str) -> Option<DecodingKey> {
        self.set.lock().ok()?.keys.get(kid).cloned()
    }

    fn fetches(&self) -> u64 {
        self.set.lock().map_or(0, |set| set.fetches)
    }

    /// How long until the set may be fetched again (None: now).
    fn until_refetch(&self) -> Option<Duration> {
        let last = self.set.lock().ok()?.last_fetch?;
        MIN_REFETCH.checked_sub(last.elapsed()).filter(|wait| !wait.is_zero())
    }

    /// A kid that is not in the set fetched moments ago: unknown, unless that
    /// fetch failed (then nobody can tell yet, and Forge may retry).
    fn miss(&self) -> ForgeKeyError {
        match self.set.lock() {
            Ok(set) if !set.last_fetch_failed => ForgeKeyError::UnknownKid,
            _ => ForgeKeyError::Unavailable,
        }
    }

    /// The RSA signing keys of the JWKS, by kid; `None` when it cannot be read.
    async fn fetch(&self) -> Option<HashMap<String, DecodingKey>> {
        let response = self.http.get(self.url.clone()).send().await.ok()?;
        if !response.status().is_success() {
            tracing::warn!(status = response.status().as_u16(), "Forge JWKS answered with an error");
            return None;
        }
        let body = read_capped(response, MAX_JWKS_BYTES).await?;
        let set: JwkSet = serde_json::from_slice(&body).ok()?;
        let keys: HashMap<String, DecodingKey> = set
            .keys
            .iter()
            .filter(|jwk| matches!(jwk.algorithm, jsonwebtoken::jwk::AlgorithmParameters::RSA(_)))
            .filter_map(|jwk| {
                Some((jwk.common.key_id.clone().filter(|kid| is_valid_kid(kid))?, DecodingKey::from_jwk(jwk).ok()?))
            })
            .take(MAX_KEYS)
            .collect();
        tracing::info!(keys = keys.len(), "Forge JWKS fetched");
        Some(keys)
    }
}
