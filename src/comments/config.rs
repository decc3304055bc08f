//! `[comments]` of `site.toml`: how `herald comments` fetches and what
//! `herald build` hides. Unknown keys are errors with the closest known key.
//!
//! ```toml
//! [comments]
//! max_age_days = 90          # skip entries posted longer ago (unless --all)
//! concurrency = 4            # requests at a time, per network
//! timeout = 20               # seconds per request
//! bluesky_appview = "https://public.api.bsky.app"
//! max_comments = 500         # per entry and network
//! max_comment_bytes = 20000  # of sanitized HTML per comment
//! avatars = false            # download avatars into static/comments/avatars/
//!
//! [comments.block]
//! accounts = ["spammer@mastodon.example", "did:plc:abc", "troll.bsky.social"]
//! instances = ["spam.example"]
//! words = ["casino"]
//! ```

use crate::config::{Config, CONFIG_FILE};
use crate::error::{Diagnostic, Error, Result};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// Settings of `herald comments` and of the comment section.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentsConfig {
    /// Entries whose post is older than this many days are not fetched again
    /// (their previous data stays); 0 fetches every entry.
    pub max_age_days: u64,
    /// Requests in flight at once, per network.
    pub concurrency: usize,
    /// Timeout of each request.
    pub timeout: Duration,
    /// Where Bluesky threads are read (an AppView), without a trailing slash.
    pub bluesky_appview: String,
    /// Comments kept per entry and network (the oldest are kept).
    pub max_comments: usize,
    /// Bytes of sanitized HTML kept per comment.
    pub max_comment_bytes: usize,
    /// Download authors' avatars at fetch time into `static/comments/avatars/`
    /// and show them (off: no avatar is fetched or shown).
    pub avatars: bool,
    pub block: BlockList,
}

/// Replies hidden at build time, with every reply under them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockList {
    /// Handles (`user@instance`, `name.bsky.social`, a forum username) or
    /// account ids (a Bluesky DID).
    pub accounts: Vec<String>,
    /// Mastodon instances or any host of an author's profile URL.
    pub instances: Vec<String>,
    /// Words or phrases, matched case-insensitively as whole words.
    pub words: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    max_age_days: Option<u64>,
    concurrency: Option<usize>,
    timeout: Option<u64>,
    bluesky_appview: Option<String>,
    max_comments: Option<usize>,
    max_comment_bytes: Option<usize>,
    #[serde(default)]
    avatars: bool,
    #[serde(default)]
    block: BlockList,
}

impl Default for CommentsConfig {
    fn default() -> Self {
        CommentsConfig {
            max_age_days: 90,
            concurrency: 4,
            timeout: Duration::from_secs(20),
            bluesky_appview: "https://public.api.bsky.app".into(),
            max_comments: 500,
            max_comment_bytes: 20_000,
            avatars: false,
            block: BlockList::default(),
        }
    }
}

