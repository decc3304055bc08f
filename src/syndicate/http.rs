//! HTTP for the network clients: one blocking client per network with
//! timeouts, a bound on response sizes, retries with exponential backoff
//! (`backon`) on connection errors and 5xx — only for calls that are safe to
//! repeat —, waits on 429 as `Retry-After` or the rate-limit reset headers
//! say, and errors that name the network and URL but never a secret.

use backon::{BlockingRetryable, ExponentialBuilder};
use reqwest::blocking::Client;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, USER_AGENT};
use reqwest::Method;
use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;
use std::time::Duration;

/// Largest response body read (JSON replies are far smaller).
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Longest wait on a 429 before giving up on the network for this run.
pub const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(120);
/// How much of an error body is quoted in a message.
const EXCERPT: usize = 300;

/// What can go wrong talking to a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// 401/403: the secret is wrong or lacks a permission. Stops the network.
    #[error("{method} {url} was refused ({status}){}: check the secret in the environment variable {env_var}", detail_suffix(.detail))]
    Auth {
        method: String,
        url: String,
        status: u16,
        env_var: String,
        detail: String,
    },
    /// A required environment variable is not set.
    #[error("the environment variable {env_var} is not set ({what}); set it (as a CI secret) and run again")]
    MissingSecret { env_var: String, what: String },
    /// 429, with how long the server asked to wait.
    #[error("{method} {url} was rate limited (429); the server asked to wait {}s", .wait.as_secs())]
    RateLimited {
        method: String,
        url: String,
        wait: Duration,
    },
    /// Any other unexpected status.
    #[error("{method} {url} answered {status}{}", detail_suffix(.detail))]
    Status {
        method: String,
        url: String,
        status: u16,
        detail: String,
    },
    /// The request did not complete: connection refused or reset, timeout.
    #[error("{method} {url} failed: {message}")]
    Transport {
        method: String,
        url: String,
        message: String,
        timeout: bool,
    },
    /// The reply was not what the API describes.
    #[error("{method} {url}: unexpected reply: {message}")]
    Reply {
        method: String,
        url: String,
        message: String,
    },
    /// Something about the entry itself (image too large, message too long).
    #[error("{0}")]
    Entry(String),
    /// A simulated crash (test hook).
    #[error("simulated crash after sending")]
    Crash,
}

fn detail_suffix(d: &str) -> String {
    if d.is_empty() {
        String::new()
    } else {
        format!(": {d}")
    }
}

impl NetError {
    /// Whether nothing more should be tried on this network in this run.
    pub fn stops_network(&self) -> bool {
        matches!(
            self,
            NetError::Auth { .. }
                | NetError::MissingSecret { .. }
                | NetError::RateLimited { .. }
                | NetError::Crash
        ) || matches!(self, NetError::Transport { message, .. } if message.contains("connect"))
    }

    /// Whether the request may have reached the server and been acted on
    /// although no answer came (timeout, reset, 5xx).
    pub fn maybe_applied(&self) -> bool {
        match self {
            NetError::Transport { .. } => true,
            NetError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// The HTTP status, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            NetError::Auth { status, .. } | NetError::Status { status, .. } => Some(*status),
            NetError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(serde_json::Value),
    Bytes {
        content_type: String,
        bytes: Vec<u8>,
    },
}

/// One request, described as data so it can be sent again unchanged.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
    /// Safe to repeat after a connection error or a 5xx (a GET, a PUT of
    /// the same record, a POST with an idempotency key).
    pub idempotent: bool,
}

impl Request {
    pub fn get(url: impl Into<String>) -> Request {
        Request {
            method: Method::GET,
            url: url.into(),
            headers: Vec::new(),
            body: Body::None,
            idempotent: true,
        }
    }

    pub fn post_json(url: impl Into<String>, body: serde_json::Value) -> Request {
        Request {
            method: Method::POST,
            url: url.into(),
            headers: Vec::new(),
            body: Body::Json(body),
            idempotent: false,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Request {
        self.headers.push((name, value.into()));
        self
    }

    pub fn idempotent(mut self, yes: bool) -> Request {
        self.idempotent = yes;
        self
    }
}

/// A reply with its body read (bounded).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The URL finally answered (after redirects).
    pub url: String,
    method: String,
    request_url: String,
}

impl Response {
    /// The body as JSON of type `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, NetError> {
        serde_json::from_slice(&self.body).map_err(|e| NetError::Reply {
            method: self.method.clone(),
            url: self.request_url.clone(),
            message: format!("not the JSON expected: {e}"),
        })
    }

    /// An error unless the status is 2xx.
    pub fn ok(self) -> Result<Response, NetError> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            Err(NetError::Status {
                method: self.method.clone(),
                url: self.request_url.clone(),
                status: self.status,
                detail: excerpt(&self.body),
            })
        }
    }

    /// An error for this reply: the API answered something unexpected.
    pub fn unexpected(&self, message: impl Into<String>) -> NetError {
        NetError::Reply {
            method: self.method.clone(),
            url: self.request_url.clone(),
            message: message.into(),
        }
    }
}

