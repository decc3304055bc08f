//! Mastodon: `POST /api/v1/statuses` with an `Idempotency-Key` derived from
//! the entry and network, an optional image (`POST /api/v2/media`, polled
//! while the server processes it), and the length rules of the instance
//! (`GET /api/v2/instance`: `max_characters`, `characters_reserved_per_url`).

use super::config::{MastodonConfig, NetworkConfig};
use super::http::{secret_client, Body, Http, NetError, Request};
use super::message::{compose, shorten, weight, Limit};
use super::network::{stable_hash, Entry, Message, Network, Posted};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

pub const DEFAULT_TEMPLATE: &str = "{{ title }}\n\n{{ summary }}\n\n{{ url }}\n\n{{ hashtags }}";
/// Mastodon's default limit for images.
const MAX_IMAGE_BYTES: usize = 16 * 1024 * 1024;
/// How many times a media upload still being processed is polled.
const MEDIA_POLLS: u32 = 60;

pub struct Mastodon {
    net: NetworkConfig,
    cfg: MastodonConfig,
    http: Option<Http>,
    token: Option<String>,
    account_id: Option<String>,
    /// Interval between polls of a media upload being processed.
    pub poll_interval: Duration,
}

#[derive(Deserialize)]
struct Instance {
    configuration: Option<InstanceConfiguration>,
}

#[derive(Deserialize)]
struct InstanceConfiguration {
    statuses: Option<StatusLimits>,
}

#[derive(Deserialize)]
struct StatusLimits {
    max_characters: Option<usize>,
    characters_reserved_per_url: Option<usize>,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    uri: Option<String>,
    url: Option<String>,
    #[serde(default)]
    content: String,
}

#[derive(Deserialize)]
struct Account {
    id: String,
}

#[derive(Deserialize)]
struct Media {
    id: String,
}

impl Mastodon {
    /// A client that can prepare messages but not send (for `--dry-run`).
    pub fn new(net: &NetworkConfig, cfg: &MastodonConfig) -> Mastodon {
        Mastodon {
            net: net.clone(),
            cfg: cfg.clone(),
            http: None,
            token: None,
            account_id: None,
            poll_interval: Duration::from_secs(1),
        }
    }

    /// Reads the token from its environment variable and the length rules
    /// from the instance.
    pub fn connect(&mut self) -> Result<(), NetError> {
        let (token, http) = secret_client(
            &self.cfg.token_env,
            format!("the access token of [networks.{}]", self.net.name),
            self.net.timeout,
        )?;
        let resp = http
            .send(&Request::get(format!(
                "{}/api/v2/instance",
                self.cfg.instance
            )))?
            .ok()?;
        let instance: Instance = resp.json()?;
        if let Some(s) = instance.configuration.and_then(|c| c.statuses) {
            if let Some(m) = s.max_characters.filter(|&m| m > 0) {
                self.cfg.max_characters = m;
            }
            if let Some(u) = s.characters_reserved_per_url.filter(|&u| u > 0) {
                self.cfg.characters_reserved_per_url = u;
            }
        }
        self.http = Some(http);
        self.token = Some(token);
        Ok(())
    }

    fn limit(&self) -> Limit {
        Limit {
            max: self.cfg.max_characters,
            max_bytes: None,
            url_weight: Some(self.cfg.characters_reserved_per_url),
        }
    }

    fn http(&self) -> Result<(&Http, &str), NetError> {
        match (&self.http, &self.token) {
            (Some(h), Some(t)) => Ok((h, t)),
            _ => Err(NetError::MissingSecret {
                env_var: self.cfg.token_env.clone(),
                what: "not connected".into(),
            }),
        }
    }

    fn authed(&self, req: Request) -> Result<(Request, &Http), NetError> {
        let (http, token) = self.http()?;
        Ok((req.header("authorization", format!("Bearer {token}")), http))
    }

