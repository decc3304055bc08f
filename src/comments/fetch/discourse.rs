//! Discourse (the company forum): `GET /t/{id}.json` gives the topic, its
//! first posts and the ids of all of them (`post_stream.stream`); the rest
//! come from `GET /t/{id}/posts.json?post_ids[]=…`, twenty at a time. The
//! first post is the entry itself; hidden and deleted posts, whispers and
//! moderator actions (any `post_type` other than 1) are left out. Likes come
//! from `actions_summary` (id 2), the structure from `reply_to_post_number`.

use super::{bound, cached, http_url, normalize_time, Ctx, Network, PostRef};
use crate::comments::http::{FetchError, Fetched};
use crate::comments::model::*;
use crate::comments::sanitize::{clean_html, plain};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

pub struct Discourse;

/// Posts asked for per `posts.json` request (what Discourse pages by).
pub const CHUNK: usize = 20;
/// The `actions_summary` id of a like.
const LIKE: u64 = 2;

#[derive(Debug, Deserialize)]
struct Topic {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    slug: Option<String>,
    post_stream: PostStream,
}

#[derive(Debug, Deserialize)]
struct PostStream {
    #[serde(default)]
    posts: Vec<Post>,
    #[serde(default)]
    stream: Vec<u64>,
}

#[derive(Debug, Deserialize)]
struct Posts {
    post_stream: PostStream,
}

#[derive(Debug, Clone, Deserialize)]
struct Post {
    id: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    user_id: Option<i64>,
    #[serde(default)]
    avatar_template: Option<String>,
    #[serde(default)]
    created_at: String,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    cooked: String,
    #[serde(default)]
    post_number: u64,
    #[serde(default = "regular")]
    post_type: i64,
    /// An integer in requests, a string or null in the description's
    /// responses, an integer from real servers: all are accepted.
    #[serde(default)]
    reply_to_post_number: Value,
    #[serde(default)]
    hidden: bool,
    #[serde(default)]
    deleted_at: Option<String>,
    #[serde(default)]
    user_deleted: bool,
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    quote_count: u64,
    /// `[{id, count, …}]`; real servers send `count`, the description omits it.
    #[serde(default)]
    actions_summary: Vec<Value>,
}

fn regular() -> i64 {
    1
}

impl Post {
    fn likes(&self) -> u64 {
        self.actions_summary
            .iter()
            .find(|a| a.get("id").and_then(Value::as_u64) == Some(LIKE))
            .and_then(|a| a.get("count").and_then(Value::as_u64))
            .unwrap_or(0)
    }

