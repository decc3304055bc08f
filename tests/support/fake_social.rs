//! A stateful fake of the Mastodon and Discourse endpoints `herald
//! syndicate` uses, on tiny_http, port 0, loopback only.
//!
//! Replies start from a minimal instance of the response schema in the
//! official API descriptions (`../shared/specs/`: every required property,
//! typed), with the fake's state laid over it — so Prism, in proxy mode in
//! front of this fake, can check the replies as well as the requests.
//! Every request is recorded. On cue the fake fails: a status code, a 429
//! with `Retry-After`, a slow reply *after* doing the work (the client times
//! out although the post exists), or a connection cut after doing the work.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A failure to act out.
#[derive(Debug, Clone)]
pub enum Cue {
    /// Answer this status (with a JSON error) without doing anything.
    Status(u16),
    /// Answer 429 with `Retry-After: n` without doing anything.
    RateLimit(u64),
    /// Do the work, then wait this long before answering.
    SlowAfterWork(Duration),
    /// Do the work, then cut the connection in the middle of the reply.
    CutAfterWork,
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    /// (method, path prefix, cue, times left)
    cues: Vec<(String, String, Cue, usize)>,
    statuses: Vec<Value>,
    idempotency: HashMap<String, usize>,
    media: HashMap<String, u32>,
    /// (topic id, title, slug, raw, external_id)
    topics: Vec<(u64, String, String, String, Option<String>)>,
    next_id: u64,
    media_polls: u32,
    /// `max_characters` the instance announces (500 when 0).
    max_characters: u64,
}

pub struct FakeSocial {
    pub url: String,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    pub token: String,
    pub api_key: String,
}

pub fn shared_dir() -> PathBuf {
    std::env::var_os("HERALD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

fn load_spec(name: &str) -> Value {
    let p = shared_dir().join("specs").join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the API descriptions come with ../shared/specs)",
            p.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// The Mastodon description, with two fixes:
/// - its `Idempotency-Key` header is declared as an object (Prism crashes on
///   it); it is a string;
/// - the body of `POST /api/v1/statuses` is `oneOf` text, media or poll
///   status, but a status with text *and* media (which the description
///   itself allows: "If `media_ids` is provided, `status` becomes
///   optional") matches two of them, and `oneOf` then refuses it. Real
///   servers accept it, so the alternatives are made `anyOf`.
pub fn mastodon_spec() -> Value {
    let mut spec = load_spec("mastodon-openapi.json");
    let body = &mut spec["paths"]["/api/v1/statuses"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    if let Some(one) = body.as_object_mut().and_then(|o| o.remove("oneOf")) {
        body["anyOf"] = one;
    }
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for ops in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in ops.values_mut() {
                if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                    for p in params {
                        if p["in"] == "header" && p["schema"]["type"] == "object" {
                            p["schema"]["type"] = json!("string");
                        }
                    }
                }
            }
        }
    }
    spec
}

pub fn discourse_spec() -> Value {
    load_spec("discourse-openapi.json")
}

/// The Discourse description for Prism's proxy. `GET /t/external_id/{id}.json`
/// is documented with its 301 only; Prism's proxy follows the redirect
/// itself and then finds a 200 the description does not list. The real API
/// redirects to `/t/{id}.json`, so the 200 that the redirect leads to is
/// added, with that endpoint's schema: the followed reply is still checked.
pub fn discourse_spec_for_prism() -> Value {
    let mut spec = discourse_spec();
    let topic = spec["paths"]["/t/{id}.json"]["get"]["responses"]["200"].clone();
    spec["paths"]["/t/external_id/{external_id}.json"]["get"]["responses"]["200"] = topic;
    spec
}

