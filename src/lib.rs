//! Herald: a company's news site and its social presence, from a git repository.
//!
//! The data flows through the modules in this order:
//! [`config`] → [`content`] (front matter, then [`markdown`]) → [`site`]
//! (taxonomies) → [`templates`] + [`render`] (views, feeds, sitemap) →
//! [`output`] (atomic write). [`commands`] puts the steps together for each
//! CLI command; `main.rs` only parses arguments and prints.

pub mod commands;
pub mod config;
pub mod content;
pub mod error;
pub mod markdown;
pub mod output;
pub mod render;
pub mod site;
pub mod templates;
mod toml_errors;

pub use error::{Diagnostic, Error, Result};
