//! `herald report`: reads `data/comments/history.jsonl` and the site's
//! content, never the network, and writes the engagement report.

use crate::comments::store::HISTORY_FILE;
use crate::content::LoadOptions;
use crate::error::{Diagnostic, Error, Result};
use crate::report::{aggregate, EntryInfo, Period, Report};
use crate::site::Site;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where the HTML report goes by default, relative to the site root: outside
/// `public/`, because the figures are internal.
pub const DEFAULT_HTML: &str = "report/index.html";

/// What `herald report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReportFormat {
    /// A summary on the terminal, and the HTML report in a file.
    #[default]
    Summary,
    /// The HTML report alone.
    Html,
    /// One line per entry and network.
    Csv,
    /// The whole report as JSON.
    Json,
}

/// How to run `herald report`.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub root: PathBuf,
    pub period: Period,
    pub format: ReportFormat,
    /// The file to write; `None`: the HTML to [`DEFAULT_HTML`], CSV and
    /// JSON to standard output.
    pub output: Option<PathBuf>,
}

/// What a run produced.
#[derive(Debug)]
pub struct ReportRun {
    pub report: Report,
    /// What to print on standard output.
    pub stdout: String,
    /// The file written, if any.
    pub written: Option<PathBuf>,
    /// Said on standard error (e.g. content that could not be read).
    pub warnings: Vec<String>,
}

/// Builds the report and writes it as `opts.format` says.
pub fn report(opts: &ReportOptions) -> Result<ReportRun> {
    if let (Some(s), Some(u)) = (opts.period.since, opts.period.until) {
        if s > u {
            return Err(Error::Other(format!(
                "--since {s} is after --until {u}: the period would be empty; swap them"
            )));
        }
    }
    let history = crate::comments::store::read_history(&opts.root)?;
    if history.is_empty() {
        return Err(Diagnostic::new(HISTORY_FILE, "no engagement recorded yet")
            .help("run `herald comments` (after `herald syndicate`): each run records the counts that the report shows")
            .into());
    }
    let mut warnings = Vec::new();
    let entries = entry_info(&opts.root).unwrap_or_else(|e| {
        warnings.push(format!(
            "warning: the content could not be read, so entries show by their file: {e}"
        ));
        (String::new(), HashMap::new())
    });
    let report = aggregate(&history, &entries.1, opts.period);
    let site_title = entries.0;
    let (text, file) = match opts.format {
        ReportFormat::Summary | ReportFormat::Html => (
            crate::report::html::render(&report, &site_title),
            Some(
                opts.output
                    .clone()
                    .unwrap_or_else(|| opts.root.join(DEFAULT_HTML)),
            ),
        ),
        ReportFormat::Csv => (crate::report::csv::to_csv(&report), opts.output.clone()),
        ReportFormat::Json => {
            let mut j = serde_json::to_string_pretty(&report).expect("the report serializes");
            j.push('\n');
            (j, opts.output.clone())
        }
    };
    let mut stdout = String::new();
    let written = match file {
        Some(path) => {
            write(&path, &text)?;
            Some(path)
        }
        None => {
            stdout = text;
            None
        }
    };
    if opts.format == ReportFormat::Summary {
        stdout = crate::report::text::summary(&report, 5);
    }
    Ok(ReportRun {
        report,
        stdout,
        written,
        warnings,
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    crate::atomic_file::replace(path, text.as_bytes())
}

/// The site's title, and what it knows of each entry, by path under `content/`.
fn entry_info(root: &Path) -> Result<(String, HashMap<String, EntryInfo>)> {
    let opts = LoadOptions {
        drafts: true,
        future: true,
        now: chrono::Utc::now().fixed_offset(),
        cache: false,
    };
    let site = Site::load(root, &opts)?;
    let entries = site
        .content
        .pages
        .iter()
        .map(|p| {
            (
                p.rel.clone(),
                EntryInfo {
                    title: p.title.clone(),
                    url: site.config.url(&p.path),
                    published: p.date.map(|d| d.date_naive()),
                    tags: p.taxonomies.get("tags").cloned().unwrap_or_default(),
                },
            )
        })
        .collect();
    Ok((site.config.title.clone(), entries))
}

/// Parses a `--since` / `--until` day.
pub fn parse_day(s: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a day: write it as YYYY-MM-DD, e.g. 2026-11-01"))
}
