//! `herald serve`: build the site in memory, serve it, rebuild on every
//! save and reload the browser. The machinery lives in [`crate::serve`];
//! this module puts it together and reports what happens as
//! [`ServeEvent`]s, which `main.rs` prints.

use crate::commands::BuildOptions;
use crate::error::{Error, Result};
use crate::serve::live::{LiveSite, Rebuilt};
use crate::serve::reload;
use crate::serve::watch::{self, Changes, SiteWatcher};
use crate::serve::{self as server, HttpServer, Refused, State};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The port tried first.
pub const DEFAULT_PORT: u16 = 1111;

/// How often idle browser connections are pinged.
const PING_EVERY: Duration = Duration::from_secs(15);

/// What to serve, and where.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The folder holding `site.toml`.
    pub root: PathBuf,
    /// The address to listen on.
    pub bind: IpAddr,
    /// The port tried first; when busy, the next free one. 0: any free port.
    pub port: u16,
    /// Include drafts (on by default in serve).
    pub drafts: bool,
    /// Include entries dated in the future (on by default in serve).
    pub future: bool,
    /// The base URL pages are rendered with; default `http://ADDRESS:PORT`.
    pub base_url: Option<String>,
}

impl ServeOptions {
    /// Defaults for the site in `root`: 127.0.0.1:1111, drafts and future
    /// entries shown.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ServeOptions {
            root: root.into(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            drafts: true,
            future: true,
            base_url: None,
        }
    }
}

/// What the server reports while it runs.
#[derive(Debug)]
pub enum ServeEvent {
    /// The first build is done (or failed) and the server answers at `url`.
    Listening {
        /// `http://127.0.0.1:PORT`.
        url: String,
        /// The port asked for, when it was busy and another was taken.
        busy_port: Option<u16>,
        /// Whether drafts and future entries are shown.
        drafts: bool,
        future: bool,
    },
    /// A build succeeded.
    Built {
        /// The files that changed (empty for the first build).
        changed: Vec<PathBuf>,
        /// What was reloaded and rendered.
        done: Rebuilt,
        /// Files served: rendered and copied.
        files: usize,
        elapsed: Duration,
        /// The previous build had failed.
        recovered: bool,
    },
    /// Files that are served as they are changed; browsers were told.
    Reloaded {
        changed: Vec<PathBuf>,
        /// Only stylesheets: swapped in place, without reloading the page.
        css_only: bool,
    },
    /// A build failed; the last good build is still served.
    Failed { changed: Vec<PathBuf>, error: Error },
    /// A request named a file the server refuses to serve.
    Refused(Refused),
    /// Ctrl-C: the server stopped.
    Stopped,
}

enum Msg {
    Files(Vec<PathBuf>),
    Refused(Refused),
    Built(Box<Finished>),
    Stop,
}

/// A rebuild asked of the rebuild thread; `seq` numbers them.
struct Job {
    seq: u64,
    changes: Changes,
}

/// What the rebuild thread did with every job up to `seq`.
struct Finished {
    seq: u64,
    /// Every change the build took in.
    changes: Changes,
    result: Result<Built>,
    elapsed: Duration,
}

/// A good build, and what the fast path renders against next.
struct Built {
    done: Rebuilt,
    documents: Arc<crate::output::Output>,
    statics: Arc<crate::output::Output>,
    loaded: Option<(Arc<crate::site::Site>, Arc<crate::templates::Templates>)>,
}

/// Stops a running [`serve`] from another thread (e.g. a Ctrl-C handler).
#[derive(Clone)]
pub struct Stopper(Sender<Msg>);

impl Stopper {
    /// Asks the server to stop; [`serve`] returns soon after.
    pub fn stop(&self) {
        let _ = self.0.send(Msg::Stop);
    }
}

/// The other end of a [`Stopper`], handed to [`serve`].
pub struct Inbox {
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
}

/// A stopper and the inbox it talks to.
pub fn channel() -> (Stopper, Inbox) {
    let (tx, rx) = mpsc::channel();
    (Stopper(tx.clone()), Inbox { tx, rx })
}

/// Stops `stopper`'s server on Ctrl-C.
pub fn stop_on_ctrl_c(stopper: Stopper) -> Result<()> {
    ctrlc::set_handler(move || stopper.stop())
        .map_err(|e| Error::Other(format!("could not handle Ctrl-C: {e}")))
}

