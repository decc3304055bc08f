//! The whole site in memory: configuration, content and taxonomies.
//! This is what the render stage and later commands read.

use crate::config::Config;
use crate::content::{self, Content, LoadOptions};
use crate::error::{Diagnostic, Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A taxonomy such as `tags`, with its terms.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    pub name: String,
    /// Terms ordered by slug.
    pub terms: Vec<Term>,
}

/// One term of a taxonomy.
#[derive(Debug, Clone)]
pub struct Term {
    /// The name as first written (in page order).
    pub name: String,
    pub slug: String,
    /// Page indexes, newest first.
    pub pages: Vec<usize>,
}

/// The loaded site.
#[derive(Debug, Clone)]
pub struct Site {
    /// The folder holding `site.toml`.
    pub root: PathBuf,
    pub config: Config,
    pub content: Content,
    pub taxonomies: Vec<Taxonomy>,
}

impl Site {
    /// Loads configuration and content from `root`.
    pub fn load(root: &Path, opts: &LoadOptions) -> Result<Site> {
        let config = Config::load(root)?;
        Site::load_with_config(root, config, opts)
    }

    /// Loads content from `root` with an already loaded configuration.
    pub fn load_with_config(root: &Path, config: Config, opts: &LoadOptions) -> Result<Site> {
        Self::load_then(root, config, opts, &content::Hooks::NONE)
    }

    /// [`Site::load_with_config`], calling the `hooks` as
    /// [`content::load_then`] does.
    pub fn load_then(
        root: &Path,
        config: Config,
        opts: &LoadOptions,
        hooks: &content::Hooks<'_>,
    ) -> Result<Site> {
        let content = content::load_then(root, &config, opts, hooks)?;
        let taxonomies = collect_taxonomies(&config, &content)?;
        Ok(Site {
            root: root.to_path_buf(),
            config,
            content,
            taxonomies,
        })
    }

    /// URL path of a taxonomy's list page.
    pub fn taxonomy_path(name: &str) -> String {
        format!("/{name}/")
    }

    /// URL path of a term page.
    pub fn term_path(taxonomy: &str, term_slug: &str) -> String {
        format!("/{taxonomy}/{term_slug}/")
    }
}

fn collect_taxonomies(config: &Config, content: &Content) -> Result<Vec<Taxonomy>> {
    let mut problems = Vec::new();
    let known: Vec<&str> = config.taxonomies.iter().map(|t| t.name.as_str()).collect();
    let mut terms: BTreeMap<&str, BTreeMap<String, Term>> =
        known.iter().map(|n| (*n, BTreeMap::new())).collect();
    let mut slugs: rustc_hash::FxHashMap<&str, String> = Default::default();
    let order = content.dated_pages_newest_first();
    let undated = (0..content.pages.len()).filter(|&i| content.pages[i].date.is_none());
    for i in order.into_iter().chain(undated) {
        let page = &content.pages[i];
        for (name, values) in page.taxonomies.iter() {
            let Some(map) = terms.get_mut(name.as_str()) else {
                let help = match crate::error::closest(name, &known) {
                    Some(k) => format!("did you mean `{k}`? Otherwise declare it in site.toml: [[taxonomies]] name = \"{name}\""),
                    None => format!("declare it in site.toml: [[taxonomies]] name = \"{name}\""),
                };
                problems.push(
                    Diagnostic::new(&page.file, format!("unknown taxonomy `{name}`"))
                        .at_opt_line(page.taxonomies.line(name))
                        .help(help),
                );
                continue;
            };
            for value in values {
                // Tags repeat across thousands of pages: each is slugified once.
                let slug = slugs
                    .entry(value.as_str())
                    .or_insert_with(|| slug::slugify(value));
                if slug.is_empty() {
                    problems.push(
                        Diagnostic::new(
                            &page.file,
                            format!("{name} term \"{value}\" has no letters or digits"),
                        )
                        .help("use a word, e.g. \"security\""),
                    );
                    continue;
                }
                // Looked up once for a term seen before, as most are.
                let term = match map.get_mut(slug.as_str()) {
                    Some(term) => term,
                    None => map.entry(slug.clone()).or_insert_with(|| Term {
                        name: value.clone(),
                        slug: slug.clone(),
                        pages: Vec::new(),
                    }),
                };
                // Pages come one at a time: a page naming the term twice
                // ("Rust", "rust") can only be the last one listed.
                if term.pages.last() != Some(&i) {
                    term.pages.push(i);
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::Site(problems));
    }
    Ok(config
        .taxonomies
        .iter()
        .map(|t| Taxonomy {
            name: t.name.clone(),
            terms: terms
                .remove(t.name.as_str())
                .unwrap_or_default()
                .into_values()
                .collect(),
        })
        .collect())
}
