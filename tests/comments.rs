#![recursion_limit = "256"]
//! `herald comments` (issue 6): fetching threads from Mastodon and Discourse
//! fakes and the real Bluesky network, storing them, and the comment section
//! of the built pages. One test binary, a module per feature.

#[path = "comments/fakes.rs"]
mod fakes;
#[path = "comments/support.rs"]
mod support;

#[path = "comments/bluesky.rs"]
mod bluesky;
#[path = "comments/browser.rs"]
mod browser;
#[path = "comments/fetch.rs"]
mod fetch;
#[path = "comments/measure.rs"]
mod measure;
#[path = "comments/report.rs"]
mod report;
