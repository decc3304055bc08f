//! `site.toml`: the serde model of the file, then a validated [`Config`].
//!
//! Unknown keys are errors (with the closest known key suggested), so a typo
//! never silently turns an option off.

use crate::error::{Diagnostic, Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file name of the site configuration.
pub const CONFIG_FILE: &str = "site.toml";

/// A validated site configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Public address of the site, without a trailing slash.
    pub base_url: String,
    pub title: String,
    pub description: Option<String>,
    /// BCP 47 language tag for `<html lang>` and feeds.
    pub language: String,
    /// Default author for entries that name none.
    pub author: Option<String>,
    /// Folder name under `themes/`.
    pub theme: String,
    /// Where `herald build` writes, relative to the site root.
    pub output_dir: PathBuf,
    /// Default pager size for sections; 0 disables pagination.
    pub paginate_by: usize,
    pub markdown: MarkdownConfig,
    pub feeds: FeedConfig,
    pub taxonomies: Vec<TaxonomyConfig>,
    /// Free-form `[extra]`, handed to templates.
    pub extra: serde_json::Value,
    /// The environment variables templates may read with `get_env`: names,
    /// or prefixes ending in `*` (see [`Config::template_env_lists`]).
    pub template_env: Vec<String>,
    /// `[syndicate]`, `[networks.*]` and `[comments]` are kept raw here and
    /// interpreted by the commands that use them.
    pub syndicate: toml::Table,
    pub networks: toml::Table,
    pub comments: toml::Table,
}

/// `[markdown]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarkdownConfig {
    /// Curly quotes, dashes and ellipses.
    pub smart_punctuation: bool,
    /// A `§` link beside each heading.
    pub heading_anchors: bool,
    /// For reading time.
    pub words_per_minute: usize,
}

impl Default for MarkdownConfig {
    fn default() -> Self {
        MarkdownConfig {
            smart_punctuation: true,
            heading_anchors: true,
            words_per_minute: 200,
        }
    }
}

/// A feed format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedFormat {
    Atom,
    Rss,
    Json,
}

impl FeedFormat {
    /// The file name the feed is written to.
    pub fn file_name(self) -> &'static str {
        match self {
            FeedFormat::Atom => "atom.xml",
            FeedFormat::Rss => "rss.xml",
            FeedFormat::Json => "feed.json",
        }
    }

    /// The MIME type for `<link rel="alternate">`.
    pub fn mime(self) -> &'static str {
        match self {
            FeedFormat::Atom => "application/atom+xml",
            FeedFormat::Rss => "application/rss+xml",
            FeedFormat::Json => "application/feed+json",
        }
    }

    /// The lowercase name used in `site.toml` and templates.
    pub fn name(self) -> &'static str {
        match self {
            FeedFormat::Atom => "atom",
            FeedFormat::Rss => "rss",
            FeedFormat::Json => "json",
        }
    }

    /// How readers know the format: "Atom", "RSS", "JSON Feed".
    pub fn label(self) -> &'static str {
        match self {
            FeedFormat::Atom => "Atom",
            FeedFormat::Rss => "RSS",
            FeedFormat::Json => "JSON Feed",
        }
    }
}

/// `[feeds]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedConfig {
    pub formats: Vec<FeedFormat>,
    /// Newest N entries per feed.
    pub limit: usize,
    /// A feed for each section.
    pub sections: bool,
    /// A feed for each taxonomy term (unless the taxonomy says `feed = false`).
    pub taxonomies: bool,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            formats: vec![FeedFormat::Atom, FeedFormat::Rss, FeedFormat::Json],
            limit: 20,
            sections: true,
            taxonomies: true,
        }
    }
}

/// One `[[taxonomies]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxonomyConfig {
    pub name: String,
    /// Pager size of term pages; defaults to the site's `paginate_by`.
    pub paginate_by: Option<usize>,
    /// Whether each term gets feeds.
    #[serde(default = "yes")]
    pub feed: bool,
}

fn yes() -> bool {
    true
}

