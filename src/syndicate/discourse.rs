//! Discourse: a new topic per entry (`POST /posts.json`) with the entry's
//! Markdown, a link back, `embed_url` and an `external_id` derived from the
//! entry. Before every create the topic is looked up by that id
//! (`GET /t/external_id/{id}.json`), so a retry after a timeout finds the
//! topic instead of making another.

use super::config::{DiscourseConfig, NetworkConfig};
use super::http::{secret_client, Http, NetError, Request};
use super::message::{render, shorten, weight, Limit};
use super::network::{derived_key, Entry, Message, Network, Posted};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

pub const DEFAULT_TEMPLATE: &str =
    "{{ markdown }}\n\n---\n\n*This topic is for discussing [{{ title }}]({{ url }}), first published on {{ site_title }}.*";
/// Discourse's default `max_post_length`.
const MAX_POST: usize = 32_000;
/// Discourse's default `max_topic_title_length`.
const MAX_TITLE: usize = 255;
/// Tries of lookup-then-create before giving up.
const TRIES: u32 = 3;

pub struct Discourse {
    net: NetworkConfig,
    cfg: DiscourseConfig,
    http: Option<Http>,
    key: Option<String>,
    /// Wait before trying again after an answer that may hide a created topic.
    pub retry_delay: Duration,
}

#[derive(Deserialize)]
struct Topic {
    id: u64,
    #[serde(default)]
    slug: String,
}

#[derive(Deserialize)]
struct CreatedPost {
    topic_id: u64,
    #[serde(default)]
    topic_slug: String,
}

impl Discourse {
    /// A client that can prepare messages but not send (for `--dry-run`).
    pub fn new(net: &NetworkConfig, cfg: &DiscourseConfig) -> Discourse {
        Discourse {
            net: net.clone(),
            cfg: cfg.clone(),
            http: None,
            key: None,
            retry_delay: Duration::from_secs(2),
        }
    }

    /// Reads the API key from its environment variable.
    pub fn connect(&mut self) -> Result<(), NetError> {
        let (key, http) = secret_client(
            &self.cfg.api_key_env,
            format!("the API key of [networks.{}]", self.net.name),
            self.net.timeout,
        )?;
        self.http = Some(http);
        self.key = Some(key);
        Ok(())
    }

    fn authed(&self, req: Request) -> Result<(Request, &Http), NetError> {
        match (&self.http, &self.key) {
            (Some(h), Some(k)) => Ok((
                req.header("api-key", k.clone())
                    .header("api-username", self.cfg.username.clone()),
                h,
            )),
            _ => Err(NetError::MissingSecret {
                env_var: self.cfg.api_key_env.clone(),
                what: "not connected".into(),
            }),
        }
    }

    fn topic_url(&self, slug: &str, id: u64) -> String {
        let slug = if slug.is_empty() { "-" } else { slug };
        format!("{}/t/{slug}/{id}", self.cfg.url)
    }

    fn create(&self, message: &Message) -> Result<Posted, NetError> {
        let (req, http) = self.authed(Request::post_json(
            format!("{}/posts.json", self.cfg.url),
            message.payload.clone(),
        ))?;
        let created: CreatedPost = http.send(&req)?.ok()?.json()?;
        Ok(Posted {
            id: created.topic_id.to_string(),
            url: self.topic_url(&created.topic_slug, created.topic_id),
        })
    }
}

impl Network for Discourse {
    fn name(&self) -> &str {
        &self.net.name
    }

    fn kind(&self) -> &'static str {
        "discourse"
    }

    fn prepare(&self, entry: &Entry) -> Result<Message, NetError> {
        let limit = Limit {
            max: MAX_POST,
            max_bytes: None,
            url_weight: None,
        };
        let raw = match entry.custom_message(&self.net.name) {
            Some(m) => m.trim().to_string(),
            None => render(
                self.net.template.as_deref().unwrap_or(DEFAULT_TEMPLATE),
                &entry.vars(),
            )
            .map_err(|e| NetError::Entry(e.to_string()))?,
        };
        let raw = shorten(&raw, &limit).map_err(|e| NetError::Entry(e.to_string()))?;
        let title = shorten(
            &entry.title,
            &Limit {
                max: MAX_TITLE,
                max_bytes: None,
                url_weight: None,
            },
        )
        .map_err(|e| NetError::Entry(e.to_string()))?;
        let key = derived_key("herald", &entry.rel, &self.net.name, 50);
        let mut payload = json!({
            "title": title,
            "raw": raw,
            "external_id": key,
            "embed_url": entry.url,
        });
        if let Some(c) = self.cfg.category {
            payload["category"] = json!(c);
        }
        if !self.cfg.tags.is_empty() {
            // Not in the published API description, but accepted by Discourse.
            payload["tags"] = json!(self.cfg.tags);
        }
        Ok(Message {
            entry: entry.rel.clone(),
            network: self.net.name.clone(),
            kind: "discourse",
            title: Some(title),
            length: weight(&raw, None),
            limit: MAX_POST,
            unit: "characters",
            text: raw,
            facets: Vec::new(),
            card: None,
            image: None,
            key,
            url: entry.url.clone(),
            payload,
        })
    }

    fn find_existing(&mut self, message: &Message) -> Result<Option<Posted>, NetError> {
        // Answers 301 to /t/{id}.json, which the client follows.
        let (req, http) = self.authed(Request::get(format!(
            "{}/t/external_id/{}.json",
            self.cfg.url, message.key
        )))?;
        let resp = http.send(&req)?;
        if resp.status == 404 {
            return Ok(None);
        }
        let topic: Topic = resp.ok()?.json()?;
        Ok(Some(Posted {
            id: topic.id.to_string(),
            url: self.topic_url(&topic.slug, topic.id),
        }))
    }

    fn post(&mut self, message: &Message) -> Result<Posted, NetError> {
        let mut last = None;
        for attempt in 0..TRIES {
            if attempt > 0 {
                std::thread::sleep(self.retry_delay * attempt);
            }
            // Creating is not idempotent, so each try first looks the topic up.
            if let Some(p) = self.find_existing(message)? {
                return Ok(p);
            }
            match self.create(message) {
                Ok(p) => return Ok(p),
                // The topic may exist although the answer was lost or a 5xx:
                // the next lookup tells.
                Err(e) if e.maybe_applied() => last = Some(e),
                // 422 is what a second create with the same external_id gets.
                Err(e) if e.status() == Some(422) => {
                    return match self.find_existing(message)? {
                        Some(p) => Ok(p),
                        None => Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        match self.find_existing(message)? {
            Some(p) => Ok(p),
            None => Err(last.unwrap_or(NetError::Entry("no topic was created".into()))),
        }
    }
}