/// The first part of an error body, on one line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(EXCERPT) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// The HTTP client of one network.
pub struct Http {
    client: Client,
    /// The environment variable of this network's secret, for 401/403 advice.
    env_var: String,
    /// Strings never to let out in an error: the secret(s) of this network.
    secrets: Vec<String>,
    /// First retry delay; doubles each time.
    pub min_delay: Duration,
    /// Retries after the first try.
    pub max_retries: usize,
}

/// Reads a secret from the environment variable `env_var` and returns it
/// with an [`Http`] client that redacts it from every error. `what` says what
/// the secret is, for the error when it is missing or blank.
pub fn secret_client(
    env_var: &str,
    what: String,
    timeout: Duration,
) -> Result<(String, Http), NetError> {
    let secret = std::env::var(env_var)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| NetError::MissingSecret {
            env_var: env_var.to_string(),
            what,
        })?;
    let mut http = Http::new(timeout, env_var)?;
    http.add_secret(&secret);
    Ok((secret, http))
}

impl Http {
    /// A client whose every request times out after `timeout`.
    pub fn new(timeout: Duration, env_var: &str) -> Result<Http, NetError> {
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| NetError::Transport {
                method: "-".into(),
                url: "-".into(),
                message: format!("cannot create an HTTP client: {e}"),
                timeout: false,
            })?;
        Ok(Http {
            client,
            env_var: env_var.to_string(),
            secrets: Vec::new(),
            min_delay: Duration::from_millis(500),
            max_retries: 3,
        })
    }

    /// Registers a secret: it is cut out of every error text.
    pub fn add_secret(&mut self, secret: &str) {
        if !secret.is_empty() {
            self.secrets.push(secret.to_string());
        }
    }

    fn redact(&self, mut text: String) -> String {
        for s in &self.secrets {
            if text.contains(s.as_str()) {
                text = text.replace(s.as_str(), "[redacted]");
            }
        }
        text
    }

    fn redact_error(&self, e: NetError) -> NetError {
        match e {
            NetError::Auth {
                method,
                url,
                status,
                env_var,
                detail,
            } => NetError::Auth {
                method,
                url: self.redact(url),
                status,
                env_var,
                detail: self.redact(detail),
            },
            NetError::Status {
                method,
                url,
                status,
                detail,
            } => NetError::Status {
                method,
                url: self.redact(url),
                status,
                detail: self.redact(detail),
            },
            NetError::Transport {
                method,
                url,
                message,
                timeout,
            } => NetError::Transport {
                method,
                url: self.redact(url),
                message: self.redact(message),
                timeout,
            },
            NetError::Reply {
                method,
                url,
                message,
            } => NetError::Reply {
                method,
                url: self.redact(url),
                message: self.redact(message),
            },
            other => other,
        }
    }

    /// Sends `req`, retrying as its `idempotent` flag allows. 2xx–4xx
    /// replies other than 401, 403 and 429 are returned for the caller to
    /// judge; use [`Response::ok`] to require success.
    pub fn send(&self, req: &Request) -> Result<Response, NetError> {
        let wait_asked = Rc::new(Cell::new(None::<Duration>));
        let sleeper_wait = wait_asked.clone();
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(Duration::from_secs(30))
            .with_max_times(self.max_retries)
            .with_jitter();
        let result = (|| self.attempt(req))
            .retry(backoff)
            .when(|e: &NetError| match e {
                // A 429 means the request was not processed: always safe.
                NetError::RateLimited { wait, .. } => *wait <= MAX_RATE_LIMIT_WAIT,
                NetError::Transport { .. } => req.idempotent,
                NetError::Status { status, .. } => *status >= 500 && req.idempotent,
                _ => false,
            })
            .notify(move |e: &NetError, _| {
                if let NetError::RateLimited { wait, .. } = e {
                    wait_asked.set(Some(*wait));
                }
            })
            // The server's Retry-After, when it gave one, is a lower bound
            // on the backoff.
            .sleep(move |d: Duration| {
                std::thread::sleep(d.max(sleeper_wait.take().unwrap_or_default()))
            })
            .call();
        result.map_err(|e| self.redact_error(e))
    }

    fn attempt(&self, req: &Request) -> Result<Response, NetError> {
        let method = req.method.to_string();
        let transport = |e: reqwest::Error| {
            let timeout = e.is_timeout();
            NetError::Transport {
                method: method.clone(),
                url: req.url.clone(),
                message: error_chain(&e.without_url()),
                timeout,
            }
        };
        let mut b = self
            .client
            .request(req.method.clone(), &req.url)
            .header(USER_AGENT, concat!("herald/", env!("CARGO_PKG_VERSION")));
        for (k, v) in &req.headers {
            let value = HeaderValue::from_str(v).map_err(|_| {
                NetError::Entry(format!("header {k} has characters HTTP does not allow"))
            })?;
            b = b.header(HeaderName::from_static(k), value);
        }
        b = match &req.body {
            Body::None => b,
            Body::Json(v) => b
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(v).unwrap_or_default()),
            Body::Bytes {
                content_type,
                bytes,
            } => b
                .header(CONTENT_TYPE, content_type.as_str())
                .body(bytes.clone()),
        };
        let resp = b.send().map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let final_url = resp.url().to_string();
        let mut body = Vec::new();
        resp.take(MAX_RESPONSE_BYTES as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| NetError::Transport {
                method: method.clone(),
                url: req.url.clone(),
                message: format!("reading the reply: {e}"),
                timeout: e.kind() == std::io::ErrorKind::TimedOut,
            })?;
        if body.len() > MAX_RESPONSE_BYTES {
            return Err(NetError::Reply {
                method,
                url: req.url.clone(),
                message: format!("the reply is larger than {MAX_RESPONSE_BYTES} bytes"),
            });
        }
        match status {
            401 | 403 => Err(NetError::Auth {
                method,
                url: req.url.clone(),
                status,
                env_var: self.env_var.clone(),
                detail: excerpt(&body),
            }),
            429 => Err(NetError::RateLimited {
                method,
                url: req.url.clone(),
                wait: rate_limit_wait(&headers, chrono::Utc::now()),
            }),
            500..=599 => Err(NetError::Status {
                method,
                url: req.url.clone(),
                status,
                detail: excerpt(&body),
            }),
            _ => Ok(Response {
                status,
                headers,
                body,
                url: final_url,
                method,
                request_url: req.url.clone(),
            }),
        }
    }
}

