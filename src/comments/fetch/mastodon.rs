//! Mastodon: `GET /api/v1/statuses/:id` (counts, and the account's
//! `followers_count`) and `GET /api/v1/statuses/:id/context` (the replies).
//! With a token the context is complete; without one, Mastodon returns at
//! most 60 descendants. Only public and unlisted replies are kept: a token
//! may see followers-only and direct messages, which must never reach a page.

use super::{bound, cached, http_url, normalize_time, Ctx, Network, PostRef};
use crate::comments::http::{FetchError, Fetched};
use crate::comments::model::*;
use crate::comments::sanitize::{clean_html, escape, plain};
use serde::Deserialize;

pub struct Mastodon;

#[derive(Debug, Deserialize)]
struct Account {
    #[serde(default)]
    id: String,
    #[serde(default)]
    acct: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    avatar_static: Option<String>,
    #[serde(default)]
    followers_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    created_at: String,
    #[serde(default)]
    edited_at: Option<String>,
    #[serde(default)]
    in_reply_to_id: Option<String>,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    spoiler_text: String,
    account: Account,
    #[serde(default)]
    favourites_count: u64,
    #[serde(default)]
    reblogs_count: u64,
    #[serde(default)]
    replies_count: u64,
    #[serde(default)]
    quotes_count: u64,
}

#[derive(Debug, Deserialize)]
struct Context {
    #[serde(default)]
    descendants: Vec<Status>,
}

impl Network for Mastodon {
    fn fetch(
        &self,
        ctx: &Ctx<'_>,
        post: &PostRef,
        previous: Option<&NetworkThread>,
    ) -> Result<NetworkThread, FetchError> {
        let t = ctx.target;
        let id =
            percent_encoding::utf8_percent_encode(&post.id, percent_encoding::NON_ALPHANUMERIC);
        let headers: Vec<(&'static str, String)> = t
            .token()
            .map(|tok| vec![("authorization", format!("Bearer {tok}"))])
            .unwrap_or_default();
        let prev_etag = |k: &str| previous.and_then(|p| p.etags.get(k)).map(String::as_str);
        let host = reqwest::Url::parse(&t.base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();

        let mut thread = NetworkThread {
            kind: Kind::Mastodon,
            label: t.label.clone(),
            post_id: post.id.clone(),
            post_url: post.url.clone(),
            fetched_at: ctx.now.clone(),
            counts: Counts::default(),
            followers: None,
            truncated: false,
            etags: Default::default(),
            comments: Vec::new(),
        };

        let status_url = format!("{}/api/v1/statuses/{id}", t.base_url);
        match ctx
            .http
            .get_json::<Status>(&t.name, &status_url, &headers, prev_etag("status"))?
        {
            Fetched::Fresh { value: s, etag } => {
                thread.counts = Counts {
                    likes: s.favourites_count,
                    reposts: s.reblogs_count,
                    quotes: s.quotes_count,
                    replies: s.replies_count,
                };
                thread.followers = s.account.followers_count;
                thread.post_url = http_url(s.url.as_deref()).or(thread.post_url);
                if let Some(e) = etag {
                    thread.etags.insert("status".into(), e);
                }
            }
            Fetched::NotModified => {
                let (p, e) = cached(ctx, previous, "status", &status_url)?;
                thread.counts = p.counts;
                thread.followers = p.followers;
                thread.post_url = p.post_url.clone();
                thread.etags.insert("status".into(), e);
            }
        }

        let context_url = format!("{}/api/v1/statuses/{id}/context", t.base_url);
        match ctx
            .http
            .get_json::<Context>(&t.name, &context_url, &headers, prev_etag("context"))?
        {
            Fetched::Fresh { value, etag } => {
                let ids: std::collections::HashSet<String> =
                    value.descendants.iter().map(|s| s.id.clone()).collect();
                for s in value.descendants {
                    if !matches!(s.visibility.as_str(), "public" | "unlisted") {
                        continue;
                    }
                    if let Some(c) = comment(s, &post.id, &ids, &host, ctx.config.max_comment_bytes)
                    {
                        thread.comments.push(c);
                    }
                }
                if let Some(e) = etag {
                    thread.etags.insert("context".into(), e);
                }
            }
            Fetched::NotModified => {
                let (p, e) = cached(ctx, previous, "context", &context_url)?;
                thread.comments = p.comments.clone();
                thread.truncated = p.truncated;
                thread.etags.insert("context".into(), e);
            }
        }
        bound(&mut thread, ctx.config.max_comments);
        Ok(thread)
    }
}

fn comment(
    s: Status,
    root: &str,
    ids: &std::collections::HashSet<String>,
    instance_host: &str,
    max_bytes: usize,
) -> Option<Comment> {
    let published = normalize_time(&s.created_at)?;
    let a = s.account;
    let acct = if a.acct.is_empty() {
        a.username.clone()
    } else {
        a.acct.clone()
    };
    // A local account's `acct` has no domain: its profile's host (the
    // instance's web domain) completes the handle.
    let local_host = http_url(a.url.as_deref())
        .and_then(|u| reqwest::Url::parse(&u).ok()?.host_str().map(str::to_string))
        .unwrap_or_else(|| instance_host.to_string());
    let handle = if acct.contains('@') || local_host.is_empty() {
        acct
    } else {
        format!("{acct}@{local_host}")
    };
    let mut html = String::new();
    if !s.spoiler_text.trim().is_empty() {
        html.push_str(&format!(
            "<p><strong>Content warning: {}</strong></p>",
            escape(&plain(&s.spoiler_text, 500))
        ));
    }
    html.push_str(&clean_html(&s.content, None, max_bytes));
    let parent = s.in_reply_to_id.filter(|p| p != root && ids.contains(p));
    Some(Comment {
        id: s.id,
        url: http_url(s.url.as_deref()).or_else(|| http_url(s.uri.as_deref())),
        author: Author {
            name: plain(&a.display_name, 200),
            handle: plain(&handle.to_lowercase(), 300),
            id: (!a.id.is_empty()).then_some(a.id),
            url: http_url(a.url.as_deref()),
            avatar: http_url(a.avatar_static.as_deref()),
            avatar_file: None,
        },
        published,
        edited: s.edited_at.as_deref().and_then(normalize_time),
        html,
        parent,
        likes: s.favourites_count,
        reposts: s.reblogs_count,
    })
}