/// What templates may read with `get_env` unless `template_env` says
/// otherwise: whether the build runs in CI, and variables made public on
/// purpose. Secrets (tokens in CI) stay out of reach of a theme.
const DEFAULT_TEMPLATE_ENV: [&str; 2] = ["CI", "HERALD_PUBLIC_*"];

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    base_url: String,
    title: String,
    description: Option<String>,
    language: Option<String>,
    author: Option<String>,
    theme: Option<String>,
    output_dir: Option<PathBuf>,
    paginate_by: Option<usize>,
    #[serde(default)]
    markdown: MarkdownConfig,
    #[serde(default)]
    feeds: FeedConfig,
    #[serde(default)]
    taxonomies: Vec<TaxonomyConfig>,
    #[serde(default)]
    extra: toml::Table,
    template_env: Option<Vec<String>>,
    #[serde(default)]
    syndicate: toml::Table,
    #[serde(default)]
    networks: toml::Table,
    #[serde(default)]
    comments: toml::Table,
}

impl Config {
    /// Reads and validates `site.toml` in `root`.
    pub fn load(root: &Path) -> Result<Config> {
        let path = root.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::from(
                    Diagnostic::new(CONFIG_FILE, "no site configuration here").help(format!(
                        "run Herald in the folder that holds site.toml (looked in `{}`), or create a site with `herald init`",
                        root.display()
                    )),
                )
            } else {
                Error::io("read", &path, e)
            }
        })?;
        Config::parse(&text)
    }

    /// Parses and validates the text of `site.toml`.
    pub fn parse(text: &str) -> Result<Config> {
        let file = Path::new(CONFIG_FILE);
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| Error::from(crate::toml_errors::diagnostic(file, text, 1, &e)))?;
        let line_of_key = |key: &str| find_key_line(text, key);
        let mut problems = Vec::new();

        // Destructure so that a new field cannot be silently ignored.
        let RawConfig {
            base_url,
            title,
            description,
            language,
            author,
            theme,
            output_dir,
            paginate_by,
            markdown,
            feeds,
            taxonomies,
            extra,
            template_env,
            syndicate,
            networks,
            comments,
        } = raw;

        let base_url = base_url.trim_end_matches('/').to_string();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://"))
            || base_url.len() <= "https://".len()
        {
            problems.push(
                Diagnostic::new(file, format!("`base_url` must be an absolute http(s) URL, not `{base_url}`"))
                    .at_opt_line(line_of_key("base_url"))
                    .help("write the public address of the site, e.g. base_url = \"https://news.example.com\""),
            );
        }
        if markdown.words_per_minute == 0 {
            problems.push(
                Diagnostic::new(file, "`words_per_minute` must be at least 1")
                    .at_opt_line(line_of_key("words_per_minute"))
                    .help("200 is a typical reading speed"),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in &taxonomies {
            if t.name.is_empty() || slug::slugify(&t.name) != t.name {
                problems.push(
                    Diagnostic::new(
                        file,
                        format!("taxonomy name `{}` is not usable in a URL", t.name),
                    )
                    .at_opt_line(find_value_line(text, &t.name))
                    .help(format!(
                        "use lowercase letters, digits and dashes, e.g. `{}`",
                        slug::slugify(&t.name)
                    )),
                );
            }
            if !seen.insert(t.name.clone()) {
                problems.push(
                    Diagnostic::new(file, format!("taxonomy `{}` is declared twice", t.name))
                        .at_opt_line(find_value_line(text, &t.name))
                        .help("remove one of the [[taxonomies]] entries"),
                );
            }
        }
        let template_env = template_env
            .unwrap_or_else(|| DEFAULT_TEMPLATE_ENV.iter().map(|s| s.to_string()).collect());
        for name in &template_env {
            let stem = name.strip_suffix('*').unwrap_or(name);
            if stem.is_empty() || stem.contains('*') {
                problems.push(
                    Diagnostic::new(file, format!("`template_env` entry \"{name}\" is neither a variable name nor a prefix"))
                        .at_opt_line(line_of_key("template_env"))
                        .help("name a variable (\"CI\") or a prefix ending in one `*` (\"HERALD_PUBLIC_*\")"),
                );
            }
        }
        if !problems.is_empty() {
            return Err(Error::Site(problems));
        }

        Ok(Config {
            base_url,
            title,
            description,
            language: language.unwrap_or_else(|| "en".into()),
            author,
            theme: theme.unwrap_or_else(|| "default".into()),
            output_dir: output_dir.unwrap_or_else(|| PathBuf::from("public")),
            paginate_by: paginate_by.unwrap_or(10),
            markdown,
            feeds,
            taxonomies,
            extra: toml_to_json(&toml::Value::Table(extra)),
            template_env,
            syndicate,
            networks,
            comments,
        })
    }

    /// Whether `template_env` lists the environment variable `name`, by its
    /// name or a prefix. (Templates never read a secret, listed or not: see
    /// [`Config::secret_env_names`] and `get_env` in `templates`.)
    pub fn template_env_lists(&self, name: &str) -> bool {
        self.template_env.iter().any(|e| match e.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == e,
        })
    }

    /// The environment variables `site.toml` names as holding secrets: the
    /// values of keys ending in `_env` under `[networks]` and `[comments]`.
    pub fn secret_env_names(&self) -> Vec<String> {
        fn collect(table: &toml::Table, names: &mut Vec<String>) {
            for (key, value) in table {
                match value {
                    toml::Value::String(s) if key.ends_with("_env") => names.push(s.clone()),
                    toml::Value::Table(t) => collect(t, names),
                    _ => {}
                }
            }
        }
        let mut names = Vec::new();
        collect(&self.networks, &mut names);
        collect(&self.comments, &mut names);
        names
    }

    /// The taxonomy called `name`, if the site declares it.
    pub fn taxonomy(&self, name: &str) -> Option<&TaxonomyConfig> {
        self.taxonomies.iter().find(|t| t.name == name)
    }

    /// The absolute URL of a site path such as `/news/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// The 1-based line where `key = …` is first written, if it is.
