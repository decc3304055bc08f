//! Bluesky (AT Protocol): one session per run (`createSession` once,
//! `refreshSession` when the access token expires), a post record with
//! facets (UTF-8 byte offsets) and an `app.bsky.embed.external` link card
//! whose thumbnail is uploaded with `uploadBlob`.
//!
//! Never twice: the record is written with `com.atproto.repo.putRecord`
//! under a record key (a TID) derived from the entry, and the record is
//! byte-identical on every try (`createdAt` is the entry's date), so a retry
//! rewrites the same record instead of creating a second post.

use super::config::{BlueskyConfig, NetworkConfig};
use super::http::{secret_client, Body, Http, NetError, Request};
use super::message::{compose, facets, shorten, weight, FacetKind, Limit};
use super::network::{stable_hash, Card, Entry, Message, Network, Posted};
use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::Deserialize;
use serde_json::{json, Value};

pub const DEFAULT_TEMPLATE: &str = "{{ title }}\n\n{{ summary }}\n\n{{ url }}\n\n{{ hashtags }}";
pub const MAX_GRAPHEMES: usize = 300;
pub const MAX_BYTES: usize = 3000;
/// The largest thumbnail a link card may have.
pub const MAX_THUMB_BYTES: usize = 1_000_000;
const COLLECTION: &str = "app.bsky.feed.post";

pub struct Bluesky {
    net: NetworkConfig,
    cfg: BlueskyConfig,
    http: Option<Http>,
    password: Option<String>,
    session: Option<Session>,
    /// How many sessions were created in this run (one, unless the refresh
    /// token expired too).
    pub logins: usize,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Session {
    access_jwt: String,
    refresh_jwt: String,
    did: String,
}

#[derive(Deserialize)]
struct XrpcError {
    error: Option<String>,
}

#[derive(Deserialize)]
struct RecordRef {
    uri: String,
}

/// The base32-sortable alphabet of TIDs.
const S32: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A TID (timestamp identifier) derived from the entry: the entry's date in
/// microseconds, plus an offset below one second and a clock id both taken
/// from a hash of the entry's file, so two entries of the same day get
/// different keys and the same entry always gets the same key.
pub fn tid(entry_rel: &str, date: &DateTime<FixedOffset>) -> String {
    let h = stable_hash(&["bluesky-tid", entry_rel]);
    let micros = u64::try_from(date.timestamp_micros()).unwrap_or(0) + h % 1_000_000;
    let clock = (h >> 32) & 0x3ff;
    encode_tid(micros, clock)
}

/// A TID: 53 bits of microseconds since the epoch, then a 10-bit clock id,
/// in base32-sortable, 13 characters.
pub fn encode_tid(micros: u64, clock: u64) -> String {
    let v = ((micros & ((1 << 53) - 1)) << 10) | (clock & 0x3ff);
    (0..13)
        .rev()
        .map(|i| S32[((v >> (5 * i)) & 31) as usize] as char)
        .collect()
}

/// Whether `key` is a valid TID record key.
pub fn is_tid(key: &str) -> bool {
    key.len() == 13
        && key.bytes().all(|b| S32.contains(&b))
        && b"234567abcdefghij".contains(&key.as_bytes()[0])
}

impl Bluesky {
    /// A client that can prepare messages but not send (for `--dry-run`).
    pub fn new(net: &NetworkConfig, cfg: &BlueskyConfig) -> Bluesky {
        Bluesky {
            net: net.clone(),
            cfg: cfg.clone(),
            http: None,
            password: None,
            session: None,
            logins: 0,
        }
    }

    /// Reads the app password from its environment variable. The session
    /// itself is created on first use.
    pub fn connect(&mut self) -> Result<(), NetError> {
        let (password, http) = secret_client(
            &self.cfg.password_env,
            format!("the app password of [networks.{}]", self.net.name),
            self.net.timeout,
        )?;
        self.http = Some(http);
        self.password = Some(password);
        Ok(())
    }

    fn xrpc(&self, method: &str) -> String {
        format!("{}/xrpc/{method}", self.cfg.pds)
    }

    fn http(&self) -> Result<&Http, NetError> {
        self.http.as_ref().ok_or_else(|| NetError::MissingSecret {
            env_var: self.cfg.password_env.clone(),
            what: "not connected".into(),
        })
    }

