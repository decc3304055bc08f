//! `[syndicate]` and `[networks.NAME]` of `site.toml`, parsed into typed,
//! validated settings. Problems name `site.toml` and the line, and unknown
//! keys get the closest known key. Secrets never appear here: only the
//! *names* of the environment variables that hold them.

use crate::config::{find_key_line, Config, CONFIG_FILE};
use crate::error::{Diagnostic, Error, Result};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// Everything `herald syndicate` reads from `site.toml`.
#[derive(Debug, Clone)]
pub struct SyndicateConfig {
    /// Only entries dated after this are posted (unless `--backfill`).
    pub since: Option<DateTime<FixedOffset>>,
    /// Networks ordered by name.
    pub networks: Vec<NetworkConfig>,
}

/// One `[networks.NAME]` table.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// The table's name, e.g. `mastodon` or `forum`: the key in the ledger.
    pub name: String,
    /// Link text on entry pages ("Also on Mastodon").
    pub label: String,
    /// A Tera template for the message, replacing the kind's default.
    pub template: Option<String>,
    /// Timeout of each request.
    pub timeout: Duration,
    pub kind: KindConfig,
}

/// Which kind of network, with its own settings.
#[derive(Debug, Clone)]
pub enum KindConfig {
    Mastodon(MastodonConfig),
    Bluesky(BlueskyConfig),
    Discourse(DiscourseConfig),
}

impl KindConfig {
    /// `mastodon`, `bluesky` or `discourse`.
    pub fn name(&self) -> &'static str {
        match self {
            KindConfig::Mastodon(_) => "mastodon",
            KindConfig::Bluesky(_) => "bluesky",
            KindConfig::Discourse(_) => "discourse",
        }
    }

    /// The environment variable holding this network's secret.
    pub fn secret_env(&self) -> &str {
        match self {
            KindConfig::Mastodon(m) => &m.token_env,
            KindConfig::Bluesky(b) => &b.password_env,
            KindConfig::Discourse(d) => &d.api_key_env,
        }
    }
}

/// Who may see a Mastodon post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Unlisted,
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
        }
    }
}

#[derive(Debug, Clone)]
pub struct MastodonConfig {
    /// `https://mastodon.example`, without a trailing slash.
    pub instance: String,
    pub token_env: String,
    pub visibility: Visibility,
    pub language: String,
    /// A content warning shown before the text.
    pub spoiler_text: Option<String>,
    pub sensitive: bool,
    /// Used by `--dry-run` (which asks no server) and when the instance does not say.
    pub max_characters: usize,
    pub characters_reserved_per_url: usize,
}

#[derive(Debug, Clone)]
pub struct BlueskyConfig {
    /// The account's PDS, e.g. `https://bsky.social`.
    pub pds: String,
    pub handle: String,
    pub password_env: String,
    pub language: String,
    /// Where post links point (`https://bsky.app`).
    pub web_url: String,
}

