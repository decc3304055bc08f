//! Fetching: one file per network behind the [`Network`] trait. Each takes
//! the entry's post (from the ledger) and the previous thread (for
//! conditional requests), and returns the whole thread in the common model.
//! Nothing here writes files or prints.

pub mod bluesky;
pub mod discourse;
pub mod mastodon;

use super::config::CommentsConfig;
use super::http::{FetchError, Http};
use super::model::{Kind, NetworkThread};

/// The entry's post on one network, as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRef {
    /// The entry's file relative to `content/`.
    pub entry: String,
    /// The network's name (`[networks.NAME]`).
    pub network: String,
    /// The network's id of the post: status id, `at://` URI, topic id.
    pub id: String,
    /// Its public address, when the ledger has it.
    pub url: Option<String>,
    /// When it was posted.
    pub posted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Where and how to read one configured network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `[networks.NAME]`.
    pub name: String,
    pub kind: Kind,
    /// Link text on the page ("Mastodon", "the forum").
    pub label: String,
    /// The instance (Mastodon), the forum (Discourse), or the AppView (Bluesky).
    pub base_url: String,
    /// Bluesky only: where post and profile links point (`https://bsky.app`).
    pub web_url: String,
    /// The environment variable holding a token (Mastodon: an access token;
    /// Discourse: an API key). Read at fetch time; never stored or printed.
    pub token_env: Option<String>,
    /// Discourse: the `Api-Username` sent with the key.
    pub username: Option<String>,
}

impl Target {
    /// The token, when its variable is set and not empty.
    pub fn token(&self) -> Option<String> {
        let v = std::env::var(self.token_env.as_deref()?).ok()?;
        (!v.trim().is_empty()).then(|| v.trim().to_string())
    }
}

/// What a fetcher needs besides the post.
pub struct Ctx<'a> {
    pub http: &'a Http,
    pub config: &'a CommentsConfig,
    pub target: &'a Target,
    /// "Now", as written into `fetched_at`.
    pub now: String,
}

impl Ctx<'_> {
    pub fn error(&self, url: &str, message: impl Into<String>) -> FetchError {
        FetchError {
            network: self.target.name.clone(),
            url: url.to_string(),
            message: message.into(),
        }
    }
}

/// A network Herald reads conversations from.
pub trait Network: Sync {
    /// Fetches the thread under `post`. `previous` is what the last run
    /// stored (for conditional requests); on error, the caller keeps it.
    fn fetch(
        &self,
        ctx: &Ctx<'_>,
        post: &PostRef,
        previous: Option<&NetworkThread>,
    ) -> Result<NetworkThread, FetchError>;
}

/// The fetcher for `kind`.
pub fn network(kind: Kind) -> &'static dyn Network {
    match kind {
        Kind::Mastodon => &mastodon::Mastodon,
        Kind::Bluesky => &bluesky::Bluesky,
        Kind::Discourse => &discourse::Discourse,
    }
}

/// Parses an RFC 3339 time from a network into UTC RFC 3339 (seconds), or
/// `None` when it is not one.
pub fn normalize_time(s: &str) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
}

/// Keeps an http(s) URL from a network, or nothing.
pub fn http_url(s: Option<&str>) -> Option<String> {
    let s = s?.trim();
    let u = reqwest::Url::parse(s).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

/// Cuts `thread.comments` to the configured bound (oldest kept).
pub fn bound(thread: &mut NetworkThread, max: usize) {
    thread.sort();
    if thread.comments.len() > max {
        thread.comments.truncate(max);
        thread.truncated = true;
    }
}

/// The previous thread and its validator `key`, after a 304. A 304 to a
/// request that was not conditional is the server's error, not a panic.
pub fn cached<'p>(
    ctx: &Ctx<'_>,
    previous: Option<&'p NetworkThread>,
    key: &str,
    url: &str,
) -> Result<(&'p NetworkThread, String), FetchError> {
    previous
        .and_then(|p| p.etags.get(key).map(|e| (p, e.clone())))
        .ok_or_else(|| {
            ctx.error(
                url,
                "HTTP 304 Not Modified to a request that was not conditional",
            )
        })
}
