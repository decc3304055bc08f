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
