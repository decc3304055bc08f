//! `herald comments` as a library call: read the ledger, fetch every post's
//! thread (concurrently, bounded per network), merge with what is stored,
//! write `data/comments/` atomically and append the history.
//!
//! One network failing leaves the others' data and its own previous data
//! intact: a thread replaces the stored one only when its fetch succeeded.

use super::config::CommentsConfig;
use super::fetch::{self, Ctx, PostRef, Target};
use super::http::{FetchError, Http};
use super::model::{EntryComments, NetworkThread, Snapshot};
use super::{avatars, store, targets};
use crate::config::{Config, CONFIG_FILE};
use crate::error::Result;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The folder holding `site.toml`.
    pub root: PathBuf,
    /// Fetch every entry, however old.
    pub all: bool,
    /// What "now" is.
    pub now: DateTime<Utc>,
}

impl FetchOptions {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FetchOptions {
            root: root.into(),
            all: false,
            now: Utc::now(),
        }
    }
}

/// Told about progress (a terminal progress bar, or nothing).
pub trait Progress: Sync {
    /// `total` posts will be fetched.
    fn start(&self, _total: u64) {}
    /// One post is done.
    fn step(&self, _post: &PostRef, _ok: bool) {}
    fn finish(&self) {}
}

/// No progress shown.
pub struct Quiet;
impl Progress for Quiet {}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct FetchReport {
    /// Posts fetched successfully.
    pub fetched: usize,
    /// Posts skipped as older than `max_age_days`.
    pub skipped_old: usize,
    /// Posts skipped for another reason, with the reason.
    pub skipped: Vec<String>,
    /// Fetches that failed (their previous data is kept).
    pub failed: Vec<FetchError>,
    /// Files written (unchanged ones are not rewritten).
    pub files_written: usize,
    /// Comments now stored, all entries and networks.
    pub comments: usize,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    pub elapsed: Duration,
    /// Avatars downloaded in this run (`[comments] avatars = true`).
    pub avatars_written: usize,
    /// Avatars that could not be fetched or were refused: their comments
    /// show without one, and the run still succeeds.
    pub avatar_failures: Vec<FetchError>,
    /// Per network: posts fetched, failed.
    pub per_network: BTreeMap<String, (usize, usize)>,
}