/// A minimal valid instance of `schema`.
pub fn skel(schema: &Value, spec: &Value) -> Value {
    let mut s = schema.clone();
    while let Some(r) = s.get("$ref").and_then(Value::as_str).map(str::to_string) {
        let name = r.rsplit('/').next().unwrap();
        let mut merged = spec["components"]["schemas"][name].clone();
        if let (Some(m), Some(o)) = (merged.as_object_mut(), s.as_object()) {
            for (k, v) in o {
                if k != "$ref" {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        s = merged;
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        let mut out = serde_json::Map::new();
        for sub in all {
            if let Value::Object(o) = skel(sub, spec) {
                out.extend(o);
            }
        }
        return Value::Object(out);
    }
    if let Some(one) = s
        .get("oneOf")
        .or_else(|| s.get("anyOf"))
        .and_then(Value::as_array)
    {
        return skel(&one[0], spec);
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        return e[0].clone();
    }
    let t = match &s["type"] {
        Value::Array(ts) => {
            if ts.iter().any(|t| t == "null") {
                "null".to_string()
            } else {
                ts[0].as_str().unwrap_or("").to_string()
            }
        }
        Value::String(t) => t.clone(),
        _ => String::new(),
    };
    if t == "object" || s.get("properties").is_some() {
        let mut out = serde_json::Map::new();
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for k in req.iter().filter_map(Value::as_str) {
                if let Some(p) = s["properties"].get(k) {
                    out.insert(k.to_string(), skel(p, spec));
                }
            }
        }
        return Value::Object(out);
    }
    match t.as_str() {
        "array" => json!([]),
        "integer" | "number" => json!(0),
        "boolean" => json!(false),
        "null" => Value::Null,
        "string" => match s.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2026-01-01T00:00:00.000Z"),
            Some("date") => json!("2026-01-01"),
            Some("uri" | "url" | "uri-reference") => json!("http://127.0.0.1/x"),
            Some("email") => json!("fake@example.invalid"),
            Some("hostname") => json!("localhost"),
            _ => json!(""),
        },
        _ => Value::Null,
    }
}

/// The skeleton of the JSON reply of `method path` with `code`, with `over` laid on top.
fn reply_body(spec: &Value, path: &str, method: &str, code: &str, over: Value) -> Value {
    let schema =
        &spec["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"];
    let mut b = skel(schema, spec);
    merge(&mut b, over);
    b
}

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn slugify(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

struct Reply {
    status: u16,
    body: Option<Value>,
    headers: Vec<(String, String)>,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        body: Some(body),
        headers: Vec::new(),
    }
}

impl FakeSocial {
    /// Starts the fake on 127.0.0.1, on a free port.
    pub fn start() -> FakeSocial {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            next_id: 100,
            ..Default::default()
        }));
        let fake = FakeSocial {
            url: format!("http://127.0.0.1:{port}"),
            state: state.clone(),
            server: server.clone(),
            token: "fake-mastodon-token-7c1d".into(),
            api_key: "fake-discourse-key-91ab".into(),
        };
        let (mspec, dspec) = (Arc::new(mastodon_spec()), Arc::new(discourse_spec()));
        let (token, key, base) = (fake.token.clone(), fake.api_key.clone(), fake.url.clone());
        std::thread::spawn(move || {
            for req in server.incoming_requests() {
                let (state, mspec, dspec) = (state.clone(), mspec.clone(), dspec.clone());
                let (token, key, base) = (token.clone(), key.clone(), base.clone());
                std::thread::spawn(move || {
                    handle(req, &state, &mspec, &dspec, &token, &key, &base)
                });
            }
        });
        fake
    }

    /// Acts out `cue` on the next `times` requests to `method path…`.
    pub fn fail(&self, method: &str, path_prefix: &str, cue: Cue, times: usize) {
        self.state
            .lock()
            .unwrap()
            .cues
            .push((method.into(), path_prefix.into(), cue, times));
    }

    /// The instance announces this `max_characters` (and 23 per URL).
    pub fn max_characters(&self, n: u64) {
        self.state.lock().unwrap().max_characters = n;
    }

    /// Media uploads answer 202 and need this many polls before they are ready.
    pub fn media_processing(&self, polls: u32) {
        self.state.lock().unwrap().media_polls = polls;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Requests whose method and path (without query) match.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.url.split('?').next() == Some(path))
            .collect()
    }

    /// The statuses created.
    pub fn statuses(&self) -> Vec<Value> {
        self.state.lock().unwrap().statuses.clone()
    }

    /// The topics created: (id, title, raw, external_id).
    pub fn topics(&self) -> Vec<(u64, String, String, Option<String>)> {
        self.state
            .lock()
            .unwrap()
            .topics
            .iter()
            .map(|t| (t.0, t.1.clone(), t.3.clone(), t.4.clone()))
            .collect()
    }
}

