//! `herald syndicate`: cross-posts new entries to the networks configured in
//! `site.toml`, once each, and records where they went in the ledger.
//!
//! The run, for each network in turn (one failing never stops the others):
//! 1. pick the entries — published (not draft, not scheduled), dated after
//!    `[syndicate] since` unless `--backfill`, not skipped in front matter,
//!    not yet `posted` in the ledger;
//! 2. reconcile first: for each ledger *intent* without a result, ask the
//!    network whether the post exists, and record it if so;
//! 3. post: write an intent to the ledger, send, write the result.
//!
//! Never twice rests on each network's own idempotency (see the network
//! modules) plus the intent written before each send; never lost on the
//! ledger's atomic writes.

pub mod bluesky;
pub mod config;
pub mod discourse;
pub mod http;
pub mod mastodon;
pub mod message;
pub mod network;

use crate::config::{Config, CONFIG_FILE};
use crate::content::{LoadOptions, Page};
use crate::error::{Diagnostic, Error, Result};
use crate::ledger::{Ledger, Record, Status};
use crate::render::views::SyndicationLink;
use crate::site::Site;
use chrono::{DateTime, FixedOffset, Utc};
use config::{KindConfig, NetworkConfig, SyndicateConfig};
use http::NetError;
use network::{Entry, Image, Message, Network, Posted};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to do.
#[derive(Debug, Clone)]
pub struct SyndicateOptions {
    /// The folder holding `site.toml`.
    pub root: PathBuf,
    /// Prepare and report every message; send nothing, write nothing.
    pub dry_run: bool,
    /// Also entries older than `[syndicate] since`.
    pub backfill: bool,
    /// Only these networks (names of `[networks.NAME]`); all when empty.
    pub networks: Vec<String>,
    /// What "now" is, for scheduled entries.
    pub now: DateTime<FixedOffset>,
    /// Test hook: behave as if the process died right after a send
    /// succeeded, before its result was recorded.
    pub crash_after_send: Option<Crash>,
}

/// How a simulated crash ends the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    /// `syndicate` returns an error at once (for tests in the same process).
    Return,
    /// The process aborts, as if killed.
    Abort,
}

impl SyndicateOptions {
    /// Options for the site in `root`, at the current time.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SyndicateOptions {
            root: root.into(),
            dry_run: false,
            backfill: false,
            networks: Vec::new(),
            now: Utc::now().fixed_offset(),
            crash_after_send: None,
        }
    }
}

/// What happened to one entry on one network.
#[derive(Debug, Clone, Serialize)]
pub enum Outcome {
    /// Sent now.
    Posted(Posted),
    /// An earlier send that had not been recorded was found on the network.
    Reconciled(Posted),
    /// `--dry-run`: what would be sent.
    WouldSend(Box<Message>),
    /// `--dry-run`: an intent that a real run would check first.
    WouldCheck(Box<Message>),
    /// Not sent, because of this error.
    Failed(String),
    /// Not tried, for this reason.
    NotTried(String),
}

/// One line of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub entry: String,
    pub network: String,
    pub outcome: Outcome,
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyndicateReport {
    pub rows: Vec<Row>,
    /// Entries considered (after the date filter).
    pub entries: usize,
    /// (entry, network) pairs already in the ledger as posted.
    pub already_posted: usize,
    /// Entries left out because they are older than `since`.
    pub older_than_since: usize,
    pub dry_run: bool,
}

impl SyndicateReport {
    /// Whether anything failed or was left untried.
    pub fn failed(&self) -> bool {
        self.rows
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed(_) | Outcome::NotTried(_)))
    }

    /// Rows of one kind.
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.rows.iter().filter(|r| f(&r.outcome)).count()
    }
}