/// Runs `herald comments`.
pub fn fetch_all(opts: &FetchOptions, progress: &dyn Progress) -> Result<FetchReport> {
    let start = Instant::now();
    let root = &opts.root;
    let config = Config::load(root)?;
    let text = std::fs::read_to_string(root.join(CONFIG_FILE)).unwrap_or_default();
    let cc = CommentsConfig::from_config(&config, &text)?;
    let targets = targets::targets(&config, &text, &cc)?;
    let posts = targets::posts(root)?;
    let mut report = FetchReport::default();

    // Entries that exist and want comments (drafts and scheduled ones too:
    // they may have been posted before being unpublished).
    let pages = crate::content::load(
        root,
        &config,
        &crate::content::LoadOptions {
            drafts: true,
            future: true,
            now: opts.now.fixed_offset(),
            cache: false,
        },
    )
    .ok()
    .map(|c| {
        c.pages
            .into_iter()
            .map(|p| (p.rel, p.comments))
            .collect::<HashMap<_, _>>()
    });

    let by_name: HashMap<&str, &Target> = targets.iter().map(|t| (t.name.as_str(), t)).collect();
    let max_age = chrono::Duration::days(cc.max_age_days.min(100_000) as i64);
    let mut jobs: BTreeMap<&str, Vec<&PostRef>> = BTreeMap::new();
    for p in &posts {
        if !by_name.contains_key(p.network.as_str()) {
            report.skipped.push(format!(
                "{} on {}: the network is not configured in site.toml",
                p.entry, p.network
            ));
            continue;
        }
        if let Some(pages) = &pages {
            match pages.get(&p.entry) {
                None => {
                    report.skipped.push(format!(
                        "{} on {}: the entry is not in content/ any more",
                        p.entry, p.network
                    ));
                    continue;
                }
                Some(false) => continue, // comments = false
                Some(true) => {}
            }
        }
        if !opts.all && cc.max_age_days > 0 {
            if let Some(at) = p.posted_at {
                if opts.now - at > max_age {
                    report.skipped_old += 1;
                    continue;
                }
            }
        }
        jobs.entry(p.network.as_str()).or_default().push(p);
    }

    // What was stored, for conditional requests and to keep on failure.
    let mut stored: BTreeMap<String, EntryComments> = BTreeMap::new();
    for list in jobs.values() {
        for p in list {
            if !stored.contains_key(&p.entry) {
                let prev = store::load(root, &p.entry)?.unwrap_or_else(|| EntryComments {
                    entry: p.entry.clone(),
                    ..Default::default()
                });
                stored.insert(p.entry.clone(), prev);
            }
        }
    }

    let http = Http::new(cc.timeout);
    for t in &targets {
        http.register(&t.name, t.token_env.as_deref(), t.token().as_deref());
    }
    let now = opts.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let total: usize = jobs.values().map(Vec::len).sum();
    progress.start(total as u64);
    type Done<'p> = (&'p PostRef, std::result::Result<NetworkThread, FetchError>);
    let results: Mutex<Vec<Done<'_>>> = Mutex::new(Vec::with_capacity(total));
    std::thread::scope(|s| {
        for (name, list) in &jobs {
            let target = by_name[name];
            let next = AtomicUsize::new(0);
            let workers = cc.concurrency.min(list.len()).max(1);
            let (http, cc, stored, results, now, next) = (
                &http,
                &cc,
                &stored,
                &results,
                &now,
                std::sync::Arc::new(next),
            );
            for _ in 0..workers {
                let next = next.clone();
                s.spawn(move || {
                    let ctx = Ctx {
                        http,
                        config: cc,
                        target,
                        now: now.clone(),
                    };
                    let network = fetch::network(target.kind);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(p) = list.get(i) else { break };
                        let previous = stored
                            .get(&p.entry)
                            .and_then(|e| e.networks.get(&p.network));
                        let r = network.fetch(&ctx, p, previous);
                        progress.step(p, r.is_ok());
                        results
                            .lock()
                            .expect("no worker panics holding the lock")
                            .push((*p, r));
                    }
                });
            }
        }
    });
    progress.finish();

    let mut snapshots = Vec::new();
    let mut changed: BTreeMap<String, bool> = BTreeMap::new();
    let mut results = results.into_inner().expect("workers are done");
    results.sort_by(|a, b| (&a.0.entry, &a.0.network).cmp(&(&b.0.entry, &b.0.network)));
    // Avatars, before comparing with what was stored (which names them).
    let avatar_files = if cc.avatars {
        let threads: Vec<(&str, &str, &NetworkThread)> = results
            .iter()
            .filter_map(|(p, r)| {
                let base = by_name[p.network.as_str()].base_url.as_str();
                r.as_ref().ok().map(|t| (p.network.as_str(), base, t))
            })
            .collect();
        let got = avatars::download(root, &http, &threads, cc.concurrency)?;
        report.avatars_written = got.written;
        report.avatar_failures = got.failed;
        Some(got.files)
    } else {
        None
    };
    for (p, r) in results {
        let counts = report.per_network.entry(p.network.clone()).or_default();
        match r {
            Ok(mut thread) => {
                if let Some(files) = &avatar_files {
                    avatars::attach(&mut thread, files);
                }
                counts.0 += 1;
                report.fetched += 1;
                let entry = stored
                    .get_mut(&p.entry)
                    .expect("every job's entry was loaded");
                let mut snap = Snapshot::of(&p.entry, &p.network, &thread);
                snap.at = now.clone();
                snapshots.push(snap);
                if let Some(old) = entry.networks.get(&p.network) {
                    // Unchanged data keeps its old time, so the file (and
                    // its git diff) changes only when the conversation does.
                    let mut same = thread.clone();
                    same.fetched_at = old.fetched_at.clone();
                    if &same == old {
                        continue;
                    }
                    thread.fetched_at = now.clone();
                }
                entry.networks.insert(p.network.clone(), thread);
                changed.insert(p.entry.clone(), true);
            }
            Err(e) => {
                counts.1 += 1;
                report.failed.push(e);
            }
        }
    }
    for (entry, _) in changed {
        store::save(root, &stored[&entry])?;
        report.files_written += 1;
    }
    store::append_history(root, &snapshots)?;
    report.comments = stored
        .values()
        .flat_map(|e| e.networks.values())
        .map(|t| t.comments.len())
        .sum();
    report.requests = http.requests();
    report.elapsed = start.elapsed();
    Ok(report)
}
