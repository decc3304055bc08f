//! The report's rows as CSV, one line per entry and network, for
//! spreadsheets. The columns are the fields of [`super::Row`], in order;
//! their names are stable.

use super::Report;

/// The header line's column names, in order.
pub const COLUMNS: [&str; 16] = [
    "entry",
    "title",
    "url",
    "published",
    "network",
    "kind",
    "post_url",
    "likes",
    "reposts",
    "quotes",
    "replies",
    "total",
    "gained",
    "followers",
    "fetched_at",
    "period",
];

/// The CSV text of `report` (RFC 4180 quoting, by the csv crate).
pub fn to_csv(report: &Report) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let period = format!(
        "{}..{}",
        report.since.as_deref().unwrap_or(""),
        report.until.as_deref().unwrap_or("")
    );
    w.write_record(COLUMNS).expect("writing to memory");
    for r in &report.rows {
        let n = |v: u64| v.to_string();
        w.write_record([
            r.entry.as_str(),
            &r.title,
            &r.url,
            &r.published,
            &r.network,
            &r.kind,
            &r.post_url,
            &n(r.likes),
            &n(r.reposts),
            &n(r.quotes),
            &n(r.replies),
            &n(r.total),
            &n(r.gained),
            &r.followers.map(n).unwrap_or_default(),
            &r.fetched_at,
            &period,
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("the fields are UTF-8")
}

#[cfg(test)]
mod tests {
    use super::super::tests::{entries, history};
    use super::super::{aggregate, Period};
    use super::*;

    #[test]
    fn one_quoted_line_per_row_under_a_stable_header() {
        let mut e = entries();
        e.get_mut("news/b.md").unwrap().title = "Update, \"with\" quotes".into();
        let text = to_csv(&aggregate(&history(), &e, Period::default()));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], COLUMNS.join(","));
        assert_eq!(
            lines[3],
            "news/b.md,\"Update, \"\"with\"\" quotes\",https://x.example/news/b/,2026-05-02,mastodon,mastodon,https://mastodon.example/news/b.md,3,0,0,0,3,3,110,2026-05-03T10:00:00Z,.."
        );
        assert_eq!(lines.len(), 4);
    }
}
