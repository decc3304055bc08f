//! `herald build` and `herald check`.

use crate::config::Config;
use crate::content::LoadOptions;
use crate::error::{Diagnostic, Error, Result};
use crate::output::{self, Output};
use crate::site::Site;
use crate::templates::Templates;
use chrono::{DateTime, FixedOffset};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What to build, and how.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The folder holding `site.toml`.
    pub root: PathBuf,
    /// Overrides `output_dir` of `site.toml` (relative to `root` unless absolute).
    pub output_dir: Option<PathBuf>,
    /// Overrides `base_url` (the dev server uses its own address).
    pub base_url: Option<String>,
    pub drafts: bool,
    pub future: bool,
    /// What "now" is, for scheduled entries.
    pub now: DateTime<FixedOffset>,
}

impl BuildOptions {
    /// Options for the site in `root`, at the current time.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        BuildOptions {
            root: root.into(),
            output_dir: None,
            base_url: None,
            drafts: false,
            future: false,
            now: chrono::Utc::now().fixed_offset(),
        }
    }

    fn load_options(&self) -> LoadOptions {
        LoadOptions {
            drafts: self.drafts,
            future: self.future,
            now: self.now,
            cache: true,
        }
    }
}

/// What a build did.
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub pages: usize,
    pub sections: usize,
    pub files: usize,
    pub output_dir: PathBuf,
    pub elapsed: Duration,
}

/// Loads and renders the site in memory; nothing is written.
pub fn render_site(opts: &BuildOptions) -> Result<(Site, Output)> {
    let (site, templates) = load(opts)?;
    crate::trace::mark("loaded");
    let output = crate::render::render(&site, &templates)?;
    Ok((site, output))
}

/// Loads the site and its templates, checking both, so one run reports
/// the problems of both.
fn load(opts: &BuildOptions) -> Result<(Site, Templates)> {
    load_with(opts, load_config(opts)?)
}

/// `site.toml`, with the options' base URL.
fn load_config(opts: &BuildOptions) -> Result<Config> {
    let mut config = Config::load(&opts.root)?;
    if let Some(url) = &opts.base_url {
        config.base_url = url.trim_end_matches('/').to_string();
    }
    Ok(config)
}

/// [`load`] with the configuration loaded.
fn load_with(opts: &BuildOptions, config: Config) -> Result<(Site, Templates)> {
    load_then(opts, config, &crate::content::Hooks::NONE)
}

/// [`load_with`], calling the `hooks` as [`Site::load_then`] does.
fn load_then(
    opts: &BuildOptions,
    config: Config,
    hooks: &crate::content::Hooks<'_>,
) -> Result<(Site, Templates)> {
    let (site, templates) = rayon::join(
        || Site::load_then(&opts.root, config.clone(), &opts.load_options(), hooks),
        || Templates::load(&opts.root, &config),
    );
    match (site, templates) {
        (Ok(s), Ok(t)) => Ok((s, t)),
        (s, t) => {
            let mut problems: Vec<Diagnostic> = Vec::new();
            for e in [s.err(), t.err()].into_iter().flatten() {
                match e {
                    Error::Site(d) => problems.extend(d),
                    other => return Err(other),
                }
            }
            Err(Error::Site(problems))
        }
    }
}

/// The output folder a build writes to.
pub fn output_dir(opts: &BuildOptions, config_dir: &Path) -> PathBuf {
    let dir = opts
        .output_dir
        .clone()
        .unwrap_or_else(|| config_dir.to_path_buf());
    if dir.is_absolute() {
        dir
    } else {
        opts.root.join(dir)
    }
}