impl Drop for FakeSocial {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

#[allow(clippy::too_many_arguments)]
fn handle(
    mut req: tiny_http::Request,
    state: &Mutex<State>,
    mspec: &Value,
    dspec: &Value,
    token: &str,
    key: &str,
    base: &str,
) {
    let mut body = Vec::new();
    let _ = req
        .as_reader()
        .take(32 * 1024 * 1024)
        .read_to_end(&mut body);
    let rec = Recorded {
        method: req.method().to_string(),
        url: req.url().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_ascii_lowercase(),
                    h.value.as_str().to_string(),
                )
            })
            .collect(),
        body,
    };
    let cue = {
        let mut s = state.lock().unwrap();
        s.requests.push(rec.clone());
        let path = rec.url.split('?').next().unwrap_or("").to_string();
        let mut found = None;
        for c in s.cues.iter_mut() {
            if c.0 == rec.method && path.starts_with(&c.1) && c.3 > 0 {
                c.3 -= 1;
                found = Some(c.2.clone());
                break;
            }
        }
        found
    };
    let r = match &cue {
        Some(Cue::Status(code)) => reply(*code, json!({ "error": format!("fake failure {code}") })),
        Some(Cue::RateLimit(secs)) => Reply {
            status: 429,
            body: Some(json!({ "error": "Too many requests" })),
            headers: vec![("Retry-After".into(), secs.to_string())],
        },
        _ => route(&rec, state, mspec, dspec, token, key, base),
    };
    match cue {
        Some(Cue::SlowAfterWork(d)) => std::thread::sleep(d),
        Some(Cue::CutAfterWork) => {
            let mut w = req.into_writer();
            let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\nConnection: close\r\n\r\n{\"id\":");
            let _ = w.flush();
            return;
        }
        _ => {}
    }
    let is_json = r.body_is_json();
    let data = r
        .body
        .map(|b| serde_json::to_vec(&b).unwrap())
        .unwrap_or_default();
    let mut resp = tiny_http::Response::from_data(data).with_status_code(r.status);
    if is_json {
        resp.add_header(
            tiny_http::Header::from_bytes("Content-Type", "application/json; charset=utf-8")
                .unwrap(),
        );
    }
    for (k, v) in r.headers {
        resp.add_header(tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap());
    }
    let _ = req.respond(resp);
}

impl Reply {
    fn body_is_json(&self) -> bool {
        self.body.is_some()
    }
}

