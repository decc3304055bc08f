//! Bluesky: `app.bsky.feed.getPostThread` on an AppView (the public one by
//! default), deep enough for the whole thread, and `app.bsky.actor.getProfile`
//! for the account's followers. `notFoundPost` and `blockedPost` nodes, posts
//! labelled to be hidden, and replies the author hid (threadgate) are left
//! out. Text becomes HTML only through its facets.

use super::{bound, http_url, normalize_time, Ctx, Network, PostRef};
use crate::comments::http::{FetchError, Fetched};
use crate::comments::model::*;
use crate::comments::sanitize::{bluesky_html, plain, Facet, FacetTarget};
use serde_json::Value;
use std::collections::HashSet;

pub struct Bluesky;

/// Labels whose posts never reach a page.
const HIDING_LABELS: &[&str] = &[
    "!hide",
    "!takedown",
    "!warn",
    "spam",
    "porn",
    "sexual",
    "nudity",
    "graphic-media",
    "gore",
];

fn enc(s: &str) -> String {
    crate::comments::sanitize::url_segment(s)
}

fn s<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

fn n(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// `https://bsky.app/profile/HANDLE/post/RKEY` for `at://DID/app.bsky.feed.post/RKEY`.
pub fn post_web_url(web_url: &str, uri: &str, handle: Option<&str>) -> Option<String> {
    let rest = uri.strip_prefix("at://")?;
    let mut parts = rest.split('/');
    let did = parts.next()?;
    let collection = parts.next()?;
    let rkey = parts.next()?;
    if collection != "app.bsky.feed.post" || rkey.is_empty() {
        return None;
    }
    let who = handle
        .filter(|h| !h.is_empty() && *h != "handle.invalid")
        .unwrap_or(did);
    Some(format!("{web_url}/profile/{}/post/{}", enc(who), enc(rkey)))
}

impl Network for Bluesky {
    fn fetch(
        &self,
        ctx: &Ctx<'_>,
        post: &PostRef,
        _previous: Option<&NetworkThread>,
    ) -> Result<NetworkThread, FetchError> {
        let t = ctx.target;
        let url = format!(
            "{}/xrpc/app.bsky.feed.getPostThread?uri={}&depth=1000&parentHeight=0",
            t.base_url,
            enc(&post.id)
        );
        // The AppView sends no validators, so there is nothing to make conditional.
        let Fetched::Fresh { value, .. } = ctx.http.get_json::<Value>(&t.name, &url, &[], None)?
        else {
            return Err(ctx.error(
                &url,
                "HTTP 304 Not Modified to a request that was not conditional",
            ));
        };
        let root = value
            .get("thread")
            .ok_or_else(|| ctx.error(&url, "the answer has no `thread`"))?;
        match root.get("$type").and_then(Value::as_str) {
            Some("app.bsky.feed.defs#notFoundPost") => {
                return Err(ctx.error(&url, "the post was not found (deleted?)"))
            }
            Some("app.bsky.feed.defs#blockedPost") => {
                return Err(ctx.error(&url, "the post is blocked for this viewer"))
            }
            _ => {}
        }
        let root_post = root
            .get("post")
            .ok_or_else(|| ctx.error(&url, "the thread has no `post`"))?;
        let hidden: HashSet<&str> = value
            .pointer("/threadgate/record/hiddenReplies")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();

        let mut thread = NetworkThread {
            kind: Kind::Bluesky,
            label: t.label.clone(),
            post_id: post.id.clone(),
            post_url: post.url.clone().or_else(|| {
                post_web_url(&t.web_url, &post.id, s(root_post, &["author", "handle"]))
            }),
            fetched_at: ctx.now.clone(),
            counts: Counts {
                likes: n(root_post, "likeCount"),
                reposts: n(root_post, "repostCount"),
                quotes: n(root_post, "quoteCount"),
                replies: n(root_post, "replyCount"),
            },
            followers: None,
            truncated: false,
            etags: Default::default(),
            comments: Vec::new(),
        };

        // Depth-first over the replies, with an explicit stack: a hostile
        // thread cannot overflow ours, and the bound stops the walk.
        let mut stack: Vec<(&Value, Option<String>)> = root
            .get("replies")
            .and_then(Value::as_array)
            .map(|r| r.iter().rev().map(|n| (n, None)).collect())
            .unwrap_or_default();
        let limit = ctx.config.max_comments;
        let mut seen = HashSet::new();
        while let Some((node, parent)) = stack.pop() {
            if node.get("$type").and_then(Value::as_str)
                != Some("app.bsky.feed.defs#threadViewPost")
            {
                continue; // notFoundPost, blockedPost, or something newer
            }
            let Some(p) = node.get("post") else { continue };
            let Some(uri) = s(p, &["uri"]) else { continue };
            if hidden.contains(uri) || hidden_by_label(p) || !seen.insert(uri.to_string()) {
                continue;
            }
            if thread.comments.len() >= limit {
                thread.truncated = true;
                break;
            }
            let Some(c) = comment(p, parent, &t.web_url, ctx.config.max_comment_bytes) else {
                continue;
            };
            let id = c.id.clone();
            thread.comments.push(c);
            if let Some(replies) = node.get("replies").and_then(Value::as_array) {
                stack.extend(replies.iter().rev().map(|n| (n, Some(id.clone()))));
            }
        }
        bound(&mut thread, limit);

        if let Some(did) = s(root_post, &["author", "did"]) {
            let purl = format!(
                "{}/xrpc/app.bsky.actor.getProfile?actor={}",
                t.base_url,
                enc(did)
            );
            if let Fetched::Fresh { value, .. } =
                ctx.http.get_json::<Value>(&t.name, &purl, &[], None)?
            {
                thread.followers = value.get("followersCount").and_then(Value::as_u64);
            }
        }
        Ok(thread)
    }
}

fn hidden_by_label(p: &Value) -> bool {
    p.get("labels").and_then(Value::as_array).is_some_and(|ls| {
        ls.iter()
            .filter_map(|l| l.get("val").and_then(Value::as_str))
            .any(|v| HIDING_LABELS.contains(&v))
    })
}

fn comment(p: &Value, parent: Option<String>, web_url: &str, max_bytes: usize) -> Option<Comment> {
    let uri = s(p, &["uri"])?.to_string();
    let record = p.get("record")?;
    let text = s(record, &["text"]).unwrap_or("");
    let published = s(record, &["createdAt"])
        .and_then(normalize_time)
        .or_else(|| s(p, &["indexedAt"]).and_then(normalize_time))?;
    let facets = record
        .get("facets")
        .and_then(Value::as_array)
        .map(|fs| fs.iter().flat_map(facet).collect::<Vec<_>>())
        .unwrap_or_default();
    let author = p.get("author")?;
    let did = s(author, &["did"]).unwrap_or("").to_string();
    let handle = s(author, &["handle"]).unwrap_or("").to_lowercase();
    let profile = if handle.is_empty() || handle == "handle.invalid" {
        &did
    } else {
        &handle
    };
    Some(Comment {
        url: post_web_url(web_url, &uri, Some(&handle)),
        id: uri,
        author: Author {
            name: plain(s(author, &["displayName"]).unwrap_or(""), 200),
            handle: plain(&handle, 300),
            id: (!did.is_empty()).then(|| did.clone()),
            url: http_url(Some(&format!("{web_url}/profile/{}", enc(profile)))),
            avatar: http_url(s(author, &["avatar"])),
            avatar_file: None,
        },
        published,
        edited: None,
        html: bluesky_html(text, &facets, web_url, max_bytes),
        parent,
        likes: n(p, "likeCount"),
        reposts: n(p, "repostCount"),
    })
}

/// The facets of one `app.bsky.richtext.facet` (one per feature).
fn facet(f: &Value) -> Vec<Facet> {
    let idx = f.get("index");
    let (Some(start), Some(end)) = (
        idx.and_then(|i| i.get("byteStart")).and_then(Value::as_u64),
        idx.and_then(|i| i.get("byteEnd")).and_then(Value::as_u64),
    ) else {
        return Vec::new();
    };
    let (start, end) = (start as usize, end as usize);
    f.get("features")
        .and_then(Value::as_array)
        .map(|fs| {
            fs.iter()
                .filter_map(|feat| {
                    let target = match feat.get("$type").and_then(Value::as_str)? {
                        "app.bsky.richtext.facet#link" => {
                            FacetTarget::Link(s(feat, &["uri"])?.into())
                        }
                        "app.bsky.richtext.facet#mention" => {
                            FacetTarget::Mention(s(feat, &["did"])?.into())
                        }
                        "app.bsky.richtext.facet#tag" => {
                            FacetTarget::Tag(s(feat, &["tag"])?.into())
                        }
                        _ => return None,
                    };
                    Some(Facet { start, end, target })
                })
                .take(1)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_urls_of_posts() {
        assert_eq!(
            post_web_url(
                "https://bsky.app",
                "at://did:plc:abc/app.bsky.feed.post/3k2a",
                Some("fern.example")
            )
            .unwrap(),
            "https://bsky.app/profile/fern.example/post/3k2a"
        );
        assert!(post_web_url(
            "https://bsky.app",
            "at://did:plc:abc/app.bsky.feed.like/3k2a",
            None
        )
        .is_none());
        assert!(post_web_url("https://bsky.app", "https://x", None).is_none());
    }
}