/// A reqwest error with its causes ("connection refused", "timed out").
fn error_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// How long a 429 asks to wait: `Retry-After` (seconds or an HTTP date),
/// else the reset time of `X-RateLimit-Reset` (Mastodon: an ISO 8601 time)
/// or `RateLimit-Reset` (Bluesky: Unix seconds); 5 s if none is given.
pub fn rate_limit_wait(headers: &HeaderMap, now: chrono::DateTime<chrono::Utc>) -> Duration {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let until = |t: chrono::DateTime<chrono::Utc>| (t - now).to_std().unwrap_or_default();
    if let Some(v) = get("retry-after") {
        if let Ok(secs) = v.parse::<u64>() {
            return Duration::from_secs(secs);
        }
        if let Ok(t) = chrono::DateTime::parse_from_rfc2822(v) {
            return until(t.to_utc());
        }
    }
    for name in ["x-ratelimit-reset", "ratelimit-reset"] {
        if let Some(v) = get(name) {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
                return until(t.to_utc());
            }
            if let Ok(n) = v.parse::<i64>() {
                // Unix time, or (IETF draft) seconds from now.
                if n > 1_000_000_000 {
                    if let Some(t) = chrono::DateTime::from_timestamp(n, 0) {
                        return until(t);
                    }
                } else if n >= 0 {
                    return Duration::from_secs(n as u64);
                }
            }
        }
    }
    Duration::from_secs(5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn rate_limit_headers() {
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
            .unwrap();
        assert_eq!(
            rate_limit_wait(&headers(&[("retry-after", "7")]), now),
            Duration::from_secs(7)
        );
        assert_eq!(
            rate_limit_wait(
                &headers(&[("retry-after", "Sat, 28 Nov 2026 12:00:30 GMT")]),
                now
            ),
            Duration::from_secs(30)
        );
        assert_eq!(
            rate_limit_wait(
                &headers(&[("x-ratelimit-reset", "2026-11-28T12:01:00.000Z")]),
                now
            ),
            Duration::from_secs(60)
        );
        assert_eq!(
            rate_limit_wait(
                &headers(&[("ratelimit-reset", &(now.timestamp() + 12).to_string())]),
                now
            ),
            Duration::from_secs(12)
        );
        assert_eq!(rate_limit_wait(&headers(&[]), now), Duration::from_secs(5));
    }

    #[test]
    fn secrets_are_cut_out_of_errors() {
        let mut h = Http::new(Duration::from_secs(1), "TOKEN").unwrap();
        h.add_secret("s3cr3t");
        let e = h.redact_error(NetError::Status {
            method: "POST".into(),
            url: "https://x/".into(),
            status: 400,
            detail: "bad token s3cr3t".into(),
        });
        assert!(!e.to_string().contains("s3cr3t"));
        assert!(e.to_string().contains("[redacted]"));
    }

    #[test]
    fn excerpts_are_bounded() {
        let e = excerpt("word ".repeat(500).as_bytes());
        assert!(e.chars().count() <= EXCERPT + 1);
    }
}