#[allow(clippy::too_many_arguments)]
fn route(
    rec: &Recorded,
    state: &Mutex<State>,
    mspec: &Value,
    dspec: &Value,
    token: &str,
    key: &str,
    base: &str,
) -> Reply {
    let path = rec.url.split('?').next().unwrap_or("");
    let m = rec.method.as_str();
    let mastodon_auth = rec.header("authorization") == Some(&format!("Bearer {token}"));
    let discourse_auth = rec.header("api-key") == Some(key) && rec.header("api-username").is_some();
    let unauthorized = || reply(401, json!({ "error": "The access token is invalid" }));
    let mut s = state.lock().unwrap();
    let status_json =
        |st: &Value| -> Value { reply_body(mspec, "/api/v1/statuses", "post", "200", st.clone()) };
    match (m, path) {
        ("GET", "/api/v2/instance") => reply(
            200,
            reply_body(
                mspec,
                "/api/v2/instance",
                "get",
                "200",
                json!({
                    "domain": "127.0.0.1", "title": "Fake", "version": "4.3.0",
                    "configuration": { "statuses": { "max_characters": if s.max_characters == 0 { 500 } else { s.max_characters }, "characters_reserved_per_url": 23, "max_media_attachments": 4 } }
                }),
            ),
        ),
        ("GET", "/api/v1/accounts/verify_credentials") => {
            if !mastodon_auth {
                return unauthorized();
            }
            reply(
                200,
                reply_body(
                    mspec,
                    "/api/v1/accounts/verify_credentials",
                    "get",
                    "200",
                    json!({ "id": "1", "username": "fernhill", "acct": "fernhill" }),
                ),
            )
        }
        ("GET", "/api/v1/accounts/1/statuses") => {
            if !mastodon_auth {
                return unauthorized();
            }
            let list: Vec<Value> = s.statuses.iter().rev().map(status_json).collect();
            reply(200, json!(list))
        }
        ("POST", "/api/v2/media") => {
            if !mastodon_auth {
                return unauthorized();
            }
            let text = String::from_utf8_lossy(&rec.body).into_owned();
            if !text.contains("name=\"file\"") {
                return reply(
                    422,
                    json!({ "error": "Validation failed: File can't be blank" }),
                );
            }
            s.next_id += 1;
            let id = s.next_id.to_string();
            let polls = s.media_polls;
            s.media.insert(id.clone(), polls);
            let media = reply_body(
                mspec,
                "/api/v2/media",
                "post",
                "200",
                json!({
                    "id": id, "type": "image", "url": if polls > 0 { Value::Null } else { json!(format!("{base}/media/{id}.png")) },
                    "preview_url": format!("{base}/media/{id}.png"),
                }),
            );
            reply(if polls > 0 { 202 } else { 200 }, media)
        }
        ("GET", p) if p.starts_with("/api/v1/media/") => {
            if !mastodon_auth {
                return unauthorized();
            }
            let id = p.trim_start_matches("/api/v1/media/").to_string();
            let Some(left) = s.media.get_mut(&id) else {
                return reply(404, json!({ "error": "Record not found" }));
            };
            if *left > 0 {
                *left -= 1;
                return reply(
                    206,
                    reply_body(
                        mspec,
                        "/api/v1/media/{id}",
                        "get",
                        "200",
                        json!({ "id": id, "type": "image", "url": Value::Null }),
                    ),
                );
            }
            reply(
                200,
                reply_body(
                    mspec,
                    "/api/v1/media/{id}",
                    "get",
                    "200",
                    json!({ "id": id, "type": "image", "url": format!("{base}/media/{id}.png") }),
                ),
            )
        }
        ("POST", "/api/v1/statuses") => {
            if !mastodon_auth {
                return unauthorized();
            }
            let a = rec.json();
            let Some(text) = a["status"].as_str() else {
                return reply(
                    422,
                    json!({ "error": "Validation failed: Text can't be blank" }),
                );
            };
            if let Some(k) = rec.header("idempotency-key") {
                if let Some(&i) = s.idempotency.get(k) {
                    let st = s.statuses[i].clone();
                    return reply(200, status_json(&st));
                }
            }
            s.next_id += 1;
            let id = s.next_id.to_string();
            let content = format!("<p>{}</p>", html_escape(text).replace('\n', "<br />"));
            let st = json!({
                "id": id, "content": content, "url": format!("{base}/@fernhill/{id}"), "uri": format!("{base}/users/fernhill/statuses/{id}"),
                "visibility": a["visibility"].as_str().unwrap_or("public"), "language": a["language"].clone(),
                "spoiler_text": a["spoiler_text"].as_str().unwrap_or(""),
                "media_ids": a["media_ids"].clone(),
            });
            s.statuses.push(st.clone());
            let i = s.statuses.len() - 1;
            if let Some(k) = rec.header("idempotency-key") {
                s.idempotency.insert(k.to_string(), i);
            }
            let mut out = st;
            out.as_object_mut().unwrap().remove("media_ids");
            reply(200, status_json(&out))
        }
        ("GET", p) if p.starts_with("/t/external_id/") => {
            if !discourse_auth {
                return reply(
                    403,
                    json!({ "errors": ["The API username or key is invalid."], "error_type": "invalid_access" }),
                );
            }
            let ext = p
                .trim_start_matches("/t/external_id/")
                .trim_end_matches(".json");
            match s.topics.iter().find(|t| t.4.as_deref() == Some(ext)) {
                Some(t) => Reply {
                    status: 301,
                    body: None,
                    headers: vec![("Location".into(), format!("/t/{}.json", t.0))],
                },
                None => reply(
                    404,
                    json!({ "errors": ["The requested URL or resource could not be found."], "error_type": "not_found" }),
                ),
            }
        }
        ("GET", p) if p.starts_with("/t/") && p.ends_with(".json") => {
            if !discourse_auth {
                return reply(
                    403,
                    json!({ "errors": ["The API username or key is invalid."], "error_type": "invalid_access" }),
                );
            }
            let id: u64 = p[3..p.len() - 5].parse().unwrap_or(0);
            match s.topics.iter().find(|t| t.0 == id) {
                Some(t) => reply(
                    200,
                    reply_body(
                        dspec,
                        "/t/{id}.json",
                        "get",
                        "200",
                        json!({ "id": t.0, "title": t.1, "fancy_title": t.1, "slug": t.2, "posts_count": 1 }),
                    ),
                ),
                None => reply(
                    404,
                    json!({ "errors": ["not found"], "error_type": "not_found" }),
                ),
            }
        }
        ("POST", "/posts.json") => {
            if !discourse_auth {
                return reply(
                    403,
                    json!({ "errors": ["The API username or key is invalid."], "error_type": "invalid_access" }),
                );
            }
            let a = rec.json();
            let (Some(title), Some(raw)) = (a["title"].as_str(), a["raw"].as_str()) else {
                return reply(422, json!({ "errors": ["Title and body are required"] }));
            };
            let ext = a["external_id"].as_str().map(str::to_string);
            if ext.is_some() && s.topics.iter().any(|t| t.4 == ext) {
                return reply(
                    422,
                    json!({ "action": "create_post", "errors": ["External ID has already been taken"] }),
                );
            }
            s.next_id += 1;
            let tid = s.next_id;
            s.next_id += 1;
            let pid = s.next_id;
            let slug = slugify(title);
            s.topics
                .push((tid, title.to_string(), slug.clone(), raw.to_string(), ext));
            reply(
                200,
                reply_body(
                    dspec,
                    "/posts.json",
                    "post",
                    "200",
                    json!({
                        "id": pid, "topic_id": tid, "topic_slug": slug, "post_number": 1, "raw": raw,
                        "cooked": format!("<p>{}</p>", html_escape(raw)), "username": rec.header("api-username").unwrap_or(""),
                        "reply_to_post_number": Value::Null,
                    }),
                ),
            )
        }
        _ => reply(404, json!({ "error": "not found" })),
    }
}