    fn login(&mut self) -> Result<(), NetError> {
        let password = self.password.clone().unwrap_or_default();
        let req = Request::post_json(
            self.xrpc("com.atproto.server.createSession"),
            json!({ "identifier": self.cfg.handle, "password": password }),
        );
        let http = self.http()?;
        let resp = http.send(&req)?;
        if resp.status == 400 {
            // A wrong password is a 401 on bsky.social but a 400
            // (AuthenticationRequired) on some servers: both mean the secret.
            if let Ok(XrpcError { error: Some(e) }) = resp.json::<XrpcError>() {
                if e.contains("Auth") {
                    return Err(NetError::Auth {
                        method: "POST".into(),
                        url: self.xrpc("com.atproto.server.createSession"),
                        status: 400,
                        env_var: self.cfg.password_env.clone(),
                        detail: e,
                    });
                }
            }
        }
        let session: Session = resp.ok()?.json()?;
        self.session = Some(session);
        self.logins += 1;
        Ok(())
    }

    /// Refreshes the session; logs in again if the refresh token expired too.
    fn refresh(&mut self) -> Result<(), NetError> {
        let Some(s) = self.session.clone() else {
            return self.login();
        };
        let req = Request::post_json(self.xrpc("com.atproto.server.refreshSession"), Value::Null)
            .header("authorization", format!("Bearer {}", s.refresh_jwt));
        let req = Request {
            body: Body::None,
            ..req
        };
        match self.http()?.send(&req).and_then(|r| r.ok()) {
            Ok(resp) => {
                self.session = Some(resp.json()?);
                Ok(())
            }
            Err(e) if is_expired(&e) || matches!(e, NetError::Auth { .. }) => self.login(),
            Err(e) => Err(e),
        }
    }

    fn session(&mut self) -> Result<Session, NetError> {
        if self.session.is_none() {
            self.login()?;
        }
        Ok(self.session.clone().expect("logged in"))
    }

    /// Sends an authenticated request; refreshes the session once if the
    /// access token expired.
    fn call(&mut self, req: Request) -> Result<super::http::Response, NetError> {
        for attempt in 0..2 {
            let s = self.session()?;
            let authed = req
                .clone()
                .header("authorization", format!("Bearer {}", s.access_jwt));
            match self.http()?.send(&authed).and_then(|r| r.ok()) {
                Err(e) if attempt == 0 && is_expired(&e) => self.refresh()?,
                other => return other,
            }
        }
        unreachable!("the loop returns on its second pass")
    }

    fn limit() -> Limit {
        Limit {
            max: MAX_GRAPHEMES,
            max_bytes: Some(MAX_BYTES),
            url_weight: None,
        }
    }

    /// The post record: text, dates and languages from `base`, plus facets
    /// and the link card of `message`. With the thumbnail's blob added (the
    /// same bytes always give the same blob), it is exactly what `putRecord`
    /// sends, byte-identical on every try.
    fn record(base: Value, message: &Message) -> Value {
        let facets: Vec<Value> = message
            .facets
            .iter()
            .map(|f| {
                let feature = match &f.kind {
                    FacetKind::Link(uri) => json!({ "$type": "app.bsky.richtext.facet#link", "uri": uri }),
                    FacetKind::Tag(tag) => json!({ "$type": "app.bsky.richtext.facet#tag", "tag": tag }),
                };
                json!({ "index": { "byteStart": f.byte_start, "byteEnd": f.byte_end }, "features": [feature] })
            })
            .collect();
        let mut record = base;
        record["facets"] = json!(facets);
        if let Some(card) = &message.card {
            let external = json!({
                "uri": card.uri,
                "title": card.title,
                "description": card.description,
            });
            record["embed"] = json!({ "$type": "app.bsky.embed.external", "external": external });
        }
        record
    }

    fn post_url(&self, rkey: &str) -> String {
        format!(
            "{}/profile/{}/post/{rkey}",
            self.cfg.web_url, self.cfg.handle
        )
    }
}

fn is_expired(e: &NetError) -> bool {
    match e {
        NetError::Status {
            status: 400,
            detail,
            ..
        }
        | NetError::Auth { detail, .. } => detail.contains("ExpiredToken"),
        _ => false,
    }
}

impl Network for Bluesky {
    fn name(&self) -> &str {
        &self.net.name
    }

    fn kind(&self) -> &'static str {
        "bluesky"
    }