/// Cross-posts, as described in the module documentation.
pub fn syndicate(opts: &SyndicateOptions) -> Result<SyndicateReport> {
    let config = Config::load(&opts.root)?;
    let scfg = SyndicateConfig::load(&opts.root, &config)?;
    let site = Site::load_with_config(
        &opts.root,
        config,
        &LoadOptions {
            drafts: false,
            future: false,
            now: opts.now,
            cache: false,
        },
    )?;
    let file = Path::new(CONFIG_FILE);
    if scfg.networks.is_empty() {
        return Err(Diagnostic::new(file, "no networks to cross-post to")
            .help("add a [networks.NAME] table with a `kind` (see docs/syndicate.md)")
            .into());
    }
    if scfg.since.is_none() && !opts.backfill {
        return Err(Diagnostic::new(file, "[syndicate] has no `since` date")
            .at_opt_line(config::section_line(
                &std::fs::read_to_string(opts.root.join(CONFIG_FILE)).unwrap_or_default(),
                "syndicate",
            ))
            .help("add `since = YYYY-MM-DD` under [syndicate]: only entries after it are cross-posted, so a first run does not post the whole archive (or pass --backfill)")
            .into());
    }
    let known: Vec<&str> = scfg.networks.iter().map(|n| n.name.as_str()).collect();
    let mut problems = Vec::new();
    for n in &opts.networks {
        if !known.contains(&n.as_str()) {
            problems.push(
                Diagnostic::new(file, format!("--network `{n}`: there is no [networks.{n}]")).help(
                    crate::error::unknown_key_help(n, &known)
                        .replace("known keys are", "networks are"),
                ),
            );
        }
    }
    let (entries, older) = select_entries(&site, &scfg, opts, &known, &mut problems);
    if !problems.is_empty() {
        return Err(Error::Site(problems));
    }
    let mut ledger = Ledger::load(&opts.root)?;
    let mut report = SyndicateReport {
        entries: entries.len(),
        older_than_since: older,
        dry_run: opts.dry_run,
        ..Default::default()
    };
    for net in &scfg.networks {
        if !opts.networks.is_empty() && !opts.networks.contains(&net.name) {
            continue;
        }
        run_network(net, &entries, &site, &mut ledger, opts, &mut report)?;
    }
    Ok(report)
}

/// Entries to consider, oldest first, and how many `since` left out.
fn select_entries(
    site: &Site,
    scfg: &SyndicateConfig,
    opts: &SyndicateOptions,
    known: &[&str],
    problems: &mut Vec<Diagnostic>,
) -> (Vec<(Entry, Vec<String>)>, usize) {
    let mut out = Vec::new();
    let mut older = 0;
    let mut pages: Vec<&Page> = site
        .content
        .pages
        .iter()
        .map(|p| &**p)
        .filter(|p| p.date.is_some())
        .collect();
    pages.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.rel.cmp(&b.rel)));
    for p in pages {
        let date = p.date.expect("filtered");
        for name in p.syndicate.skip.iter().chain(p.syndicate.messages.keys()) {
            if name != "all" && !known.contains(&name.as_str()) {
                problems.push(
                    Diagnostic::new(&p.file, format!("[syndicate] names network `{name}`, which site.toml does not configure"))
                        .help(crate::error::unknown_key_help(name, known).replace("known keys are", "networks are")),
                );
            }
        }
        if !opts.backfill && scfg.since.is_some_and(|s| date <= s) {
            older += 1;
            continue;
        }
        match entry(site, p) {
            Ok(e) => out.push((e, p.syndicate.skip.clone())),
            Err(d) => problems.push(d),
        }
    }
    (out, older)
}