/// Builds the site into its output folder, atomically.
pub fn build(opts: &BuildOptions) -> Result<BuildReport> {
    let start = Instant::now();
    crate::trace::mark("start");
    let config = load_config(opts)?;
    let out_dir = output_dir(opts, &config.output_dir);
    // Files the last build made from the same inputs are kept as they are,
    // and of the others only those whose bytes changed are written (see
    // `output`). What the last build made is read while the site loads.
    // With nothing to keep, files go to disk as they are rendered, so that
    // they need not all be in memory at once: into a new folder, where each
    // page's folder is made as soon as its front matter is read, on a
    // thread of its own (see `output::Stream::make_folder_of`).
    let first_build = !out_dir.join(output::MANIFEST).exists();
    let stream = match first_build {
        true => Some(output::Stream::beside(&out_dir)?),
        false => None,
    };
    let (loaded, previous, folders) = std::thread::scope(|s| {
        let (found, folders_to_make) = std::sync::mpsc::channel::<String>();
        let maker = stream.as_ref().map(|stream| {
            s.spawn(move || -> Result<()> {
                for file in folders_to_make {
                    stream.make_folder_of(&file)?;
                }
                Ok(())
            })
        });
        let (loaded, previous) = {
            let send = |path: &str| {
                let _ = found.send(Output::file_for_url_path(path));
            };
            let hooks = crate::content::Hooks {
                page_found: first_build.then_some(&send as &(dyn Fn(&str) + Sync)),
            };
            rayon::join(
                || load_then(opts, config, &hooks),
                || output::Previous::read(&out_dir),
            )
        };
        // The last folders, then the end of the list.
        drop(found);
        let folders = maker.map(|m| m.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (loaded, previous, folders)
    });
    crate::trace::mark("folders made");
    let (site, templates) = loaded?;
    crate::trace::mark("loaded");
    let stream = match (previous.is_some(), stream) {
        (false, Some(stream)) => {
            folders.transpose()?;
            // Those of pages whose path changed once every page was known.
            let files: Vec<String> = site
                .content
                .pages
                .iter()
                .map(|p| Output::file_for_url_path(&p.path))
                .collect();
            stream.make_folders(files.iter().map(String::as_str))?;
            Some(stream)
        }
        (false, None) => Some(output::Stream::beside(&out_dir)?),
        // A manifest appeared meanwhile: the folder made for nothing goes.
        (true, _) => None,
    };
    // Each page's HTML goes to the step that writes the page, which lets it go.
    let mut site = site;
    let html = crate::render::PageHtml::take_from(&mut site);
    let output = crate::render::render_over(
        &site,
        &templates,
        previous.as_ref(),
        stream.as_ref(),
        Some(&html),
    )?;
    crate::trace::mark("rendered");
    output::write_over(&output, &out_dir, previous, stream)?;
    // The caches the next build reads were written meanwhile.
    crate::atomic_file::wait_for_background();
    crate::trace::mark("written");
    let report = BuildReport {
        pages: site.content.pages.len(),
        sections: site.content.sections.len(),
        files: output.len(),
        output_dir: out_dir,
        elapsed: start.elapsed(),
    };
    crate::free::free_later((site, output));
    Ok(report)
}

/// Checks content, front matter, templates and internal links without writing.
pub fn check(opts: &BuildOptions) -> Result<BuildReport> {
    let start = Instant::now();
    let (site, output) = render_site(opts)?;
    let problems = crate::commands::build::broken_internal_links(&site, &output);
    if !problems.is_empty() {
        return Err(Error::Site(problems));
    }
    Ok(BuildReport {
        pages: site.content.pages.len(),
        sections: site.content.sections.len(),
        files: output.len(),
        output_dir: output_dir(opts, &site.config.output_dir),
        elapsed: start.elapsed(),
    })
}

/// Links written in Markdown to this site's own URLs that no output file serves.
pub fn broken_internal_links(site: &Site, output: &Output) -> Vec<Diagnostic> {
    use pulldown_cmark::{Event, Parser, Tag};
    let c = &site.config;
    let exists = |path: &str| {
        let file = Output::file_for_url_path(path);
        output.has(&file) || output.has(&format!("{}/index.html", file.trim_end_matches('/')))
    };
    let mut problems = Vec::new();
    for p in &site.content.pages {
        let base = reqwest::Url::parse(&c.url(&p.path)).expect("base_url is absolute");
        let body = match p.markdown(&site.root) {
            Ok(body) => body,
            Err(d) => {
                problems.push(d);
                continue;
            }
        };
        let parser =
            Parser::new_ext(&body, crate::markdown::parser_options(false)).into_offset_iter();
        for (event, range) in parser {
            let dest = match event {
                Event::Start(Tag::Link { dest_url, .. })
                | Event::Start(Tag::Image { dest_url, .. }) => dest_url,
                _ => continue,
            };
            if dest.starts_with("@/") || dest.starts_with('#') || dest.is_empty() {
                continue;
            }
            let Ok(url) = base.join(&dest) else { continue };
            let site_prefix = format!("{}/", c.base_url);
            if !url.as_str().starts_with(&site_prefix) {
                continue;
            }
            let path = url.path();
            let decoded = percent_decode(path);
            if !exists(&decoded) {
                problems.push(
                    Diagnostic::new(
                        &p.file,
                        format!("link `{dest}` points at {path}, which this site does not have"),
                    )
                    .at_line(crate::error::line_of(&body, range.start) + p.body_line - 1)
                    .help("link to another entry with `@/section/file.md`, or fix the path"),
                );
            }
        }
    }
    problems
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
