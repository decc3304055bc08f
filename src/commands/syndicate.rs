//! `herald syndicate`: runs [`crate::syndicate`] and phrases its report
//! (the messages of a dry run, the summary table) for `main.rs` to print.

use crate::syndicate::message::FacetKind;
use crate::syndicate::network::Message;
pub use crate::syndicate::{syndicate, Crash, Outcome, SyndicateOptions, SyndicateReport};
use std::fmt::Write;

/// Every message of a dry run, exactly as it would be sent.
pub fn format_messages(report: &SyndicateReport) -> String {
    let mut out = String::new();
    for r in &report.rows {
        let (m, check) = match &r.outcome {
            Outcome::WouldSend(m) => (m, false),
            Outcome::WouldCheck(m) => (m, true),
            _ => continue,
        };
        let _ = writeln!(out, "── {} → {} ({}) ──", r.entry, r.network, m.kind);
        if check {
            let _ = writeln!(out, "an earlier send was not confirmed: a real run asks {} first, and sends this only if the post is not there", r.network);
        }
        format_message(&mut out, m);
        out.push('\n');
    }
    out
}

fn format_message(out: &mut String, m: &Message) {
    let key_name = match m.kind {
        "mastodon" => "Idempotency-Key",
        "bluesky" => "record key (TID)",
        _ => "external_id",
    };
    let _ = writeln!(out, "{key_name}: {}", m.key);
    if let Some(t) = &m.title {
        let _ = writeln!(out, "title: {t}");
    }
    let _ = writeln!(out, "length: {} / {} {}", m.length, m.limit, m.unit);
    let _ = writeln!(out, "text:");
    for line in m.text.lines() {
        let _ = writeln!(out, "  │ {line}");
    }
    for f in &m.facets {
        let what = match &f.kind {
            FacetKind::Link(u) => format!("link {u}"),
            FacetKind::Tag(t) => format!("tag #{t}"),
        };
        let _ = writeln!(out, "facet: bytes {}..{} {what}", f.byte_start, f.byte_end);
    }
    if let Some(c) = &m.card {
        let _ = writeln!(out, "card: {} — {}", c.uri, c.title);
        if !c.description.is_empty() {
            let _ = writeln!(out, "  description: {}", c.description);
        }
        if let Some(t) = &c.thumb {
            let _ = writeln!(out, "  thumbnail: {} (uploaded first)", t.path.display());
        }
    }
    if let Some(i) = &m.image {
        let _ = writeln!(out, "image: {} (alt: {})", i.path.display(), i.alt);
    }
    let _ = writeln!(
        out,
        "payload: {}",
        serde_json::to_string(&m.payload).unwrap_or_default()
    );
}

/// The summary table: what went where, and a closing count line.
pub fn format_summary(report: &SyndicateReport) -> String {
    let mut out = String::new();
    let w_entry = report
        .rows
        .iter()
        .map(|r| r.entry.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let w_net = report
        .rows
        .iter()
        .map(|r| r.network.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    if !report.rows.is_empty() {
        let _ = writeln!(out, "{:w_entry$}  {:w_net$}  result", "entry", "network");
    }
    for r in &report.rows {
        let result = match &r.outcome {
            Outcome::Posted(p) => format!("posted       {}", p.url),
            Outcome::Reconciled(p) => format!("found posted {} (recorded now)", p.url),
            Outcome::WouldSend(m) => format!("would post   {} / {} {}", m.length, m.limit, m.unit),
            Outcome::WouldCheck(_) => "would check, then post if missing".to_string(),
            Outcome::Failed(e) => format!("FAILED       {e}"),
            Outcome::NotTried(e) => format!("NOT TRIED    {e}"),
        };
        let _ = writeln!(out, "{:w_entry$}  {:w_net$}  {result}", r.entry, r.network);
    }
    let posted = report.count(|o| matches!(o, Outcome::Posted(_)));
    let found = report.count(|o| matches!(o, Outcome::Reconciled(_)));
    let failed = report.count(|o| matches!(o, Outcome::Failed(_) | Outcome::NotTried(_)));
    let would = report.count(|o| matches!(o, Outcome::WouldSend(_) | Outcome::WouldCheck(_)));
    let mut tail = if report.dry_run {
        format!("Dry run: {would} messages would be sent, nothing was sent or written")
    } else {
        if found > 0 {
            format!("{posted} posted, {found} found posted by an earlier run, {failed} failed")
        } else {
            format!("{posted} posted, {failed} failed")
        }
    };
    let _ = write!(
        tail,
        "; {} already posted; {} entries older than [syndicate] since left out",
        report.already_posted, report.older_than_since
    );
    if report.older_than_since > 0 {
        tail.push_str(" (--backfill includes them)");
    }
    let _ = writeln!(out, "{tail}.");
    out
}