/// The entry for `page`.
pub fn entry(site: &Site, p: &Page) -> std::result::Result<Entry, Diagnostic> {
    let c = &site.config;
    let url = c.url(&p.path);
    let summary = p
        .description
        .clone()
        .or_else(|| p.rendered.summary.as_deref().map(message::html_to_text))
        .unwrap_or_else(|| message::html_to_text(&p.rendered.html));
    let image = match &p.syndicate.image {
        None => None,
        Some(img) => {
            let dir = Path::new(crate::content::CONTENT_DIR)
                .join(Path::new(&p.rel).parent().unwrap_or(Path::new("")));
            let rel = if let Some(abs) = img.strip_prefix('/') {
                let in_static = Path::new("static").join(abs);
                if site.root.join(&in_static).is_file() {
                    in_static
                } else {
                    Path::new(crate::content::CONTENT_DIR).join(abs)
                }
            } else {
                dir.join(img)
            };
            if !site.root.join(&rel).is_file() {
                return Err(Diagnostic::new(&p.file, format!("[syndicate] image `{img}` not found (looked for `{}`)", rel.display()))
                    .help("name a file beside the entry (for a page bundle, in its folder), or a path from the site root starting with /"));
            }
            let alt = p.syndicate.image_alt.clone().unwrap_or_default();
            if alt.trim().is_empty() {
                return Err(Diagnostic::new(
                    &p.file,
                    format!("[syndicate] image `{img}` has no `image_alt`"),
                )
                .help("describe the image for people who cannot see it: image_alt = \"…\""));
            }
            Some(Image {
                path: site.root.join(rel),
                alt,
            })
        }
    };
    Ok(Entry {
        rel: p.rel.clone(),
        file: p.file.clone(),
        title: p.title.clone(),
        summary,
        description: p.description.clone(),
        url: url.clone(),
        tags: p.taxonomies.get("tags").cloned().unwrap_or_default(),
        authors: crate::render::views::authors(c, p),
        date: p.date.unwrap_or_default(),
        markdown: absolute_links(&p.markdown(&site.root)?, &url, site),
        message: p.syndicate.message.clone(),
        messages: p.syndicate.messages.clone(),
        image,
        site_title: c.title.clone(),
    })
}

/// The Markdown with every link and image made absolute (`@/` links
/// resolved), using the parser's offsets to find each destination.
pub fn absolute_links(body: &str, page_url: &str, site: &Site) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let base = reqwest::Url::parse(page_url).ok();
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (event, range) in Parser::new_ext(body, Options::all()).into_offset_iter() {
        let dest = match &event {
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => dest_url.to_string(),
            _ => continue,
        };
        let absolute = if let Some(target) = dest.strip_prefix("@/") {
            let (file, frag) = target.split_once('#').map_or((target, ""), |(f, h)| (f, h));
            match site.content.link_targets().get(file) {
                Some(path) if frag.is_empty() => site.config.url(path),
                Some(path) => format!("{}#{frag}", site.config.url(path)),
                None => continue,
            }
        } else {
            match base.as_ref().and_then(|b| b.join(&dest).ok()) {
                Some(u) if u.as_str() != dest => u.to_string(),
                _ => continue,
            }
        };
        // The destination as written, inside this link's source text.
        let src = &body[range.clone()];
        if let Some(at) = src
            .rfind(&format!("]({dest}"))
            .map(|i| i + 2)
            .or_else(|| src.rfind(&format!("(<{dest}>")).map(|i| i + 2))
        {
            let start = range.start + at;
            if !edits
                .iter()
                .any(|(s, e, _)| start < *e && start + dest.len() > *s)
            {
                edits.push((start, start + dest.len(), absolute));
            }
        }
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = body.to_string();
    for (s, e, new) in edits {
        out.replace_range(s..e, &new);
    }
    out
}

fn open(net: &NetworkConfig, dry_run: bool) -> std::result::Result<Box<dyn Network>, NetError> {
    Ok(match &net.kind {
        KindConfig::Mastodon(m) => {
            let mut n = mastodon::Mastodon::new(net, m);
            if !dry_run {
                n.connect()?;
            }
            Box::new(n)
        }
        KindConfig::Bluesky(b) => {
            let mut n = bluesky::Bluesky::new(net, b);
            if !dry_run {
                n.connect()?;
            }
            Box::new(n)
        }
        KindConfig::Discourse(d) => {
            let mut n = discourse::Discourse::new(net, d);
            if !dry_run {
                n.connect()?;
            }
            Box::new(n)
        }
    })
}

