//! The few HTTP calls `herald comments` makes: JSON GETs through the
//! syndication clients' HTTP helper ([`crate::syndicate::http`]: timeouts,
//! bounded bodies, retries with backoff on connection errors and 5xx, waits
//! on 429 as `Retry-After` says, secrets cut out of every error), plus what
//! reading threads needs on top: conditional requests (`ETag` /
//! `If-None-Match`), a request count, and errors that name the network.

use crate::syndicate::http::{Http as NetHttp, NetError, Request};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A failed fetch, phrased for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{network}: {url}: {message}")]
pub struct FetchError {
    /// The network's name (`[networks.NAME]`).
    pub network: String,
    pub url: String,
    pub message: String,
}

/// The answer to a conditional GET.
#[derive(Debug)]
pub enum Fetched<T> {
    /// A new body, and its validator when the server sent one.
    Fresh { value: T, etag: Option<String> },
    /// 304: what we have is current.
    NotModified,
}

/// The clients of every network of a run, shared by its workers.
pub struct Http {
    timeout: Duration,
    clients: Mutex<HashMap<String, Arc<NetHttp>>>,
    requests: AtomicU64,
}

impl Http {
    /// Clients whose every request times out after `timeout`.
    pub fn new(timeout: Duration) -> Http {
        Http {
            timeout,
            clients: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
        }
    }

    /// Sets up the client of `network`: `env_var` names its secret (for
    /// the advice on 401/403), and `secret` is cut out of every error.
    pub fn register(&self, network: &str, env_var: Option<&str>, secret: Option<&str>) {
        let mut c = NetHttp::new(self.timeout, env_var.unwrap_or("(none)")).unwrap_or_else(|_| {
            NetHttp::new(Duration::from_secs(30), "(none)").expect("a default HTTP client builds")
        });
        if let Some(s) = secret {
            c.add_secret(s);
        }
        self.clients
            .lock()
            .expect("no thread panics holding the lock")
            .insert(network.to_string(), Arc::new(c));
    }

    fn client(&self, network: &str) -> Arc<NetHttp> {
        if let Some(c) = self
            .clients
            .lock()
            .expect("no thread panics holding the lock")
            .get(network)
        {
            return c.clone();
        }
        self.register(network, None, None);
        self.client(network)
    }

    /// How many requests were sent (not counting the helper's retries).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// GETs `url` as JSON. `headers` may carry a token: it is sent, never
    /// shown. With `etag`, a 304 answers [`Fetched::NotModified`].
    pub fn get_json<T: DeserializeOwned>(
        &self,
        network: &str,
        url: &str,
        headers: &[(&'static str, String)],
        etag: Option<&str>,
    ) -> Result<Fetched<T>, FetchError> {
        let err = |message: String| FetchError {
            network: network.to_string(),
            url: url.to_string(),
            message,
        };
        let mut req = Request::get(url)
            .header("accept", "application/json")
            .header(
                "user-agent",
                concat!("herald/", env!("CARGO_PKG_VERSION"), " (comments)"),
            );
        for (k, v) in headers {
            req = req.header(k, v.clone());
        }
        if let Some(e) = etag {
            req = req.header("if-none-match", e);
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = self
            .client(network)
            .send(&req)
            .map_err(|e| err(message(&e, url)))?;
        if resp.status == 304 {
            return Ok(Fetched::NotModified);
        }
        if !(200..300).contains(&resp.status) {
            let hint = match resp.status {
                404 | 410 => {
                    ": the post is gone (deleted, or the id in data/syndication.toml is wrong)"
                }
                _ => "",
            };
            return Err(err(format!("HTTP {}{hint}", resp.status)));
        }
        let etag = resp
            .headers
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        serde_json::from_slice(&resp.body)
            .map(|value| Fetched::Fresh { value, etag })
            .map_err(|e| err(format!("unexpected answer: {e}")))
    }
}

impl Http {
    /// GETs `url` (an image) without credentials and returns its bytes, at
    /// most `max_bytes` of them.
    pub fn get_bytes(
        &self,
        network: &str,
        url: &str,
        max_bytes: usize,
    ) -> Result<Vec<u8>, FetchError> {
        let err = |message: String| FetchError {
            network: network.to_string(),
            url: url.to_string(),
            message,
        };
        let req = Request::get(url).header("accept", "image/*").header(
            "user-agent",
            concat!("herald/", env!("CARGO_PKG_VERSION"), " (comments)"),
        );
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = self
            .client(network)
            .send(&req)
            .map_err(|e| err(message(&e, url)))?;
        if !(200..300).contains(&resp.status) {
            return Err(err(format!("HTTP {}", resp.status)));
        }
        if resp.body.len() > max_bytes {
            return Err(err(format!(
                "the image is larger than {max_bytes} bytes (left out)"
            )));
        }
        Ok(resp.body)
    }
}

/// The helper's error without the method and URL ([`FetchError`] names the URL).
fn message(e: &NetError, url: &str) -> String {
    let text = e.to_string();
    let text = match text.strip_prefix(&format!("GET {url}")) {
        Some(rest) => rest.trim_start_matches([':', ' ']).to_string(),
        None => text,
    };
    match e {
        NetError::Status { status, .. } if *status >= 500 => {
            format!("HTTP {status}, after retries ({text})")
        }
        _ => text,
    }
}