    fn reply_to(&self) -> Option<u64> {
        match &self.reply_to_post_number {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn visible(&self) -> bool {
        self.post_type == 1 && !self.hidden && self.deleted_at.is_none() && !self.user_deleted
    }
}

impl Network for Discourse {
    fn fetch(
        &self,
        ctx: &Ctx<'_>,
        post: &PostRef,
        previous: Option<&NetworkThread>,
    ) -> Result<NetworkThread, FetchError> {
        let t = ctx.target;
        let topic_id: u64 = post.id.trim().parse().map_err(|_| {
            ctx.error(
                &t.base_url,
                format!("`{}` in data/syndication.toml is not a topic id", post.id),
            )
        })?;
        let mut headers: Vec<(&'static str, String)> = Vec::new();
        if let (Some(key), Some(user)) = (t.token(), t.username.clone()) {
            headers.push(("api-key", key));
            headers.push(("api-username", user));
        }
        let topic_url = format!("{}/t/{topic_id}.json", t.base_url);
        let prev_etag = previous
            .and_then(|p| p.etags.get("topic"))
            .map(String::as_str);
        let (topic, etag) = match ctx
            .http
            .get_json::<Topic>(&t.name, &topic_url, &headers, prev_etag)?
        {
            Fetched::Fresh { value, etag } => (value, etag),
            Fetched::NotModified => {
                let (p, _) = cached(ctx, previous, "topic", &topic_url)?;
                let mut p = p.clone();
                p.fetched_at = ctx.now.clone();
                return Ok(p);
            }
        };
        let mut posts: BTreeMap<u64, Post> = topic
            .post_stream
            .posts
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        // The stream is bounded like everything else: a topic with more
        // posts than we keep is not read to its end.
        let wanted: Vec<u64> = topic
            .post_stream
            .stream
            .iter()
            .copied()
            .take(ctx.config.max_comments.saturating_add(1))
            .collect();
        let truncated_stream = topic.post_stream.stream.len() > wanted.len();
        let missing: Vec<u64> = wanted
            .iter()
            .copied()
            .filter(|id| !posts.contains_key(id))
            .collect();
        for chunk in missing.chunks(CHUNK) {
            let q: Vec<String> = chunk.iter().map(|id| format!("post_ids[]={id}")).collect();
            let url = format!("{}/t/{topic_id}/posts.json?{}", t.base_url, q.join("&"));
            if let Fetched::Fresh { value, .. } =
                ctx.http.get_json::<Posts>(&t.name, &url, &headers, None)?
            {
                for p in value.post_stream.posts {
                    posts.insert(p.id, p);
                }
            }
        }

        let first = posts.values().find(|p| p.post_number == 1).cloned();
        let slug = topic.slug.clone().unwrap_or_else(|| "topic".into());
        let tid = topic.id.unwrap_or(topic_id);
        let number_to_id: HashMap<u64, u64> = posts
            .values()
            .filter(|p| p.visible() && p.post_number > 1)
            .map(|p| (p.post_number, p.id))
            .collect();
        let mut thread = NetworkThread {
            kind: Kind::Discourse,
            label: t.label.clone(),
            post_id: post.id.clone(),
            post_url: post
                .url
                .clone()
                .or_else(|| http_url(Some(&format!("{}/t/{slug}/{tid}", t.base_url)))),
            fetched_at: ctx.now.clone(),
            counts: Counts {
                likes: first.as_ref().map_or(0, Post::likes),
                reposts: 0,
                quotes: first.as_ref().map_or(0, |p| p.quote_count),
                replies: 0,
            },
            followers: None,
            truncated: truncated_stream,
            etags: etag.into_iter().map(|e| ("topic".to_string(), e)).collect(),
            comments: Vec::new(),
        };
        for p in posts.values() {
            if p.post_number <= 1 || !p.visible() {
                continue;
            }
            let Some(published) = normalize_time(&p.created_at) else {
                continue;
            };
            let parent = p
                .reply_to()
                .filter(|&n| n > 1)
                .and_then(|n| number_to_id.get(&n))
                .map(|id| id.to_string());
            let avatar = p.avatar_template.as_deref().and_then(|a| {
                let a = a.replace("{size}", "96");
                let abs = if a.starts_with('/') {
                    format!("{}{a}", t.base_url)
                } else {
                    a
                };
                http_url(Some(&abs))
            });
            thread.comments.push(Comment {
                id: p.id.to_string(),
                url: http_url(Some(&format!(
                    "{}/t/{slug}/{tid}/{}",
                    t.base_url, p.post_number
                ))),
                author: Author {
                    name: plain(
                        p.name
                            .as_deref()
                            .filter(|n| !n.trim().is_empty())
                            .unwrap_or(&p.username),
                        200,
                    ),
                    handle: plain(&p.username.to_lowercase(), 300),
                    id: p.user_id.map(|i| i.to_string()),
                    url: http_url(Some(&format!("{}/u/{}", t.base_url, enc(&p.username)))),
                    avatar,
                    avatar_file: None,
                },
                published,
                edited: p
                    .updated_at
                    .as_deref()
                    .filter(|_| p.version.unwrap_or(1) > 1)
                    .and_then(normalize_time),
                html: clean_html(&p.cooked, Some(&t.base_url), ctx.config.max_comment_bytes),
                parent,
                likes: p.likes(),
                reposts: 0,
            });
        }
        thread.counts.replies = thread.comments.len() as u64;
        bound(&mut thread, ctx.config.max_comments);
        Ok(thread)
    }
}

fn enc(s: &str) -> String {
    crate::comments::sanitize::url_segment(s)
}
