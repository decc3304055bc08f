//! Command-line arguments (clap stays in this file).

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Herald: a company news site and its social presence, from a git repository.
#[derive(Debug, Parser)]
#[command(name = "herald", version, about)]
pub struct Cli {
    /// The folder holding site.toml.
    #[arg(long, short = 'r', global = true, default_value = ".")]
    pub root: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new site: site.toml, content/ and the default theme.
    Init {
        /// Where to create it (default: here).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Create a draft entry with its front matter filled in.
    New {
        /// The entry's title.
        title: String,
        /// The section folder under content/.
        #[arg(long, short, default_value = "news")]
        section: String,
    },
    /// Build the site into the output folder (atomically).
    Build {
        #[command(flatten)]
        build: BuildArgs,
        /// Write here instead of `output_dir` from site.toml.
        #[arg(long, short)]
        output_dir: Option<PathBuf>,
    },
    /// Check content, front matter, templates and internal links; writes nothing.
    Check {
        #[command(flatten)]
        build: BuildArgs,
    },
    /// Serve the site locally, rebuild on every save and reload the browser.
    /// Drafts and future entries are shown unless --no-drafts / --no-future.
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// The port; when busy, the next free one is taken (0: any free port).
        #[arg(long, short, default_value_t = 1111)]
        port: u16,
        /// Hide entries marked `draft = true` (shown by default in serve).
        #[arg(long)]
        no_drafts: bool,
        /// Hide entries dated in the future (shown by default in serve).
        #[arg(long)]
        no_future: bool,
        /// Render with this base URL instead of http://ADDRESS:PORT.
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Cross-post new entries to the networks in site.toml, once each, and
    /// record them in data/syndication.toml.
    Syndicate {
        /// Print each message exactly as it would be sent; send and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also post entries older than `[syndicate] since`.
        #[arg(long)]
        backfill: bool,
        /// Only this network (a [networks.NAME] name); repeatable.
        #[arg(long = "network", value_name = "NAME")]
        networks: Vec<String>,
    },
    /// How each entry was received, network by network: a summary here and
    /// an HTML report in report/index.html (or CSV / JSON), from what
    /// `herald comments` recorded. Never touches the network.
    Report {
        /// First day to cover (YYYY-MM-DD).
        #[arg(long, value_parser = herald::commands::report::parse_day)]
        since: Option<chrono::NaiveDate>,
        /// Last day to cover (YYYY-MM-DD), included.
        #[arg(long, value_parser = herald::commands::report::parse_day)]
        until: Option<chrono::NaiveDate>,
        /// summary: the terminal summary and the HTML file; html: the HTML
        /// file alone; csv, json: the data, to standard output or --output.
        #[arg(long, value_enum, default_value_t)]
        format: herald::commands::report::ReportFormat,
        /// The file to write (default for HTML: report/index.html).
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Fetch reply threads and engagement of syndicated entries into data/comments/.
    Comments {
        /// Also fetch entries older than `[comments] max_age_days`.
        #[arg(long)]
        all: bool,
    },
}

/// Flags shared by commands that build.
#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Include entries marked `draft = true`.
    #[arg(long)]
    pub drafts: bool,
    /// Include entries dated in the future (scheduled).
    #[arg(long)]
    pub future: bool,
    /// Use this base URL instead of the one in site.toml.
    #[arg(long)]
    pub base_url: Option<String>,
}