/// The message for `e` when it is to go out now; otherwise the outcome to
/// report: it could not be written, or (a dry run) `would` says what would
/// have happened to it.
fn message_to_send(
    client: &dyn Network,
    e: &Entry,
    dry_run: bool,
    would: fn(Box<Message>) -> Outcome,
) -> std::result::Result<Message, Outcome> {
    let message = client
        .prepare(e)
        .map_err(|err| Outcome::Failed(err.to_string()))?;
    if dry_run {
        return Err(would(Box::new(message)));
    }
    Ok(message)
}

fn run_network(
    net: &NetworkConfig,
    entries: &[(Entry, Vec<String>)],
    site: &Site,
    ledger: &mut Ledger,
    opts: &SyndicateOptions,
    report: &mut SyndicateReport,
) -> Result<()> {
    let name = net.name.as_str();
    let row = |entry: &str, outcome: Outcome| Row {
        entry: entry.to_string(),
        network: name.to_string(),
        outcome,
    };
    // Intents first, whatever their date: they may already be on the network.
    let intents = ledger.intents(name);
    let mut todo: Vec<&Entry> = Vec::new();
    for (e, skip) in entries {
        if skip.iter().any(|s| s == name || s == "all") {
            continue;
        }
        match ledger.get(&e.rel, name) {
            Some(r) if r.status == Status::Posted => report.already_posted += 1,
            Some(_) => {}
            None => todo.push(e),
        }
    }
    // (entry, whether its front matter now skips this network)
    let mut pending: Vec<(Entry, bool)> = Vec::new();
    for rel in &intents {
        match site.content.pages.iter().find(|p| &p.rel == rel) {
            Some(p) => match entry(site, p) {
                Ok(e) => {
                    let skipped = p.syndicate.skip.iter().any(|s| s == name || s == "all");
                    pending.push((e, skipped));
                }
                Err(d) => report.rows.push(row(rel, Outcome::Failed(d.to_string()))),
            },
            None => report.rows.push(row(
                rel,
                Outcome::Failed(format!(
                    "the ledger has an unconfirmed send of this entry, which is no longer published; check {} by hand, then remove the entry from {}",
                    net.label,
                    crate::ledger::LEDGER_FILE
                )),
            )),
        }
    }
    if todo.is_empty() && pending.is_empty() {
        return Ok(());
    }
    let mut client = match open(net, opts.dry_run) {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("{} `{name}`: {e}", net.kind.name());
            for e in pending.iter().map(|(e, _)| e).chain(todo.iter().copied()) {
                report
                    .rows
                    .push(row(&e.rel, Outcome::NotTried(msg.clone())));
            }
            return Ok(());
        }
    };

    let mut stopped: Option<String> = None;
    // 1. Reconcile.
    for (e, skipped) in &pending {
        let message = match message_to_send(client.as_ref(), e, opts.dry_run, Outcome::WouldCheck) {
            Ok(m) => m,
            Err(outcome) => {
                report.rows.push(row(&e.rel, outcome));
                continue;
            }
        };
        match client.find_existing(&message) {
            Ok(Some(posted)) => {
                ledger.set(
                    &e.rel,
                    name,
                    Record::posted(&posted.id, &posted.url, Utc::now()),
                );
                ledger.save(&opts.root)?;
                report.rows.push(row(&e.rel, Outcome::Reconciled(posted)));
            }
            // Not there: send it again below (the network's idempotency
            // covers a send still in flight).
            Ok(None) if !skipped => todo.push(e),
            // Not there, and no longer wanted there.
            Ok(None) => {
                ledger.remove(&e.rel, name);
                ledger.save(&opts.root)?;
            }
            Err(err) => {
                // Unsure whether it exists: do not send it in this run.
                if err.stops_network() {
                    stopped = Some(err.to_string());
                }
                report.rows.push(row(
                    &e.rel,
                    Outcome::Failed(format!("checking for an earlier send: {err}")),
                ));
                if stopped.is_some() {
                    break;
                }
            }
        }
    }
    todo.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.rel.cmp(&b.rel)));

    // 2. Post.
    for e in todo {
        if let Some(why) = &stopped {
            report.rows.push(row(
                &e.rel,
                Outcome::NotTried(format!("{name} stopped after: {why}")),
            ));
            continue;
        }
        let message = match message_to_send(client.as_ref(), e, opts.dry_run, Outcome::WouldSend) {
            Ok(m) => m,
            Err(outcome) => {
                report.rows.push(row(&e.rel, outcome));
                continue;
            }
        };
        ledger.set(&e.rel, name, Record::intent(Utc::now()));
        ledger.save(&opts.root)?;
        match client.post(&message) {
            Ok(posted) => {
                match opts.crash_after_send {
                    Some(Crash::Abort) => std::process::abort(),
                    Some(Crash::Return) => {
                        return Err(Error::Other(format!(
                            "simulated crash after sending {} to {name}",
                            e.rel
                        )))
                    }
                    None => {}
                }
                ledger.set(
                    &e.rel,
                    name,
                    Record::posted(&posted.id, &posted.url, Utc::now()),
                );
                ledger.save(&opts.root)?;
                report.rows.push(row(&e.rel, Outcome::Posted(posted)));
            }
            Err(err) => {
                if !err.maybe_applied() {
                    // Certainly not posted (refused, rate limited, bad entry).
                    ledger.remove(&e.rel, name);
                    ledger.save(&opts.root)?;
                }
                if err.stops_network() {
                    stopped = Some(err.to_string());
                }
                let note = if err.maybe_applied() {
                    " (it may have arrived: the next run checks before sending again)"
                } else {
                    ""
                };
                report
                    .rows
                    .push(row(&e.rel, Outcome::Failed(format!("{err}{note}"))));
            }
        }
    }
    Ok(())
}

