//! Fake Mastodon and Discourse servers (tiny_http on port 0) whose answers
//! follow the official API descriptions in `../shared/specs/` (field names
//! and types). They record every request, answer conditional requests with
//! 304, can add latency, fail with 500 or answer 429 with `Retry-After`.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A 40 × 40 GIF header: an avatar (valid UTF-8, as the fakes send text).
pub const GIF_40: &str = "GIF89a(\0(\0\0\0\0\0";

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub url: String,
    pub authorization: Option<String>,
    pub api_key: Option<String>,
    pub if_none_match: Option<String>,
}

type Handler = dyn Fn(&str, &Seen) -> (u16, Vec<(String, String)>, String) + Send + Sync;

/// A server on 127.0.0.1 with a handler; stops when dropped.
pub struct Fake {
    pub url: String,
    server: Arc<tiny_http::Server>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Every answer is 500 while set.
    pub fail: Arc<AtomicBool>,
    /// This many next answers are 429 with `Retry-After: 1`.
    pub rate_limit: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Fake {
    pub fn start(latency: Duration, handler: Arc<Handler>) -> Fake {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicBool::new(false));
        let rate_limit = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (server, seen, fail, rate_limit) = (
                server.clone(),
                seen.clone(),
                fail.clone(),
                rate_limit.clone(),
            );
            std::thread::spawn(move || {
                for req in server.incoming_requests() {
                    let (seen, fail, rate_limit, handler) = (
                        seen.clone(),
                        fail.clone(),
                        rate_limit.clone(),
                        handler.clone(),
                    );
                    std::thread::spawn(move || {
                        let header = |name: &str| {
                            req.headers()
                                .iter()
                                .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
                                .map(|h| h.value.as_str().to_string())
                        };
                        let s = Seen {
                            url: req.url().to_string(),
                            authorization: header("authorization"),
                            api_key: header("api-key"),
                            if_none_match: header("if-none-match"),
                        };
                        seen.lock().unwrap().push(s.clone());
                        if !latency.is_zero() {
                            std::thread::sleep(latency);
                        }
                        let (status, headers, body) = if fail.load(Ordering::SeqCst) {
                            (500, vec![], "{\"error\":\"boom\"}".to_string())
                        } else if rate_limit
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok()
                        {
                            (
                                429,
                                vec![("Retry-After".to_string(), "1".to_string())],
                                "{\"error\":\"Too many requests\"}".into(),
                            )
                        } else {
                            let path = s.url.split('?').next().unwrap_or("").to_string();
                            handler(&path, &s)
                        };
                        let mut resp =
                            tiny_http::Response::from_string(body).with_status_code(status);
                        resp.add_header(
                            tiny_http::Header::from_bytes(
                                "Content-Type",
                                "application/json; charset=utf-8",
                            )
                            .unwrap(),
                        );
                        for (k, v) in headers {
                            resp.add_header(
                                tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap(),
                            );
                        }
                        let _ = req.respond(resp);
                    });
                }
            })
        };
        Fake {
            url: format!("http://127.0.0.1:{port}"),
            server,
            seen,
            fail,
            rate_limit,
            thread: Some(thread),
        }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A weak ETag of a body.
fn etag(body: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("W/\"{:x}\"", h.finish())
}

/// 200 with an ETag, or 304 when the client already has it.
fn conditional(seen: &Seen, body: String) -> (u16, Vec<(String, String)>, String) {
    let tag = etag(&body);
    if seen.if_none_match.as_deref() == Some(tag.as_str()) {
        return (304, vec![("ETag".into(), tag)], String::new());
    }
    (200, vec![("ETag".into(), tag)], body)
}

// ------------------------------------------------------------------ Mastodon

/// A Mastodon `Account` (fields of the description's schema).
pub fn account(
    id: &str,
    username: &str,
    domain: Option<&str>,
    name: &str,
    followers: u64,
) -> Value {
    let acct = match domain {
        Some(d) => format!("{username}@{d}"),
        None => username.to_string(),
    };
    let host = domain.unwrap_or("mastodon.example");
    json!({
        "id": id, "username": username, "acct": acct, "display_name": name,
        "locked": false, "bot": false, "discoverable": true, "group": false,
        "created_at": "2022-11-01T00:00:00.000Z", "note": "",
        "url": format!("https://{host}/@{username}"), "uri": format!("https://{host}/users/{username}"),
        "avatar": format!("https://{host}/avatars/{id}.png"), "avatar_static": format!("https://{host}/avatars/{id}.png"),
        "header": "", "header_static": "", "followers_count": followers, "following_count": 10,
        "statuses_count": 100, "last_status_at": "2026-05-30", "emojis": [], "fields": []
    })
}

/// A Mastodon `Status`.
pub fn status(
    id: &str,
    reply_to: Option<&str>,
    acct: &Value,
    content: &str,
    created: &str,
    visibility: &str,
) -> Value {
    json!({
        "id": id, "created_at": created, "in_reply_to_id": reply_to,
        "in_reply_to_account_id": reply_to.map(|_| "1"), "sensitive": false, "spoiler_text": "",
        "visibility": visibility, "language": "en",
        "uri": format!("https://mastodon.example/users/x/statuses/{id}"),
        "url": format!("https://mastodon.example/@x/{id}"),
        "replies_count": 0, "reblogs_count": 1, "favourites_count": 2, "quotes_count": 0,
        "edited_at": null, "favourited": false, "reblogged": false, "muted": false, "bookmarked": false,
        "content": content, "reblog": null, "application": null, "account": acct,
        "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": null, "poll": null
    })
}

/// The state of a fake Mastodon instance: root statuses and their replies.
#[derive(Default)]
pub struct Mastodon {
    pub statuses: HashMap<String, Value>,
    pub replies: HashMap<String, Vec<Value>>,
    /// Unauthenticated context requests see at most this many descendants (Mastodon: 60).
    pub public_cap: usize,
    /// The token that counts as authenticated.
    pub token: String,
}

pub fn mastodon(state: Arc<Mutex<Mastodon>>, latency: Duration) -> Fake {
    Fake::start(
        latency,
        Arc::new(move |path: &str, seen: &Seen| {
            // Avatars, as the instance's media server would serve them.
            if let Some(file) = path.strip_prefix("/avatars/") {
                return match file {
                    "evil.svg" => (
                        200,
                        vec![],
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"window.__pwned=1\"/>"
                            .into(),
                    ),
                    _ if file.ends_with(".gif") => (200, vec![], GIF_40.into()),
                    _ => (404, vec![], "{}".into()),
                };
            }
            let st = state.lock().unwrap();
            let rest = path.strip_prefix("/api/v1/statuses/").unwrap_or("");
            let (id, context) = match rest.strip_suffix("/context") {
                Some(id) => (id, true),
                None => (rest, false),
            };
            let Some(root) = st.statuses.get(id) else {
                return (404, vec![], "{\"error\":\"Record not found\"}".into());
            };
            if !context {
                return conditional(seen, root.to_string());
            }
            let authed = seen.authorization.as_deref() == Some(&format!("Bearer {}", st.token));
            let mut d = st.replies.get(id).cloned().unwrap_or_default();
            if !authed {
                d.truncate(st.public_cap);
            }
            conditional(seen, json!({"ancestors": [], "descendants": d}).to_string())
        }),
    )
}

// ----------------------------------------------------------------- Discourse

/// A Discourse post as `/t/{id}.json` and `/t/{id}/posts.json` return it.
pub fn post(
    id: u64,
    number: u64,
    user: &str,
    cooked: &str,
    reply_to: Value,
    created: &str,
) -> Value {
    json!({
        "id": id, "name": format!("{} Name", user), "username": user,
        "avatar_template": format!("/user_avatar/forum.example/{user}/{{size}}/1_2.png"),
        "created_at": created, "cooked": cooked, "post_number": number, "post_type": 1,
        "updated_at": created, "reply_count": 0, "reply_to_post_number": reply_to,
        "quote_count": 0, "incoming_link_count": 0, "reads": 3, "readers_count": 2, "score": 0.4,
        "yours": false, "topic_id": 77, "topic_slug": "launch", "display_username": user,
        "primary_group_name": null, "flair_name": null, "flair_url": null, "flair_bg_color": null,
        "flair_color": null, "version": 1, "can_edit": false, "can_delete": false, "can_recover": false,
        "can_wiki": false, "read": true, "user_title": null,
        // Real servers add `count` to each action; the description lists only id and can_act.
        "actions_summary": [{"id": 2, "count": 1, "can_act": true}],
        "moderator": false, "admin": false, "staff": false, "user_id": id as i64 + 1000, "hidden": false,
        "trust_level": 1, "deleted_at": null, "user_deleted": false, "edit_reason": null,
        "can_view_edit_history": true, "wiki": false
    })
}

/// The state of a fake forum: topics as their full list of posts.
#[derive(Default)]
pub struct Discourse {
    pub topics: HashMap<u64, Vec<Value>>,
    /// Posts in the first chunk of `/t/{id}.json` (Discourse: 20).
    pub chunk: usize,
}

pub fn discourse(state: Arc<Mutex<Discourse>>, latency: Duration) -> Fake {
    Fake::start(
        latency,
        Arc::new(move |path: &str, seen: &Seen| {
            if path.starts_with("/user_avatar/") {
                return (200, vec![], GIF_40.into());
            }
            let st = state.lock().unwrap();
            let parse_topic = |s: &str| {
                s.parse::<u64>()
                    .ok()
                    .and_then(|id| st.topics.get(&id).map(|p| (id, p)))
            };
            if let Some(t) = path
                .strip_prefix("/t/")
                .and_then(|r| r.strip_suffix(".json"))
            {
                if let Some(id) = t.strip_suffix("/posts") {
                    let Some((_, posts)) = parse_topic(id) else {
                        return (404, vec![], "{}".into());
                    };
                    let query = seen.url.split_once('?').map(|(_, q)| q).unwrap_or("");
                    let wanted: Vec<u64> = query
                        .split('&')
                        .filter_map(|kv| kv.split_once('='))
                        .filter(|(k, _)| *k == "post_ids[]" || *k == "post_ids%5B%5D")
                        .filter_map(|(_, v)| v.parse().ok())
                        .collect();
                    let out: Vec<&Value> = posts
                        .iter()
                        .filter(|p| wanted.contains(&p["id"].as_u64().unwrap()))
                        .collect();
                    return (
                        200,
                        vec![],
                        json!({"post_stream": {"posts": out}, "id": 77}).to_string(),
                    );
                }
                let Some((id, posts)) = parse_topic(t) else {
                    return (404, vec![], "{\"errors\":[\"not found\"]}".into());
                };
                let first: Vec<&Value> = posts.iter().take(st.chunk).collect();
                let stream: Vec<u64> = posts.iter().map(|p| p["id"].as_u64().unwrap()).collect();
                let body = json!({
                    "id": id, "title": "Launch", "fancy_title": "Launch", "slug": "launch",
                    "posts_count": posts.len(), "reply_count": posts.len() - 1, "like_count": 3,
                    "created_at": "2026-05-30T09:00:00.000Z", "archetype": "regular", "visible": true,
                    "closed": false, "archived": false, "category_id": 5, "chunk_size": st.chunk,
                    "post_stream": {"posts": first, "stream": stream}
                });
                return conditional(seen, body.to_string());
            }
            (404, vec![], "{}".into())
        }),
    )
}
