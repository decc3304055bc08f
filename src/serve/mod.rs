//! The dev server behind `herald serve`: it serves the rendered site from
//! memory over HTTP (tiny_http), watches the site's files ([`watch`]),
//! rebuilds what a change affects ([`live`]) and tells the browser to reload
//! or to show what went wrong ([`reload`]).
//!
//! Nothing is written to disk: pages come from the [`crate::output::Output`] of the last
//! good build, copied files are read from their sources on request.
//!
//! A request can only name a file of that output. Its path is checked before
//! any lookup (`..`, `.`, encoded or not, backslashes, `//` and absolute
//! forms are refused with 400), and a copied file is served only when its
//! source, symlinks resolved, is still inside the site's folder.

mod http;
pub mod live;
pub mod reload;
mod state;
pub mod watch;

pub use http::{bind, content_type, resolve, url_paths_for, HttpServer, Notices, Refusal, Refused};
pub use state::{AheadPage, Snapshot, State};

/// How many ports after a busy one are tried.
pub const PORT_TRIES: u16 = 50;