    fn prepare(&self, entry: &Entry) -> Result<Message, NetError> {
        let limit = Bluesky::limit();
        let text = match entry.custom_message(&self.net.name) {
            Some(m) => shorten(m.trim(), &limit),
            None => compose(
                self.net.template.as_deref().unwrap_or(DEFAULT_TEMPLATE),
                &entry.vars(),
                &limit,
            ),
        }
        .map_err(|e| NetError::Entry(e.to_string()))?;
        if let Some(img) = &entry.image {
            // Checked here so --dry-run reports it too.
            let len = std::fs::metadata(&img.path).map(|m| m.len()).unwrap_or(0);
            if len > MAX_THUMB_BYTES as u64 {
                return Err(NetError::Entry(format!(
                    "the image `{}` is {len} bytes; a Bluesky link card takes at most {MAX_THUMB_BYTES}: make it smaller",
                    img.path.display()
                )));
            }
        }
        let description = shorten(
            &entry.summary,
            &Limit {
                max: 300,
                max_bytes: Some(1000),
                url_weight: None,
            },
        )
        .unwrap_or_default();
        let created_at = entry
            .date
            .to_utc()
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let payload = json!({
            "$type": COLLECTION,
            "text": text,
            "createdAt": created_at,
            "langs": [self.cfg.language],
        });
        let key = tid(&entry.rel, &entry.date);
        let mut message = Message {
            entry: entry.rel.clone(),
            network: self.net.name.clone(),
            kind: "bluesky",
            title: None,
            length: weight(&text, None),
            limit: MAX_GRAPHEMES,
            unit: "graphemes",
            facets: facets(&text),
            text,
            card: Some(Card {
                uri: entry.url.clone(),
                title: entry.title.clone(),
                description,
                thumb: entry.image.clone(),
            }),
            image: None,
            key,
            url: entry.url.clone(),
            payload: Value::Null,
        };
        // The record as it will be sent, less the thumbnail's blob.
        message.payload = Bluesky::record(payload, &message);
        Ok(message)
    }

    fn find_existing(&mut self, message: &Message) -> Result<Option<Posted>, NetError> {
        let did = self.session()?.did;
        let url = format!(
            "{}?repo={}&collection={COLLECTION}&rkey={}",
            self.xrpc("com.atproto.repo.getRecord"),
            percent_encoding::utf8_percent_encode(&did, percent_encoding::NON_ALPHANUMERIC),
            message.key
        );
        let resp = self.http()?.send(&Request::get(url))?;
        if resp.status == 400 {
            if let Ok(XrpcError { error: Some(e) }) = resp.json::<XrpcError>() {
                if e == "RecordNotFound" {
                    return Ok(None);
                }
            }
        }
        let r: RecordRef = resp.ok()?.json()?;
        Ok(Some(Posted {
            id: r.uri,
            url: self.post_url(&message.key),
        }))
    }

    fn post(&mut self, message: &Message) -> Result<Posted, NetError> {
        let did = self.session()?.did;
        let thumb = match message.card.as_ref().and_then(|c| c.thumb.as_ref()) {
            Some(img) => {
                let bytes = img.read(MAX_THUMB_BYTES)?;
                let req = Request {
                    method: reqwest::Method::POST,
                    url: self.xrpc("com.atproto.repo.uploadBlob"),
                    headers: Vec::new(),
                    body: Body::Bytes {
                        content_type: img.mime().into(),
                        bytes,
                    },
                    // The same bytes give the same blob.
                    idempotent: true,
                };
                let resp = self.call(req)?;
                let v: Value = resp.json()?;
                match v.get("blob") {
                    Some(b) if b.is_object() => Some(b.clone()),
                    _ => return Err(resp.unexpected("uploadBlob answered without a `blob`")),
                }
            }
            None => None,
        };
        let mut record = message.payload.clone();
        if let Some(t) = thumb {
            record["embed"]["external"]["thumb"] = t;
        }
        let body = json!({
            "repo": did,
            "collection": COLLECTION,
            "rkey": message.key,
            "record": record,
        });
        let req = Request::post_json(self.xrpc("com.atproto.repo.putRecord"), body)
            // Same key, same record: repeating it changes nothing.
            .idempotent(true);
        let r: RecordRef = self.call(req)?.json()?;
        Ok(Posted {
            id: r.uri,
            url: self.post_url(&message.key),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tids_are_valid_deterministic_and_distinct() {
        let d = DateTime::parse_from_rfc3339("2026-10-06T00:00:00Z").unwrap();
        let a = tid("news/2026-10-06-manchester-office.md", &d);
        assert!(is_tid(&a), "{a}");
        assert_eq!(a, tid("news/2026-10-06-manchester-office.md", &d));
        let b = tid("news/2026-10-06-other.md", &d);
        assert!(is_tid(&b));
        assert_ne!(a, b);
        // Pinned: a change here would post every entry to Bluesky again.
        assert_eq!(a, "3mx64r2h2msfk");
        // The time part sorts with the date.
        let later = DateTime::parse_from_rfc3339("2026-10-07T00:00:00Z").unwrap();
        assert!(tid("news/x.md", &d) < tid("news/x.md", &later));
    }

    #[test]
    fn tid_encoding_matches_the_reference_recipe() {
        // dev-servers/bluesky/bsky-e2e.sh: tid(2026-01-02T03:04:05Z in µs, clock 7).
        assert_eq!(encode_tid(1_767_323_045 * 1_000_000, 7), "3mbfvv6twu22b");
        assert!(!is_tid("news-2026-hello"));
        assert!(!is_tid("zzzzzzzzzzzzz"));
    }
}