#[derive(Debug, Clone)]
pub struct DiscourseConfig {
    /// The forum, e.g. `https://forum.example`.
    pub url: String,
    /// The `Api-Username` the topics are created as.
    pub username: String,
    pub api_key_env: String,
    /// Category id for new topics.
    pub category: Option<u64>,
    pub tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSyndicate {
    since: Option<toml::Value>,
}

#[derive(Deserialize)]
struct KindOnly {
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMastodon {
    #[allow(dead_code)]
    kind: String,
    label: Option<String>,
    template: Option<String>,
    timeout: Option<u64>,
    instance: String,
    token_env: String,
    visibility: Option<Visibility>,
    language: Option<String>,
    spoiler_text: Option<String>,
    #[serde(default)]
    sensitive: bool,
    max_characters: Option<usize>,
    characters_reserved_per_url: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBluesky {
    #[allow(dead_code)]
    kind: String,
    label: Option<String>,
    template: Option<String>,
    timeout: Option<u64>,
    pds: Option<String>,
    handle: String,
    password_env: String,
    language: Option<String>,
    web_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscourse {
    #[allow(dead_code)]
    kind: String,
    label: Option<String>,
    template: Option<String>,
    timeout: Option<u64>,
    url: String,
    username: String,
    api_key_env: String,
    category: Option<u64>,
    #[serde(default)]
    tags: Vec<String>,
}

const KINDS: &[&str] = &["mastodon", "bluesky", "discourse"];
const DEFAULT_TIMEOUT: u64 = 30;

impl SyndicateConfig {
    /// Reads the settings from a loaded config; `root` is where `site.toml`
    /// is, read again only to point problems at their lines.
    pub fn load(root: &Path, config: &Config) -> Result<SyndicateConfig> {
        let text = std::fs::read_to_string(root.join(CONFIG_FILE)).unwrap_or_default();
        SyndicateConfig::from_config(config, &text)
    }

    /// The settings in `config`, whose file text is `text`.
    pub fn from_config(config: &Config, text: &str) -> Result<SyndicateConfig> {
        let file = Path::new(CONFIG_FILE);
        let mut problems = Vec::new();
        let raw: Option<RawSyndicate> = toml::Value::Table(config.syndicate.clone())
            .try_into()
            .map_err(|e| {
                let mut d = crate::toml_errors::diagnostic(file, text, 1, &e);
                d = locate(d, text, "syndicate");
                problems.push(d);
            })
            .ok();
        let since = raw.and_then(|r| r.since).and_then(|v| {
            let s = match &v {
                toml::Value::Datetime(d) => d.to_string(),
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let parsed = crate::content::front_matter::parse_date_str(&s);
            if parsed.is_none() {
                problems.push(
                    Diagnostic::new(file, format!("`since` is not a date: `{s}`"))
                        .at_opt_line(find_key_line(text, "since"))
                        .help("write a date like since = 2026-10-01"),
                );
            }
            parsed
        });

        let mut networks = Vec::new();
        for (name, value) in &config.networks {
            match network(name, value, config, text) {
                Ok(n) => networks.push(n),
                Err(mut d) => problems.append(&mut d),
            }
        }
        if !problems.is_empty() {
            return Err(Error::Site(problems));
        }
        Ok(SyndicateConfig { since, networks })
    }

    /// The network called `name`.
    pub fn network(&self, name: &str) -> Option<&NetworkConfig> {
        self.networks.iter().find(|n| n.name == name)
    }
}

fn network(
    name: &str,
    value: &toml::Value,
    config: &Config,
    text: &str,
) -> std::result::Result<NetworkConfig, Vec<Diagnostic>> {
    let file = Path::new(CONFIG_FILE);
    let table = format!("networks.{name}");
    let header = section_line(text, &table);
    let at = |key: &str| key_line(text, &table, key).or(header);
    let mut problems = Vec::new();
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        problems.push(
            Diagnostic::new(file, format!("network name `{name}` has characters other than letters, digits, `-` and `_`"))
                .at_opt_line(header)
                .help("rename the table, e.g. [networks.mastodon]; the name is the network's key in data/syndication.toml"),
        );
    }
    let kind = match value.clone().try_into::<KindOnly>() {
        Ok(KindOnly { kind: Some(k) }) => k,
        Ok(KindOnly { kind: None }) => {
            return Err(vec![Diagnostic::new(
                file,
                format!("[{table}] has no `kind`"),
            )
            .at_opt_line(header)
            .help("add kind = \"mastodon\", \"bluesky\" or \"discourse\"")]);
        }
        Err(_) => {
            return Err(vec![Diagnostic::new(
                file,
                format!("[{table}] must be a table with a `kind`"),
            )
            .at_opt_line(header)
            .help(
                "write [networks.NAME] on its own line, then kind = \"mastodon\" and the settings",
            )]);
        }
    };
    let de_problem = |e: toml::de::Error| {
        let d = crate::toml_errors::diagnostic(file, text, 1, &e);
        let d = Diagnostic {
            message: format!("{} in [{table}]", d.message),
            ..d
        };
        locate(d, text, &table)
    };
    let env_check = |key: &str, var: &str, problems: &mut Vec<Diagnostic>| {
        let ok = !var.is_empty()
            && !var.starts_with(|c: char| c.is_ascii_digit())
            && var
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            // The value is not repeated: it might be the secret itself.
            problems.push(
                Diagnostic::new(file, format!("`{key}` in [{table}] must be the NAME of an environment variable (capitals, digits and `_`)"))
                    .at_opt_line(at(key))
                    .help(format!("write e.g. {key} = \"HERALD_{}_SECRET\" and put the secret itself in that variable in CI, never in site.toml", name.to_uppercase().replace('-', "_"))),
            );
        }
    };
    let url_check = |key: &str, url: &str, problems: &mut Vec<Diagnostic>| -> String {
        let u = url.trim_end_matches('/').to_string();
        let ok = reqwest::Url::parse(&u)
            .is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
        if !ok {
            problems.push(
                Diagnostic::new(
                    file,
                    format!("`{key}` in [{table}] must be an absolute http(s) URL, not `{url}`"),
                )
                .at_opt_line(at(key))
                .help(format!("e.g. {key} = \"https://example.social\"")),
            );
        }
        u
    };
    let template_check = |t: &Option<String>, problems: &mut Vec<Diagnostic>| {
        if let Some(t) = t {
            if let Err(e) = tera::Tera::default().add_raw_template("template", t) {
                problems.push(
                    Diagnostic::new(file, format!("`template` in [{table}] is not a valid Tera template: {}", super::message::tera_error_text(&e)))
                        .at_opt_line(at("template"))
                        .help("variables are title, summary, url, tags, hashtags, authors, site_title, date (and markdown for discourse)"),
                );
            }
        }
    };
    let timeout = |t: Option<u64>, problems: &mut Vec<Diagnostic>| {
        let t = t.unwrap_or(DEFAULT_TIMEOUT);
        if t == 0 || t > 600 {
            problems.push(
                Diagnostic::new(
                    file,
                    format!("`timeout` in [{table}] must be 1 to 600 seconds"),
                )
                .at_opt_line(at("timeout"))
                .help(format!("the default is {DEFAULT_TIMEOUT}")),
            );
        }
        Duration::from_secs(t)
    };
    let language = |l: Option<String>| l.unwrap_or_else(|| config.language.clone());
    let result = match kind.as_str() {
        "mastodon" => match value.clone().try_into::<RawMastodon>() {
            Err(e) => return Err(vec![de_problem(e)]),
            Ok(r) => {
                env_check("token_env", &r.token_env, &mut problems);
                template_check(&r.template, &mut problems);
                let instance = url_check("instance", &r.instance, &mut problems);
                let timeout = timeout(r.timeout, &mut problems);
                for (key, v) in [
                    ("max_characters", r.max_characters),
                    ("characters_reserved_per_url", r.characters_reserved_per_url),
                ] {
                    if v == Some(0) {
                        problems.push(
                            Diagnostic::new(
                                file,
                                format!("`{key}` in [{table}] must be at least 1"),
                            )
                            .at_opt_line(at(key))
                            .help("leave it out to use the instance's own limit"),
                        );
                    }
                }
                NetworkConfig {
                    name: name.to_string(),
                    label: r.label.unwrap_or_else(|| "Mastodon".into()),
                    template: r.template,
                    timeout,
                    kind: KindConfig::Mastodon(MastodonConfig {
                        instance,
                        token_env: r.token_env,
                        visibility: r.visibility.unwrap_or(Visibility::Public),
                        language: language(r.language),
                        spoiler_text: r.spoiler_text.filter(|s| !s.is_empty()),
                        sensitive: r.sensitive,
                        max_characters: r.max_characters.unwrap_or(500),
                        characters_reserved_per_url: r.characters_reserved_per_url.unwrap_or(23),
                    }),
                }
            }
        },
        "bluesky" => match value.clone().try_into::<RawBluesky>() {
            Err(e) => return Err(vec![de_problem(e)]),
            Ok(r) => {
                env_check("password_env", &r.password_env, &mut problems);
                template_check(&r.template, &mut problems);
                let pds = url_check(
                    "pds",
                    r.pds.as_deref().unwrap_or("https://bsky.social"),
                    &mut problems,
                );
                let web_url = url_check(
                    "web_url",
                    r.web_url.as_deref().unwrap_or("https://bsky.app"),
                    &mut problems,
                );
                let handle = r.handle.trim_start_matches('@').to_string();
                if handle.is_empty() || handle.contains(char::is_whitespace) {
                    problems.push(
                        Diagnostic::new(file, format!("`handle` in [{table}] is not a handle"))
                            .at_opt_line(at("handle"))
                            .help("e.g. handle = \"fernhill.example\" or \"fernhill.bsky.social\""),
                    );
                }
                NetworkConfig {
                    name: name.to_string(),
                    label: r.label.unwrap_or_else(|| "Bluesky".into()),
                    template: r.template,
                    timeout: timeout(r.timeout, &mut problems),
                    kind: KindConfig::Bluesky(BlueskyConfig {
                        pds,
                        handle,
                        password_env: r.password_env,
                        language: language(r.language),
                        web_url,
                    }),
                }
            }
        },
        "discourse" => match value.clone().try_into::<RawDiscourse>() {
            Err(e) => return Err(vec![de_problem(e)]),
            Ok(r) => {
                env_check("api_key_env", &r.api_key_env, &mut problems);
                template_check(&r.template, &mut problems);
                let url = url_check("url", &r.url, &mut problems);
                NetworkConfig {
                    name: name.to_string(),
                    label: r.label.unwrap_or_else(|| "the forum".into()),
                    template: r.template,
                    timeout: timeout(r.timeout, &mut problems),
                    kind: KindConfig::Discourse(DiscourseConfig {
                        url,
                        username: r.username,
                        api_key_env: r.api_key_env,
                        category: r.category,
                        tags: r.tags,
                    }),
                }
            }
        },
        other => {
            return Err(vec![Diagnostic::new(
                file,
                format!("unknown network kind `{other}` in [{table}]"),
            )
            .at_opt_line(at("kind"))
            .help(
                crate::error::unknown_key_help(other, KINDS).replace("known keys are", "kinds are"),
            )]);
        }
    };
    if problems.is_empty() {
        Ok(result)
    } else {
        Err(problems)
    }
}

/// Fills in the line of a diagnostic about a key of `[table]`.
fn locate(mut d: Diagnostic, text: &str, table: &str) -> Diagnostic {
    if d.line.is_none() {
        let key = d
            .message
            .split('`')
            .nth(1)
            .filter(|_| d.message.starts_with("unknown key") || d.message.contains("missing field"))
            .map(str::to_string);
        d.line = key
            .and_then(|k| key_line(text, table, &k))
            .or_else(|| section_line(text, table));
    }
    if d.message.starts_with("missing field") {
        d.message = d.message.replacen("missing field", "missing key", 1);
    }
    d
}

/// The line of the `[table]` header.
pub(crate) fn section_line(text: &str, table: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim();
            l.strip_prefix('[')
                .and_then(|l| l.split(']').next())
                .is_some_and(|h| h.replace([' ', '"'], "") == table)
        })
        .map(|i| i + 1)
}

/// The line of `key = …` inside `[table]`.
fn key_line(text: &str, table: &str, key: &str) -> Option<usize> {
    let start = section_line(text, table)?;
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate().skip(start) {
        let t = l.trim_start();
        if t.starts_with('[') {
            break;
        }
        if t.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str) -> Result<SyndicateConfig> {
        let text = format!("base_url = \"https://x.example\"\ntitle = \"X\"\n{extra}");
        let c = Config::parse(&text).unwrap();
        SyndicateConfig::from_config(&c, &text)
    }

    #[test]
    fn full_example_parses() {
        let c = parse(
            "[syndicate]\nsince = 2026-10-01\n\n[networks.mastodon]\nkind = \"mastodon\"\ninstance = \"https://m.example/\"\ntoken_env = \"HERALD_MASTODON_TOKEN\"\n\n[networks.sky]\nkind = \"bluesky\"\nhandle = \"@x.example\"\npassword_env = \"BSKY_PASSWORD\"\n\n[networks.forum]\nkind = \"discourse\"\nurl = \"https://forum.example\"\nusername = \"system\"\napi_key_env = \"DISCOURSE_KEY\"\ncategory = 5\n",
        )
        .unwrap();
        assert_eq!(c.since.unwrap().to_rfc3339(), "2026-10-01T00:00:00+00:00");
        let names: Vec<&str> = c.networks.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["forum", "mastodon", "sky"]);
        match &c.network("mastodon").unwrap().kind {
            KindConfig::Mastodon(m) => {
                assert_eq!(m.instance, "https://m.example");
                assert_eq!(m.language, "en");
            }
            _ => panic!(),
        }
        match &c.network("sky").unwrap().kind {
            KindConfig::Bluesky(b) => assert_eq!(b.handle, "x.example"),
            _ => panic!(),
        }
    }