/// The address browsers use for `ip`: an unspecified address becomes the
/// loopback one, IPv6 goes in brackets.
fn host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) if v6.is_unspecified() => format!("[{}]", Ipv6Addr::LOCALHOST),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// Serves the site until the inbox's [`Stopper`] is used; `on_event` hears
/// everything that happens (only `main.rs` prints it).
pub fn serve(
    opts: &ServeOptions,
    inbox: Inbox,
    on_event: &mut dyn FnMut(ServeEvent),
) -> Result<()> {
    let root = std::path::absolute(&opts.root).map_err(|e| Error::io("find", &opts.root, e))?;
    let config_file = root.join(crate::config::CONFIG_FILE);
    if !config_file.is_file() {
        return Err(Error::Other(format!(
            "no site.toml in `{}`: run `herald serve` in a site's folder (or pass --root), or create one with `herald init`",
            root.display()
        )));
    }
    let (listener, busy_port) = server::bind(opts.bind, opts.port)?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::Other(format!("could not read the listening address: {e}")))?
        .port();
    let url = format!("http://{}:{port}", host(opts.bind));

    let state = Arc::new(State::new(&root)?);
    let Inbox { tx, rx } = inbox;
    // Watch before the first build, so no save during it is lost.
    let mut watcher = start_watching(&root, &tx)?;

    let mut build_opts = BuildOptions::new(&root);
    build_opts.base_url = Some(opts.base_url.clone().unwrap_or_else(|| url.clone()));
    build_opts.drafts = opts.drafts;
    build_opts.future = opts.future;
    let mut live = LiveSite::new(build_opts);
    // The first build, before anything is served.
    let first = run_job(&mut live, Changes::default(), 0);
    let mut loaded = None;
    finish(&state, first, &mut loaded, on_event);

    let notices_tx = tx.clone();
    let notices: server::Notices = Arc::new(move |r| {
        let _ = notices_tx.send(Msg::Refused(r));
    });
    let http = HttpServer::start(listener, state.clone(), notices)?;
    on_event(ServeEvent::Listening {
        url,
        busy_port,
        drafts: opts.drafts,
        future: opts.future,
    });

    // Full rebuilds run on their own thread, so that the serve loop keeps
    // answering saves (and showing edited entries at once) meanwhile.
    let jobs = start_rebuilder(live, tx.clone())?;
    let mut seq = 0;
    // The newest job whose changes a fast render cannot follow (config,
    // templates, static files), until its build is done.
    let mut heavy_until = 0;
    loop {
        let mut paths = match rx.recv_timeout(PING_EVERY) {
            Ok(Msg::Files(p)) => p,
            Ok(Msg::Refused(r)) => {
                on_event(ServeEvent::Refused(r));
                continue;
            }
            Ok(Msg::Built(f)) => {
                if f.seq >= heavy_until {
                    heavy_until = 0;
                }
                finish(&state, *f, &mut loaded, on_event);
                continue;
            }
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                state.hub.ping();
                continue;
            }
        };
        // Batches that follow within SETTLE of each other make one rebuild.
        let mut stop = false;
        let mut built = Vec::new();
        let settle_until = Instant::now() + Duration::from_millis(500);
        while let Ok(m) = rx.recv_timeout(watch::SETTLE) {
            match m {
                Msg::Files(more) => paths.extend(more),
                Msg::Refused(r) => on_event(ServeEvent::Refused(r)),
                Msg::Built(f) => built.push(f),
                Msg::Stop => stop = true,
            }
            if stop || Instant::now() > settle_until {
                break;
            }
        }
        for f in built {
            if f.seq >= heavy_until {
                heavy_until = 0;
            }
            finish(&state, *f, &mut loaded, on_event);
        }
        if stop {
            break;
        }
        let snap = state.snapshot();
        let changes = watch::classify(&root, &paths, &|p| snap.copies_source(p));
        if changes.is_empty() {
            continue;
        }
        if changes.config {
            // The theme may have changed, or a watched folder appeared.
            drop(watcher);
            watcher = start_watching(&root, &tx)?;
        }
        if changes.config || changes.templates || changes.content || changes.static_set {
            seq += 1;
            if changes.config || changes.templates || changes.static_set {
                heavy_until = seq;
            }
            // The edited entries first, when nothing else is pending...
            if heavy_until == 0 && state.problems().is_none() {
                if let Some((site, templates)) = &loaded {
                    render_ahead(&root, site, templates, &changes, seq, &state, on_event);
                }
            }
            // ...then the whole site, on the rebuild thread.
            if jobs.send(Job { seq, changes }).is_err() {
                return Err(Error::Other("the rebuild thread stopped".into()));
            }
        } else {
            // Only files served as they are: nothing to rebuild, but a new
            // generation, so that a page served before it reloads on
            // connecting.
            let css_only = changes.css_only();
            let generation = state.bump();
            if css_only {
                let paths = url_paths_of(&snap, &root, &changes.static_edits);
                state.announce_css(generation, paths);
            } else {
                state.announce(generation, None);
            }
            on_event(ServeEvent::Reloaded {
                changed: changes.paths,
                css_only,
            });
        }
    }
    // A rebuild in progress is not waited for: the thread ends with it.
    drop(jobs);
    http.stop();
    state.hub.close();
    drop(watcher);
    on_event(ServeEvent::Stopped);
    Ok(())
}