pub fn find_key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// The 1-based line where the string value `"value"` first appears.
fn find_value_line(text: &str, value: &str) -> Option<usize> {
    let quoted = format!("\"{value}\"");
    text.lines()
        .position(|l| l.contains(&quoted))
        .map(|i| i + 1)
}

/// TOML to JSON for templates: dates become RFC 3339 strings.
pub fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = Config::parse("base_url = \"https://x.example/\"\ntitle = \"X\"").unwrap();
        assert_eq!(c.base_url, "https://x.example");
        assert_eq!(c.theme, "default");
        assert_eq!(c.paginate_by, 10);
        assert_eq!(c.feeds.formats.len(), 3);
        assert_eq!(c.url("/a/"), "https://x.example/a/");
    }

    #[test]
    fn unknown_key_names_line_and_suggests() {
        let err =
            Config::parse("base_url = \"https://x.example\"\ntitle = \"X\"\n\n[feeds]\nlimt = 3\n")
                .unwrap_err();
        let d = &err.diagnostics()[0];
        assert_eq!(d.line, Some(5));
        assert_eq!(d.message, "unknown key `limt`");
        assert_eq!(d.help.as_deref(), Some("did you mean `limit`?"));
    }

    #[test]
    fn template_env_takes_names_and_prefixes_only() {
        let base = "base_url = \"https://x.example\"\ntitle = \"X\"\n";
        let c = Config::parse(base).unwrap();
        assert!(c.template_env_lists("CI") && c.template_env_lists("HERALD_PUBLIC_X"));
        assert!(!c.template_env_lists("CIRCLE_TOKEN") && !c.template_env_lists("HERALD_X"));
        for bad in ["*", "A*B", ""] {
            let err = Config::parse(&format!("{base}template_env = [\"{bad}\"]\n")).unwrap_err();
            let d = &err.diagnostics()[0];
            assert_eq!(d.line, Some(3), "{bad}");
            assert!(
                d.message.contains("neither a variable name nor a prefix"),
                "{}",
                d.message
            );
        }
    }

    #[test]
    fn relative_base_url_is_refused() {
        let err = Config::parse("base_url = \"/news\"\ntitle = \"X\"").unwrap_err();
        assert_eq!(err.diagnostics()[0].line, Some(1));
    }

    #[test]
    fn unknown_feed_format_is_explained() {
        let err = Config::parse(
            "base_url = \"https://x.example\"\ntitle = \"X\"\n[feeds]\nformats = [\"atm\"]",
        )
        .unwrap_err();
        let d = &err.diagnostics()[0];
        assert_eq!(d.message, "unknown value `atm`");
        assert_eq!(d.help.as_deref(), Some("did you mean `atom`?"));
    }
}