    #[test]
    fn unknown_key_names_line_and_suggests() {
        let err = parse("\n[networks.mastodon]\nkind = \"mastodon\"\ninstance = \"https://m.example\"\ntokn_env = \"T\"\n").unwrap_err();
        let d = &err.diagnostics()[0];
        assert_eq!(d.message, "unknown key `tokn_env` in [networks.mastodon]");
        assert_eq!(d.line, Some(7));
        assert_eq!(d.help.as_deref(), Some("did you mean `token_env`?"));
    }

    #[test]
    fn a_secret_in_place_of_a_variable_name_is_refused_without_repeating_it() {
        let err = parse("[networks.m]\nkind = \"mastodon\"\ninstance = \"https://m.example\"\ntoken_env = \"abc123-secret-token\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("site.toml:6: `token_env`"), "{text}");
        assert!(!text.contains("abc123-secret-token"), "{text}");
    }

    #[test]
    fn unknown_kind_is_explained() {
        let err = parse("[networks.m]\nkind = \"mastadon\"\n").unwrap_err();
        let d = &err.diagnostics()[0];
        assert_eq!(d.line, Some(4));
        assert_eq!(d.help.as_deref(), Some("did you mean `mastodon`?"));
    }

    #[test]
    fn missing_key_and_bad_template_are_reported() {
        let err = parse("[networks.f]\nkind = \"discourse\"\nurl = \"https://f.example\"\napi_key_env = \"K\"\n").unwrap_err();
        assert!(err.to_string().contains("missing key `username`"), "{err}");
        let err = parse("[networks.b]\nkind = \"bluesky\"\nhandle = \"a.b\"\npassword_env = \"P\"\ntemplate = \"{{ title \"\n").unwrap_err();
        let d = &err.diagnostics()[0];
        assert_eq!(d.line, Some(7), "{d}");
        assert!(d.message.contains("not a valid Tera template"), "{d}");
    }
}
