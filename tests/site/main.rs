//! Integration tests of the site generator: many small fixture sites, one per
//! feature and per error case, built in temporary folders.

mod support;

mod build;
mod commands;
mod errors;
mod example_site;
mod feeds;
mod rebuild;
mod rebuild_random;