/// The `u-syndication` links of every entry, from the ledger (the build
/// never touches the network). Keyed by the entry's file relative to
/// `content/`; links ordered by network name.
/// The networks' settings are validated on the way, so `herald check`
/// reports a mistake in them before `herald syndicate` meets it.
pub fn syndication_links(site: &Site) -> Result<BTreeMap<String, Vec<SyndicationLink>>> {
    let (ledger, scfg) = if site.config.networks.is_empty() && site.config.syndicate.is_empty() {
        (Ledger::load(&site.root)?, None)
    } else {
        // Both read, so one run reports problems in both.
        let scfg = SyndicateConfig::load(&site.root, &site.config);
        let ledger = Ledger::load(&site.root);
        match (ledger, scfg) {
            (Ok(l), Ok(c)) => (l, Some(c)),
            (l, c) => {
                let mut problems = Vec::new();
                for e in [l.err(), c.err()].into_iter().flatten() {
                    match e {
                        Error::Site(d) => problems.extend(d),
                        other => return Err(other),
                    }
                }
                return Err(Error::Site(problems));
            }
        }
    };
    let mut out = BTreeMap::new();
    for (rel, networks) in &ledger.entries {
        let links: Vec<SyndicationLink> = networks
            .iter()
            .filter(|(_, r)| r.status == Status::Posted)
            .filter_map(|(name, r)| {
                let url = r.url.clone()?;
                let (network, label) = match scfg.as_ref().and_then(|c| c.network(name)) {
                    Some(n) => (n.kind.name().to_string(), n.label.clone()),
                    None => (name.clone(), name.clone()),
                };
                Some(SyndicationLink {
                    network,
                    name: label,
                    url,
                })
            })
            .collect();
        if !links.is_empty() {
            out.insert(rel.clone(), links);
        }
    }
    Ok(out)
}