impl CommentsConfig {
    /// Reads `[comments]` of a loaded config. `text` is the file's text, to
    /// point problems at their lines (may be empty).
    pub fn from_config(config: &Config, text: &str) -> Result<CommentsConfig> {
        let file = Path::new(CONFIG_FILE);
        let raw: Raw = toml::Value::Table(config.comments.clone())
            .try_into()
            .map_err(|e: toml::de::Error| {
                let mut d = crate::toml_errors::diagnostic(file, text, 1, &e);
                d.message = format!("{} in [comments]", d.message);
                if d.line.is_none() {
                    let key = d.message.split('`').nth(1).unwrap_or("");
                    d.line = key_line(text, key);
                }
                Error::from(d)
            })?;
        let Raw {
            max_age_days,
            concurrency,
            timeout,
            bluesky_appview,
            max_comments,
            max_comment_bytes,
            avatars,
            block,
        } = raw;
        let d = CommentsConfig::default();
        let mut problems = Vec::new();
        let mut range = |key: &str, v: Option<u64>, lo: u64, hi: u64| {
            if let Some(v) = v {
                if v < lo || v > hi {
                    problems.push(
                        Diagnostic::new(
                            file,
                            format!("`{key}` in [comments] must be {lo} to {hi}, not {v}"),
                        )
                        .at_opt_line(key_line(text, key))
                        .help("leave it out for the default"),
                    );
                }
            }
        };
        range("concurrency", concurrency.map(|v| v as u64), 1, 64);
        range("timeout", timeout, 1, 600);
        range("max_comments", max_comments.map(|v| v as u64), 1, 100_000);
        range(
            "max_comment_bytes",
            max_comment_bytes.map(|v| v as u64),
            100,
            1_000_000,
        );
        let appview = bluesky_appview
            .map(|s| s.trim_end_matches('/').to_string())
            .unwrap_or(d.bluesky_appview);
        if !reqwest::Url::parse(&appview)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        {
            problems.push(
                Diagnostic::new(file, format!("`bluesky_appview` in [comments] must be an absolute http(s) URL, not `{appview}`"))
                    .at_opt_line(key_line(text, "bluesky_appview"))
                    .help("the public AppView is https://public.api.bsky.app"),
            );
        }
        for (key, list) in [
            ("accounts", &block.accounts),
            ("instances", &block.instances),
            ("words", &block.words),
        ] {
            if list.iter().any(|s| s.trim().is_empty()) {
                problems.push(
                    Diagnostic::new(
                        file,
                        format!("`{key}` in [comments.block] has an empty entry"),
                    )
                    .at_opt_line(key_line(text, key))
                    .help("remove the empty string: it would match nothing or everything"),
                );
            }
        }
        if !problems.is_empty() {
            return Err(Error::Site(problems));
        }
        Ok(CommentsConfig {
            max_age_days: max_age_days.unwrap_or(d.max_age_days),
            concurrency: concurrency.unwrap_or(d.concurrency),
            timeout: timeout.map(Duration::from_secs).unwrap_or(d.timeout),
            bluesky_appview: appview,
            max_comments: max_comments.unwrap_or(d.max_comments),
            max_comment_bytes: max_comment_bytes.unwrap_or(d.max_comment_bytes),
            avatars,
            block,
        })
    }
}

/// The line of `key = …` after the `[comments` header, when written.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let start = text
        .lines()
        .position(|l| l.trim_start().starts_with("[comments"))?;
    text.lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str) -> Result<CommentsConfig> {
        let text = format!("base_url = \"https://x.example\"\ntitle = \"X\"\n{extra}");
        let c = Config::parse(&text).unwrap();
        CommentsConfig::from_config(&c, &text)
    }

    #[test]
    fn defaults_and_block_list() {
        assert_eq!(parse("").unwrap(), CommentsConfig::default());
        let c = parse("[comments]\nmax_age_days = 0\n[comments.block]\naccounts = [\"a@b.example\"]\nwords = [\"casino\"]\n").unwrap();
        assert_eq!(c.max_age_days, 0);
        assert_eq!(c.block.accounts, ["a@b.example"]);
        assert_eq!(c.block.words, ["casino"]);
    }

    #[test]
    fn unknown_keys_suggest_the_closest() {
        let err = parse("[comments]\nconcurency = 3\n").unwrap_err();
        let d = &err.diagnostics()[0];
        assert_eq!(d.message, "unknown key `concurency` in [comments]");
        assert_eq!(d.line, Some(4));
        assert_eq!(d.help.as_deref(), Some("did you mean `concurrency`?"));
        let err = parse("[comments.block]\naccount = [\"x\"]\n").unwrap_err();
        let d = &err.diagnostics()[0];
        assert_eq!(d.help.as_deref(), Some("did you mean `accounts`?"), "{d}");
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let err = parse("[comments]\nconcurrency = 0\ntimeout = 9999\n").unwrap_err();
        assert_eq!(err.diagnostics().len(), 2, "{err}");
        assert_eq!(err.diagnostics()[0].line, Some(4));
    }
}