fn start_watching(root: &Path, tx: &Sender<Msg>) -> Result<SiteWatcher> {
    let tx = tx.clone();
    watch::watch(root, move |paths| {
        let _ = tx.send(Msg::Files(paths));
    })
}

/// The rebuild thread: takes jobs, merges those waiting, and builds.
fn start_rebuilder(mut live: LiveSite, results: Sender<Msg>) -> Result<Sender<Job>> {
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("herald-rebuild".into())
        .spawn(move || {
            while let Ok(mut job) = rx.recv() {
                // Saves made during the last build make one build now.
                while let Ok(more) = rx.try_recv() {
                    job.seq = more.seq;
                    job.changes.merge(more.changes);
                }
                let f = run_job(&mut live, job.changes, job.seq);
                if results.send(Msg::Built(Box::new(f))).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| Error::Other(format!("could not start the rebuild thread: {e}")))?;
    Ok(tx)
}

fn run_job(live: &mut LiveSite, changes: Changes, seq: u64) -> Finished {
    let start = Instant::now();
    let result = live.rebuild(&changes).map(|done| Built {
        done,
        documents: live.documents(),
        statics: live.statics(),
        loaded: live.loaded(),
    });
    Finished {
        seq,
        changes,
        result,
        elapsed: start.elapsed(),
    }
}

/// When only existing entries were edited in place: renders their pages
/// alone and shows them at once, before the full rebuild.
fn render_ahead(
    root: &Path,
    site: &crate::site::Site,
    templates: &crate::templates::Templates,
    changes: &Changes,
    seq: u64,
    state: &State,
    on_event: &mut dyn FnMut(ServeEvent),
) {
    let start = Instant::now();
    let Some(ahead) = crate::serve::live::render_ahead(root, site, templates, changes) else {
        return;
    };
    let paths: Vec<String> = ahead
        .keys()
        .flat_map(|k| server::url_paths_for(k))
        .collect();
    let pages = ahead.len();
    let generation = state.publish_ahead(ahead, seq);
    state.announce(generation, Some(paths));
    let snap = state.snapshot();
    on_event(ServeEvent::Built {
        changed: changes.paths.clone(),
        done: Rebuilt {
            rendered: Some(pages),
            ahead: true,
            ..Rebuilt::default()
        },
        files: snap.documents.len() + snap.statics.len(),
        elapsed: start.elapsed(),
        recovered: false,
    });
}

/// Serves a finished build, or keeps the last good one and shows the error.
fn finish(
    state: &State,
    f: Finished,
    loaded: &mut Option<(Arc<crate::site::Site>, Arc<crate::templates::Templates>)>,
    on_event: &mut dyn FnMut(ServeEvent),
) {
    let recovered = state.problems().is_some();
    let changes = f.changes;
    match f.result {
        Ok(Built {
            done,
            documents,
            statics,
            loaded: l,
        }) => {
            *loaded = l;
            let files = documents.len() + statics.len();
            // After a content edit, only the pages whose HTML changed
            // reload; after anything else (or a fix), every page does: an
            // image edited along with them may show on any page.
            let old = state.snapshot();
            let same_files = old.statics.copies == statics.copies
                && old.statics.files == statics.files
                && old.documents.copies == documents.copies;
            let content_only = changes.content
                && !changes.config
                && !changes.templates
                && !changes.static_set
                && changes.static_edits.is_empty()
                && same_files;
            let generation = state.publish(documents, statics, f.seq);
            let paths = if content_only && !recovered && old.generation > 0 {
                state.snapshot().changed_since(&old)
            } else {
                None
            };
            state.announce(generation, paths);
            on_event(ServeEvent::Built {
                changed: changes.paths,
                done,
                files,
                elapsed: f.elapsed,
                recovered,
            });
        }
        Err(error) => {
            let problems = reload::problems(&error);
            state.fail(problems);
            on_event(ServeEvent::Failed {
                changed: changes.paths,
                error,
            });
        }
    }
}

/// The URL paths that serve the given source files (relative to `root`).
fn url_paths_of(snap: &server::Snapshot, root: &Path, sources: &[PathBuf]) -> Vec<String> {
    let abs: Vec<PathBuf> = sources.iter().map(|s| root.join(s)).collect();
    snap.statics
        .copies
        .iter()
        .chain(snap.documents.copies.iter())
        .filter(|(_, src)| abs.iter().any(|a| a == *src))
        .map(|(key, _)| format!("/{key}"))
        .collect()
}

/// What the terminal shows for `event`, and whether it goes to stderr.
pub fn describe(event: &ServeEvent) -> (String, bool) {
    let now = chrono::Local::now().format("%H:%M:%S");
    let changed = |paths: &[PathBuf]| -> String {
        let mut names: Vec<String> = paths
            .iter()
            .take(3)
            .map(|p| p.display().to_string())
            .collect();
        if paths.len() > 3 {
            names.push(format!("and {} more", paths.len() - 3));
        }
        names.join(", ")
    };
    match event {
        ServeEvent::Listening {
            url,
            busy_port,
            drafts,
            future,
        } => {
            let mut text = String::new();
            if let Some(p) = busy_port {
                text.push_str(&format!(
                    "Port {p} is busy, so the server took the next free one.\n"
                ));
            }
            let shown = match (drafts, future) {
                (true, true) => {
                    "Drafts and future entries are shown (--no-drafts, --no-future hide them)."
                }
                (true, false) => {
                    "Drafts are shown (--no-drafts hides them); future entries are hidden."
                }
                (false, true) => {
                    "Future entries are shown (--no-future hides them); drafts are hidden."
                }
                (false, false) => "Drafts and future entries are hidden, as in `herald build`.",
            };
            text.push_str(&format!(
                "Serving at {url}/\n{shown}\nWatching content/, templates/, static/, themes/, data/ and site.toml: the browser reloads on save. Ctrl-C stops."
            ));
            (text, false)
        }
        ServeEvent::Built {
            changed: paths,
            done,
            elapsed,
            ..
        } if done.ahead => {
            let text = format!(
                "{now} {} changed: shown in {} ms ({} rendered ahead; the rest of the site follows).",
                changed(paths),
                elapsed.as_millis(),
                match done.rendered {
                    Some(1) => "its page".to_string(),
                    Some(n) => format!("{n} pages"),
                    None => "nothing".to_string(),
                },
            );
            (text, false)
        }
        ServeEvent::Built {
            changed: paths,
            done,
            files,
            elapsed,
            recovered,
        } => {
            let mut did = Vec::new();
            if paths.is_empty() {
                // The first build: everything was loaded.
            } else if done.config {
                did.push("site.toml reloaded".to_string());
            } else {
                if done.templates {
                    did.push("templates reloaded".to_string());
                }
                if done.content {
                    did.push("content reloaded".to_string());
                }
            }
            match done.rendered {
                Some(n) => did.push(format!("{n} files rendered")),
                None => did.push("no page re-rendered".to_string()),
            }
            if done.statics && !done.content && !done.config {
                did.push("static files listed".to_string());
            }
            let what = if paths.is_empty() {
                "Built".to_string()
            } else {
                format!("{} changed: rebuilt", changed(paths))
            };
            let fixed = if *recovered {
                " The error is fixed."
            } else {
                ""
            };
            let text = format!(
                "{now} {what} in {} ms ({}; {files} files served).{fixed}",
                elapsed.as_millis(),
                did.join(", ")
            );
            (text, false)
        }
        ServeEvent::Reloaded {
            changed: paths,
            css_only,
        } => {
            let how = if *css_only {
                "stylesheets swapped in the browser"
            } else {
                "browser reloaded"
            };
            (
                format!("{now} {} changed: served as is, {how}.", changed(paths)),
                false,
            )
        }
        ServeEvent::Failed {
            changed: paths,
            error,
        } => {
            let head = if paths.is_empty() {
                format!("{now} The build failed.")
            } else {
                format!("{now} {} changed: the rebuild failed.", changed(paths))
            };
            (
                format!("{head}\n{error}\n(The last good build is still served; the browser shows this error until it is fixed.)"),
                true,
            )
        }
        ServeEvent::Refused(r) => (format!("{now} refused {}: {}", r.url, r.reason), true),
        ServeEvent::Stopped => ("Stopped.".to_string(), false),
    }
}
