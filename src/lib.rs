//! Herald: a company's news site and its social presence, from a git repository.
//!
//! The data flows through the modules in this order:
//! [`config`] → [`content`] (front matter, then [`markdown`]) → [`site`]
//! (taxonomies) → [`templates`] + [`render`] (views, feeds, sitemap) →
//! [`output`] (atomic write). [`commands`] puts the steps together for each
//! CLI command; `main.rs` only parses arguments and prints. [`syndicate`]
//! cross-posts entries to social networks and records them in the
//! [`ledger`], which the render stage reads for `u-syndication` links.

pub mod atomic_file;
pub mod commands;
pub mod comments;
pub mod config;
pub mod content;
pub mod error;
pub mod file_meta;
pub mod free;
pub mod input_key;
pub mod ledger;
pub mod markdown;
pub mod output;
pub mod render;
pub mod report;
pub mod serve;
pub mod site;
pub mod syndicate;
pub mod templates;
mod toml_errors;
pub mod trace;

pub use error::{Diagnostic, Error, Result};
