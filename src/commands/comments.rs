//! `herald comments`: fetch reply threads and engagement for syndicated
//! entries into `data/comments/`. The work is in [`crate::comments`]; this
//! adds the progress bar shown on a terminal.

use crate::comments::fetch::PostRef;
pub use crate::comments::{fetch_all, FetchOptions, FetchReport, Progress, Quiet};
use crate::error::Result;

/// A progress bar on stderr when it is a terminal; nothing otherwise.
pub struct TerminalProgress {
    bar: indicatif::ProgressBar,
}

impl Default for TerminalProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl TerminalProgress {
    pub fn new() -> Self {
        use std::io::IsTerminal;
        let bar = if std::io::stderr().is_terminal() {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} comments {pos}/{len} [{bar:30}] {msg}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            b
        } else {
            indicatif::ProgressBar::hidden()
        };
        TerminalProgress { bar }
    }
}

impl Progress for TerminalProgress {
    fn start(&self, total: u64) {
        self.bar.set_length(total);
    }
    fn step(&self, post: &PostRef, ok: bool) {
        self.bar.inc(1);
        if !ok {
            self.bar
                .set_message(format!("{} failed on {}", post.entry, post.network));
        }
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Runs `herald comments` with a progress bar on a terminal.
pub fn comments(opts: &FetchOptions) -> Result<FetchReport> {
    fetch_all(opts, &TerminalProgress::new())
}

/// The summary `herald comments` prints.
pub fn format_report(r: &FetchReport) -> String {
    let mut out = String::new();
    for (network, (ok, failed)) in &r.per_network {
        out.push_str(&format!("{network}: {ok} fetched, {failed} failed\n"));
    }
    for e in &r.failed {
        out.push_str(&format!("error: {e}\n"));
    }
    for s in &r.skipped {
        out.push_str(&format!("skipped: {s}\n"));
    }
    for e in &r.avatar_failures {
        out.push_str(&format!("warning: avatar: {e}\n"));
    }
    if r.avatars_written > 0 {
        out.push_str(&format!(
            "{} avatars downloaded into {}\n",
            r.avatars_written,
            crate::comments::avatars::AVATAR_DIR
        ));
    }
    if r.skipped_old > 0 {
        out.push_str(&format!(
            "{} older posts skipped ([comments] max_age_days; --all fetches them)\n",
            r.skipped_old
        ));
    }
    out.push_str(&format!(
        "{} threads fetched, {} comments stored, {} files written, {} requests in {:.1} s\n",
        r.fetched,
        r.comments,
        r.files_written,
        r.requests,
        r.elapsed.as_secs_f64()
    ));
    out
}