    fn upload(&self, message: &Message) -> Result<Option<String>, NetError> {
        let Some(image) = &message.image else {
            return Ok(None);
        };
        let bytes = image.read(MAX_IMAGE_BYTES)?;
        let boundary = format!(
            "herald-{:016x}{:016x}",
            stable_hash(&[&message.key]),
            stable_hash(&[&message.key, "boundary"])
        );
        let file_name = image
            .path
            .file_name()
            .map(|n| n.to_string_lossy().replace(['"', '\r', '\n'], ""))
            .unwrap_or_else(|| "image".into());
        let mut body = Vec::with_capacity(bytes.len() + 512);
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n{}\r\n",
                image.alt
            )
            .as_bytes(),
        );
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {}\r\n\r\n",
                image.mime()
            )
            .as_bytes(),
        );
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request {
            method: reqwest::Method::POST,
            url: format!("{}/api/v2/media", self.cfg.instance),
            headers: Vec::new(),
            body: Body::Bytes {
                content_type: format!("multipart/form-data; boundary={boundary}"),
                bytes: body,
            },
            // A repeated upload only leaves an unused attachment behind.
            idempotent: true,
        };
        let (req, http) = self.authed(req)?;
        let resp = http.send(&req)?.ok()?;
        let processing = resp.status == 202;
        let media: Media = resp.json()?;
        if processing {
            // 202: the server is still processing; GET answers 206 until done.
            let url = format!("{}/api/v1/media/{}", self.cfg.instance, media.id);
            let mut done = false;
            for _ in 0..MEDIA_POLLS {
                std::thread::sleep(self.poll_interval);
                let (req, http) = self.authed(Request::get(url.clone()))?;
                let r = http.send(&req)?;
                if r.status == 200 {
                    done = true;
                    break;
                }
                if r.status != 206 {
                    r.ok()?;
                }
            }
            if !done {
                return Err(NetError::Entry(format!(
                    "the image `{}` was still being processed by {} after {MEDIA_POLLS} checks",
                    image.path.display(),
                    self.cfg.instance
                )));
            }
        }
        Ok(Some(media.id))
    }

    fn posted(&self, s: Status) -> Posted {
        let url = s
            .url
            .or(s.uri)
            .unwrap_or_else(|| format!("{}/statuses/{}", self.cfg.instance, s.id));
        Posted { id: s.id, url }
    }
}

impl Network for Mastodon {
    fn name(&self) -> &str {
        &self.net.name
    }

    fn kind(&self) -> &'static str {
        "mastodon"
    }

    fn prepare(&self, entry: &Entry) -> Result<Message, NetError> {
        let limit = self.limit();
        let text = match entry.custom_message(&self.net.name) {
            Some(m) => shorten(m.trim(), &limit),
            None => compose(
                self.net.template.as_deref().unwrap_or(DEFAULT_TEMPLATE),
                &entry.vars(),
                &limit,
            ),
        }
        .map_err(|e| NetError::Entry(e.to_string()))?;
        let key = format!(
            "herald-{:016x}",
            stable_hash(&["mastodon", &self.cfg.instance, &self.net.name, &entry.rel])
        );
        let mut payload = json!({
            "status": text,
            "visibility": self.cfg.visibility.as_str(),
            "language": self.cfg.language,
        });
        if let Some(s) = &self.cfg.spoiler_text {
            payload["spoiler_text"] = json!(s);
        }
        if self.cfg.sensitive {
            payload["sensitive"] = json!(true);
        }
        Ok(Message {
            entry: entry.rel.clone(),
            network: self.net.name.clone(),
            kind: "mastodon",
            title: None,
            length: weight(&text, limit.url_weight),
            limit: limit.max,
            unit: "characters (each URL counts as reserved length)",
            text,
            facets: Vec::new(),
            card: None,
            image: entry.image.clone(),
            key,
            url: entry.url.clone(),
            payload,
        })
    }

    fn find_existing(&mut self, message: &Message) -> Result<Option<Posted>, NetError> {
        // The Idempotency-Key lasts only an hour on the server, so look for
        // the status itself among the account's latest ones.
        if self.account_id.is_none() {
            let (req, http) = self.authed(Request::get(format!(
                "{}/api/v1/accounts/verify_credentials",
                self.cfg.instance
            )))?;
            let account: Account = http.send(&req)?.ok()?.json()?;
            self.account_id = Some(account.id);
        }
        let id = self.account_id.clone().unwrap_or_default();
        let (req, http) = self.authed(Request::get(format!(
            "{}/api/v1/accounts/{id}/statuses?limit=40&exclude_replies=true",
            self.cfg.instance
        )))?;
        let statuses: Vec<Status> = http.send(&req)?.ok()?.json()?;
        let escaped = message.url.replace('&', "&amp;");
        Ok(statuses
            .into_iter()
            .find(|s| s.content.contains(&message.url) || s.content.contains(&escaped))
            .map(|s| self.posted(s)))
    }

    fn post(&mut self, message: &Message) -> Result<Posted, NetError> {
        let media = self.upload(message)?;
        let mut payload = message.payload.clone();
        if let Some(id) = media {
            payload["media_ids"] = json!([id]);
        }
        let req = Request::post_json(format!("{}/api/v1/statuses", self.cfg.instance), payload)
            .header("idempotency-key", message.key.clone())
            // The key makes a repeat return the first status instead of a new one.
            .idempotent(true);
        let (req, http) = self.authed(req)?;
        let resp = http.send(&req)?.ok()?;
        let status: Status = resp.json()?;
        Ok(self.posted(status))
    }
}
